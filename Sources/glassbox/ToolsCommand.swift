import ArgumentParser
import EventLog
import Foundation
import Glassbox
import Security
import Tools

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "List the tools agents can use, or call one through the same guard agents go through.",
        subcommands: [ToolsListCommand.self, ToolsCallCommand.self]
    )
}

/// Where tools get their policy, databases and workspace: glassbox.yaml, then flags.
struct ToolSetupOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML configuration file with policy, workspace, connections and tools (default: ./glassbox.yaml when it exists).", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("The policy file (overrides `policy:` of the configuration).", valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("The workspace folder (overrides `workspace:`).", valueName: "dir"))
    var workspace: String?

    func platform() throws -> ToolPlatform {
        do {
            var settings = try ServeConfiguration.load(file: config ?? "glassbox.yaml", required: config != nil,
                                                       environment: ProcessInfo.processInfo.environment)
            if let policy { settings.policy = policy }
            if let workspace { settings.workspace = workspace }
            return try ToolPlatform(configuration: settings)
        } catch let error as ConfigurationError {
            throw CommandFailure(message: "configuration: \(error)", code: ExitStatus.invalidInput)
        }
    }
}

struct ToolsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every tool with its risk, rate limit and input.")

    @Flag(help: "Print the tools as JSON, with their input schemas.") var json = false

    func run() async throws {
        let registry = ToolRegistry.builtIn()
        if json {
            let tools: [JSONValue] = registry.tools.map { tool in
                var item: [String: JSONValue] = [
                    "name": .string(tool.name), "description": .string(tool.description), "risk": .string(tool.risk.rawValue),
                    "needs_approval": .bool(tool.needsApproval), "input_schema": tool.inputSchema.document,
                ]
                if let limit = tool.rateLimit {
                    item["rate_limit"] = ["capacity": .integer(Int64(limit.capacity)), "period_seconds": .integer(limit.period.components.seconds)]
                }
                return .object(item)
            }
            Terminal.line(JSONValue.array(tools).jsonText)
            return
        }
        let width = registry.tools.map(\.name.count).max() ?? 10
        for tool in registry.tools {
            let limit = tool.rateLimit.map { "\($0.capacity)/\($0.period.components.seconds)s" } ?? "-"
            let name = tool.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let risk = tool.risk.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
            Terminal.line("\(name)  \(risk) \(limit.padding(toLength: 8, withPad: " ", startingAt: 0)) \(tool.description)")
        }
    }
}

struct ToolsCallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a tool as a principal, through the whole guard: validation, policy, rate limit, guardrails, approval.",
        discussion: """
            Every step is an event in the log (--db). The result is printed as JSON on stdout;
            a refusal names the stage and the rule or guardrail that refused, on stderr.

            Example:
              glassbox tools call sql.query --as user:alice --config glassbox.yaml \\
                --input '{"sql": "SELECT count(*) FROM sales.orders"}'

            EXIT CODES
              0   the tool ran and returned a result
              1   the tool ran and failed (the message says why)
              2   bad input: invalid JSON, an unknown tool, input that does not match
                  the tool's schema, a bad configuration or policy file
              3   denied or blocked: by the policy, a rate limit, a guardrail, or an
                  approval that was refused or not given in time
              4   the log cannot be used
            """
    )

    @Argument(help: "The tool's name, e.g. sql.query (see `glassbox tools list`).") var name: String
    @Option(name: .customLong("as"), help: ArgumentHelp("The principal the call is made for, e.g. user:alice.", valueName: "principal"))
    var principal: String
    @Option(help: ArgumentHelp("An agent acting for the principal, e.g. agent:analyst: the call gets the intersection of both.", valueName: "agent"))
    var agent: String?
    @Option(help: ArgumentHelp("The input as JSON, @FILE to read it from a file, or - for stdin (default {}).", valueName: "json"))
    var input: String = "{}"
    @Option(name: .customLong("approval-timeout"), help: ArgumentHelp(
        "Seconds to wait for a human decision when the call needs approval (default 0: refuse at once). Approve from another terminal with `glassbox approve ID --as PRINCIPAL`.",
        valueName: "seconds"))
    var approvalTimeout: Double = 0
    @OptionGroup var setup: ToolSetupOptions
    @OptionGroup var location: LogLocation
    @OptionGroup var durability: DurabilityOption
    @Flag(help: "Print the whole result (status, rule, output) as JSON, also for refusals.") var json = false

    func run() async throws {
        let inputValue = try readInput()
        let platform = try setup.platform()
        for warning in platform.warnings { Terminal.note("glassbox: note: \(warning)") }
        let caller: Principal
        let agentPrincipal: Principal?
        do {
            caller = try platform.policy.principal(principal) ?? Principal(parsing: principal)
            agentPrincipal = try agent.map { try platform.policy.principal($0) ?? Principal(parsing: $0) }
        } catch {
            throw CommandFailure(message: "\(error)", code: ExitStatus.invalidInput)
        }
        guard approvalTimeout >= 0 else { throw CommandFailure(message: "--approval-timeout must be 0 or more seconds", code: ExitStatus.invalidInput) }
        let log = try location.openForWriting(durability: try durability.resolved())
        defer { try? log.close() }
        let approvals = approvalTimeout > 0
            ? ApprovalGates.log(log, timeout: .milliseconds(Int(approvalTimeout * 1_000))) : ApprovalGates.refuse
        let guardian = try await platform.makeGuard(log: log, approvals: approvals, loadedBy: caller.id)
        let waiting = approvalTimeout > 0 ? Task {
            // Tell the person at the terminal what to run while the call waits.
            var shown = Set<String>()
            for try await event in log.subscribe(after: try await log.lastSeq(), filter: EventFilter(types: ["approval.requested"])) {
                guard let data = try? JSONValue(parsing: event.data), let id = data["approvalId"]?.string, shown.insert(id).inserted else { continue }
                Terminal.note("glassbox: waiting up to \(Int(approvalTimeout)) s for approval by \(data["approver"]?.string ?? "an approver"): "
                    + "glassbox approve \(id) --as PRINCIPAL   (or glassbox reject \(id) --as PRINCIPAL)")
            }
        } : nil
        let result = await guardian.call(name, input: inputValue, caller: caller, agent: agentPrincipal)
        waiting?.cancel()
        try report(result)
    }

    private func readInput() throws -> JSONValue {
        var text = input
        if text == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure(message: "--input @\(path): cannot read the file", code: ExitStatus.invalidInput)
            }
            text = String(decoding: data, as: UTF8.self)
        }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw CommandFailure(message: "--input: \(error); pass a JSON object, e.g. --input '{\"sql\": \"SELECT 1\"}'", code: ExitStatus.invalidInput)
        }
    }

    private func report(_ result: ToolCallResult) throws {
        if json {
            Terminal.line(result.json.jsonText)
        } else if result.status == .completed {
            Terminal.line((result.output ?? .null).jsonText)
            if result.truncated { Terminal.note("glassbox: note: the output was cut to the configured limit (truncated: true)") }
        }
        switch result.status {
        case .completed:
            return
        case .failed:
            let code = result.errorType == "log_unavailable" ? ExitStatus.unusableLog : Int32(1)
            throw CommandFailure(message: "\(result.tool) failed (\(result.errorType ?? "error")): \(result.message ?? "")", code: code)
        case .denied:
            let stage = result.stage ?? "guard"
            let code = stage == "validation" ? ExitStatus.invalidInput : ExitStatus.conflict
            var message = "\(result.tool) \(stage == "guardrail" ? "blocked by guardrail" : "denied at \(stage)") (rule \(result.rule ?? "?")): \(result.message ?? "")"
            if let approval = result.approvalID, stage == "approval" { message += " [approval \(approval)]" }
            throw CommandFailure(message: message + " [call \(result.callID)]", code: code)
        }
    }
}
