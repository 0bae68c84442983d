import EventLog
import Foundation
import GlassboxProto
import GlassboxTesting
@testable import Projections
import SwiftProtobuf
import Testing

private struct Fixture {
    let directory: TemporaryDirectory
    let log: SQLiteEventLog
    var runs: [RunGenerator.Run] = []

    init() throws {
        directory = try TemporaryDirectory()
        log = try SQLiteEventLog(path: directory.path("glassbox.db"), options: .init(durability: .normal))
    }

    mutating func appendRuns(_ count: Int, generator: inout RunGenerator, steps: Int = 3) async throws {
        for index in 0..<count {
            let run = try generator.run(steps: 1 + (index % steps))
            runs.append(run)
            _ = try await log.append(run.drafts, to: run.stream, expectedVersion: .noStream)
        }
    }
}

@Suite struct ProjectionTests {
    @Test func rebuildingFromZeroEqualsMaintainingIncrementally() async throws {
        var fixture = try Fixture()
        var generator = RunGenerator(seed: 11)
        var runner = ProjectionRunner<RunsProjection>(reader: fixture.log, store: fixture.log.readModels)
        var toolRunner = ProjectionRunner<ToolCallsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await runner.load()
        try await toolRunner.load()
        // Interleave appends, small catch-ups and restarts of the runners (reloading from the file).
        for round in 0..<12 {
            try await fixture.appendRuns(7, generator: &generator)
            // A run still in progress at a page boundary.
            if round % 3 == 0 {
                let open = try generator.run(steps: 2)
                _ = try await fixture.log.append(Array(open.drafts.prefix(4)), to: open.stream, expectedVersion: .noStream)
                try await runner.catchUp(pageSize: 13, saveEvery: 13)
                _ = try await fixture.log.append(Array(open.drafts.dropFirst(4)), to: open.stream, expectedVersion: .exact(4))
            }
            try await runner.catchUp(pageSize: 5 + round, saveEvery: 1 + round)
            try await toolRunner.catchUp(pageSize: 17, saveEvery: 40)
            if round % 4 == 3 {
                runner = ProjectionRunner(reader: fixture.log, store: fixture.log.readModels)
                toolRunner = ProjectionRunner(reader: fixture.log, store: fixture.log.readModels)
                try await runner.load()
                try await toolRunner.load()
            }
        }
        try await runner.catchUp()
        try await toolRunner.catchUp()
        let incremental = await runner.state
        let incrementalTools = await toolRunner.state

        let rebuilt = ProjectionRunner<RunsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await rebuilt.rebuild()
        let rebuiltTools = ProjectionRunner<ToolCallsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await rebuiltTools.rebuild()
        #expect(await rebuilt.state == incremental)
        #expect(await rebuiltTools.state == incrementalTools)
        #expect(incremental.rows.count == 12 * 7 + 4)

        // What was stored equals what was folded.
        let reloaded = ProjectionRunner<RunsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await reloaded.load()
        #expect(await reloaded.state == incremental)
    }

    @Test func runSummariesAgreeWithTheEventsTheyCameFrom() async throws {
        var fixture = try Fixture()
        var generator = RunGenerator(seed: 21)
        try await fixture.appendRuns(25, generator: &generator)
        let runner = ProjectionRunner<RunsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await runner.catchUp()
        let state = await runner.state
        for run in fixture.runs {
            let summary = try #require(state[run.runID])
            // Expected values computed from the typed payloads, independently of the fold's JSON scanner.
            var input: Int64 = 0, output: Int64 = 0, denied = 0, tools = 0
            for draft in run.drafts {
                switch draft.type {
                case "llm.responded":
                    let message = try Glassbox_V1_LlmResponded(jsonString: draft.data)
                    input += Int64(message.inputTokens)
                    output += Int64(message.outputTokens)
                case "tool.denied": denied += 1
                case "tool.requested": tools += 1
                default: break
                }
            }
            #expect(summary.inputTokens == input)
            #expect(summary.outputTokens == output)
            #expect(summary.toolCalls == tools)
            #expect(summary.toolCallsDenied == denied)
            #expect(summary.events == run.drafts.count)
            #expect(summary.agent == "analyst")
            #expect(summary.caller == "user:alice")
            let last = run.drafts.last!
            #expect(summary.status == (last.type == "run.failed" ? .failed : .completed))
            #expect(summary.durationMs == (last.time - run.drafts[0].time) / 1_000_000)
            if last.type == "run.failed" { #expect(summary.errorType == "budget_exceeded") }
        }
    }

    @Test func toolCallsCarryTheirPermissionDecision() async throws {
        var fixture = try Fixture()
        var generator = RunGenerator(seed: 4, denyEvery: 2)
        try await fixture.appendRuns(6, generator: &generator)
        let runner = ProjectionRunner<ToolCallsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await runner.catchUp()
        let calls = await runner.state.rows.values
        let deniedDrafts = fixture.runs.flatMap(\.drafts).filter { $0.type == "tool.denied" }.count
        #expect(calls.filter { $0.status == .denied }.count == deniedDrafts)
        #expect(deniedDrafts > 0)
        for call in calls {
            switch call.status {
            case .denied:
                #expect(call.decision == "denied")
                #expect(call.deniedAt == "authorization")
                #expect(call.rule == "deny-by-default")
            case .completed:
                #expect(call.decision == "allowed")
                #expect(call.rule == "analysts-read-sales")
                #expect(call.executingAs == "role:alice_ro")
                #expect(call.durationMs != nil && call.rows != nil)
            default:
                Issue.record("unexpected status \(call.status)")
            }
            #expect(call.runId != nil && call.tool == "sql_query")
        }
    }

    @Test func stateAsOfASeqShowsTheRunAsItWasThen() async throws {
        var fixture = try Fixture()
        var generator = RunGenerator(seed: 8, failEvery: 1000)
        try await fixture.appendRuns(1, generator: &generator, steps: 1)
        let run = fixture.runs[0]
        let middle = Int64(run.drafts.count / 2)
        let then = try await RunsProjection.state(asOf: middle, reader: fixture.log)
        #expect(then[run.runID]?.status == .running)
        #expect(then[run.runID]?.events == Int(middle))
        #expect(then.seq == middle)
        let now = try await RunsProjection.state(asOf: .max, reader: fixture.log)
        #expect(now[run.runID]?.status == .completed)
    }

    @Test func stopAndApprovalEventsMoveTheRunStatus() async throws {
        let fixture = try Fixture()
        let actor = "agent:engineer@user:bob"
        func draft(_ type: String, _ json: String) throws -> EventDraft {
            try EventDraft(type: type, json: json, actor: actor)
        }
        _ = try await fixture.log.append([
            try draft("run.started", #"{"runId":"x","agent":"engineer","caller":"user:bob"}"#),
            try draft("tool.requested", #"{"callId":"c1","tool":"git_commit","risk":"write"}"#),
            try draft("tool.authorized", #"{"callId":"c1","tool":"git_commit","approvalRequired":true}"#),
            try draft("approval.requested", #"{"approvalId":"a1","callId":"c1","tool":"git_commit","runId":"x"}"#),
        ], to: "run/x", expectedVersion: .noStream)
        var runs = try await RunsProjection.state(asOf: .max, reader: fixture.log)
        var tools = try await ToolCallsProjection.state(asOf: .max, reader: fixture.log)
        #expect(runs["x"]?.status == .waitingForApproval)
        #expect(tools[ToolCallsProjection.key(stream: "run/x", callID: "c1")]?.status == .waitingForApproval)
        _ = try await fixture.log.append([
            try draft("approval.rejected", #"{"approvalId":"a1","callId":"c1","decidedBy":"user:carol","comment":"not on main"}"#),
            try draft("run.stop_requested", #"{"runId":"x","requestedBy":"user:carol"}"#),
            try draft("run.cancelled", #"{"runId":"x","reason":"stopped by user:carol"}"#),
        ], to: "run/x", expectedVersion: .exact(4))
        runs = try await RunsProjection.state(asOf: .max, reader: fixture.log)
        tools = try await ToolCallsProjection.state(asOf: .max, reader: fixture.log)
        #expect(runs["x"]?.status == .cancelled)
        #expect(runs["x"]?.stopRequestedBy == "user:carol")
        #expect(runs["x"]?.approvalsPending == 0)
        #expect(tools[ToolCallsProjection.key(stream: "run/x", callID: "c1")]?.status == .denied)
        #expect(tools[ToolCallsProjection.key(stream: "run/x", callID: "c1")]?.deniedAt == "approval")
        #expect(tools[ToolCallsProjection.key(stream: "run/x", callID: "c1")]?.reason == "not on main")
    }

    @Test func twoRunnersOnOneFileDoNotOverwriteEachOther() async throws {
        var fixture = try Fixture()
        var generator = RunGenerator(seed: 2)
        try await fixture.appendRuns(5, generator: &generator)
        let first = ProjectionRunner<RunsProjection>(reader: fixture.log, store: fixture.log.readModels)
        let second = ProjectionRunner<RunsProjection>(reader: fixture.log, store: fixture.log.readModels)
        try await first.load()
        try await second.load()
        try await first.catchUp()
        try await fixture.appendRuns(5, generator: &generator)
        try await second.catchUp()  // its first save finds the checkpoint moved, reloads, goes on
        try await first.catchUp()
        #expect(await first.state == second.state)
        #expect(await first.state.rows.count == 10)
    }

    @Test func aNewProjectionVersionStartsFromZero() async throws {
        var fixture = try Fixture()
        var generator = RunGenerator(seed: 6)
        try await fixture.appendRuns(3, generator: &generator)
        let old = ProjectionRunner<CountV1>(reader: fixture.log, store: fixture.log.readModels)
        try await old.catchUp()
        let new = ProjectionRunner<CountV2>(reader: fixture.log, store: fixture.log.readModels)
        try await new.load()
        #expect(await new.state.rows.isEmpty)
        #expect(await new.state.seq == 0)
        try await new.catchUp()
        #expect(await new.state["events"] == Int(try await fixture.log.lastSeq()) * 2)
    }
}

private struct CountV1: Projection {
    static let name = "counts"
    static let version = 1
    static func apply(_ event: Event, to model: inout ReadModel<Int>) { model["events", default: 0] += 1 }
}

private struct CountV2: Projection {
    static let name = "counts"
    static let version = 2
    static func apply(_ event: Event, to model: inout ReadModel<Int>) { model["events", default: 0] += 2 }
}
