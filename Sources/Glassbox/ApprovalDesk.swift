public import EventLog
import Foundation
public import Security
public import Tools

/// Where people decide on waiting tool calls, from `glassbox approve|reject`, the API or the
/// dashboard: finds the request in the log, checks the decider (the approver role it names, never
/// the caller), and appends `approval.granted` or `approval.rejected` on the call's stream. The
/// waiting call (the guard, in whichever process) reads the decision from the log and goes on.
public struct ApprovalDesk: Sendable {
    let log: any EventStore
    let policy: Policy

    public init(log: any EventStore, policy: Policy) {
        self.log = log
        self.policy = policy
    }

    /// One approval request and where it stands.
    public struct Approval: Sendable {
        public var approvalID: String
        public var callID: String
        public var tool: String
        public var runID: String
        public var reason: String
        public var approver: String
        public var input: JSONValue
        public var caller: String
        public var requestedAt: Int64
        public var requestedSeq: Int64
        public var stream: String
        /// `pending`, `granted`, `rejected`, or `closed` (the call ended without a decision, e.g. the run stopped).
        public var status: String
        public var decidedBy: String?
        public var comment: String

        public var json: JSONValue {
            ["approvalId": .string(approvalID), "callId": .string(callID), "tool": .string(tool), "runId": .string(runID),
             "reason": .string(reason), "approver": .string(approver), "input": input, "caller": .string(caller),
             "requestedAt": .integer(requestedAt), "requestedSeq": .integer(requestedSeq), "status": .string(status),
             "decidedBy": decidedBy.map(JSONValue.string) ?? .null, "comment": .string(comment)]
        }
    }

    /// Why a decision was not recorded.
    public enum Refusal: Error, Sendable, CustomStringConvertible {
        case unknown(String)
        case alreadyDecided(String)
        case notAllowed(String)
        case badInput(String)

        public var description: String {
            switch self {
            case .unknown(let message), .alreadyDecided(let message), .notAllowed(let message), .badInput(let message): message
            }
        }
    }

    /// Approval requests, newest first, with their state.
    public func list(status: String? = nil, limit: Int = 200) async throws -> [Approval] {
        let requests = try await log.events(EventQuery(filter: EventFilter(types: ["approval.requested"]), limit: limit, newestFirst: true))
        var result: [Approval] = []
        for request in requests {
            let approval = try await state(of: request)
            if status == nil || approval.status == status { result.append(approval) }
        }
        return result
    }

    /// The request with this id and its state.
    public func approval(_ id: String) async throws -> Approval? {
        guard let request = try await find(id) else { return nil }
        return try await state(of: request)
    }

    /// Records `decider`'s decision; returns the `seq` it landed at.
    public func decide(_ id: String, grant: Bool, by decider: String, comment: String = "") async throws -> Int64 {
        do {
            _ = try Principal(parsing: decider)
        } catch {
            throw Refusal.badInput("the decider must be a principal id like user:dana, not `\(decider)`")
        }
        guard let request = try await find(id) else {
            throw Refusal.unknown("no approval \(id) is in the log; list pending ones with `glassbox log tail --type approval.requested` or GET /api/v1/approvals?status=pending")
        }
        let approval = try await state(of: request)
        switch approval.status {
        case "granted", "rejected":
            throw Refusal.alreadyDecided("approval \(id) was already decided (\(approval.status) by \(approval.decidedBy ?? "someone"))")
        case "closed":
            throw Refusal.alreadyDecided("the call of approval \(id) already ended; nothing waits for this decision")
        default:
            break
        }
        // Granting needs the approver, never the caller. Rejecting needs the approver too, or the caller withdrawing
        // their own request.
        if grant || decider != approval.caller,
           let refusal = ApproverCheck.refusal(decider: decider, approver: approval.approver, callerID: approval.caller, policy: policy) {
            throw Refusal.notAllowed(grant ? refusal : refusal.replacingOccurrences(of: "approve", with: "decide on"))
        }
        let body: JSONValue = ["approvalId": .string(id), "callId": .string(approval.callID), "decidedBy": .string(decider), "comment": .string(comment)]
        let draft = try EventDraft(type: grant ? "approval.granted" : "approval.rejected", json: body.jsonText, actor: decider, trace: request.traceContext)
        return try await log.append([draft], to: request.stream, expectedVersion: .any).lastSeq
    }

    private func find(_ id: String) async throws -> Event? {
        var before: Int64? = nil
        while true {
            let page = try await log.events(EventQuery(filter: EventFilter(types: ["approval.requested"]), through: before.map { $0 - 1 },
                                                       limit: 1_000, newestFirst: true))
            if let match = page.first(where: { $0.data.contains("\"approvalId\":\"\(id)\"") }) { return match }
            guard page.count == 1_000, let last = page.last else { return nil }
            before = last.seq
        }
    }

    private func state(of request: Event) async throws -> Approval {
        let data = (try? JSONValue(parsing: request.data)) ?? .object([:])
        let callID = data["callId"]?.string ?? ""
        let id = data["approvalId"]?.string ?? ""
        let related = try await log.events(EventQuery(filter: EventFilter(stream: request.stream), limit: 10_000))
        var approval = Approval(approvalID: id, callID: callID, tool: data["tool"]?.string ?? "", runID: data["runId"]?.string ?? "",
                                reason: data["reason"]?.string ?? "", approver: data["approver"]?.string ?? "", input: data["input"] ?? .object([:]),
                                caller: "", requestedAt: request.time, requestedSeq: request.seq, stream: request.stream, status: "pending",
                                decidedBy: nil, comment: "")
        for event in related where event.seq > request.seq && ["run.completed", "run.failed", "run.cancelled"].contains(event.type) {
            approval.status = "closed"
        }
        for event in related where event.data.contains(callID) {
            guard let payload = try? JSONValue(parsing: event.data), payload["callId"]?.string == callID else { continue }
            if event.type == "tool.requested" {
                approval.caller = payload["principal"]?.string ?? ""
            } else if event.type.hasPrefix("approval."), event.type != "approval.requested", payload["approvalId"]?.string == id {
                approval.status = event.type == "approval.granted" ? "granted" : "rejected"
                approval.decidedBy = payload["decidedBy"]?.string
                approval.comment = payload["comment"]?.string ?? ""
            } else if ["tool.denied", "tool.completed", "tool.failed"].contains(event.type), event.seq > request.seq,
                      approval.status != "granted", approval.status != "rejected" {
                approval.status = "closed"
            }
        }
        return approval
    }
}

extension Event {
    var traceContext: TraceContext? {
        guard let traceID, let spanID else { return nil }
        return try? TraceContext(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID)
    }
}
