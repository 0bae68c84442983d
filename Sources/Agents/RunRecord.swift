public import EventLog
public import Foundation
import GlassboxProto
import SwiftProtobuf
public import Tools

/// What the log says about one agent run: who asked what, the conversation so far, each model
/// and tool call and how it ended. Folded from the run's events, so a run interrupted by a crash
/// continues from exactly here, and a replay compares against exactly this.
///
/// ```swift
/// var record = RunRecord()
/// for event in try await log.events(EventQuery(filter: EventFilter(stream: "run/\(id)"))) { record.apply(event) }
/// record.nextAction(now: Date())   // what the loop does next
/// ```
public struct RunRecord: Sendable {
    public enum Outcome: Sendable, Equatable {
        case running
        case completed(output: String)
        case failed(errorType: String, message: String)
        case cancelled(reason: String)

        public var isFinished: Bool { self != .running }
    }

    /// One attempt at a model call.
    public struct ModelCall: Sendable {
        public var callID: String
        public var step: Int
        public var attempt: Int
        public var promptSHA256: String
        public var trace: TraceContext?
        /// Nil until `llm.responded`.
        public var response: ChatResponse?
        public var errorType: String?
        public var responded: Bool
    }

    /// One tool call the model asked for, as far as the log shows it.
    public struct ToolCallRecord: Sendable {
        public var modelCallID: String
        public var callID: String
        public var tool: String
        public var input: JSONValue
        public var trace: TraceContext?
        public var stream: String
        public var approval: UnfinishedToolCall.Approval?
        public var started = false
        public var authorized: Bool?
        /// The message the model was (or will be) given as the call's result; nil while unfinished.
        public var resultText: String?
        /// `completed`, `denied` or `failed` once finished.
        public var status: String?
    }

    public private(set) var runID = ""
    public private(set) var agent = ""
    public private(set) var caller = ""
    public private(set) var task = ""
    public private(set) var instructions = ""
    public private(set) var tools: [String] = []
    public private(set) var provider = ""
    public private(set) var model = ""
    public private(set) var runner = ""
    public private(set) var budget = AgentDefinition.Budget()
    /// The run's span.
    public private(set) var trace: TraceContext?
    /// Unix nanoseconds of `run.started`.
    public private(set) var startedAt: Int64 = 0
    public private(set) var messages: [ChatMessage] = []
    /// Model calls that answered (a step is one answer and the tool calls it asked for).
    public private(set) var steps = 0
    public private(set) var tokens = 0
    public private(set) var costUSD = 0.0
    public private(set) var modelCalls: [ModelCall] = []
    public private(set) var toolCalls: [String: ToolCallRecord] = [:]
    public private(set) var outcome = Outcome.running
    public private(set) var stopRequestedBy: String?
    public private(set) var stopReason: String?
    public private(set) var lastSeq: Int64 = 0
    public private(set) var started = false

    public init() {}

    /// Folds one event of the run's stream into the record.
    public mutating func apply(_ event: Event) {
        lastSeq = max(lastSeq, event.seq)
        guard let data = try? JSONValue(parsing: event.data) else { return }
        let trace = event.traceContext
        switch event.type {
        case "run.started":
            started = true
            runID = data["runId"]?.string ?? ""
            agent = data["agent"]?.string ?? ""
            caller = data["caller"]?.string ?? ""
            task = data["task"]?.string ?? ""
            instructions = data["instructions"]?.string ?? ""
            tools = data["tools"]?.array?.compactMap(\.string) ?? []
            provider = data["provider"]?.string ?? ""
            model = data["model"]?.string ?? ""
            runner = data["runner"]?.string ?? ""
            if let b = data["budget"] {
                budget = AgentDefinition.Budget(maxSteps: b["maxSteps"]?.integer.map(Int.init), maxTokens: b["maxTokens"]?.integer.map(Int.init),
                                                maxCostUSD: b["maxCostUsd"]?.double, maxWallSeconds: b["maxWallSeconds"]?.double)
            }
            self.trace = trace
            startedAt = event.time
            messages = Self.openingMessages(instructions: instructions, task: task)
        case "llm.requested":
            modelCalls.append(ModelCall(callID: data["callId"]?.string ?? "", step: Int(data["step"]?.integer ?? 0),
                                        attempt: Int(data["attempt"]?.integer ?? 1), promptSHA256: data["promptSha256"]?.string ?? "",
                                        trace: trace, response: nil, errorType: nil, responded: false))
        case "llm.responded":
            let callID = data["callId"]?.string ?? ""
            guard let index = modelCalls.lastIndex(where: { $0.callID == callID }) else { return }
            modelCalls[index].responded = true
            if let error = data["errorType"]?.string, !error.isEmpty {
                modelCalls[index].errorType = error
                return
            }
            let response = Self.response(from: data)
            modelCalls[index].response = response
            steps += 1
            tokens += response.usage.input + response.usage.output
            costUSD += data["costUsd"]?.double ?? 0
            messages.append(ChatMessage(role: .assistant, content: response.content, toolCalls: response.toolCalls))
        case "tool.requested":
            let modelCallID = data["modelCallId"]?.string ?? ""
            guard !modelCallID.isEmpty else { return }
            toolCalls[modelCallID] = ToolCallRecord(modelCallID: modelCallID, callID: data["callId"]?.string ?? "", tool: data["tool"]?.string ?? "",
                                                    input: data["input"] ?? .object([:]), trace: trace, stream: event.stream)
        case "tool.authorized":
            update(callID: data["callId"]?.string) { $0.authorized = true }
        case "approval.requested":
            let approval = UnfinishedToolCall.Approval(id: data["approvalId"]?.string ?? "", approver: data["approver"]?.string ?? "",
                                                       reason: data["reason"]?.string ?? "", rule: data["rule"]?.string ?? "approval",
                                                       requestedAt: event.seq)
            update(callID: data["callId"]?.string) { $0.approval = approval }
        case "tool.started":
            update(callID: data["callId"]?.string) { $0.started = true }
        case "tool.completed", "tool.failed", "tool.denied":
            let text = ToolResultText.fromEvent(type: event.type, data: data)
            let status = String(event.type.dropFirst("tool.".count))
            var answered: String? = nil
            update(callID: data["callId"]?.string) {
                $0.resultText = text
                $0.status = status
                answered = $0.modelCallID
            }
            if let answered { messages.append(ChatMessage(role: .tool, content: text, toolCallID: answered)) }
        case "run.stop_requested":
            stopRequestedBy = data["requestedBy"]?.string ?? ""
            stopReason = data["reason"]?.string ?? ""
        case "run.completed":
            outcome = .completed(output: data["output"]?.string ?? "")
        case "run.failed":
            outcome = .failed(errorType: data["errorType"]?.string ?? "", message: data["message"]?.string ?? "")
        case "run.cancelled":
            outcome = .cancelled(reason: data["reason"]?.string ?? "")
        default:
            break
        }
    }

    /// Folds an event this process just appended, from its draft and where it landed.
    public mutating func apply(_ draft: EventDraft, at position: EventPosition, stream: String) {
        apply(Event(seq: position.seq, id: draft.id, time: draft.time, stream: stream, streamVersion: position.streamVersion, type: draft.type,
                    actor: draft.actor, traceID: draft.trace?.traceID, spanID: draft.trace?.spanID, parentSpanID: draft.trace?.parentSpanID,
                    data: draft.data, prevHash: .genesis, hash: .genesis))
    }

    /// Records a tool call's end as the guard reported it (its events are already in the log).
    mutating func recordToolResult(modelCallID: String, callID: String, tool: String, text: String, status: String) {
        var call = toolCalls[modelCallID] ?? ToolCallRecord(modelCallID: modelCallID, callID: callID, tool: tool, input: .object([:]),
                                                            trace: nil, stream: "run/\(runID)")
        call.callID = callID
        call.resultText = text
        call.status = status
        toolCalls[modelCallID] = call
        messages.append(ChatMessage(role: .tool, content: text, toolCallID: modelCallID))
    }

    private mutating func update(callID: String?, _ change: (inout ToolCallRecord) -> Void) {
        guard let callID, let key = toolCalls.first(where: { $0.value.callID == callID })?.key else { return }
        change(&toolCalls[key]!)
    }

    /// The conversation every run starts with.
    static func openingMessages(instructions: String, task: String) -> [ChatMessage] {
        [ChatMessage(role: .system, content: instructions), ChatMessage(role: .user, content: task)]
    }

    /// A model answer as recorded in `llm.responded`.
    static func response(from data: JSONValue) -> ChatResponse {
        let calls = (data["toolCalls"]?.array ?? []).map { call in
            ModelToolCall(id: call["id"]?.string ?? "", name: call["name"]?.string ?? "",
                          arguments: RecordedArguments.text(from: call["arguments"]))
        }
        return ChatResponse(id: data["responseId"]?.string ?? "", model: data["model"]?.string ?? "", content: data["content"]?.string ?? "",
                            toolCalls: calls, finishReason: data["finishReasons"]?.array?.first?.string ?? "",
                            usage: TokenUsage(input: Int(data["inputTokens"]?.integer ?? 0), output: Int(data["outputTokens"]?.integer ?? 0),
                                              cacheRead: Int(data["cacheReadInputTokens"]?.integer ?? 0),
                                              reasoning: Int(data["reasoningOutputTokens"]?.integer ?? 0)))
    }
}

/// What the loop does next, decided from the record alone (no I/O), so the same decision is made
/// live, after a crash and in a replay.
public enum NextAction: Sendable, Equatable {
    /// Run the model's tool call; `resuming` when the log shows it begun but not finished.
    case callTool(ModelToolCall, resuming: Bool)
    case callModel(step: Int)
    case complete(output: String)
    case fail(errorType: String, message: String)
    case cancel(reason: String, requestedBy: String)
    /// The run has ended.
    case none
}

extension RunRecord {
    /// The next thing the loop must do. Budgets are checked before each model call.
    public func nextAction(now: Date) -> NextAction {
        guard started, !outcome.isFinished else { return .none }
        if let by = stopRequestedBy { return .cancel(reason: stopReason ?? "", requestedBy: by) }
        if let last = messages.last(where: { $0.role == .assistant }) {
            for call in last.toolCalls where toolCalls[call.id]?.resultText == nil {
                return .callTool(call, resuming: toolCalls[call.id] != nil)
            }
            if messages.last?.role == .assistant && last.toolCalls.isEmpty {
                return .complete(output: last.content)
            }
        }
        if let problem = budgetProblem(now: now) { return .fail(errorType: "budget_exceeded", message: problem) }
        return .callModel(step: steps + 1)
    }

    /// Why the run may not make another model call, or nil.
    public func budgetProblem(now: Date) -> String? {
        if let max = budget.maxSteps, steps >= max {
            return "the run used all \(max) steps of its budget without finishing; raise budget.max_steps of agent \(agent) or ask a narrower question"
        }
        if let max = budget.maxTokens, tokens >= max {
            return "the run used \(tokens) tokens, over its budget of \(max); raise budget.max_tokens of agent \(agent)"
        }
        if let max = budget.maxCostUSD, costUSD >= max {
            return "the run cost $\(String(format: "%.4f", costUSD)), over its budget of $\(max); raise budget.max_cost_usd of agent \(agent)"
        }
        if let max = budget.maxWallSeconds, now.timeIntervalSince1970 - Double(startedAt) / 1e9 >= max {
            return "the run took longer than its budget of \(Int(max)) s; raise budget.max_wall_seconds of agent \(agent)"
        }
        return nil
    }

    /// Tool calls the log shows begun (requested) but not ended.
    public func unfinished(_ call: ModelToolCall) -> UnfinishedToolCall? {
        guard let record = toolCalls[call.id], record.resultText == nil, let trace = record.trace else { return nil }
        return UnfinishedToolCall(callID: record.callID, tool: record.tool, input: record.input, trace: trace, stream: record.stream,
                                  approval: record.approval, started: record.started)
    }

    /// Model calls that answered and tool calls that ended: what a resumed run does not repeat.
    public var completedCalls: (model: Int, tool: Int) {
        (modelCalls.filter { $0.response != nil }.count, toolCalls.values.filter { $0.resultText != nil }.count)
    }
}

extension Event {
    /// The span the event belongs to, from its envelope.
    var traceContext: TraceContext? {
        guard let traceID, let spanID else { return nil }
        return try? TraceContext(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID)
    }
}

/// The text a model is given as a tool call's result. Built the same way from a live result and from
/// the recorded events, so a resumed or replayed conversation is identical to the original.
public enum ToolResultText {
    /// From the guard's result. The output goes through the same protobuf `Value` form the log stores.
    public static func from(_ result: ToolCallResult) -> String {
        switch result.status {
        case .completed:
            let normalized = result.output.map(normalize) ?? .null
            return completed(normalized, truncated: result.truncated)
        case .denied:
            return denied(stage: result.stage ?? "", rule: result.rule ?? "", reason: result.message ?? "")
        case .failed:
            return failed(errorType: result.errorType ?? "error", message: result.message ?? "")
        }
    }

    static func fromEvent(type: String, data: JSONValue) -> String {
        switch type {
        case "tool.completed": completed(data["output"] ?? .null, truncated: data["truncated"]?.bool ?? false)
        case "tool.denied": denied(stage: data["stage"]?.string ?? "", rule: data["rule"]?.string ?? "", reason: data["reason"]?.string ?? "")
        default: failed(errorType: data["errorType"]?.string ?? "error", message: data["message"]?.string ?? "")
        }
    }

    static func completed(_ output: JSONValue, truncated: Bool) -> String {
        output.jsonText + (truncated ? "\n(The output was cut to fit the size limit; ask for less, e.g. with a LIMIT.)" : "")
    }

    static func denied(stage: String, rule: String, reason: String) -> String {
        "DENIED at \(stage) by \(rule): \(reason)"
    }

    static func failed(errorType: String, message: String) -> String {
        "FAILED (\(errorType)): \(message)"
    }

    /// The value as it reads back from the log (numbers pass through a double, as protobuf stores them).
    static func normalize(_ value: JSONValue) -> JSONValue {
        guard let text = try? value.protobufValue.jsonString(), let parsed = try? JSONValue(parsing: text) else { return value }
        return parsed
    }
}

/// Tool-call arguments in `llm.responded`: the JSON object the model wrote, or, when it wrote
/// something that is not a JSON object, `{"_unparsed": "<text>"}`.
enum RecordedArguments {
    static func value(from text: String) -> JSONValue {
        if let parsed = try? JSONValue(parsing: text), case .object = parsed { return ToolResultText.normalize(parsed) }
        return ["_unparsed": .string(text)]
    }

    static func text(from value: JSONValue?) -> String {
        guard let value else { return "{}" }
        if let object = value.object, object.count == 1, let raw = object["_unparsed"]?.string { return raw }
        return value.jsonText
    }
}
