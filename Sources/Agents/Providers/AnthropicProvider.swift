import Foundation
import NIOCore
import Tools

/// A client for Anthropic's Messages API.
///
/// System messages become the top-level `system` text; an assistant's tool calls become `tool_use`
/// blocks and tool results `tool_result` blocks of a `user` message (consecutive results share one).
///
/// ```swift
/// let provider = AnthropicProvider(baseURL: "https://api.anthropic.com", apiKey: key)
/// let answer = try await provider.complete(ChatRequest(model: "claude-sonnet-4-5", messages: messages)) { _ in }
/// ```
public struct AnthropicProvider: LLMProvider {
    public let name = "anthropic"
    /// e.g. `https://api.anthropic.com`; requests go to `{baseURL}/v1/messages`.
    public let baseURL: String
    /// `max_tokens` when the request gives none (the API requires one).
    public static let defaultMaxTokens = 4096
    private let transport: ProviderTransport

    /// - Parameters:
    ///   - apiKey: sent as `x-api-key` when set.
    ///   - timeout: the longest wait for the response head (a non-streamed answer arrives whole, so this bounds it).
    ///   - idleTimeout: the longest silence between two pieces of the body.
    ///   - version: the `anthropic-version` header.
    public init(
        baseURL: String, apiKey: String?, timeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(60),
        version: String = "2023-06-01"
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        var headers = [("Content-Type", "application/json"), ("User-Agent", "glassbox"), ("anthropic-version", version)]
        if let apiKey, !apiKey.isEmpty { headers.append(("x-api-key", apiKey)) }
        transport = ProviderTransport(
            service: "Anthropic API", url: base + "/v1/messages", headers: headers,
            timeout: timeout, idleTimeout: idleTimeout, secret: apiKey, keyVariable: "ANTHROPIC_API_KEY")
    }

    public func complete(_ request: ChatRequest, onText: @escaping @Sendable (String) async -> Void) async throws -> ChatResponse {
        let body = Self.requestBody(request).jsonText
        return try await transport.complete(body, stream: request.stream, assembler: AnthropicStreamAssembler.self, errorDetail: { Self.errorDetail($0) },
                                            parse: { try Self.parseMessage($0, transport: $1) }, onText: onText)
    }

    /// The Messages request body.
    static func requestBody(_ request: ChatRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "max_tokens": .integer(Int64(request.maxTokens ?? defaultMaxTokens)),
            "messages": .array(messages(request.messages)),
        ]
        let system = request.messages.filter { $0.role == .system }.map(\.content).filter { !$0.isEmpty }
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                ["name": .string(tool.name), "description": .string(tool.description), "input_schema": tool.parameters]
            })
        }
        if request.stream { body["stream"] = true }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        return .object(body)
    }

    /// The conversation as alternating `user`/`assistant` messages of content blocks: tool results
    /// and user text that follow each other share one `user` message.
    static func messages(_ messages: [ChatMessage]) -> [JSONValue] {
        var out: [(role: String, blocks: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if out.last?.role == role {
                out[out.count - 1].blocks += blocks
            } else {
                out.append((role, blocks))
            }
        }
        for message in messages {
            let text: [JSONValue] = message.content.isEmpty ? [] : [["type": "text", "text": .string(message.content)]]
            switch message.role {
            case .system: continue
            case .user: append("user", text)
            case .tool:
                append("user", [["type": "tool_result", "tool_use_id": .string(message.toolCallID ?? ""), "content": .string(message.content)]])
            case .assistant:
                let calls: [JSONValue] = message.toolCalls.map { call in
                    let input = (try? JSONValue(parsing: call.arguments)).flatMap { $0.object == nil ? nil : $0 } ?? [:]
                    return ["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": input]
                }
                append("assistant", text + calls)
            }
        }
        return out.map { ["role": .string($0.role), "content": .array($0.blocks)] }
    }

    /// The explanation in `{"type":"error","error":{"type","message"}}`.
    static func errorDetail(_ body: JSONValue) -> String? {
        guard let error = body["error"], let message = error["message"]?.string else { return nil }
        return error["type"]?.string.map { "\(message) (\($0))" } ?? message
    }

    static func parseMessage(_ text: String, transport: ProviderTransport) throws -> ChatResponse {
        guard let json = try? JSONValue(parsing: text) else { throw transport.malformed("a body that is not JSON", body: text) }
        if json["type"]?.string == "error" { throw streamError(json, transport: transport) }
        guard let blocks = json["content"]?.array else {
            throw transport.malformed("JSON without a `content` list", body: text)
        }
        var content = ""
        var calls: [ModelToolCall] = []
        for block in blocks {
            switch block["type"]?.string {
            case "text": content += block["text"]?.string ?? ""
            case "tool_use":
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw transport.malformed("a tool_use block without id or name", body: block.jsonText)
                }
                calls.append(ModelToolCall(id: id, name: name, arguments: (block["input"] ?? [:]).jsonText))
            default: continue  // thinking and other blocks carry no answer text
            }
        }
        return ChatResponse(
            id: json["id"]?.string ?? "", model: json["model"]?.string ?? "", content: content, toolCalls: calls,
            finishReason: json["stop_reason"]?.string ?? (calls.isEmpty ? "end_turn" : "tool_use"),
            usage: usage(json["usage"], into: TokenUsage()))
    }

    /// `usage` merged into `current`: the prompt counts cache reads and writes, which Anthropic lists apart.
    static func usage(_ json: JSONValue?, into current: TokenUsage) -> TokenUsage {
        guard let json, json.object != nil else { return current }
        func int(_ key: String) -> Int? { json[key]?.integer.map { Int($0) } }
        var usage = current
        if int("input_tokens") != nil || int("cache_read_input_tokens") != nil || int("cache_creation_input_tokens") != nil {
            let cacheRead = int("cache_read_input_tokens") ?? usage.cacheRead
            usage.input = (int("input_tokens") ?? 0) + cacheRead + (int("cache_creation_input_tokens") ?? 0)
            usage.cacheRead = cacheRead
        }
        if let output = int("output_tokens") { usage.output = output }
        return usage
    }

    /// Anthropic's error types, as the HTTP status the same error has outside a stream.
    static let statusOfErrorType: [String: Int] = [
        "invalid_request_error": 400, "authentication_error": 401, "permission_error": 403, "not_found_error": 404,
        "request_too_large": 413, "rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529,
    ]

    /// An `error` event in a stream (or an error object in a 200 answer).
    static func streamError(_ json: JSONValue, transport: ProviderTransport) -> ProviderError {
        let status = json["error"]?["type"]?.string.flatMap { statusOfErrorType[$0] } ?? 500
        let detail = errorDetail(json) ?? ProviderTransport.excerpt(json.jsonText)
        return ProviderError(
            kind: "http_\(status)", message: transport.scrub("\(transport.serviceName) reported an error in its answer: \(detail). Try again later."),
            status: status, retryable: ProviderTransport.retryableStatuses.contains(status))
    }
}

/// Builds one answer from a Messages stream: `message_start`, content blocks (text deltas, tool input
/// as `input_json_delta` pieces), `message_delta` with the stop reason and usage, `message_stop`.
struct AnthropicStreamAssembler: StreamAssembler {
    private enum Block {
        case text
        case toolUse(id: String, name: String, json: String, startInput: JSONValue?)
        case other
    }

    private var id = ""
    private var model = ""
    private var content = ""
    private var blocks: [Int: Block] = [:]
    private var calls: [(index: Int, call: ModelToolCall)] = []
    private var stopReason: String?
    private var usage = TokenUsage()
    private var stopped = false

    /// Takes one event; returns the text it adds.
    mutating func consume(_ event: ServerSentEvent, transport: ProviderTransport) throws -> String? {
        guard !stopped, !event.data.isEmpty else { return nil }
        guard let json = try? JSONValue(parsing: event.data) else {
            throw transport.malformed("a stream event that is not JSON", body: event.data)
        }
        // The event name repeats the data's `type`; servers that omit `event:` still say `type`.
        let type = event.event == "message" ? json["type"]?.string ?? "" : event.event
        let index = json["index"]?.integer.map(Int.init) ?? 0
        switch type {
        case "message_start":
            let message = json["message"]
            id = message?["id"]?.string ?? id
            model = message?["model"]?.string ?? model
            usage = AnthropicProvider.usage(message?["usage"], into: usage)
        case "content_block_start":
            let block = json["content_block"]
            switch block?["type"]?.string {
            case "text":
                blocks[index] = .text
                if let text = block?["text"]?.string, !text.isEmpty {
                    content += text
                    return text
                }
            case "tool_use":
                blocks[index] = .toolUse(id: block?["id"]?.string ?? "", name: block?["name"]?.string ?? "", json: "", startInput: block?["input"])
            default: blocks[index] = .other
            }
        case "content_block_delta":
            let delta = json["delta"]
            switch (delta?["type"]?.string, blocks[index]) {
            case ("text_delta", _):
                let text = delta?["text"]?.string ?? ""
                content += text
                return text
            case ("input_json_delta", .toolUse(let id, let name, let partial, let start)?):
                blocks[index] = .toolUse(id: id, name: name, json: partial + (delta?["partial_json"]?.string ?? ""), startInput: start)
            default: break  // thinking and signature deltas carry no answer text
            }
        case "content_block_stop":
            if case .toolUse(let id, let name, let partial, let start)? = blocks[index] {
                let input: JSONValue
                if partial.trimmingCharacters(in: .whitespaces).isEmpty {
                    input = start ?? [:]
                } else {
                    guard let parsed = try? JSONValue(parsing: partial) else {
                        throw transport.malformed("tool input that is not JSON", body: partial)
                    }
                    input = parsed
                }
                calls.append((index, ModelToolCall(id: id, name: name, arguments: input.jsonText)))
            }
        case "message_delta":
            if let reason = json["delta"]?["stop_reason"]?.string { stopReason = reason }
            usage = AnthropicProvider.usage(json["usage"], into: usage)
        case "message_stop":
            stopped = true
        case "error":
            throw AnthropicProvider.streamError(json, transport: transport)
        default: break  // ping, and event types added later
        }
        return nil
    }

    /// The whole answer, once the stream has ended.
    func finish(transport: ProviderTransport) throws -> ChatResponse {
        guard stopped else { throw transport.truncated("before `message_stop`") }
        let toolCalls = calls.sorted { $0.index < $1.index }.map(\.call)
        return ChatResponse(
            id: id, model: model, content: content, toolCalls: toolCalls,
            finishReason: stopReason ?? (toolCalls.isEmpty ? "end_turn" : "tool_use"), usage: usage)
    }
}
