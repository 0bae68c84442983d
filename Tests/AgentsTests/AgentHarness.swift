@testable import Agents
import Connectors
import EventLog
import Foundation
import GlassboxTesting
import Security
import Testing
import Tools

/// A runtime over a fresh log, a SQLite warehouse with an `orders` table, and a fake provider
/// server speaking `wire` over loopback.
struct AgentHarness {
    static let apiKey = "sk-test-0123456789abcdefghijklmnop"

    let directory: TemporaryDirectory
    let log: SQLiteEventLog
    let server: FakeLLMServer
    let policy: Policy
    let environment: ToolEnvironment
    let models: ModelSettings
    let catalog: AgentCatalog
    var runtime: AgentRuntime

    /// The test agent: SQL tools, grants from its definition (the test policy does not list it).
    static let agent = AgentDefinition(
        name: "tester", description: "test agent", instructions: "Answer with SQL.",
        tools: ["sql.query", "sql.execute", "catalog.list_tables"],
        grants: [AgentGrant(actions: ["*"], resources: ["*"])], budget: .init(maxSteps: 10))

    static let policyYAML = """
        version: 1
        roles:
          worker:
            grants:
              - {action: "*", resource: "*"}
              - {action: "sql:destructive", resource: "*"}
          admin:
            grants:
              - {action: "*", resource: "*"}
        principals:
          user:alice: {roles: [worker]}
          user:sam: {roles: [admin]}
        approvals:
          - {id: writes-need-admin, action: "sql:write", resource: "*", approver: "role:admin"}
        """

    static func make(wire: FakeLLMServer.Wire = .openAI, policy yaml: String = policyYAML, stream: Bool = true,
                     databases: [String: SQLDatabase]? = nil, budget: AgentDefinition.Budget? = nil,
                     directory: TemporaryDirectory? = nil) async throws -> AgentHarness {
        let directory = try directory ?? TemporaryDirectory(prefix: "glassbox-agents")
        let log = try SQLiteEventLog(path: directory.path("log.db"), options: .init(durability: .normal))
        let server = try await FakeLLMServer.start(wire: wire)
        var databases = databases
        if databases == nil {
            let warehouse = try ConnectionDefinition(name: "warehouse", url: "sqlite:" + directory.path("warehouse.db"))
            let database = SQLDatabase(warehouse)
            if !FileManager.default.fileExists(atPath: directory.path("warehouse.db")) {
                let writer = try await database.writer(role: nil)
                _ = try await writer.executeBatch(["CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)",
                                                   "INSERT INTO orders VALUES (1, 10.5), (2, 20), (3, 7.25)",
                                                   "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
                                                   "INSERT INTO customers VALUES (1, 'Ada')"], timeout: .seconds(10))
                await writer.close()
            }
            databases = ["warehouse": database]
        }
        let environment = ToolEnvironment(databases: databases ?? [:])
        var agent = Self.agent
        if let budget { agent.budget = budget }
        let catalog = AgentCatalog([agent])
        let policy = try Policy(yaml: yaml, source: "test-policy.yaml").givingUnlisted(agent: agent.principalID, grants: agent.grants)
        let provider = wire == .openAI ? "openai" : "anthropic"
        let keyVariable = wire == .openAI ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"
        let models = ModelSettings(provider: provider, model: "test-model", baseURL: server.baseURL,
                                   prices: PriceTable(["test-model": ModelPrice(input: 1, output: 2)]),
                                   retry: RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(20)),
                                   timeout: .seconds(20), idleTimeout: .seconds(20), stream: stream,
                                   environment: [keyVariable: apiKey])
        let runtime = try await Self.runtime(log: log, policy: policy, environment: environment, catalog: catalog, models: models)
        return AgentHarness(directory: directory, log: log, server: server, policy: policy, environment: environment, models: models,
                            catalog: catalog, runtime: runtime)
    }

    static func runtime(log: SQLiteEventLog, policy: Policy, environment: ToolEnvironment, catalog: AgentCatalog,
                        models: ModelSettings) async throws -> AgentRuntime {
        let toolGuard = try await ToolCallGuard(registry: .builtIn(), policy: policy, environment: environment, log: log,
                                                approvals: ApprovalGates.log(log, timeout: .seconds(60)))
        let runtime = AgentRuntime(log: log, toolGuard: toolGuard, catalog: catalog, models: models, runner: "serve",
                                   thoughtInterval: .milliseconds(250))
        await runtime.watchStopRequests()
        return runtime
    }

    /// A new runtime over the same log, as after a restart.
    mutating func restart(models: ModelSettings? = nil) async throws {
        await runtime.shutdown()
        runtime = try await Self.runtime(log: log, policy: policy, environment: environment, catalog: catalog, models: models ?? self.models)
    }

    func start(_ task: String = "How many orders are there?") async throws -> String {
        try await runtime.start(agent: "tester", task: task, caller: "user:alice").runID
    }

    func events(_ runID: String) async throws -> [Event] {
        try await log.events(EventQuery(filter: EventFilter(stream: "run/\(runID)"), limit: 10_000))
    }

    func types(_ runID: String) async throws -> [String] {
        try await events(runID).map(\.type)
    }

    /// Waits until an event of `type` is in the run's stream (at most 20 s) and returns it.
    func waitFor(_ type: String, in runID: String) async throws -> Event {
        let stream = log.subscribe(after: 0, filter: EventFilter(stream: "run/\(runID)", types: [type]))
        return try await withThrowingTaskGroup(of: Event?.self) { group in
            group.addTask { try await stream.first { _ in true } }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw HarnessError("no \(type) in run \(runID) within 20 s; it has \(try await types(runID))") }
            return first
        }
    }

    func payload(_ event: Event) -> JSONValue { (try? JSONValue(parsing: event.data)) ?? .null }

    func close() async {
        await runtime.shutdown()
        try? await server.shutdown()
        try? log.close()
        directory.remove()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension FakeLLMServer.FakeToolCall {
    static func sql(_ id: String, _ sql: String, tool: String = "sql.query") -> Self {
        .init(id: id, name: tool, arguments: JSONValue.object(["connection": "warehouse", "sql": .string(sql)]).jsonText)
    }
}
