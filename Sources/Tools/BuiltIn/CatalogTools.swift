import Connectors
import Security

// The catalog tools read structure, never rows. The tool cannot see the policy, so it cannot hide
// tables a caller may not see from a listing; instead a listing or search needs `catalog:read` on
// everything it covers (`<connection>.*`, or `<connection>.<schema>.*` with a schema filter), and
// describing one table needs `catalog:read` on that table.

private let connectionProperty: JSONValue = ["type": "string", "minLength": 1, "description": "Connection name; the default connection when omitted."]
private let schemaProperty: JSONValue = ["type": "string", "minLength": 1, "description": "Schema (SQLite: main; PostgreSQL: public when omitted)."]

/// `catalog.list_tables`: tables and views, optionally in one schema.
struct CatalogListTablesTool: Tool {
    let name = "catalog.list_tables"
    let description = "Lists the tables and views of a database connection (optionally of one schema) with their kind and estimated row count."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": ["connection": connectionProperty, "schema": schemaProperty],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        return ToolPlan(permissions: [Permission("catalog:read", on: target.resource(schema: input["schema"]?.string))],
                        risk: .read, executingAs: target.executingAs(call, otherwise: "read-only"))
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let schema = input["schema"]?.string.map { target.schema($0) }
        let tables = try await target.reading(context) { reader in try await reader.listTables(schema: schema) }
        let rows: [JSONValue] = tables.map { table in
            ["schema": .string(table.schema), "name": .string(table.name), "kind": .string(table.kind),
             "row_estimate": table.rowEstimate.map { .integer($0) } ?? .null]
        }
        return ToolOutput(["connection": .string(target.name), "tables": .array(rows), "count": .integer(Int64(rows.count))],
                          rows: rows.count)
    }
}

/// `catalog.describe_table`: one table's columns, keys, row estimate and comments.
struct CatalogDescribeTableTool: Tool {
    let name = "catalog.describe_table"
    let description = """
        Describes one table or view: its columns (type, nullability, default, comment), primary key, foreign keys, \
        estimated row count and comment.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "connection": connectionProperty, "schema": schemaProperty,
            "table": ["type": "string", "minLength": 1, "description": "Table or view name."],
        ],
        "required": ["table"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        let resource = target.resource(schema: input["schema"]?.string, table: input["table"]?.string ?? "")
        return ToolPlan(permissions: [Permission("catalog:read", on: resource)], risk: .read,
                        executingAs: target.executingAs(call, otherwise: "read-only"))
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let info = try await target.describe(input, context)
        return ToolOutput(info.json)
    }
}

/// `catalog.search`: tables and columns whose name or comment contains a term.
struct CatalogSearchTool: Tool {
    let name = "catalog.search"
    let description = """
        Finds tables and columns whose name or comment contains a term (case-insensitive), best matches first: \
        exact names, then name prefixes, then substrings, then comments.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "term": ["type": "string", "minLength": 1, "maxLength": 200, "description": "Text to look for."],
            "connection": connectionProperty, "schema": schemaProperty,
            "limit": ["type": "integer", "minimum": 1, "maximum": 500, "default": 20, "description": "Most results."],
        ],
        "required": ["term"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        return ToolPlan(permissions: [Permission("catalog:read", on: target.resource(schema: input["schema"]?.string))],
                        risk: .read, executingAs: target.executingAs(call, otherwise: "read-only"))
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let term = input["term"]?.string ?? ""
        let limit = Int(input["limit"]?.integer ?? 20)
        let schema = input["schema"]?.string.map { target.schema($0) }
        let tables = try await target.reading(context) { reader in
            var tables: [TableInfo] = []
            for summary in try await reader.listTables(schema: schema) {
                try Task.checkCancellation()
                tables.append(try await reader.describeTable(schema: summary.schema, table: summary.name))
            }
            return tables
        }
        let hits = CatalogSearch.rank(term: term, in: tables, limit: limit)
        return ToolOutput(["term": .string(term), "results": .array(hits.map(\.json)), "count": .integer(Int64(hits.count))],
                          rows: hits.count)
    }
}

extension SQLTarget {
    /// The table named by the input's `schema` and `table`, from the catalog.
    func describe(_ input: JSONValue, _ context: ToolContext) async throws -> TableInfo {
        let schema = self.schema(input["schema"]?.string)
        let table = input["table"]?.string ?? ""
        return try await reading(context) { reader in try await reader.describeTable(schema: schema, table: table) }
    }
}

extension TableInfo {
    /// The table as `catalog.describe_table` returns it.
    var json: JSONValue {
        let keyColumns = Set(primaryKey)
        let columns: [JSONValue] = columns.map { column in
            ["name": .string(column.name), "type": .string(column.type), "nullable": .bool(column.nullable),
             "default": column.defaultValue.map { .string($0) } ?? .null, "comment": column.comment.map { .string($0) } ?? .null,
             "primary_key": .bool(keyColumns.contains(column.name))]
        }
        let foreignKeys: [JSONValue] = foreignKeys.map { key in
            ["columns": .array(key.columns.map { .string($0) }),
             "references": ["schema": .string(key.referencedSchema), "table": .string(key.referencedTable),
                            "columns": .array(key.referencedColumns.map { .string($0) })]]
        }
        return [
            "schema": .string(schema), "name": .string(name), "kind": .string(kind),
            "comment": comment.map { .string($0) } ?? .null, "row_estimate": rowEstimate.map { .integer($0) } ?? .null,
            "primary_key": .array(primaryKey.map { .string($0) }), "columns": .array(columns),
            "foreign_keys": .array(foreignKeys),
        ]
    }
}
