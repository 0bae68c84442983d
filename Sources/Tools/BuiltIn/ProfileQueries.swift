import Connectors

/// The SQL `profile.table` runs, generated from the catalog's description of the table, with every
/// identifier quoted for the engine. Pure: tested without a database.
struct ProfileQueries: Sendable {
    /// How one column is profiled.
    struct Column: Sendable, Hashable {
        var name: String
        var type: String
        /// The expression counted, grouped and compared: the quoted column, or for PostgreSQL types
        /// without equality (json, xml, geometric) the column cast to text.
        var expression: String
        /// Whether `min`/`max` are meaningful and supported for the type.
        var orderable: Bool
    }

    let engine: SQLEngine
    let columns: [Column]
    /// `FROM` target: the table, or the first `sampleRows` rows of it.
    let source: String
    /// Columns per summary query, to stay far below PostgreSQL's 1,664 select-list entries.
    static let columnsPerSummary = 100
    /// How many of the most frequent values are reported per column.
    static let topValueCount = 5

    init(engine: SQLEngine, schema: String, table: String, columns: [ColumnInfo], sampleRows: Int?) throws(ToolError) {
        self.engine = engine
        let relation = try SQLIdentifier.qualified(schema: schema, table: table, for: engine)
        if let sampleRows {
            source = "(SELECT * FROM \(relation) LIMIT \(max(0, sampleRows))) AS \(try SQLIdentifier.quote("sample", for: engine))"
        } else {
            source = relation
        }
        var profiled: [Column] = []
        for column in columns {
            let quoted = try SQLIdentifier.quote(column.name, for: engine)
            let type = column.type.lowercased()
            switch engine {
            case .sqlite:
                // SQLite compares every value; min and max of blobs say nothing useful.
                profiled.append(Column(name: column.name, type: column.type, expression: quoted, orderable: !type.contains("blob")))
            case .postgresql:
                let comparable = Self.postgresComparable(type)
                profiled.append(Column(name: column.name, type: column.type,
                                       expression: comparable ? quoted : "CAST(\(quoted) AS text)",
                                       orderable: Self.postgresOrderable(type)))
            }
        }
        self.columns = profiled
    }

    /// One query per chunk of columns: `row_count`, then per column non-null count, distinct count,
    /// and min and max (NULL when the type is not orderable).
    var summaries: [(columns: ArraySlice<Column>, sql: String)] {
        stride(from: 0, to: max(columns.count, 1), by: Self.columnsPerSummary).map { start in
            let chunk = columns[start..<min(start + Self.columnsPerSummary, columns.count)]
            var items = ["count(*)"]
            for column in chunk {
                items.append("count(\(column.expression))")
                items.append("count(DISTINCT \(column.expression))")
                items.append(column.orderable ? "min(\(column.expression))" : "NULL")
                items.append(column.orderable ? "max(\(column.expression))" : "NULL")
            }
            return (chunk, "SELECT " + items.joined(separator: ", ") + " FROM " + source)
        }
    }

    /// The most frequent non-null values of a column with their counts, ties by value.
    func topValues(_ column: Column) -> String {
        "SELECT \(column.expression), count(*) FROM \(source) WHERE \(column.expression) IS NOT NULL "
            + "GROUP BY \(column.expression) ORDER BY 2 DESC, 1 LIMIT \(Self.topValueCount)"
    }

    /// PostgreSQL types `min`/`max` accept: numbers, text, and dates and times.
    static func postgresOrderable(_ type: String) -> Bool {
        let base = baseType(type)
        return orderableTypes.contains(base) || base.hasPrefix("timestamp") || base.hasPrefix("time ")
            || base.hasPrefix("character") || base.hasPrefix("interval") || base.hasPrefix("bit")
    }

    /// PostgreSQL types with an equality operator, which `count(DISTINCT …)` and `GROUP BY` need.
    static func postgresComparable(_ type: String) -> Bool {
        postgresOrderable(type) || comparableTypes.contains(baseType(type)) || type.hasSuffix("[]")
    }

    /// `numeric(10,2)` → `numeric`, `character varying(20)` → `character varying`.
    private static func baseType(_ type: String) -> String {
        guard let paren = type.firstIndex(of: "(") else { return type.trimmingSpaces }
        let rest = type[type.index(after: paren)...]
        let tail = rest.firstIndex(of: ")").map { String(rest[rest.index(after: $0)...]) } ?? ""
        return (String(type[..<paren]).trimmingSpaces + tail).trimmingSpaces
    }

    private static let orderableTypes: Set<String> = [
        "smallint", "integer", "bigint", "int", "int2", "int4", "int8", "numeric", "decimal", "real", "double precision",
        "float4", "float8", "money", "text", "varchar", "char", "bpchar", "name", "citext", "date", "time", "timetz",
        "timestamp", "timestamptz", "oid",
    ]
    private static let comparableTypes: Set<String> = [
        "boolean", "bool", "uuid", "jsonb", "bytea", "inet", "cidr", "macaddr", "macaddr8", "tsvector", "varbit",
    ]
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
