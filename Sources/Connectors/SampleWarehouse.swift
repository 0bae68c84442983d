/// A realistic, deterministic sample warehouse for demos and tests: customers, orders, billing,
/// product usage and churn labels, with keys, comments, NULLs and skew (a few customers with
/// many orders, power-law event counts, a mix of countries and plans).
///
/// PostgreSQL gets five schemas — `crm` (customers, contacts, pii_customer_details), `sales`
/// (products, orders, order_items), `billing` (plans, subscriptions, invoices), `product`
/// (sessions, product_events) and `analytics` (churn_labels and the views customer_revenue and
/// monthly_active_customers). SQLite has one schema, `main`: the same tables without the schema
/// prefix, and comments as `-- comments` in the `CREATE TABLE` text (see ``TableInfo/comment``).
///
/// ```swift
/// let writer = try await SQLDatabase(try ConnectionDefinition(name: "demo", url: "sqlite:///tmp/demo.db")).writer(role: nil)
/// let summary = try await SampleWarehouse.create(into: writer, options: .init(tables: 50, seed: 7))
/// print(summary.totalRows)
/// await writer.close()
/// ```
///
/// The same seed and options give the same rows on both engines.
public enum SampleWarehouse {
    /// The core tables; `tables` below this is refused.
    public static let coreTableCount = 12
    /// The schemas created on PostgreSQL.
    public static let schemas = ["crm", "sales", "billing", "product", "analytics"]

    public struct Options: Sendable, Hashable {
        /// Tables in all; filler tables `analytics.daily_metrics_<k>` are added up to it. Nil: the core tables only.
        public var tables: Int?
        public var seed: UInt64
        /// Multiplies the row counts (1 gives a few thousand rows per large table).
        public var rowsScale: Double
        /// Drop the warehouse's schemas (PostgreSQL) or tables (SQLite) first instead of refusing.
        public var replace: Bool

        public init(tables: Int? = nil, seed: UInt64 = 42, rowsScale: Double = 1, replace: Bool = false) {
            self.tables = tables
            self.seed = seed
            self.rowsScale = rowsScale
            self.replace = replace
        }
    }

    /// How far creation got, reported after each step.
    public struct Progress: Sendable, Hashable {
        /// What was just done, e.g. `loaded sales.orders (1,204 rows)`.
        public var step: String
        public var stepsDone: Int
        public var stepsTotal: Int
        public var rowsWritten: Int
    }

    /// What was created.
    public struct Summary: Sendable, Hashable {
        public struct Table: Sendable, Hashable {
            public var schema: String
            public var name: String
            public var rows: Int
        }

        public var engine: SQLEngine
        public var seed: UInt64
        public var tables: [Table]
        /// Views, schema-qualified on PostgreSQL.
        public var views: [String]
        public var fillerTables: Int
        public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }
    }

    /// Creates the warehouse through `writer`, in a few transactions (the schema, then the data
    /// table by table, then statistics). Refuses when the warehouse's schemas (PostgreSQL) or any
    /// table (SQLite) exist already, unless `options.replace`.
    public static func create(into writer: any SQLWriter, options: Options = Options(),
                              progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        let engine = writer.engine
        var random = SampleRandom(seed: options.seed)
        let scale = max(0.01, options.rowsScale)
        var tables = coreTables(random: random, scale: scale)
        let core = tables.count
        if let wanted = options.tables, wanted < core {
            throw SampleWarehouseError.tooFewTables(requested: wanted, minimum: core)
        }
        random = SampleRandom(seed: options.seed &+ 1)
        let fillers = max(0, (options.tables ?? core) - core)
        for index in 0..<fillers { tables.append(fillerTable(index + 1, random: &random, scale: scale)) }

        let existing = try await conflicts(in: writer)
        if !existing.isEmpty {
            guard options.replace else { throw SampleWarehouseError.exists(engine: engine, objects: existing) }
            _ = try await writer.executeBatch(dropStatements(engine: engine, tables: tables, existing: existing), timeout: batchTimeout)
        }

        let views = self.views(engine)
        // Steps: the schema, each core table's rows, filler tables in chunks, views, statistics.
        let fillerChunks = stride(from: core, to: tables.count, by: 50).map { $0..<min($0 + 50, tables.count) }
        let total = 1 + core + fillerChunks.count + 2
        var done = 0
        var written = 0
        func report(_ step: String) {
            done += 1
            progress(Progress(step: step, stepsDone: done, stepsTotal: total, rowsWritten: written))
        }

        var schemaStatements = engine == .postgresql ? schemas.map { "CREATE SCHEMA \($0)" } : []
        for table in tables[..<core] { schemaStatements += table.ddl(engine) }
        _ = try await writer.executeBatch(schemaStatements, timeout: batchTimeout)
        report("created \(core) tables")

        for table in tables[..<core] {
            _ = try await writer.executeBatch(table.inserts(engine), timeout: batchTimeout)
            written += table.rows.count
            report("loaded \(table.qualifiedName(engine)) (\(table.rows.count) rows)")
        }
        for chunk in fillerChunks {
            var statements: [String] = []
            for table in tables[chunk] { statements += table.ddl(engine) + table.inserts(engine) }
            _ = try await writer.executeBatch(statements, timeout: batchTimeout)
            written += tables[chunk].reduce(0) { $0 + $1.rows.count }
            report("created filler tables \(chunk.lowerBound - core + 1)–\(chunk.upperBound - core) of \(fillers)")
        }
        _ = try await writer.executeBatch(views.flatMap(\.statements), timeout: batchTimeout)
        report("created \(views.count) views")
        // Statistics, so that catalogs report row estimates at once.
        let analyze = engine == .postgresql
            ? stride(from: 0, to: tables.count, by: 100).map { start in
                "ANALYZE " + tables[start..<min(start + 100, tables.count)].map { $0.qualifiedName(engine) }.joined(separator: ", ")
            }
            : ["ANALYZE"]
        _ = try await writer.executeBatch(analyze, timeout: batchTimeout)
        report("analyzed")

        return Summary(engine: engine, seed: options.seed,
                       tables: tables.map { Summary.Table(schema: engine == .postgresql ? $0.schema : "main", name: $0.name, rows: $0.rows.count) },
                       views: views.map { engine == .postgresql ? "\($0.schema).\($0.name)" : $0.name }, fillerTables: fillers)
    }

    /// What creating the warehouse would collide with: its schemas that exist (PostgreSQL), or
    /// every table and view of the file (SQLite: only an empty file is written to without `replace`).
    public static func conflicts(in writer: any SQLWriter) async throws -> [String] {
        switch writer.engine {
        case .postgresql:
            let list = schemas.map { SQLText.quoteLiteral($0) }.joined(separator: ", ")
            let result = try await writer.query("SELECT nspname::text FROM pg_namespace WHERE nspname IN (\(list)) ORDER BY 1",
                                                limits: QueryLimits(maxRows: 100))
            return result.rows.map { $0[0].description }
        case .sqlite:
            return try await writer.listTables(schema: nil).map(\.name)
        }
    }

    private static let batchTimeout = Duration.seconds(600)

    private static func dropStatements(engine: SQLEngine, tables: [SampleTable], existing: [String]) -> [String] {
        switch engine {
        case .postgresql:
            return existing.map { "DROP SCHEMA \(SQLText.quoteIdentifier($0)) CASCADE" }
        case .sqlite:
            // Views first, then tables children before parents, so that foreign keys never dangle.
            // Other tables in the file stay.
            let viewDrops = views(.sqlite).filter { existing.contains($0.name) }.map { "DROP VIEW \($0.name)" }
            let tableDrops = tables.reversed().filter { existing.contains($0.name) }.map { "DROP TABLE \($0.name)" }
            return viewDrops + tableDrops
        }
    }
}

/// Why the sample warehouse was not created.
public enum SampleWarehouseError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooFewTables(requested: Int, minimum: Int)
    case exists(engine: SQLEngine, objects: [String])

    public var description: String {
        switch self {
        case .tooFewTables(let requested, let minimum):
            return "--tables \(requested) is below the \(minimum) core tables of the sample warehouse; ask for at least \(minimum)"
        case .exists(.postgresql, let schemas):
            return "the schemas \(schemas.joined(separator: ", ")) exist already; pass --replace to drop them (and everything in them) first"
        case .exists(.sqlite, let objects):
            let shown = objects.prefix(5).joined(separator: ", ") + (objects.count > 5 ? ", …" : "")
            return "the SQLite file is not empty (it holds \(shown)); choose a new file or pass --replace to start it afresh"
        }
    }
}
