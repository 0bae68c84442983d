import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import CoreMetrics
import Metrics
import NIOCore
import NIOWebSocket
import Synchronization
import Glassbox

extension GlassboxServer {
    /// WebSocket `/api/v1/stream` and Server-Sent Events `/api/v1/events/stream`: the same
    /// filters, the same resume cursor, the same slow-consumer rule.
    func addStreamRoutes(to router: Router<GlassboxRequestContext>, webSocketRouter: Router<GlassboxRequestContext>) {
        router.get("/api/v1/stream") { request, _ -> Response in
            guard origins.allowsWebSocket(origin: request.headers[.origin], host: request.head.authority) else {
                throw APIError(.forbidden, code: "origin_not_allowed",
                               "WebSocket connections from \(request.headers[.origin] ?? "?") are not allowed; start the server with --cors-origin for it")
            }
            _ = try streamSession(for: request)
            throw APIError(.upgradeRequired, code: "upgrade_required",
                           "this is a WebSocket endpoint: connect with a WebSocket client (ws://host/api/v1/stream), or read /api/v1/events/stream as Server-Sent Events")
        }

        // Every upgrade is accepted, and a refused one is explained in the socket: a refused
        // handshake can only be a bare 400, and browsers do not show its body anyway.
        webSocketRouter.ws("/api/v1/stream") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let request = context.request
            let initial: StreamSession
            do {
                guard origins.allowsWebSocket(origin: request.headers[.origin], host: request.head.authority) else {
                    throw APIError(.forbidden, code: "origin_not_allowed",
                                   "WebSocket connections from \(request.headers[.origin] ?? "?") are not allowed; start the server with --cors-origin for it")
                }
                initial = try streamSession(for: request)
            } catch let error as APIError {
                // 4000 + the HTTP status the same request gets without the upgrade.
                let message = #"{"kind":"error","error":{"code":\#(JSONText.string(error.code)),"message":\#(JSONText.string(error.message))}}"#
                try await outbound.write(.text(message))
                try await outbound.close(.unknown(UInt16(4_000 + error.status.code)), reason: error.code)
                return
            }
            let client = StreamClient(transport: "websocket", feed: feed)
            defer { client.disconnected() }
            let channel = context.requestContext.channel
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The client sends nothing we need, but reading notices when it goes away.
                group.addTask {
                    for try await _ in inbound.messages(maxSize: 64 * 1_024) {}
                }
                group.addTask {
                    try await client.watchForStalls(limit: stallTimeout) { channel.close(promise: nil) }
                }
                group.addTask {
                    var session = initial
                    try await outbound.write(.text(#"{"kind":"hello","from":\#(session.cursor),"lastSeq":\#(feed.head)}"#))
                    while true {
                        let step = try await session.next(feed: feed, reader: log)
                        client.update(cursor: session.cursor)
                        switch step {
                        case .events(let entries, let from, let cursor):
                            let buffer = webSocketMessages.message(from: from, cursor: cursor, filter: session.filter) {
                                var text = #"{"kind":"events","events":["#
                                text.reserveCapacity(entries.reduce(64) { $0 + $1.json.utf8.count + 1 })
                                text += entries.map(\.json).joined(separator: ",")
                                text += #"],"cursor":\#(cursor)}"#
                                return text
                            }
                            try await client.sending {
                                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: buffer)))
                            }
                        case .heartbeat(let cursor, let head):
                            try await client.sending {
                                try await outbound.write(.text(#"{"kind":"heartbeat","cursor":\#(cursor),"lastSeq":\#(head)}"#))
                            }
                        case .close(let reason, let cursor):
                            client.closed(reason: reason.rawValue)
                            try await client.sending {
                                try await outbound.write(.text(#"{"kind":"closing","reason":"\#(reason.rawValue)","cursor":\#(cursor)}"#))
                                try await outbound.close(reason == .shutdown ? .goingAway : .unknown(1013), reason: "resume with from=\(cursor)")
                            }
                            return
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }

        router.get("/api/v1/events/stream") { request, context in
            let initial = try streamSession(for: request)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            let channel = context.channel
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var session = initial
                let client = StreamClient(transport: "sse", feed: feed)
                defer { client.disconnected() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await client.watchForStalls(limit: stallTimeout) { channel.close(promise: nil) }
                    }
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    loop: while true {
                        let step = try await session.next(feed: feed, reader: log)
                        client.update(cursor: session.cursor)
                        let buffer: ByteBuffer
                        switch step {
                        case .events(let entries, let from, let cursor):
                            buffer = sseMessages.message(from: from, cursor: cursor, filter: session.filter) {
                                var text = ""
                                text.reserveCapacity(entries.reduce(0) { $0 + $1.json.utf8.count + 24 })
                                for entry in entries {
                                    text += "id: \(entry.seq)\ndata: \(entry.json)\n\n"
                                }
                                // Filtered-out events still move the resume point.
                                if let last = entries.last, last.seq < cursor { text += ": cursor\nid: \(cursor)\n\n" }
                                return text
                            }
                        case .heartbeat(let cursor, _):
                            buffer = ByteBuffer(string: ": heartbeat\nid: \(cursor)\n\n")
                        case .close(let reason, let cursor):
                            client.closed(reason: reason.rawValue)
                            let closing = ByteBuffer(string: "event: closing\ndata: {\"reason\":\"\(reason.rawValue)\",\"cursor\":\(cursor)}\n\n")
                            try await client.sending { try await writer.write(closing) }
                            break loop
                        }
                        try await client.sending { try await writer.write(buffer) }
                    }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            })
        }
    }

    /// The session a stream request asks for: its filter and where to resume.
    func streamSession(for request: Request) throws -> StreamSession {
        let query = QueryParameters(request)
        let filter = try query.eventFilter()
        var from = try query.integer("from", in: 0...Int64.max)
        if let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!], !lastEventID.isEmpty {
            guard let seq = Int64(lastEventID), seq >= 0 else {
                throw APIError.badRequest("the Last-Event-ID header must be a seq (a whole number), not `\(lastEventID)`")
            }
            from = seq
        }
        return StreamSession(cursor: from ?? feed.head, filter: filter, heartbeat: heartbeat)
    }
}

/// One connected stream client, for metrics and for cutting it off when its socket stalls.
final class StreamClient: Sendable {
    private static let counts = Mutex<[String: Int]>([:])
    private static let nextID = Atomic<Int>(0)

    let transport: String
    let id: String
    private let feed: LiveFeed
    private let lag: Gauge
    /// When the write in progress began; nil when none is.
    private let writingSince = Mutex<ContinuousClock.Instant?>(nil)

    init(transport: String, feed: LiveFeed) {
        self.transport = transport
        self.feed = feed
        id = String(Self.nextID.wrappingAdd(1, ordering: .relaxed).newValue)
        lag = Gauge(label: "glassbox_stream_client_lag_events", dimensions: [("client", id), ("transport", transport)])
        Self.changeCount(transport, by: 1)
    }

    func update(cursor: Int64) {
        lag.record(max(0, feed.head - cursor))
    }

    /// Runs one write, marking the time it started so that a stall can be noticed.
    func sending(_ write: () async throws -> Void) async throws {
        writingSince.withLock { $0 = .now }
        defer { writingSince.withLock { $0 = nil } }
        try await write()
    }

    /// Calls `cutOff` when one write has waited longer than `limit` for the client to read.
    func watchForStalls(limit: Duration, cutOff: @Sendable () -> Void) async throws {
        let tick = min(limit / 4, .seconds(1))
        while true {
            try await Task.sleep(for: tick)
            if let since = writingSince.withLock({ $0 }), ContinuousClock.now - since > limit {
                closed(reason: "stalled")
                cutOff()
                return
            }
        }
    }

    func closed(reason: String) {
        Counter(label: "glassbox_stream_disconnects_total", dimensions: [("reason", reason)]).increment()
    }

    func disconnected() {
        lag.destroy()
        Self.changeCount(transport, by: -1)
    }

    private static func changeCount(_ transport: String, by delta: Int) {
        let count = counts.withLock { counts -> Int in
            counts[transport, default: 0] += delta
            return counts[transport]!
        }
        Gauge(label: "glassbox_stream_clients", dimensions: [("transport", transport)]).record(count)
    }
}
