@testable import Agents
import Connectors
import EventLog
import Foundation
import GlassboxTesting
import Security
import Testing
import Tools

/// Approvals that outlive a restart, runs resumed from the log, replays and what-ifs.
@Suite(.serialized) struct AgentResumeTests {
    @Test func aPendingApprovalSurvivesARestartAndTheRunFinishesOnce() async throws {
        var h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.answer(text: "Recording the order.", toolCalls: [.sql("w1", "INSERT INTO orders VALUES (4, 1.5)", tool: "sql.execute")]))
        let runID = try await h.start("Add order 4")
        let requested = try await h.waitFor("approval.requested", in: runID)
        let approvalID = try #require(h.payload(requested)["approvalId"]?.string)

        // The server goes down while the call waits; nothing is decided, so nothing is recorded.
        h.server.enqueue(.answer(text: "Order 4 is recorded."))
        try await h.restart()
        #expect(try await h.types(runID).filter { $0.hasPrefix("tool.") } == ["tool.requested", "tool.authorized"])

        // An admin approves from another process while the server is down…
        let other = try SQLiteEventLog(path: h.log.path)
        _ = try await other.append([try EventDraft(type: "approval.granted", json: #"{"approvalId":"\#(approvalID)","callId":"\#(h.payload(requested)["callId"]!.string!)","decidedBy":"user:sam"}"#,
                                                   actor: "user:sam")], to: "run/\(runID)", expectedVersion: .any)
        try other.close()
        // … and the restarted server resumes the run, which reads the decision and goes on.
        #expect(try await h.runtime.resumeUnfinished() == [runID])
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "Order 4 is recorded."))

        let types = try await h.types(runID)
        #expect(types.filter { $0 == "approval.requested" }.count == 1)
        #expect(types.filter { $0 == "tool.requested" }.count == 1)
        #expect(types.filter { $0 == "tool.completed" }.count == 1)
        #expect(types.filter { $0 == "run.resumed" }.count == 1)
        #expect(h.server.requests.count == 2)
        // The insert happened once.
        let reader = try await h.environment.databases["warehouse"]!.reader(role: nil)
        let count = try await reader.query("SELECT count(*) FROM orders WHERE id = 4", limits: QueryLimits())
        #expect(count.rows.first?.first?.description == "1")
        await reader.close()
    }

    @Test func aRunInterruptedMidWayResumesWithoutRepeatingCompletedCalls() async throws {
        var h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(
            .answer(toolCalls: [.sql("a", "SELECT count(*) FROM orders")]),
            .answer(toolCalls: [.sql("b", "SELECT count(*) FROM customers")]),
            .slowStream(text: "this answer is cut by the crash", interval: .milliseconds(20)))
        let runID = try await h.start()
        _ = try await h.waitFor("agent.thought", in: runID)
        // The process dies in the third model call.
        try await h.restart()
        #expect(try await h.types(runID).last != "run.completed")
        h.server.enqueue(.answer(text: "3 orders and 1 customer."))
        #expect(try await h.runtime.resumeUnfinished() == [runID])
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "3 orders and 1 customer."))

        let events = try await h.events(runID)
        let completedTools = events.filter { $0.type == "tool.completed" }
        #expect(completedTools.count == 2)
        let answered = events.filter { $0.type == "llm.responded" && (h.payload($0)["errorType"]?.string ?? "").isEmpty }
        #expect(answered.count == 3)
        #expect(h.server.requests.count == 4)
        let resumed = try #require(events.first { $0.type == "run.resumed" })
        #expect(h.payload(resumed)["completedLlmCalls"]?.integer == 2)
        #expect(h.payload(resumed)["completedToolCalls"]?.integer == 2)
        // The resumed request carries the whole conversation, both tool results included.
        let last = h.server.requests[3].body
        #expect(last.contains("\"a\"") && last.contains("\"b\""))
    }

    @Test func aToolThatWasRunningWhenTheProcessDiedIsRecordedInterruptedNotRerun() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        // Write the log of a run that died after tool.started, as a crash leaves it.
        let runID = "01a00000-0000-7000-8000-000000000001"
        let trace = TraceContext.newTrace()
        let toolTrace = trace.newChild()
        func draft(_ type: String, _ json: String, _ trace: TraceContext) throws -> EventDraft {
            try EventDraft(type: type, json: json, actor: "agent:tester@user:alice", trace: trace)
        }
        let args = #"{"connection":"warehouse","sql":"DELETE FROM orders"}"#
        _ = try await h.log.append([
            try draft("run.started", #"{"runId":"\#(runID)","agent":"tester","task":"t","caller":"user:alice","provider":"openai","model":"test-model","instructions":"Answer with SQL.","tools":["sql.query","sql.execute","catalog.list_tables"],"runner":"serve"}"#, trace),
            try draft("llm.requested", #"{"callId":"l1","step":1,"attempt":1}"#, trace.newChild()),
            try draft("llm.responded", #"{"callId":"l1","toolCalls":[{"id":"x1","name":"sql.execute","arguments":\#(args)}],"step":1}"#, trace.newChild()),
            try draft("tool.requested", #"{"callId":"t1","tool":"sql.execute","input":\#(args),"principal":"user:alice","modelCallId":"x1"}"#, toolTrace),
            try draft("tool.authorized", #"{"callId":"t1","tool":"sql.execute"}"#, toolTrace),
            try draft("tool.started", #"{"callId":"t1","tool":"sql.execute"}"#, toolTrace),
        ], to: "run/\(runID)", expectedVersion: .noStream)
        h.server.enqueue(.answer(text: "I do not know whether it ran."))
        try await h.runtime.resume(runID)
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "I do not know whether it ran."))
        let failed = try #require(try await h.events(runID).first { $0.type == "tool.failed" })
        #expect(h.payload(failed)["errorType"]?.string == "interrupted")
        #expect(failed.spanID == toolTrace.spanID)
        // The DELETE was not run again.
        let reader = try await h.environment.databases["warehouse"]!.reader(role: nil)
        #expect(try await reader.query("SELECT count(*) FROM orders", limits: QueryLimits()).rows.first?.first?.description == "3")
        await reader.close()
    }

    @Test func replayMatchesAnUnchangedRunAndCatchesAnAlteredResult() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.answer(text: "Counting.", toolCalls: [.sql("c1", "SELECT count(*) AS n FROM orders")]),
                         .answer(text: "Checking customers.", toolCalls: [.sql("c2", "SELECT name FROM customers")]),
                         .answer(text: "3 orders; Ada is the customer."))
        let runID = try await h.start()
        #expect(await h.runtime.outcome(of: runID) != nil)
        let replay = RunReplay(registry: .builtIn(), policy: h.policy, environment: h.environment)
        let report = try await replay.replay(runID, in: h.log)
        #expect(report.matched, "\(report.mismatches)")
        #expect(report.steps == 3)
        #expect(report.checks >= 8)
        #expect(report.policyChanges.isEmpty)

        // The same events with the first query's result changed: the next model call no longer matches.
        var altered = try await h.events(runID)
        let index = try #require(altered.firstIndex { $0.type == "tool.completed" })
        let original = altered[index]
        var payload = try #require(h.payload(original).object)
        let output = try #require(payload["output"]).jsonText
        payload["output"] = try JSONValue(parsing: output.replacingOccurrences(of: "3", with: "4"))
        let data = JSONValue.object(payload).jsonText
        #expect(payload["output"]!.jsonText != output)
        altered[index] = Event(seq: original.seq, id: original.id, time: original.time, stream: original.stream, streamVersion: original.streamVersion,
                               type: original.type, actor: original.actor, traceID: original.traceID, spanID: original.spanID,
                               parentSpanID: original.parentSpanID, data: data, prevHash: original.prevHash, hash: original.hash)
        let tampered = replay.replay(events: altered, runID: runID)
        #expect(!tampered.matched)
        // Step 2's conversation differs, and so does every later one that carries the altered result.
        #expect(tampered.mismatches.map(\.what) == ["the conversation sent to the model at step 2", "the conversation sent to the model at step 3"])
        #expect(tampered.mismatches.first.map { $0.seq > original.seq } == true)
    }

    @Test func whatIfListsExactlyTheCallsAStricterPolicyDenies() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.answer(toolCalls: [.sql("c1", "SELECT count(*) FROM orders"), .sql("c2", "SELECT name FROM customers"),
                                             .sql("c3", "SELECT o.id FROM orders o JOIN customers c ON c.id = o.id")]),
                         .answer(text: "done"))
        let runID = try await h.start()
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "done"))
        let stricter = try Policy(yaml: AgentHarness.policyYAML + """

            deny:
              - {id: no-customer-data, action: "sql:read", resource: "warehouse.main.customers", reason: "customer data is off limits"}
            """, source: "stricter.yaml").givingUnlisted(agent: "agent:tester", grants: AgentHarness.agent.grants)
        let report = try await PolicyWhatIf(registry: .builtIn(), policy: stricter, environment: h.environment).run(log: h.log)
        #expect(report.examined == 3)
        #expect(report.newlyAllowed.isEmpty)
        let denied = report.newlyDenied
        #expect(denied.count == 2)
        #expect(Set(denied.map { $0.input["sql"]?.string ?? "" }) == ["SELECT name FROM customers", "SELECT o.id FROM orders o JOIN customers c ON c.id = o.id"])
        #expect(denied.allSatisfy { $0.proposedRule == "no-customer-data" || $0.proposedRule.contains("no-customer-data") })

        // The same policy through a replay of the run names the same calls.
        let replayed = try await RunReplay(registry: .builtIn(), policy: stricter, environment: h.environment).replay(runID, in: h.log)
        #expect(replayed.matched)
        #expect(Set(replayed.policyChanges.map(\.callID)) == Set(denied.map(\.callID)))
    }
}
