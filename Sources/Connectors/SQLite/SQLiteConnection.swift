import Dispatch
import Foundation
import GRDBSQLite
import Synchronization

/// One SQLite connection of a reader or writer, driven through SQLite's C API (not GRDB: the
/// authorizer below replaces GRDB's own, so GRDB must never observe this connection).
///
/// Every call runs on the connection's serial queue. A call is interrupted in the engine when its
/// task is cancelled (`sqlite3_interrupt`, plus a flag the progress handler reads) or when its
/// deadline passes (the progress handler, every 1,000 virtual-machine steps).
final class SQLiteConnection: @unchecked Sendable {
    // Safe to share: `handle` and `context` are used only on `queue`, except sqlite3_interrupt,
    // which SQLite allows from any thread and which runs under `state`'s lock, so never on a
    // closed handle; the mutable state is in that lock.
    let path: String
    let connectionName: String
    let readOnly: Bool
    private let handle: OpaquePointer
    private let queue: DispatchQueue
    private let context: SQLiteCallbackContext
    private let state = Mutex(State())

    private struct State {
        var running: SQLiteOperation?
        var closed = false
    }

    /// Opens `path`: read-only (the file must exist), or read-write (created when missing).
    init(path: String, connectionName: String, readOnly: Bool) throws(ConnectorError) {
        var connection: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open the file"
            sqlite3_close_v2(connection)
            throw .connectFailed(connection: connectionName, endpoint: path, reason: "\(message) (\(sqliteCodeName(code)))")
        }
        self.path = path
        self.connectionName = connectionName
        self.readOnly = readOnly
        self.handle = connection
        self.queue = DispatchQueue(label: "glassbox.sqlite.\(connectionName)")
        self.context = SQLiteCallbackContext()
        sqlite3_extended_result_codes(connection, 1)
        sqlite3_busy_timeout(connection, 2_000)
        do throws(SQLiteFailure) {
            // Schema-defined SQL (views, triggers) may not call functions with side effects.
            try SQLiteStatement.run("PRAGMA trusted_schema = OFF", on: connection)
            if !readOnly { try SQLiteStatement.run("PRAGMA foreign_keys = ON", on: connection) }
            // Reading the schema now turns a file that is not a database into an error here.
            try SQLiteStatement.run("SELECT count(*) FROM sqlite_schema", on: connection)
        } catch {
            sqlite3_close_v2(connection)
            throw .connectFailed(connection: connectionName, endpoint: path, reason: error.message)
        }
        let pointer = Unmanaged.passUnretained(context).toOpaque()
        sqlite3_set_authorizer(connection, sqliteAuthorizer, pointer)
        sqlite3_progress_handler(connection, 1_000, sqliteProgress, pointer)
        sqlite3_busy_handler(connection, sqliteBusy, pointer)
    }

    deinit {
        // Calls hold the connection strongly, so none is running here.
        if !state.withLock({ $0.closed }) { sqlite3_close_v2(handle) }
    }

    /// Runs `body` on the connection's queue with `timeout`; maps SQLite's failures to ``ConnectorError``.
    func perform<T: Sendable>(timeout: Duration?, _ body: @escaping @Sendable (SQLiteSession) throws(SQLiteFailure) -> T) async throws -> T {
        let operation = SQLiteOperation(timeout: timeout)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                queue.async {
                    continuation.resume(with: Result { () throws(ConnectorError) -> T in try self.run(operation, body) })
                }
            }
        } onCancel: {
            operation.stop(.cancelled)
            state.withLock { state in
                if state.running === operation && !state.closed { sqlite3_interrupt(handle) }
            }
        }
    }

    /// Closes the connection once the calls queued before have finished.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                let wasOpen = self.state.withLock { state in
                    defer { state.closed = true }
                    return !state.closed
                }
                if wasOpen { sqlite3_close_v2(self.handle) }
                continuation.resume()
            }
        }
    }

    private func run<T>(_ operation: SQLiteOperation, _ body: (SQLiteSession) throws(SQLiteFailure) -> T) throws(ConnectorError) -> T {
        let closed = state.withLock { state in
            if !state.closed { state.running = operation }
            return state.closed
        }
        guard !closed else { throw .closed(connection: connectionName) }
        defer {
            state.withLock { $0.running = nil }
            context.operation = nil
            context.mode = .internal
        }
        if let reason = operation.stopReason { throw reason.error(operation.timeout) }
        context.operation = operation
        do throws(SQLiteFailure) {
            return try body(SQLiteSession(handle: handle, context: context))
        } catch {
            if error.primaryCode == SQLITE_INTERRUPT || error.primaryCode == SQLITE_BUSY, let reason = operation.stopReason {
                throw reason.error(operation.timeout)
            }
            throw error.connectorError
        }
    }
}

/// What the authorizer allows; set per statement on the connection's queue.
enum AuthorizerMode {
    /// Glassbox's own statements: transactions, settings.
    case `internal`
    /// Reading only, as a reader's or a writer's `query` does.
    case read
    /// A writer's `execute`: changes allowed, the escape hatches still refused.
    case write
}

/// What SQLite's callbacks read: the authorizer's mode and the running call's deadline.
final class SQLiteCallbackContext: @unchecked Sendable {
    // Only touched on the connection's queue: by `SQLiteConnection.run` and by SQLite's callbacks,
    // which SQLite invokes on the thread running the statement.
    var mode = AuthorizerMode.internal
    var operation: SQLiteOperation?
}

/// One call's deadline, and why it was stopped early.
final class SQLiteOperation: Sendable {
    enum StopReason: Int {
        case cancelled = 1
        case timedOut = 2

        func error(_ timeout: Duration?) -> ConnectorError {
            switch self {
            case .cancelled: .cancelled
            case .timedOut: .timeout(timeout ?? .zero)
            }
        }
    }

    let timeout: Duration?
    let deadline: ContinuousClock.Instant?
    private let reason = Atomic<Int>(0)

    init(timeout: Duration?) {
        self.timeout = timeout
        self.deadline = timeout.map { ContinuousClock.now + $0 }
    }

    var stopReason: StopReason? { StopReason(rawValue: reason.load(ordering: .acquiring)) }

    /// Records the first reason only.
    func stop(_ why: StopReason) {
        _ = reason.compareExchange(expected: 0, desired: why.rawValue, ordering: .acquiringAndReleasing)
    }

    /// Called by the progress handler: true when the statement must stop now.
    func shouldStop() -> Bool {
        if stopReason != nil { return true }
        if let deadline, ContinuousClock.now >= deadline {
            stop(.timedOut)
            return true
        }
        return false
    }
}

/// Stops the running statement when its call was cancelled or ran out of time.
private let sqliteProgress: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { pointer in
    guard let pointer else { return 0 }
    let context = Unmanaged<SQLiteCallbackContext>.fromOpaque(pointer).takeUnretainedValue()
    // Glassbox's own statements (ROLLBACK after an interrupt) always run to their end.
    guard context.mode != .internal else { return 0 }
    return context.operation?.shouldStop() == true ? 1 : 0
}

/// Waits for another connection's lock in 10 ms steps, for up to 5 s, unless the call was
/// cancelled or ran out of time (SQLite's own busy timeout would sleep through both).
private let sqliteBusy: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { pointer, attempts in
    guard let pointer, attempts < 500 else { return 0 }
    let context = Unmanaged<SQLiteCallbackContext>.fromOpaque(pointer).takeUnretainedValue()
    if context.operation?.shouldStop() == true { return 0 }
    usleep(10_000)
    return 1
}

/// SQLite's authorizer: the engine-level guard of readers and writers. Denying makes the
/// statement fail to prepare with SQLITE_AUTH ("not authorized").
private let sqliteAuthorizer: @convention(c) (
    UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
    UnsafePointer<CChar>?, UnsafePointer<CChar>?
) -> Int32 = { pointer, action, first, second, _, _ in
    guard let pointer else { return SQLITE_DENY }
    let mode = Unmanaged<SQLiteCallbackContext>.fromOpaque(pointer).takeUnretainedValue().mode
    return SQLiteAuthorizer.decide(mode: mode, action: action,
                                   first: first.map { String(cString: $0) }, second: second.map { String(cString: $0) })
}

/// The rules of the authorizer, apart from the C callback so they can be read (and tested) as a table.
enum SQLiteAuthorizer {
    /// Functions no statement may call: loading native code, and FTS3's tokenizer pointer trick.
    static let refusedFunctions: Set<String> = ["load_extension", "fts3_tokenizer"]
    /// Pragmas that only describe the schema; they may take an argument (a table or index name).
    static let introspectionPragmas: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
        "foreign_key_check", "database_list", "collation_list", "function_list", "module_list", "pragma_list",
    ]
    /// Pragmas that act even without an argument.
    static let actingPragmas: Set<String> = ["optimize", "wal_checkpoint", "incremental_vacuum", "shrink_memory"]

    static func decide(mode: AuthorizerMode, action: Int32, first: String?, second: String?) -> Int32 {
        switch (mode, action) {
        case (.internal, _):
            return SQLITE_OK
        case (_, SQLITE_SELECT), (_, SQLITE_READ), (_, SQLITE_RECURSIVE):
            return SQLITE_OK
        case (_, SQLITE_FUNCTION):
            // For functions SQLite passes the name as the second argument.
            return refusedFunctions.contains(second?.lowercased() ?? "") ? SQLITE_DENY : SQLITE_OK
        case (_, SQLITE_PRAGMA):
            let name = first?.lowercased() ?? ""
            if introspectionPragmas.contains(name) { return SQLITE_OK }
            // Reading a setting is fine; setting one is not, nor the pragmas that act.
            return second == nil && !actingPragmas.contains(name) ? SQLITE_OK : SQLITE_DENY
        case (_, SQLITE_UPDATE) where first?.lowercased() == "sqlite_master":
            // SQLite asks this when it declares a table-valued pragma (pragma_table_info(…)) on first
            // use. Real changes to the schema table still fail: writable_schema stays off.
            return SQLITE_OK
        case (.read, _):
            return SQLITE_DENY
        case (.write, SQLITE_ATTACH), (.write, SQLITE_DETACH), (.write, SQLITE_TRANSACTION), (.write, SQLITE_SAVEPOINT):
            // ATTACH also covers VACUUM (INTO), which attaches its target; the writer owns the transaction.
            return SQLITE_DENY
        case (.write, _):
            return SQLITE_OK
        }
    }
}
