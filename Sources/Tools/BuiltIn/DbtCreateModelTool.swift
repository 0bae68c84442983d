import Connectors
import Foundation
import Security

/// `dbt.create_model`: writes `models/<name>.sql` into a dbt project in the workspace and merges
/// the model's entry (description, columns, tests) into `models/schema.yml`.
///
/// Before anything is written the model must be a read: its `ref`/`source` Jinja is rendered to
/// the real relations, the SQL classifier must call it read-only, and the target engine must
/// accept it (`EXPLAIN`). Needs `dbt:write` on `workspace:<project>/models/<name>.sql` and on
/// `workspace:<project>/models/schema.yml`, and `sql:read` on every table the model reads.
struct DbtCreateModelTool: Tool {
    let name = "dbt.create_model"
    let description = """
        Creates a dbt model in a dbt project of the workspace: writes models/<name>.sql and adds or updates the model's \
        entry in models/schema.yml (description, columns, unique/not_null tests). The SQL must be one SELECT; it may use \
        {{ ref('model') }}, {{ source('source', 'table') }} and {{ config(...) }}. It is checked against the target \
        connection (EXPLAIN) before anything is written.
        """
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "project": ["type": "string", "minLength": 1, "description": "Folder of the dbt project (holding dbt_project.yml), relative to the workspace."],
            "name": ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 63, "description": "Model name."],
            "sql": ["type": "string", "minLength": 1, "maxLength": 200_000, "description": "One SELECT, with ref()/source() Jinja."],
            "description": ["type": "string", "maxLength": 20_000],
            "columns": [
                "type": "array",
                "items": [
                    "type": "object",
                    "properties": [
                        "name": ["type": "string", "minLength": 1],
                        "description": ["type": "string"],
                        "tests": ["type": "array", "items": ["type": "string", "enum": ["unique", "not_null"]]],
                    ],
                    "required": ["name"],
                    "additionalProperties": false,
                ],
            ],
            "materialized": ["type": "string", "enum": ["view", "table", "incremental", "ephemeral"]],
            "connection": ["type": "string", "minLength": 1, "description": "Connection the project builds into; the default when omitted."],
            "replace": ["type": "boolean", "default": false, "description": "Overwrite an existing model file."],
        ],
        "required": ["project", "name", "sql", "description"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.write

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let target = try SQLTarget(input: input, environment: call.environment)
        let workspace = try call.environment.requireWorkspace()
        let executingAs = target.executingAs(call, otherwise: "read-only")
        let rendered = try render(input, target: target)

        // The file tools' confinement: relative, no `..`, no link out of the workspace, not in `.git`.
        let files = try [workspace.confine(Self.modelPath(input), for: .write), workspace.confine(Self.schemaPath(input), for: .write)]
        var violation = files.lazy.compactMap(\.violation).first
        var permissions = files.map { Permission("dbt:write", on: $0.resource) }
        switch SQLGuardrail(dialect: target.dialect).check(rendered.sql, mode: .readOnly) {
        case .success(let classification):
            permissions += target.readPermissions(classification)
            if violation == nil, !Self.isQuery(classification) {
                violation = GuardrailViolation(guardrail: "dbt.model_select",
                                               reason: "a dbt model is one SELECT (or WITH … SELECT); this is \(classification.verb)",
                                               detail: classification.verb)
            }
        case .failure(let refusal):
            permissions += target.readPermissions(nil)
            violation = violation ?? GuardrailViolation(refusal)
        }
        return ToolPlan(permissions: permissions, risk: .write, violation: violation, executingAs: executingAs)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let target = try SQLTarget(input: input, environment: context.environment)
        let workspace = try context.environment.requireWorkspace()
        let model = input["name"]?.string ?? ""
        let project = input["project"]?.string ?? ""
        let modelFile = try workspace.confineAgain(Self.modelPath(input), for: .write, authorized: context.plan)
        guard case .inside(let projectFile) = try workspace.confine(project + "/dbt_project.yml", for: .read), projectFile.exists else {
            throw ToolError("not_found", "`\(project)` holds no dbt_project.yml; name the folder of an existing dbt project "
                + "(relative to the workspace), or create one first with `dbt init`")
        }
        let replace = input["replace"]?.bool ?? false
        if modelFile.exists, !replace {
            throw ToolError("invalid_input", "\(modelFile.resolved) exists; pass `replace: true` to overwrite it, or choose another name")
        }

        // The engine checks the rendered SQL first: an error here writes nothing.
        let rendered = try render(input, target: target)
        let sql = Self.stripTrailingSemicolons(rendered.sql)
        _ = try await target.reading(context) { reader in
            do {
                return try await reader.explain(sql)
            } catch {
                let message = (error as? ConnectorError)?.description ?? String(describing: error)
                throw ToolError("sql_error", "\(target.name) rejected the model's SQL: \(message); nothing was written, fix the SQL and retry")
            }
        }

        let entry = DbtModelEntry(
            name: model, description: input["description"]?.string ?? "",
            columns: (input["columns"]?.array ?? []).map { column in
                DbtModelEntry.Column(name: column["name"]?.string ?? "", description: column["description"]?.string,
                                     tests: column["tests"]?.array?.compactMap(\.string) ?? [])
            })
        let schemaFile = try workspace.confineAgain(Self.schemaPath(input), for: .write, authorized: context.plan)
        let merged = try DbtYAML.merge(entry, into: try Self.text(of: schemaFile, in: workspace))
        try Self.write(Self.modelFile(input), to: modelFile, in: workspace)
        try Self.write(merged.text, to: schemaFile, in: workspace)
        return ToolOutput([
            "model": .string(model), "model_path": .string(modelFile.resolved), "schema_path": .string(schemaFile.resolved),
            "relations": .array(rendered.relations.map { .string($0.description) }),
            "replaced_model": .bool(modelFile.exists), "replaced_schema_entry": .bool(merged.replaced),
        ])
    }

    private static func modelPath(_ input: JSONValue) -> String {
        (input["project"]?.string ?? "") + "/models/" + (input["name"]?.string ?? "") + ".sql"
    }

    private static func schemaPath(_ input: JSONValue) -> String {
        (input["project"]?.string ?? "") + "/models/schema.yml"
    }

    /// The file's text, or nil when it does not exist yet.
    private static func text(of file: WorkspacePath, in workspace: Workspace) throws(ToolError) -> String? {
        guard file.exists else { return nil }
        let (data, _, truncated) = try WorkspaceFiles.read(file, maxBytes: workspace.maxFileBytes)
        guard !truncated else {
            throw ToolError("too_large", "\(file.resolved) is larger than the workspace limit of \(workspace.maxFileBytes) bytes; split it into several YAML files")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidInput("\(file.resolved) is not UTF-8 text; fix or remove it, then retry")
        }
        return text
    }

    private static func write(_ text: String, to file: WorkspacePath, in workspace: Workspace) throws(ToolError) {
        _ = try WorkspaceFiles.write(file, data: Data(text.utf8), mode: .overwrite, maxFileBytes: workspace.maxFileBytes)
    }

    /// The SQL with `ref`/`source` replaced by the target's relations: a model is a table of that name
    /// in the connection's default schema; a source is `schema.table`.
    private func render(_ input: JSONValue, target: SQLTarget) throws(ToolError) -> DbtJinja.Rendered {
        let rendered = try DbtJinja.render(input["sql"]?.string ?? "") { relation throws(ToolError) in
            switch relation {
            case .model(let name): try SQLIdentifier.qualified(schema: target.defaultSchema, table: name, for: target.engine)
            case .source(let schema, let table): try SQLIdentifier.qualified(schema: schema, table: table, for: target.engine)
            }
        }
        if rendered.hasConfig, input["materialized"] != nil {
            throw .invalidInput("the SQL sets config(…) and `materialized` is given too; set materialized in one place")
        }
        return rendered
    }

    /// What the model file holds: a `config` line when `materialized` is given, then the SQL as written
    /// (Jinja kept), without trailing semicolons, which dbt cannot wrap.
    private static func modelFile(_ input: JSONValue) -> String {
        var text = ""
        if let materialized = input["materialized"]?.string { text += "{{ config(materialized='\(materialized)') }}\n\n" }
        return text + stripTrailingSemicolons(input["sql"]?.string ?? "") + "\n"
    }

    private static func stripTrailingSemicolons(_ sql: String) -> String {
        var text = Substring(sql)
        while let last = text.last, last.isWhitespace || last == ";" { text.removeLast() }
        return String(text)
    }

    /// A SELECT, possibly with WITH or as VALUES: what dbt can materialize.
    private static func isQuery(_ classification: SQLClassification) -> Bool {
        ["SELECT", "WITH", "VALUES", "TABLE"].contains(classification.verb.uppercased())
    }
}
