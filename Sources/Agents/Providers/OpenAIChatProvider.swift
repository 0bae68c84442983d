import Foundation
import NIOCore
import Tools

/// A client for the OpenAI Chat Completions API and the many servers that speak it (Azure OpenAI's v1
/// API, vLLM, Ollama, llama.cpp, LM Studio, LiteLLM…): only the base URL and the key differ.
///
/// ```swift
/// let provider = OpenAIChatProvider(baseURL: "http://127.0.0.1:11434/v1", apiKey: nil)
/// let request = ChatRequest(model: "qwen2.5:7b", messages: [ChatMessage(role: .user, content: "Hi")], stream: true)
/// let answer = try await provider.complete(request) { delta in print(delta, terminator: "") }
/// ```
public struct OpenAIChatProvider: LLMProvider {
    public let name = "openai"
    /// e.g. `https://api.openai.com/v1`; requests go to `{baseURL}/chat/completions`.
    public let baseURL: String
    private let transport: ProviderTransport
    /// OpenAI's own service wants `max_completion_tokens` (its reasoning models reject `max_tokens`);
    /// other servers know only `max_tokens`.
    private let officialService: Bool

    /// - Parameters:
    ///   - apiKey: sent as `Authorization: Bearer …` (and as `api-key` to Azure) when set.
    ///   - timeout: the longest wait for the response head (a non-streamed answer arrives whole, so this bounds it).
    ///   - idleTimeout: the longest silence between two pieces of the body.
    public init(baseURL: String, apiKey: String?, timeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(60)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        let host = URL(string: base)?.host?.lowercased() ?? ""
        officialService = host == "api.openai.com" || host.hasSuffix(".openai.azure.com")
        var headers = [("Content-Type", "application/json"), ("User-Agent", "glassbox")]
        if let apiKey, !apiKey.isEmpty {
            headers.append(("Authorization", "Bearer \(apiKey)"))
            if host.hasSuffix(".azure.com") { headers.append(("api-key", apiKey)) }
        }
        transport = ProviderTransport(
            service: "OpenAI-compatible server", url: base + "/chat/completions", headers: headers,
            timeout: timeout, idleTimeout: idleTimeout, secret: apiKey, keyVariable: "OPENAI_API_KEY")
    }

    public func complete(_ request: ChatRequest, onText: @escaping @Sendable (String) async -> Void) async throws -> ChatResponse {
        let body = requestBody(request).jsonText
        return try await transport.complete(body, stream: request.stream, assembler: OpenAIStreamAssembler.self, errorDetail: { Self.errorDetail($0) },
                                            parse: { try Self.parseCompletion($0, transport: $1) }, onText: onText)
    }

    /// The Chat Completions request body.
    func requestBody(_ request: ChatRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(request.messages.map(Self.message)),
        ]
        if request.stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                ["type": "function", "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.parameters]]
            })
        }
        if let maxTokens = request.maxTokens {
            body[officialService ? "max_completion_tokens" : "max_tokens"] = .integer(Int64(maxTokens))
        }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        return .object(body)
    }

    static func message(_ message: ChatMessage) -> JSONValue {
        var out: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": .string(message.content)]
        switch message.role {
        case .assistant where !message.toolCalls.isEmpty:
            if message.content.isEmpty { out["content"] = .null }
            out["tool_calls"] = .array(message.toolCalls.map { call in
                ["id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
            })
        case .tool:
            out["tool_call_id"] = .string(message.toolCallID ?? "")
        default: break
        }
        return .object(out)
    }

    /// The explanation in an error body: `{"error":{"message","type","code"}}`, or the shapes other
    /// compatible servers use (`{"error":"…"}`, `{"detail":"…"}`, `{"message":"…"}`).
    static func errorDetail(_ body: JSONValue) -> String? {
        if let error = body["error"] {
            if let text = error.string { return text }
            guard let message = error["message"]?.string else { return nil }
            let code = error["code"]?.string ?? error["type"]?.string
            return code.map { "\(message) (\($0))" } ?? message
        }
        return body["detail"]?.string ?? body["message"]?.string
    }

    static func parseCompletion(_ text: String, transport: ProviderTransport) throws -> ChatResponse {
        guard let json = try? JSONValue(parsing: text) else { throw transport.malformed("a body that is not JSON", body: text) }
        if json["choices"] == nil, json["error"] != nil {
            throw inBandError(json, transport: transport)
        }
        guard let choice = json["choices"]?.array?.first, let message = choice["message"] else {
            throw transport.malformed("JSON without `choices[0].message`", body: text)
        }
        var calls: [ModelToolCall] = []
        for (index, call) in (message["tool_calls"]?.array ?? []).enumerated() {
            guard let function = call["function"], let name = function["name"]?.string else {
                throw transport.malformed("a tool call without a function name", body: call.jsonText)
            }
            let arguments = function["arguments"]?.string ?? function["arguments"].map(\.jsonText) ?? ""
            calls.append(ModelToolCall(id: call["id"]?.string ?? "call_\(index)", name: name, arguments: arguments))
        }
        return ChatResponse(
            id: json["id"]?.string ?? "", model: json["model"]?.string ?? "",
            content: message["content"]?.string ?? "", toolCalls: calls,
            finishReason: choice["finish_reason"]?.string ?? (calls.isEmpty ? "stop" : "tool_calls"),
            usage: usage(json["usage"]))
    }

    static func usage(_ json: JSONValue?) -> TokenUsage {
        guard let json, json.object != nil else { return TokenUsage() }
        func int(_ value: JSONValue?) -> Int { value?.integer.map { Int($0) } ?? 0 }
        return TokenUsage(
            input: int(json["prompt_tokens"]), output: int(json["completion_tokens"]),
            cacheRead: int(json["prompt_tokens_details"]?["cached_tokens"]),
            reasoning: int(json["completion_tokens_details"]?["reasoning_tokens"]))
    }

    /// An error a server reports in a 200 answer or in the middle of a stream (OpenRouter, LiteLLM do).
    static func inBandError(_ json: JSONValue, transport: ProviderTransport) -> ProviderError {
        let error = json["error"]
        let code = error?["code"]?.integer.map(Int.init).flatMap { (400..<600).contains($0) ? $0 : nil }
        let status = code ?? (error?["type"]?.string == "rate_limit_exceeded" ? 429 : 500)
        let detail = errorDetail(json) ?? ProviderTransport.excerpt(json.jsonText)
        return ProviderError(
            kind: "http_\(status)", message: transport.scrub("\(transport.serviceName) reported an error in its answer: \(detail). Try again later."),
            status: status, retryable: ProviderTransport.retryableStatuses.contains(status))
    }
}

/// Builds one answer from the `chat.completion.chunk` events of a stream: text deltas, tool calls
/// assembled by `index`, the finish reason, and the usage chunk that `include_usage` adds.
struct OpenAIStreamAssembler: StreamAssembler {
    private var id = ""
    private var model = ""
    private var content = ""
    private var calls: [Int: (id: String, name: String, arguments: String)] = [:]
    private var finishReason: String?
    private var usage = TokenUsage()
    private var done = false

    /// Takes one event; returns the text it adds.
    mutating func consume(_ event: ServerSentEvent, transport: ProviderTransport) throws -> String? {
        let data = event.data.trimmingCharacters(in: .whitespaces)
        if data == "[DONE]" {
            done = true
            return nil
        }
        if data.isEmpty || done { return nil }
        guard let json = try? JSONValue(parsing: data) else {
            throw transport.malformed("a stream event that is not JSON", body: data)
        }
        if json["error"] != nil, json["choices"] == nil { throw OpenAIChatProvider.inBandError(json, transport: transport) }
        if id.isEmpty, let value = json["id"]?.string { id = value }
        if model.isEmpty, let value = json["model"]?.string { model = value }
        if json["usage"]?.object != nil { usage = OpenAIChatProvider.usage(json["usage"]) }
        guard let choice = json["choices"]?.array?.first else { return nil }
        if let reason = choice["finish_reason"]?.string { finishReason = reason }
        guard let delta = choice["delta"] else { return nil }
        for call in delta["tool_calls"]?.array ?? [] {
            let index = call["index"]?.integer.map(Int.init) ?? calls.count
            var entry = calls[index] ?? (id: "", name: "", arguments: "")
            if let value = call["id"]?.string, !value.isEmpty { entry.id = value }
            if entry.name.isEmpty, let value = call["function"]?["name"]?.string { entry.name = value }
            if let value = call["function"]?["arguments"]?.string { entry.arguments += value }
            calls[index] = entry
        }
        let text = delta["content"]?.string
        if let text { content += text }
        return text
    }

    /// The whole answer, once the stream has ended.
    func finish(transport: ProviderTransport) throws -> ChatResponse {
        guard done || finishReason != nil else {
            throw transport.truncated("before its finish reason and `[DONE]`")
        }
        let toolCalls = calls.sorted { $0.key < $1.key }.map { index, call in
            ModelToolCall(id: call.id.isEmpty ? "call_\(index)" : call.id, name: call.name, arguments: call.arguments)
        }
        return ChatResponse(
            id: id, model: model, content: content, toolCalls: toolCalls,
            finishReason: finishReason ?? (toolCalls.isEmpty ? "stop" : "tool_calls"), usage: usage)
    }
}
