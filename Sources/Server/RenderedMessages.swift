import NIOCore
import Synchronization

/// Stream messages already rendered, shared by the clients that need the same bytes.
///
/// Clients that follow the live end with the same filter wake together and send the same
/// events with the same cursor: the first renders the message, the others reuse its buffer
/// (a `ByteBuffer` is shared, not copied), so 100 clients cost one rendering, not 100.
final class RenderedMessages: Sendable {
    private struct Key: Hashable {
        let seqs: [Int64]
        let cursor: Int64
    }

    private let cache = Mutex<[Key: ByteBuffer]>([:])
    private let capacity: Int

    init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// The message for these events and cursor, rendered by `render` only if no client did yet.
    func message(seqs: [Int64], cursor: Int64, render: () -> String) -> ByteBuffer {
        let key = Key(seqs: seqs, cursor: cursor)
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
