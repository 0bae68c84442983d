public import Connectors
import Foundation
import Yams

/// The databases agents work on: the `connections:` section of `glassbox.yaml`.
///
/// ```yaml
/// connections:
///   warehouse:
///     url: postgresql://glassbox@127.0.0.1:5432/warehouse
///     password_env: WAREHOUSE_PASSWORD        # or password_file: /run/secrets/warehouse
///     roles: {"user:alice": analyst_ro, "role:engineer": engineer_rw, default: readonly}
///   local:
///     url: sqlite:data/warehouse.db           # relative to this file's folder
/// ```
///
/// Passwords never appear in the file's URLs: `password_env` names an environment variable,
/// `password_file` a file whose content (without the trailing line break) is the password.
/// `roles` maps a principal id, `role:<name>` or `default` to the PostgreSQL role its
/// statements run as (see ``SQLDatabase/databaseRole(principal:roles:)``).
public struct ConnectionSettings: Sendable, Equatable {
    public var connections: [ConnectionDefinition] = []

    public init() {}

    /// The connection named `name`.
    public func connection(named name: String) -> ConnectionDefinition? {
        connections.first { $0.name == name }
    }

    /// Every connection by name, as tools take them.
    public var databases: [String: SQLDatabase] {
        Dictionary(connections.map { ($0.name, SQLDatabase($0)) }, uniquingKeysWith: { first, _ in first })
    }

    static let keys = ["url", "password_env", "password_file", "roles"]

    /// Applies the `connections:` mapping of `file`; passwords are resolved now, from `environment` or their files.
    mutating func apply(yaml node: Node, file: String, environment: [String: String]) throws {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node,
                                     message: "`connections` must be a mapping of names to connections, e.g. `warehouse: {url: postgresql://…}`")
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        for (nameNode, value) in mapping {
            guard let name = nameNode.string, !name.isEmpty,
                  name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ConfigurationError(file: file, node: nameNode,
                                         message: "connection names are letters, digits, `_` and `-`, e.g. `warehouse`")
            }
            guard connection(named: name) == nil else {
                throw ConfigurationError(file: file, node: nameNode, message: "two connections are named `\(name)`; give each a unique name")
            }
            connections.append(try Self.connection(name, value, file: file, folder: folder, environment: environment))
        }
    }

    private static func connection(_ name: String, _ node: Node, file: String, folder: URL,
                                   environment: [String: String]) throws -> ConnectionDefinition {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node, message: "connection `\(name)` must be a mapping with `url:`, e.g. `url: sqlite:warehouse.db`")
        }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            guard keys.contains(key) else {
                throw ConfigurationError(file: file, node: keyNode,
                                         message: "unknown key `connections.\(name).\(key)`; known keys: \(keys.joined(separator: ", "))")
            }
            values[key] = value
        }
        func setting(_ key: String) -> Setting? { values[key].map { Setting(key: "connections.\(name).\(key)", node: $0, file: file) } }

        guard let urlSetting = setting("url") else {
            throw ConfigurationError(file: file, node: node, message: "connection `\(name)` needs `url:` (sqlite:///path.db or postgresql://user@host:5432/db)")
        }
        var definition: ConnectionDefinition
        do {
            definition = try ConnectionDefinition(name: name, url: try urlSetting.string())
            if let path = definition.sqlitePath, !path.hasPrefix("/") {
                definition.url = ConnectionDefinition.sqliteURL(path: folder.appendingPathComponent(path).standardized.path)
            }
        } catch let error as ConnectorError {
            throw ConfigurationError(file: file, node: urlSetting.node, message: "connection `\(name)`: \(error)")
        }

        if values["password_env"] != nil && values["password_file"] != nil {
            throw ConfigurationError(file: file, node: node, message: "connection `\(name)`: give password_env or password_file, not both")
        }
        if let passwordEnv = setting("password_env") {
            let variable = try passwordEnv.string()
            guard let password = environment[variable], !password.isEmpty else {
                throw ConfigurationError(file: file, node: passwordEnv.node,
                                         message: "connection `\(name)`: the environment variable \(variable) named by password_env is not set; export it or use password_file")
            }
            definition.password = password
        }
        if let passwordFile = setting("password_file") {
            let given = try passwordFile.string()
            let path = given.hasPrefix("/") ? given : folder.appendingPathComponent(given).standardized.path
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(file: file, node: passwordFile.node,
                                         message: "connection `\(name)`: cannot read the password file \(path); check that it exists and is readable")
            }
            var password = Substring(text)
            while password.last == "\n" || password.last == "\r" { password.removeLast() }
            guard !password.isEmpty else {
                throw ConfigurationError(file: file, node: passwordFile.node, message: "connection `\(name)`: the password file \(path) is empty")
            }
            definition.password = String(password)
        }
        if definition.engine == .sqlite && definition.password != nil {
            throw ConfigurationError(file: file, node: node, message: "connection `\(name)`: SQLite files take no password; remove password_env/password_file")
        }

        if let rolesNode = values["roles"] {
            guard let pairs = rolesNode.mapping else {
                throw ConfigurationError(file: file, node: rolesNode,
                                         message: "`connections.\(name).roles` must map principals to database roles, e.g. `{\"user:alice\": analyst_ro, default: readonly}`")
            }
            if definition.engine == .sqlite {
                throw ConfigurationError(file: file, node: rolesNode, message: "connection `\(name)`: SQLite has no database roles; remove `roles:`")
            }
            for (key, value) in pairs {
                guard let principal = key.string, !principal.isEmpty else {
                    throw ConfigurationError(file: file, node: key, message: "role mappings are keyed by a principal id, `role:<name>` or `default`")
                }
                definition.roles[principal] = try Setting(key: "connections.\(name).roles.\(principal)", node: value, file: file).string()
            }
        }
        return definition
    }
}
