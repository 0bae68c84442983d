import EventLog
import Projections

/// The read models the API serves, kept up to date with the log.
///
/// Reads catch up first, so a client that just appended (or stopped a run) sees its
/// own event in the next response instead of a state a poll interval old.
struct ReadModels: Sendable {
    let runs: ProjectionRunner<RunsProjection>
    let toolCalls: ProjectionRunner<ToolCallsProjection>
    let reader: any EventReader

    init(log: SQLiteEventLog) {
        reader = log
        runs = ProjectionRunner(reader: log, store: log.readModels)
        toolCalls = ProjectionRunner(reader: log, store: log.readModels)
    }

    /// Loads the stored read models and folds in what the log gained since they were saved.
    func prepare() async throws {
        try await runs.load()
        try await toolCalls.load()
        try await runs.catchUp()
        try await toolCalls.catchUp()
    }

    /// Runs as of now, or as of `seq` (folded from the start of the log).
    func runs(asOf seq: Int64?) async throws -> ReadModel<RunSummary> {
        if let seq { return try await RunsProjection.state(asOf: seq, reader: reader) }
        try await runs.catchUp()
        return await runs.state
    }

    func toolCalls(asOf seq: Int64?) async throws -> ReadModel<ToolCallSummary> {
        if let seq { return try await ToolCallsProjection.state(asOf: seq, reader: reader) }
        try await toolCalls.catchUp()
        return await toolCalls.state
    }

    /// Keeps both read models following the log (and saved) while the server runs.
    func follow() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runs.follow() }
            group.addTask { try? await toolCalls.follow() }
        }
    }
}
