public import Agents
public import EventLog
import Foundation
public import Security
public import Tools

/// Agents as configured: the tools platform, the agent catalog and the model settings, ready to
/// make the runtime that runs them.
///
/// ```swift
/// let agents = try AgentPlatform(configuration: configuration, environment: ProcessInfo.processInfo.environment)
/// let runtime = try await agents.makeRuntime(log: log, runner: "serve")
/// ```
public struct AgentPlatform: Sendable {
    public let tools: ToolPlatform
    public let catalog: AgentCatalog
    public let models: ModelSettings
    public let approvalTimeout: Duration
    /// The policy the guard decides with: the configured one, plus the grants of agents it does not list.
    public let policy: Policy

    public init(configuration: ServeConfiguration, environment: [String: String], tools: ToolPlatform? = nil) throws {
        let tools = try tools ?? ToolPlatform(configuration: configuration)
        self.tools = tools
        do {
            catalog = try AgentCatalog.load(folder: configuration.agents)
            for name in catalog.names { try catalog.definitions[name]!.check(knownTools: tools.registry.names) }
        } catch {
            throw ConfigurationError(file: error.file, line: error.line, column: error.column, message: error.message)
        }
        var policy = tools.policy
        for definition in catalog.definitions.values.sorted(by: { $0.name < $1.name }) {
            do {
                policy = try policy.givingUnlisted(agent: definition.principalID, grants: definition.grants)
            } catch {
                throw ConfigurationError(file: definition.source, line: nil, column: nil, message: error.message)
            }
        }
        self.policy = policy
        models = configuration.llm.modelSettings(environment: environment)
        approvalTimeout = .milliseconds(Int(configuration.approvalTimeoutSeconds * 1000))
    }

    /// The guard agents call tools through: approvals wait on the log for `approvalTimeout`.
    public func makeGuard(log: any EventStore, loadedBy: String = "glassbox") async throws -> ToolCallGuard {
        try await tools.recordPolicy(in: log, loadedBy: loadedBy)
        return try await ToolCallGuard(registry: tools.registry, policy: policy, environment: tools.environment, log: log,
                                       approvals: ApprovalGates.log(log, timeout: approvalTimeout))
    }

    /// The runtime over `log`. `runner` is `serve` or `cli`: each resumes only its own runs after a crash.
    public func makeRuntime(log: any EventStore, runner: String, loadedBy: String = "glassbox") async throws -> AgentRuntime {
        let toolGuard = try await makeGuard(log: log, loadedBy: loadedBy)
        return AgentRuntime(log: log, toolGuard: toolGuard, catalog: catalog, models: models, runner: runner)
    }
}
