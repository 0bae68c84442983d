import EventLog
import Foundation
import GlassboxTesting
import Testing

/// The streams filter events in memory; the API filters them in SQL. Both must agree.
@Suite struct GlobTests {
    @Test func inMemoryMatchingAgreesWithTheLogsSQL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try SQLiteEventLog(path: directory.path("log.db"), options: .init(durability: .normal))
        defer { try? log.close() }
        let types = ["run.started", "tool.denied", "tool.completed", "llm.requested", "agent.thought", "guardrail.blocked"]
        let streams = ["run/a1", "run/b2", "mission/m1", "run/[x]"]
        for (index, type) in types.enumerated() {
            let payload = type == "agent.thought" ? #"{"text":"t"}"# : "{}"
            let draft = try EventDraft(type: type, json: payload, actor: index % 2 == 0 ? "agent:analyst@user:alice" : "user:bob")
            _ = try await log.append([draft], to: streams[index % streams.count], expectedVersion: .any)
        }
        let all = try await log.events(EventQuery())
        let patterns = ["tool.*", "*.started", "run.started", "?un.*", "t[a-o]ol.*", "[^t]*", "*", "nothing", "tool.d?nied", "run/[[]x]"]
        for pattern in patterns {
            for filter in [EventFilter(types: [pattern]), EventFilter(stream: pattern), EventFilter(actor: pattern)] {
                let bySQL = try await log.events(EventQuery(filter: filter)).map(\.seq)
                let inMemory = all.filter { filter.matches(type: $0.type, stream: $0.stream, actor: $0.actor, traceID: $0.traceID) }.map(\.seq)
                #expect(bySQL == inMemory, "pattern \(pattern) in \(filter)")
            }
        }
    }
}
