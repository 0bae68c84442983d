import ArgumentParser
import EventLog
import Foundation
import Glassbox
import Security
import Tools

/// Shared by `approve` and `reject`: finds the request, checks the decider, appends the decision.
struct ApprovalDecisionOptions: ParsableArguments {
    @Argument(help: "The approval's id (printed by the waiting call, and in approval.requested).") var id: String
    @Option(name: .customLong("as"), help: ArgumentHelp("Who decides, e.g. user:dana; must hold the approver role the request names.", valueName: "principal"))
    var principal: String
    @Option(help: "Why, recorded with the decision.") var comment: String = ""
    @OptionGroup var setup: ToolSetupOptions
    @OptionGroup var location: LogLocation

    func decide(grant: Bool) async throws {
        let log = try location.openExisting()
        defer { try? log.close() }
        guard let request = try await find(in: log) else {
            throw CommandFailure(message: "no approval \(id) is in the log \(location.path); list pending ones with `glassbox log tail --type approval.requested`",
                                 code: ExitStatus.invalidInput)
        }
        let data = try JSONValue(parsing: request.data)
        let decided = try await log.events(EventQuery(filter: EventFilter(stream: request.stream, types: ["approval.granted", "approval.rejected", "tool.denied", "tool.completed", "tool.failed"]),
                                                      after: request.seq, limit: 1_000))
        if let done = decided.first(where: { $0.type.hasPrefix("approval.") && $0.data.contains(id) }) {
            throw CommandFailure(message: "approval \(id) was already decided (\(done.type) by \(done.actor))", code: ExitStatus.conflict)
        }
        if let ended = decided.first(where: { $0.type.hasPrefix("tool.") && $0.data.contains(data["callId"]?.string ?? "-") }) {
            throw CommandFailure(message: "the call of approval \(id) already ended (\(ended.type)); nothing waits for this decision", code: ExitStatus.conflict)
        }
        // The approver must hold the role the request names, and nobody approves their own call.
        let approver = data["approver"]?.string ?? ""
        let platform = try setup.platform()
        let requester = try await log.events(EventQuery(filter: EventFilter(stream: request.stream, types: ["tool.requested"]), limit: 1_000))
            .first { $0.data.contains(data["callId"]?.string ?? "-") }
        let caller = (try? requester.map { try JSONValue(parsing: $0.data) })??["principal"]?.string
        if grant, let refusal = ApproverCheck.refusal(decider: principal, approver: approver, callerID: caller, policy: platform.policy) {
            throw CommandFailure(message: refusal, code: ExitStatus.conflict)
        }
        let body: JSONValue = ["approvalId": .string(id), "callId": data["callId"] ?? "", "decidedBy": .string(principal), "comment": .string(comment)]
        let trace = try request.traceID.flatMap { traceID in
            try request.spanID.map { try TraceContext(traceID: traceID, spanID: $0, parentSpanID: request.parentSpanID) }
        }
        let draft = try EventDraft(type: grant ? "approval.granted" : "approval.rejected", json: body.jsonText, actor: principal, trace: trace)
        let result = try await log.append([draft], to: request.stream, expectedVersion: .any)
        Terminal.line("\(grant ? "approved" : "rejected") \(id) (\(data["tool"]?.string ?? "call")) as \(principal) at seq \(result.lastSeq)")
    }

    private func find(in log: SQLiteEventLog) async throws -> Event? {
        var before: Int64? = nil
        while true {
            let page = try await log.events(EventQuery(filter: EventFilter(types: ["approval.requested"]), through: before.map { $0 - 1 },
                                                       limit: 1_000, newestFirst: true))
            if let match = page.first(where: { $0.data.contains("\"approvalId\":\"\(id)\"") }) { return match }
            guard page.count == 1_000, let last = page.last else { return nil }
            before = last.seq
        }
    }
}

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a waiting tool call (approval.granted); the call then runs.",
        discussion: "Exit codes: 0 recorded, 2 unknown approval or bad input, 3 already decided or the principal may not approve.")
    @OptionGroup var options: ApprovalDecisionOptions
    func run() async throws { try await options.decide(grant: true) }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a waiting tool call (approval.rejected); the call is denied.",
        discussion: "Exit codes: 0 recorded, 2 unknown approval or bad input, 3 already decided.")
    @OptionGroup var options: ApprovalDecisionOptions
    func run() async throws { try await options.decide(grant: false) }
}
