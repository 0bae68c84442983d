import EventLog
import Foundation
import Glassbox
import GlassboxTesting
import Projections
import Testing

/// The demo's scripts are real events: every payload must validate, and the read models
/// must show each run ending the way its script says.
@Suite struct DemoActivityTests {
    @Test func everyScriptPlaysToItsEndingAndStopsWhenAsked() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try SQLiteEventLog(path: directory.path("log.db"), options: .init(durability: .normal))
        defer { try? log.close() }
        let demo = DemoActivity(store: log, pace: 0)
        for (index, script) in DemoScript.all.enumerated() {
            try await demo.play(script, runID: "demo-\(index)")
        }
        let runs = try await RunsProjection.state(asOf: .max, reader: log).rows
        let statuses = DemoScript.all.indices.map { runs["demo-\($0)"]?.status }
        #expect(statuses == [.completed, .completed, .completed, .failed, .completed, .completed, .cancelled])
        let calls = try await ToolCallsProjection.state(asOf: .max, reader: log).rows.values
        #expect(calls.contains { $0.status == .denied && $0.rule == "deny-by-default" })
        #expect(calls.contains { $0.status == .failed })
        #expect(runs.values.allSatisfy { $0.caller != nil && $0.agent != nil })

        // A stop request from outside (the API, the dashboard) ends a playing run.
        let playing = Task { try await DemoActivity(store: log, pace: 0.2).play(DemoScript.all[0], runID: "demo-stopped") }
        while try await log.events(EventQuery(filter: EventFilter(stream: "run/demo-stopped"))).isEmpty {
            try await Task.sleep(for: .milliseconds(10))
        }
        let stop = try EventDraft(type: "run.stop_requested", json: #"{"runId":"demo-stopped","requestedBy":"user:carol"}"#, actor: "user:carol")
        _ = try await log.append([stop], to: "run/demo-stopped", expectedVersion: .any)
        try await playing.value
        let stopped = try await RunsProjection.state(asOf: .max, reader: log).rows["demo-stopped"]
        #expect(stopped?.status == .cancelled)
        #expect(stopped?.stopRequestedBy == "user:carol")
    }
}
