import Dispatch
import Foundation

/// One named connection; cheap to copy. Opens handles whose rights are carried by their type:
/// an ``SQLReader`` cannot write, only an ``SQLWriter`` can.
///
/// ```swift
/// let database = SQLDatabase(try ConnectionDefinition(name: "local", url: "sqlite:///var/data/warehouse.db"))
/// let reader = try await database.reader(role: database.databaseRole(principal: "user:alice", roles: ["analyst"]))
/// let tables = try await reader.listTables(schema: nil)
/// await reader.close()
/// ```
///
/// Every handle holds its own connection, opened here and released by `close()`.
public struct SQLDatabase: Sendable {
    public var definition: ConnectionDefinition

    public init(_ definition: ConnectionDefinition) {
        self.definition = definition
    }

    /// A read-only handle. SQLite: the file opened read-only (`SQLITE_OPEN_READONLY`) with an authorizer
    /// that refuses writes, ATTACH/DETACH, PRAGMA writes and `load_extension`; `role` is ignored (SQLite
    /// has no roles). PostgreSQL: `SET ROLE role` (when given), then every statement in
    /// `BEGIN READ ONLY` with a transaction-local `statement_timeout`.
    public func reader(role: String?) async throws -> any SQLReader {
        switch try ConnectionEndpoint(url: definition.url) {
        case .sqlite(let path):
            guard FileManager.default.fileExists(atPath: path) else {
                throw ConnectorError.fileNotFound(connection: definition.name, path: path)
            }
            let name = definition.name
            return try await Self.offload { () throws(ConnectorError) in try SQLiteReader(path: path, connectionName: name) }
        case .postgres(let endpoint):
            return PostgresReader(session: try await PostgresSession.open(
                connectionName: definition.name, endpoint: endpoint, password: definition.password, role: role))
        }
    }

    /// A read-write handle. SQLite: the file is created when missing; the authorizer still refuses
    /// ATTACH/DETACH (and so VACUUM INTO), PRAGMA writes, transaction control and extension loading.
    /// PostgreSQL: `SET ROLE role`, each call in `BEGIN READ WRITE … COMMIT`.
    public func writer(role: String?) async throws -> any SQLWriter {
        switch try ConnectionEndpoint(url: definition.url) {
        case .sqlite(let path):
            let name = definition.name
            return try await Self.offload { () throws(ConnectorError) in try SQLiteWriter(path: path, connectionName: name) }
        case .postgres(let endpoint):
            return PostgresWriter(session: try await PostgresSession.open(
                connectionName: definition.name, endpoint: endpoint, password: definition.password, role: role))
        }
    }

    /// The database role for a principal per `definition.roles`: its exact id, then `role:<r>` for
    /// each of its roles in order, then `default`; nil when none applies.
    public func databaseRole(principal: String, roles: [String]) -> String? {
        if let role = definition.roles[principal] { return role }
        for role in roles {
            if let mapped = definition.roles["role:" + role] { return mapped }
        }
        return definition.roles["default"]
    }

    /// Opening an SQLite file may wait on a lock; that waits on a thread of its own, not the cooperative pool.
    private static func offload<T: Sendable>(_ work: @escaping @Sendable () throws(ConnectorError) -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { () throws(ConnectorError) -> T in try work() })
            }
        }
    }
}
