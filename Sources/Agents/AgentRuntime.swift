public import EventLog
import Foundation
import GlassboxProto
public import Logging
import Security
import Synchronization
public import Tools

/// Starts, stops and resumes agent runs in this process. Every run's state is in the log; this
/// actor only holds the tasks doing the work.
///
/// ```swift
/// let runtime = AgentRuntime(log: log, toolGuard: guard, catalog: .builtIn, models: ModelSettings())
/// await runtime.watchStopRequests()
/// let run = try await runtime.start(agent: "analyst", task: "How many customers per region?", caller: "user:alice")
/// let outcome = await runtime.outcome(of: run.runID)
/// ```
///
/// A stop request is an event (`run.stop_requested`), whoever appends it (the API, `glassbox stop`
/// from another process, the dashboard); the runtime watching the log cancels the run's task, which
/// cancels the model request or the database query in flight, and the run records `run.cancelled`.
public actor AgentRuntime {
    public let log: any EventStore
    public let toolGuard: ToolCallGuard
    public let catalog: AgentCatalog
    public let models: ModelSettings
    /// `serve` or `cli`: recorded in `run.started`, so `glassbox serve` resumes only its own runs after a crash.
    public let runner: String
    let thoughtInterval: Duration
    let logger: Logger
    private var running: [String: RunningRun] = [:]
    private var finished: [String: RunRecord.Outcome] = [:]
    private var watcher: Task<Void, Never>?

    private struct RunningRun {
        let task: Task<RunRecord.Outcome?, Never>
        let cause: CauseBox
    }

    /// The run ids and trace of a run that started.
    public struct StartedRun: Sendable {
        public let runID: String
        public let traceID: String
        /// The `seq` of `run.started`: follow the run's stream from just before it.
        public let seq: Int64
    }

    public init(log: any EventStore, toolGuard: ToolCallGuard, catalog: AgentCatalog, models: ModelSettings, runner: String = "serve",
                thoughtInterval: Duration = .milliseconds(250), logger: Logger = Logger(label: "glassbox.agents")) {
        self.log = log
        self.toolGuard = toolGuard
        self.catalog = catalog
        self.models = models
        self.runner = runner
        self.thoughtInterval = thoughtInterval
        self.logger = logger
    }

    // MARK: Starting

    /// Starts `agent` on `task` for `caller` and returns once `run.started` is in the log. A run whose
    /// model cannot be called starts and fails at once with `run.failed` (`no_model`), naming what to set.
    public func start(agent name: String, task: String, caller callerID: String, parent: TraceContext? = nil,
                      labels: [String: String] = [:], model overrideModel: String? = nil) async throws -> StartedRun {
        let definition: AgentDefinition
        do {
            definition = try catalog.definition(name)
        } catch {
            throw AgentRunError.unknownAgent(error.message)
        }
        let caller: Principal
        do {
            caller = try Principal(parsing: callerID)
        } catch {
            throw AgentRunError.badInput("the caller must be a principal id like user:alice, not `\(callerID)`")
        }
        let text = task.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw AgentRunError.badInput("the task is empty; say what the agent should do") }
        guard text.utf8.count <= 100_000 else { throw AgentRunError.badInput("the task is \(text.utf8.count) bytes; keep it under 100,000") }

        var settings = models
        if let overrideModel { settings.model = overrideModel }
        let resolved: (provider: any LLMProvider, model: String)?
        var problem: NoModelConfigured? = nil
        do { resolved = try settings.resolve(for: definition) } catch { resolved = nil; problem = error }

        let runID = UUID.version7().uuidString.lowercased()
        let trace = parent?.newChild() ?? TraceContext.newTrace()
        var payload = Glassbox_V1_RunStarted()
        payload.runID = runID
        payload.agent = definition.name
        payload.agentVersion = definition.version
        payload.task = SecretRedactor.redactString(text)
        payload.caller = caller.id
        payload.provider = resolved?.provider.name ?? ""
        payload.model = resolved?.model ?? ""
        payload.labels = labels
        payload.instructions = definition.instructions
        payload.tools = definition.tools
        payload.runner = runner
        var budget = Glassbox_V1_RunBudget()
        budget.maxSteps = UInt32(definition.budget.maxSteps ?? 0)
        budget.maxTokens = UInt32(definition.budget.maxTokens ?? 0)
        budget.maxCostUsd = definition.budget.maxCostUSD ?? 0
        budget.maxWallSeconds = UInt32(definition.budget.maxWallSeconds ?? 0)
        payload.budget = budget
        let actor = "\(definition.principalID)@\(caller.id)"
        let draft = try EventDraft(payload, actor: actor, trace: trace)
        var drafts = [draft]
        if let problem {
            var failed = Glassbox_V1_RunFailed()
            failed.runID = runID
            failed.errorType = "no_model"
            failed.message = problem.description
            drafts.append(try EventDraft(failed, actor: actor, trace: trace))
        }
        let result = try await log.append(drafts, to: "run/\(runID)", expectedVersion: .noStream)
        if problem != nil {
            finished[runID] = .failed(errorType: "no_model", message: problem!.description)
        } else if let resolved {
            var record = RunRecord()
            record.apply(draft, at: result.positions[0], stream: "run/\(runID)")
            launch(record, definition: definition, provider: resolved.provider, model: resolved.model)
        }
        return StartedRun(runID: runID, traceID: trace.traceID, seq: result.positions[0].seq)
    }

    private func launch(_ record: RunRecord, definition: AgentDefinition, provider: any LLMProvider, model: String) {
        let cause = CauseBox()
        let specs = definition.tools.compactMap { name in toolGuard.registry[name] }.map { tool in
            ToolSpec(name: tool.name, description: tool.description, parameters: tool.inputSchema.document)
        }
        var runner = AgentRunner(
            log: log, toolGuard: toolGuard, provider: provider, model: model, prices: models.prices, retry: models.retry,
            toolSpecs: specs, caller: (try? Principal(parsing: record.caller)) ?? Principal(id: record.caller, kind: .user),
            agent: Principal(id: definition.principalID, kind: .agent), temperature: definition.temperature, stream: models.stream,
            thoughtInterval: thoughtInterval, cause: { cause.value }, record: record)
        let runID = record.runID
        let task = Task<RunRecord.Outcome?, Never> { await runner.drive() }
        running[runID] = RunningRun(task: task, cause: cause)
        // The wall-time budget: counted from run.started, so a resumed run has only what is left.
        if let seconds = definition.budget.maxWallSeconds {
            let left = seconds - (Date().timeIntervalSince1970 - Double(record.startedAt) / 1e9)
            Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(Int(max(0, left) * 1000)))
                await self?.stopForBudget(runID, seconds: seconds)
            }
        }
        Task { [weak self] in
            let outcome = await task.value
            await self?.ended(runID, outcome: outcome)
        }
    }

    private func stopForBudget(_ runID: String, seconds: Double) {
        guard let run = running[runID] else { return }
        run.cause.set(.wallBudget("the run took longer than its budget of \(Int(seconds)) s; raise budget.max_wall_seconds of the agent"))
        run.task.cancel()
    }

    private func ended(_ runID: String, outcome: RunRecord.Outcome?) {
        running[runID] = nil
        if let outcome { finished[runID] = outcome }
    }

    // MARK: Following and stopping

    /// Waits for the run to end and returns how; nil when it is not running here and has no recorded end
    /// this process knows (read the log instead), or when the process shut it down unfinished.
    public func outcome(of runID: String) async -> RunRecord.Outcome? {
        if let run = running[runID] { return await run.task.value }
        return finished[runID]
    }

    /// The ids of runs working in this process.
    public var runningIDs: [String] { running.keys.sorted() }

    /// Appends `run.stop_requested`; the run (here or in another process watching the log) stops within a second.
    @discardableResult
    public func requestStop(_ runID: String, by principal: String, reason: String = "") async throws -> Int64 {
        var payload = Glassbox_V1_RunStopRequested()
        payload.runID = runID
        payload.requestedBy = principal
        payload.reason = reason
        let result = try await log.append([try EventDraft(payload, actor: principal)], to: "run/\(runID)", expectedVersion: .any)
        cancelForStop(runID, by: principal, reason: reason)
        return result.lastSeq
    }

    private func cancelForStop(_ runID: String, by: String, reason: String) {
        guard let run = running[runID] else { return }
        run.cause.set(.stopRequested(by: by, reason: reason))
        run.task.cancel()
    }

    /// Watches the log for `run.stop_requested` (appended by anyone, in any process) and stops the run
    /// if it works here.
    public func watchStopRequests() async {
        guard watcher == nil else { return }
        let head = (try? await log.lastSeq()) ?? 0
        let log = self.log
        watcher = Task { [weak self] in
            do {
                for try await event in log.subscribe(after: head, filter: EventFilter(stream: "run/*", types: ["run.stop_requested"])) {
                    guard let data = try? JSONValue(parsing: event.data), let runID = data["runId"]?.string else { continue }
                    await self?.cancelForStop(runID, by: data["requestedBy"]?.string ?? event.actor, reason: data["reason"]?.string ?? "")
                }
            } catch {}
        }
    }

    /// Cancels every run without recording an end (they are resumed at the next start) and stops watching.
    public func shutdown() async {
        // Waited for, so that the log can be closed right after without a read still in flight.
        let watching = watcher
        watching?.cancel()
        watcher = nil
        await watching?.value
        for run in running.values {
            run.cause.set(.shutdown)
            run.task.cancel()
        }
        for run in running.values { _ = await run.task.value }
    }

    // MARK: Resuming

    /// Continues a run the log shows unfinished, without repeating a model or tool call that had ended.
    public func resume(_ runID: String, reason: String = "resumed after a restart") async throws {
        guard running[runID] == nil else { throw AgentRunError.conflict("run \(runID) is already running here") }
        let record = try await Self.record(of: runID, in: log)
        guard record.started else { throw AgentRunError.unknownRun(runID) }
        guard !record.outcome.isFinished else { throw AgentRunError.conflict("run \(runID) has already ended; there is nothing to resume") }
        let definition = (try? catalog.definition(record.agent)) ?? AgentDefinition(name: record.agent, instructions: record.instructions, tools: record.tools)
        var payload = Glassbox_V1_RunResumed()
        payload.runID = runID
        payload.afterSeq = record.lastSeq
        payload.reason = reason
        let completed = record.completedCalls
        payload.completedLlmCalls = UInt32(completed.model)
        payload.completedToolCalls = UInt32(completed.tool)
        try await log.append([try EventDraft(payload, actor: "\(definition.principalID)@\(record.caller)", trace: record.trace)],
                             to: "run/\(runID)", expectedVersion: .any)
        var settings = models
        settings.model = record.model.isEmpty ? settings.model : record.model
        if !record.provider.isEmpty { settings.provider = record.provider }
        do {
            let resolved = try settings.resolve(for: definition)
            launch(record, definition: definition.resumable(from: record), provider: resolved.provider, model: resolved.model)
        } catch {
            var failed = Glassbox_V1_RunFailed()
            failed.runID = runID
            failed.errorType = "no_model"
            failed.message = error.description
            failed.steps = UInt32(record.steps)
            try await log.append([try EventDraft(failed, actor: "\(definition.principalID)@\(record.caller)", trace: record.trace)],
                                 to: "run/\(runID)", expectedVersion: .any)
        }
    }

    /// Resumes every unfinished run started by this kind of runner (`serve` resumes only its own); returns their ids.
    @discardableResult
    public func resumeUnfinished() async throws -> [String] {
        var started: [String: String] = [:], ended = Set<String>()
        var after: Int64 = 0
        while true {
            let page = try await log.events(EventQuery(filter: EventFilter(stream: "run/*", types: ["run.started", "run.completed", "run.failed", "run.cancelled"]),
                                                       after: after, limit: 5_000))
            for event in page {
                let runID = String(event.stream.dropFirst(4))
                if event.type == "run.started" {
                    if let data = try? JSONValue(parsing: event.data), data["runner"]?.string == runner { started[runID] = runID }
                } else {
                    ended.insert(runID)
                }
            }
            guard let last = page.last, page.count == 5_000 else { break }
            after = last.seq
        }
        var resumed: [String] = []
        for runID in started.keys.sorted() where !ended.contains(runID) && running[runID] == nil {
            do {
                try await resume(runID)
                resumed.append(runID)
            } catch {
                logger.warning("could not resume run \(runID): \(error)")
            }
        }
        return resumed
    }

    /// The record of a run, folded from its events.
    public static func record(of runID: String, in log: any EventReader) async throws -> RunRecord {
        var record = RunRecord()
        var after: Int64 = 0
        while true {
            let page = try await log.events(EventQuery(filter: EventFilter(stream: "run/\(runID)"), after: after, limit: 1_000))
            for event in page { record.apply(event) }
            guard let last = page.last, page.count == 1_000 else { break }
            after = last.seq
        }
        return record
    }
}

extension AgentDefinition {
    /// The definition as the run recorded it: its instructions and tools, whatever the file says now.
    func resumable(from record: RunRecord) -> AgentDefinition {
        var copy = self
        copy.instructions = record.instructions
        copy.tools = record.tools
        copy.budget = record.budget
        return copy
    }
}

/// Why a run could not be started, stopped or resumed.
public enum AgentRunError: Error, Sendable, CustomStringConvertible {
    case unknownAgent(String)
    case unknownRun(String)
    case badInput(String)
    case conflict(String)

    public var description: String {
        switch self {
        case .unknownAgent(let message), .badInput(let message), .conflict(let message): message
        case .unknownRun(let id): "there is no run \(id) in the log; list runs with `glassbox projections runs` or GET /api/v1/runs"
        }
    }
}

/// The cause of a cancellation, shared between the runtime (which sets it) and the run (which reads it).
final class CauseBox: Sendable {
    private let cause = Mutex<StopCause?>(nil)
    var value: StopCause? { cause.withLock { $0 } }
    /// The first cause wins: a stop requested before shutdown stays a stop.
    func set(_ new: StopCause) { cause.withLock { if $0 == nil { $0 = new } } }
}
