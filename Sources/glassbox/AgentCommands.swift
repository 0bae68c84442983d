import Agents
import ArgumentParser
import Dispatch
import EventLog
import Foundation
import Glassbox
import GlassboxProto
import Security
import Tools

/// What agent commands need: the configuration (policy, connections, workspace, llm, agents).
struct AgentSetupOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML configuration file (default: ./glassbox.yaml when it exists).", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("The policy file (overrides `policy:` of the configuration).", valueName: "file"))
    var policy: String?

    func platform() throws -> AgentPlatform {
        let environment = ProcessInfo.processInfo.environment
        do {
            var settings = try ServeConfiguration.load(file: config ?? "glassbox.yaml", required: config != nil, environment: environment)
            if let policy { settings.policy = policy }
            return try AgentPlatform(configuration: settings, environment: environment)
        } catch let error as ConfigurationError {
            throw CommandFailure(message: "configuration: \(error)", code: ExitStatus.invalidInput)
        }
    }
}

/// `glassbox ask`: runs an agent in this process and shows its work as it happens.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask an agent: the run streams to the terminal (thoughts, model and tool calls, approvals) as it happens.",
        discussion: """
        The model comes from OPENAI_BASE_URL/OPENAI_API_KEY (any OpenAI-compatible server: OpenAI, Ollama, vLLM, \
        llama.cpp, LM Studio, LiteLLM), ANTHROPIC_API_KEY, or `llm:` in glassbox.yaml. Ctrl-C stops the run \
        (run.stop_requested, then run.cancelled). A call that needs approval waits; approve it from another shell \
        with `glassbox approve ID --as PRINCIPAL`.
        Exit codes: 0 answered, 1 the run failed, 2 bad input, 4 unusable log, 130 stopped.
        """)

    @Argument(help: "The question or task.") var question: String
    @Option(help: "The agent (see `glassbox agents list`).") var agent = "analyst"
    @Option(name: .customLong("as"), help: ArgumentHelp("Whose rights the agent acts with (default: $GLASSBOX_CALLER, else user:$USER).", valueName: "principal"))
    var caller: String?
    @Option(help: "The model (overrides llm.model and the agent's own).") var model: String?
    @Flag(help: "Print the run's events as JSON lines instead of text.") var json = false
    @OptionGroup var setup: AgentSetupOptions
    @OptionGroup var location: LogLocation
    @OptionGroup var durability: DurabilityOption

    func run() async throws {
        let caller = self.caller ?? Self.defaultCaller
        try await InProcessRun(setup: setup, location: location, durability: durability, json: json, stopAs: caller)
            .drive(loadedBy: "cli:glassbox-ask") { runtime in
                let run = try await runtime.start(agent: agent, task: question, caller: caller, model: model)
                return (run.seq - 1, run.runID)
            }
    }

    static var defaultCaller: String {
        let environment = ProcessInfo.processInfo.environment
        if let caller = environment["GLASSBOX_CALLER"], !caller.isEmpty { return caller }
        return "user:" + (environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "local")
    }
}

/// A run driven by this process (`ask`, `resume`): the log, the runtime, the run followed to its end.
struct InProcessRun {
    let setup: AgentSetupOptions
    let location: LogLocation
    let durability: DurabilityOption
    let json: Bool
    let stopAs: String

    /// `begin` starts or resumes the run and returns the `seq` to follow from and the run; exits with the run's status.
    func drive(loadedBy: String, begin: (AgentRuntime) async throws -> (from: Int64, runID: String)) async throws {
        let platform = try setup.platform()
        let log = try location.openForWriting(durability: try durability.resolved())
        defer { try? log.close() }
        let runtime = try await platform.makeRuntime(log: log, runner: "cli", loadedBy: loadedBy)
        await runtime.watchStopRequests()
        let from: Int64, id: String
        do {
            (from, id) = try await begin(runtime)
        } catch let error as AgentRunError {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
        let code = await RunFollower(log: log, runID: id, json: json).follow(from: from, runtime: runtime, stopAs: stopAs)
        await runtime.shutdown()
        if code != 0 { throw ExitCode(code) }
    }
}

/// Prints a run's events as they arrive until the run ends; Ctrl-C asks it to stop.
struct RunFollower {
    let log: SQLiteEventLog
    let runID: String
    let json: Bool

    /// Returns the exit status: 0 completed, 1 failed, 130 cancelled.
    func follow(from seq: Int64, runtime: AgentRuntime?, stopAs principal: String) async -> Int32 {
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT)
        let runID = self.runID, log = self.log
        interrupt.setEventHandler {
            Terminal.note("\nstopping run \(runID) …")
            Task {
                if let runtime {
                    _ = try? await runtime.requestStop(runID, by: principal, reason: "interrupted from the terminal")
                } else {
                    _ = try? await StopRequest.append(runID: runID, by: principal, reason: "interrupted from the terminal", log: log)
                }
            }
        }
        interrupt.resume()
        defer { interrupt.cancel() }
        var printer = RunPrinter(json: json)
        do {
            for try await event in log.subscribe(after: seq, filter: EventFilter(stream: "run/\(runID)")) {
                printer.print(event)
                switch event.type {
                case "run.completed": return 0
                case "run.failed": return 1
                case "run.cancelled": return 130
                default: continue
                }
            }
        } catch {
            Terminal.note("cannot follow the run: \(error)")
        }
        return 1
    }
}

/// Renders run events for a person (or as JSON lines).
struct RunPrinter {
    let json: Bool
    private var inThought = false
    /// The text streamed by the latest model call: the answer, when that call ends the run.
    private var lastAnswer = ""

    init(json: Bool) { self.json = json }

    mutating func print(_ event: Event) {
        if json {
            Terminal.line(event.jsonLine)
            return
        }
        let data = (try? JSONValue(parsing: event.data)) ?? .object([:])
        func s(_ key: String) -> String { data[key]?.string ?? "" }
        func n(_ key: String) -> Int64 { data[key]?.integer ?? 0 }
        if event.type != "agent.thought", inThought {
            FileHandle.standardOutput.write(Data("\n".utf8))
            inThought = false
        }
        switch event.type {
        case "run.started":
            let model = s("provider").isEmpty ? "no model" : "\(s("model")) via \(s("provider"))"
            Terminal.line(Terminal.paint("▶ \(s("agent")) (\(model)) for \(s("caller")) · run \(s("runId"))", "1"))
            if s("provider") == "scripted" { Terminal.line(Terminal.paint("  scripted replies: no model is called", "33")) }
        case "run.resumed":
            Terminal.line(Terminal.paint("↻ resumed (\(n("completedLlmCalls")) model and \(n("completedToolCalls")) tool calls already done)", "36"))
        case "agent.thought":
            if !inThought { FileHandle.standardOutput.write(Data(Terminal.paint("  💭 ", "2").utf8)) }
            lastAnswer += s("text")
            FileHandle.standardOutput.write(Data(Terminal.paint(s("text").replacingOccurrences(of: "\n", with: "\n     "), "2").utf8))
            inThought = true
        case "llm.requested":
            lastAnswer = ""
            if n("attempt") > 1 { Terminal.line(Terminal.paint("  ↻ model call, attempt \(n("attempt"))", "33")) }
        case "llm.responded":
            if !s("errorType").isEmpty {
                Terminal.line(Terminal.paint("  ! model: \(s("errorType")): \(s("errorMessage"))", "31"))
            } else {
                let cost = (data["costUsd"]?.double ?? 0) > 0 ? String(format: ", $%.4f", data["costUsd"]?.double ?? 0) : ""
                Terminal.line(Terminal.paint("  · \(n("inputTokens"))+\(n("outputTokens")) tokens, \(Format.duration(milliseconds: n("latencyMs")))\(cost)", "2"))
            }
        case "tool.requested":
            Terminal.line("  → \(s("tool")) \((data["input"] ?? .null).jsonText.prefix(200))")
        case "tool.denied":
            Terminal.line(Terminal.paint("  ✗ denied at \(s("stage")) by \(s("rule")): \(s("reason"))", "31"))
        case "guardrail.blocked":
            Terminal.line(Terminal.paint("  ⛔ guardrail \(s("guardrail")): \(s("reason"))", "31"))
        case "approval.requested":
            Terminal.line(Terminal.paint("  ⏸ waiting for approval by \(s("approver")): \(s("reason"))", "33"))
            Terminal.line("    approve: glassbox approve \(s("approvalId")) --as <principal>   reject: glassbox reject \(s("approvalId")) --as <principal>")
        case "approval.granted":
            Terminal.line(Terminal.paint("  ✓ approved by \(s("decidedBy"))", "32"))
        case "approval.rejected":
            Terminal.line(Terminal.paint("  ✗ rejected by \(s("decidedBy"))\(s("comment").isEmpty ? "" : ": " + s("comment"))", "31"))
        case "tool.completed":
            let rows = n("rows") > 0 ? "\(n("rows")) rows, " : ""
            Terminal.line(Terminal.paint("  ✓ \(s("tool")) \(rows)\(Format.duration(milliseconds: n("durationMs")))", "32"))
        case "tool.failed":
            Terminal.line(Terminal.paint("  ✗ \(s("tool")) failed (\(s("errorType"))): \(s("message"))", "31"))
        case "run.stop_requested":
            Terminal.line(Terminal.paint("■ stop requested by \(s("requestedBy"))", "33"))
        case "run.completed":
            // An answer that streamed as the last thought is not printed twice.
            if lastAnswer.trimmingCharacters(in: .whitespacesAndNewlines) != s("output").trimmingCharacters(in: .whitespacesAndNewlines) {
                Terminal.line("")
                Terminal.line(s("output"))
            }
            Terminal.line(Terminal.paint("✓ done in \(n("steps")) steps", "32"))
        case "run.failed":
            Terminal.line(Terminal.paint("✗ run failed (\(s("errorType"))): \(s("message"))", "31"))
        case "run.cancelled":
            Terminal.line(Terminal.paint("■ stopped\(s("requestedBy").isEmpty ? "" : " by " + s("requestedBy"))", "33"))
        default:
            break
        }
    }
}

enum StopRequest {
    /// Appends `run.stop_requested` for a run that exists and has not ended.
    static func append(runID: String, by principal: String, reason: String, log: SQLiteEventLog) async throws -> Int64 {
        let record = try await AgentRuntime.record(of: runID, in: log)
        guard record.started else { throw CommandFailure(message: AgentRunError.unknownRun(runID).description, code: ExitStatus.invalidInput) }
        guard !record.outcome.isFinished else {
            throw CommandFailure(message: "run \(runID) has already ended; there is nothing to stop", code: ExitStatus.conflict)
        }
        var payload = Glassbox_V1_RunStopRequested()
        payload.runID = runID
        payload.requestedBy = principal
        payload.reason = reason
        return try await log.append([try EventDraft(payload, actor: principal, trace: record.trace)], to: "run/\(runID)", expectedVersion: .any).lastSeq
    }
}

/// `glassbox stop RUN`: asks a run to stop, wherever it runs.
struct StopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a run: appends run.stop_requested; the process running it cancels it within a second.",
        discussion: "Exit codes: 0 stopped (or stop requested, when --wait 0), 2 unknown run, 3 already ended, 1 not stopped within --wait.")

    @Argument(help: "The run's id.") var runID: String
    @Option(name: .customLong("as"), help: ArgumentHelp("Who asks (default: $GLASSBOX_CALLER, else user:$USER).", valueName: "principal"))
    var principal: String?
    @Option(help: "Why, recorded with the request.") var reason = ""
    @Option(help: "Seconds to wait for run.cancelled.") var wait: Double = 5
    @OptionGroup var location: LogLocation

    func run() async throws {
        let log = try location.openExisting()
        defer { try? log.close() }
        let seq = try await StopRequest.append(runID: runID, by: principal ?? AskCommand.defaultCaller, reason: reason, log: log)
        guard wait > 0 else {
            Terminal.line("stop requested for run \(runID) at seq \(seq)")
            return
        }
        let began = ContinuousClock.now
        let runID = self.runID
        let ended = await withTaskGroup(of: Event?.self) { group in
            group.addTask {
                let ends = log.subscribe(after: seq, filter: EventFilter(stream: "run/\(runID)", types: ["run.cancelled", "run.completed", "run.failed"]))
                return try? await ends.first { _ in true }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let elapsed = began.duration(to: .now)
        guard let ended else {
            Terminal.line("stop requested for run \(runID) at seq \(seq); it has not ended within \(wait) s (is the process running it alive? `glassbox serve` resumes and then stops it)")
            throw ExitCode(1)
        }
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        Terminal.line("run \(runID): \(ended.type) \(ms) ms after the stop request")
    }
}

/// `glassbox resume RUN`: continues a run a crash interrupted, here, following it like `ask`.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted run from the log, without repeating a model or tool call that had ended.",
        discussion: "`glassbox serve` resumes the runs it started by itself; use this for runs `glassbox ask` started. Exit codes as for ask.")

    @Argument(help: "The run's id.") var runID: String
    @Flag(help: "Print the run's events as JSON lines.") var json = false
    @OptionGroup var setup: AgentSetupOptions
    @OptionGroup var location: LogLocation
    @OptionGroup var durability: DurabilityOption

    func run() async throws {
        let runID = self.runID
        try await InProcessRun(setup: setup, location: location, durability: durability, json: json, stopAs: AskCommand.defaultCaller)
            .drive(loadedBy: "cli:glassbox-resume") { runtime in
                let head = try await runtime.log.lastSeq()
                try await runtime.resume(runID, reason: "resumed with `glassbox resume`")
                return (head, runID)
            }
    }
}

/// `glassbox agents list|show`.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents", abstract: "The agents there are, and their definitions.",
        subcommands: [AgentsListCommand.self, AgentsShowCommand.self])
}

struct AgentsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every agent with its tools and the model it would use.")
    @OptionGroup var setup: AgentSetupOptions

    func run() async throws {
        let platform = try setup.platform()
        for name in platform.catalog.names {
            let definition = platform.catalog.definitions[name]!
            Terminal.line(Terminal.paint(name, "1") + "  " + definition.description)
            Terminal.line("  tools: " + definition.tools.joined(separator: ", "))
            let listed = platform.tools.policy.lists(definition.principalID)
            Terminal.line("  rights: " + (listed ? "from the policy's entry for \(definition.principalID)" : "its definition's grants (the policy does not list it)")
                          + "; never more than the caller's")
        }
        Terminal.line("model: " + platform.models.summary)
    }
}

struct AgentsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a built-in agent's YAML, to copy into your agents folder and adapt.")
    @Argument(help: "The agent's name.") var name: String

    func run() async throws {
        guard let yaml = AgentCatalog.builtInYAML(name) else {
            throw CommandFailure(message: "there is no built-in agent named \(name); built-in agents: \(AgentCatalog.builtIn.names.joined(separator: ", "))",
                                 code: ExitStatus.invalidInput)
        }
        Terminal.line(yaml)
    }
}
