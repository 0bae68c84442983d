import EventLog
import Foundation
import GlassboxTesting
import Security
@testable import Tools

/// A guard over a fresh log in a temporary directory, with a policy from YAML.
struct ToolHarness {
    let directory: TemporaryDirectory
    let log: SQLiteEventLog
    let `guard`: ToolCallGuard
    let policy: Policy

    /// Calls `tool` as the principal `principalID` (and `agent`), resolving both through the policy.
    func call(_ tool: String, _ input: JSONValue, as principalID: String, agent: String? = nil) async -> ToolCallResult {
        let caller = try! policy.principal(principalID) ?? Principal(parsing: principalID)
        let agentPrincipal = try! agent.map { try policy.principal($0) ?? Principal(parsing: $0) }
        return await self.guard.call(tool, input: input, caller: caller, agent: agentPrincipal)
    }

    /// The types of the call's events, in order.
    func eventTypes(of callID: String) async throws -> [String] {
        try await events(of: callID).map(\.type)
    }

    func events(of callID: String) async throws -> [Event] {
        try await log.events(EventQuery(filter: EventFilter(stream: "tool/\(callID)"), limit: 100))
    }

    func remove() {
        try? log.close()
        directory.remove()
    }
}

/// Makes a harness. `tools` defaults to the built-in tools.
func makeHarness(policy yaml: String, environment: ToolEnvironment = ToolEnvironment(), tools: [any Tool]? = nil,
                 approvals: any ApprovalGate = ApprovalGates.refuse,
                 now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                 directory: TemporaryDirectory? = nil) async throws -> ToolHarness {
    let directory = try directory ?? TemporaryDirectory(prefix: "glassbox-tools")
    let log = try SQLiteEventLog(path: directory.path("log.db"), options: .init(durability: .normal))
    let policy = try Policy(yaml: yaml, source: "test-policy.yaml")
    let registry = try tools.map { try ToolRegistry($0) } ?? ToolRegistry.builtIn()
    let guardian = try await ToolCallGuard(registry: registry, policy: policy, environment: environment, log: log,
                                           approvals: approvals, now: now)
    return ToolHarness(directory: directory, log: log, guard: guardian, policy: policy)
}

/// A policy that lets `user:alice` do everything (but explicit-only actions).
let allowAllPolicy = """
    version: 1
    roles:
      worker:
        grants:
          - {action: "*", resource: "*"}
    principals:
      user:alice: {roles: [worker]}
    """
