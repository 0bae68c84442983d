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
        let desk = ApprovalDesk(log: log, policy: try setup.platform().policy)
        do {
            let seq = try await desk.decide(id, grant: grant, by: principal, comment: comment)
            let tool = try await desk.approval(id)?.tool ?? "call"
            Terminal.line("\(grant ? "approved" : "rejected") \(id) (\(tool)) as \(principal) at seq \(seq)")
        } catch let refusal as ApprovalDesk.Refusal {
            switch refusal {
            case .unknown, .badInput: throw CommandFailure(message: refusal.description, code: ExitStatus.invalidInput)
            case .alreadyDecided, .notAllowed: throw CommandFailure(message: refusal.description, code: ExitStatus.conflict)
            }
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
