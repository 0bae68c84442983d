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
        // The file tools' confinement: relative, no `..`, no link out of the workspace, not in `.git`.
        let file = try workspace.confine(documentPath(input, target: target), for: .write)
        var permissions = [Permission("catalog:read", on: table)]
        if input["profile"]?.bool ?? true { permissions.append(Permission("sql:read", on: table)) }
        permissions.append(Permission("file:write", on: file.resource))
        return ToolPlan(permissions: permissions, risk: .write, violation: file.violation,
                        executingAs: target.executingAs(call, otherwise: "read-only"))
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let workspace = try context.environment.requireWorkspace()
        let path = documentPath(input, target: target)
        let info = try await target.describe(input, context)
        let profile = input["profile"]?.bool ?? true
            ? try await TableProfile.measure(input, target: target, context: context)
            : nil
        let markdown = TableDocMarkdown.render(connection: target.name, table: info, summary: input["summary"]?.string ?? "",
                                               profile: profile)
        // Checked again right before writing: a link may have changed since the plan.
        let file = try workspace.confineAgain(path, for: .write, authorized: context.plan)
        let data = Data(markdown.utf8)
        let (created, _) = try WorkspaceFiles.write(file, data: data, mode: .overwrite, maxFileBytes: workspace.maxFileBytes)
        return ToolOutput([
            "path": .string(file.resolved), "bytes": .integer(Int64(data.count)), "created": .bool(created),
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
