import ArgumentParser
import EventLog
import Foundation
import Projections

struct ProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Rebuild and show the read models derived from the log.",
        subcommands: [RebuildCommand.self, ShowCommand.self]
    )
}

/// The read models this build has.
enum ReadModelName: String, CaseIterable, ExpressibleByArgument {
    case runs
    case toolCalls = "tool-calls"
}

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Delete read models and fold the whole log into them again."
    )

    @OptionGroup var location: LogLocation
    @Argument(help: "Which read models (default: all): runs, tool-calls.") var names: [ReadModelName] = []

    func run() async throws {
        let log = try location.openExisting()
        defer { try? log.close() }
        for name in names.isEmpty ? ReadModelName.allCases : names {
            let clock = ContinuousClock()
            let start = clock.now
            let progress: @Sendable (Int64, Int64) -> Void = { seq, head in
                Terminal.progress("\(name.rawValue): \(Format.count(seq)) of \(Format.count(head)) events")
            }
            let (events, rows): (Int64, Int)
            switch name {
            case .runs:
                let runner = ProjectionRunner<RunsProjection>(reader: log, store: log.readModels)
                events = try await runner.rebuild(progress: progress)
                rows = await runner.state.rows.count
            case .toolCalls:
                let runner = ProjectionRunner<ToolCallsProjection>(reader: log, store: log.readModels)
                events = try await runner.rebuild(progress: progress)
                rows = await runner.state.rows.count
            }
            Terminal.endProgress()
            let seconds = Format.seconds(clock.now - start)
            Terminal.line("\(name.rawValue): folded \(Format.count(events)) events into \(Format.count(rows)) rows in "
                          + String(format: "%.2f s", seconds)
                          + (seconds > 0 ? " (\(Format.count(Int(Double(events) / seconds))) events/s)" : ""))
        }
    }
}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a read model: runs or tool-calls, brought up to date first.",
        discussion: "With --as-of SEQ, shows the state right after that event, folded from the start of the log."
    )

    @OptionGroup var location: LogLocation
    @Argument(help: "runs or tool-calls.") var name: ReadModelName
    @Option(help: "Show the state as of this seq.") var asOf: Int64?
    @Flag(help: "One JSON object per row.") var json = false
    @Option(name: [.customShort("n"), .customLong("lines")], help: "Show at most this many rows, newest first.") var lines = 50

    func run() async throws {
        // A past state is folded in memory; only bringing the stored read model up to date writes.
        let log = try asOf == nil ? location.openExisting() : location.openForReading()
        defer { try? log.close() }
        switch name {
        case .runs:
            let model = try await state(RunsProjection.self, log)
            let rows = model.rows.values.sorted { $0.firstSeq > $1.firstSeq }.prefix(lines)
            if json { return try rows.forEach(printJSON) }
            Terminal.line(Format.table(
                columns: ["RUN", "STATUS", "AGENT", "CALLER", "STARTED", "DURATION", "LLM", "TOKENS", "TOOLS", "DENIED", "EVENTS"],
                rows: rows.map { run in
                    [run.runId, run.status.rawValue, run.agent ?? "", run.caller ?? "", Format.time(run.startedAt),
                     run.durationMs.map(Format.duration) ?? "running", String(run.llmCalls),
                     Format.count(run.inputTokens + run.outputTokens), String(run.toolCalls), String(run.toolCallsDenied),
                     String(run.events)]
                }))
            Terminal.note("(\(Format.count(model.rows.count)) \(model.rows.count == 1 ? "run" : "runs") as of seq \(model.seq))")
        case .toolCalls:
            let model = try await state(ToolCallsProjection.self, log)
            let rows = model.rows.values.sorted { $0.firstSeq > $1.firstSeq }.prefix(lines)
            if json { return try rows.forEach(printJSON) }
            Terminal.line(Format.table(
                columns: ["CALL", "RUN", "TOOL", "STATUS", "DECISION", "RULE", "DURATION", "REASON"],
                rows: rows.map { call in
                    [call.callId, call.runId ?? "", call.tool ?? "", call.status.rawValue, call.decision ?? "",
                     call.rule ?? "", call.durationMs.map(Format.duration) ?? "", call.reason ?? call.error ?? ""]
                }))
            Terminal.note("(\(Format.count(model.rows.count)) tool \(model.rows.count == 1 ? "call" : "calls") as of seq \(model.seq))")
        }
    }

    private func state<P: Projection>(_ projection: P.Type, _ log: SQLiteEventLog) async throws -> ReadModel<P.Row> {
        if let asOf { return try await P.state(asOf: asOf, reader: log) }
        let runner = ProjectionRunner<P>(reader: log, store: log.readModels)
        try await runner.load()
        try await runner.catchUp()
        return await runner.state
    }

    private func printJSON(_ row: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        Terminal.line(String(decoding: try encoder.encode(row), as: UTF8.self))
    }
}
