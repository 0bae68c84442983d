public import Security

/// How much harm a call can do; shown to approvers and recorded in `tool.requested`.
public enum RiskClass: String, Sendable, Comparable, CaseIterable {
    case read, write, destructive

    public static func < (a: RiskClass, b: RiskClass) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One right a call needs: an action on a resource, e.g. `sql:read` on `warehouse.sales.orders`.
public struct Permission: Sendable, Hashable, CustomStringConvertible {
    public var action: String
    public var resource: String
    /// Facts about the resource that policy conditions may test (`resource.sensitivity`).
    public var resourceAttributes: [String: String]

    public init(_ action: String, on resource: String, attributes: [String: String] = [:]) {
        self.action = action
        self.resource = resource
        self.resourceAttributes = attributes
    }

    public var description: String { "\(action) on \(resource)" }
}

/// A refusal by a check in code (e.g. SQL classified as a write in a read-only tool).
public struct GuardrailViolation: Sendable, Hashable, CustomStringConvertible {
    /// Stable rule id, e.g. `sql.read_only` or `file.outside_workspace`.
    public var guardrail: String
    public var reason: String
    /// What the guardrail saw, e.g. the statement's classification.
    public var detail: String

    public init(guardrail: String, reason: String, detail: String = "") {
        self.guardrail = guardrail
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(guardrail): \(reason)" }
}

/// What a call needs, worked out from its input before anything runs.
public struct ToolPlan: Sendable {
    /// Every right the call needs; the guard authorizes each one. Never empty.
    public var permissions: [Permission]
    /// The call's risk; may be higher than the tool's (e.g. `DELETE` without `WHERE`).
    public var risk: RiskClass
    /// Set when a guardrail refuses the input; the guard records it after authorization and rate limiting.
    public var violation: GuardrailViolation?
    /// Why this particular call needs a human's approval whatever the policy says (e.g. destructive SQL).
    public var approvalReason: String?
    /// The identity the tool will run as, e.g. a database role; recorded in `tool.started`.
    public var executingAs: String

    public init(permissions: [Permission], risk: RiskClass, violation: GuardrailViolation? = nil,
                approvalReason: String? = nil, executingAs: String = "") {
        self.permissions = permissions
        self.risk = risk
        self.violation = violation
        self.approvalReason = approvalReason
        self.executingAs = executingAs
    }
}

/// A tool's result. The guard caps and redacts it before it is returned or recorded.
public struct ToolOutput: Sendable {
    public var value: JSONValue
    /// Rows returned, for tools that return rows.
    public var rows: Int?

    public init(_ value: JSONValue, rows: Int? = nil) {
        self.value = value
        self.rows = rows
    }
}

/// A failure while planning or running a call.
public struct ToolError: Error, Sendable, CustomStringConvertible {
    /// Low-cardinality kind recorded as `error_type`: `invalid_input`, `not_found`, `sql_error`, `timeout`,
    /// `cancelled`, `io_error`, `refused`, `upstream_error`, `too_large`, `configuration`.
    public var kind: String
    public var message: String
    public var retryable: Bool

    public init(_ kind: String, _ message: String, retryable: Bool = false) {
        self.kind = kind
        self.message = message
        self.retryable = retryable
    }

    public static func invalidInput(_ message: String) -> ToolError { ToolError("invalid_input", message) }
    public static func configuration(_ message: String) -> ToolError { ToolError("configuration", message) }

    public var description: String { message }
}

/// A tool that is defined wrongly (a programming or configuration error, found at registration).
public struct ToolDefinitionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A capability agents can use. Tools are called only through ``ToolCallGuard``: `execute` needs a
/// ``ToolContext``, which only the guard can make, after every check passed.
///
/// ```swift
/// struct Echo: Tool {
///     let name = "echo"
///     let description = "Returns its input."
///     let inputSchema = try! JSONSchema(["type": "object"])
///     let risk = RiskClass.read
///     func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
///         ToolPlan(permissions: [Permission("echo:use", on: "echo")], risk: .read)
///     }
///     func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput { ToolOutput(input) }
/// }
/// ```
public protocol Tool: Sendable {
    /// Dotted name, e.g. `sql.query`.
    var name: String { get }
    /// What it does, for people and for the model that chooses tools.
    var description: String { get }
    var inputSchema: JSONSchema { get }
    /// The risk of a typical call; a plan may raise it.
    var risk: RiskClass { get }
    /// Calls per principal; a policy's `tools:` entry overrides it. Nil: no limit.
    var rateLimit: RateLimit? { get }
    /// Every call needs a human's approval, whatever the policy says.
    var needsApproval: Bool { get }
    /// Works out the rights the call needs and runs the tool's guardrails, without side effects.
    /// Called only with input that passed `inputSchema`.
    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan
    /// Does the work, with the rights in `context`.
    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput
}

extension Tool {
    public var rateLimit: RateLimit? { RateLimit(capacity: 60, period: .seconds(60)) }
    public var needsApproval: Bool { false }
}
