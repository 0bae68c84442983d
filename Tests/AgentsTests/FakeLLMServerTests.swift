import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GlassboxTesting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import Tools

/// The fake server driven by a plain HTTP client (URLSession), so the wire format is checked
/// byte for byte and not through the providers that read it.
@Suite struct FakeLLMServerTests {
    @Test func openAIAnswersWithOneJSONBodyAndRecordsTheRequest() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.answer(text: "Hello \"there\"\n", inputTokens: 12, outputTokens: 3))
        let body = #"{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}"#
        let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: body, headers: ["Authorization": "Bearer sk-test"])
        try await server.shutdown()

        #expect(received.status == 200)
        #expect(received.header("Content-Type") == "application/json")
        let json = try JSONValue(parsing: received.text)
        #expect(json["object"] == "chat.completion")
        #expect(json["model"] == "gpt-test")
        let choice = try #require(json["choices"]?.array?.first)
        #expect(choice["message"]?["role"] == "assistant")
        #expect(choice["message"]?["content"] == "Hello \"there\"\n")
        #expect(choice["message"]?["tool_calls"] == nil)
        #expect(choice["finish_reason"] == "stop")
        #expect(json["usage"] == ["prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15])

        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/v1/chat/completions")
        #expect(request.header("authorization") == "Bearer sk-test")
        #expect(request.body == body)
    }

    @Test func openAIToolCallsWithoutStreaming() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.answer(toolCalls: [.init(id: "call_1", name: "sql.query", arguments: #"{"sql":"SELECT 1"}"#)]))
        let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: #"{"model":"m"}"#)
        try await server.shutdown()

        let choice = try #require(try JSONValue(parsing: received.text)["choices"]?.array?.first)
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [
            ["id": "call_1", "type": "function", "function": ["name": "sql.query", "arguments": #"{"sql":"SELECT 1"}"#]],
        ])
        #expect(choice["finish_reason"] == "tool_calls")
    }

    @Test func openAIStreamsTextToolCallDeltasUsageAndDone() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        let arguments = #"{"connection":"warehouse","sql":"SELECT region FROM customers"}"#
        server.enqueue(.answer(
            text: "Counting customers.", toolCalls: [.init(id: "call_7", name: "sql.query", arguments: arguments)],
            inputTokens: 20, outputTokens: 9, chunks: 4))
        let body = #"{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true}}"#
        let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: body)
        try await server.shutdown()

        #expect(received.status == 200)
        #expect(received.header("Content-Type") == "text/event-stream")
        #expect(received.error == nil)
        let data = SSE.events(received.text).map(\.data)
        #expect(data.last == "[DONE]")
        let chunks = try data.dropLast().map { try JSONValue(parsing: $0) }
        #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["model"] == "gpt-test" })

        let deltas = chunks.compactMap { $0["choices"]?.array?.first?["delta"] }
        let text = deltas.compactMap { $0["content"]?.string }.joined()
        #expect(text == "Counting customers.")
        #expect(deltas.filter { ($0["content"]?.string ?? "").isEmpty == false }.count == 4)

        let toolDeltas = deltas.compactMap { $0["tool_calls"]?.array?.first }
        let first = try #require(toolDeltas.first)
        #expect(first["index"] == 0)
        #expect(first["id"] == "call_7")
        #expect(first["function"]?["name"] == "sql.query")
        #expect(toolDeltas.dropFirst().allSatisfy { $0["index"] == 0 && $0["id"] == nil })
        #expect(toolDeltas.count > 2, "the arguments arrive over several deltas")
        #expect(toolDeltas.compactMap { $0["function"]?["arguments"]?.string }.joined() == arguments)

        let finishes = chunks.compactMap { $0["choices"]?.array?.first?["finish_reason"]?.string }
        #expect(finishes == ["tool_calls"])
        let usage = try #require(chunks.last)
        #expect(usage["choices"] == [])
        #expect(usage["usage"] == ["prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29])
    }

    @Test func openAIStreamWithoutIncludeUsageHasNoUsageChunk() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.answer(text: "Hi"))
        let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: #"{"stream":true}"#)
        try await server.shutdown()

        let data = SSE.events(received.text).map(\.data)
        #expect(data.last == "[DONE]")
        #expect(!data.contains { $0.contains("usage") })
    }

    @Test func anthropicAnswersWithOneJSONBody() async throws {
        let server = try await FakeLLMServer.start(wire: .anthropic)
        server.enqueue(.answer(
            text: "Looking.", toolCalls: [.init(id: "toolu_1", name: "catalog.search", arguments: #"{"query":"orders"}"#)],
            inputTokens: 30, outputTokens: 4))
        let received = await HTTPExchange.run(
            server.baseURL + "/v1/messages", body: #"{"model":"claude-test","max_tokens":10}"#,
            headers: ["x-api-key": "key", "anthropic-version": "2023-06-01"])
        try await server.shutdown()

        let json = try JSONValue(parsing: received.text)
        #expect(json["type"] == "message")
        #expect(json["role"] == "assistant")
        #expect(json["model"] == "claude-test")
        #expect(json["content"] == [
            ["type": "text", "text": "Looking."],
            ["type": "tool_use", "id": "toolu_1", "name": "catalog.search", "input": ["query": "orders"]],
        ])
        #expect(json["stop_reason"] == "tool_use")
        #expect(json["usage"] == ["input_tokens": 30, "output_tokens": 4])
        #expect(server.requests.first?.header("x-api-key") == "key")
    }

    @Test func anthropicStreamsBlocksPartialJSONAndUsage() async throws {
        let server = try await FakeLLMServer.start(wire: .anthropic)
        let arguments = #"{"sql":"SELECT count(*) FROM orders"}"#
        server.enqueue(.answer(
            text: "Let me count.", toolCalls: [.init(id: "toolu_9", name: "sql.query", arguments: arguments)],
            inputTokens: 40, outputTokens: 11))
        let received = await HTTPExchange.run(server.baseURL + "/v1/messages", body: #"{"model":"claude-test","stream":true}"#)
        try await server.shutdown()

        #expect(received.header("Content-Type") == "text/event-stream")
        let events = SSE.events(received.text)
        let names = events.map(\.name)
        #expect(names.first == "message_start")
        #expect(names.suffix(2) == ["message_delta", "message_stop"])
        let payloads = try events.map { try JSONValue(parsing: $0.data) }
        for (name, payload) in zip(names, payloads) {
            #expect(payload["type"] == JSONValue.string(name ?? ""), "the event name matches the data's type")
        }
        #expect(payloads[0]["message"]?["usage"]?["input_tokens"] == 40)

        let starts = payloads.filter { $0["type"] == "content_block_start" }
        #expect(starts.map { $0["index"] } == [0, 1])
        #expect(starts[1]["content_block"] == ["type": "tool_use", "id": "toolu_9", "name": "sql.query", "input": [:]])
        let deltas = payloads.filter { $0["type"] == "content_block_delta" }
        let text = deltas.filter { $0["delta"]?["type"] == "text_delta" }.compactMap { $0["delta"]?["text"]?.string }
        #expect(text.joined() == "Let me count.")
        let partial = deltas.filter { $0["delta"]?["type"] == "input_json_delta" }
        #expect(partial.count > 1)
        #expect(partial.allSatisfy { $0["index"] == 1 })
        #expect(partial.compactMap { $0["delta"]?["partial_json"]?.string }.joined() == arguments)
        #expect(payloads.filter { $0["type"] == "content_block_stop" }.count == 2)

        let messageDelta = payloads[payloads.count - 2]
        #expect(messageDelta["delta"]?["stop_reason"] == "tool_use")
        #expect(messageDelta["usage"]?["output_tokens"] == 11)
    }

    @Test func errorsHaveEachProvidersShapeAndHeaders() async throws {
        let openAI = try await FakeLLMServer.start(wire: .openAI)
        openAI.enqueue(.error(status: 429, message: "Rate limit reached", headers: [("Retry-After", "1")]))
        let rateLimited = await HTTPExchange.run(openAI.baseURL + "/chat/completions", body: "{}")
        try await openAI.shutdown()
        #expect(rateLimited.status == 429)
        #expect(rateLimited.header("Retry-After") == "1")
        let openAIError = try JSONValue(parsing: rateLimited.text)["error"]
        #expect(openAIError?["message"] == "Rate limit reached")
        #expect(openAIError?["code"] == "rate_limit_exceeded")
        #expect(openAIError?["param"] == .null)
        #expect(openAIError?["type"]?.string != nil)

        let anthropic = try await FakeLLMServer.start(wire: .anthropic)
        anthropic.enqueue(.error(status: 529, message: "Overloaded", headers: [("retry-after-ms", "250")]))
        let overloaded = await HTTPExchange.run(anthropic.baseURL + "/v1/messages", body: "{}")
        try await anthropic.shutdown()
        #expect(overloaded.status == 529)
        #expect(overloaded.header("retry-after-ms") == "250")
        #expect(try JSONValue(parsing: overloaded.text) == ["type": "error", "error": ["type": "overloaded_error", "message": "Overloaded"]])
    }

    @Test func rawRepliesAreServedAsWritten() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.raw(status: 200, contentType: "text/html", body: "<html>not json</html>"))
        let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: "{}")
        try await server.shutdown()
        #expect(received.status == 200)
        #expect(received.header("Content-Type") == "text/html")
        #expect(received.text == "<html>not json</html>")
    }

    @Test func repliesAreServedInOrderThenTheFallback() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.answer(text: "one"), .answer(text: "two"))
        var contents: [String?] = []
        for _ in 0..<2 {
            let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: "{}")
            contents.append(try JSONValue(parsing: received.text)["choices"]?.array?.first?["message"]?["content"]?.string)
        }
        #expect(contents == ["one", "two"])

        let exhausted = await HTTPExchange.run(server.baseURL + "/chat/completions", body: "{}")
        #expect(exhausted.status == 500)
        #expect(exhausted.text.contains("no scripted reply left"))

        // The fallback may look at the server (it runs outside the server's lock).
        server.setFallback { index in .answer(text: "fallback \(index) of \(server.requests.count)") }
        let fallback = await HTTPExchange.run(server.baseURL + "/chat/completions", body: "{}")
        #expect(try JSONValue(parsing: fallback.text)["choices"]?.array?.first?["message"]?["content"] == "fallback 3 of 4")
        try await server.shutdown()
        #expect(server.requests.count == 4)
    }

    @Test func aWrongEndpointGets404AndKeepsTheReply() async throws {
        let server = try await FakeLLMServer.start(wire: .anthropic)
        server.enqueue(.answer(text: "kept"))
        let wrong = await HTTPExchange.run(server.baseURL + "/v1/v1/messages", body: "{}")
        #expect(wrong.status == 404)
        #expect(try JSONValue(parsing: wrong.text)["error"]?["type"] == "not_found_error")
        let right = await HTTPExchange.run(server.baseURL + "/v1/messages", body: "{}")
        try await server.shutdown()
        #expect(try JSONValue(parsing: right.text)["content"]?.array?.first?["text"] == "kept")
        #expect(server.requests.map(\.path) == ["/v1/v1/messages", "/v1/messages"])
    }

    @Test(arguments: [FakeLLMServer.Wire.openAI, .anthropic])
    func aTruncatedStreamClosesWithoutItsEndMarker(wire: FakeLLMServer.Wire) async throws {
        let server = try await FakeLLMServer.start(wire: wire)
        server.enqueue(.truncated(text: "This answer is cut off", chunks: 3))
        let path = wire == .openAI ? "/chat/completions" : "/v1/messages"
        let received = await HTTPExchange.run(server.baseURL + path, body: #"{"stream":true}"#)
        try await server.shutdown()

        #expect(received.error != nil, "an unfinished chunked body is an error for the client")
        #expect(received.text.contains("cut"))
        for marker in ["[DONE]", "finish_reason\":\"", "message_stop", "message_delta"] {
            #expect(!received.text.contains(marker))
        }
    }

    @Test func aTruncatedPlainBodyIsShorterThanItsContentLength() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.truncated(text: "This answer is cut off", chunks: 3))
        let received = await HTTPExchange.run(server.baseURL + "/chat/completions", body: "{}")
        try await server.shutdown()
        #expect(received.error != nil)
        #expect((try? JSONValue(parsing: received.text)) == nil)
    }

    @Test(arguments: [FakeLLMServer.Wire.openAI, .anthropic])
    func aSlowStreamKeepsGoingUntilTheClientLeaves(wire: FakeLLMServer.Wire) async throws {
        let server = try await FakeLLMServer.start(wire: wire)
        server.enqueue(.slowStream(text: "tick tock", interval: .milliseconds(5)))
        server.enqueue(.answer(text: "after"))
        let path = wire == .openAI ? "/chat/completions" : "/v1/messages"
        // More events than the text has words: it repeats until the client cancels.
        let received = await HTTPExchange.run(server.baseURL + path, body: #"{"stream":true}"#, cancelAfterEvents: 12)
        #expect(received.cancelled)
        let events = SSE.events(received.text)
        #expect(events.count >= 12)
        #expect(received.text.contains("tick") && received.text.contains("tock"))

        // The server is still serving after the client left.
        let next = await HTTPExchange.run(server.baseURL + path, body: "{}")
        #expect(next.status == 200)
        #expect(next.text.contains("after"))
        try await server.shutdown()
    }

    @Test func shutdownEndsAStreamInProgress() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.enqueue(.slowStream(text: "never ending", interval: .milliseconds(20)))
        let exchange = Task { await HTTPExchange.run(server.baseURL + "/chat/completions", body: #"{"stream":true}"#) }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        try await server.shutdown()
        let received = await exchange.value
        #expect(received.error != nil, "the stream ended without its last chunk")
        #expect(!received.text.contains("[DONE]"))
    }

    @Test func answersFiftyConcurrentRequests() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.setFallback { index in .answer(text: "answer \(index)") }
        let statuses = await withTaskGroup(of: Int.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let stream = i.isMultiple(of: 2) ? "true" : "false"
                    return await HTTPExchange.run(server.baseURL + "/chat/completions", body: #"{"stream":\#(stream)}"#).status
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        try await server.shutdown()
        #expect(statuses == Array(repeating: 200, count: 50))
        #expect(server.requests.count == 50)
    }

    @Test func keepAliveConnectionsServeSeveralRequests() async throws {
        let server = try await FakeLLMServer.start(wire: .openAI)
        server.setFallback { index in .answer(text: "answer \(index)") }
        let port = try #require(URL(string: server.baseURL)?.port)
        // Three requests, each sent after the previous answer, on one TCP connection.
        // On a thread of its own: blocking reads on the cooperative pool could starve the server's tasks
        // when other tests keep the pool's few threads busy.
        let answers = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[String], any Error>) in
            Thread { continuation.resume(with: Result { try RawHTTPConnection(port: port).exchange(count: 3) }) }.start()
        }
        try await server.shutdown()
        #expect(answers.count == 3)
        for (index, answer) in answers.enumerated() {
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(answer.contains("\"content\":\"answer \(index)\""))
        }
    }
}

/// A blocking TCP connection that sends plain HTTP/1.1 requests one at a time, to see the
/// server keep a connection open (an HTTP client library would quietly reconnect).
struct RawHTTPConnection {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int

    /// Sends `count` requests over one connection, each after the previous answer; returns the answers.
    func exchange(count: Int) throws -> [String] {
        #if os(Linux)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(descriptor) }
        // A bound on each read, so a server that stops answering fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "cannot connect to port \(port)") }

        var answers: [String] = []
        var pending: [UInt8] = []
        for _ in 0..<count {
            let body = #"{"model":"m"}"#
            let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let bytes = Array(request.utf8)
            guard send(descriptor, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "send failed") }
            answers.append(try readResponse(descriptor, buffer: &pending))
        }
        return answers
    }

    /// Reads one response with a Content-Length; bytes after it stay in `buffer`.
    private func readResponse(_ descriptor: Int32, buffer: inout [UInt8]) throws -> String {
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let lengthLine = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                guard let lengthLine, let length = Int(lengthLine.dropFirst(15).trimmingCharacters(in: .whitespaces)) else {
                    throw Failure(description: "no Content-Length in \(head)")
                }
                if buffer.count >= end.upperBound + length {
                    let response = String(decoding: buffer[..<(end.upperBound + length)], as: UTF8.self)
                    buffer.removeFirst(end.upperBound + length)
                    return response
                }
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let read = recv(descriptor, &chunk, chunk.count, 0)
            guard read > 0 else { throw Failure(description: "the server closed the connection (recv returned \(read))") }
            buffer.append(contentsOf: chunk[..<read])
        }
    }
}

/// Server-sent events split into name and data, as a client would read them.
enum SSE {
    struct Event {
        var name: String?
        var data: String
    }

    static func events(_ text: String) -> [Event] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var name: String?
            var data: [String] = []
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            return data.isEmpty ? nil : Event(name: name, data: data.joined(separator: "\n"))
        }
    }
}

/// One HTTP request through URLSession, collecting the body as it arrives; optionally cancelled
/// after some server-sent events (counted by their blank-line ends).
final class HTTPExchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: the delegate's state is only touched under `lock`; URLSession calls it on its own queue.
    struct Received: Sendable {
        var status = 0
        var headers: [String: String] = [:]
        var body = Data()
        var error: String?
        var cancelled = false

        var text: String { String(decoding: body, as: UTF8.self) }

        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    private let lock = NSLock()
    private var received = Received()
    private var continuation: CheckedContinuation<Received, Never>?
    private let cancelAfterEvents: Int?

    private init(cancelAfterEvents: Int?) {
        self.cancelAfterEvents = cancelAfterEvents
    }

    static func run(_ url: String, body: String, headers: [String: String] = [:], cancelAfterEvents: Int? = nil) async -> Received {
        let exchange = HTTPExchange(cancelAfterEvents: cancelAfterEvents)
        let session = URLSession(configuration: .ephemeral, delegate: exchange, delegateQueue: nil)
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let result = await withCheckedContinuation { continuation in
            exchange.lock.withLock { exchange.continuation = continuation }
            session.dataTask(with: request).resume()
        }
        session.finishTasksAndInvalidate()
        return result
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        if let http = response as? HTTPURLResponse {
            lock.withLock {
                received.status = http.statusCode
                for (name, value) in http.allHeaderFields {
                    if let name = name as? String, let value = value as? String { received.headers[name] = value }
                }
            }
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let enough = lock.withLock {
            received.body.append(data)
            guard let limit = cancelAfterEvents, !received.cancelled else { return false }
            if received.text.components(separatedBy: "\n\n").count - 1 >= limit {
                received.cancelled = true
                return true
            }
            return false
        }
        if enough { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (result, continuation) = lock.withLock {
            if let error { received.error = String(describing: error) }
            defer { self.continuation = nil }
            return (received, self.continuation)
        }
        continuation?.resume(returning: result)
    }
}
