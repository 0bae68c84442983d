import Connectors
import Security

/// `sql.query`: one read-only statement, run in a read-only transaction under the caller's database role.
///
/// Input: `sql`, optional `connection` and `max_rows` (capped by the environment's `maxRows`).
/// Needs `sql:read` on every table the statement reads (`<connection>.*` when it names none).
/// Output: `{columns: [{name, type}], rows: [[…]], row_count, truncated}`.
struct SQLQueryTool: Tool {
    let name = "sql.query"
    let description = """
        Runs one read-only SQL statement (SELECT, WITH … SELECT, VALUES, EXPLAIN) on a database connection and returns \
        its columns and rows. Statements that write, change the schema or call functions with side effects are refused; \
        use sql.execute for those.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "sql": ["type": "string", "minLength": 1, "description": "One read-only statement."],
            "connection": ["type": "string", "minLength": 1, "description": "Connection name; the default connection when omitted."],
            "max_rows": ["type": "integer", "minimum": 0, "description": "Most rows to return (never more than the configured limit)."],
        ],
        "required": ["sql"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        let sql = input["sql"]?.string ?? ""
        let executingAs = target.executingAs(call, otherwise: "read-only")
        switch SQLGuardrail(dialect: target.dialect).check(sql, mode: .readOnly) {
        case .success(let classification):
            return ToolPlan(permissions: target.readPermissions(classification), risk: .read, executingAs: executingAs)
        case .failure(let violation):
            // Authorize on the tables the statement names when it can be read at all, so that a
            // caller with rights on them learns which guardrail refused, not a denial on the whole connection.
            let tables = try? SQLClassifier(dialect: target.dialect).classify(sql)
            return ToolPlan(permissions: target.readPermissions(tables), risk: .read,
                            violation: GuardrailViolation(violation), executingAs: executingAs)
        }
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let sql = input["sql"]?.string ?? ""
        let limits = target.limits(context.environment, maxRows: input["max_rows"]?.integer.map { Int(clamping: $0) })
        let result = try await target.reading(context) { reader in try await reader.query(sql, limits: limits) }
        return ToolOutput(result.json, rows: result.rows.count)
    }
}
