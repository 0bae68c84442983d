import Foundation
import GRDB

extension SQLiteEventLog: EventStore {
    public func append(
        _ events: [EventDraft], to stream: String, expectedVersion: ExpectedVersion
    ) async throws -> AppendResult {
        guard !isReadOnly else { throw EventLogError.readOnlyLog(path: path) }
        try Validation.check(events, stream: stream)
        return try await groupCommit.append(
            AppendRequest(drafts: events, stream: stream, expectedVersion: expectedVersion))
    }

    public func events(_ query: EventQuery) async throws -> [Event] {
        let (sql, arguments) = EventRows.select(query)
        do {
            let expected = query.limit
            return try await pool.read { db in
                try EventRows.fetch(db, sql: sql, arguments: arguments, expected: expected)
            }
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }

    public func lastSeq() async throws -> Int64 {
        do {
            let last = try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }
            head.advance(to: last)
            return last
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }

    public func waitForEvents(after seq: Int64) async {
        await head.wait(after: seq)
    }

    /// Visits every event after `after` (through `through`, if set) in `seq` order,
    /// reading in pages on one read transaction per page. The fast path for replays.
    public func forEachEvent(
        after: Int64 = 0, through: Int64? = nil, pageSize: Int = 10_000,
        _ body: @Sendable ([Event]) async throws -> Void
    ) async throws {
        var cursor = after
        while true {
            let page = try await events(EventQuery(after: cursor, through: through, limit: pageSize))
            guard let last = page.last else { return }
            try await body(page)
            cursor = last.seq
            if page.count < pageSize { return }
        }
    }
}

extension SQLiteEventLog: CheckpointStore {
    public func checkpoint(of consumer: String) async throws -> Int64 {
        do {
            return try await pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT seq FROM consumer_checkpoints WHERE consumer = ?",
                                   arguments: [consumer]) ?? 0
            }
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }

    public func saveCheckpoint(_ seq: Int64, of consumer: String) async throws {
        do {
            try await pool.write { db in try Checkpoints.save(seq, of: consumer, db: db) }
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }
}

enum Checkpoints {
    static func save(_ seq: Int64, of consumer: String, db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO consumer_checkpoints (consumer, seq, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
                """,
            arguments: [consumer, seq, EventClock.now()])
    }
}

/// Input checks made before an append is queued, so a bad request never reaches the writer.
/// Callers may run them earlier, e.g. before opening the log.
public enum Validation {
    static func check(_ drafts: [EventDraft], stream: String) throws {
        guard !drafts.isEmpty else { throw EventLogError.emptyAppend }
        try checkStream(stream)
        var ids = Set<UUID>()
        ids.reserveCapacity(drafts.count)
        for draft in drafts {
            guard ids.insert(draft.id).inserted else {
                throw EventLogError.conflictingEventIDs("event id \(draft.id.lowercasedString) appears twice in this append")
            }
            guard EventCatalog.messageType(for: draft.type) != nil else {
                throw EventLogError.unknownEventType(draft.type, known: EventCatalog.allTypes)
            }
            try checkActor(draft.actor)
        }
    }

    /// Throws ``EventLogError/invalidStream(_:problem:)`` unless `stream` is a usable stream name:
    /// 1 to 256 bytes, no spaces or control characters.
    public static func checkStream(_ stream: String) throws {
        if stream.isEmpty { throw EventLogError.invalidStream(stream, problem: "it is empty") }
        if stream.utf8.count > 256 { throw EventLogError.invalidStream(stream, problem: "it is longer than 256 bytes") }
        if hasSpaceOrControl(stream) {
            throw EventLogError.invalidStream(stream, problem: "it contains spaces or control characters")
        }
    }

    /// Throws ``EventLogError/invalidActor(_:)`` unless `actor` is 1 to 256 bytes without spaces.
    public static func checkActor(_ actor: String) throws {
        if actor.isEmpty || actor.utf8.count > 256 || hasSpaceOrControl(actor) {
            throw EventLogError.invalidActor(actor)
        }
    }

    /// Checks bytes for ASCII text (every append passes here); looks at Unicode properties only for the rest.
    private static func hasSpaceOrControl(_ text: String) -> Bool {
        var nonASCII = false
        for byte in text.utf8 {
            if byte <= 0x20 || byte == 0x7F { return true }
            if byte >= 0x80 { nonASCII = true }
        }
        return nonASCII && text.unicodeScalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
    }
}

/// SQL for reading events, and decoding of rows into ``Event``s.
enum EventRows {
    static let columns =
        "seq, id, time, stream, stream_version, type, actor, trace_id, span_id, parent_span_id, data, prev_hash, hash"

    static func select(_ query: EventQuery) -> (String, StatementArguments) {
        var conditions = ["seq > ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [query.after]
        if let through = query.through {
            conditions.append("seq <= ?")
            arguments.append(through)
        }
        let filter = query.filter
        if let stream = filter.stream {
            conditions.append(isPattern(stream) ? "stream GLOB ?" : "stream = ?")
            arguments.append(stream)
        }
        if !filter.types.isEmpty {
            let parts = filter.types.map { isPattern($0) ? "type GLOB ?" : "type = ?" }
            conditions.append("(" + parts.joined(separator: " OR ") + ")")
            arguments.append(contentsOf: filter.types.map { $0 })
        }
        if let traceID = filter.traceID {
            conditions.append("trace_id = ?")
            arguments.append(traceID.lowercased())
        }
        if let spanID = filter.spanID {
            conditions.append("span_id = ?")
            arguments.append(spanID.lowercased())
        }
        if let actor = filter.actor {
            conditions.append(isPattern(actor) ? "actor GLOB ?" : "actor = ?")
            arguments.append(actor)
        }
        let order = query.newestFirst ? "DESC" : "ASC"
        let sql = "SELECT \(columns) FROM events WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq \(order) LIMIT ?"
        arguments.append(max(0, query.limit))
        return (sql, StatementArguments(arguments))
    }

    static func fetch(_ db: Database, sql: String, arguments: StatementArguments, expected: Int = 0) throws -> [Event] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let row = RawStatement(statement, db)
        defer { row.reset() }
        var events: [Event] = []
        events.reserveCapacity(min(expected, 10_000))
        while try row.step() {
            events.append(decode(row))
        }
        return events
    }

    /// Decodes a row selected with ``columns``. Malformed values (only possible if the
    /// file was edited by hand) decode to placeholders instead of crashing; `verify` reports them.
    static func decode(_ row: RawStatement) -> Event {
        Event(
            seq: row.int64(0), id: row.uuid(1) ?? zeroID, time: row.int64(2), stream: row.text(3) ?? "",
            streamVersion: row.int64(4), type: row.text(5) ?? "", actor: row.text(6) ?? "",
            traceID: row.text(7), spanID: row.text(8), parentSpanID: row.text(9), data: row.text(10) ?? "",
            prevHash: row.hash(11) ?? .genesis, hash: row.hash(12) ?? .genesis)
    }

    static let zeroID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    private static func isPattern(_ text: String) -> Bool {
        text.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
    }
}
