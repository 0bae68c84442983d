import Connectors
import Security

/// `profile.table`: what the data in a table looks like, per column, from read-only aggregate queries.
struct ProfileTableTool: Tool {
    let name = "profile.table"
    let description = """
        Profiles a table: row count and, per column, null ratio, distinct count and ratio (distinct values / non-null \
        values), min and max (numbers, text, dates and times) and the 5 most frequent values with their counts. \
        `columns` limits it to some columns; `sample_rows` profiles only the first N rows of a big table.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "connection": ["type": "string", "minLength": 1, "description": "Connection name; the default connection when omitted."],
            "schema": ["type": "string", "minLength": 1, "description": "Schema (SQLite: main; PostgreSQL: public when omitted)."],
            "table": ["type": "string", "minLength": 1],
            "columns": ["type": "array", "items": ["type": "string", "minLength": 1], "minItems": 1, "description": "Only these columns."],
            "sample_rows": ["type": "integer", "minimum": 1, "description": "Profile only the first N rows."],
        ],
        "required": ["table"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        let resource = target.resource(schema: input["schema"]?.string, table: input["table"]?.string ?? "")
        return ToolPlan(permissions: [Permission("sql:read", on: resource)], risk: .read,
                        executingAs: target.executingAs(call, otherwise: "read-only"))
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let profile = try await TableProfile.measure(input, target: target, context: context)
        return ToolOutput(profile.json)
    }
}

/// A table's profile, as `profile.table` returns it and `docs.write_table_doc` writes it.
struct TableProfile: Sendable {
    struct TopValue: Sendable, Hashable {
        var value: SQLValue
        var count: Int64
    }

    struct ColumnProfile: Sendable, Hashable {
        var name: String
        var type: String
        var nullCount: Int64
        var distinctCount: Int64
        var min: SQLValue?
        var max: SQLValue?
        var topValues: [TopValue]
    }

    var schema: String
    var table: String
    /// Rows profiled: the whole table, or the sample.
    var rowCount: Int64
    var sampleRows: Int?
    var rowEstimate: Int64?
    var columns: [ColumnProfile]

    /// Longest text kept for min, max and top values; longer ones are cut, marked with `…`.
    static let maxValueLength = 200

    /// Profiles the table named by the input's `schema`, `table`, `columns` and `sample_rows`.
    static func measure(_ input: JSONValue, target: SQLTarget, context: ToolContext) async throws -> TableProfile {
        let schema = target.schema(input["schema"]?.string)
        let table = input["table"]?.string ?? ""
        let wanted = input["columns"]?.array?.compactMap(\.string)
        let sampleRows = input["sample_rows"]?.integer.map { Int(clamping: $0) }
        let limits = QueryLimits(maxRows: ProfileQueries.topValueCount, maxBytes: context.environment.limits.maxOutputBytes,
                                 timeout: context.environment.limits.queryTimeout)
        return try await target.reading(context) { reader in
            let info = try await reader.describeTable(schema: schema, table: table)
            let columns = try select(wanted, from: info)
            let queries = try ProfileQueries(engine: target.engine, schema: info.schema, table: info.name,
                                             columns: columns, sampleRows: sampleRows)
            var rowCount: Int64 = 0
            var profiles: [ColumnProfile] = []
            for (chunk, sql) in queries.summaries {
                let row = try await reader.query(sql, limits: limits).rows.first ?? []
                rowCount = row.first?.int64 ?? 0
                for (offset, column) in chunk.enumerated() {
                    let base = 1 + offset * 4
                    let nonNull = row.count > base ? row[base].int64 ?? 0 : 0
                    profiles.append(ColumnProfile(
                        name: column.name, type: column.type, nullCount: rowCount - nonNull,
                        distinctCount: row.count > base + 1 ? row[base + 1].int64 ?? 0 : 0,
                        min: column.orderable && row.count > base + 2 ? row[base + 2].shortened : nil,
                        max: column.orderable && row.count > base + 3 ? row[base + 3].shortened : nil,
                        topValues: []))
                }
            }
            for (index, column) in queries.columns.enumerated() {
                try Task.checkCancellation()
                let result = try await reader.query(queries.topValues(column), limits: limits)
                profiles[index].topValues = result.rows.compactMap { row in
                    guard row.count == 2, let count = row[1].int64 else { return nil }
                    return TopValue(value: row[0].shortened, count: count)
                }
            }
            return TableProfile(schema: info.schema, table: info.name, rowCount: rowCount, sampleRows: sampleRows,
                                rowEstimate: info.rowEstimate, columns: profiles)
        }
    }

    /// The table's columns, or those asked for in the table's order; an unknown name is an input error.
    private static func select(_ wanted: [String]?, from info: TableInfo) throws(ToolError) -> [ColumnInfo] {
        guard let wanted else { return info.columns }
        let known = Set(info.columns.map(\.name))
        if let unknown = wanted.first(where: { !known.contains($0) }) {
            throw .invalidInput("`\(info.name)` has no column `\(unknown)`; its columns are \(info.columns.map(\.name).joined(separator: ", "))")
        }
        let set = Set(wanted)
        return info.columns.filter { set.contains($0.name) }
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "schema": .string(schema), "table": .string(table), "row_count": .integer(rowCount),
            "sampled": .bool(sampleRows != nil), "row_estimate": rowEstimate.map { .integer($0) } ?? .null,
            "columns": .array(columns.map { column in
                let nonNull = rowCount - column.nullCount
                return [
                    "name": .string(column.name), "type": .string(column.type),
                    "null_count": .integer(column.nullCount),
                    "null_ratio": rowCount > 0 ? .number(Double(column.nullCount) / Double(rowCount)) : .null,
                    "distinct_count": .integer(column.distinctCount),
                    "distinct_ratio": nonNull > 0 ? .number(Double(column.distinctCount) / Double(nonNull)) : .null,
                    "min": column.min.map { JSONValue($0) } ?? .null,
                    "max": column.max.map { JSONValue($0) } ?? .null,
                    "top_values": .array(column.topValues.map { ["value": JSONValue($0.value), "count": .integer($0.count)] }),
                ]
            }),
        ]
        if let sampleRows { members["sample_rows"] = .integer(Int64(sampleRows)) }
        return .object(members)
    }
}

extension SQLValue {
    /// A count or number as an integer, whichever way the engine returned it.
    var int64: Int64? {
        switch self {
        case .integer(let i): i
        case .real(let d) where d.rounded() == d && abs(d) < 9.2e18: Int64(d)
        case .text(let s): Int64(s)
        default: nil
        }
    }

    /// Long text and blobs cut to `TableProfile.maxValueLength`, so that one wide value cannot fill the output.
    var shortened: SQLValue {
        switch self {
        case .text(let s) where s.count > TableProfile.maxValueLength:
            .text(String(s.prefix(TableProfile.maxValueLength)) + "…")
        case .blob(let bytes) where bytes.count > TableProfile.maxValueLength:
            .blob(Array(bytes.prefix(TableProfile.maxValueLength)))
        default: self
        }
    }
}
