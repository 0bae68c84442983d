import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Tools

/// Where a model is served and with which key: the OpenAI Chat Completions wire (OpenAI, Azure's v1
/// API, vLLM, Ollama, llama.cpp, LM Studio, LiteLLM…) or Anthropic's Messages API.
///
/// ```swift
/// let endpoint = ProviderEndpoint(kind: .openAI, environment: ProcessInfo.processInfo.environment)
/// print(endpoint)                         // openai at https://api.openai.com/v1 (key set)
/// let provider = endpoint.makeProvider()
/// ```
public struct ProviderEndpoint: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public enum Kind: String, Sendable, CaseIterable {
        case openAI = "openai"
        case anthropic
    }

    public var kind: Kind
    /// e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`, `https://api.anthropic.com`.
    public var baseURL: String
    /// Never printed; ``description`` says only whether one is set.
    public var apiKey: String?

    public init(kind: Kind, baseURL: String, apiKey: String?) {
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
    }

    public static let defaultOpenAIBaseURL = "https://api.openai.com/v1"
    public static let defaultAnthropicBaseURL = "https://api.anthropic.com"

    /// The endpoint of `kind` from `OPENAI_BASE_URL`/`OPENAI_API_KEY` or `ANTHROPIC_BASE_URL`/`ANTHROPIC_API_KEY`;
    /// an unset or empty base URL means the provider's own service. A trailing "/" is dropped.
    public init(kind: Kind, environment: [String: String]) {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
            return text
        }
        let (urlVariable, keyVariable) = Self.variables(kind)
        var baseURL = value(urlVariable) ?? (kind == .openAI ? Self.defaultOpenAIBaseURL : Self.defaultAnthropicBaseURL)
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        self.init(kind: kind, baseURL: baseURL, apiKey: value(keyVariable))
    }

    /// The environment variables that configure `kind`: (base URL, API key).
    public static func variables(_ kind: Kind) -> (baseURL: String, apiKey: String) {
        switch kind {
        case .openAI: ("OPENAI_BASE_URL", "OPENAI_API_KEY")
        case .anthropic: ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY")
        }
    }

    /// A client for this endpoint. `timeout` bounds the wait for the response head, `idleTimeout`
    /// the silence between two pieces of the body.
    public func makeProvider(timeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(60)) -> any LLMProvider {
        switch kind {
        case .openAI: OpenAIChatProvider(baseURL: baseURL, apiKey: apiKey, timeout: timeout, idleTimeout: idleTimeout)
        case .anthropic: AnthropicProvider(baseURL: baseURL, apiKey: apiKey, timeout: timeout, idleTimeout: idleTimeout)
        }
    }

    public var description: String {
        "\(kind.rawValue) at \(baseURL) (\(apiKey == nil ? "no key" : "key set"))"
    }

    public var debugDescription: String { description }

    /// What `dump` and debuggers show: the key only as "key set"/"no key".
    public var customMirror: Mirror {
        Mirror(self, children: ["kind": kind, "baseURL": baseURL, "apiKey": apiKey == nil ? "no key" : "key set"])
    }
}

// MARK: - The HTTP exchange both wire formats share

/// One POST to a provider: the response head within `timeout`, then the body with at most
/// `idleTimeout` between two chunks, every failure a ``ProviderError`` whose message never holds the key.
/// Builds one answer from a provider's server-sent events.
protocol StreamAssembler {
    init()
    /// Takes one event; returns the text it adds.
    mutating func consume(_ event: ServerSentEvent, transport: ProviderTransport) throws -> String?
    func finish(transport: ProviderTransport) throws -> ChatResponse
}

extension ProviderTransport {
    /// Posts `body` and reads the answer: streamed through `Assembler` (text deltas to `onText`), or, when
    /// not streaming or when the server ignores `stream` and answers with one JSON body, through `parse`.
    func complete<Assembler: StreamAssembler>(
        _ body: String, stream: Bool, assembler: Assembler.Type, errorDetail: @escaping @Sendable (JSONValue) -> String?,
        parse: @escaping @Sendable (String, ProviderTransport) throws -> ChatResponse,
        onText: @escaping @Sendable (String) async -> Void
    ) async throws -> ChatResponse {
        let transport = self
        return try await post(body, errorDetail: errorDetail) { reader in
            if !stream || reader.contentType.lowercased().hasPrefix("application/json") {
                let response = try parse(try await reader.collect(), transport)
                if stream, !response.content.isEmpty { await onText(response.content) }
                return response
            }
            var parser = ServerSentEventParser()
            var assembler = Assembler()
            while let chunk = try await reader.next() {
                for event in parser.feed(chunk.readableBytesView) {
                    if let delta = try assembler.consume(event, transport: transport), !delta.isEmpty { await onText(delta) }
                }
            }
            for event in parser.finish() {
                if let delta = try assembler.consume(event, transport: transport), !delta.isEmpty { await onText(delta) }
            }
            return try assembler.finish(transport: transport)
        }
    }
}

struct ProviderTransport: Sendable {
    /// How messages name the service, e.g. "the OpenAI-compatible server at 127.0.0.1:8080".
    let serviceName: String
    let url: String
    let headers: [(String, String)]
    let timeout: Duration
    let idleTimeout: Duration
    /// Text that must never appear in an error message (the API key).
    let secret: String?
    /// The variable that holds the key, for advice on 401/403.
    let keyVariable: String

    /// One client for every model call in the process, never shut down (like `HTTPClient.shared`), but one
    /// that reports a refused connection at once: the shared client keeps retrying for up to 90 s, so a local
    /// model server that is not running would look like a hang.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10)))
        // The agent loop retries (each attempt its own events), so the client must not retry unseen.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The largest error or JSON body read; a bigger one is not a model answer.
    static let bodyLimit = 32 << 20

    init(service: String, url: String, headers: [(String, String)], timeout: Duration, idleTimeout: Duration, secret: String?, keyVariable: String) {
        let host = URL(string: url).flatMap { u in u.host.map { h in u.port.map { "\(h):\($0)" } ?? h } } ?? url
        self.serviceName = "the \(service) at \(host)"
        self.url = url
        self.headers = headers
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        self.keyVariable = keyVariable
    }

    /// Sends `body` and hands a successful response to `read`. A non-2xx answer becomes an `http_<status>`
    /// error whose detail `errorDetail` takes from the body. Throws CancellationError when the task is cancelled.
    func post<Result: Sendable>(
        _ body: String,
        errorDetail: @escaping @Sendable (JSONValue) -> String?,
        read: @escaping @Sendable (inout ResponseReader) async throws -> Result
    ) async throws -> Result {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme), parsed.host != nil else {
            throw ProviderError(kind: "connection", message: "`\(scrub(url))` is not an http(s) URL; fix the provider's base URL", retryable: false)
        }
        let watchdog = Watchdog(deadline: .now + timeout)
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await exchange(body, watchdog: watchdog, errorDetail: errorDetail, read: read)
            }
            group.addTask {
                try await watchdog.watch(idleTimeout: idleTimeout, timeoutError: timeoutError)
                return nil
            }
            // The exchange ends first, or the watchdog throws (and the exchange is cancelled as the group unwinds).
            guard let first = try await group.next(), let result = first else {
                throw CancellationError()
            }
            group.cancelAll()
            return result
        }
    }

    private func exchange<Result: Sendable>(
        _ body: String, watchdog: Watchdog,
        errorDetail: @Sendable (JSONValue) -> String?,
        read: @Sendable (inout ResponseReader) async throws -> Result
    ) async throws -> Result {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response: HTTPClientResponse
        do {
            response = try await Self.client.execute(request, timeout: Self.timeAmount(timeout))
        } catch {
            throw mapFailure(error, afterHead: false)
        }
        watchdog.extend(by: idleTimeout)
        var reader = ResponseReader(
            iterator: response.body.makeAsyncIterator(), watchdog: watchdog, idleTimeout: idleTimeout,
            contentType: response.headers.first(name: "content-type") ?? "", transport: self)
        guard (200..<300).contains(response.status.code) else {
            // The status is the news; an error body that cannot be read only loses the detail.
            var text = ""
            do {
                text = try await reader.collect(limit: 64 << 10)
            } catch is CancellationError {
                throw CancellationError()
            } catch {}
            throw httpError(status: Int(response.status.code), headers: response.headers, body: text, errorDetail: errorDetail)
        }
        return try await read(&reader)
    }

    /// A provider failure for `status`, with the body's own explanation and what to do.
    func httpError(status: Int, headers: HTTPHeaders, body: String, errorDetail: (JSONValue) -> String?) -> ProviderError {
        let detail = (try? JSONValue(parsing: body)).flatMap(errorDetail)
            ?? (body.isEmpty ? nil : "“\(Self.excerpt(body))”")
        let retryAfter = Self.retryAfter(milliseconds: headers.first(name: "retry-after-ms"), header: headers.first(name: "retry-after"))
        return ProviderError(
            kind: "http_\(status)", message: scrub("\(serviceName) answered HTTP \(status)\(detail.map { ": \($0)" } ?? ""). \(advice(status: status, retryAfter: retryAfter))"),
            status: status, retryAfter: retryAfter, retryable: Self.retryableStatuses.contains(status))
    }

    static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504, 529]

    private func advice(status: Int, retryAfter: Double?) -> String {
        switch status {
        case 401, 403: "Check the API key in \(keyVariable) and that it may use this model."
        case 404: "Check the model name and the base URL (\(scrub(url)))."
        case 408, 504: "The request took too long; try again, or ask for a shorter answer."
        case 413: "The request is too large; shorten the conversation or the tool output."
        case 429: retryAfter.map { "Rate limited: try again in \(Self.seconds($0))." } ?? "Rate limited: wait and try again, or lower the request rate."
        case 400, 422: "The provider rejected the request; check the model name, the messages and the tool schemas."
        case 529: "The provider is overloaded; try again later."
        case 500...599: "The provider failed; try again later."
        default: "See the provider's documentation for this status."
        }
    }

    /// The error for a request or body stream that failed in transport.
    func mapFailure(_ error: any Error, afterHead: Bool) -> any Error {
        if error is ProviderError { return error }
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if let http = error as? HTTPClientError {
            switch http {
            case .cancelled: return CancellationError()
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return timeoutError(afterHead ? .idle : .head)
            case .invalidURL, .emptyHost, .emptyScheme:
                return ProviderError(kind: "connection", message: "`\(scrub(url))` is not a usable URL; fix the provider's base URL", retryable: false)
            default: break
            }
        }
        if afterHead {
            return ProviderError(kind: "truncated_response", message: scrub("\(serviceName) broke off its answer (\(error)); try again"), retryable: true)
        }
        return ProviderError(
            kind: "connection", message: scrub("could not reach \(serviceName) (\(error)); check the base URL and that the server is running"),
            retryable: true)
    }

    func timeoutError(_ phase: Watchdog.Phase) -> ProviderError {
        switch phase {
        case .head:
            ProviderError(kind: "timeout", message: "\(serviceName) did not answer within \(Self.seconds(timeout)); try again, or raise the timeout", retryable: true)
        case .idle:
            ProviderError(kind: "timeout", message: "\(serviceName) stalled: nothing arrived for \(Self.seconds(idleTimeout)); try again, or raise the idle timeout", retryable: true)
        }
    }

    func malformed(_ what: String, body: String) -> ProviderError {
        ProviderError(
            kind: "malformed_response", message: scrub("\(serviceName) sent \(what): “\(Self.excerpt(body))”; check that the base URL points at the provider's API"),
            retryable: false)
    }

    func truncated(_ what: String) -> ProviderError {
        ProviderError(kind: "truncated_response", message: "\(serviceName) ended its streamed answer \(what); try again", retryable: true)
    }

    /// `text` without the API key.
    func scrub(_ text: String) -> String {
        guard let secret else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }

    static func excerpt(_ text: String, limit: Int = 200) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return flat.count <= limit ? flat : String(flat.prefix(limit)) + "…"
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        // Capped at about 30 years so the nanoseconds fit in 64 bits.
        let seconds = min(max(duration.components.seconds, 0), 1_000_000_000)
        return .nanoseconds(seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    static func seconds(_ duration: Duration) -> String {
        seconds(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    /// Seconds to wait from the `retry-after-ms` header (OpenAI's) or else `Retry-After` (delta-seconds or an HTTP date).
    static func retryAfter(milliseconds: String?, header: String?, now: Date = Date()) -> Double? {
        if let milliseconds, let ms = Double(milliseconds.trimmingCharacters(in: .whitespaces)), ms.isFinite, ms >= 0 {
            return ms / 1000
        }
        guard let text = header?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}

/// A response body read chunk by chunk; each chunk pushes the idle deadline back.
struct ResponseReader {
    var iterator: HTTPClientResponse.Body.AsyncIterator
    let watchdog: Watchdog
    let idleTimeout: Duration
    let contentType: String
    let transport: ProviderTransport

    /// The next chunk; nil at the end of the body.
    mutating func next() async throws -> ByteBuffer? {
        do {
            let chunk = try await iterator.next()
            watchdog.extend(by: idleTimeout)
            return chunk
        } catch {
            throw transport.mapFailure(error, afterHead: true)
        }
    }

    /// The whole body as text; a body over `limit` bytes is malformed.
    mutating func collect(limit: Int = ProviderTransport.bodyLimit) async throws -> String {
        var bytes: [UInt8] = []
        while let chunk = try await next() {
            bytes += chunk.readableBytesView
            if bytes.count > limit {
                throw transport.malformed("a body larger than \(limit >> 20) MiB", body: String(decoding: bytes.prefix(200), as: UTF8.self))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Fails the exchange when its deadline passes: first the wait for the response head, then each
/// silence between two chunks of the body.
final class Watchdog: Sendable {
    enum Phase: Sendable { case head, idle }

    private let state: Mutex<(deadline: ContinuousClock.Instant, phase: Phase)>

    init(deadline: ContinuousClock.Instant) {
        state = Mutex((deadline, .head))
    }

    /// Something arrived: the next piece is due within `interval`.
    func extend(by interval: Duration) {
        state.withLock { $0 = (.now + interval, .idle) }
    }

    /// Returns never; throws the timeout error once a deadline passes, or CancellationError.
    /// `idleTimeout` is the interval ``extend(by:)`` is given: never sleeping longer than that, the watch
    /// wakes in time for a deadline that an extension moved earlier (the head's timeout may be the longer).
    func watch(idleTimeout: Duration, timeoutError: (Phase) -> ProviderError) async throws {
        while true {
            let (deadline, phase) = state.withLock { $0 }
            let now = ContinuousClock.now
            if now >= deadline { throw timeoutError(phase) }
            try await Task.sleep(until: min(deadline, now + idleTimeout), clock: .continuous)
        }
    }
}
