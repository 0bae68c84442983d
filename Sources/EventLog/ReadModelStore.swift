import Foundation
import GRDB

/// Storage for read models (projections): rows of JSON by key, saved together with
/// the projection's checkpoint in one transaction, so that a read model always
/// reflects exactly the events up to its checkpoint.
///
/// It can write read models and their checkpoints, and nothing else: in particular,
/// not events.
///
/// ```swift
/// let store = log.readModels
/// let saved = try await store.load(projection: "runs@v1")
/// try await store.save(projection: "runs@v1", changes: ["run-1": #"{"status":"running"}"#],
///                      from: saved.checkpoint, to: 42)
/// ```
public struct ReadModelStore: Sendable {
    let pool: DatabasePool
    let path: String

    /// A projection's stored rows and the `seq` they reflect.
    public struct Snapshot: Sendable {
        public var rows: [String: String]
        /// The last `seq` folded into `rows`; nil when the projection was never saved.
        public var checkpoint: Int64?
    }

    /// Thrown by ``save(projection:changes:from:to:)`` when another process saved the
    /// projection since it was loaded: load again and continue from there.
    public struct CheckpointMoved: Error, Sendable {
        public let expected: Int64?
        public let found: Int64?
    }

    public func load(projection: String) async throws -> Snapshot {
        try await run { db in
            let checkpoint = try Self.checkpoint(projection, db)
            var rows: [String: String] = [:]
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT key, row FROM read_models WHERE projection = ?", arguments: [Self.table(projection)])
            while let row = try cursor.next() {
                rows[row[0]] = row[1]
            }
            return Snapshot(rows: rows, checkpoint: checkpoint)
        }
    }

    /// Writes changed rows (nil deletes a row) and moves the checkpoint from `from` to `to`, atomically.
    public func save(projection: String, changes: [String: String?], from: Int64?, to: Int64) async throws {
        try await write { db in
            let found = try Self.checkpoint(projection, db)
            guard found == from else { throw CheckpointMoved(expected: from, found: found) }
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO read_models (projection, key, row) VALUES (?, ?, ?)
                ON CONFLICT (projection, key) DO UPDATE SET row = excluded.row
                """)
            let delete = try db.cachedStatement(sql: "DELETE FROM read_models WHERE projection = ? AND key = ?")
            let table = Self.table(projection)
            for (key, row) in changes {
                if let row {
                    try upsert.execute(arguments: [table, key, row])
                } else {
                    try delete.execute(arguments: [table, key])
                }
            }
            try Checkpoints.save(to, of: Self.consumer(projection), db: db)
        }
    }

    /// Deletes every row and checkpoint of every version of the projection, for a rebuild from zero.
    public func reset(projection: String) async throws {
        try await write { db in
            let table = Self.table(projection)
            try db.execute(sql: "DELETE FROM read_models WHERE projection = ?", arguments: [table])
            try db.execute(
                sql: "DELETE FROM consumer_checkpoints WHERE consumer = ? OR consumer GLOB ?",
                arguments: ["projection:\(table)", "projection:\(table)@*"])
        }
    }

    /// Projections are named `name@version`; rows are stored under the name alone.
    static func table(_ projection: String) -> String {
        String(projection.split(separator: "@", maxSplits: 1).first ?? Substring(projection))
    }

    static func consumer(_ projection: String) -> String { "projection:\(projection)" }

    private static func checkpoint(_ projection: String, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db, sql: "SELECT seq FROM consumer_checkpoints WHERE consumer = ?", arguments: [consumer(projection)])
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            // `translate` passes errors other than SQLite's (such as CheckpointMoved) through unchanged.
            throw SQLiteEventLog.translate(error, path: path)
        }
    }
}

extension SQLiteEventLog {
    /// Where projections keep their read models.
    public var readModels: ReadModelStore { ReadModelStore(pool: pool, path: path) }
}
