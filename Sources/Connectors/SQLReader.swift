/// A column of a table or view, as the catalog describes it.
public struct ColumnInfo: Sendable, Hashable {
    public var name: String
    /// The declared type, e.g. `bigint`, `numeric(12,2)`, `TEXT`.
    public var type: String
    public var nullable: Bool
    /// The default expression as the engine prints it, e.g. `now()` or `'open'::text`.
    public var defaultValue: String?
    /// PostgreSQL: `COMMENT ON COLUMN`; SQLite: the `-- comment` ending the column's line in `CREATE TABLE`.
    public var comment: String?

    public init(name: String, type: String, nullable: Bool, defaultValue: String? = nil, comment: String? = nil) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.comment = comment
    }
}

/// A foreign key: `columns` of the described table reference `referencedColumns` of another.
public struct ForeignKey: Sendable, Hashable {
    public var columns: [String]
    public var referencedSchema: String
    public var referencedTable: String
    public var referencedColumns: [String]

    public init(columns: [String], referencedSchema: String, referencedTable: String, referencedColumns: [String]) {
        self.columns = columns
        self.referencedSchema = referencedSchema
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
    }
}

/// A table or view with its columns and keys.
public struct TableInfo: Sendable, Hashable {
    public var schema: String
    public var name: String
    /// `"table"` or `"view"` (PostgreSQL materialized views are views; partitioned and foreign tables are tables).
    public var kind: String
    public var columns: [ColumnInfo]
    public var primaryKey: [String]
    public var foreignKeys: [ForeignKey]
    /// About how many rows it holds (PostgreSQL statistics, SQLite `sqlite_stat1` or a bounded count); nil when unknown.
    public var rowEstimate: Int64?
    /// PostgreSQL: `COMMENT ON TABLE`; SQLite: the `-- comment` on the `CREATE TABLE … (` line.
    public var comment: String?

    public init(schema: String, name: String, kind: String, columns: [ColumnInfo], primaryKey: [String] = [],
                foreignKeys: [ForeignKey] = [], rowEstimate: Int64? = nil, comment: String? = nil) {
        self.schema = schema
        self.name = name
        self.kind = kind
        self.columns = columns
        self.primaryKey = primaryKey
        self.foreignKeys = foreignKeys
        self.rowEstimate = rowEstimate
        self.comment = comment
    }
}

/// One line of a table listing.
public struct TableSummary: Sendable, Hashable {
    public var schema: String
    public var name: String
    /// `"table"` or `"view"`.
    public var kind: String
    public var rowEstimate: Int64?

    public init(schema: String, name: String, kind: String, rowEstimate: Int64? = nil) {
        self.schema = schema
        self.name = name
        self.kind = kind
        self.rowEstimate = rowEstimate
    }
}

/// Read-only access to one database. The engine itself refuses writes: a read-only SQLite
/// connection with an authorizer, or PostgreSQL `BEGIN READ ONLY` under the caller's role.
/// Code holding only an `SQLReader` cannot change data; see ``SQLWriter``.
///
/// Every method honours Task cancellation: the running statement is interrupted in the engine
/// (SQLite `sqlite3_interrupt`; PostgreSQL `pg_cancel_backend` from a second connection) and the
/// call throws ``ConnectorError/cancelled``.
///
/// ```swift
/// let reader = try await SQLDatabase(definition).reader(role: "analyst_ro")
/// defer { Task { await reader.close() } }
/// let result = try await reader.query("SELECT country, count(*) FROM crm.customers GROUP BY 1", limits: QueryLimits())
/// ```
///
/// One statement per call; a handle runs one call at a time (concurrent calls wait their turn).
public protocol SQLReader: Sendable {
    var engine: SQLEngine { get }
    var connectionName: String { get }
    /// The identity statements run as, e.g. the PostgreSQL role after SET ROLE, or "sqlite:read-only".
    var executingAs: String { get }
    /// Tables and views, in `schema` or in every schema but the engine's own (nil).
    func listTables(schema: String?) async throws -> [TableSummary]
    /// One table or view; schema nil is the default (SQLite `main`; PostgreSQL the search_path).
    func describeTable(schema: String?, table: String) async throws -> TableInfo
    /// Runs one statement in a READ ONLY transaction / on a read-only connection.
    func query(_ sql: String, limits: QueryLimits) async throws -> QueryResult
    /// The engine's plan for one statement (EXPLAIN without ANALYZE): it checks the SQL without running it.
    func explain(_ sql: String) async throws -> String
    /// Releases the connection; later calls throw ``ConnectorError/closed(connection:)``.
    func close() async
}

/// Read-write access: what an ``SQLReader`` can do, plus statements that change data.
/// On SQLite the authorizer still refuses ATTACH/DETACH, PRAGMA writes, extension loading and VACUUM.
public protocol SQLWriter: SQLReader {
    /// Runs one statement in a read-write transaction, committed on success.
    func execute(_ sql: String, limits: QueryLimits) async throws -> QueryResult
    /// Runs the statements in order in one read-write transaction, committed only when all succeed;
    /// returns the rows they changed in total. For loading data (see ``SampleWarehouse``).
    func executeBatch(_ statements: [String], timeout: Duration) async throws -> Int
}

extension SQLWriter {
    /// The fallback for writers that cannot group statements: each runs (and commits) on its own.
    /// Both built-in connectors replace it with one transaction.
    public func executeBatch(_ statements: [String], timeout: Duration) async throws -> Int {
        var changed = 0
        for statement in statements {
            changed += try await execute(statement, limits: QueryLimits(maxRows: 0, timeout: timeout)).rowsAffected ?? 0
        }
        return changed
    }
}
