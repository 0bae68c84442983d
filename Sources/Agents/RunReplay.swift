public import EventLog
public import Foundation
public import Security
public import Tools

/// Re-executes a recorded run against its recorded model answers and tool results: no model is
/// called and no tool runs. At every point where the loop decides something, the decision the
/// loop makes now is compared with the one in the log:
/// - before each model call, the conversation it would send (its SHA-256) against `llm.requested`;
/// - each tool call it would make (tool and input) against `tool.requested`;
/// - each authorization, with the policy given, against `tool.authorized`/`tool.denied`;
/// - the end (the answer, or a budget failure) against `run.completed`/`run.failed`.
///
/// A recorded result that was altered changes the next conversation, so the replay reports a
/// mismatch at the next model call. With a proposed policy, the changed authorizations are the
/// "what if" of that run.
public struct RunReplay: Sendable {
    public let registry: ToolRegistry
    public let policy: Policy
    public let environment: ToolEnvironment

    public init(registry: ToolRegistry, policy: Policy, environment: ToolEnvironment) {
        self.registry = registry
        self.policy = policy
        self.environment = environment
    }

    /// What a replay found.
    public struct Report: Sendable {
        public var runID: String
        public var agent: String
        public var steps = 0
        /// Decisions compared.
        public var checks = 0
        public var mismatches: [Mismatch] = []
        /// Authorizations the policy given decides differently from the recorded ones.
        public var policyChanges: [PolicyChange] = []
        /// The run has no recorded end (it is running, or was interrupted).
        public var unfinished = false

        public var matched: Bool { mismatches.isEmpty }
    }

    public struct Mismatch: Sendable, CustomStringConvertible {
        /// The recorded event the replay disagrees with.
        public var seq: Int64
        public var what: String
        public var expected: String
        public var recorded: String
        public var description: String { "seq \(seq): \(what): replay \(expected), log \(recorded)" }
    }

    /// Replays run `runID` from `log`.
    public func replay(_ runID: String, in log: any EventReader) async throws -> Report {
        var events: [Event] = []
        var after: Int64 = 0
        while true {
            let page = try await log.events(EventQuery(filter: EventFilter(stream: "run/\(runID)"), after: after, limit: 1_000))
            events += page
            guard let last = page.last, page.count == 1_000 else { break }
            after = last.seq
        }
        guard events.contains(where: { $0.type == "run.started" }) else { throw AgentRunError.unknownRun(runID) }
        return replay(events: events, runID: runID)
    }

    /// Replays a run from its events, in `seq` order.
    public func replay(events: [Event], runID: String) -> Report {
        var record = RunRecord()
        var report = Report(runID: runID, agent: "")
        // Recorded authorization outcome of each guard call id, read ahead once.
        var outcomes: [String: (allowed: Bool, rule: String, seq: Int64)] = [:]
        for event in events where event.type == "tool.authorized" || event.type == "tool.denied" {
            guard let data = try? JSONValue(parsing: event.data), let callID = data["callId"]?.string, outcomes[callID] == nil else { continue }
            let stage = data["stage"]?.string ?? ""
            if event.type == "tool.denied" && stage != "authorization" && stage != "validation" { continue }
            outcomes[callID] = (event.type == "tool.authorized", data["rule"]?.string ?? "", event.seq)
        }

        for event in events {
            let data = (try? JSONValue(parsing: event.data)) ?? .object([:])
            switch event.type {
            case "llm.requested":
                report.checks += 1
                let action = record.nextAction(now: Date(timeIntervalSince1970: Double(event.time) / 1e9))
                let step = Int(data["step"]?.integer ?? 0)
                if case .callModel(let expectedStep) = action, expectedStep == step {
                    let tools = record.tools.filter { registry[$0] != nil }.map { ToolSpec(name: $0, description: "", parameters: .object([:])) }
                    let request = ChatRequest(model: data["model"]?.string ?? "", messages: record.messages, tools: tools)
                    let hash = PromptHash.of(request)
                    let recorded = data["promptSha256"]?.string ?? ""
                    if hash != recorded {
                        report.mismatches.append(Mismatch(seq: event.seq, what: "the conversation sent to the model at step \(step)",
                                                          expected: "sends prompt \(hash.prefix(12))…", recorded: "sent \(recorded.prefix(12))…"))
                    }
                } else {
                    report.mismatches.append(Mismatch(seq: event.seq, what: "the next action", expected: Self.describe(action),
                                                      recorded: "called the model (step \(step))"))
                }
            case "tool.requested":
                guard let modelCallID = data["modelCallId"]?.string, !modelCallID.isEmpty else { break }
                report.checks += 1
                let action = record.nextAction(now: Date(timeIntervalSince1970: Double(event.time) / 1e9))
                let tool = data["tool"]?.string ?? ""
                let recordedInput = data["input"] ?? .object([:])
                guard case .callTool(let call, _) = action, call.id == modelCallID, call.name == tool else {
                    report.mismatches.append(Mismatch(seq: event.seq, what: "the next action", expected: Self.describe(action),
                                                      recorded: "called \(tool) (\(modelCallID))"))
                    break
                }
                let input = ToolResultText.normalize(SecretRedactor.redact(RecordedArguments.value(from: call.arguments)).0)
                if input.jsonText != recordedInput.jsonText {
                    report.mismatches.append(Mismatch(seq: event.seq, what: "the input of \(tool)", expected: input.jsonText, recorded: recordedInput.jsonText))
                }
                if let recorded = outcomes[data["callId"]?.string ?? ""] {
                    report.checks += 1
                    if let change = PolicyChange.compare(tool: tool, input: recordedInput, event: event, data: data, recorded: recorded,
                                                         registry: registry, policy: policy, environment: environment,
                                                         allowedTools: Set(record.tools)) {
                        report.policyChanges.append(change)
                    }
                }
            case "run.completed":
                report.checks += 1
                let action = record.nextAction(now: event.date)
                if action != .complete(output: data["output"]?.string ?? "") {
                    report.mismatches.append(Mismatch(seq: event.seq, what: "the end of the run", expected: Self.describe(action),
                                                      recorded: "completed with \"\((data["output"]?.string ?? "").prefix(80))\""))
                }
            case "run.failed" where data["errorType"]?.string == "budget_exceeded":
                report.checks += 1
                if case .fail = record.nextAction(now: event.date) {} else if data["message"]?.string?.contains("longer than") != true {
                    report.mismatches.append(Mismatch(seq: event.seq, what: "the end of the run", expected: Self.describe(record.nextAction(now: event.date)),
                                                      recorded: "failed: \(data["message"]?.string ?? "")"))
                }
            default:
                break
            }
            record.apply(event)
        }
        report.agent = record.agent
        report.steps = record.steps
        report.unfinished = !record.outcome.isFinished
        return report
    }

    static func describe(_ action: NextAction) -> String {
        switch action {
        case .callTool(let call, _): "calls \(call.name) (\(call.id))"
        case .callModel(let step): "calls the model (step \(step))"
        case .complete(let output): "completes with \"\(output.prefix(80))\""
        case .fail(_, let message): "fails: \(message)"
        case .cancel: "stops (stop requested)"
        case .none: "has ended"
        }
    }
}

/// A tool call a policy decides differently from the recorded decision.
public struct PolicyChange: Sendable, CustomStringConvertible {
    public var seq: Int64
    public var time: Int64
    public var callID: String
    public var stream: String
    public var tool: String
    public var actor: String
    public var input: JSONValue
    public var recordedAllowed: Bool
    public var recordedRule: String
    public var proposedAllowed: Bool
    public var proposedRule: String
    public var reason: String

    public var description: String {
        let verdict = proposedAllowed ? "would now be ALLOWED" : "would now be DENIED"
        return "\(tool) by \(actor) (call \(callID), seq \(seq)) \(verdict) by \(proposedRule): \(reason)"
    }

    static func compare(tool: String, input: JSONValue, event: Event, data: JSONValue, recorded: (allowed: Bool, rule: String, seq: Int64),
                        registry: ToolRegistry, policy: Policy, environment: ToolEnvironment, allowedTools: Set<String>?) -> PolicyChange? {
        let callerID = data["principal"]?.string ?? event.actor.split(separator: "@").last.map(String.init) ?? event.actor
        guard let caller = try? Principal(parsing: callerID) else { return nil }
        let agentID = event.actor.contains("@") ? String(event.actor.split(separator: "@")[0]) : nil
        let agent = agentID.flatMap { try? Principal(parsing: $0) }
        let call = ToolCall(callID: data["callId"]?.string ?? "", caller: caller, agent: agent, environment: environment)
        let decision = ToolAuthorization.decide(tool, input: input, call: call, registry: registry, policy: policy, time: event.date,
                                                allowedTools: allowedTools)
        guard decision.isAllowed != recorded.allowed else { return nil }
        var change = PolicyChange(seq: event.seq, time: event.time, callID: call.callID, stream: event.stream, tool: tool, actor: event.actor,
                                  input: input, recordedAllowed: recorded.allowed, recordedRule: recorded.rule, proposedAllowed: decision.isAllowed,
                                  proposedRule: "", reason: "")
        switch decision {
        case .denied(_, let rule, let reason, _, _):
            change.proposedRule = rule
            change.reason = reason
        case .allowed(_, let rules, _):
            change.proposedRule = rules.joined(separator: "; ")
            change.reason = "the proposed policy allows what the recorded one denied"
        }
        return change
    }
}

/// `glassbox whatif`: which past tool calls a proposed policy would have decided differently.
public struct PolicyWhatIf: Sendable {
    public let registry: ToolRegistry
    public let policy: Policy
    public let environment: ToolEnvironment

    public init(registry: ToolRegistry, policy: Policy, environment: ToolEnvironment) {
        self.registry = registry
        self.policy = policy
        self.environment = environment
    }

    public struct Report: Sendable {
        /// Tool calls whose recorded authorization was compared.
        public var examined = 0
        public var changes: [PolicyChange] = []
        public var newlyDenied: [PolicyChange] { changes.filter { !$0.proposedAllowed } }
        public var newlyAllowed: [PolicyChange] { changes.filter(\.proposedAllowed) }
    }

    /// Every tool call requested at or after `since` (Unix nanoseconds), decided again with the proposed policy.
    /// `progress` is called every 1,000 calls with the number examined.
    public func run(log: any EventReader, since: Int64 = 0, progress: (@Sendable (Int) -> Void)? = nil) async throws -> Report {
        var report = Report()
        var after: Int64 = 0
        var requests: [String: Event] = [:]
        var agentTools: [String: Set<String>] = [:]
        while true {
            let page = try await log.events(EventQuery(filter: EventFilter(types: ["tool.requested", "tool.authorized", "tool.denied", "run.started"]),
                                                       after: after, limit: 5_000))
            for event in page {
                guard let data = try? JSONValue(parsing: event.data) else { continue }
                if event.type == "run.started" {
                    agentTools[event.stream] = Set(data["tools"]?.array?.compactMap(\.string) ?? [])
                    continue
                }
                guard let callID = data["callId"]?.string else { continue }
                if event.type == "tool.requested" {
                    if event.time >= since { requests[callID] = event }
                    continue
                }
                guard let request = requests.removeValue(forKey: callID), let requestData = try? JSONValue(parsing: request.data) else { continue }
                let stage = data["stage"]?.string ?? ""
                if event.type == "tool.denied" && stage != "authorization" { continue }
                report.examined += 1
                if report.examined % 1_000 == 0 { progress?(report.examined) }
                let tools = agentTools[request.stream].flatMap { $0.isEmpty ? nil : $0 }
                if let change = PolicyChange.compare(tool: requestData["tool"]?.string ?? "", input: requestData["input"] ?? .object([:]),
                                                     event: request, data: requestData,
                                                     recorded: (event.type == "tool.authorized", data["rule"]?.string ?? "", event.seq),
                                                     registry: registry, policy: policy, environment: environment, allowedTools: tools) {
                    report.changes.append(change)
                }
            }
            guard let last = page.last, page.count == 5_000 else { break }
            after = last.seq
        }
        return report
    }
}
