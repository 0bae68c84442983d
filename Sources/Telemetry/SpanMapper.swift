public import EventLog
import Foundation
public import GlassboxProto

/// Turns the events of one span into an OTLP span, by the OpenTelemetry GenAI and
/// database conventions, with OpenInference's span kind so that Arize Phoenix shows
/// agents, model calls and tools as such.
///
/// ```swift
/// let mapper = SpanMapper(content: .omit)
/// let span = mapper.span(from: eventsOfOneSpan)   // opener first, closer last
/// ```
public struct SpanMapper: Sendable {
    /// Whether message contents (prompts, answers, thoughts, tool input and output) leave
    /// the log. Off by default, as the GenAI conventions ask.
    public enum Content: Sendable, Equatable {
        case omit
        case include
    }

    public var content: Content

    public init(content: Content = .omit) {
        self.content = content
    }

    /// The span made of `events` (all with one span id, in `seq` order: the opening event
    /// first, the closing event last); nil when the first and last events do not open and
    /// close the same kind of span.
    public func span(from events: [Event]) -> SpanRecord? {
        guard let opener = events.first, let closer = events.last, events.count >= 2,
              let role = SpanRole.opened(by: opener.type), SpanRole.closed(by: closer.type) == role,
              let traceID = opener.traceID, let spanID = opener.spanID
        else { return nil }
        let open = PayloadJSON.parse(opener.data) ?? .object([])
        let close = PayloadJSON.parse(closer.data) ?? .object([])
        var span = SpanRecord(traceID: traceID, spanID: spanID, parentSpanID: opener.parentSpanID)
        span.startTimeUnixNano = UInt64(max(0, opener.time))
        span.endTimeUnixNano = UInt64(max(opener.time, closer.time))
        var attributes = AttributeList()
        var status = Opentelemetry_Proto_Trace_V1_Status()

        switch role {
        case .run: mapRun(open, close, closer.type, &span, &attributes, &status)
        case .llm: mapLLM(open, close, &span, &attributes, &status)
        case .tool: mapTool(open, close, closer.type, events, &span, &attributes, &status)
        case .mission: mapMission(open, close, closer.type, &span, &attributes, &status)
        case .step: mapStep(open, close, closer.type, &span, &attributes, &status)
        }
        attributes.add("glassbox.seq.start", opener.seq)
        attributes.add("glassbox.seq.end", closer.seq)
        attributes.add("glassbox.stream", opener.stream)
        attributes.add("glassbox.actor", opener.actor)
        span.attributes = attributes.items
        span.events = events.dropFirst().dropLast().map(spanEvent)
        if status.code == .error {
            span.statusCode = .error
            span.statusMessage = status.message
        }
        return span
    }

    // MARK: - Spans

    private func mapRun(_ open: PayloadJSON, _ close: PayloadJSON, _ closerType: String, _ span: inout SpanRecord,
                        _ attributes: inout AttributeList, _ status: inout Opentelemetry_Proto_Trace_V1_Status) {
        let agent = open["agent"]?.string ?? ""
        span.name = agent.isEmpty ? "invoke_agent" : "invoke_agent \(agent)"
        span.kind = .internal
        attributes.add("gen_ai.operation.name", "invoke_agent")
        attributes.add("gen_ai.agent.name", agent)
        let version = open["agentVersion"]?.string ?? ""
        attributes.add("gen_ai.agent.id", version.isEmpty ? agent : "\(agent)@\(version)")
        attributes.add("gen_ai.agent.version", version)
        attributes.add("gen_ai.provider.name", open["provider"]?.string)
        attributes.add("gen_ai.request.model", open["model"]?.string)
        attributes.add("openinference.span.kind", "AGENT")
        attributes.add("agent.name", agent)
        attributes.add("user.id", open["caller"]?.string)
        attributes.add("glassbox.run.id", open["runId"]?.string)
        attributes.add("glassbox.run.caller", open["caller"]?.string)
        attributes.add("glassbox.mission.id", open["missionId"]?.string)
        attributes.add("glassbox.mission.step", open["step"]?.string)
        if case .object(let labels)? = open["labels"] {
            for label in labels { attributes.add("glassbox.label.\(label.key)", label.value.string) }
        }
        if content == .include {
            attributes.add("input.value", open["task"]?.string)
            attributes.add("output.value", close["output"]?.string)
        }
        attributes.add("glassbox.run.steps", close["steps"]?.integer)
        switch closerType {
        case "run.failed":
            fail(&status, &attributes, type: close["errorType"]?.string, message: close["message"]?.string)
        case "run.cancelled":
            attributes.add("glassbox.run.outcome", "cancelled")
            attributes.add("glassbox.run.cancel_reason", close["reason"]?.string)
            attributes.add("glassbox.run.cancelled_by", close["requestedBy"]?.string)
        default:
            attributes.add("glassbox.run.outcome", "completed")
        }
    }

    private func mapLLM(_ open: PayloadJSON, _ close: PayloadJSON, _ span: inout SpanRecord,
                        _ attributes: inout AttributeList, _ status: inout Opentelemetry_Proto_Trace_V1_Status) {
        let model = open["model"]?.string ?? close["model"]?.string ?? ""
        let provider = open["provider"]?.string ?? close["provider"]?.string
        span.name = model.isEmpty ? "chat" : "chat \(model)"
        span.kind = .client
        attributes.add("gen_ai.operation.name", "chat")
        attributes.add("gen_ai.provider.name", provider)
        attributes.add("gen_ai.request.model", model)
        if open["stream"]?.bool == true { attributes.add("gen_ai.request.stream", true) }
        if let temperature = open["temperature"]?.number, temperature > 0 {
            attributes.add("gen_ai.request.temperature", temperature)
        }
        if let maxTokens = open["maxTokens"]?.integer, maxTokens > 0 { attributes.add("gen_ai.request.max_tokens", maxTokens) }
        attributes.add("gen_ai.response.model", close["model"]?.string)
        attributes.add("gen_ai.response.id", close["responseId"]?.string)
        attributes.add("gen_ai.response.finish_reasons", strings: close["finishReasons"]?.array?.compactMap(\.string) ?? [])
        let input = close["inputTokens"]?.integer ?? 0
        let output = close["outputTokens"]?.integer ?? 0
        attributes.add("gen_ai.usage.input_tokens", input)
        attributes.add("gen_ai.usage.output_tokens", output)
        if let cached = close["cacheReadInputTokens"]?.integer, cached > 0 {
            attributes.add("gen_ai.usage.cache_read.input_tokens", cached)
        }
        if let reasoning = close["reasoningOutputTokens"]?.integer, reasoning > 0 {
            attributes.add("gen_ai.usage.reasoning.output_tokens", reasoning)
        }
        attributes.add("openinference.span.kind", "LLM")
        attributes.add("llm.model_name", close["model"]?.string ?? model)
        attributes.add("llm.provider", provider)
        attributes.add("llm.token_count.prompt", input)
        attributes.add("llm.token_count.completion", output)
        attributes.add("llm.token_count.total", input + output)
        attributes.add("glassbox.llm.call_id", open["callId"]?.string)
        attributes.add("glassbox.llm.attempt", open["attempt"]?.integer)
        attributes.add("glassbox.llm.cost_usd", close["costUsd"]?.number)
        attributes.add("glassbox.llm.latency_ms", close["latencyMs"]?.integer)
        if content == .include {
            if let messages = open["messages"]?.array, !messages.isEmpty {
                attributes.add("gen_ai.input.messages", MessageJSON.input(messages))
            }
            if let output = MessageJSON.output(close) { attributes.add("gen_ai.output.messages", output) }
        }
        if let errorType = close["errorType"]?.string, !errorType.isEmpty {
            fail(&status, &attributes, type: errorType, message: close["errorMessage"]?.string)
        }
    }

    private func mapTool(_ open: PayloadJSON, _ close: PayloadJSON, _ closerType: String, _ events: [Event],
                         _ span: inout SpanRecord, _ attributes: inout AttributeList,
                         _ status: inout Opentelemetry_Proto_Trace_V1_Status) {
        let tool = open["tool"]?.string ?? close["tool"]?.string ?? ""
        span.name = tool.isEmpty ? "execute_tool" : "execute_tool \(tool)"
        span.kind = .internal
        let sql = open["input"]?["sql"]?.string ?? open["input"]?["query"]?.string
        attributes.add("gen_ai.operation.name", "execute_tool")
        attributes.add("gen_ai.tool.name", tool)
        attributes.add("gen_ai.tool.call.id", open["callId"]?.string)
        attributes.add("gen_ai.tool.type", sql == nil ? "function" : "datastore")
        attributes.add("openinference.span.kind", "TOOL")
        attributes.add("tool.name", tool)
        attributes.add("glassbox.tool.risk", open["risk"]?.string)
        attributes.add("glassbox.tool.principal", open["principal"]?.string)
        attributes.add("glassbox.llm.call_id", open["llmCallId"]?.string)
        if let sql {
            let input = open["input"]
            let statement = SQLStatement(sql)
            attributes.add("db.system.name", SQLStatement.systemName(
                declared: input?["dbSystem"]?.string ?? input?["db_system"]?.string,
                connection: input?["connection"]?.string))
            attributes.add("db.namespace", input?["database"]?.string ?? input?["namespace"]?.string)
            attributes.add("db.operation.name", statement.operation)
            attributes.add("db.collection.name", statement.collection)
            attributes.add("db.query.text", content == .include ? sql : statement.sanitized)
        }
        if content == .include, let input = open["input"] {
            attributes.add("gen_ai.tool.call.arguments", input.jsonText)
        }
        for event in events where event.type == "tool.started" {
            attributes.add("glassbox.tool.executing_as", PayloadJSON.parse(event.data)?["executingAs"]?.string)
        }
        switch closerType {
        case "tool.completed":
            attributes.add("glassbox.tool.rows", close["rows"]?.integer)
            attributes.add("glassbox.tool.output_bytes", close["outputBytes"]?.integer)
            attributes.add("glassbox.tool.duration_ms", close["durationMs"]?.integer)
            if close["truncated"]?.bool == true { attributes.add("glassbox.tool.truncated", true) }
            if content == .include, let output = close["output"] {
                attributes.add("gen_ai.tool.call.result", output.jsonText)
            }
        case "tool.failed":
            attributes.add("glassbox.tool.duration_ms", close["durationMs"]?.integer)
            fail(&status, &attributes, type: close["errorType"]?.string, message: close["message"]?.string)
        default: // tool.denied
            let stage = close["stage"]?.string ?? ""
            attributes.add("glassbox.denied.stage", stage)
            attributes.add("glassbox.denied.rule", close["rule"]?.string)
            fail(&status, &attributes, type: Self.denialType(stage: stage), message: close["reason"]?.string)
        }
        // A guardrail that blocked the call makes the span an error even if a later event did not say so.
        if status.code != .error, let blocked = events.last(where: { $0.type == "guardrail.blocked" }) {
            fail(&status, &attributes, type: "guardrail_blocked", message: PayloadJSON.parse(blocked.data)?["reason"]?.string)
        }
    }

    /// `error.type` of a denial: low-cardinality, one value per guard stage.
    static func denialType(stage: String) -> String {
        switch stage {
        case "validation": "invalid_input"
        case "authorization": "permission_denied"
        case "rate_limit": "rate_limited"
        case "guardrail": "guardrail_blocked"
        case "approval": "approval_rejected"
        default: "denied"
        }
    }

    private func mapMission(_ open: PayloadJSON, _ close: PayloadJSON, _ closerType: String, _ span: inout SpanRecord,
                            _ attributes: inout AttributeList, _ status: inout Opentelemetry_Proto_Trace_V1_Status) {
        let name = open["name"]?.string ?? ""
        span.name = name.isEmpty ? "mission" : "mission \(name)"
        span.kind = .internal
        attributes.add("gen_ai.operation.name", "invoke_workflow")
        attributes.add("gen_ai.workflow.name", name)
        attributes.add("openinference.span.kind", "CHAIN")
        attributes.add("glassbox.mission.id", open["missionId"]?.string)
        attributes.add("glassbox.mission.started_by", open["startedBy"]?.string)
        attributes.add("glassbox.mission.steps_completed", close["stepsCompleted"]?.integer)
        if closerType == "mission.failed" {
            attributes.add("glassbox.mission.failed_step", close["failedStep"]?.string)
            fail(&status, &attributes, type: close["errorType"]?.string, message: close["message"]?.string)
        }
    }

    private func mapStep(_ open: PayloadJSON, _ close: PayloadJSON, _ closerType: String, _ span: inout SpanRecord,
                         _ attributes: inout AttributeList, _ status: inout Opentelemetry_Proto_Trace_V1_Status) {
        let name = open["step"]?.string ?? ""
        span.name = name.isEmpty ? "step" : "step \(name)"
        span.kind = .internal
        attributes.add("openinference.span.kind", "CHAIN")
        attributes.add("glassbox.mission.id", open["missionId"]?.string)
        attributes.add("glassbox.step.name", name)
        attributes.add("glassbox.step.attempt", open["attempt"]?.integer)
        attributes.add("glassbox.run.id", open["runId"]?.string)
        switch closerType {
        case "step.retry_scheduled":
            attributes.add("glassbox.step.retry_delay_ms", close["delayMs"]?.integer)
            fail(&status, &attributes, type: close["errorType"]?.string, message: close["message"]?.string)
        case "step.failed":
            fail(&status, &attributes, type: close["errorType"]?.string, message: close["message"]?.string)
        default:
            break
        }
    }

    private func fail(_ status: inout Opentelemetry_Proto_Trace_V1_Status, _ attributes: inout AttributeList,
                      type: String?, message: String?) {
        status.code = .error
        status.message = message ?? ""
        attributes.add("error.type", (type?.isEmpty ?? true) ? "_OTHER" : type)
    }

    // MARK: - Span events

    /// An event inside a span: thoughts, permission decisions, guardrails, approvals, stops.
    private func spanEvent(_ event: Event) -> SpanEventRecord {
        var result = SpanEventRecord(timeUnixNano: UInt64(max(0, event.time)), name: event.type, attributes: [])
        let data = PayloadJSON.parse(event.data) ?? .object([])
        var attributes = AttributeList()
        attributes.add("glassbox.seq", event.seq)
        switch event.type {
        case "agent.thought":
            result.name = "gen_ai.agent.thought"
            attributes.add("glassbox.thought.step", data["step"]?.integer)
            let text = data["text"]?.string ?? ""
            attributes.add("glassbox.thought.length", Int64(text.count))
            if content == .include { attributes.add("glassbox.thought.text", text) }
        case "tool.authorized":
            result.name = "glassbox.permission"
            attributes.add("glassbox.permission.decision", "allow")
            attributes.add("glassbox.permission.rule", data["rule"]?.string)
            attributes.add("glassbox.permission.action", data["action"]?.string)
            attributes.add("glassbox.permission.resource", data["resource"]?.string)
            attributes.add("glassbox.permission.principal", data["principal"]?.string)
            if data["approvalRequired"]?.bool == true { attributes.add("glassbox.permission.approval_required", true) }
        case "guardrail.blocked":
            result.name = "glassbox.guardrail"
            attributes.add("glassbox.guardrail.name", data["guardrail"]?.string)
            attributes.add("glassbox.guardrail.reason", data["reason"]?.string)
            attributes.add("glassbox.guardrail.detail", data["detail"]?.string)
        case "approval.requested", "approval.granted", "approval.rejected":
            result.name = "glassbox.approval"
            attributes.add("glassbox.approval.decision", String(event.type.dropFirst("approval.".count)))
            attributes.add("glassbox.approval.id", data["approvalId"]?.string)
            attributes.add("glassbox.approval.approver", data["approver"]?.string)
            attributes.add("glassbox.approval.decided_by", data["decidedBy"]?.string)
        default:
            result.name = event.type
            attributes.add("glassbox.actor", event.actor)
            if case .object(let members) = data {
                for member in members {
                    switch member.value {
                    case .string(let value): attributes.add("glassbox.\(member.key)", value)
                    case .integer(let value): attributes.add("glassbox.\(member.key)", value)
                    case .bool(let value): attributes.add("glassbox.\(member.key)", value)
                    default: break
                    }
                }
            }
        }
        result.attributes = attributes.items
        return result
    }
}

/// Messages in the GenAI conventions' JSON shape: `[{role, parts:[…]}]`, for the opt-in
/// `gen_ai.input.messages` and `gen_ai.output.messages` attributes.
enum MessageJSON {
    static func input(_ messages: [PayloadJSON]) -> String {
        PayloadJSON.array(messages.map { message in
            var parts: [PayloadJSON] = []
            if let text = message["content"]?.string, !text.isEmpty {
                parts.append(.object([("type", .string("text")), ("content", .string(text))]))
            }
            if let callID = message["toolCallId"]?.string, !callID.isEmpty {
                parts = [.object([("type", .string("tool_call_response")), ("id", .string(callID)),
                                  ("response", .string(message["content"]?.string ?? ""))])]
            }
            for call in message["toolCalls"]?.array ?? [] { parts.append(toolCall(call)) }
            var members: [(key: String, value: PayloadJSON)] = [("role", .string(message["role"]?.string ?? "user")), ("parts", .array(parts))]
            if let name = message["name"]?.string, !name.isEmpty { members.append(("name", .string(name))) }
            return .object(members)
        }).jsonText
    }

    static func output(_ responded: PayloadJSON) -> String? {
        var parts: [PayloadJSON] = []
        if let text = responded["content"]?.string, !text.isEmpty {
            parts.append(.object([("type", .string("text")), ("content", .string(text))]))
        }
        for call in responded["toolCalls"]?.array ?? [] { parts.append(toolCall(call)) }
        guard !parts.isEmpty else { return nil }
        let finish = responded["finishReasons"]?.array?.first?.string ?? "stop"
        return PayloadJSON.array([.object([("role", .string("assistant")), ("parts", .array(parts)),
                                           ("finish_reason", .string(finish))])]).jsonText
    }

    private static func toolCall(_ call: PayloadJSON) -> PayloadJSON {
        .object([("type", .string("tool_call")), ("id", .string(call["id"]?.string ?? "")),
                 ("name", .string(call["name"]?.string ?? "")), ("arguments", call["arguments"] ?? .object([]))])
    }
}
