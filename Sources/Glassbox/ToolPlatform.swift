public import Connectors
public import EventLog
import Foundation
import GlassboxProto
public import Security
public import Tools

/// Tools as configured: the policy, the databases, the workspace and the registry, ready to
/// make the guard every call goes through.
///
/// ```swift
/// let platform = try ToolPlatform(configuration: configuration)
/// let guard = try await platform.makeGuard(log: log)
/// ```
public struct ToolPlatform: Sendable {
    public let policy: Policy
    public let environment: ToolEnvironment
    public let registry: ToolRegistry
    /// Why tools may not work as someone expects (no policy, no workspace), for a note at start-up.
    public let warnings: [String]

    public init(configuration: ServeConfiguration, registry: ToolRegistry = .builtIn()) throws {
        var warnings: [String] = []
        if let file = configuration.policy {
            do {
                policy = try Policy.load(file: file)
            } catch {
                throw ConfigurationError(file: error.file, line: error.line, column: error.column, message: error.message)
            }
        } else {
            policy = .empty
            warnings.append("no policy is configured, so every tool call is denied; set `policy: FILE` in glassbox.yaml or pass --policy (see examples/policy.yaml)")
        }
        var databases: [String: SQLDatabase] = [:]
        for definition in configuration.connections.connections {
            databases[definition.name] = SQLDatabase(definition)
        }
        var workspace: Workspace? = nil
        if let folder = configuration.workspace {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigurationError(file: "workspace", line: nil, column: nil,
                                         message: "the workspace folder \(folder) does not exist; create it (mkdir -p \(folder)) or change `workspace:`")
            }
            workspace = Workspace(root: folder)
        }
        environment = ToolEnvironment(databases: databases, workspace: workspace, http: configuration.tools.http,
                                      email: configuration.tools.email, limits: configuration.tools.limits,
                                      context: configuration.tools.context)
        self.registry = registry
        self.warnings = warnings
    }

    /// The guard over `log`. Records `policy.loaded` first when this policy is not the one the log last saw.
    public func makeGuard(log: any EventStore, approvals: any ApprovalGate = ApprovalGates.refuse, loadedBy: String = "glassbox")
        async throws -> ToolCallGuard {
        try await recordPolicy(in: log, loadedBy: loadedBy)
        return try await ToolCallGuard(registry: registry, policy: policy, environment: environment, log: log, approvals: approvals)
    }

    func recordPolicy(in log: any EventStore, loadedBy: String) async throws {
        guard policy.sha256 != Policy.empty.sha256 else { return }
        let last = try await log.events(EventQuery(filter: EventFilter(types: ["policy.loaded"]), limit: 1, newestFirst: true)).first
        if let last, last.data.contains("\"sha256\":\"\(policy.sha256)\"") { return }
        var payload = Glassbox_V1_PolicyLoaded()
        payload.source = policy.source
        payload.sha256 = policy.sha256
        payload.roles = UInt32(policy.roleCount)
        payload.rules = UInt32(policy.ruleCount)
        payload.loadedBy = loadedBy
        _ = try await log.append([try EventDraft(payload, actor: loadedBy)], to: "policy", expectedVersion: .any)
    }
}
