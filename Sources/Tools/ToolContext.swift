public import Connectors
public import Security

/// The rights a call runs with. Only ``ToolCallGuard`` makes one, after every check passed, so
/// no tool can be executed around the guard.
public struct ToolContext: Sendable {
    public let call: ToolCall
    /// The plan the guard authorized.
    public let plan: ToolPlan

    init(call: ToolCall, plan: ToolPlan) {
        self.call = call
        self.plan = plan
    }

    public var environment: ToolEnvironment { call.environment }
    public var caller: Principal { call.caller }

    /// The database role the caller maps to on `database`, if any.
    public func databaseRole(on database: SQLDatabase) -> String? {
        database.databaseRole(principal: call.caller.id, roles: call.caller.roles)
    }

    /// A read-only handle on a database, running as the caller's database role.
    public func sqlReader(_ database: SQLDatabase) async throws -> any SQLReader {
        try await database.reader(role: databaseRole(on: database))
    }

    /// A read-write handle, only when the authorized plan holds a write right on that connection:
    /// a tool that was authorized to read cannot obtain one.
    public func sqlWriter(_ database: SQLDatabase) async throws -> any SQLWriter {
        let name = database.definition.name
        let writes: Set<String> = ["sql:write", "sql:ddl", "sql:destructive"]
        guard plan.permissions.contains(where: { writes.contains($0.action) && ($0.resource == name || $0.resource.hasPrefix(name + ".")) }) else {
            throw ToolError("refused", "this call was authorized to read `\(name)` only; writes go through sql.execute")
        }
        return try await database.writer(role: databaseRole(on: database))
    }
}
