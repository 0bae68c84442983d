public import Foundation
import CGlassboxSQLite
import GRDB

/// The event log in one SQLite file (WAL mode): the embedded default.
///
/// One instance per file per process. It is the only type that can append
/// (``EventStore``); code that should only read is handed it as an
/// ``EventReader``, and consumers that keep a cursor as a ``CheckpointStore``.
///
/// ```swift
/// let log = try SQLiteEventLog(path: "glassbox.db")
/// let draft = try EventDraft(type: "agent.thought", json: #"{"text":"Looking at the orders table"}"#,
///                            actor: "agent:analyst@user:alice")
/// let result = try await log.append([draft], to: "run/42", expectedVersion: .any)
/// print(result.lastSeq)
/// ```
public final class SQLiteEventLog: Sendable {
    /// How the log may be opened.
    public struct Options: Sendable {
        /// Create the file (and its directory) when it does not exist.
        public var createIfMissing: Bool
        /// How hard each commit works to survive a crash; see ``Durability``.
        public var durability: Durability
        /// How long a writer waits for another process's write lock before failing.
        public var busyTimeout: TimeInterval
        /// How often the log is checked for events appended by other processes.
        public var pollInterval: Duration
        /// Open without any write access: the file must exist, and nothing, not even
        /// SQLite's own housekeeping, writes to it. Appends fail.
        public var readOnly: Bool

        public init(
            createIfMissing: Bool = true, durability: Durability = .full,
            busyTimeout: TimeInterval = 30, pollInterval: Duration = .milliseconds(25), readOnly: Bool = false
        ) {
            self.readOnly = readOnly
            self.createIfMissing = createIfMissing
            self.durability = durability
            self.busyTimeout = busyTimeout
            self.pollInterval = pollInterval
        }
    }

    /// What an acknowledged append survives.
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous=FULL`: every commit is synced to disk; survives power loss. The default.
        case full
        /// `synchronous=NORMAL`: survives a process crash, not a power loss; lower latency.
        case normal
    }

    /// The file's path as given.
    public let path: String
    /// True when opened with ``Options/readOnly``.
    public let isReadOnly: Bool
    let pool: DatabasePool
    let groupCommit: GroupCommit
    let head: LogHead

    /// Opens (or creates) the log at `path`.
    ///
    /// A file that is not a Glassbox log, that a newer Glassbox wrote, or whose
    /// pages are damaged is refused with an ``EventLogError`` and never modified.
    public init(path: String, options: Options = Options()) throws {
        SQLiteEventLog.configureSQLiteOnce
        self.path = path
        self.isReadOnly = options.readOnly
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists {
            guard options.createIfMissing && !options.readOnly else { throw EventLogError.noLog(path: path) }
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        } else {
            try SQLiteEventLog.inspectExistingFile(path: path, readOnly: options.readOnly)
        }

        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "glassbox.log"
        configuration.readonly = options.readOnly
        configuration.prepareDatabase { db in
            // Reads go through memory-mapped pages instead of a read() per page: replays read a lot.
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            if !options.readOnly {
                // After the pool is open: GRDB's WAL set-up sets synchronous=NORMAL on the writer.
                let synchronous = options.durability == .full ? "FULL" : "NORMAL"
                try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -65536") }
            }
            let upToDate = try pool.read { db in
                if try Schema.migrator.hasBeenSuperseded(db) {
                    throw EventLogError.newerSchema(
                        path: path, unknownMigrations: try Schema.unknownMigrations(db), known: Schema.latest)
                }
                return try Schema.migrator.hasCompletedMigrations(db)
            }
            if !upToDate {
                guard !options.readOnly else {
                    throw EventLogError.notALog(path: path, reason: "its schema was never completed; open it for writing once to set it up")
                }
                try Schema.migrate(pool)
            }
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
        let lastSeq = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }
        let head = LogHead(seq: lastSeq)
        self.head = head
        groupCommit = GroupCommit(path: path, writer: pool, onCommit: { head.advance(to: $0) })
        head.startPolling(reader: pool, interval: options.pollInterval)
    }

    /// The writer connection's `PRAGMA synchronous`: 2 for FULL, 1 for NORMAL.
    public func synchronousSetting() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Write transactions committed by this instance so far.
    public var commitCount: Int { groupCommit.commitCount }

    /// Append calls served by this instance so far; divided by ``commitCount`` it is the mean group-commit size.
    public var appendCount: Int { groupCommit.appendCount }

    /// Closes the file's connections. Appends in progress finish first; later calls fail.
    public func close() throws {
        head.stopPolling()
        groupCommit.closeAndDrain()
        do {
            if !isReadOnly {
                // Leave the file whole: fold the WAL into it (best effort; a reader elsewhere may hold it).
                _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            }
            try pool.close()
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }

    deinit {
        head.stopPolling()
        groupCommit.close()
    }

    /// Puts SQLite in multi-thread mode before its first connection opens: every connection
    /// here is used by one thread at a time (GRDB serializes each), so SQLite's per-call
    /// mutexes only cost time, about an eighth of a replay. A no-op if SQLite is already running.
    private static let configureSQLiteOnce: Void = {
        _ = glassbox_sqlite_config_multithread()
    }()

    /// Checks, without writing, that an existing file is a Glassbox log this build can use.
    private static func inspectExistingFile(path: String, readOnly: Bool) throws {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? NSNumber, size.intValue == 0 { return }  // an empty file: a new log
        do {
            // A plain connection, no journal-mode change, only reads: the file stays as it is.
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            // Read-only when the log will be: a read-write connection closing last would checkpoint the WAL.
            configuration.readonly = readOnly
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.inDatabase { db in
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master")
                // An empty SQLite file, or one holding only GRDB's bookkeeping: a log that another
                // process is creating right now (or whose creation was interrupted).
                let foreign = names.filter { !$0.hasPrefix("grdb_") && !$0.hasPrefix("sqlite_autoindex_grdb_") }
                if applicationID == 0 && foreign.isEmpty { return }
                let tableCount = names.count
                guard applicationID == Schema.applicationID else {
                    let reason = applicationID == 0
                        ? "it is an SQLite database with \(tableCount) other schema objects"
                        : "its SQLite application_id is \(applicationID), not Glassbox's \(Schema.applicationID)"
                    throw EventLogError.notALog(path: path, reason: reason)
                }
                if try Schema.migrator.hasBeenSuperseded(db) {
                    throw EventLogError.newerSchema(
                        path: path, unknownMigrations: try Schema.unknownMigrations(db), known: Schema.latest)
                }
            }
            try queue.close()
        } catch {
            throw translate(error, path: path)
        }
    }

    /// Maps SQLite's errors to ``EventLogError`` with advice for the user.
    static func translate(_ error: any Error, path: String) -> any Error {
        if error is EventLogError { return error }
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return EventLogError.notALog(path: path, reason: "it is not an SQLite database")
        case .SQLITE_CORRUPT:
            return EventLogError.corrupt(path: path, detail: error.message ?? "database disk image is malformed")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return EventLogError.busy(path: path)
        default:
            return EventLogError.database(path: path, message: error.message ?? "\(error)")
        }
    }
}

/// The log's schema: versioned migrations applied by GRDB's migrator.
enum Schema {
    /// `PRAGMA application_id` of every Glassbox log: "GBOX" in ASCII.
    static let applicationID: Int32 = 0x4742_4F58
    static let latest = "v1"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                PRAGMA application_id = \(applicationID);
                CREATE TABLE events (
                    seq            INTEGER PRIMARY KEY,
                    id             TEXT    NOT NULL UNIQUE,
                    time           INTEGER NOT NULL,
                    stream         TEXT    NOT NULL,
                    stream_version INTEGER NOT NULL,
                    type           TEXT    NOT NULL,
                    actor          TEXT    NOT NULL,
                    trace_id       TEXT,
                    span_id        TEXT,
                    parent_span_id TEXT,
                    data           TEXT    NOT NULL,
                    prev_hash      BLOB    NOT NULL,
                    hash           BLOB    NOT NULL,
                    UNIQUE (stream, stream_version)
                );
                CREATE INDEX events_by_type ON events (type);
                CREATE INDEX events_by_trace ON events (trace_id) WHERE trace_id IS NOT NULL;
                CREATE INDEX events_by_span ON events (span_id) WHERE span_id IS NOT NULL;
                CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
                BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed'); END;
                CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
                BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;

                CREATE TABLE consumer_checkpoints (
                    consumer   TEXT    PRIMARY KEY,
                    seq        INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );

                CREATE TABLE read_models (
                    projection TEXT NOT NULL,
                    key        TEXT NOT NULL,
                    row        TEXT NOT NULL,
                    UNIQUE (projection, key)
                );
                """)
        }
        return migrator
    }

    /// Applies missing migrations. Several processes may open a new file at once: the
    /// one that loses the race finds the schema complete and goes on.
    static func migrate(_ pool: DatabasePool) throws {
        var attempt = 0
        while true {
            do {
                try migrator.migrate(pool)
                return
            } catch let error as DatabaseError {
                attempt += 1
                if try pool.read({ try migrator.hasCompletedMigrations($0) }) { return }
                if attempt >= 5 { throw error }
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    static func unknownMigrations(_ db: Database) throws -> [String] {
        let known = Set(migrator.migrations)
        return try migrator.appliedIdentifiers(db).filter { !known.contains($0) }.sorted()
    }
}
