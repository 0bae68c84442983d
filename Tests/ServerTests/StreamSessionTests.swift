import EventLog
import Foundation
import GlassboxTesting
import Server
import Testing

/// The resume logic of both stream transports, against a real log file.
@Suite struct StreamSessionTests {
    private func makeLog(_ directory: TemporaryDirectory) throws -> SQLiteEventLog {
        try SQLiteEventLog(path: directory.path("log.db"), options: .init(durability: .normal, pollInterval: .milliseconds(5)))
    }

    private func append(_ log: SQLiteEventLog, count: Int, type: String = "agent.thought", stream: String = "run/r1") async throws {
        let drafts = try (0..<count).map { index in
            try EventDraft(type: type, json: #"{"text":"thought \#(index)"}"#, actor: "agent:analyst@user:alice")
        }
        _ = try await log.append(drafts, to: stream, expectedVersion: .any)
    }

    /// Reads steps until `count` events arrived; fails on anything but events.
    private func collect(_ session: inout StreamSession, feed: LiveFeed, log: SQLiteEventLog, count: Int) async throws -> [Int64] {
        var seqs: [Int64] = []
        while seqs.count < count {
            let step = try await session.next(feed: feed, reader: log)
            guard case .events(let batch, let from, let cursor) = step else {
                Issue.record("expected events, got \(step)")
                return seqs
            }
            #expect(cursor >= batch.last!.seq)
            #expect(from < batch.first!.seq)
            #expect(batch.allSatisfy { $0.json.contains(#""seq":\#($0.seq),"#) })
            seqs += batch.map(\.seq)
        }
        return seqs
    }

    @Test func catchesUpFromTheLogThenFollowsLiveWithEveryEventOnceInOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try makeLog(directory)
        defer { try? log.close() }
        try await append(log, count: 250)
        // A small buffer: the first 250 events are only in the log.
        let feed = LiveFeed(reader: log, capacity: 100, startingAfter: try await log.lastSeq())
        try await following(feed) {
            var session = StreamSession(cursor: 0, filter: EventFilter(), pageSize: 64, heartbeat: .seconds(5))
            var seqs = try await collect(&session, feed: feed, log: log, count: 250)
            try await append(log, count: 80)
            seqs += try await collect(&session, feed: feed, log: log, count: 80)
            #expect(seqs == Array(1...330))
            #expect(session.isLive)
        }
    }

    @Test func filterSkipsEventsButTheCursorMovesAndHeartbeatsCarryIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try makeLog(directory)
        defer { try? log.close() }
        let feed = LiveFeed(reader: log, capacity: 1_000, startingAfter: 0)
        try await following(feed) {
            try await append(log, count: 5, stream: "run/other")
            try await append(log, count: 2, stream: "run/wanted")

            var session = StreamSession(cursor: 0, filter: EventFilter(stream: "run/want*"), heartbeat: .milliseconds(200))
            let seqs = try await collect(&session, feed: feed, log: log, count: 2)
            #expect(seqs == [6, 7])
            try await append(log, count: 3, stream: "run/other")
            while feed.head < 10 { try await Task.sleep(for: .milliseconds(5)) }
            let step = try await session.next(feed: feed, reader: log)
            #expect(step == .heartbeat(cursor: 10, head: 10))
        }
    }

    @Test func aLiveClientThatFallsOutOfTheBufferIsClosedWithItsCursor() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try makeLog(directory)
        defer { try? log.close() }
        let feed = LiveFeed(reader: log, capacity: 100, startingAfter: 0)
        try await following(feed) {
            try await append(log, count: 10)
            var session = StreamSession(cursor: 0, filter: EventFilter(), heartbeat: .seconds(5))
            _ = try await collect(&session, feed: feed, log: log, count: 10)
            // The client stops reading while 300 more events arrive: it drops out of the 100-event buffer.
            try await append(log, count: 300)
            while feed.head < 310 { try await Task.sleep(for: .milliseconds(5)) }
            let step = try await session.next(feed: feed, reader: log)
            #expect(step == .close(reason: .slowConsumer, cursor: 10))

            // Reconnecting from the cursor catches up from the log, losing nothing.
            var again = StreamSession(cursor: 10, filter: EventFilter(), heartbeat: .seconds(5))
            let seqs = try await collect(&again, feed: feed, log: log, count: 300)
            #expect(seqs == Array(11...310))
        }
    }

    @Test func closingTheFeedEndsWaitingSessionsWithTheirCursor() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = try makeLog(directory)
        defer { try? log.close() }
        try await append(log, count: 3)
        let feed = LiveFeed(reader: log, capacity: 100, startingAfter: 3)
        let waiting = Task {
            var session = StreamSession(cursor: 3, filter: EventFilter(), heartbeat: .seconds(60))
            return try await session.next(feed: feed, reader: log)
        }
        try await Task.sleep(for: .milliseconds(50))
        feed.close()
        #expect(try await waiting.value == .close(reason: .shutdown, cursor: 3))
    }
}

/// Runs `body` while `feed` follows the log, then stops the follower and waits for it, so that
/// closing the log afterwards never waits (on a cooperative thread) for a read the follower holds.
private func following(_ feed: LiveFeed, _ body: () async throws -> Void) async throws {
    let follower = Task { await feed.run() }
    do {
        try await body()
    } catch {
        follower.cancel()
        await follower.value
        throw error
    }
    follower.cancel()
    await follower.value
}
