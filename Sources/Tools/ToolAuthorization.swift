public import Foundation
public import Security

/// Steps 1 and 2 of the guard, with no I/O: validate the input, plan the call, and decide every
/// permission it needs for the caller ∩ the agent. The guard records what this decides; a replay
/// and `glassbox whatif` call it with another policy to see what that policy would have decided.
public enum ToolAuthorization: Sendable {
    /// Refused, at `stage` (`validation` or `authorization`), by `rule`.
    case denied(stage: String, rule: String, reason: String, action: String, resource: String)
    /// Allowed by `rules`; `approval` when a human must decide first.
    case allowed(plan: ToolPlan, rules: [String], approval: ApprovalRequirement?)

    public var isAllowed: Bool { if case .allowed = self { return true }; return false }

    /// Decides `input` for `toolName` as the guard does. `allowedTools` limits the tools (an agent's list).
    public static func decide(_ toolName: String, input: JSONValue, call: ToolCall, registry: ToolRegistry, policy: Policy,
                              time: Date, allowedTools: Set<String>? = nil) -> ToolAuthorization {
        guard let tool = registry[toolName], allowedTools?.contains(toolName) ?? true else {
            let known = (allowedTools.map { $0.sorted() } ?? registry.names).joined(separator: ", ")
            return .denied(stage: "validation", rule: "tool.unknown", reason: "there is no tool named `\(toolName)`; known tools: \(known)",
                           action: "", resource: "")
        }
        let problems = tool.inputSchema.validate(input)
        if !problems.isEmpty {
            return .denied(stage: "validation", rule: "input.schema",
                           reason: "the input does not match the schema of \(toolName): " + problems.joined(separator: "; "), action: "", resource: "")
        }
        let plan: ToolPlan
        do {
            plan = try tool.plan(input, for: call)
        } catch {
            return .denied(stage: "validation", rule: "input.\(error.kind)", reason: error.message, action: "", resource: "")
        }
        guard !plan.permissions.isEmpty else {
            return .denied(stage: "authorization", rule: "tool.no_permissions",
                           reason: "\(toolName) declared no permission for this call, so it cannot be authorized", action: "", resource: "")
        }
        var rules: [String] = []
        var approval: ApprovalRequirement? = nil
        for permission in plan.permissions {
            let decision = policy.decide(caller: call.caller, agent: call.agent, action: permission.action, resource: permission.resource,
                                         resourceAttributes: permission.resourceAttributes, context: call.environment.context, time: time)
            guard decision.allowed else {
                return .denied(stage: "authorization", rule: decision.rule, reason: decision.reason, action: permission.action,
                               resource: permission.resource)
            }
            if !rules.contains(decision.rule) { rules.append(decision.rule) }
            approval = approval ?? decision.approval
        }
        let toolPolicy = policy.toolPolicy(toolName)
        if approval == nil, let required = toolPolicy.approval { approval = required }
        if approval == nil, tool.needsApproval || plan.approvalReason != nil {
            approval = ApprovalRequirement(rule: plan.approvalReason != nil ? "guardrail:approval" : "tool:\(toolName)", approver: "role:admin")
        }
        return .allowed(plan: plan, rules: rules, approval: approval)
    }
}
