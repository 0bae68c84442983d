import EventLog
import NIOCore
import Synchronization

/// Stream messages already rendered, shared by the clients that need the same bytes.
///
/// Clients that follow the live end with the same filter wake together and send the same
/// events with the same cursor: the first renders the message, the others reuse its buffer
/// (a `ByteBuffer` is shared, not copied), so 100 clients cost one rendering, not 100.
final class RenderedMessages: Sendable {
    private struct Key: Hashable {
        let from: Int64
        let cursor: Int64
        let filter: EventFilter
    }

    private let cache = Mutex<[Key: ByteBuffer]>([:])
    private let capacity: Int

    init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// The message for the events after `from` up to `cursor` that `filter` admits (see
    /// ``StreamStep/events(_:from:cursor:)``), rendered by `render` only if no client did yet.
    func message(from: Int64, cursor: Int64, filter: EventFilter, render: () -> String) -> ByteBuffer {
        let key = Key(from: from, cursor: cursor, filter: filter)
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let buffer = ByteBuffer(string: render())
        cache.withLock { cache in
            // Old ranges are never asked for again once every client moved on: dropping all is enough.
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = buffer
        }
        return buffer
    }
}
