import EventLog
import Foundation
import GlassboxProto
import GlassboxTesting
import Testing

@Suite struct AppendTests {
    @Test func appendedEventsReadBackWithTheirEnvelope() async throws {
        let test = try TestLog()
        let trace = TraceContext.newTrace()
        var started = Glassbox_V1_RunStarted()
        started.runID = "r1"
        started.agent = "analyst"
        let first = try EventDraft(started, actor: "agent:analyst@user:alice", trace: trace)
        let second = try thought("look at the orders table")
        let result = try await test.log.append([first, second], to: "run/r1", expectedVersion: .noStream)
        #expect(result.positions == [EventPosition(seq: 1, streamVersion: 1), EventPosition(seq: 2, streamVersion: 2)])
        #expect(result.deduplicated == false)

        let events = try await test.log.events(EventQuery())
        #expect(events.map(\.seq) == [1, 2])
        #expect(events[0].id == first.id)
        #expect(events[0].type == "run.started")
        #expect(events[0].stream == "run/r1")
        #expect(events[0].traceID == trace.traceID)
        #expect(events[0].spanID == trace.spanID)
        #expect(events[0].data == #"{"runId":"r1","agent":"analyst"}"#)
        #expect(events[0].prevHash == .genesis)
        #expect(events[1].prevHash == events[0].hash)
        #expect(events[1].streamVersion == 2)
        #expect(events[1].time == second.time)
    }

    @Test func aLostRaceIsATypedErrorNamingStreamAndVersions() async throws {
        let test = try TestLog()
        _ = try await test.log.append([try thought("a")], to: "run/x", expectedVersion: .noStream)
        _ = try await test.log.append([try thought("b")], to: "run/x", expectedVersion: .exact(1))
        await #expect(throws: EventLogError.versionConflict(stream: "run/x", expected: .exact(1), actual: 2)) {
            try await test.log.append([try thought("c")], to: "run/x", expectedVersion: .exact(1))
        }
        await #expect(throws: EventLogError.versionConflict(stream: "run/x", expected: .noStream, actual: 2)) {
            try await test.log.append([try thought("c")], to: "run/x", expectedVersion: .noStream)
        }
        #expect(try await test.log.lastSeq() == 2)
    }

    @Test func retryingTheSameEventIDsReturnsTheOriginalPositions() async throws {
        let test = try TestLog()
        _ = try await test.log.append([try thought("other")], to: "run/other", expectedVersion: .any)
        let drafts = [try thought("one"), try thought("two")]
        let original = try await test.log.append(drafts, to: "run/r", expectedVersion: .noStream)
        let retry = try await test.log.append(drafts, to: "run/r", expectedVersion: .noStream)
        #expect(retry.positions == original.positions)
        #expect(retry.deduplicated)
        #expect(try await test.log.lastSeq() == 3)
    }

    @Test func aRetryMixingOldAndNewIDsIsRefusedAndWritesNothing() async throws {
        let test = try TestLog()
        let old = try thought("old")
        _ = try await test.log.append([old], to: "run/r", expectedVersion: .any)
        await #expect(throws: EventLogError.self) {
            try await test.log.append([try thought("new"), old], to: "run/r", expectedVersion: .any)
        }
        await #expect(throws: EventLogError.self) {
            try await test.log.append([old, try thought("new")], to: "run/r", expectedVersion: .any)
        }
        let repeated = try thought("twice")
        await #expect(throws: EventLogError.self) {
            try await test.log.append([repeated, repeated], to: "run/r", expectedVersion: .any)
        }
        #expect(try await test.log.lastSeq() == 1)
        #expect(try await test.log.verify().isIntact)
    }

    @Test func oneFailingRequestDoesNotAffectOthersInTheSameGroupCommit() async throws {
        let test = try TestLog()
        _ = try await test.log.append([try thought("seed")], to: "run/contended", expectedVersion: .any)
        // Many writers race for version 1 of one stream: exactly one wins; unrelated appends all land.
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<40 {
                group.addTask {
                    if index % 2 == 0 {
                        do {
                            _ = try await test.log.append([try thought("race \(index)")], to: "run/contended", expectedVersion: .exact(1))
                            return true
                        } catch EventLogError.versionConflict {
                            return false
                        }
                    }
                    _ = try await test.log.append([try thought("free \(index)")], to: "run/free-\(index)", expectedVersion: .noStream)
                    return true
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { !$0 }.count == 19)
        #expect(try await test.log.lastSeq() == 1 + 1 + 20)
        let report = try await test.log.verify()
        #expect(report.isIntact)
        #expect(report.eventsChecked == 22)
    }

    @Test func concurrentAppendersShareCommitsAndLeaveNoGap() async throws {
        let test = try TestLog(durability: .full)
        let appenders = 256
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<appenders {
                group.addTask {
                    _ = try await test.log.append([try thought("task \(index)")], to: "run/t\(index % 8)", expectedVersion: .any)
                }
            }
            try await group.waitForAll()
        }
        let events = try await test.log.events(EventQuery(limit: 10_000))
        #expect(events.map(\.seq) == Array(1...Int64(appenders)))
        #expect(Set(events.map(\.id)).count == appenders)
        let commits = test.log.commitCount
        #expect(commits < appenders, "group commit should serve several appenders per transaction, got \(commits) commits")
        #expect(try await test.log.verify().isIntact)
    }

    @Test func badInputIsRefusedBeforeAnythingIsWritten() async throws {
        let test = try TestLog()
        #expect(throws: EventLogError.self) { try EventDraft(type: "run.exploded", json: "{}", actor: "a") }
        #expect(throws: EventLogError.self) { try EventDraft(type: "agent.thought", json: "{\"text\": ", actor: "a") }
        #expect(throws: EventLogError.self) { try EventDraft(type: "agent.thought", json: "{\"txt\": \"x\"}", actor: "a") }
        #expect(throws: EventLogError.self) { try EventDraft(type: "agent.thought", json: "[1]", actor: "a") }
        #expect(throws: EventLogError.self) { try EventDraft(type: "llm.responded", json: "{\"inputTokens\": \"many\"}", actor: "a") }
        await #expect(throws: EventLogError.self) { try await test.log.append([], to: "run/r", expectedVersion: .any) }
        await #expect(throws: EventLogError.self) { try await test.log.append([try thought("x")], to: "run r", expectedVersion: .any) }
        await #expect(throws: EventLogError.self) { try await test.log.append([try thought("x", actor: "")], to: "run/r", expectedVersion: .any) }
        #expect(try await test.log.lastSeq() == 0)
    }

    @Test func jsonInputIsStoredInCanonicalProto3Form() throws {
        let draft = try EventDraft(type: "llm.responded", json: #"{"output_tokens": 7, "input_tokens": 12, "model": "m"}"#, actor: "a")
        #expect(draft.data == #"{"model":"m","inputTokens":12,"outputTokens":7}"#)
    }

    @Test func readersFilterByStreamTypeAndTrace() async throws {
        let test = try TestLog()
        var generator = RunGenerator(seed: 3)
        var runs: [RunGenerator.Run] = []
        for _ in 0..<5 {
            let run = try generator.run(steps: 2)
            runs.append(run)
            _ = try await test.log.append(run.drafts, to: run.stream, expectedVersion: .noStream)
        }
        let second = try await test.log.events(EventQuery(filter: EventFilter(stream: runs[1].stream)))
        #expect(second.count == runs[1].drafts.count)
        #expect(second.map(\.id) == runs[1].drafts.map(\.id))
        let tools = try await test.log.events(EventQuery(filter: EventFilter(types: ["tool.*"]), limit: 10_000))
        #expect(!tools.isEmpty && tools.allSatisfy { $0.type.hasPrefix("tool.") })
        let traceID = try #require(runs[2].drafts[0].trace?.traceID)
        let traced = try await test.log.events(EventQuery(filter: EventFilter(traceID: traceID)))
        #expect(traced.map(\.id) == runs[2].drafts.map(\.id))
        let page = try await test.log.events(EventQuery(after: 3, through: 7, limit: 100))
        #expect(page.map(\.seq) == [4, 5, 6, 7])
        let newest = try await test.log.events(EventQuery(limit: 2, newestFirst: true))
        #expect(newest.map(\.seq) == [try await test.log.lastSeq(), try await test.log.lastSeq() - 1])
    }

    @Test func durabilityIsTheWritersSynchronousSetting() async throws {
        let full = try TestLog(durability: .full)
        #expect(try await full.log.synchronousSetting() == 2)
        let normal = try TestLog(durability: .normal)
        #expect(try await normal.log.synchronousSetting() == 1)
    }

    @Test func aReadOnlyLogCannotBeAppendedToOrCreated() async throws {
        let test = try TestLog()
        _ = try await test.log.append([try thought("x")], to: "run/r", expectedVersion: .any)
        let reader = try SQLiteEventLog(path: test.path, options: .init(readOnly: true))
        #expect(try await reader.events(EventQuery()).count == 1)
        await #expect(throws: EventLogError.readOnlyLog(path: test.path)) {
            try await reader.append([try thought("y")], to: "run/r", expectedVersion: .any)
        }
        #expect(throws: EventLogError.self) {
            try SQLiteEventLog(path: test.directory.path("missing.db"), options: .init(readOnly: true))
        }
    }

    @Test func checkpointsPersistAcrossReopening() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        do {
            let log = try SQLiteEventLog(path: path)
            #expect(try await log.checkpoint(of: "otlp:tempo") == 0)
            try await log.saveCheckpoint(41, of: "otlp:tempo")
            try await log.saveCheckpoint(42, of: "otlp:tempo")
        }
        let reopened = try SQLiteEventLog(path: path)
        #expect(try await reopened.checkpoint(of: "otlp:tempo") == 42)
    }
}
