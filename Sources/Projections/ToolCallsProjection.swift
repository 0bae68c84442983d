public import EventLog

/// Where a tool call is in the guard pipeline.
public enum ToolCallStatus: String, Codable, Sendable, CaseIterable {
    case requested
    case authorized
    case waitingForApproval = "waiting_for_approval"
    case denied
    case running
    case completed
    case failed
}

/// One tool call with the permission decision that let it run or stopped it.
public struct ToolCallSummary: Codable, Sendable, Equatable {
    public var callId: String
    public var runId: String?
    public var tool: String?
    public var status: ToolCallStatus
    public var principal: String?
    public var risk: String?
    /// "allowed" or "denied", once decided.
    public var decision: String?
    public var action: String?
    public var resource: String?
    /// The policy rule that decided.
    public var rule: String?
    /// For a denial: which guard stage refused, and why.
    public var deniedAt: String?
    public var reason: String?
    public var approvalId: String?
    public var approvedBy: String?
    public var executingAs: String?
    public var requestedAt: Int64
    public var startedAt: Int64?
    public var endedAt: Int64?
    public var durationMs: Int64?
    public var rows: Int64?
    public var outputBytes: Int64?
    public var truncated: Bool?
    public var errorType: String?
    public var error: String?
    public var traceId: String?
    public var spanId: String?
    public var firstSeq: Int64
    public var lastSeq: Int64
}

/// Tool calls by call id, fed by `tool.*`, `guardrail.blocked` and `approval.*` events.
public struct ToolCallsProjection: Projection {
    public static let name = "tool_calls"
    public static let version = 1

    public static func apply(_ event: Event, to model: inout ReadModel<ToolCallSummary>) {
        let isToolEvent = event.type.hasPrefix("tool.")
        guard isToolEvent || event.type == "guardrail.blocked" || event.type.hasPrefix("approval.") else { return }
        let payload = PayloadFields(event)
        guard let callID = payload.string("callId"), !callID.isEmpty else { return }
        // Call ids are unique within their stream; rows are keyed by both.
        let key = key(stream: event.stream, callID: callID)
        // Approval events of unknown calls are not tool calls this projection has seen.
        if !isToolEvent && event.type != "guardrail.blocked" && model[key] == nil { return }
        var call = model[key] ?? ToolCallSummary(
            callId: callID, runId: RunsProjection.runID(ofStream: event.stream), status: .requested,
            requestedAt: event.time, traceId: event.traceID, spanId: event.spanID,
            firstSeq: event.seq, lastSeq: event.seq)
        call.lastSeq = event.seq
        if call.tool == nil { call.tool = payload.string("tool") }
        switch event.type {
        case "tool.requested":
            call.requestedAt = event.time
            call.principal = payload.string("principal")
            call.risk = payload.string("risk")
        case "tool.authorized":
            call.status = .authorized
            call.decision = "allowed"
            call.principal = payload.string("principal") ?? call.principal
            call.action = payload.string("action")
            call.resource = payload.string("resource")
            call.rule = payload.string("rule")
        case "tool.denied":
            call.status = .denied
            call.decision = "denied"
            call.principal = payload.string("principal") ?? call.principal
            call.action = payload.string("action") ?? call.action
            call.resource = payload.string("resource") ?? call.resource
            call.rule = payload.string("rule") ?? call.rule
            call.deniedAt = payload.string("stage") ?? call.deniedAt
            call.reason = payload.string("reason") ?? call.reason
            call.endedAt = event.time
        case "guardrail.blocked":
            call.status = .denied
            call.decision = "denied"
            call.deniedAt = "guardrail"
            call.rule = payload.string("guardrail")
            call.reason = payload.string("reason")
            call.endedAt = event.time
        case "approval.requested":
            call.status = .waitingForApproval
            call.approvalId = payload.string("approvalId")
        case "approval.granted":
            call.status = .authorized
            call.approvedBy = payload.string("decidedBy")
        case "approval.rejected":
            call.status = .denied
            call.decision = "denied"
            call.deniedAt = "approval"
            call.reason = payload.string("comment")
            call.approvedBy = nil
            call.endedAt = event.time
        case "tool.started":
            call.status = .running
            call.startedAt = event.time
            call.executingAs = payload.string("executingAs")
        case "tool.completed":
            call.status = .completed
            call.endedAt = event.time
            call.rows = payload.int("rows")
            call.outputBytes = payload.int("outputBytes")
            call.truncated = payload.bool("truncated")
        case "tool.failed":
            call.status = .failed
            call.endedAt = event.time
            call.errorType = payload.string("errorType")
            call.error = payload.string("message")
        default:
            break
        }
        if let ended = call.endedAt {
            call.durationMs = max(0, (ended - (call.startedAt ?? call.requestedAt)) / 1_000_000)
        }
        model[key] = call
    }

    /// The row key of a tool call: `<stream>|<call id>`.
    public static func key(stream: String, callID: String) -> String {
        "\(stream)|\(callID)"
    }
}
