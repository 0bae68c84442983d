public import Foundation
import AsyncHTTPClient
import CompressNIO
import NIOCore
import NIOHTTP1

/// One POST to a collector.
public struct OTLPRequest: Sendable {
    public var url: URL
    public var body: [UInt8]
    public var headers: [(name: String, value: String)]
    public var timeoutSeconds: Double
}

/// A collector's answer.
public struct OTLPResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends requests to collectors. Throws when there was no answer (refused, reset, timed out).
public protocol OTLPTransport: Sendable {
    func send(_ request: OTLPRequest) async throws -> OTLPResponse
}

/// HTTP/1.1 over AsyncHTTPClient, keeping connections alive between batches.
public final class HTTPClientTransport: OTLPTransport {
    private let client: HTTPClient

    public init() {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func send(_ request: OTLPRequest) async throws -> OTLPResponse {
        var http = HTTPClientRequest(url: request.url.absoluteString)
        http.method = .POST
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let timeout = TimeAmount.milliseconds(Int64(max(0.05, request.timeoutSeconds) * 1_000))
        let response = try await client.execute(http, timeout: timeout)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        // Answers are small (a status or a partial success); cap what is read so a broken
        // collector cannot make us buffer without end.
        let body = try await response.body.collect(upTo: 4 << 20)
        return OTLPResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
    }

    /// Closes idle connections. Call once, when no export is running any more.
    public func shutdown() async {
        try? await client.shutdown()
    }
}

enum Gzip {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let compressed = try buffer.compress(with: .gzip())
        return Array(buffer: compressed)
    }
}
