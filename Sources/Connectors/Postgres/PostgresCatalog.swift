import Logging
import PostgresNIO

/// The catalog of a PostgreSQL database, from pg_catalog: every schema but the system's own.
enum PostgresCatalog {
    static let timeout = Duration.seconds(30)
    /// Tables without statistics are counted up to this many rows by `describeTable`.
    static let countLimit = 100_000

    /// Relation kinds listed: tables, partitioned and foreign tables (`table`); views and materialized views (`view`).
    private static let kinds = "('r', 'p', 'f', 'v', 'm')"
    private static let userSchemas = """
        n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        """

    static func tables(_ connection: PostgresConnection, schema: String?, logger: Logger) async throws -> [TableSummary] {
        let rows = try await PostgresSession.rows(connection, """
            SELECT n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8, coalesce(s.n_live_tup, -1)::int8
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
            WHERE c.relkind IN \(unescaped: kinds) AND \(unescaped: userSchemas) AND (\(schema)::text IS NULL OR n.nspname = \(schema)::text)
            ORDER BY 1, 2
            """, logger: logger)
        if rows.isEmpty, let schema, try await !schemaExists(connection, schema, logger: logger) {
            throw ConnectorError.unknownSchema(schema)
        }
        return rows.map { row in
            let kind = row[2].description
            return TableSummary(schema: row[0].description, name: row[1].description, kind: kindName(kind),
                                rowEstimate: kindName(kind) == "table" ? estimate(reltuples: row[3], liveTuples: row[4]) : nil)
        }
    }

    /// `schema` nil resolves `table` through the search_path, as an unqualified name in a query would.
    static func describe(_ connection: PostgresConnection, schema: String?, table: String, logger: Logger) async throws -> TableInfo {
        let found = try await PostgresSession.rows(connection, """
            SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8,
                   coalesce(s.n_live_tup, -1)::int8, obj_description(c.oid, 'pg_class'), has_table_privilege(c.oid, 'SELECT')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
            WHERE c.relname = \(table) AND c.relkind IN \(unescaped: kinds)
              AND CASE WHEN \(schema)::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = \(schema)::text END
            """, logger: logger)
        guard let row = found.first, case .integer(let oid) = row[0] else {
            if let schema, try await !schemaExists(connection, schema, logger: logger) { throw ConnectorError.unknownSchema(schema) }
            throw ConnectorError.unknownTable(schema: schema, table: table)
        }
        let schemaName = row[1].description, name = row[2].description, kind = kindName(row[3].description)

        let columns = try await PostgresSession.rows(connection, """
            SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum)
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = \(oid)::oid AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, logger: logger).map { column in
            ColumnInfo(name: column[0].description, type: column[1].description, nullable: column[2] == .bool(true),
                       defaultValue: column[3] == .null ? nil : column[3].description,
                       comment: column[4] == .null ? nil : column[4].description)
        }

        let primaryKey = try await PostgresSession.rows(connection, """
            SELECT a.attname::text
            FROM pg_constraint con
            CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, position)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
            WHERE con.conrelid = \(oid)::oid AND con.contype = 'p'
            ORDER BY k.position
            """, logger: logger).map { $0[0].description }

        var foreignKeys: [(name: String, key: ForeignKey)] = []
        for key in try await PostgresSession.rows(connection, """
            SELECT con.conname::text, a.attname::text, fn.nspname::text, fc.relname::text, fa.attname::text
            FROM pg_constraint con
            CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, referenced, position)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
            JOIN pg_class fc ON fc.oid = con.confrelid
            JOIN pg_namespace fn ON fn.oid = fc.relnamespace
            JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.referenced
            WHERE con.conrelid = \(oid)::oid AND con.contype = 'f'
            ORDER BY con.conname, k.position
            """, logger: logger) {
            let constraint = key[0].description
            if foreignKeys.last?.name != constraint {
                foreignKeys.append((constraint, ForeignKey(columns: [], referencedSchema: key[2].description,
                                                           referencedTable: key[3].description, referencedColumns: [])))
            }
            foreignKeys[foreignKeys.count - 1].key.columns.append(key[1].description)
            foreignKeys[foreignKeys.count - 1].key.referencedColumns.append(key[4].description)
        }

        var rowEstimate = kind == "table" ? estimate(reltuples: row[4], liveTuples: row[5]) : nil
        if kind == "table", rowEstimate == nil, row[7] == .bool(true) {
            let table = SQLText.quoteIdentifier(schemaName) + "." + SQLText.quoteIdentifier(name)
            let counted = try await PostgresSession.rows(
                connection, PostgresQuery(unsafeSQL: "SELECT count(*) FROM (SELECT 1 FROM \(table) LIMIT \(countLimit + 1)) AS rows"), logger: logger)
            if case .integer(let count) = counted.first?.first, count <= countLimit { rowEstimate = count }
        }
        return TableInfo(schema: schemaName, name: name, kind: kind, columns: columns, primaryKey: primaryKey,
                         foreignKeys: foreignKeys.map(\.key), rowEstimate: rowEstimate,
                         comment: row[6] == .null ? nil : row[6].description)
    }

    private static func schemaExists(_ connection: PostgresConnection, _ schema: String, logger: Logger) async throws -> Bool {
        try await !PostgresSession.rows(connection, "SELECT 1 FROM pg_namespace WHERE nspname = \(schema)", logger: logger).isEmpty
    }

    private static func kindName(_ relkind: String) -> String {
        relkind == "v" || relkind == "m" ? "view" : "table"
    }

    /// pg_class.reltuples (-1: never analyzed), else the statistics' live tuples when there are any.
    private static func estimate(reltuples: SQLValue, liveTuples: SQLValue) -> Int64? {
        if case .real(let tuples) = reltuples, tuples >= 0 { return Int64(tuples.rounded()) }
        if case .integer(let live) = liveTuples, live > 0 { return live }
        return nil
    }
}
