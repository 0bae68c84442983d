public import EventLog
public import Foundation
import GlassboxProto
public import Security

/// The one path every tool call takes, from any caller: validate the input against the tool's
/// schema → authorize (the caller's grants ∩ the agent's) → rate limit → guardrails → a human's
/// approval where required → execute with the caller's rights → cap and redact the output.
/// Each step is an event on the call's stream, appended before the step it allows, so that no
/// tool runs before its authorization is in the log.
///
/// ```swift
/// let guard = try await ToolCallGuard(registry: .builtIn(), policy: policy, environment: environment, log: log)
/// let result = await guard.call("sql.query", input: ["sql": "SELECT count(*) FROM orders"],
///                               caller: try Principal(parsing: "user:alice"))
/// ```
public actor ToolCallGuard {
    public nonisolated let registry: ToolRegistry
    public nonisolated let policy: Policy
    public nonisolated let environment: ToolEnvironment
    let log: any EventStore
    let approvals: any ApprovalGate
    /// Seconds since 1970; injectable so rate-limit tests control time.
    let now: @Sendable () -> Double
    var limiter = RateLimiter()

    /// Where a call belongs when it is part of something larger (an agent run).
    public struct Placement: Sendable {
        /// Appends the call's events to `run/<runID>` instead of its own `tool/<callID>` stream.
        public var runID: String?
        /// The parent span; the call's span becomes its child.
        public var parent: TraceContext?
        /// The LLM call whose answer asked for this tool call.
        public var llmCallID: String?

        public init(runID: String? = nil, parent: TraceContext? = nil, llmCallID: String? = nil) {
            self.runID = runID
            self.parent = parent
            self.llmCallID = llmCallID
        }
    }

    /// Creates the guard and rebuilds rate-limit state from the log, so a restart does not reset limits.
    public init(registry: ToolRegistry, policy: Policy, environment: ToolEnvironment, log: any EventStore,
                approvals: any ApprovalGate = ApprovalGates.refuse,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) async throws {
        self.registry = registry
        self.policy = policy
        self.environment = environment
        self.log = log
        self.approvals = approvals
        self.now = now
        try await restoreRateLimits()
    }

    /// Runs `toolName` with `input` for `caller` (and `agent` acting for them) through every check.
    /// Never throws: refusals and failures are results, each recorded in the log.
    public func call(_ toolName: String, input: JSONValue, caller: Principal, agent: Principal? = nil,
                     placement: Placement = Placement()) async -> ToolCallResult {
        let callID = UUID.version7().uuidString.lowercased()
        var recorder = CallRecorder(
            log: log, callID: callID, tool: toolName,
            stream: placement.runID.map { "run/\($0)" } ?? "tool/\(callID)",
            actor: agent.map { "\($0.id)@\(caller.id)" } ?? caller.id,
            trace: placement.parent?.newChild() ?? TraceContext.newTrace(), now: now)
        let call = ToolCall(callID: callID, caller: caller, agent: agent, environment: environment)
        let (recordedInput, _) = SecretRedactor.redact(input)

        guard let tool = registry[toolName] else {
            recorder.requested(input: recordedInput, risk: "", principal: caller.id, llmCallID: placement.llmCallID)
            let known = registry.names.joined(separator: ", ")
            return await recorder.deny(stage: "validation", rule: "tool.unknown",
                                       reason: "there is no tool named `\(toolName)`; known tools: \(known)", caller: caller)
        }
        recorder.requested(input: recordedInput, risk: tool.risk.rawValue, principal: caller.id, llmCallID: placement.llmCallID)

        // 1. Validate the input against the schema, then let the tool work out what it needs.
        let problems = tool.inputSchema.validate(input)
        if !problems.isEmpty {
            return await recorder.deny(stage: "validation", rule: "input.schema",
                                       reason: "the input does not match the schema of \(toolName): " + problems.joined(separator: "; "),
                                       caller: caller)
        }
        let plan: ToolPlan
        do {
            plan = try tool.plan(input, for: call)
        } catch {
            return await recorder.deny(stage: "validation", rule: "input.\(error.kind)", reason: error.message, caller: caller)
        }
        guard !plan.permissions.isEmpty else {
            return await recorder.deny(stage: "authorization", rule: "tool.no_permissions",
                                       reason: "\(toolName) declared no permission for this call, so it cannot be authorized", caller: caller)
        }

        // 2. Authorize every right the call needs, as the caller and as the agent.
        let moment = now()
        var allowRules: [String] = []
        var approval: ApprovalRequirement? = nil
        for permission in plan.permissions {
            let decision = policy.decide(caller: caller, agent: agent, action: permission.action, resource: permission.resource,
                                         resourceAttributes: permission.resourceAttributes, context: environment.context,
                                         time: Date(timeIntervalSince1970: moment))
            guard decision.allowed else {
                return await recorder.deny(stage: "authorization", rule: decision.rule, reason: decision.reason, caller: caller,
                                           action: permission.action, resource: permission.resource)
            }
            if !allowRules.contains(decision.rule) { allowRules.append(decision.rule) }
            approval = approval ?? decision.approval
        }
        let toolPolicy = policy.toolPolicy(toolName)
        if approval == nil, let required = toolPolicy.approval { approval = required }
        if approval == nil, tool.needsApproval || plan.approvalReason != nil {
            approval = ApprovalRequirement(rule: plan.approvalReason != nil ? "guardrail:approval" : "tool:\(toolName)", approver: "role:admin")
        }
        recorder.authorized(permissions: plan.permissions, rules: allowRules, principal: caller.id, approvalRequired: approval != nil)

        // 3. Rate limit, per caller and tool.
        if let limit = toolPolicy.rateLimit ?? tool.rateLimit {
            if case .refused(let retryAfter) = limiter.take(key: Self.rateKey(caller.id, toolName), limit: limit, now: moment) {
                var result = await recorder.deny(
                    stage: "rate_limit", rule: toolPolicy.rateLimit != nil ? "policy:tools.\(toolName).rate_limit" : "tool:\(toolName).rate_limit",
                    reason: "\(caller.id) may call \(toolName) \(limit.capacity) times per \(limit.period.formattedSeconds); try again in \((retryAfter * 10).rounded(.up) / 10) s",
                    caller: caller)
                result.retryAfter = retryAfter
                return result
            }
        }

        // 4. Guardrails: checks in code, whatever any prompt said.
        if let violation = plan.violation {
            recorder.guardrailBlocked(violation)
            return await recorder.deny(stage: "guardrail", rule: violation.guardrail, reason: violation.reason, caller: caller)
        }

        // 5. A human decides, when the policy, the tool or the call asks for it.
        var approvalID: String? = nil
        if let approval {
            let id = UUID.version7().uuidString.lowercased()
            approvalID = id
            let reason = plan.approvalReason ?? "\(toolName) needs approval by \(approval.approver) (rule \(approval.rule))"
            recorder.approvalRequested(id: id, reason: reason, approver: approval.approver, input: recordedInput, runID: placement.runID)
            guard let requestedAt = await recorder.flush() else { return recorder.logFailure() }
            let request = ApprovalRequest(approvalID: id, callID: callID, tool: toolName, stream: recorder.stream, requestedAt: requestedAt,
                                          approver: approval.approver, reason: reason, caller: caller)
            let decision = await approvals.decide(request)
            switch decision {
            case .granted(let by, let comment, let recorded):
                if let refusal = approverRefusal(by: by, approver: approval.approver, caller: caller) {
                    var result = await recorder.deny(stage: "approval", rule: approval.rule, reason: refusal, caller: caller)
                    result.approvalID = id
                    return result
                }
                if !recorded { recorder.approvalDecided(id: id, granted: true, by: by, comment: comment) }
            case .rejected(let by, let comment, let recorded):
                if !recorded { recorder.approvalDecided(id: id, granted: false, by: by, comment: comment) }
                var result = await recorder.deny(stage: "approval", rule: approval.rule,
                                                 reason: "\(by) rejected the call" + (comment.isEmpty ? "" : ": \(comment)"), caller: caller)
                result.approvalID = id
                return result
            case .unanswered(let reason):
                var result = await recorder.deny(stage: "approval", rule: approval.rule, reason: reason, caller: caller)
                result.approvalID = id
                return result
            }
        }

        // 6. Execute with the caller's rights; the start is in the log before the work begins.
        recorder.started(executingAs: plan.executingAs)
        guard await recorder.flush() != nil else { return recorder.logFailure() }
        let context = ToolContext(call: call, plan: plan)
        let started = ContinuousClock.now
        var result = ToolCallResult(callID: callID, tool: toolName, status: .completed)
        result.rule = allowRules.joined(separator: "; ")
        result.approvalID = approvalID
        do {
            let output = try await tool.execute(input, context: context)
            let elapsed = started.duration(to: .now)
            // 7. Cap and redact before the output is recorded or returned.
            let (redacted, paths) = SecretRedactor.redact(output.value)
            let (capped, truncated) = OutputCap.cap(redacted, maxBytes: environment.limits.maxOutputBytes)
            recorder.completed(output: capped, truncated: truncated, rows: output.rows, duration: elapsed, redacted: paths)
            result.output = capped
            result.truncated = truncated
        } catch {
            let failure = Self.failure(from: error)
            recorder.failed(failure, duration: started.duration(to: .now))
            result.status = .failed
            result.errorType = failure.kind
            result.message = SecretRedactor.redactString(failure.message)
        }
        guard await recorder.flush() != nil else { return recorder.logFailure() }
        return result
    }

    nonisolated func approverRefusal(by decider: String, approver: String, caller: Principal) -> String? {
        ApproverCheck.refusal(decider: decider, approver: approver, callerID: caller.id, policy: policy)
    }

    static func rateKey(_ principal: String, _ tool: String) -> String { principal + "|" + tool }

    static func failure(from error: any Error) -> ToolError {
        if let error = error as? ToolError { return error }
        if error is CancellationError { return ToolError("cancelled", "the call was cancelled") }
        return ToolError("error", String(describing: error))
    }
}
