import Crypto
import EventLog
import Foundation
import GlassboxProto
import Logging
import Security
import SwiftProtobuf
import Tools

/// Why a run's task was cancelled. Set before the cancel, read by the run when it notices.
enum StopCause: Sendable, Equatable {
    /// `run.stop_requested` is in the log.
    case stopRequested(by: String, reason: String)
    /// The run's wall-time budget ran out.
    case wallBudget(String)
    /// The process is shutting down: the run stays unfinished and is resumed at the next start.
    case shutdown
}

/// Drives one run: asks the ``RunRecord`` what to do next, does it (a model call, a tool call
/// through the guard, or the end), records it, and repeats. Everything it learns goes into the
/// log before it acts on it, so after a crash the record rebuilt from the log continues here.
struct AgentRunner {
    let log: any EventStore
    let toolGuard: ToolCallGuard
    let provider: any LLMProvider
    let model: String
    let prices: PriceTable
    let retry: RetryPolicy
    let toolSpecs: [ToolSpec]
    let caller: Principal
    let agent: Principal
    let temperature: Double?
    let stream: Bool
    let thoughtInterval: Duration
    let cause: @Sendable () -> StopCause?
    var record: RunRecord

    var runID: String { record.runID }
    var streamName: String { "run/\(record.runID)" }
    var actor: String { "\(agent.id)@\(caller.id)" }

    /// Runs until the run ends (its outcome) or the process shuts down (nil: the run stays unfinished).
    mutating func drive() async -> RunRecord.Outcome? {
        while true {
            if Task.isCancelled { return await stopped() }
            switch record.nextAction(now: Date()) {
            case .none:
                return record.outcome
            case .cancel(let reason, let by):
                return await finish(.cancelled(reason: reason), requestedBy: by)
            case .complete(let output):
                return await finish(.completed(output: output))
            case .fail(let errorType, let message):
                return await finish(.failed(errorType: errorType, message: message))
            case .callTool(let call, let resuming):
                await callTool(call, resuming: resuming)
            case .callModel(let step):
                if let failure = await callModel(step: step) { return await finish(failure) }
            }
        }
    }

    /// The run's task was cancelled: say why in the log, unless the process is going down.
    private mutating func stopped() async -> RunRecord.Outcome? {
        switch cause() {
        case .stopRequested(let by, let reason):
            return await finish(.cancelled(reason: reason), requestedBy: by)
        case .wallBudget(let message):
            return await finish(.failed(errorType: "budget_exceeded", message: message))
        case .shutdown, nil:
            return nil
        }
    }

    // MARK: Tool calls

    private mutating func callTool(_ call: ModelToolCall, resuming: Bool) async {
        let input = RecordedArguments.value(from: call.arguments)
        let result: ToolCallResult
        if resuming, let unfinished = record.unfinished(call), unfinished.started || unfinished.approval != nil {
            result = await toolGuard.resume(unfinished, caller: caller, agent: agent)
        } else {
            let llmCallID = record.modelCalls.last(where: { $0.response != nil })?.callID
            let placement = ToolCallGuard.Placement(runID: runID, parent: record.trace, llmCallID: llmCallID, modelCallID: call.id,
                                                    allowedTools: Set(record.tools))
            result = await toolGuard.call(call.name, input: input, caller: caller, agent: agent, placement: placement)
        }
        record.recordToolResult(modelCallID: call.id, callID: result.callID, tool: call.name,
                                text: ToolResultText.from(result), status: result.status.rawValue)
    }

    // MARK: Model calls

    /// One step's model call with retries; nil when it answered, else how the run fails.
    private mutating func callModel(step: Int) async -> RunRecord.Outcome? {
        var attempt = 1
        while true {
            let request = ChatRequest(model: model, messages: record.messages, tools: toolSpecs, temperature: temperature, stream: stream)
            let callID = UUID.version7().uuidString.lowercased()
            let trace = (record.trace ?? .newTrace()).newChild()
            guard await append(requested(request, callID: callID, step: step, attempt: attempt), trace: trace) else {
                return .failed(errorType: "log_unavailable", message: "the event log refused the model call's events")
            }
            if Task.isCancelled { return nil }
            let thoughts = ThoughtStream(log: log, stream: streamName, actor: actor, trace: trace, callID: callID, step: step,
                                         interval: thoughtInterval)
            let began = ContinuousClock.now
            do {
                let response = try await provider.complete(request) { text in await thoughts.add(text) }
                await thoughts.finish(fallback: stream ? nil : response.content)
                let latency = began.duration(to: .now)
                guard await append(responded(response, callID: callID, step: step, latency: latency), trace: trace) else {
                    return .failed(errorType: "log_unavailable", message: "the event log refused the model's answer")
                }
                return nil
            } catch {
                await thoughts.finish(fallback: nil)
                let failure = Self.providerError(error)
                _ = await append(respondedError(failure, callID: callID, step: step, latency: began.duration(to: .now)), trace: trace)
                if failure.kind == "cancelled" || Task.isCancelled { return nil }
                guard let wait = retry.delay(afterAttempt: attempt, error: failure) else {
                    let tries = attempt == 1 ? "" : " after \(attempt) attempts"
                    return .failed(errorType: "provider_error",
                                   message: "the model provider \(provider.name) failed\(tries): \(failure.kind): \(failure.message)")
                }
                do { try await Task.sleep(for: wait) } catch { return nil }
                attempt += 1
            }
        }
    }

    static func providerError(_ error: any Error) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if error is CancellationError { return ProviderError(kind: "cancelled", message: "the call was cancelled", retryable: false) }
        return ProviderError(kind: "error", message: String(describing: error), retryable: false)
    }

    private func requested(_ request: ChatRequest, callID: String, step: Int, attempt: Int) -> Glassbox_V1_LlmRequested {
        var payload = Glassbox_V1_LlmRequested()
        payload.callID = callID
        payload.provider = provider.name
        payload.model = model
        payload.messageCount = UInt32(request.messages.count)
        payload.toolCount = UInt32(request.tools.count)
        payload.stream = request.stream
        payload.temperature = request.temperature ?? 0
        payload.attempt = UInt32(attempt)
        payload.step = UInt32(step)
        payload.promptSha256 = PromptHash.of(request)
        // Only what is new since the model last answered: the whole conversation is in the run's events.
        let lastAnswer = request.messages.lastIndex { $0.role == .assistant } ?? -1
        payload.messages = request.messages[(lastAnswer + 1)...].map(Self.protoMessage)
        return payload
    }

    private func responded(_ response: ChatResponse, callID: String, step: Int, latency: Duration) -> Glassbox_V1_LlmResponded {
        var payload = Glassbox_V1_LlmResponded()
        payload.callID = callID
        payload.provider = provider.name
        payload.model = response.model.isEmpty ? model : response.model
        payload.responseID = response.id
        payload.finishReasons = [response.finishReason]
        payload.inputTokens = UInt32(clamping: response.usage.input)
        payload.outputTokens = UInt32(clamping: response.usage.output)
        payload.cacheReadInputTokens = UInt32(clamping: response.usage.cacheRead)
        payload.reasoningOutputTokens = UInt32(clamping: response.usage.reasoning)
        payload.latencyMs = UInt32(clamping: latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000)
        payload.costUsd = prices.cost(model: payload.model, usage: response.usage)
        payload.content = SecretRedactor.redactString(response.content)
        payload.toolCalls = response.toolCalls.map { call in
            var request = Glassbox_V1_ToolCallRequest()
            request.id = call.id
            request.name = call.name
            request.arguments = SecretRedactor.redact(RecordedArguments.value(from: call.arguments)).0.protobufStruct
            return request
        }
        payload.step = UInt32(step)
        return payload
    }

    private func respondedError(_ error: ProviderError, callID: String, step: Int, latency: Duration) -> Glassbox_V1_LlmResponded {
        var payload = Glassbox_V1_LlmResponded()
        payload.callID = callID
        payload.provider = provider.name
        payload.model = model
        payload.latencyMs = UInt32(clamping: latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000)
        payload.errorType = error.kind
        payload.errorMessage = SecretRedactor.redactString(error.message)
        payload.step = UInt32(step)
        return payload
    }

    static func protoMessage(_ message: ChatMessage) -> Glassbox_V1_ChatMessage {
        var proto = Glassbox_V1_ChatMessage()
        proto.role = message.role.rawValue
        proto.content = message.content
        proto.toolCallID = message.toolCallID ?? ""
        proto.toolCalls = message.toolCalls.map { call in
            var request = Glassbox_V1_ToolCallRequest()
            request.id = call.id
            request.name = call.name
            request.arguments = RecordedArguments.value(from: call.arguments).protobufStruct
            return request
        }
        return proto
    }

    // MARK: Recording

    /// Appends one event to the run's stream and folds it into the record; false when the log refused.
    @discardableResult
    private mutating func append(_ payload: some EventPayload, trace: TraceContext?) async -> Bool {
        do {
            let draft = try EventDraft(payload, actor: actor, trace: trace)
            let result = try await log.append([draft], to: streamName, expectedVersion: .any)
            record.apply(draft, at: result.positions[0], stream: streamName)
            return true
        } catch {
            return false
        }
    }

    /// Like ``append(_:trace:)``, from a task the run's cancellation does not reach, so the run's end is
    /// recorded even while it is being stopped.
    private mutating func appendDetached(_ payload: any EventPayload, trace: TraceContext?) async -> Bool {
        let log = self.log, stream = streamName, actor = self.actor
        let outcome = await Task {
            let draft = try EventDraft(payload, actor: actor, trace: trace)
            return (draft, try await log.append([draft], to: stream, expectedVersion: .any).positions[0])
        }.result
        guard case .success(let (draft, position)) = outcome else { return false }
        record.apply(draft, at: position, stream: stream)
        return true
    }

    /// Records how the run ended (from a task that ignores the run's cancellation, so the end is always written).
    private mutating func finish(_ outcome: RunRecord.Outcome, requestedBy: String = "") async -> RunRecord.Outcome? {
        let payload: any EventPayload
        switch outcome {
        case .completed(let output):
            var p = Glassbox_V1_RunCompleted()
            p.runID = runID
            p.output = SecretRedactor.redactString(output)
            p.steps = UInt32(record.steps)
            payload = p
        case .failed(let errorType, let message):
            var p = Glassbox_V1_RunFailed()
            p.runID = runID
            p.errorType = errorType
            p.message = message
            p.steps = UInt32(record.steps)
            payload = p
        case .cancelled(let reason):
            var p = Glassbox_V1_RunCancelled()
            p.runID = runID
            p.reason = reason
            p.requestedBy = requestedBy
            p.steps = UInt32(record.steps)
            payload = p
        case .running:
            return nil
        }
        guard await appendDetached(payload, trace: record.trace) else { return nil }
        return outcome
    }
}

/// SHA-256 of a request's conversation, tools and model in a fixed encoding: a replay that sends the
/// same has the same hash.
enum PromptHash {
    static func of(_ request: ChatRequest) -> String {
        var hasher = SHA256()
        func add(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                var length = UInt32(bytes.count).bigEndian
                withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            }
        }
        add(request.model)
        for message in request.messages {
            add(message.role.rawValue)
            add(message.content)
            add(message.toolCallID ?? "")
            for call in message.toolCalls {
                add(call.id)
                add(call.name)
                add(call.arguments)
            }
        }
        for tool in request.tools { add(tool.name) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
