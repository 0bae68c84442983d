import Foundation
import GRDB

/// One caller's append, waiting for its turn in a group commit.
struct AppendRequest: Sendable {
    let drafts: [EventDraft]
    let stream: String
    let expectedVersion: ExpectedVersion
}

/// Group commit: many appenders, one transaction, one sync.
///
/// Appenders hand their request to a dedicated committer thread and wait. While a
/// commit is being written, new requests queue up; the next commit takes all of them
/// at once, so under load one `fsync` serves many callers. Each request stays atomic
/// on its own: a request that fails (a lost race) does not affect the others in its batch.
///
/// The committer is a plain thread rather than an actor: SQLite's calls block, and a
/// thread of its own keeps them, and the wake-ups around them, off Swift's cooperative
/// pool, where they would wait behind the very tasks that are appending.
final class GroupCommit: @unchecked Sendable {
    // Safe: every mutable field below is read and written only with `condition` locked.
    private struct Waiting {
        let request: AppendRequest
        let continuation: CheckedContinuation<AppendResult, any Error>
    }

    /// A batch stops growing past this many events, to bound a transaction's size and latency.
    static let maxEventsPerCommit = 20_000

    private let path: String
    private let writer: DatabasePool
    /// Called after each successful commit with the new last `seq`.
    private let onCommit: @Sendable (Int64) -> Void
    private let condition = NSCondition()
    private var queue: [Waiting] = []
    private var closed = false
    private var commits = 0
    private var appends = 0
    private let stopped = DispatchSemaphore(value: 0)

    init(path: String, writer: DatabasePool, onCommit: @escaping @Sendable (Int64) -> Void) {
        self.path = path
        self.writer = writer
        self.onCommit = onCommit
        let thread = Thread { [self] in run() }
        thread.name = "glassbox.group-commit"
        thread.start()
    }

    /// Transactions committed so far; with ``appendCount`` it shows how many callers each commit served.
    var commitCount: Int { condition.withLock { commits } }
    var appendCount: Int { condition.withLock { appends } }

    func append(_ request: AppendRequest) async throws -> AppendResult {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !closed else {
                continuation.resume(throwing: EventLogError.database(path: path, message: "the log was closed"))
                return
            }
            queue.append(Waiting(request: request, continuation: continuation))
            condition.signal()
        }
    }

    /// Stops the committer once the queue is empty; appends after this fail.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// Closes, then blocks until every queued append has been committed or failed.
    func closeAndDrain() {
        close()
        stopped.wait()
        stopped.signal()  // later callers do not block
    }

    private func run() {
        defer { stopped.signal() }
        while let batch = nextBatch() {
            let requests = batch.map(\.request)
            let clock = ContinuousClock()
            let started = clock.now
            do {
                let outcome = try writer.writeWithoutTransaction { db in
                    try AppendTransaction.commit(requests, db: db)
                }
                condition.withLock {
                    commits += 1
                    appends += batch.count
                }
                if outcome.lastSeq > 0 { onCommit(outcome.lastSeq) }
                for (waiting, result) in zip(batch, outcome.results) {
                    waiting.continuation.resume(with: result)
                }
            } catch {
                let translated = SQLiteEventLog.translate(error, path: path)
                for waiting in batch { waiting.continuation.resume(throwing: translated) }
            }
            waitForReturningAppenders(count: batch.count, commitTook: clock.now - started)
        }
    }

    /// Blocks until requests are queued; takes as many as one commit should carry. Nil once closed and drained.
    private func nextBatch() -> [Waiting]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if closed { return nil }
            condition.wait()
        }
        var events = 0
        var taken = 0
        for waiting in queue {
            if taken > 0 && events + waiting.request.drafts.count > Self.maxEventsPerCommit { break }
            events += waiting.request.drafts.count
            taken += 1
        }
        let batch = Array(queue.prefix(taken))
        queue.removeFirst(taken)
        return batch
    }

    /// Gives the callers just answered a moment to append again before the next commit.
    ///
    /// Without it, a steady load of N appenders splits into two alternating halves (one
    /// half commits while the other queues), and each sync serves N/2 of them. Waiting for
    /// them, at most half as long as a commit takes (and never above 2 ms), lets each commit
    /// carry nearly all N. A single appender never waits.
    private func waitForReturningAppenders(count: Int, commitTook: Duration) {
        guard count > 1 else { return }
        let (seconds, attoseconds) = min(commitTook / 2, .milliseconds(2)).components
        let deadline = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while queue.count < count && !closed {
            if !condition.wait(until: deadline) { return }
        }
    }
}

/// The body of one group commit, run on the writer connection inside one transaction.
///
/// Statements are prepared once per connection (GRDB's statement cache) and driven
/// through SQLite's C API: with many small appends per commit, compiling SQL or
/// building argument arrays per request would cost more than the inserts.
struct AppendTransaction {
    struct Outcome: Sendable {
        var results: [Result<AppendResult, EventLogError>]
        /// The log's last `seq` after the commit (0 when nothing was written).
        var lastSeq: Int64
    }

    private struct IDConflict: Error {}

    private let insert: RawStatement
    private let findID: RawStatement
    private let streamVersion: RawStatement
    private let savepoint: RawStatement
    private let release: RawStatement
    private let rollback: RawStatement
    private var seq: Int64
    private var previous: ChainHash
    private var versions: [String: Int64] = [:]
    private var scratch: [UInt8] = []

    static func commit(_ requests: [AppendRequest], db: Database) throws -> Outcome {
        var outcome = Outcome(results: [], lastSeq: 0)
        try db.inTransaction(.immediate) {
            var transaction = try AppendTransaction(db)
            outcome.results.reserveCapacity(requests.count)
            for request in requests {
                outcome.results.append(try transaction.append(request))
            }
            outcome.lastSeq = transaction.seq
            return .commit
        }
        return outcome
    }

    private init(_ db: Database) throws {
        insert = RawStatement(try db.cachedStatement(sql: """
            INSERT INTO events (seq, id, time, stream, stream_version, type, actor,
                                trace_id, span_id, parent_span_id, data, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """), db)
        findID = RawStatement(try db.cachedStatement(sql: "SELECT seq, stream_version, stream FROM events WHERE id = ?"), db)
        streamVersion = RawStatement(try db.cachedStatement(sql: "SELECT MAX(stream_version) FROM events WHERE stream = ?"), db)
        savepoint = RawStatement(try db.cachedStatement(sql: "SAVEPOINT glassbox_append"), db)
        release = RawStatement(try db.cachedStatement(sql: "RELEASE SAVEPOINT glassbox_append"), db)
        rollback = RawStatement(try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT glassbox_append"), db)
        // Read the head inside the write lock: another process may have appended.
        let last = RawStatement(try db.cachedStatement(sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"), db)
        defer { last.reset() }
        if try last.step() {
            guard let hash = last.hash(1) else {
                throw EventLogError.corrupt(path: db.description, detail: "the last event's hash is not 32 bytes")
            }
            (seq, previous) = (last.int64(0), hash)
        } else {
            (seq, previous) = (0, .genesis)
        }
        scratch.reserveCapacity(1024)
    }

    /// Appends one request atomically (a savepoint), or returns why it cannot be.
    private mutating func append(_ request: AppendRequest) throws -> Result<AppendResult, EventLogError> {
        let current = try versions[request.stream] ?? currentVersion(of: request.stream)
        if let conflict = Self.check(request.expectedVersion, current: current, stream: request.stream) {
            // A retry of an append that did land finds its stream moved on: answer it, not the race.
            return try originalPositions(of: request) ?? .failure(conflict)
        }
        var positions: [EventPosition] = []
        positions.reserveCapacity(request.drafts.count)
        let start = (seq, previous)
        // A savepoint undoes the first inserts when a later one fails; one insert needs none.
        let guarded = request.drafts.count > 1
        if guarded { try savepoint.run() }
        do {
            var version = current
            for draft in request.drafts {
                version += 1
                try insert(draft, stream: request.stream, version: version)
                positions.append(EventPosition(seq: seq, streamVersion: version))
            }
            if guarded { try release.run() }
        } catch {
            if guarded {
                try rollback.run()
                try release.run()
            }
            (seq, previous) = start
            if error is IDConflict {
                // The unique index on ids found an id already in the log: a retry, or a mix.
                return try originalPositions(of: request)
                    ?? .failure(.conflictingEventIDs("some event ids of this append are already in the log and others are not"))
            }
            throw error
        }
        versions[request.stream] = positions.last?.streamVersion ?? current
        return .success(AppendResult(positions: positions, deduplicated: false))
    }

    private mutating func insert(_ draft: EventDraft, stream: String, version: Int64) throws {
        seq += 1
        let fields = HashedFields(
            seq: seq, id: draft.id, time: draft.time, stream: stream, streamVersion: version, type: draft.type,
            actor: draft.actor, traceID: draft.trace?.traceID, spanID: draft.trace?.spanID,
            parentSpanID: draft.trace?.parentSpanID, data: draft.data)
        let hash = ChainHash.compute(previous: previous, fields, scratch: &scratch)
        insert.reset()
        insert.bind(seq, at: 1)
        insert.bind(draft.id, at: 2)
        insert.bind(draft.time, at: 3)
        insert.bind(stream, at: 4)
        insert.bind(version, at: 5)
        insert.bind(draft.type, at: 6)
        insert.bind(draft.actor, at: 7)
        insert.bind(fields.traceID, at: 8)
        insert.bind(fields.spanID, at: 9)
        insert.bind(fields.parentSpanID, at: 10)
        insert.bind(draft.data, at: 11)
        insert.bind(previous, at: 12)
        insert.bind(hash, at: 13)
        defer { insert.reset() }
        do {
            _ = try insert.step()
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE && (error.message ?? "").contains("events.id")
        {
            throw IDConflict()
        }
        previous = hash
    }

    private func currentVersion(of stream: String) throws -> Int64 {
        streamVersion.reset()
        defer { streamVersion.reset() }
        streamVersion.bind(stream, at: 1)
        return try streamVersion.step() ? streamVersion.int64(0) : 0
    }

    /// When the request's first event id is already in the log, this is a retry:
    /// returns where the original append put every event.
    private func originalPositions(of request: AppendRequest) throws -> Result<AppendResult, EventLogError>? {
        guard let first = request.drafts.first, try position(of: first.id) != nil else { return nil }
        var positions: [EventPosition] = []
        for draft in request.drafts {
            guard let (position, stream) = try position(of: draft.id) else {
                return .failure(.conflictingEventIDs(
                    "event \(first.id.lowercasedString) is already in the log but \(draft.id.lowercasedString) is not"))
            }
            guard stream == request.stream else {
                return .failure(.conflictingEventIDs(
                    "event \(draft.id.lowercasedString) is already in stream '\(stream)', not '\(request.stream)'"))
            }
            positions.append(position)
        }
        return .success(AppendResult(positions: positions, deduplicated: true))
    }

    private func position(of id: UUID) throws -> (EventPosition, String)? {
        findID.reset()
        defer { findID.reset() }
        findID.bind(id, at: 1)
        guard try findID.step() else { return nil }
        return (EventPosition(seq: findID.int64(0), streamVersion: findID.int64(1)), findID.text(2) ?? "")
    }

    private static func check(_ expected: ExpectedVersion, current: Int64, stream: String) -> EventLogError? {
        switch expected {
        case .any:
            return nil
        case .noStream where current == 0:
            return nil
        case .exact(let version) where version == current:
            return nil
        default:
            return .versionConflict(stream: stream, expected: expected, actual: current)
        }
    }
}

extension UUID {
    /// The lowercase text form stored in the log.
    var lowercasedString: String { uuidString.lowercased() }
}
