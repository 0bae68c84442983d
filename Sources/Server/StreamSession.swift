public import EventLog
import Foundation

/// What a stream sends next. Apart from I/O so that both transports (WebSocket, SSE)
/// share one resume logic, and tests can drive it without a socket.
public enum StreamStep: Sendable, Equatable {
    public static func == (lhs: StreamStep, rhs: StreamStep) -> Bool {
        switch (lhs, rhs) {
        case let (.events(a, fromA, cursorA), .events(b, fromB, cursorB)):
            a.map(\.seq) == b.map(\.seq) && fromA == fromB && cursorA == cursorB
        case let (.heartbeat(a, headA), .heartbeat(b, headB)): a == b && headA == headB
        case let (.close(a, cursorA), .close(b, cursorB)): a == b && cursorA == cursorB
        default: false
        }
    }

    /// The events the client's filter admits after `from` up to `cursor`, which is where to
    /// resume after them. `from`, `cursor` and the filter determine the events: clients with
    /// the same three send the same bytes.
    case events([LiveFeed.Entry], from: Int64, cursor: Int64)
    /// Nothing new for a while; the cursor may have moved past events the filter skipped.
    case heartbeat(cursor: Int64, head: Int64)
    /// The stream ends; the client reconnects with `from=cursor`.
    case close(reason: CloseReason, cursor: Int64)

    public enum CloseReason: String, Sendable {
        case shutdown
        case slowConsumer = "slow_consumer"
    }
}

/// One stream client's position in the log: where it is, what it wants, and whether it
/// has caught up with the live buffer yet.
///
/// A client that asks for old events (`from` far back) is served from the log page by
/// page until it reaches the live buffer. Once live, a client that drops out of the
/// buffer again is too slow for the live rate: it is closed with its cursor, so its
/// memory and socket are released, and it catches up from the log when it reconnects.
public struct StreamSession: Sendable {
    public private(set) var cursor: Int64
    public let filter: EventFilter
    public private(set) var isLive = false
    let pageSize: Int
    let heartbeat: Duration

    public init(cursor: Int64, filter: EventFilter, pageSize: Int = 500, heartbeat: Duration = .seconds(15)) {
        self.cursor = cursor
        self.filter = filter
        self.pageSize = pageSize
        self.heartbeat = heartbeat
    }

    /// Waits for and returns what to send next.
    public mutating func next(feed: LiveFeed, reader: any EventReader) async throws -> StreamStep {
        while true {
            try Task.checkCancellation()
            switch feed.read(after: cursor, limit: pageSize) {
            case .closing:
                return .close(reason: .shutdown, cursor: cursor)
            case .events(let entries, let through):
                isLive = true
                let from = cursor
                cursor = through
                let admitted = filter == EventFilter() ? entries : entries.filter {
                    filter.matches(type: $0.type, stream: $0.stream, actor: $0.actor, traceID: $0.traceID)
                }
                if admitted.isEmpty { continue }
                return .events(admitted, from: from, cursor: cursor)
            case .behind:
                if isLive { return .close(reason: .slowConsumer, cursor: cursor) }
                if let step = try await catchUp(feed: feed, reader: reader) { return step }
            case .upToDate:
                isLive = true
                if !(await feed.wait(after: cursor, timeout: heartbeat)) {
                    return .heartbeat(cursor: cursor, head: feed.head)
                }
            }
        }
    }

    /// One page from the log for a client behind the live buffer; nil when the filter
    /// admitted nothing up to the feed's head (the cursor then jumps there).
    private mutating func catchUp(feed: LiveFeed, reader: any EventReader) async throws -> StreamStep? {
        let head = feed.head
        let from = cursor
        let page = try await reader.events(EventQuery(filter: filter, after: cursor, through: head, limit: pageSize))
        if page.count < pageSize {
            cursor = head
        } else {
            cursor = page.last!.seq
        }
        if page.isEmpty { return nil }
        return .events(page.map(LiveFeed.Entry.init), from: from, cursor: cursor)
    }
}
