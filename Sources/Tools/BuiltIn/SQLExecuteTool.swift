import Connectors
import Security

/// `sql.execute`: one statement that may write (INSERT, UPDATE, DELETE, MERGE, DDL), run in a
/// read-write transaction under the caller's database role and committed when it succeeds.
///
/// Needs `sql:read` on tables it reads, `sql:write` on tables it writes (`sql:ddl` for DDL and
/// DCL), and for destructive statements (DROP, TRUNCATE, DELETE or UPDATE without WHERE, …)
/// also `sql:destructive` on each target and a human's approval.
/// Output: `{rows_affected}`, plus `columns`, `rows`, `row_count` and `truncated` for `RETURNING`.
struct SQLExecuteTool: Tool {
    let name = "sql.execute"
    let description = """
        Runs one SQL statement that changes data or schema (INSERT, UPDATE, DELETE, CREATE, ALTER, …) on a database \
        connection and returns the number of rows affected (and the rows of a RETURNING clause). Destructive statements \
        (DROP, TRUNCATE, DELETE or UPDATE without WHERE) need the sql:destructive right and a human's approval. \
        Transaction control and administrative commands are refused; use sql.query to read.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "sql": ["type": "string", "minLength": 1, "description": "One statement."],
            "connection": ["type": "string", "minLength": 1, "description": "Connection name; the default connection when omitted."],
            "max_rows": ["type": "integer", "minimum": 0, "description": "Most RETURNING rows to return."],
        ],
        "required": ["sql"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.write

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        let sql = input["sql"]?.string ?? ""
        let executingAs = target.executingAs(call, otherwise: "read-write")
        switch SQLGuardrail(dialect: target.dialect).check(sql, mode: .write) {
        case .success(let classification):
            let permissions = target.executePermissions(classification)
            guard classification.isDestructive else {
                return ToolPlan(permissions: permissions, risk: classification.kind == .read ? .read : .write, executingAs: executingAs)
            }
            return ToolPlan(permissions: permissions, risk: .destructive,
                            approvalReason: "destructive statement: " + classification.destructiveReasons.joined(separator: "; "),
                            executingAs: executingAs)
        case .failure(let violation):
            // Nothing is known about the statement's tables; the write right on the whole connection is
            // asked for, so that an unauthorized caller is refused before the guardrail's verdict.
            return ToolPlan(permissions: [Permission("sql:write", on: target.resource(schema: nil))], risk: .write,
                            violation: GuardrailViolation(violation), executingAs: executingAs)
        }
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let sql = input["sql"]?.string ?? ""
        let limits = target.limits(context.environment, maxRows: input["max_rows"]?.integer.map { Int(clamping: $0) })
        // A plain read (e.g. `SELECT 1`) was authorized with read rights only, so it runs on a reader.
        let writes = context.plan.permissions.contains { $0.action != "sql:read" }
        let result = writes
            ? try await target.writing(context) { writer in try await writer.execute(sql, limits: limits) }
            : try await target.reading(context) { reader in try await reader.query(sql, limits: limits) }
        var output: [String: JSONValue] = ["rows_affected": result.rowsAffected.map { .integer(Int64($0)) } ?? .null]
        if !result.columns.isEmpty, let rows = result.json.object {
            output.merge(rows) { _, new in new }
        }
        return ToolOutput(.object(output), rows: result.columns.isEmpty ? nil : result.rows.count)
    }
}
