public import EventLog
import Foundation
public import Security

/// A call waiting for a human's decision.
public struct ApprovalRequest: Sendable {
    public let approvalID: String
    public let callID: String
    public let tool: String
    /// The stream the call's events are on; decisions are appended there.
    public let stream: String
    /// Where `approval.requested` landed: decisions come after it.
    public let requestedAt: Int64
    /// Who may decide: `role:<name>` or a principal id.
    public let approver: String
    public let reason: String
    public let caller: Principal
}

/// A human's answer to an ``ApprovalRequest``.
public enum ApprovalDecision: Sendable, Equatable {
    /// `recorded`: the decision event is already in the log (appended by whoever decided).
    case granted(by: String, comment: String, recorded: Bool)
    case rejected(by: String, comment: String, recorded: Bool)
    /// No decision came; the call is refused.
    case unanswered(reason: String)
}

/// Where the guard waits for approvals.
public protocol ApprovalGate: Sendable {
    func decide(_ request: ApprovalRequest) async -> ApprovalDecision
}

/// Who may grant an approval: the approver the request names (a principal, or anyone holding
/// `role:<name>` in the policy), never the caller. The guard and `glassbox approve` both ask it.
public enum ApproverCheck {
    /// Why `decider` may not grant an approval that `approver` must give, or nil when they may.
    public static func refusal(decider: String, approver: String, callerID: String?, policy: Policy) -> String? {
        if decider == callerID {
            return "\(decider) cannot approve their own call; \(approver) must decide"
        }
        if approver.hasPrefix("role:") {
            let role = String(approver.dropFirst(5))
            let roles = policy.principal(decider)?.roles ?? []
            if !roles.contains(role) { return "\(decider) does not hold \(approver), so their approval does not count" }
        } else if decider != approver {
            return "only \(approver) may approve this call, not \(decider)"
        }
        return nil
    }
}

/// Ready-made gates.
public enum ApprovalGates {
    /// Nobody can approve: every call that needs an approval is refused at once (the default,
    /// so that an unattended caller never waits forever).
    public static let refuse: any ApprovalGate = RefusingGate()

    /// Waits up to `timeout` for `approval.granted` or `approval.rejected` with the request's id on the
    /// call's stream, as `glassbox approve ID` appends them from another process.
    public static func log(_ reader: any EventReader, timeout: Duration) -> any ApprovalGate {
        LogGate(reader: reader, timeout: timeout)
    }

    /// Decides every request the same way at once, as `decidedBy` (for tests and demos).
    public static func automatic(grant: Bool, decidedBy: String) -> any ApprovalGate {
        AutomaticGate(grant: grant, decidedBy: decidedBy)
    }
}

private struct RefusingGate: ApprovalGate {
    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        .unanswered(reason: "approval \(request.approvalID) by \(request.approver) is required and nobody can answer here; "
            + "run the call with a wait for approval (e.g. `glassbox tools call … --approval-timeout 600`) and approve it with "
            + "`glassbox approve \(request.approvalID) --as <approver>`")
    }
}

private struct AutomaticGate: ApprovalGate {
    let grant: Bool
    let decidedBy: String
    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        grant ? .granted(by: decidedBy, comment: "automatic", recorded: false) : .rejected(by: decidedBy, comment: "automatic", recorded: false)
    }
}

private struct LogGate: ApprovalGate {
    let reader: any EventReader
    let timeout: Duration

    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        let filter = EventFilter(stream: request.stream, types: ["approval.granted", "approval.rejected"])
        let reader = self.reader
        return await withTaskGroup(of: ApprovalDecision?.self) { group in
            group.addTask {
                do {
                    for try await event in reader.subscribe(after: request.requestedAt, filter: filter) {
                        guard let decision = JSONValue.decision(in: event, approvalID: request.approvalID) else { continue }
                        return decision
                    }
                } catch {}
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if first == nil, Task.isCancelled {
                return .unanswered(reason: "the call was stopped while it waited for approval \(request.approvalID)")
            }
            return first ?? .unanswered(reason: "no decision on approval \(request.approvalID) within \(timeout.formattedSeconds); "
                + "approve with `glassbox approve \(request.approvalID) --as <approver>` while the call waits")
        }
    }
}

extension JSONValue {
    /// The decision an `approval.granted`/`approval.rejected` event records for `approvalID`, if it is about it.
    static func decision(in event: Event, approvalID: String) -> ApprovalDecision? {
        guard let data = try? JSONValue(parsing: event.data), data["approvalId"]?.string == approvalID else { return nil }
        let by = data["decidedBy"]?.string ?? ""
        let comment = data["comment"]?.string ?? ""
        return event.type == "approval.granted" ? .granted(by: by, comment: comment, recorded: true) : .rejected(by: by, comment: comment, recorded: true)
    }
}

extension Duration {
    var formattedSeconds: String {
        let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(seconds / 60)) min" : "\(seconds.formatted()) s"
    }
}

extension Double {
    func formatted() -> String { self == rounded() ? String(Int(self)) : String(format: "%.1f", self) }
}
