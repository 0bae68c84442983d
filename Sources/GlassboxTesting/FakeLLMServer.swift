import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 that answers like the OpenAI Chat Completions API or the
/// Anthropic Messages API, with replies scripted per test.
///
/// Each request takes the next enqueued reply; when none is left, the fallback answers. Streamed
/// requests (`"stream": true` in the body) get server-sent events, others one JSON body. Every
/// request is recorded. Connections stay open between requests (keep-alive), and any number of
/// requests may run at once.
///
/// ```swift
/// let server = try await FakeLLMServer.start(wire: .openAI)
/// defer { Task { try await server.shutdown() } }
/// server.enqueue(
///     .error(status: 429, message: "slow down", headers: [("Retry-After", "1")]),
///     .answer(toolCalls: [.init(id: "call_1", name: "sql.query", arguments: #"{"sql":"SELECT 1"}"#)]),
///     .answer(text: "One row.")
/// )
/// let provider = OpenAIChatProvider(baseURL: server.baseURL, apiKey: "test-key")
/// ```
public final class FakeLLMServer: Sendable {
    /// Which provider's wire format the server speaks.
    public enum Wire: Sendable {
        /// OpenAI Chat Completions: `POST /v1/chat/completions`.
        case openAI
        /// Anthropic Messages: `POST /v1/messages`.
        case anthropic
    }

    /// A tool call in a scripted answer.
    public struct FakeToolCall: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The arguments as JSON text, e.g. `{"sql":"SELECT 1"}`; sent as a string to OpenAI
        /// clients and as the `input` object to Anthropic clients (empty text means `{}`).
        public var arguments: String

        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    /// What the server answers to one request.
    public enum Reply: Sendable {
        /// A normal answer. Served as SSE chunks when the request has `"stream": true` (the text, and
        /// each tool call's arguments, split into `chunks` pieces, `interval` apart), else as one JSON
        /// body. The usage block is included (for OpenAI streams when `stream_options.include_usage`
        /// is set, as OpenAI does).
        case answer(
            text: String = "", toolCalls: [FakeToolCall] = [], inputTokens: Int = 10, outputTokens: Int = 5,
            chunks: Int = 3, interval: Duration = .zero
        )
        /// An error in the provider's documented error shape, with extra headers (e.g. `Retry-After: 1`).
        case error(status: Int, message: String, headers: [(String, String)] = [])
        /// Any status, content type and body, for malformed responses.
        case raw(status: Int, contentType: String, body: String)
        /// A streamed answer whose `text` arrives in `chunks` deltas, after which the connection closes
        /// with no end marker (no finish reason, `[DONE]` or `message_stop`, and no last HTTP chunk).
        /// A request that is not streamed gets half of its JSON body and then the connection closes.
        case truncated(text: String, chunks: Int)
        /// Streams the words of `text`, over and over, one every `interval` (at least a millisecond),
        /// until the client goes away or the server shuts down. A request that is not streamed gets no
        /// answer at all until then. For Stop and timeout tests.
        case slowStream(text: String, interval: Duration)
    }

    /// A request as the server received it.
    public struct RecordedRequest: Sendable {
        public var method: String
        /// The request target, e.g. `/v1/chat/completions`.
        public var path: String
        public var headers: [(String, String)]
        public var body: String

        public init(method: String, path: String, headers: [(String, String)], body: String) {
            self.method = method
            self.path = path
            self.headers = headers
            self.body = body
        }

        /// The first value of the header `name`, compared without regard to case.
        public func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }
    }

    /// The wire format this server speaks.
    public let wire: Wire
    /// OpenAI: `http://127.0.0.1:PORT/v1`; Anthropic: `http://127.0.0.1:PORT`, as each provider's
    /// client expects its base URL.
    public let baseURL: String

    private let script: ReplyScript
    private let listener: any Channel
    private let serving: Task<Void, Never>

    private init(wire: Wire, baseURL: String, script: ReplyScript, listener: any Channel, serving: Task<Void, Never>) {
        self.wire = wire
        self.baseURL = baseURL
        self.script = script
        self.listener = listener
        self.serving = serving
    }

    /// Starts on 127.0.0.1 on a free port.
    public static func start(wire: Wire) async throws -> FakeLLMServer {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        guard let port = server.channel.localAddress?.port else {
            try? await server.channel.close()
            throw FakeLLMServerError(message: "the listening socket has no port; the server could not start")
        }
        let script = ReplyScript(wire: wire)
        let serving = Task {
            await withDiscardingTaskGroup { group in
                // Ends when the listening socket closes or the task is cancelled (shutdown).
                do {
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await script.serve(connection) }
                        }
                    }
                } catch {
                    // The listening socket failed or closed: nothing more to accept.
                }
            }
        }
        let baseURL = wire == .openAI ? "http://127.0.0.1:\(port)/v1" : "http://127.0.0.1:\(port)"
        return FakeLLMServer(wire: wire, baseURL: baseURL, script: script, listener: server.channel, serving: serving)
    }

    /// Replies served in order, one per request. When the queue is empty, the fallback answers
    /// (by default a 500 error saying no scripted reply is left).
    public func enqueue(_ replies: Reply...) {
        enqueue(replies)
    }

    /// Replies served in order, one per request, after those already enqueued.
    public func enqueue(_ replies: [Reply]) {
        script.enqueue(replies)
    }

    /// Answers every request once the queue is empty (e.g. an instant final answer, for benchmarks).
    /// `requestIndex` is the request's zero-based position among all requests the server received.
    public func setFallback(_ make: @escaping @Sendable (_ requestIndex: Int) -> Reply) {
        script.setFallback(make)
    }

    /// Answers every request once the queue is empty, from the request itself (e.g. from how many
    /// tool results the conversation holds, so that many concurrent runs each get their own script).
    /// Takes precedence over the fallback.
    public func setResponder(_ make: @escaping @Sendable (_ request: RecordedRequest) -> Reply) {
        script.setResponder(make)
    }

    /// Every request received so far, in the order they arrived.
    public var requests: [RecordedRequest] {
        script.requests
    }

    /// Stops listening and closes every connection, ending any stream in progress.
    public func shutdown() async throws {
        serving.cancel()
        try? await listener.close()
        await serving.value
    }
}

/// The server could not start.
public struct FakeLLMServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "FakeLLMServer: \(message)" }
}

/// The replies, the fallback and the record of requests, shared by every connection.
final class ReplyScript: Sendable {
    private struct State {
        var pending: [FakeLLMServer.Reply] = []
        var nextPending = 0
        var fallback: (@Sendable (Int) -> FakeLLMServer.Reply)?
        var responder: (@Sendable (FakeLLMServer.RecordedRequest) -> FakeLLMServer.Reply)?
        var requests: [FakeLLMServer.RecordedRequest] = []
    }

    let wire: FakeLLMServer.Wire
    private let state = Mutex(State())

    init(wire: FakeLLMServer.Wire) {
        self.wire = wire
    }

    func enqueue(_ replies: [FakeLLMServer.Reply]) {
        state.withLock { $0.pending.append(contentsOf: replies) }
    }

    func setFallback(_ make: @escaping @Sendable (Int) -> FakeLLMServer.Reply) {
        state.withLock { $0.fallback = make }
    }

    func setResponder(_ make: @escaping @Sendable (FakeLLMServer.RecordedRequest) -> FakeLLMServer.Reply) {
        state.withLock { $0.responder = make }
    }

    var requests: [FakeLLMServer.RecordedRequest] {
        state.withLock { $0.requests }
    }

    /// Records `request` and decides what to answer. A request to the wrong endpoint gets a 404
    /// and does not use up a scripted reply.
    func response(to request: FakeLLMServer.RecordedRequest) -> FakeResponse {
        let endpoint = wire == .openAI ? "/v1/chat/completions" : "/v1/messages"
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        let onEndpoint = request.method == "POST" && path == endpoint
        // The test's closures run outside the lock, so they may call back into the server.
        enum Source { case queued(FakeLLMServer.Reply), responder(@Sendable (FakeLLMServer.RecordedRequest) -> FakeLLMServer.Reply),
                      fallback(@Sendable (Int) -> FakeLLMServer.Reply), none }
        let (index, source, enqueued): (Int, Source, Int) = state.withLock { state in
            state.requests.append(request)
            let index = state.requests.count - 1
            guard onEndpoint else { return (index, .none, state.pending.count) }
            if state.nextPending < state.pending.count {
                defer { state.nextPending += 1 }
                return (index, .queued(state.pending[state.nextPending]), state.pending.count)
            }
            if let responder = state.responder { return (index, .responder(responder), state.pending.count) }
            if let fallback = state.fallback { return (index, .fallback(fallback), state.pending.count) }
            return (index, .none, state.pending.count)
        }
        let reply: FakeLLMServer.Reply? = switch source {
        case .queued(let reply): reply
        case .responder(let make): make(request)
        case .fallback(let make): make(index)
        case .none: nil
        }
        let context = ReplyContext(index: index, body: request.body)
        let chosen: FakeLLMServer.Reply
        if !onEndpoint {
            chosen = .error(
                status: 404,
                message: "FakeLLMServer speaks POST \(endpoint); got \(request.method) \(request.path). "
                    + "Check the client's base URL (\(wire == .openAI ? "it should end in /v1" : "without /v1")).")
        } else if let reply {
            chosen = reply
        } else {
            chosen = .error(
                status: 500,
                message: "FakeLLMServer: no scripted reply left for request \(index + 1) (\(enqueued) were enqueued); "
                    + "enqueue more replies or set a fallback.")
        }
        switch wire {
        case .openAI: return OpenAIWireFormat.response(to: chosen, context: context)
        case .anthropic: return AnthropicWireFormat.response(to: chosen, context: context)
        }
    }

    /// Serves one connection: request after request (keep-alive) until either side closes it.
    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let channel = connection.channel
        let work = Task {
            try? await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                    case .body(var chunk):
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let request = FakeLLMServer.RecordedRequest(
                            method: requestHead.method.rawValue, path: requestHead.uri,
                            headers: requestHead.headers.map { ($0.name, $0.value) }, body: String(buffer: body))
                        let response = self.response(to: request)
                        let keepOpen = try await response.write(
                            to: outbound, channel: channel, keepAlive: requestHead.isKeepAlive)
                        if !keepOpen { return }
                    }
                }
            }
        }
        // When the client goes away, a stream waiting between chunks ends at once rather than at
        // its next write.
        channel.closeFuture.whenComplete { _ in work.cancel() }
        await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
            channel.close(promise: nil)
        }
    }
}

/// What the request asked for, as far as the reply's shape depends on it.
struct ReplyContext: Sendable {
    /// Zero-based position of the request; gives ids like `chatcmpl-fake-3`.
    var index: Int
    var model: String
    var stream: Bool
    var includeUsage: Bool

    init(index: Int, model: String = "fake-model", stream: Bool = false, includeUsage: Bool = false) {
        self.index = index
        self.model = model
        self.stream = stream
        self.includeUsage = includeUsage
    }

    /// Reads `model`, `stream` and `stream_options.include_usage` from a JSON request body; a body
    /// that is not JSON counts as a request that is not streamed.
    init(index: Int, body: String) {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let options = object?["stream_options"] as? [String: Any]
        self.init(
            index: index,
            model: object?["model"] as? String ?? "fake-model",
            stream: object?["stream"] as? Bool ?? false,
            includeUsage: options?["include_usage"] as? Bool ?? false)
    }
}

/// An HTTP response described without I/O, so the wire formats are plain functions.
struct FakeResponse: Sendable {
    enum Body: Sendable {
        /// The whole body, with its Content-Length.
        case complete(String)
        /// The Content-Length of the whole body, but only its first half before the connection closes.
        case cutOff(String)
        /// Server-sent events, each sent after its pause. With `endsEarly`, the connection closes
        /// after the last one without ending the chunked body.
        case events([StreamEvent], endsEarly: Bool)
        /// `opening`, then `repeating(n)` for n = 0, 1, 2… every `interval` until the client leaves.
        case endless(opening: [String], repeating: @Sendable (Int) -> String, interval: Duration)
        /// No response at all until the client leaves.
        case silence
    }

    struct StreamEvent: Sendable {
        var pause: Duration
        /// The whole event, e.g. `data: {…}\n\n`.
        var text: String
    }

    var status: Int
    var headers: [(String, String)]
    var body: Body

    static let eventStreamHeaders = [
        ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked"),
    ]

    /// Writes the response; returns whether the connection may serve another request.
    func write(
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, channel: any Channel, keepAlive: Bool
    ) async throws -> Bool {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: HTTPHeaders(headers))
        if !keepAlive { head.headers.replaceOrAdd(name: "Connection", value: "close") }
        func chunk(_ text: String) -> HTTPServerResponsePart { .body(.byteBuffer(ByteBuffer(string: text))) }

        switch body {
        case .complete(let text):
            head.headers.replaceOrAdd(name: "Content-Length", value: String(text.utf8.count))
            try await outbound.write(contentsOf: [.head(head), chunk(text), .end(nil)])
            return keepAlive
        case .cutOff(let text):
            head.headers.replaceOrAdd(name: "Content-Length", value: String(text.utf8.count))
            let half = String(decoding: text.utf8.prefix(text.utf8.count / 2), as: UTF8.self)
            try await outbound.write(contentsOf: [.head(head), chunk(half)])
            return false
        case .events(let events, let endsEarly):
            var batch: [HTTPServerResponsePart] = [.head(head)]
            for event in events {
                if event.pause > .zero {
                    try await outbound.write(contentsOf: batch)
                    batch.removeAll()
                    try await Task.sleep(for: event.pause)
                }
                batch.append(chunk(event.text))
            }
            if !endsEarly { batch.append(.end(nil)) }
            try await outbound.write(contentsOf: batch)
            return keepAlive && !endsEarly
        case .endless(let opening, let repeating, let interval):
            try await outbound.write(contentsOf: [.head(head)] + opening.map(chunk))
            // Writing fails once the client has gone (the channel closed), and sleeping fails on
            // shutdown; either ends the loop.
            for n in 0... {
                try await Task.sleep(for: max(interval, .milliseconds(1)))
                try await outbound.write(chunk(repeating(n)))
            }
            return false
        case .silence:
            try await channel.closeFuture.get()
            return false
        }
    }
}

/// Text cut into pieces, for streaming.
enum TextPieces {
    /// `text` in `count` pieces of near-equal length (fewer when the text is shorter); none for "".
    static func split(_ text: String, into count: Int) -> [String] {
        let characters = Array(text)
        guard !characters.isEmpty else { return [] }
        let pieces = min(max(count, 1), characters.count)
        return (0..<pieces).map { i in
            String(characters[(i * characters.count / pieces)..<((i + 1) * characters.count / pieces)])
        }
    }

    /// The words of `text`, each followed by a space, so that repeating them reads as text.
    static func words(_ text: String) -> [String] {
        let words = text.split(whereSeparator: \.isWhitespace).map { String($0) + " " }
        return words.isEmpty ? ["… "] : words
    }
}
