import Foundation
import GRDBSQLite

/// One value of an audit query's result.
public enum AuditValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var description: String {
        switch self {
        case .null: ""
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value
        case .blob(let bytes): "x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }
}

/// The rows an audit query returned.
public struct AuditResult: Sendable {
    public var columns: [String]
    public var rows: [[AuditValue]]
    /// True when the query had more rows than `maxRows`; only the first `maxRows` are here.
    public var truncated: Bool
    public var duration: Duration
}

/// Read-only SQL over the log, for people auditing what agents did.
///
/// Three guards, each enough on its own: the connection is opened read-only
/// (SQLite refuses any write), an authorizer refuses anything but reading
/// (including ATTACH, so no other file can be read), and a statement that
/// SQLite does not classify as read-only is refused before it runs.
///
/// ```swift
/// let result = try await AuditQuery(path: "glassbox.db").run(
///     "SELECT type, COUNT(*) FROM events GROUP BY type")
/// ```
public struct AuditQuery: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Runs one SELECT statement and returns at most `maxRows` rows, stopping it after `timeout`.
    public func run(_ sql: String, maxRows: Int = 10_000, timeout: Duration = .seconds(30)) async throws -> AuditResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try runBlocking(sql, maxRows: maxRows, timeout: timeout) })
            }
        }
    }

    func runBlocking(_ sql: String, maxRows: Int, timeout: Duration) throws -> AuditResult {
        guard FileManager.default.fileExists(atPath: path) else { throw EventLogError.noLog(path: path) }
        let clock = ContinuousClock()
        let start = clock.now
        var connection: OpaquePointer?
        let openCode = sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(connection) }
        guard openCode == SQLITE_OK, let connection else {
            throw failure(openCode, connection)
        }
        sqlite3_extended_result_codes(connection, 1)
        sqlite3_busy_timeout(connection, 5_000)
        sqlite3_set_authorizer(connection, auditAuthorizer, nil)

        // Stop the query once the deadline passes: SQLite calls this every 1,000 VM steps.
        let deadline = Deadline(nanoseconds: DispatchTime.now().uptimeNanoseconds + UInt64(timeout.nanoseconds))
        let deadlinePointer = Unmanaged.passRetained(deadline)
        defer { deadlinePointer.release() }
        sqlite3_progress_handler(connection, 1_000, { context in
            let deadline = Unmanaged<Deadline>.fromOpaque(context!).takeUnretainedValue()
            return DispatchTime.now().uptimeNanoseconds > deadline.nanoseconds ? 1 : 0
        }, deadlinePointer.toOpaque())

        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let prepared = sql.withCString { text in
            let code = sqlite3_prepare_v2(connection, text, -1, &statement, &tail)
            let rest = tail.map { String(cString: $0) } ?? ""
            return (code, rest)
        }
        defer { sqlite3_finalize(statement) }
        guard prepared.0 == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(connection))
            if prepared.0 == SQLITE_AUTH || message.contains("not authorized") {
                throw EventLogError.auditRefused(problem: "SQLite's authorizer refused it (\(message))")
            }
            throw EventLogError.auditRefused(problem: "SQLite cannot run it: \(message)")
        }
        guard let statement else {
            throw EventLogError.auditRefused(problem: "the query is empty")
        }
        guard prepared.1.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty else {
            throw EventLogError.auditRefused(problem: "it holds more than one statement; run one at a time")
        }
        guard sqlite3_stmt_readonly(statement) != 0 else {
            throw EventLogError.auditRefused(problem: "it would change the database")
        }

        let columnCount = Int(sqlite3_column_count(statement))
        let columns = (0..<columnCount).map { String(cString: sqlite3_column_name(statement, Int32($0))) }
        var rows: [[AuditValue]] = []
        var truncated = false
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                if code == SQLITE_INTERRUPT {
                    throw EventLogError.auditTimedOut(seconds: Double(timeout.nanoseconds) / 1e9)
                }
                let message = String(cString: sqlite3_errmsg(connection))
                if code & 0xFF == SQLITE_CORRUPT { throw EventLogError.corrupt(path: path, detail: message) }
                if code & 0xFF == SQLITE_READONLY || code & 0xFF == SQLITE_AUTH {
                    throw EventLogError.auditRefused(problem: "SQLite refused to write (\(message))")
                }
                throw EventLogError.database(path: path, message: message)
            }
            if rows.count == maxRows {
                truncated = true
                break
            }
            rows.append((0..<columnCount).map { value(statement, Int32($0)) })
        }
        return AuditResult(columns: columns, rows: rows, truncated: truncated, duration: clock.now - start)
    }

    private func value(_ statement: OpaquePointer, _ column: Int32) -> AuditValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            return .text(String(cString: sqlite3_column_text(statement, column)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    private func failure(_ code: Int32, _ connection: OpaquePointer?) -> EventLogError {
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
        if code & 0xFF == SQLITE_NOTADB { return .notALog(path: path, reason: "it is not an SQLite database") }
        if code & 0xFF == SQLITE_CORRUPT { return .corrupt(path: path, detail: message) }
        return .database(path: path, message: message)
    }
}

private final class Deadline: @unchecked Sendable {
    // Immutable after init; read by SQLite's progress callback on the querying thread only.
    let nanoseconds: UInt64
    init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
}

/// Allows reading and nothing else: no writes, no schema changes, no ATTACH, no PRAGMA that sets a value.
private let auditAuthorizer: @convention(c) (
    UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
    UnsafePointer<CChar>?, UnsafePointer<CChar>?
) -> Int32 = { _, action, first, second, _, _ in
    switch action {
    case SQLITE_SELECT, SQLITE_READ, SQLITE_FUNCTION, SQLITE_RECURSIVE:
        return SQLITE_OK
    case SQLITE_PRAGMA:
        // A pragma without a value only reads; with one, only the schema-describing ones are allowed.
        guard second != nil else { return SQLITE_OK }
        let name = first.map { String(cString: $0).lowercased() } ?? ""
        return introspectionPragmas.contains(name) ? SQLITE_OK : SQLITE_DENY
    default:
        return SQLITE_DENY
    }
}

private let introspectionPragmas: Set<String> = [
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list", "table_list",
]

private extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
