import ArgumentParser
import EventLog
import Foundation
import Security

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Ask the policy engine for a decision, or run a file of expected decisions.",
        discussion: """
            A policy file (see examples/policy.yaml) gives roles their grants, lists
            principals and agents, and adds explicit denies, approval requirements
            and tool rate limits. Nothing is allowed unless a grant allows it; a
            matching deny beats every grant; an agent acting for a caller gets only
            what both may do.
            """,
        subcommands: [PolicyCheckCommand.self, PolicyTestCommand.self]
    )

    static let denied: Int32 = 3
    static let casesFailed: Int32 = 1
}

struct PolicyCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Decide one request: may this principal, through this agent, do this action?",
        discussion: """
              glassbox policy check --policy examples/policy.yaml --principal user:alice \\
                --agent agent:analyst --action sql:read --resource warehouse.sales.orders

            Prints ALLOW or DENY, the deciding rule, the reason, and any approval a
            human must give first. --role and --attribute add to what the policy says
            about the principal; for a principal the policy does not list, they are
            all it has.

            EXIT CODES
              0   allowed (maybe after an approval: see the output)
              2   invalid input: the policy file is missing or invalid, or a bad
                  --principal, --agent, --role, key=value or --time
              3   denied
              64  command-line usage error
            """
    )

    @Option(help: ArgumentHelp("The policy file. Default: policy.yaml in the current directory.", valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("Who asks, e.g. user:alice or service:ci.", valueName: "id")) var principal: String
    @Option(help: ArgumentHelp("The agent acting for the principal, e.g. agent:analyst.", valueName: "id")) var agent: String?
    @Option(help: ArgumentHelp("The action, e.g. sql:read.", valueName: "area:verb")) var action: String
    @Option(help: ArgumentHelp("The resource, e.g. warehouse.sales.orders or workspace:models/orders.sql.", valueName: "name"))
    var resource: String
    @Option(name: .customLong("role"), help: ArgumentHelp("A role the principal has (repeatable).", valueName: "role"))
    var roles: [String] = []
    @Option(name: .customLong("attribute"), help: ArgumentHelp("A principal attribute (repeatable).", valueName: "key=value"))
    var attributes: [String] = []
    @Option(name: .customLong("context"), help: ArgumentHelp("A request context attribute (repeatable).", valueName: "key=value"))
    var context: [String] = []
    @Option(name: .customLong("resource-attribute"), help: ArgumentHelp("A resource attribute (repeatable).", valueName: "key=value"))
    var resourceAttributes: [String] = []
    @Option(help: ArgumentHelp("When the action would happen, ISO 8601 (default: now), e.g. 2026-11-25T10:00:00Z.", valueName: "time"))
    var time: String?
    @Flag(help: "Print the decision as JSON.") var json = false

    func run() async throws {
        let policy = try PolicyFile.load(policy, flag: "--policy")
        for role in roles where !policy.roleNames.contains(role) {
            throw CommandFailure(message: "--role \(role): \(policy.source) defines no such role; its roles are "
                                 + (policy.roleNames.isEmpty ? "none" : policy.roleNames.joined(separator: ", ")),
                                 code: ExitStatus.invalidInput)
        }
        let caller = try PolicyFile.principal(principal, flag: "--principal", roles: roles,
                                              attributes: try PolicyFile.pairs(attributes, flag: "--attribute"))
        let agentPrincipal = try agent.map { try PolicyFile.principal($0, flag: "--agent") }
        if let agentPrincipal, agentPrincipal.kind != .agent {
            throw CommandFailure(message: "--agent \(agentPrincipal.id) is not an agent; agent ids start with `agent:`",
                                 code: ExitStatus.invalidInput)
        }
        var when = Date()
        if let time {
            guard let parsed = AccessRequest.time(iso8601: time) else {
                throw CommandFailure(message: "--time \(time) is not ISO 8601; write e.g. 2026-11-25T10:00:00Z",
                                     code: ExitStatus.invalidInput)
            }
            when = parsed
        }
        for listed in [caller] + (agentPrincipal.map { [$0] } ?? []) where policy.principal(listed.id) == nil && !json {
            Terminal.note("glassbox: note: \(policy.source) does not list \(listed.id); it has only the roles given with --role.")
        }
        let decision = policy.decide(
            caller: caller, agent: agentPrincipal, action: action, resource: resource,
            resourceAttributes: try PolicyFile.pairs(resourceAttributes, flag: "--resource-attribute"),
            context: try PolicyFile.pairs(context, flag: "--context"), time: when)
        if json {
            Terminal.line("""
                {"decision":"\(decision.allowed ? "allow" : "deny")","allowed":\(decision.allowed),\
                "rule":\(JSONText.string(decision.rule)),"reason":\(JSONText.string(decision.reason)),\
                "approvals":\(PolicyFile.json(decision.approvals)),"principal":\(JSONText.string(caller.id)),\
                "agent":\(JSONText.optional(agentPrincipal?.id)),"action":\(JSONText.string(action)),\
                "resource":\(JSONText.string(resource)),"policy":\(PolicyFile.json(policy))}
                """)
        } else {
            let verdict = decision.allowed ? Terminal.paint("ALLOW", "1;32") : Terminal.paint("DENY", "1;31")
            let who = agentPrincipal.map { "\($0.id) for \(caller.id)" } ?? caller.id
            Terminal.line("\(verdict)  \(who): \(action) on \(resource)")
            Terminal.line("  rule      \(decision.rule)")
            Terminal.line("  reason    \(decision.reason)")
            if decision.allowed {
                Terminal.line("  approval  " + (decision.approvals.isEmpty
                    ? "none" : decision.approvals.map(\.description).joined(separator: ", ")))
            }
            Terminal.line("  policy    \(policy.source) (sha256 \(policy.sha256.prefix(12)))")
        }
        if !decision.allowed { throw ExitCode(PolicyCommand.denied) }
    }
}

struct PolicyTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a file of requests with expected decisions against a policy.",
        discussion: """
              glassbox policy test examples/policy-tests.yaml

            Each case names a principal (and maybe an agent), an action and a
            resource, and expects allow or deny, optionally the deciding rule and
            the approver (see examples/policy-tests.yaml). The policy is the file's
            `policy:`, relative to the test file, unless --policy is given.

            EXIT CODES
              0   every case passed
              1   a case failed
              2   invalid input: the test file or the policy is missing or
                  invalid, or a case names a principal the policy does not list
              64  command-line usage error
            """
    )

    @Argument(help: ArgumentHelp("The test file.", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("The policy file, instead of the test file's `policy:`.", valueName: "file"))
    var policy: String?
    @Flag(help: "Print the results as JSON.") var json = false

    func run() async throws {
        let suite: PolicyTestSuite
        do {
            suite = try PolicyTestSuite.load(file: file)
        } catch {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
        guard let path = policy ?? suite.policyPath else {
            throw CommandFailure(message: "\(file) names no `policy:`; add `policy: policy.yaml` to it or pass --policy FILE",
                                 code: ExitStatus.invalidInput)
        }
        let policy = try PolicyFile.load(path, flag: nil)
        let outcomes: [PolicyTestSuite.Outcome]
        do {
            outcomes = try suite.run(against: policy)
        } catch {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
        let failed = outcomes.filter { !$0.passed }
        if json {
            let cases = outcomes.map { outcome in
                """
                {"name":\(JSONText.string(outcome.testCase.name)),"line":\(outcome.testCase.line.map(String.init) ?? "null"),\
                "expected":"\(outcome.testCase.expectAllow ? "allow" : "deny")","actual":"\(outcome.decision.allowed ? "allow" : "deny")",\
                "rule":\(JSONText.string(outcome.decision.rule)),"reason":\(JSONText.string(outcome.decision.reason)),\
                "approvals":\(PolicyFile.json(outcome.decision.approvals)),"passed":\(outcome.passed),\
                "failures":[\(outcome.failures.map(JSONText.string).joined(separator: ","))]}
                """
            }
            Terminal.line("""
                {"file":\(JSONText.string(file)),"policy":\(PolicyFile.json(policy)),"passed":\(outcomes.count - failed.count),\
                "failed":\(failed.count),"cases":[\(cases.joined(separator: ","))]}
                """)
        } else {
            Terminal.line(Format.table(
                columns: ["CASE", "EXPECTED", "ACTUAL", "RULE", "RESULT"],
                rows: outcomes.map { outcome in
                    [outcome.testCase.name, outcome.testCase.expectAllow ? "allow" : "deny", outcome.decision.allowed ? "allow" : "deny",
                     outcome.decision.rule, outcome.passed ? Terminal.paint("PASS", "32") : Terminal.paint("FAIL", "1;31")]
                }, maxWidth: 72))
            for outcome in failed {
                let place = outcome.testCase.line.map { "\(file):\($0)" } ?? file
                Terminal.line("")
                Terminal.line("FAIL \(outcome.testCase.name) (\(place))")
                for failure in outcome.failures { Terminal.line("  \(failure)") }
            }
            Terminal.line("")
            Terminal.line("\(outcomes.count) cases: \(outcomes.count - failed.count) passed, \(failed.count) failed "
                          + "(policy \(policy.source), sha256 \(policy.sha256.prefix(12)))")
        }
        if !failed.isEmpty { throw ExitCode(PolicyCommand.casesFailed) }
    }
}

/// Loading a policy and reading the command-line forms of principals and attributes.
enum PolicyFile {
    /// Loads `path`, or ./policy.yaml when nil; a missing default names `flag`.
    static func load(_ path: String?, flag: String?) throws -> Policy {
        let chosen = path ?? "policy.yaml"
        if path == nil, let flag, !FileManager.default.fileExists(atPath: chosen) {
            throw CommandFailure(message: "no policy.yaml in the current directory; pass \(flag) FILE", code: ExitStatus.invalidInput)
        }
        do {
            return try Policy.load(file: chosen)
        } catch {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
    }

    static func principal(_ id: String, flag: String, roles: [String] = [], attributes: [String: String] = [:]) throws -> Principal {
        do {
            return try Principal(parsing: id, roles: roles, attributes: attributes)
        } catch {
            throw CommandFailure(message: "\(flag): \(error.description)", code: ExitStatus.invalidInput)
        }
    }

    /// `key=value` options as a dictionary; a repeated key keeps its last value.
    static func pairs(_ options: [String], flag: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for option in options {
            guard let equals = option.firstIndex(of: "="), equals != option.startIndex else {
                throw CommandFailure(message: "\(flag) expects key=value, e.g. \(flag) team=data, not `\(option)`",
                                     code: ExitStatus.invalidInput)
            }
            result[String(option[..<equals])] = String(option[option.index(after: equals)...])
        }
        return result
    }

    static func json(_ approvals: [ApprovalRequirement]) -> String {
        "[" + approvals.map { #"{"rule":\#(JSONText.string($0.rule)),"approver":\#(JSONText.string($0.approver))}"# }
            .joined(separator: ",") + "]"
    }

    static func json(_ policy: Policy) -> String {
        #"{"source":\#(JSONText.string(policy.source)),"sha256":"\#(policy.sha256)","roles":\#(policy.roleCount),"rules":\#(policy.ruleCount)}"#
    }
}
