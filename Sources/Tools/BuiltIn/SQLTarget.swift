import Connectors
import Security

/// The database a data tool's call works on, and how its tables are named as policy resources:
/// `<connection>.<schema>.<table>`, an unqualified table being in the engine's default schema
/// (SQLite `main`, PostgreSQL `public`).
struct SQLTarget: Sendable {
    let database: SQLDatabase

    /// The connection named in the input's `connection`, or the environment's default.
    init(input: JSONValue, environment: ToolEnvironment) throws(ToolError) {
        database = try environment.database(named: input["connection"]?.string)
    }

    var name: String { database.definition.name }
    var engine: SQLEngine { database.definition.engine }

    var dialect: SQLDialect {
        switch engine {
        case .sqlite: .sqlite
        case .postgresql: .postgresql
        }
    }

    var defaultSchema: String {
        switch engine {
        case .sqlite: "main"
        case .postgresql: "public"
        }
    }

    /// The schema a table lives in when a statement or input names `schema` (or none).
    /// SQLite's schema names ignore case (`MAIN` is `main`), so its built-in ones are written in lower case.
    func schema(_ schema: String?) -> String {
        guard let schema, !schema.isEmpty else { return defaultSchema }
        if engine == .sqlite, ["main", "temp"].contains(schema.lowercased()) { return schema.lowercased() }
        return schema
    }

    /// `<connection>.<schema>.<table>`.
    func resource(schema: String?, table: String) -> String {
        "\(name).\(self.schema(schema)).\(table)"
    }

    /// `<connection>.<schema>.*`, or `<connection>.*` without a schema: every table in scope.
    func resource(schema: String?) -> String {
        guard let schema, !schema.isEmpty else { return "\(name).*" }
        return "\(name).\(self.schema(schema)).*"
    }

    /// The role the caller's statements run as on this connection, as the tool reports it.
    func executingAs(_ call: ToolCall, otherwise fallback: String) -> String {
        database.databaseRole(principal: call.caller.id, roles: call.caller.roles) ?? fallback
    }

    /// The `sql:read` rights a read statement needs: one per table it reads, or the whole
    /// connection when it names none (or could not be classified).
    func readPermissions(_ classification: SQLClassification?) -> [Permission] {
        let tables = classification?.tables ?? []
        guard !tables.isEmpty else { return [Permission("sql:read", on: resource(schema: nil))] }
        return unique(tables.map { Permission("sql:read", on: resource(schema: $0.schema, table: $0.name)) })
    }

    /// The rights a statement run by `sql.execute` needs: `sql:read` on tables it reads, `sql:write`
    /// on tables it writes (`sql:ddl` instead for DDL and DCL), and `sql:destructive` on every target
    /// when it is destructive. A statement without tables is checked against the whole connection.
    func executePermissions(_ classification: SQLClassification) -> [Permission] {
        let writeAction = switch classification.kind {
        case .ddl, .dcl: "sql:ddl"
        default: "sql:write"
        }
        let reads = classification.tables.filter { !$0.isWrite }
        var targets = classification.tables.filter(\.isWrite).map { resource(schema: $0.schema, table: $0.name) }
        if targets.isEmpty, classification.kind != .read { targets = [resource(schema: nil)] }
        var permissions = reads.map { Permission("sql:read", on: resource(schema: $0.schema, table: $0.name)) }
        permissions += targets.map { Permission(writeAction, on: $0) }
        if classification.isDestructive {
            permissions += targets.map { Permission("sql:destructive", on: $0) }
        }
        if permissions.isEmpty { permissions = [Permission("sql:read", on: resource(schema: nil))] }
        return unique(permissions)
    }

    /// Limits for one statement: the smaller of what the call asks and what the environment allows.
    func limits(_ environment: ToolEnvironment, maxRows requested: Int? = nil) -> QueryLimits {
        let rows = min(requested ?? environment.limits.maxRows, environment.limits.maxRows)
        return QueryLimits(maxRows: max(0, rows), maxBytes: environment.limits.maxOutputBytes,
                           timeout: environment.limits.queryTimeout)
    }

    private func unique(_ permissions: [Permission]) -> [Permission] {
        var seen = Set<Permission>()
        return permissions.filter { seen.insert($0).inserted }
    }
}

extension GuardrailViolation {
    /// The guard's form of the SQL classifier's refusal: its rule id, reason and what it saw.
    init(_ violation: SQLGuardrailViolation) {
        self.init(guardrail: violation.rule, reason: violation.reason, detail: violation.detail)
    }
}

extension SQLTarget {
    /// Runs `body` with a read-only handle under the caller's database role, and closes it afterwards.
    func reading<T: Sendable>(_ context: ToolContext, _ body: (any SQLReader) async throws -> T) async throws -> T {
        let reader = try await context.sqlReader(database)
        do {
            let value = try await body(reader)
            await reader.close()
            return value
        } catch {
            await reader.close()
            throw SQLTarget.toolError(error)
        }
    }

    /// Runs `body` with a read-write handle (only granted to a plan holding a write right), and closes it afterwards.
    func writing<T: Sendable>(_ context: ToolContext, _ body: (any SQLWriter) async throws -> T) async throws -> T {
        let writer = try await context.sqlWriter(database)
        do {
            let value = try await body(writer)
            await writer.close()
            return value
        } catch {
            await writer.close()
            throw SQLTarget.toolError(error)
        }
    }

    /// A connector's error as the tool error the guard records, with the engine's message and a kind
    /// saying what sort of failure it was.
    static func toolError(_ error: any Error) -> any Error {
        if error is ToolError { return error }
        if error is CancellationError { return ToolError("cancelled", "the statement was cancelled") }
        guard let connectorError = error as? ConnectorError else { return ToolError("sql_error", String(describing: error)) }
        let message = connectorError.description
        switch connectorError {
        case .timeout: return ToolError("timeout", message, retryable: true)
        case .cancelled: return ToolError("cancelled", message)
        case .unknownTable, .unknownSchema: return ToolError("not_found", message)
        case .refusedByEngine: return ToolError("refused", message)
        case .connectFailed, .closed: return ToolError("upstream_error", message, retryable: true)
        case .invalidURL, .fileNotFound, .roleUnavailable: return ToolError("configuration", message)
        case .sqlError, .notOneStatement: return ToolError("sql_error", message)
        }
    }
}
