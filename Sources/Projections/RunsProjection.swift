public import EventLog

/// Where a run is in its life.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running
    case waitingForApproval = "waiting_for_approval"
    /// A stop was requested and the run has not ended yet.
    case stopping
    case completed
    case failed
    case cancelled

    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// One agent run as the dashboards and the API show it.
public struct RunSummary: Codable, Sendable, Equatable {
    public var runId: String
    public var status: RunStatus
    public var agent: String?
    /// The principal the agent acts for.
    public var caller: String?
    public var actor: String?
    public var task: String?
    public var model: String?
    public var missionId: String?
    public var step: String?
    public var traceId: String?
    /// Unix nanoseconds.
    public var startedAt: Int64
    public var endedAt: Int64?
    public var durationMs: Int64?
    public var llmCalls: Int = 0
    public var inputTokens: Int64 = 0
    public var outputTokens: Int64 = 0
    public var costUsd: Double = 0
    public var thoughts: Int = 0
    public var toolCalls: Int = 0
    public var toolCallsDenied: Int = 0
    public var toolCallsFailed: Int = 0
    public var guardrailBlocks: Int = 0
    public var approvalsPending: Int = 0
    public var stopRequestedBy: String?
    /// Why it failed or was cancelled.
    public var errorType: String?
    public var error: String?
    public var events: Int = 0
    public var firstSeq: Int64
    public var lastSeq: Int64
    public var lastEventAt: Int64
}

/// Runs by id, fed by every event in a `run/<id>` stream.
public struct RunsProjection: Projection {
    public static let name = "runs"
    public static let version = 1

    public static func apply(_ event: Event, to model: inout ReadModel<RunSummary>) {
        guard let runID = runID(ofStream: event.stream) else { return }
        model.update(runID, orInsert: RunSummary(
            runId: runID, status: .running, traceId: event.traceID, startedAt: event.time,
            firstSeq: event.seq, lastSeq: event.seq, lastEventAt: event.time)
        ) { run in
            fold(event, into: &run)
        }
    }

    private static func fold(_ event: Event, into run: inout RunSummary) {
        run.events += 1
        run.lastSeq = event.seq
        run.lastEventAt = max(run.lastEventAt, event.time)
        let payload = PayloadFields(event)
        switch event.type {
        case "run.started":
            run.startedAt = event.time
            run.agent = payload.string("agent")
            run.caller = payload.string("caller")
            run.actor = event.actor
            run.task = payload.string("task")
            run.model = payload.string("model")
            run.missionId = payload.string("missionId")
            run.step = payload.string("step")
            run.traceId = event.traceID ?? run.traceId
        case "llm.responded":
            run.llmCalls += 1
            run.inputTokens += payload.int("inputTokens") ?? 0
            run.outputTokens += payload.int("outputTokens") ?? 0
            run.costUsd += payload.double("costUsd") ?? 0
        case "agent.thought":
            run.thoughts += 1
        case "tool.requested":
            run.toolCalls += 1
        case "tool.denied":
            run.toolCallsDenied += 1
        case "tool.failed":
            run.toolCallsFailed += 1
        case "guardrail.blocked":
            run.guardrailBlocks += 1
        case "approval.requested":
            run.approvalsPending += 1
            if !run.status.isFinished && run.status != .stopping { run.status = .waitingForApproval }
        case "approval.granted", "approval.rejected":
            run.approvalsPending = max(0, run.approvalsPending - 1)
            if run.status == .waitingForApproval && run.approvalsPending == 0 { run.status = .running }
        case "run.stop_requested":
            run.stopRequestedBy = payload.string("requestedBy") ?? event.actor
            if !run.status.isFinished { run.status = .stopping }
        case "run.completed":
            finish(&run, .completed, at: event.time)
        case "run.failed":
            finish(&run, .failed, at: event.time)
            run.errorType = payload.string("errorType")
            run.error = payload.string("message")
        case "run.cancelled":
            finish(&run, .cancelled, at: event.time)
            run.error = payload.string("reason")
        default:
            break
        }
    }

    private static func finish(_ run: inout RunSummary, _ status: RunStatus, at time: Int64) {
        run.status = status
        run.endedAt = time
        run.durationMs = max(0, (time - run.startedAt) / 1_000_000)
        run.approvalsPending = 0
    }

    /// The run id of a `run/<id>` stream.
    public static func runID(ofStream stream: String) -> String? {
        guard stream.hasPrefix("run/") else { return nil }
        let id = stream.dropFirst(4)
        return id.isEmpty ? nil : String(id)
    }
}
