/// Every matching event after a cursor, read from the log in order, then new ones
/// as they arrive; see ``EventReader/subscribe(after:filter:)``.
///
/// There is no switch-over from "history" to "live" that could skip or repeat an
/// event: the subscription always reads the log itself from its cursor and only
/// waits for the head to move when it has read everything. The head moves at once
/// for appends in this process and within a poll interval for other processes.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = Event

    let reader: any EventReader
    let after: Int64
    let filter: EventFilter
    /// Events read per query while catching up.
    var pageSize = 512

    public func makeAsyncIterator() -> Iterator {
        Iterator(reader: reader, cursor: after, filter: filter, pageSize: pageSize)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let reader: any EventReader
        /// Everything up to and including `cursor` has been delivered or skipped.
        var cursor: Int64
        let filter: EventFilter
        let pageSize: Int
        var buffer: [Event] = []
        var index = 0

        public mutating func next() async throws -> Event? {
            while true {
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                try Task.checkCancellation()
                // Bound the scan by the head so that a filter matching nothing still moves the cursor.
                let head = try await reader.lastSeq()
                if head > cursor {
                    buffer = try await reader.events(
                        EventQuery(filter: filter, after: cursor, through: head, limit: pageSize))
                    index = 0
                    cursor = buffer.count == pageSize ? buffer[buffer.count - 1].seq : head
                    continue
                }
                await reader.waitForEvents(after: cursor)
            }
        }
    }
}
