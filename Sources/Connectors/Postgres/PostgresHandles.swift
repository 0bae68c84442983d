import Logging
import PostgresNIO

/// What PostgreSQL readers and writers share: the catalog, read-only queries, plans.
protocol PostgresHandle: SQLReader {
    var session: PostgresSession { get }
}

extension PostgresHandle {
    var engine: SQLEngine { .postgresql }
    var connectionName: String { session.connectionName }
    var executingAs: String { session.role ?? session.loginUser }

    func listTables(schema: String?) async throws -> [TableSummary] {
        try await session.transaction(readWrite: false, timeout: PostgresCatalog.timeout) { connection, logger in
            try await PostgresCatalog.tables(connection, schema: schema, logger: logger)
        }
    }

    func describeTable(schema: String?, table: String) async throws -> TableInfo {
        try await session.transaction(readWrite: false, timeout: PostgresCatalog.timeout) { connection, logger in
            try await PostgresCatalog.describe(connection, schema: schema, table: table, logger: logger)
        }
    }

    /// A SELECT-like statement is read through a cursor, so reading stops at the limits on the
    /// server too; anything else (SHOW, EXPLAIN, …) runs as it is.
    func query(_ sql: String, limits: QueryLimits) async throws -> QueryResult {
        let statement = try SQLText.singleStatement(sql, engine: .postgresql)
        let session = self.session
        return try await session.transaction(readWrite: false, timeout: limits.timeout) { connection, logger in
            let sink = PostgresRowSink(limits: limits)
            let selectLike = PostgresResults.readKeywords.contains(SQLText.leadingKeyword(statement, engine: .postgresql))
            if selectLike {
                try await connection.query(PostgresQuery(unsafeSQL: "DECLARE glassbox_rows NO SCROLL CURSOR FOR\n" + statement), logger: logger)
                let fetch = limits.maxRows >= Int(Int32.max) ? "ALL" : String(max(0, limits.maxRows) + 1)
                _ = try await sink.run(PostgresQuery(unsafeSQL: "FETCH FORWARD \(fetch) FROM glassbox_rows"), on: connection, logger: logger)
            } else {
                _ = try await sink.run(PostgresQuery(unsafeSQL: statement), on: connection, logger: logger)
            }
            return try await PostgresResults.result(
                sink, statement: selectLike ? statement : nil, rowsAffected: nil, session: session, connection: connection, logger: logger)
        }
    }

    func explain(_ sql: String) async throws -> String {
        let statement = try SQLText.singleStatement(sql, engine: .postgresql)
        let rows = try await session.transaction(readWrite: false, timeout: PostgresCatalog.timeout) { connection, logger in
            try await PostgresSession.rows(connection, PostgresQuery(unsafeSQL: "EXPLAIN " + statement), logger: logger)
        }
        return rows.map { $0.first?.description ?? "" }.joined(separator: "\n")
    }

    func close() async {
        await session.close()
    }
}

/// A read-only PostgreSQL handle: `SET ROLE` to the caller's role, every statement in `BEGIN READ ONLY`.
final class PostgresReader: PostgresHandle {
    let session: PostgresSession

    init(session: PostgresSession) {
        self.session = session
    }
}

/// A read-write PostgreSQL handle: statements in `BEGIN READ WRITE … COMMIT` under the caller's role.
final class PostgresWriter: PostgresHandle, SQLWriter {
    let session: PostgresSession

    init(session: PostgresSession) {
        self.session = session
    }

    /// Statements PostgreSQL refuses in a transaction block (CREATE DATABASE, VACUUM, … CONCURRENTLY)
    /// run on their own, committed by the server as they finish.
    func execute(_ sql: String, limits: QueryLimits) async throws -> QueryResult {
        let statement = try SQLText.singleStatement(sql, engine: .postgresql)
        let session = self.session
        let run: @Sendable (PostgresConnection, Logger) async throws -> QueryResult = { connection, logger in
            let sink = PostgresRowSink(limits: limits)
            let metadata = try await sink.run(PostgresQuery(unsafeSQL: statement), on: connection, logger: logger)
            return try await PostgresResults.result(
                sink, statement: nil, rowsAffected: PostgresResults.rowsAffected(metadata, statement: statement), session: session,
                connection: connection, logger: logger)
        }
        if Self.refusedInTransaction(statement) {
            return try await session.autocommit(timeout: limits.timeout, run)
        }
        return try await session.transaction(readWrite: true, timeout: limits.timeout, run)
    }

    static func refusedInTransaction(_ statement: String) -> Bool {
        let bytes = Array(statement.utf8)
        let words = SQLText.tokens(statement, engine: .postgresql).prefix(8).map {
            String(decoding: bytes[$0.range], as: UTF8.self).lowercased()
        }
        guard let first = words.first else { return false }
        let second = words.count > 1 ? words[1] : ""
        switch first {
        case "vacuum": return true
        case "alter": return second == "system"
        case "create", "drop":
            return ["database", "tablespace"].contains(second) || words.contains("concurrently")
        case "reindex": return words.contains("concurrently") || ["system", "database"].contains(second)
        default: return false
        }
    }

    func executeBatch(_ statements: [String], timeout: Duration) async throws -> Int {
        for statement in statements { _ = try SQLText.singleStatement(statement, engine: .postgresql) }
        return try await session.transaction(readWrite: true, timeout: timeout) { connection, logger in
            var changed = 0
            for statement in statements {
                let metadata = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) { _ in }.get()
                changed += PostgresResults.rowsAffected(metadata, statement: statement) ?? 0
            }
            return changed
        }
    }
}

/// Streamed rows to a ``QueryResult``: column names and types, arrays of user-defined types.
enum PostgresResults {
    static func result(_ sink: PostgresRowSink, statement: String?, rowsAffected: Int?, session: PostgresSession,
                       connection: PostgresConnection, logger: Logger) async throws -> QueryResult {
        let (collector, _, streamed) = sink.snapshot()
        var columns = streamed
        // No rows, so no column descriptions: ask for them with a query that returns one row of NULLs.
        // LIMIT 0 keeps the statement from running again. In a savepoint: a statement the probe cannot wrap costs only its columns.
        if columns == nil, let statement {
            try await connection.query("SAVEPOINT glassbox_probe", logger: logger)
            do {
                let probe = PostgresRowSink(limits: QueryLimits(maxRows: 1))
                _ = try await probe.run(PostgresQuery(unsafeSQL: """
                    SELECT glassbox_r.* FROM (SELECT 1) AS glassbox_one LEFT JOIN (SELECT * FROM (
                    \(statement)
                    ) AS glassbox_q LIMIT 0) AS glassbox_r ON true
                    """), on: connection, logger: logger)
                columns = probe.snapshot().columns
                try await connection.query("RELEASE SAVEPOINT glassbox_probe", logger: logger)
            } catch let error as PSQLError where error.serverInfo != nil {
                try await connection.query("ROLLBACK TO SAVEPOINT glassbox_probe", logger: logger)
            }
        }
        let described = columns ?? []
        let names = try await session.typeNames(described.map(\.oid), connection: connection, logger: logger)
        var result = collector.result(
            columns: described.map { QueryColumn(name: $0.name, type: names[$0.oid] ?? "oid \($0.oid)") }, rowsAffected: rowsAffected)
        // Arrays of types postgres-nio does not know arrive as bytes; their type name tells.
        for (index, column) in result.columns.enumerated() where column.type.hasSuffix("[]")
            && !PostgresValues.arrayTypes.contains(described[index].oid) {
            for row in result.rows.indices { result.rows[row][index] = PostgresValues.decodeArray(result.rows[row][index]) }
        }
        return result
    }

    /// Rows changed, from the command tag: INSERT, UPDATE, DELETE, MERGE, COPY and CREATE TABLE AS
    /// report a count, other commands that write 0; nil for statements that only read.
    static func rowsAffected(_ metadata: PostgresQueryMetadata, statement: String) -> Int? {
        let command = metadata.command.split(separator: " ").first.map(String.init) ?? ""
        switch command {
        case "INSERT", "UPDATE", "DELETE", "COPY":
            return metadata.rows ?? 0
        case "MERGE":
            return metadata.command.split(separator: " ").last.flatMap { Int($0) } ?? 0
        case "SELECT":
            // CREATE TABLE AS reports `SELECT n` too.
            return readKeywords.contains(SQLText.leadingKeyword(statement, engine: .postgresql)) ? nil : metadata.rows ?? 0
        case "FETCH", "SHOW", "EXPLAIN", "MOVE":
            return nil
        default:
            return 0
        }
    }

    /// Statements that start with these only read (SELECT … INTO aside).
    static let readKeywords: Set<String> = ["select", "with", "values", "table"]
}
