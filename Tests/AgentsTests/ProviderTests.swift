@testable import Agents
import Foundation
import GlassboxTesting
import Synchronization
import Testing
import Tools

/// Both clients against FakeLLMServer over real loopback HTTP.
@Suite struct ProviderTests {
    static let key = "sk-test-SECRET-0123456789"
    static let wires: [FakeLLMServer.Wire] = [.openAI, .anthropic]

    /// Text deltas as `onText` delivers them.
    final class Deltas: Sendable {
        private let pieces = Mutex<[String]>([])
        let first: AsyncStream<Void>
        private let firstArrived: AsyncStream<Void>.Continuation

        init() {
            (first, firstArrived) = AsyncStream.makeStream()
        }

        var all: [String] { pieces.withLock { $0 } }

        func append(_ piece: String) {
            pieces.withLock { $0.append(piece) }
            firstArrived.yield()
        }
    }

    private func provider(_ server: FakeLLMServer, key: String? = ProviderTests.key,
                          timeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(30)) -> any LLMProvider {
        switch server.wire {
        case .openAI: OpenAIChatProvider(baseURL: server.baseURL, apiKey: key, timeout: timeout, idleTimeout: idleTimeout)
        case .anthropic: AnthropicProvider(baseURL: server.baseURL, apiKey: key, timeout: timeout, idleTimeout: idleTimeout)
        }
    }

    private func withServer(_ wire: FakeLLMServer.Wire, _ body: (FakeLLMServer) async throws -> Void) async throws {
        let server = try await FakeLLMServer.start(wire: wire)
        do {
            try await body(server)
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    private func request(stream: Bool, tools: [ToolSpec] = []) -> ChatRequest {
        ChatRequest(
            model: "test-model",
            messages: [ChatMessage(role: .system, content: "Be brief."), ChatMessage(role: .user, content: "How many orders?")],
            tools: tools, stream: stream)
    }

    /// The ProviderError a call throws, checked never to contain the key.
    private func failure(_ provider: any LLMProvider, _ request: ChatRequest, deltas: Deltas = Deltas()) async -> ProviderError? {
        do {
            _ = try await provider.complete(request) { deltas.append($0) }
            Issue.record("the call succeeded; an error was expected")
            return nil
        } catch let error as ProviderError {
            #expect(!error.message.contains(Self.key))
            #expect(!error.description.contains(Self.key))
            return error
        } catch {
            Issue.record("expected a ProviderError, got \(error)")
            return nil
        }
    }

    private func sentBody(_ server: FakeLLMServer, _ index: Int = 0) throws -> JSONValue {
        try JSONValue(parsing: server.requests[index].body)
    }

    // MARK: - Answers

    @Test(arguments: wires, [false, true])
    func plainAnswerWithUsage(wire: FakeLLMServer.Wire, stream: Bool) async throws {
        try await withServer(wire) { server in
            server.enqueue(.answer(text: "There are 42 orders.", inputTokens: 12, outputTokens: 7))
            let deltas = Deltas()
            let answer = try await provider(server).complete(request(stream: stream)) { deltas.append($0) }
            #expect(answer.content == "There are 42 orders.")
            #expect(answer.toolCalls.isEmpty)
            #expect(answer.finishReason == (wire == .openAI ? "stop" : "end_turn"))
            #expect(answer.usage.input == 12)
            #expect(answer.usage.output == 7)
            #expect(answer.model == "test-model")
            #expect(!answer.id.isEmpty)
            #expect(deltas.all.joined() == (stream ? "There are 42 orders." : ""))
        }
    }

    @Test(arguments: wires)
    func streamedTextArrivesInSeveralDeltas(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            let text = "The warehouse holds forty-two orders from three customers."
            server.enqueue(.answer(text: text, chunks: 4))
            let deltas = Deltas()
            let answer = try await provider(server).complete(request(stream: true)) { deltas.append($0) }
            #expect(deltas.all.count >= 4)
            #expect(deltas.all.joined() == text)
            #expect(answer.content == text)
        }
    }

    @Test(arguments: wires, [false, true])
    func severalToolCalls(wire: FakeLLMServer.Wire, stream: Bool) async throws {
        try await withServer(wire) { server in
            server.enqueue(.answer(text: "", toolCalls: [
                .init(id: "call_a", name: "sql.query", arguments: #"{"connection":"warehouse","sql":"SELECT count(*) FROM orders"}"#),
                .init(id: "call_b", name: "catalog.search", arguments: #"{"query":"customers"}"#),
            ], chunks: 3))
            let spec = ToolSpec(name: "sql.query", description: "Runs SQL", parameters: ["type": "object"])
            let answer = try await provider(server).complete(request(stream: stream, tools: [spec])) { _ in }
            #expect(answer.toolCalls == [
                ModelToolCall(id: "call_a", name: "sql.query", arguments: #"{"connection":"warehouse","sql":"SELECT count(*) FROM orders"}"#),
                ModelToolCall(id: "call_b", name: "catalog.search", arguments: #"{"query":"customers"}"#),
            ])
            #expect(answer.finishReason == (wire == .openAI ? "tool_calls" : "tool_use"))
        }
    }

    @Test func openAICachedAndReasoningTokens() async throws {
        try await withServer(.openAI) { server in
            server.enqueue(.raw(status: 200, contentType: "application/json", body: """
                {"id":"chatcmpl-1","object":"chat.completion","model":"o4-mini","choices":[{"index":0,
                "message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":2000,"completion_tokens":300,"total_tokens":2300,
                "prompt_tokens_details":{"cached_tokens":1536},"completion_tokens_details":{"reasoning_tokens":256}}}
                """))
            let answer = try await provider(server).complete(request(stream: false)) { _ in }
            #expect(answer.usage == TokenUsage(input: 2000, output: 300, cacheRead: 1536, reasoning: 256))
        }
    }

    @Test func anthropicCacheReadsCountAsInput() async throws {
        try await withServer(.anthropic) { server in
            server.enqueue(.raw(status: 200, contentType: "application/json", body: """
                {"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"ok"}],
                "stop_reason":"end_turn","stop_sequence":null,
                "usage":{"input_tokens":100,"cache_read_input_tokens":900,"cache_creation_input_tokens":0,"output_tokens":20}}
                """))
            let answer = try await provider(server).complete(request(stream: false)) { _ in }
            #expect(answer.usage == TokenUsage(input: 1000, output: 20, cacheRead: 900))
        }
    }

    @Test func anthropicStreamSkipsPingsAndThinking() async throws {
        try await withServer(.anthropic) { server in
            let events: [(String, String)] = [
                ("message_start", #"{"type":"message_start","message":{"id":"msg_9","model":"claude-x","usage":{"input_tokens":5,"cache_read_input_tokens":3,"output_tokens":1}}}"#),
                ("ping", #"{"type":"ping"}"#),
                ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
                ("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"noop","input":{}}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
                ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#),
                ("message_stop", #"{"type":"message_stop"}"#),
            ]
            let body = events.map { "event: \($0.0)\r\ndata: \($0.1)\r\n\r\n" }.joined()
            server.enqueue(.raw(status: 200, contentType: "text/event-stream", body: body))
            let deltas = Deltas()
            let answer = try await provider(server).complete(request(stream: true)) { deltas.append($0) }
            #expect(deltas.all == ["Hi"])
            #expect(answer == ChatResponse(
                id: "msg_9", model: "claude-x", content: "Hi", toolCalls: [ModelToolCall(id: "toolu_1", name: "noop", arguments: "{}")],
                finishReason: "tool_use", usage: TokenUsage(input: 8, output: 9, cacheRead: 3)))
        }
    }

    // MARK: - What the server received

    private let conversation: [ChatMessage] = [
        ChatMessage(role: .system, content: "You are a data engineer."),
        ChatMessage(role: .user, content: "Count the orders and customers."),
        ChatMessage(role: .assistant, content: "", toolCalls: [
            ModelToolCall(id: "call_1", name: "sql.query", arguments: #"{"sql":"SELECT count(*) FROM orders"}"#),
            ModelToolCall(id: "call_2", name: "sql.query", arguments: #"{"sql":"SELECT count(*) FROM customers"}"#),
        ]),
        ChatMessage(role: .tool, content: "42", toolCallID: "call_1"),
        ChatMessage(role: .tool, content: "7", toolCallID: "call_2"),
    ]

    private let tool = ToolSpec(
        name: "sql.query", description: "Runs a read-only query",
        parameters: ["type": "object", "properties": ["sql": ["type": "string"]], "required": ["sql"]])

    @Test func openAIRequestShape() async throws {
        try await withServer(.openAI) { server in
            server.enqueue(.answer(text: "42 orders, 7 customers."))
            let request = ChatRequest(model: "gpt-4o-mini", messages: conversation, tools: [tool], maxTokens: 500, temperature: 0.2, stream: true)
            _ = try await provider(server).complete(request) { _ in }
            let recorded = server.requests[0]
            #expect(recorded.method == "POST")
            #expect(recorded.path == "/v1/chat/completions")
            #expect(recorded.header("Authorization") == "Bearer \(Self.key)")
            let body = try sentBody(server)
            #expect(body["model"] == "gpt-4o-mini")
            #expect(body["stream"] == true)
            #expect(body["stream_options"] == ["include_usage": true])
            #expect(body["max_tokens"] == 500)
            #expect(body["temperature"] == 0.2)
            #expect(body["tools"] == [["type": "function", "function": ["name": "sql.query", "description": "Runs a read-only query", "parameters": tool.parameters]]])
            let messages = try #require(body["messages"]?.array)
            #expect(messages.count == 5)
            #expect(messages[0] == ["role": "system", "content": "You are a data engineer."])
            #expect(messages[1] == ["role": "user", "content": "Count the orders and customers."])
            #expect(messages[2]["content"] == .null)
            #expect(messages[2]["tool_calls"]?.array?.first == [
                "id": "call_1", "type": "function", "function": ["name": "sql.query", "arguments": #"{"sql":"SELECT count(*) FROM orders"}"#],
            ])
            #expect(messages[2]["tool_calls"]?.array?.count == 2)
            #expect(messages[3] == ["role": "tool", "tool_call_id": "call_1", "content": "42"])
            #expect(messages[4] == ["role": "tool", "tool_call_id": "call_2", "content": "7"])
        }
    }

    @Test func openAIWithoutKeySendsNoAuthorization() async throws {
        try await withServer(.openAI) { server in
            server.enqueue(.answer(text: "ok"))
            _ = try await provider(server, key: nil).complete(request(stream: false)) { _ in }
            #expect(server.requests[0].header("Authorization") == nil)
            #expect(try sentBody(server)["stream"] == nil)
        }
    }

    @Test func anthropicRequestShape() async throws {
        try await withServer(.anthropic) { server in
            server.enqueue(.answer(text: "42 orders, 7 customers."))
            let messages = conversation + [ChatMessage(role: .user, content: "And the revenue?")]
            let request = ChatRequest(model: "claude-sonnet-4-5", messages: messages, tools: [tool], stream: true)
            _ = try await provider(server).complete(request) { _ in }
            let recorded = server.requests[0]
            #expect(recorded.path == "/v1/messages")
            #expect(recorded.header("x-api-key") == Self.key)
            #expect(recorded.header("anthropic-version") == "2023-06-01")
            #expect(recorded.header("Authorization") == nil)
            let body = try sentBody(server)
            #expect(body["system"] == "You are a data engineer.")
            #expect(body["max_tokens"] == 4096)
            #expect(body["stream"] == true)
            #expect(body["tools"] == [["name": "sql.query", "description": "Runs a read-only query", "input_schema": tool.parameters]])
            let sent = try #require(body["messages"]?.array)
            // system left out; both tool results and the next user text share one user message.
            #expect(sent.map { $0["role"]?.string } == ["user", "assistant", "user"])
            #expect(sent[0]["content"] == [["type": "text", "text": "Count the orders and customers."]])
            #expect(sent[1]["content"] == [
                ["type": "tool_use", "id": "call_1", "name": "sql.query", "input": ["sql": "SELECT count(*) FROM orders"]],
                ["type": "tool_use", "id": "call_2", "name": "sql.query", "input": ["sql": "SELECT count(*) FROM customers"]],
            ])
            #expect(sent[2]["content"] == [
                ["type": "tool_result", "tool_use_id": "call_1", "content": "42"],
                ["type": "tool_result", "tool_use_id": "call_2", "content": "7"],
                ["type": "text", "text": "And the revenue?"],
            ])
        }
    }

    // MARK: - Failures

    @Test(arguments: wires)
    func rateLimitSurfacesRetryAfter(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.error(status: 429, message: "Rate limit reached for requests", headers: [("Retry-After", "7")]))
            let error = try #require(await failure(provider(server), request(stream: true)))
            #expect(error.kind == "http_429")
            #expect(error.status == 429)
            #expect(error.retryAfter == 7)
            #expect(error.retryable)
            #expect(error.message.contains("Rate limit reached for requests"))
        }
    }

    @Test func retryAfterMillisecondsWins() async throws {
        try await withServer(.openAI) { server in
            server.enqueue(.error(status: 429, message: "slow down", headers: [("retry-after-ms", "1500"), ("Retry-After", "2")]))
            let error = try #require(await failure(provider(server), request(stream: false)))
            #expect(error.retryAfter == 1.5)
        }
    }

    @Test func retryAfterAsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // 07:28:00 GMT that day
        #expect(ProviderTransport.retryAfter(milliseconds: nil, header: "Wed, 21 Oct 2015 07:28:30 GMT", now: now) == 30)
        #expect(ProviderTransport.retryAfter(milliseconds: nil, header: "Wed, 21 Oct 2015 07:27:30 GMT", now: now) == 0)
        #expect(ProviderTransport.retryAfter(milliseconds: nil, header: "soon", now: now) == nil)
    }

    @Test(arguments: wires)
    func serverErrorBody(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.error(status: 500, message: "The server had an error while processing your request."))
            let error = try #require(await failure(provider(server), request(stream: false)))
            #expect(error.kind == "http_500")
            #expect(error.status == 500)
            #expect(error.retryable)
            #expect(error.retryAfter == nil)
            #expect(error.message.contains("The server had an error while processing your request."))
        }
    }

    @Test(arguments: wires)
    func badKeyIsNotRetryableAndNeverEchoed(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.error(status: 401, message: "Incorrect API key provided: \(Self.key)."))
            let error = try #require(await failure(provider(server), request(stream: false)))
            #expect(error.kind == "http_401")
            #expect(!error.retryable)
            #expect(error.message.contains(wire == .openAI ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"))
            #expect(error.message.contains("[redacted]"))
        }
    }

    @Test func anthropicOverloadedIsRetryable() async throws {
        try await withServer(.anthropic) { server in
            server.enqueue(.error(status: 529, message: "Overloaded"))
            let error = try #require(await failure(provider(server), request(stream: true)))
            #expect(error.kind == "http_529")
            #expect(error.retryable)
            #expect(error.message.contains("overloaded_error"))
        }
    }

    @Test func anthropicErrorEventInTheStream() async throws {
        try await withServer(.anthropic) { server in
            let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\n"
                + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
            server.enqueue(.raw(status: 200, contentType: "text/event-stream", body: body))
            let error = try #require(await failure(provider(server), request(stream: true)))
            #expect(error.kind == "http_529")
            #expect(error.retryable)
        }
    }

    @Test(arguments: wires, [false, true])
    func malformedJSON(wire: FakeLLMServer.Wire, stream: Bool) async throws {
        try await withServer(wire) { server in
            if stream {
                server.enqueue(.raw(status: 200, contentType: "text/event-stream", body: "data: {\"id\": oops\n\n"))
            } else {
                server.enqueue(.raw(status: 200, contentType: "application/json", body: "<html>Bad gateway page</html>"))
            }
            let error = try #require(await failure(provider(server), request(stream: stream)))
            #expect(error.kind == "malformed_response")
            #expect(!error.retryable)
            #expect(error.message.contains(stream ? "{\"id\": oops" : "<html>Bad gateway page</html>"))
        }
    }

    @Test(arguments: wires)
    func truncatedStream(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.truncated(text: "The answer is forty", chunks: 3))
            let deltas = Deltas()
            let error = try #require(await failure(provider(server), request(stream: true), deltas: deltas))
            #expect(error.kind == "truncated_response")
            #expect(error.retryable)
            #expect(!deltas.all.isEmpty)
        }
    }

    @Test(arguments: wires)
    func truncatedJSONBody(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.truncated(text: "The answer is forty", chunks: 3))
            let error = try #require(await failure(provider(server), request(stream: false)))
            #expect(["truncated_response", "malformed_response"].contains(error.kind))
        }
    }

    /// How a call ended, waiting at most `limit`: a call that ignored cancellation would run on for as
    /// long as the server streams (minutes here), so "still running" means it was not torn down.
    private func outcome(of call: Task<ChatResponse, any Error>, limit: Duration = .seconds(20)) async -> String {
        await withTaskGroup(of: String.self) { group in
            group.addTask {
                do {
                    _ = try await call.value
                    return "finished"
                } catch is CancellationError {
                    return "cancelled"
                } catch let error as ProviderError {
                    return "\(error.kind): \(error.message)"
                } catch {
                    return "failed: \(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return "still running"
            }
            let first = await group.next() ?? ""
            group.cancelAll()
            call.cancel()
            return first
        }
    }

    @Test(arguments: wires)
    func cancellingAStreamWhileTextFlows(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.slowStream(text: "still thinking about it", interval: .milliseconds(200)))
            let deltas = Deltas()
            let call = Task { [provider = provider(server), request = request(stream: true)] in
                try await provider.complete(request) { deltas.append($0) }
            }
            for await _ in deltas.first { break }
            call.cancel()
            #expect(await outcome(of: call) == "cancelled")
        }
    }

    @Test(arguments: wires, [false, true])
    func cancellingASilentServerEndsTheCallAtOnce(wire: FakeLLMServer.Wire, stream: Bool) async throws {
        try await withServer(wire) { server in
            // Nothing arrives for five minutes: only tearing the request down ends the call.
            server.enqueue(.slowStream(text: "word", interval: .seconds(300)))
            let call = Task { [provider = provider(server, timeout: .seconds(600), idleTimeout: .seconds(600)), request = request(stream: stream)] in
                try await provider.complete(request) { _ in }
            }
            while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(100))
            call.cancel()
            #expect(await outcome(of: call) == "cancelled")
        }
    }

    @Test(arguments: wires)
    func stalledStreamTimesOut(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            // The head arrives at once, then nothing for five minutes; the head's timeout is longer still.
            server.enqueue(.slowStream(text: "word", interval: .seconds(300)))
            let slow = provider(server, timeout: .seconds(600), idleTimeout: .milliseconds(300))
            let request = request(stream: true)
            let call = Task { try await slow.complete(request) { _ in } }
            let ending = await outcome(of: call)
            #expect(ending.hasPrefix("timeout: "))
            #expect(ending.contains("stalled: nothing arrived for 0.3 s"))
        }
    }

    @Test(arguments: wires)
    func noResponseHeadTimesOut(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            // A request that is not streamed gets no answer at all.
            server.enqueue(.slowStream(text: "word", interval: .seconds(30)))
            let slow = provider(server, timeout: .milliseconds(300), idleTimeout: .seconds(600))
            let request = request(stream: false)
            let call = Task { try await slow.complete(request) { _ in } }
            let ending = await outcome(of: call)
            #expect(ending.hasPrefix("timeout: "))
            #expect(ending.contains("did not answer within 0.3 s"))
        }
    }

    @Test(arguments: wires)
    func refusedConnection(wire: FakeLLMServer.Wire) async throws {
        let server = try await FakeLLMServer.start(wire: wire)
        let dead = provider(server)
        try await server.shutdown()
        let error = try #require(await failure(dead, request(stream: false)))
        #expect(error.kind == "connection")
        #expect(error.retryable)
    }

    @Test func unusableBaseURL() async throws {
        let provider = OpenAIChatProvider(baseURL: "localhost:8080/v1", apiKey: Self.key)
        let error = try #require(await failure(provider, request(stream: false)))
        #expect(error.kind == "connection")
        #expect(!error.retryable)
    }

    // MARK: - Endpoints

    @Test func endpointsFromTheEnvironment() {
        let openAI = ProviderEndpoint(kind: .openAI, environment: [:])
        #expect(openAI == ProviderEndpoint(kind: .openAI, baseURL: "https://api.openai.com/v1", apiKey: nil))
        #expect(openAI.description == "openai at https://api.openai.com/v1 (no key)")

        let local = ProviderEndpoint(kind: .openAI, environment: ["OPENAI_BASE_URL": "http://127.0.0.1:11434/v1/", "OPENAI_API_KEY": " "])
        #expect(local == ProviderEndpoint(kind: .openAI, baseURL: "http://127.0.0.1:11434/v1", apiKey: nil))

        let anthropic = ProviderEndpoint(kind: .anthropic, environment: ["ANTHROPIC_API_KEY": Self.key, "OPENAI_API_KEY": "other"])
        #expect(anthropic.baseURL == "https://api.anthropic.com")
        #expect(anthropic.apiKey == Self.key)
        #expect(anthropic.description == "anthropic at https://api.anthropic.com (key set)")
        #expect(!"\(anthropic)".contains(Self.key))
        #expect(!String(reflecting: anthropic).contains(Self.key))
        var dumped = ""
        dump(anthropic, to: &dumped)
        #expect(!dumped.contains(Self.key))
    }

    @Test(arguments: wires)
    func endpointMakesAWorkingProvider(wire: FakeLLMServer.Wire) async throws {
        try await withServer(wire) { server in
            server.enqueue(.answer(text: "hello"))
            let kind: ProviderEndpoint.Kind = wire == .openAI ? .openAI : .anthropic
            let provider = ProviderEndpoint(kind: kind, baseURL: server.baseURL, apiKey: Self.key).makeProvider()
            #expect(provider.name == kind.rawValue)
            let answer = try await provider.complete(request(stream: true)) { _ in }
            #expect(answer.content == "hello")
        }
    }
}
