import DequeModule
public import EventLog
import Foundation
public import Logging
import CoreMetrics
import Metrics
import Synchronization

/// The one reader that follows the log for every stream client.
///
/// It reads each new event once, renders its JSON once, and keeps the most recent
/// `capacity` events in memory, shared by all clients: 100 clients cost one log read
/// and one rendering per event, not 100. A client that falls further behind than the
/// buffer is told to reconnect from its cursor and catch up from the log.
public final class LiveFeed: Sendable {
    /// One event as the streams send it. A class: a batch handed to 100 clients is then
    /// 100 retains per event, not 600 (one per string field).
    public final class Entry: Sendable {
        public let seq: Int64
        public let type: String
        public let stream: String
        public let actor: String
        public let traceID: String?
        /// The envelope as JSON (``Event/jsonLine``).
        public let json: String

        public init(_ event: Event) {
            seq = event.seq
            type = event.type
            stream = event.stream
            actor = event.actor
            traceID = event.traceID
            json = event.jsonLine
        }
    }

    /// What a client at some cursor can read next.
    public enum Read: Sendable {
        /// Events after the cursor, oldest first, and the seq the client has now seen everything up to.
        case events([Entry], through: Int64)
        /// The client has everything; wait for more.
        case upToDate
        /// The events after the cursor have left the buffer: read them from the log.
        case behind
        /// The server is shutting down.
        case closing
    }

    private struct State {
        var entries = Deque<Entry>()
        /// The last seq the feed has read; everything up to it is in the log, the newest in `entries`.
        var head: Int64
        var closing = false
        /// Clients waiting for events, with the time at which they stop waiting (for a heartbeat).
        var waiters: [Int: (continuation: CheckedContinuation<Bool, Never>, deadline: ContinuousClock.Instant)] = [:]
        var nextWaiter = 0
    }

    private let reader: any EventReader
    private let capacity: Int
    private let state: Mutex<State>
    private let logger: Logger

    /// A feed that starts at the log's current end: it serves events appended from now on;
    /// older ones are read from the log by the clients that ask for them.
    public init(reader: any EventReader, capacity: Int, startingAfter head: Int64, logger: Logger = Logger(label: "glassbox.feed")) {
        self.reader = reader
        self.capacity = max(1, capacity)
        self.state = Mutex(State(head: head))
        self.logger = logger
    }

    /// The last seq the feed has read from the log.
    public var head: Int64 { state.withLock { $0.head } }

    public var isClosing: Bool { state.withLock { $0.closing } }

    /// Follows the log until the task is cancelled or ``close()`` is called.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.expireWaiters() }
            await follow()
            group.cancelAll()
        }
    }

    private func follow() async {
        while !Task.isCancelled, !isClosing {
            let after = head
            do {
                let page = try await reader.events(EventQuery(after: after, limit: 1_000))
                if page.isEmpty {
                    await reader.waitForEvents(after: after)
                    continue
                }
                publish(page.map(Entry.init))
            } catch is CancellationError {
                return
            } catch {
                logger.error("live feed cannot read the log after seq \(after): \(error); retrying in 1 s")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Adds events read from the log and wakes the clients waiting for them.
    func publish(_ page: [Entry]) {
        guard let last = page.last else { return }
        let waiting = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.entries.append(contentsOf: page)
            let excess = state.entries.count - capacity
            if excess > 0 { state.entries.removeFirst(excess) }
            state.head = last.seq
            let waiting = state.waiters.values.map(\.continuation)
            state.waiters.removeAll(keepingCapacity: true)
            return waiting
        }
        for continuation in waiting { continuation.resume(returning: true) }
        var counts: [String: Int] = [:]
        for entry in page { counts[entry.type, default: 0] += 1 }
        for (type, count) in counts {
            Counter(label: "glassbox_events_appended_total", dimensions: [("type", type)]).increment(by: count)
        }
    }

    /// At most `limit` events after `cursor` from the buffer.
    public func read(after cursor: Int64, limit: Int) -> Read {
        state.withLock { state in
            if state.closing { return .closing }
            if cursor >= state.head { return .upToDate }
            guard let first = state.entries.first, cursor >= first.seq - 1 else { return .behind }
            // seqs in the buffer are increasing but may have gaps (never in practice, but cheap to allow).
            var index = state.entries.count - Int(state.head - cursor)
            index = max(0, min(index, state.entries.count))
            while index > 0, state.entries[index - 1].seq > cursor { index -= 1 }
            while index < state.entries.count, state.entries[index].seq <= cursor { index += 1 }
            let end = min(state.entries.count, index + limit)
            let slice = Array(state.entries[index..<end])
            let through = end == state.entries.count ? state.head : slice.last?.seq ?? cursor
            return .events(slice, through: through)
        }
    }

    /// Waits until the feed moves past `cursor`, the feed closes, or about `timeout` passes
    /// (timeouts are checked four times a second; they only pace heartbeats).
    /// - Returns: false when it timed out.
    public func wait(after cursor: Int64, timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let deadline = ContinuousClock.now + timeout
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.head > cursor || state.closing || Task.isCancelled { return true }
                    state.waiters[id] = (continuation, deadline)
                    return false
                }
                if now { continuation.resume(returning: true) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: true)
        }
    }

    /// Wakes the waiters whose time is up. One timer for all clients instead of one each.
    private func expireWaiters() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = ContinuousClock.now
            let expired = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
                let ids = state.waiters.filter { $0.value.deadline <= now }.map(\.key)
                return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
            }
            for continuation in expired { continuation.resume(returning: false) }
        }
    }

    /// Tells every client to close with its cursor; used for a graceful shutdown.
    public func close() {
        let waiting = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.closing = true
            let waiting = state.waiters.values.map(\.continuation)
            state.waiters.removeAll()
            return waiting
        }
        for continuation in waiting { continuation.resume(returning: true) }
    }
}
