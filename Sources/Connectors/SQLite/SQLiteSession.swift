import GRDBSQLite

/// An SQLite error as the C API reported it.
struct SQLiteFailure: Error {
    var code: Int32
    var message: String
    /// Set when the SQL held no statement or several.
    var statementCount: Int?

    var primaryCode: Int32 { code & 0xFF }

    var connectorError: ConnectorError {
        if let statementCount { return .notOneStatement(found: statementCount) }
        switch primaryCode {
        case SQLITE_AUTH:
            return .refusedByEngine(message: "SQLite's authorizer refused it (\(message))", code: sqliteCodeName(code))
        case SQLITE_READONLY:
            return .refusedByEngine(message: "the connection is read-only (\(message))", code: sqliteCodeName(code))
        default:
            return .sqlError(message: message, code: sqliteCodeName(code))
        }
    }
}

/// SQLite's name for a result code, with the number: `SQLITE_CONSTRAINT_FOREIGNKEY (787)`.
func sqliteCodeName(_ code: Int32) -> String {
    let names: [Int32: String] = [
        1: "ERROR", 2: "INTERNAL", 3: "PERM", 4: "ABORT", 5: "BUSY", 6: "LOCKED", 7: "NOMEM", 8: "READONLY",
        9: "INTERRUPT", 10: "IOERR", 11: "CORRUPT", 12: "NOTFOUND", 13: "FULL", 14: "CANTOPEN", 15: "PROTOCOL",
        17: "SCHEMA", 18: "TOOBIG", 19: "CONSTRAINT", 20: "MISMATCH", 21: "MISUSE", 22: "NOLFS", 23: "AUTH",
        24: "FORMAT", 25: "RANGE", 26: "NOTADB",
    ]
    let extended: [Int32: String] = [
        275: "CONSTRAINT_CHECK", 531: "CONSTRAINT_COMMITHOOK", 787: "CONSTRAINT_FOREIGNKEY", 1043: "CONSTRAINT_FUNCTION",
        1299: "CONSTRAINT_NOTNULL", 1555: "CONSTRAINT_PRIMARYKEY", 1811: "CONSTRAINT_TRIGGER", 2067: "CONSTRAINT_UNIQUE",
        2323: "CONSTRAINT_VTAB", 2579: "CONSTRAINT_ROWID", 1032: "READONLY_DBMOVED", 264: "READONLY_RECOVERY",
        520: "READONLY_CANTLOCK", 776: "READONLY_ROLLBACK",
    ]
    let name = extended[code] ?? names[code & 0xFF] ?? "code"
    return "SQLITE_\(name) (\(code))"
}

/// The connection as the calls running on its queue see it: statements in a given authorizer mode.
struct SQLiteSession {
    let handle: OpaquePointer
    let context: SQLiteCallbackContext

    /// Prepares `sql` in `mode`, which must hold exactly one statement, and hands it to `body`.
    func withStatement<T>(_ sql: String, mode: AuthorizerMode, bindings: [String] = [],
                          _ body: (SQLiteStatement) throws(SQLiteFailure) -> T) throws(SQLiteFailure) -> T {
        let previous = context.mode
        context.mode = mode
        defer { context.mode = previous }
        let statement = try SQLiteStatement(sql, on: handle, requireOne: true)
        defer { sqlite3_finalize(statement.handle) }
        for (index, value) in bindings.enumerated() {
            sqlite3_bind_text(statement.handle, Int32(index + 1), value, -1, sqliteTransient)
        }
        return try body(statement)
    }

    /// Runs one of Glassbox's own statements that returns nothing worth keeping.
    func run(_ sql: String) throws(SQLiteFailure) {
        try withStatement(sql, mode: .internal) { statement throws(SQLiteFailure) in
            while try statement.step() {}
        }
    }

    /// Rows of a catalog query, all of them.
    func rows(_ sql: String, mode: AuthorizerMode = .read, bindings: [String] = []) throws(SQLiteFailure) -> [[SQLValue]] {
        try withStatement(sql, mode: mode, bindings: bindings) { statement throws(SQLiteFailure) in
            var rows: [[SQLValue]] = []
            while try statement.step() { rows.append(statement.row()) }
            return rows
        }
    }

    /// Runs a statement and collects its rows within `limits`. `mustRead` refuses a statement
    /// SQLite does not classify as read-only before it runs.
    func collect(_ sql: String, mode: AuthorizerMode, limits: QueryLimits) throws(SQLiteFailure) -> QueryResult {
        let changesBefore = sqlite3_total_changes64(handle)
        return try withStatement(sql, mode: mode) { statement throws(SQLiteFailure) in
            let writes = sqlite3_stmt_readonly(statement.handle) == 0
            if mode == .read && writes {
                throw SQLiteFailure(code: SQLITE_READONLY, message: "the statement would change the database")
            }
            var collector = ResultCollector(limits: limits)
            var firstTypes: [String?] = Array(repeating: nil, count: statement.columnCount)
            var finished = false
            while collector.wantsMore {
                guard try statement.step() else {
                    finished = true
                    break
                }
                let row = statement.row()
                for (index, value) in row.enumerated() where firstTypes[index] == nil {
                    firstTypes[index] = value.sqliteStorageClass
                }
                collector.add(row)
            }
            // A write runs to its end even when its returned rows were cut. (Stepping a finished
            // statement would run it again.)
            if writes && !finished { while try statement.step() {} }
            let columns = (0..<statement.columnCount).map { index in
                QueryColumn(name: statement.columnName(index), type: statement.declaredType(index) ?? firstTypes[index] ?? "")
            }
            let changed = writes ? Int(sqlite3_total_changes64(handle) - changesBefore) : nil
            return collector.result(columns: columns, rowsAffected: changed)
        }
    }
}

/// One prepared statement.
struct SQLiteStatement {
    let handle: OpaquePointer
    private let connection: OpaquePointer

    /// Prepares the first statement of `sql`; with `requireOne`, fails when more follow or there is none.
    init(_ sql: String, on connection: OpaquePointer, requireOne: Bool) throws(SQLiteFailure) {
        self.connection = connection
        var statement: OpaquePointer?
        var remainder = ""
        let code = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v2(connection, text, -1, &statement, &tail)
            if let tail { remainder = String(cString: tail) }
            return code
        }
        guard code == SQLITE_OK else {
            sqlite3_finalize(statement)
            let message = String(cString: sqlite3_errmsg(connection))
            // A statement the authorizer denied fails to prepare with SQLITE_ERROR and this message.
            let refused = message.hasPrefix("not authorized") || message.hasPrefix("access to ") && message.hasSuffix(" is prohibited")
            throw SQLiteFailure(code: refused ? SQLITE_AUTH : sqlite3_extended_errcode(connection), message: message)
        }
        guard let statement else {
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "the SQL holds no statement", statementCount: 0)
        }
        let more = requireOne ? SQLText.statementCount(remainder, engine: .sqlite) : 0
        if more > 0 {
            sqlite3_finalize(statement)
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "the SQL holds more than one statement", statementCount: more + 1)
        }
        self.handle = statement
    }

    /// Runs a statement of Glassbox's own directly on a connection (before the authorizer is set).
    static func run(_ sql: String, on connection: OpaquePointer) throws(SQLiteFailure) {
        let statement = try SQLiteStatement(sql, on: connection, requireOne: true)
        defer { sqlite3_finalize(statement.handle) }
        while try statement.step() {}
    }

    /// Steps once: true for a row, false when done.
    func step() throws(SQLiteFailure) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            throw SQLiteFailure(code: sqlite3_extended_errcode(connection), message: String(cString: sqlite3_errmsg(connection)))
        }
    }

    var columnCount: Int { Int(sqlite3_column_count(handle)) }

    func columnName(_ index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    func declaredType(_ index: Int) -> String? {
        sqlite3_column_decltype(handle, Int32(index)).map { String(cString: $0) }
    }

    func row() -> [SQLValue] {
        (0..<Int32(columnCount)).map(value)
    }

    func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }
}

extension SQLValue {
    /// SQLite's storage class of the value, as a column type for results without a declared one.
    var sqliteStorageClass: String? {
        switch self {
        case .null: nil
        case .integer, .bool: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        case .blob: "BLOB"
        }
    }
}

/// SQLite copies bound values at once (`SQLITE_TRANSIENT`).
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
