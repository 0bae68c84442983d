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
/// Appenders hand their request to this actor and wait. While a commit is being
/// written, new requests queue up; the next commit takes all of them at once, so
/// under load one `fsync` serves many callers. Each request stays atomic on its
/// own: a request that fails (a lost race) does not affect the others in its batch.
actor GroupCommit {
    private struct Waiting {
        let request: AppendRequest
        let continuation: CheckedContinuation<AppendResult, any Error>
    }

    /// A batch stops growing past this many events, to bound a transaction's size and latency.
    static let maxEventsPerCommit = 20_000

    private let path: String
    private let writer: DatabasePool
    private var queue: [Waiting] = []
    private var isCommitting = false
    /// Transactions committed so far; with ``appendCount`` it shows how many callers each commit served.
    private(set) var commitCount = 0
    private(set) var appendCount = 0
    /// Called after each successful commit with the new last `seq`.
    private let onCommit: @Sendable (Int64) -> Void

    init(path: String, writer: DatabasePool, onCommit: @escaping @Sendable (Int64) -> Void) {
        self.path = path
        self.writer = writer
        self.onCommit = onCommit
    }

    func append(_ request: AppendRequest) async throws -> AppendResult {
        try await withCheckedThrowingContinuation { continuation in
            queue.append(Waiting(request: request, continuation: continuation))
            if !isCommitting {
                isCommitting = true
                Task { await commitQueued() }
            }
        }
    }

    private func commitQueued() async {
        while !queue.isEmpty {
            var batchSize = 0
            var taken = 0
            for waiting in queue {
                if taken > 0 && batchSize + waiting.request.drafts.count > Self.maxEventsPerCommit { break }
                batchSize += waiting.request.drafts.count
                taken += 1
            }
            let batch = Array(queue.prefix(taken))
            queue.removeFirst(taken)
            let requests = batch.map(\.request)
            do {
                let outcome = try await writer.writeWithoutTransaction { db in
                    try AppendTransaction.commit(requests, db: db)
                }
                commitCount += 1
                appendCount += batch.count
                if outcome.lastSeq > 0 { onCommit(outcome.lastSeq) }
                for (waiting, result) in zip(batch, outcome.results) {
                    waiting.continuation.resume(with: result)
                }
            } catch {
                let translated = SQLiteEventLog.translate(error, path: path)
                for waiting in batch { waiting.continuation.resume(throwing: translated) }
            }
        }
        isCommitting = false
    }
}

/// The body of one group commit, run on the writer connection.
enum AppendTransaction {
    struct Outcome: Sendable {
        var results: [Result<AppendResult, EventLogError>]
        /// The log's last `seq` after the commit (0 when nothing was written).
        var lastSeq: Int64
    }

    private struct IDConflict: Error {}

    static func commit(_ requests: [AppendRequest], db: Database) throws -> Outcome {
        var outcome = Outcome(results: [], lastSeq: 0)
        try db.inTransaction(.immediate) {
            // Read the head inside the write lock: another process may have appended.
            var (seq, previous) = try lastPosition(db)
            var versions: [String: Int64] = [:]
            var scratch = [UInt8]()
            scratch.reserveCapacity(1024)
            let insert = try db.cachedStatement(sql: """
                INSERT INTO events (seq, id, time, stream, stream_version, type, actor,
                                    trace_id, span_id, parent_span_id, data, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            outcome.results.reserveCapacity(requests.count)
            for request in requests {
                if let retry = try originalPositions(of: request, db: db) {
                    outcome.results.append(retry)
                    continue
                }
                let current: Int64
                if let known = versions[request.stream] {
                    current = known
                } else {
                    current = try Int64.fetchOne(
                        db, sql: "SELECT MAX(stream_version) FROM events WHERE stream = ?",
                        arguments: [request.stream]) ?? 0
                }
                if let conflict = check(request.expectedVersion, current: current, stream: request.stream) {
                    outcome.results.append(.failure(conflict))
                    continue
                }
                var positions: [EventPosition] = []
                positions.reserveCapacity(request.drafts.count)
                let start = (seq, previous)
                do {
                    try db.inSavepoint {
                        var version = current
                        for draft in request.drafts {
                            seq += 1
                            version += 1
                            let fields = HashedFields(
                                seq: seq, id: draft.id, time: draft.time, stream: request.stream,
                                streamVersion: version, type: draft.type, actor: draft.actor,
                                traceID: draft.trace?.traceID, spanID: draft.trace?.spanID,
                                parentSpanID: draft.trace?.parentSpanID, data: draft.data)
                            let hash = ChainHash.compute(previous: previous, fields, scratch: &scratch)
                            do {
                                try insert.execute(arguments: [
                                    seq, draft.id.lowercasedString, draft.time, request.stream, version,
                                    draft.type, draft.actor, fields.traceID, fields.spanID, fields.parentSpanID,
                                    draft.data, Data(previous.bytes), Data(hash.bytes),
                                ])
                            } catch let error as DatabaseError
                                where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                                && (error.message ?? "").contains("events.id")
                            {
                                throw IDConflict()
                            }
                            previous = hash
                            positions.append(EventPosition(seq: seq, streamVersion: version))
                        }
                        return .commit
                    }
                    versions[request.stream] = positions.last?.streamVersion ?? current
                    outcome.results.append(.success(AppendResult(positions: positions, deduplicated: false)))
                } catch is IDConflict {
                    (seq, previous) = start
                    outcome.results.append(.failure(.conflictingEventIDs(
                        "some event ids of this append are already in the log and others are not")))
                }
            }
            outcome.lastSeq = seq
            return .commit
        }
        return outcome
    }

    private static func lastPosition(_ db: Database) throws -> (Int64, ChainHash) {
        guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") else {
            return (0, .genesis)
        }
        let bytes: Data = row[1]
        guard let hash = ChainHash(bytes: bytes) else {
            throw EventLogError.corrupt(path: db.description, detail: "the last event's hash is not 32 bytes")
        }
        return (row[0], hash)
    }

    /// When the request's first event id is already in the log, this is a retry:
    /// returns where the original append put every event.
    private static func originalPositions(
        of request: AppendRequest, db: Database
    ) throws -> Result<AppendResult, EventLogError>? {
        guard let first = request.drafts.first,
              try Bool.fetchOne(db, sql: "SELECT 1 FROM events WHERE id = ?", arguments: [first.id.lowercasedString]) == true
        else { return nil }
        var positions: [EventPosition] = []
        for draft in request.drafts {
            guard let row = try Row.fetchOne(
                db, sql: "SELECT seq, stream_version, stream FROM events WHERE id = ?",
                arguments: [draft.id.lowercasedString])
            else {
                return .failure(.conflictingEventIDs(
                    "event \(first.id.lowercasedString) is already in the log but \(draft.id.lowercasedString) is not"))
            }
            let stream: String = row[2]
            guard stream == request.stream else {
                return .failure(.conflictingEventIDs(
                    "event \(draft.id.lowercasedString) is already in stream '\(stream)', not '\(request.stream)'"))
            }
            positions.append(EventPosition(seq: row[0], streamVersion: row[1]))
        }
        return .success(AppendResult(positions: positions, deduplicated: true))
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
