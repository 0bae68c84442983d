import Security
import EventLog
import Foundation
import GlassboxProto
public import SwiftProtobuf

/// Builds one call's events and appends them at the moments that matter: before an approval
/// wait, before the tool runs, and at the end. Everything between those moments happens within
/// microseconds, so it is appended together.
struct CallRecorder {
    let log: any EventStore
    let callID: String
    let tool: String
    let stream: String
    let actor: String
    let trace: TraceContext
    /// The guard's clock, so that events carry the times rate limits were decided at.
    let now: @Sendable () -> Double
    private var pending: [EventDraft] = []
    private var appendedAny = false
    private(set) var logError: String?

    init(log: any EventStore, callID: String, tool: String, stream: String, actor: String, trace: TraceContext,
         now: @escaping @Sendable () -> Double) {
        self.now = now
        self.log = log
        self.callID = callID
        self.tool = tool
        self.stream = stream
        self.actor = actor
        self.trace = trace
    }

    private mutating func add(_ payload: some EventPayload, actor: String? = nil) {
        do {
            pending.append(try EventDraft(payload, actor: actor ?? self.actor, trace: trace, time: Int64(now() * 1_000_000_000)))
        } catch {
            logError = "could not encode \(type(of: payload)): \(error)"
        }
    }

    /// Appends what is pending; returns the last `seq` written, or nil when the log refused
    /// (then the call must not go on: nothing may run that is not recorded).
    mutating func flush() async -> Int64? {
        if logError != nil { return nil }
        guard !pending.isEmpty else { return 0 }
        do {
            let result = try await log.append(pending, to: stream, expectedVersion: .any)
            pending.removeAll(keepingCapacity: true)
            appendedAny = true
            return result.positions.last?.seq ?? 0
        } catch {
            logError = "the event log refused the call's events: \(error)"
            return nil
        }
    }

    func logFailure() -> ToolCallResult {
        var result = ToolCallResult(callID: callID, tool: tool, status: .failed)
        result.errorType = "log_unavailable"
        result.message = (logError ?? "the event log is unavailable") + "; the tool did not run"
        return result
    }

    mutating func requested(input: JSONValue, risk: String, principal: String, placement: ToolCallGuard.Placement) {
        var payload = Glassbox_V1_ToolRequested()
        payload.callID = callID
        payload.tool = tool
        payload.input = input.protobufStruct
        payload.risk = risk
        payload.principal = principal
        payload.llmCallID = placement.llmCallID ?? ""
        payload.modelCallID = placement.modelCallID ?? ""
        add(payload)
    }

    mutating func authorized(permissions: [Permission], rules: [String], principal: String, approvalRequired: Bool) {
        var payload = Glassbox_V1_ToolAuthorized()
        payload.callID = callID
        payload.tool = tool
        payload.principal = principal
        payload.action = Self.unique(permissions.map(\.action)).joined(separator: ",")
        payload.resource = Self.unique(permissions.map(\.resource)).joined(separator: ",")
        payload.rule = rules.joined(separator: "; ")
        payload.approvalRequired = approvalRequired
        add(payload)
    }

    /// Appends `tool.denied` with everything pending and returns the refusal.
    mutating func deny(stage: String, rule: String, reason: String, caller: Principal, action: String = "", resource: String = "") async -> ToolCallResult {
        var payload = Glassbox_V1_ToolDenied()
        payload.callID = callID
        payload.tool = tool
        payload.principal = caller.id
        payload.action = action
        payload.resource = resource
        payload.rule = rule
        payload.reason = reason
        payload.stage = stage
        add(payload)
        guard await flush() != nil else { return logFailure() }
        var result = ToolCallResult(callID: callID, tool: tool, status: .denied)
        result.stage = stage
        result.rule = rule
        result.message = reason
        return result
    }

    mutating func guardrailBlocked(_ violation: GuardrailViolation) {
        var payload = Glassbox_V1_GuardrailBlocked()
        payload.callID = callID
        payload.tool = tool
        payload.guardrail = violation.guardrail
        payload.reason = violation.reason
        payload.detail = violation.detail
        add(payload)
    }

    mutating func approvalRequested(id: String, reason: String, approver: String, rule: String, input: JSONValue, runID: String?) {
        var payload = Glassbox_V1_ApprovalRequested()
        payload.approvalID = id
        payload.callID = callID
        payload.tool = tool
        payload.runID = runID ?? ""
        payload.reason = reason
        payload.approver = approver
        payload.rule = rule
        payload.input = input.protobufStruct
        add(payload)
    }

    mutating func approvalDecided(id: String, granted: Bool, by: String, comment: String) {
        if granted {
            var payload = Glassbox_V1_ApprovalGranted()
            payload.approvalID = id
            payload.callID = callID
            payload.decidedBy = by
            payload.comment = comment
            add(payload, actor: by)
        } else {
            var payload = Glassbox_V1_ApprovalRejected()
            payload.approvalID = id
            payload.callID = callID
            payload.decidedBy = by
            payload.comment = comment
            add(payload, actor: by)
        }
    }

    mutating func started(executingAs: String) {
        var payload = Glassbox_V1_ToolStarted()
        payload.callID = callID
        payload.tool = tool
        payload.executingAs = executingAs
        add(payload)
    }

    mutating func completed(output: JSONValue, truncated: Bool, rows: Int?, duration: Duration, redacted: [String]) {
        var payload = Glassbox_V1_ToolCompleted()
        payload.callID = callID
        payload.tool = tool
        payload.output = output.protobufValue
        payload.outputBytes = UInt32(clamping: output.approximateSize)
        payload.truncated = truncated
        payload.rows = UInt32(clamping: rows ?? 0)
        payload.durationMs = duration.milliseconds
        payload.redacted = redacted
        add(payload)
    }

    mutating func failed(_ error: ToolError, duration: Duration) {
        var payload = Glassbox_V1_ToolFailed()
        payload.callID = callID
        payload.tool = tool
        payload.errorType = error.kind
        payload.message = SecretRedactor.redactString(error.message)
        payload.retryable = error.retryable
        payload.durationMs = duration.milliseconds
        add(payload)
    }

    private static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}

extension Duration {
    var milliseconds: UInt32 {
        UInt32(clamping: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}

extension JSONValue {
    /// The value as a protobuf `Value`, for event payloads.
    public var protobufValue: Google_Protobuf_Value {
        switch self {
        case .null:
            var value = Google_Protobuf_Value()
            value.nullValue = .nullValue
            return value
        case .bool(let b): return Google_Protobuf_Value(boolValue: b)
        case .integer(let i): return Google_Protobuf_Value(numberValue: Double(i))
        case .number(let d): return d.isFinite ? Google_Protobuf_Value(numberValue: d) : Google_Protobuf_Value(stringValue: "\(d)")
        case .string(let s): return Google_Protobuf_Value(stringValue: s)
        case .array(let items): return Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: items.map(\.protobufValue)))
        case .object: return Google_Protobuf_Value(structValue: protobufStruct)
        }
    }

    /// The value as a protobuf `Struct` (non-objects are wrapped as `{"value": …}`).
    public var protobufStruct: Google_Protobuf_Struct {
        guard case .object(let members) = self else { return Google_Protobuf_Struct(fields: ["value": protobufValue]) }
        return Google_Protobuf_Struct(fields: members.mapValues(\.protobufValue))
    }
}
