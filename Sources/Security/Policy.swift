import Crypto
public import Foundation

/// Who may do what, loaded from a policy file: roles with grants, known principals and agents,
/// explicit denies, approval requirements and per-tool overrides.
///
/// Deny by default; an explicit deny beats any grant; every ``Decision`` names the rule that made it.
/// An agent acting for a caller gets only what both may do (``decide(caller:agent:action:resource:resourceAttributes:context:time:)``).
///
/// ```swift
/// let policy = try Policy.load(file: "policy.yaml")
/// let alice = policy.principal("user:alice")!
/// let decision = policy.decide(AccessRequest(principal: alice, action: "sql:read", resource: "warehouse.sales.orders"))
/// print(decision)   // ALLOW by read-warehouse: user:alice may sql:read on warehouse.sales.orders …
/// ```
///
/// See `examples/policy.yaml` for the file format.
public struct Policy: Sendable {
    /// Where the policy came from (a path), used in errors and reports.
    public let source: String
    /// SHA-256 of the file's text, lowercase hex: which policy made a decision.
    public let sha256: String

    /// Roles in declaration order: the order grants are tried in.
    var roles: [Role]
    var roleIndex: [String: Int]
    /// `principals:` and `agents:` entries by id.
    var entries: [String: PrincipalEntry]
    var denies: [DenyRule]
    var approvals: [ApprovalRule]
    var tools: [String: ToolPolicy]

    init(source: String, text: String, roles: [Role], entries: [String: PrincipalEntry], denies: [DenyRule],
         approvals: [ApprovalRule], tools: [String: ToolPolicy]) {
        self.source = source
        sha256 = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        self.roles = roles
        roleIndex = Dictionary(uniqueKeysWithValues: roles.enumerated().map { ($1.name, $0) })
        self.entries = entries
        self.denies = denies
        self.approvals = approvals
        self.tools = tools
    }

    /// A policy with no rules: every request is denied by `default-deny`.
    public static let empty = Policy(source: "<empty policy>", text: "", roles: [], entries: [:], denies: [],
                                     approvals: [], tools: [:])

    /// The number of roles.
    public var roleCount: Int { roles.count }

    /// The number of rules: grants (in roles, principals and agents), denies and approval requirements.
    public var ruleCount: Int {
        roles.reduce(0) { $0 + $1.grants.count } + entries.values.reduce(0) { $0 + $1.grants.count }
            + denies.count + approvals.count
    }

    /// Role names in declaration order.
    public var roleNames: [String] { roles.map(\.name) }

    /// Ids of the principals and agents the policy lists, sorted.
    public var principalIDs: [String] { entries.keys.sorted() }

    /// A principal listed under `principals:` or `agents:`, with the roles and attributes the policy gives it.
    public func principal(_ id: String) -> Principal? { entries[id]?.principal }

    /// The overrides for a tool (e.g. `sql.query`); nil fields mean the tool's own defaults apply.
    public func toolPolicy(_ tool: String) -> ToolPolicy { tools[tool] ?? ToolPolicy() }

    /// Reads and parses a policy file.
    public static func load(file path: String) throws(PolicyError) -> Policy {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PolicyError(file: path, line: nil, column: nil,
                              message: "no such policy file; check the path, or start from examples/policy.yaml")
        }
        guard !isDirectory.boolValue else {
            throw PolicyError(file: path, line: nil, column: nil, message: "this is a directory; give the path of the policy YAML file in it")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyError(file: path, line: nil, column: nil, message: "cannot read the policy file; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PolicyError(file: path, line: nil, column: nil, message: "the policy file is not UTF-8 text; save it as UTF-8")
        }
        return try Policy(yaml: text, source: path)
    }
}

/// One question to the policy: may this principal do this action on this resource, now?
public struct AccessRequest: Sendable {
    public var principal: Principal
    /// `<area>:<verb>`, e.g. `sql:read`.
    public var action: String
    /// e.g. `warehouse.sales.orders`, `workspace:models/orders.sql`, `api.github.com`.
    public var resource: String
    /// Facts about the resource conditions can test as `resource.<name>` (e.g. its sensitivity).
    public var resourceAttributes: [String: String]
    /// Facts about the request conditions can test as `context.<name>` (e.g. the environment).
    public var context: [String: String]
    /// When the action would happen; time windows are checked against it.
    public var time: Date

    public init(principal: Principal, action: String, resource: String, resourceAttributes: [String: String] = [:],
                context: [String: String] = [:], time: Date = Date()) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.resourceAttributes = resourceAttributes
        self.context = context
        self.time = time
    }
}

/// A human must approve before the action runs.
public struct ApprovalRequirement: Sendable, Hashable, CustomStringConvertible {
    /// The rule that asks for it: `approval:<id>` or `tool:<tool>`.
    public var rule: String
    /// Who may approve: `role:<role>` or a principal id.
    public var approver: String

    public init(rule: String, approver: String) {
        self.rule = rule
        self.approver = approver
    }

    public var description: String { "\(approver) (\(rule))" }
}

/// A tool's overrides from the policy's `tools:` section.
public struct ToolPolicy: Sendable {
    /// Replaces the tool's own rate limit.
    public var rateLimit: RateLimit?
    /// Every call of the tool needs this approval.
    public var approval: ApprovalRequirement?

    public init(rateLimit: RateLimit? = nil, approval: ApprovalRequirement? = nil) {
        self.rateLimit = rateLimit
        self.approval = approval
    }
}

/// A policy (or policy test file) that cannot be used: where, and how to fix it.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based, when the problem has a place in the file.
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int?, column: Int?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `policy.yaml:12:9: message`, or just the message when there is no file.
    public var description: String {
        guard !file.isEmpty else { return message }
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return "\(place): \(message)"
    }
}
