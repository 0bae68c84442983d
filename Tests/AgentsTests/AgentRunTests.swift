@testable import Agents
import EventLog
import Connectors
import Foundation
import GlassboxTesting
import Testing
import Tools

/// The agent loop against the real OpenAI and Anthropic clients, over loopback HTTP to a server
/// speaking their wire formats, with real tools on a real SQLite warehouse and a real log.
@Suite(.serialized) struct AgentRunTests {
    @Test(arguments: [FakeLLMServer.Wire.openAI, .anthropic])
    func aMultiStepRunCallsToolsAndAnswers(wire: FakeLLMServer.Wire) async throws {
        let h = try await AgentHarness.make(wire: wire)
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(
            .answer(text: "Let me count the orders.", toolCalls: [.sql("call_1", "SELECT count(*) AS n FROM orders")], chunks: 4),
            .answer(text: "Let me sum them too.", toolCalls: [.sql("call_2", "SELECT sum(amount) AS total FROM orders"),
                                                              .init(id: "call_3", name: "catalog.list_tables", arguments: #"{"connection":"warehouse"}"#)]),
            .answer(text: "There are 3 orders worth 37.75 in all.", inputTokens: 100, outputTokens: 20))
        let runID = try await h.start()
        let outcome = await h.runtime.outcome(of: runID)
        #expect(outcome == .completed(output: "There are 3 orders worth 37.75 in all."))

        let events = try await h.events(runID)
        let types = events.map(\.type).filter { $0 != "agent.thought" }
        #expect(types == ["run.started",
                          "llm.requested", "llm.responded", "tool.requested", "tool.authorized", "tool.started", "tool.completed",
                          "llm.requested", "llm.responded", "tool.requested", "tool.authorized", "tool.started", "tool.completed",
                          "tool.requested", "tool.authorized", "tool.started", "tool.completed",
                          "llm.requested", "llm.responded", "run.completed"])
        // Every event of the run is in one trace, the tool calls children of the run's span.
        let runSpan = events[0].spanID
        #expect(Set(events.map(\.traceID)).count == 1)
        #expect(events.filter { $0.type == "tool.requested" }.allSatisfy { $0.parentSpanID == runSpan })
        // The model saw each tool's result, paired with its call id.
        #expect(h.server.requests.count == 3)
        let second = h.server.requests[1].body
        #expect(second.contains("call_1"))
        let result = try #require(try await h.events(runID).first { $0.type == "tool.completed" })
        let sent = h.payload(result)["output"]!.jsonText
        #expect(sent.contains("3"))
        #expect(second.contains(JSONValue.string(sent).jsonText.dropFirst().dropLast()))
        // Usage and cost from the price table (1 and 2 USD per million tokens).
        let last = h.payload(events.last { $0.type == "llm.responded" }!)
        #expect(last["inputTokens"]?.integer == 100)
        #expect(abs((last["costUsd"]?.double ?? 0) - (100 * 1 + 20 * 2) / 1e6) < 1e-12)
        // The key went over the wire and never into the log.
        let header = wire == .openAI ? h.server.requests[0].header("authorization") : h.server.requests[0].header("x-api-key")
        #expect(header?.contains(AgentHarness.apiKey) == true)
        let all = try await h.log.events(EventQuery(limit: 10_000))
        #expect(!all.contains { $0.data.contains(AgentHarness.apiKey) })
    }

    @Test func streamedTextBecomesAFewThoughtsNotOnePerToken() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        let words = (1...40).map { "word\($0)" }.joined(separator: " ")
        h.server.enqueue(.answer(text: words, chunks: 40, interval: .milliseconds(25)))
        let runID = try await h.start()
        #expect(await h.runtime.outcome(of: runID) == .completed(output: words))
        let thoughts = try await h.events(runID).filter { $0.type == "agent.thought" }.map { h.payload($0)["text"]?.string ?? "" }
        #expect(thoughts.joined() == words)
        #expect(thoughts.count >= 2)
        #expect(thoughts.count < 20)
    }

    @Test func a429IsRetriedAfterItsRetryAfter() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.error(status: 429, message: "Rate limit reached", headers: [("Retry-After", "1")]), .answer(text: "done"))
        let runID = try await h.start()
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "done"))
        let events = try await h.events(runID)
        let requested = events.filter { $0.type == "llm.requested" }
        #expect(requested.map { h.payload($0)["attempt"]?.integer } == [1, 2])
        let failed = events.first { $0.type == "llm.responded" }!
        #expect(h.payload(failed)["errorType"]?.string == "http_429")
        // The second attempt waited for the second Retry-After asked for.
        #expect(requested[1].time - failed.time >= 900_000_000)
    }

    @Test(arguments: [FakeLLMServer.Wire.openAI, .anthropic])
    func a500ThenSuccessCompletes(wire: FakeLLMServer.Wire) async throws {
        let h = try await AgentHarness.make(wire: wire)
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.error(status: 500, message: "internal error"), .answer(text: "recovered"))
        let runID = try await h.start()
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "recovered"))
        let errors = try await h.events(runID).filter { $0.type == "llm.responded" }.map { h.payload($0)["errorType"]?.string ?? "" }
        #expect(errors == ["http_500", ""])
    }

    @Test func aMalformedResponseFailsTheRunClearly() async throws {
        let h = try await AgentHarness.make(stream: false)
        defer { Task { [h] in await h.close() } }
        h.server.setFallback { _ in .raw(status: 200, contentType: "application/json", body: "{\"choices\": [oops") }
        let runID = try await h.start()
        guard case .failed(let type, let message) = await h.runtime.outcome(of: runID) else {
            Issue.record("the run should fail")
            return
        }
        #expect(type == "provider_error")
        #expect(message.contains("malformed_response"))
        #expect(try await h.types(runID).last == "run.failed")
    }

    @Test func aTruncatedStreamIsRetriedThenFailsClearly() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.setFallback { _ in .truncated(text: "partial answer that never ends", chunks: 2) }
        let runID = try await h.start()
        guard case .failed(let type, let message) = await h.runtime.outcome(of: runID) else {
            Issue.record("the run should fail")
            return
        }
        #expect(type == "provider_error")
        #expect(message.contains("truncated_response"))
        #expect(message.contains("after 3 attempts"))
    }

    @Test func stopDuringAStreamingAnswerEndsTheRunWithinASecond() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.slowStream(text: "thinking about it at length", interval: .milliseconds(30)))
        let runID = try await h.start()
        _ = try await h.waitFor("agent.thought", in: runID)
        try await h.runtime.requestStop(runID, by: "user:alice", reason: "enough")
        #expect(await h.runtime.outcome(of: runID) == .cancelled(reason: "enough"))
        let events = try await h.events(runID)
        let requested = events.first { $0.type == "run.stop_requested" }!
        let cancelled = events.first { $0.type == "run.cancelled" }!
        #expect(cancelled.time - requested.time < 1_000_000_000)
        #expect(h.payload(cancelled)["requestedBy"]?.string == "user:alice")
    }

    @Test func aStopAppendedByAnotherWriterIsNoticed() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.slowStream(text: "slow", interval: .milliseconds(30)))
        let runID = try await h.start()
        _ = try await h.waitFor("agent.thought", in: runID)
        // As `glassbox stop` or the API do: only the event, no call into the runtime.
        let other = try SQLiteEventLog(path: h.log.path)
        _ = try await other.append([try EventDraft(type: "run.stop_requested", json: #"{"runId":"\#(runID)","requestedBy":"user:bob"}"#,
                                                   actor: "user:bob")], to: "run/\(runID)", expectedVersion: .any)
        try other.close()
        #expect(await h.runtime.outcome(of: runID) == .cancelled(reason: ""))
    }

    @Test func budgetsEndTheRunWithAClearFailure() async throws {
        let h = try await AgentHarness.make(budget: .init(maxSteps: 1))
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.answer(toolCalls: [.sql("c1", "SELECT 1 AS one")]), .answer(text: "never asked"))
        let runID = try await h.start()
        guard case .failed(let type, let message) = await h.runtime.outcome(of: runID) else {
            Issue.record("the run should fail")
            return
        }
        #expect(type == "budget_exceeded")
        #expect(message.contains("1 steps") && message.contains("max_steps"))
        #expect(h.server.requests.count == 1)
    }

    @Test func badToolArgumentsAndUnknownToolsAreDeniedAndTheModelIsTold() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.answer(toolCalls: [.init(id: "c1", name: "sql.query", arguments: "{not json"),
                                             .init(id: "c2", name: "email.send", arguments: "{}")]),
                         .answer(text: "I could not."))
        let runID = try await h.start()
        #expect(await h.runtime.outcome(of: runID) == .completed(output: "I could not."))
        let denied = try await h.events(runID).filter { $0.type == "tool.denied" }.map { h.payload($0)["rule"]?.string ?? "" }
        #expect(denied == ["input.schema", "tool.unknown"])
        let second = h.server.requests[1].body
        #expect(second.contains("DENIED at validation by input.schema"))
        #expect(second.contains("there is no tool named `email.send`"))
    }

    @Test func noModelConfiguredFailsAtOnceNamingTheVariables() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        let bare = ModelSettings(environment: [:])
        let runtime = try await AgentHarness.runtime(log: h.log, policy: h.policy, environment: h.environment, catalog: h.catalog, models: bare)
        let run = try await runtime.start(agent: "tester", task: "hello", caller: "user:alice")
        guard case .failed(let type, let message) = await runtime.outcome(of: run.runID) else {
            Issue.record("the run should fail")
            return
        }
        #expect(type == "no_model")
        #expect(message.contains("OPENAI_API_KEY") && message.contains("ANTHROPIC_API_KEY") && message.contains("OPENAI_BASE_URL"))
        #expect(try await h.types(run.runID) == ["run.started", "run.failed"])
        await runtime.shutdown()
    }

    @Test func unknownAgentsAndBadCallersAreRefusedBeforeAnythingIsRecorded() async throws {
        let h = try await AgentHarness.make()
        defer { Task { [h] in await h.close() } }
        await #expect(throws: AgentRunError.self) { try await h.runtime.start(agent: "nobody", task: "x", caller: "user:alice") }
        await #expect(throws: AgentRunError.self) { try await h.runtime.start(agent: "tester", task: "x", caller: "alice") }
        await #expect(throws: AgentRunError.self) { try await h.runtime.start(agent: "tester", task: "  ", caller: "user:alice") }
        #expect(try await h.log.lastSeq() == 0)
    }
}

/// Stop while a real PostgreSQL server runs a slow query: the query is cancelled in the database.
@Suite(.serialized) struct AgentStopPostgresTests {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["GLASSBOX_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let enabled = url != nil || environment["GLASSBOX_REQUIRE_POSTGRES"] == "1"

    @Test(.enabled(if: enabled, "set GLASSBOX_TEST_POSTGRES_URL (eval \"$(scripts/postgres)\") to run"))
    func stopDuringASlowPostgresQueryCancelsItWithinASecond() async throws {
        let url = try #require(Self.url, "GLASSBOX_TEST_POSTGRES_URL is not set; run `eval \"$(scripts/postgres)\"` first")
        let definition = try ConnectionDefinition(name: "warehouse", url: url, password: Self.environment["PGPASSWORD"])
        let h = try await AgentHarness.make(databases: ["warehouse": SQLDatabase(definition)])
        defer { Task { [h] in await h.close() } }
        h.server.enqueue(.answer(toolCalls: [.sql("slow", "SELECT pg_sleep(30) AS slow")]), .answer(text: "never"))
        let runID = try await h.start()
        _ = try await h.waitFor("tool.started", in: runID)
        // The statement is on its way to the server; give it a moment to be running there.
        try await Task.sleep(for: .milliseconds(300))
        try await h.runtime.requestStop(runID, by: "user:alice", reason: "too slow")
        #expect(await h.runtime.outcome(of: runID) == .cancelled(reason: "too slow"))
        let events = try await h.events(runID)
        let requested = try #require(events.first { $0.type == "run.stop_requested" })
        let cancelled = try #require(events.first { $0.type == "run.cancelled" })
        #expect(cancelled.time - requested.time < 1_000_000_000)
        // The 30 s statement was cut short, not waited for. (That PostgreSQL itself stops it, with
        // pg_cancel_backend, is checked in ConnectorsTests, where the session can be told apart.)
        let failed = try #require(events.first { $0.type == "tool.failed" })
        #expect(h.payload(failed)["errorType"]?.string == "cancelled")
        #expect((h.payload(failed)["durationMs"]?.integer ?? 99_999) < 10_000)
    }
}
