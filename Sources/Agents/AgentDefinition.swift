import Foundation
public import Security
import Yams

/// What an agent is: its instructions, the model it prefers, the tools it may call, the rights it
/// asks for and the budget a run must stay within. Written in YAML:
///
/// ```yaml
/// name: analyst
/// description: Answers data questions with SQL and the catalog
/// instructions: |
///   You answer questions about the warehouse. Look tables up in the catalog before querying.
/// tools: [catalog.search, catalog.describe_table, sql.query]
/// grants:
///   - action: sql:read
///     resource: "warehouse.*"
/// budget: {max_steps: 12, max_tokens: 60000, max_cost_usd: 0.5, max_wall_seconds: 300}
/// ```
///
/// `provider` and `model` are optional: without them the configured model is used.
/// The agent's rights are never more than its caller's (the guard decides caller ∩ agent), and a
/// policy that lists `agent:<name>` decides the agent's side itself; `grants` apply only to agents
/// the policy does not list.
public struct AgentDefinition: Sendable, Equatable {
    public var name: String
    public var description: String
    public var instructions: String
    public var provider: String?
    public var model: String?
    public var temperature: Double?
    public var tools: [String]
    public var grants: [AgentGrant]
    public var budget: Budget
    /// Where the definition came from: a path, or `built-in`.
    public var source: String

    /// Limits a run must stay within; nil means unlimited.
    public struct Budget: Sendable, Equatable {
        public var maxSteps: Int?
        public var maxTokens: Int?
        public var maxCostUSD: Double?
        public var maxWallSeconds: Double?

        public init(maxSteps: Int? = nil, maxTokens: Int? = nil, maxCostUSD: Double? = nil, maxWallSeconds: Double? = nil) {
            self.maxSteps = maxSteps
            self.maxTokens = maxTokens
            self.maxCostUSD = maxCostUSD
            self.maxWallSeconds = maxWallSeconds
        }
    }

    public init(name: String, description: String = "", instructions: String, provider: String? = nil, model: String? = nil,
                temperature: Double? = nil, tools: [String], grants: [AgentGrant] = [], budget: Budget = Budget(), source: String = "code") {
        self.name = name
        self.description = description
        self.instructions = instructions
        self.provider = provider
        self.model = model
        self.temperature = temperature
        self.tools = tools
        self.grants = grants
        self.budget = budget
        self.source = source
    }

    /// The principal the agent acts as: `agent:<name>`.
    public var principalID: String { "agent:\(name)" }

    /// A version that changes whenever the definition does (first 12 hex digits of a hash of its fields).
    public var version: String {
        var text = [name, description, instructions, provider ?? "", model ?? "", temperature.map { "\($0)" } ?? ""].joined(separator: "\u{1F}")
        text += tools.joined(separator: ",") + grants.map { $0.actions.joined(separator: ",") + "@" + $0.resources.joined(separator: ",") }.joined(separator: ";")
        text += "\(budget.maxSteps ?? 0)/\(budget.maxTokens ?? 0)/\(budget.maxCostUSD ?? 0)/\(budget.maxWallSeconds ?? 0)"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(String(hash, radix: 16).suffix(12))
    }
}

/// A definition file that cannot be used, with where and what to change.
public struct AgentDefinitionError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public var description: String {
        var place = file
        if let line { place += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return "\(place): \(message)"
    }
}

extension AgentDefinition {
    static let keys = ["name", "description", "instructions", "provider", "model", "temperature", "tools", "grants", "budget"]
    static let budgetKeys = ["max_steps", "max_tokens", "max_cost_usd", "max_wall_seconds"]

    /// Reads a definition from YAML text; `source` names the file in errors.
    public init(yaml text: String, source: String) throws(AgentDefinitionError) {
        let reader = DefinitionReader(file: source)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw reader.error(nil, "the file is empty; start from `glassbox agents show analyst`") }
            root = node
        } catch let error as AgentDefinitionError {
            throw error
        } catch let error as YamlError {
            throw reader.syntax(error)
        } catch {
            throw reader.error(nil, "cannot read the YAML: \(error)")
        }
        guard let mapping = root.mapping else { throw reader.error(root, "an agent definition must be a mapping with name, instructions and tools") }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            guard Self.keys.contains(key) else {
                throw reader.error(keyNode, "unknown key `\(key)`; known keys: \(Self.keys.joined(separator: ", "))")
            }
            values[key] = value
        }
        func string(_ key: String, required: Bool) throws(AgentDefinitionError) -> String? {
            guard let node = values[key] else {
                if required { throw reader.error(root, "`\(key)` is missing; every agent needs a name, instructions and tools") }
                return nil
            }
            guard let scalar = node.scalar else { throw reader.error(node, "`\(key)` must be text") }
            return scalar.string
        }
        let name = try string("name", required: true)!
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw reader.error(values["name"], "`name` must be letters, digits, `-` or `_` (it becomes agent:\(name)), not `\(name)`")
        }
        let instructions = try string("instructions", required: true)!
        guard !instructions.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw reader.error(values["instructions"], "`instructions` is empty; tell the model what the agent is for")
        }
        var temperature: Double? = nil
        if let node = values["temperature"] {
            guard let value = node.scalar.flatMap({ Double($0.string) }), (0...2).contains(value) else {
                throw reader.error(node, "`temperature` must be a number from 0 to 2")
            }
            temperature = value
        }
        let provider = try string("provider", required: false)
        if let provider, !["openai", "anthropic", "scripted"].contains(provider) {
            throw reader.error(values["provider"], "unknown provider `\(provider)`; use openai (any OpenAI-compatible server), anthropic or scripted")
        }
        guard let toolsNode = values["tools"] else { throw reader.error(root, "`tools` is missing; list the tools the agent may call, e.g. [sql.query]") }
        guard let toolItems = toolsNode.sequence else { throw reader.error(toolsNode, "`tools` must be a list of tool names, e.g. [sql.query, catalog.search]") }
        var tools: [String] = []
        for item in toolItems {
            guard let tool = item.string, !tool.isEmpty else { throw reader.error(item, "each tool must be a tool name such as sql.query") }
            tools.append(tool)
        }
        var grants: [AgentGrant] = []
        if let node = values["grants"] {
            guard let items = node.sequence else { throw reader.error(node, "`grants` must be a list of {action, resource} mappings") }
            for item in items {
                guard let grant = item.mapping else { throw reader.error(item, "a grant must be a mapping like {action: sql:read, resource: \"warehouse.*\"}") }
                var actions: [String] = [], resources: [String] = []
                for (keyNode, value) in grant {
                    switch keyNode.string {
                    case "action": actions = try reader.strings(value, "action")
                    case "resource": resources = try reader.strings(value, "resource")
                    default: throw reader.error(keyNode, "unknown key `\(keyNode.string ?? "")` in a grant; use action and resource")
                    }
                }
                guard !actions.isEmpty, !resources.isEmpty else { throw reader.error(item, "a grant needs both `action` and `resource`") }
                grants.append(AgentGrant(actions: actions, resources: resources))
            }
        }
        var budget = Budget()
        if let node = values["budget"] {
            guard let items = node.mapping else { throw reader.error(node, "`budget` must be a mapping, e.g. {max_steps: 10, max_wall_seconds: 300}") }
            for (keyNode, value) in items {
                let key = keyNode.string ?? ""
                guard let number = value.scalar.flatMap({ Double($0.string) }), number > 0 else {
                    throw reader.error(value, "`budget.\(key)` must be a positive number")
                }
                switch key {
                case "max_steps": budget.maxSteps = Int(number)
                case "max_tokens": budget.maxTokens = Int(number)
                case "max_cost_usd": budget.maxCostUSD = number
                case "max_wall_seconds": budget.maxWallSeconds = number
                default: throw reader.error(keyNode, "unknown key `\(key)` in budget; known keys: \(Self.budgetKeys.joined(separator: ", "))")
                }
            }
        }
        self.init(name: name, description: try string("description", required: false) ?? "", instructions: instructions,
                  provider: provider, model: try string("model", required: false), temperature: temperature, tools: tools,
                  grants: grants, budget: budget, source: source)
    }

    /// Checks the definition against the tools that exist.
    public func check(knownTools: [String]) throws(AgentDefinitionError) {
        for tool in tools where !knownTools.contains(tool) {
            throw AgentDefinitionError(file: source, line: nil, column: nil,
                                       message: "agent \(name) lists the tool `\(tool)`, which does not exist; known tools: \(knownTools.joined(separator: ", "))")
        }
    }
}

/// Reads typed values out of YAML nodes with errors that carry line and column.
private struct DefinitionReader {
    let file: String

    func error(_ node: Node?, _ message: String) -> AgentDefinitionError {
        AgentDefinitionError(file: file, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    func syntax(_ error: YamlError) -> AgentDefinitionError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return AgentDefinitionError(file: file, line: mark.line, column: mark.column,
                                        message: "YAML syntax: \(problem); check the indentation and quoting around this place")
        default:
            return AgentDefinitionError(file: file, line: nil, column: nil, message: "cannot read the YAML: \(error)")
        }
    }

    func strings(_ node: Node, _ key: String) throws(AgentDefinitionError) -> [String] {
        if let scalar = node.scalar { return [scalar.string] }
        guard let items = node.sequence else { throw error(node, "`\(key)` must be text or a list of text") }
        var result: [String] = []
        for item in items {
            guard let text = item.string else { throw error(item, "`\(key)` must be text or a list of text") }
            result.append(text)
        }
        return result
    }
}
