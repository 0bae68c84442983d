public import Tools

/// One message of a conversation with a model.
///
/// ```swift
/// let messages = [
///     ChatMessage(role: .system, content: "You are a careful data engineer."),
///     ChatMessage(role: .user, content: "How many orders are there?"),
/// ]
/// ```
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant, tool }
    public var role: Role
    /// The text; may be "" for an assistant message that only calls tools.
    public var content: String
    /// The tools an assistant message asked for.
    public var toolCalls: [ModelToolCall]
    /// For a `tool` message: the id of the call it answers.
    public var toolCallID: String?

    public init(role: Role, content: String, toolCalls: [ModelToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }
}

/// A tool call the model asked for. `arguments` is the JSON text exactly as the model wrote it
/// (OpenAI sends a string; Anthropic an object, which the client serialises with `JSONValue.jsonText`).
public struct ModelToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A tool offered to the model: its name, what it does, and a JSON Schema of its input.
public struct ToolSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// What one model call asks for.
public struct ChatRequest: Sendable {
    public var model: String
    public var messages: [ChatMessage]
    public var tools: [ToolSpec]
    /// The most tokens the answer may use. Anthropic requires one: 4096 there when nil.
    public var maxTokens: Int?
    public var temperature: Double?
    /// Stream the answer, calling `onText` with each text delta.
    public var stream: Bool

    public init(
        model: String, messages: [ChatMessage], tools: [ToolSpec] = [], maxTokens: Int? = nil,
        temperature: Double? = nil, stream: Bool = false
    ) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stream = stream
    }
}

/// Tokens one call used, as the provider counted them.
public struct TokenUsage: Sendable, Equatable {
    /// Prompt tokens, including those read from the provider's prompt cache.
    public var input = 0
    public var output = 0
    /// Prompt tokens served from the provider's prompt cache.
    public var cacheRead = 0
    /// Output tokens spent on hidden reasoning (part of `output`).
    public var reasoning = 0

    public init(input: Int = 0, output: Int = 0, cacheRead: Int = 0, reasoning: Int = 0) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.reasoning = reasoning
    }
}

/// A model's answer to one call.
public struct ChatResponse: Sendable, Equatable {
    /// The provider's response id.
    public var id: String
    /// The model that answered.
    public var model: String
    /// All text, concatenated.
    public var content: String
    public var toolCalls: [ModelToolCall]
    /// As the provider says it: "stop", "tool_calls", "end_turn", "tool_use", "length"…
    public var finishReason: String
    public var usage: TokenUsage

    public init(
        id: String, model: String, content: String, toolCalls: [ModelToolCall] = [], finishReason: String,
        usage: TokenUsage = TokenUsage()
    ) {
        self.id = id
        self.model = model
        self.content = content
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// One failed attempt. `kind` is low-cardinality and becomes `error.type`:
/// "http_<status>" (e.g. http_429, http_500, http_401), "timeout", "connection", "malformed_response",
/// "truncated_response" (stream ended before its end marker), "cancelled".
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    public var kind: String
    /// What happened and what to do; never contains the API key.
    public var message: String
    public var status: Int?
    /// Seconds to wait, from Retry-After (delta-seconds or HTTP date) or retry-after-ms.
    public var retryAfter: Double?
    /// True for 429, 500, 502, 503, 504, 529, timeout, connection and truncated responses.
    public var retryable: Bool

    public init(kind: String, message: String, status: Int? = nil, retryAfter: Double? = nil, retryable: Bool) {
        self.kind = kind
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
        self.retryable = retryable
    }

    public var description: String { "\(kind): \(message)" }
}

/// A model behind some wire format.
public protocol LLMProvider: Sendable {
    /// gen_ai.provider.name: "openai", "anthropic", "scripted".
    var name: String { get }
    /// One attempt (no retries: the agent loop retries, so each attempt is its own pair of events).
    /// With `request.stream`, calls `onText` with text deltas as they arrive. Throws ProviderError,
    /// or CancellationError when the task is cancelled (the HTTP request must be torn down at once).
    func complete(_ request: ChatRequest, onText: @escaping @Sendable (String) async -> Void) async throws -> ChatResponse
}
