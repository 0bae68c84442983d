import Connectors
import Foundation
import Security

/// `docs.write_table_doc`: a Markdown page for one table in the workspace, from the catalog, an
/// optional profile and the caller's summary.
///
/// Needs `catalog:read` on the table, `sql:read` on it when profiling, and `file:write` on
/// `workspace:<path>` (default `docs/<connection>/<schema>/<table>.md`).
struct TableDocTool: Tool {
    let name = "docs.write_table_doc"
    let description = """
        Writes a Markdown page documenting a table into the workspace (docs/<connection>/<schema>/<table>.md unless \
        `path` is given): your `summary`, the table's kind, keys and row estimate, its columns with types, nullability, \
        defaults and comments, and unless `profile` is false a data profile (nulls, distinct values, min, max, most \
        frequent values). Replaces the page if it exists.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "connection": ["type": "string", "minLength": 1, "description": "Connection name; the default connection when omitted."],
            "schema": ["type": "string", "minLength": 1, "description": "Schema (SQLite: main; PostgreSQL: public when omitted)."],
            "table": ["type": "string", "minLength": 1],
            "summary": ["type": "string", "minLength": 1, "maxLength": 20_000, "description": "What the table holds and how to use it (Markdown)."],
            "profile": ["type": "boolean", "default": true, "description": "Include a data profile."],
            "sample_rows": ["type": "integer", "minimum": 1, "description": "Profile only the first N rows."],
            "path": ["type": "string", "minLength": 1, "description": "Where to write, relative to the workspace."],
        ],
        "required": ["table", "summary"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.write

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        let workspace = try call.environment.requireWorkspace()
        let table = target.resource(schema: input["schema"]?.string, table: input["table"]?.string ?? "")
        let path = documentPath(input, target: target)
        var permissions = [Permission("catalog:read", on: table)]
        if input["profile"]?.bool ?? true { permissions.append(Permission("sql:read", on: table)) }
        do {
            let confined = try ConfinedWorkspacePath(path, in: workspace)
            permissions.append(Permission("file:write", on: confined.resource))
            return ToolPlan(permissions: permissions, risk: .write, executingAs: target.executingAs(call, otherwise: "read-only"))
        } catch {
            permissions.append(Permission("file:write", on: "workspace:" + path))
            return ToolPlan(permissions: permissions, risk: .write, violation: error.violation,
                            executingAs: target.executingAs(call, otherwise: "read-only"))
        }
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let workspace = try context.environment.requireWorkspace()
        let path: ConfinedWorkspacePath
        do {
            path = try ConfinedWorkspacePath(documentPath(input, target: target), in: workspace)
        } catch {
            throw ToolError("refused", error.reason)
        }
        let info = try await target.describe(input, context)
        let profile = input["profile"]?.bool ?? true
            ? try await TableProfile.measure(input, target: target, context: context)
            : nil
        let markdown = TableDocMarkdown.render(connection: target.name, table: info, summary: input["summary"]?.string ?? "",
                                               profile: profile)
        try path.write(markdown, in: workspace)
        return ToolOutput([
            "path": .string(path.relative), "bytes": .integer(Int64(markdown.utf8.count)),
            "columns": .integer(Int64(info.columns.count)), "profiled": .bool(profile != nil),
        ])
    }

    /// The `path` input, or `docs/<connection>/<schema>/<table>.md` with any `/` in a name made `_`.
    private func documentPath(_ input: JSONValue, target: SQLTarget) -> String {
        if let path = input["path"]?.string { return path }
        func part(_ name: String) -> String { name.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\\", with: "_") }
        return "docs/\(part(target.name))/\(part(target.schema(input["schema"]?.string)))/\(part(input["table"]?.string ?? "")).md"
    }
}
