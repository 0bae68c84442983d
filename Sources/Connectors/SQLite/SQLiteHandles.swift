import GRDBSQLite

/// What SQLite readers and writers share: the catalog, read-only queries, plans.
protocol SQLiteHandle: SQLReader {
    var connection: SQLiteConnection { get }
}

extension SQLiteHandle {
    var engine: SQLEngine { .sqlite }
    var connectionName: String { connection.connectionName }

    func listTables(schema: String?) async throws -> [TableSummary] {
        try SQLiteCatalog.checkSchema(schema)
        return try await connection.perform(timeout: SQLiteCatalog.timeout) { session throws(SQLiteFailure) in
            try SQLiteCatalog.tables(session)
        }
    }

    func describeTable(schema: String?, table: String) async throws -> TableInfo {
        try SQLiteCatalog.checkSchema(schema)
        let info = try await connection.perform(timeout: SQLiteCatalog.timeout) { session throws(SQLiteFailure) in
            try SQLiteCatalog.describe(session, table: table)
        }
        guard let info else { throw ConnectorError.unknownTable(schema: schema, table: table) }
        return info
    }

    func query(_ sql: String, limits: QueryLimits) async throws -> QueryResult {
        try await connection.perform(timeout: limits.timeout) { session throws(SQLiteFailure) in
            try session.collect(sql, mode: .read, limits: limits)
        }
    }

    func explain(_ sql: String) async throws -> String {
        let mode: AuthorizerMode = connection.readOnly ? .read : .write
        let rows = try await connection.perform(timeout: SQLiteCatalog.timeout) { session throws(SQLiteFailure) in
            try session.rows("EXPLAIN QUERY PLAN " + sql, mode: mode)
        }
        return SQLiteCatalog.planText(rows)
    }

    func close() async {
        await connection.close()
    }
}

/// A read-only SQLite handle: the file opened `SQLITE_OPEN_READONLY`, every statement authorized as a read.
final class SQLiteReader: SQLiteHandle {
    let connection: SQLiteConnection
    var executingAs: String { "sqlite:read-only" }

    init(path: String, connectionName: String) throws(ConnectorError) {
        connection = try SQLiteConnection(path: path, connectionName: connectionName, readOnly: true)
    }
}

/// A read-write SQLite handle. Its `query` is still authorized as a read only.
final class SQLiteWriter: SQLiteHandle, SQLWriter {
    let connection: SQLiteConnection
    var executingAs: String { "sqlite:read-write" }

    init(path: String, connectionName: String) throws(ConnectorError) {
        connection = try SQLiteConnection(path: path, connectionName: connectionName, readOnly: false)
    }

    func execute(_ sql: String, limits: QueryLimits) async throws -> QueryResult {
        try await connection.perform(timeout: limits.timeout) { session throws(SQLiteFailure) in
            try session.inTransaction { () throws(SQLiteFailure) in
                try session.collect(sql, mode: .write, limits: limits)
            }
        }
    }

    func executeBatch(_ statements: [String], timeout: Duration) async throws -> Int {
        try await connection.perform(timeout: timeout) { session throws(SQLiteFailure) in
            try session.inTransaction { () throws(SQLiteFailure) in
                let before = sqlite3_total_changes64(session.handle)
                for statement in statements {
                    try session.withStatement(statement, mode: .write) { statement throws(SQLiteFailure) in
                        while try statement.step() {}
                    }
                }
                return Int(sqlite3_total_changes64(session.handle) - before)
            }
        }
    }
}

extension SQLiteSession {
    /// Runs `body` between BEGIN IMMEDIATE and COMMIT, rolling back when it fails.
    func inTransaction<T>(_ body: () throws(SQLiteFailure) -> T) throws(SQLiteFailure) -> T {
        try run("BEGIN IMMEDIATE")
        do throws(SQLiteFailure) {
            let value = try body()
            try run("COMMIT")
            return value
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? run("ROLLBACK") }
            throw error
        }
    }
}
