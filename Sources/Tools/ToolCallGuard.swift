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
        /// The id the model gave the call, recorded so a resumed run pairs results with requests.
        public var modelCallID: String?
        /// The tools the caller may ask for (an agent's tool list); any other is refused as unknown.
        public var allowedTools: Set<String>?

        public init(runID: String? = nil, parent: TraceContext? = nil, llmCallID: String? = nil, modelCallID: String? = nil,
                    allowedTools: Set<String>? = nil) {
            self.runID = runID
            self.parent = parent
            self.llmCallID = llmCallID
            self.modelCallID = modelCallID
            self.allowedTools = allowedTools
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

        // 1–2. Validate and plan, then authorize every right the call needs, as the caller and as the agent.
        let moment = now()
        let tool = registry[toolName]
        recorder.requested(input: recordedInput, risk: tool?.risk.rawValue ?? "", principal: caller.id, placement: placement)
        let plan: ToolPlan, allowRules: [String], approval: ApprovalRequirement?
        switch ToolAuthorization.decide(toolName, input: input, call: call, registry: registry, policy: policy,
                                        time: Date(timeIntervalSince1970: moment), allowedTools: placement.allowedTools) {
        case .denied(let stage, let rule, let reason, let action, let resource):
            return await recorder.deny(stage: stage, rule: rule, reason: reason, caller: caller, action: action, resource: resource)
        case .allowed(let allowedPlan, let rules, let requirement):
            (plan, allowRules, approval) = (allowedPlan, rules, requirement)
        }
        guard let tool else { return recorder.logFailure() }
        let toolPolicy = policy.toolPolicy(toolName)
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
            recorder.approvalRequested(id: id, reason: reason, approver: approval.approver, rule: approval.rule, input: recordedInput, runID: placement.runID)
            guard let requestedAt = await recorder.flush() else { return recorder.logFailure() }
            let request = ApprovalRequest(approvalID: id, callID: callID, tool: toolName, stream: recorder.stream, requestedAt: requestedAt,
                                          approver: approval.approver, reason: reason, caller: caller)
            if let refusal = await awaitApproval(request, rule: approval.rule, recorder: &recorder) { return refusal }
        }

        // 6. Execute with the caller's rights; the start is in the log before the work begins.
        var result = await execute(tool, input: input, call: call, plan: plan, recorder: &recorder)
        result.rule = allowRules.joined(separator: "; ")
        result.approvalID = approvalID
        return result
    }

    /// Finishes a call the log shows begun but not ended, found when a run resumes after a crash:
    /// a call still waiting for its approval waits again (a decision made meanwhile is read from
    /// the log) and then runs; a call that had started is recorded as `tool.failed` with kind
    /// `interrupted` and is not run again, because its effects are unknown.
    public func resume(_ unfinished: UnfinishedToolCall, caller: Principal, agent: Principal? = nil) async -> ToolCallResult {
        var recorder = CallRecorder(
            log: log, callID: unfinished.callID, tool: unfinished.tool, stream: unfinished.stream,
            actor: agent.map { "\($0.id)@\(caller.id)" } ?? caller.id, trace: unfinished.trace, now: now)
        if unfinished.started {
            recorder.failed(ToolError("interrupted", "Glassbox stopped while \(unfinished.tool) ran; its outcome is unknown, "
                                      + "so it was not run again. Check its effects before asking for it again."), duration: .zero)
            guard await recorder.flush() != nil else { return recorder.logFailure() }
            var result = ToolCallResult(callID: unfinished.callID, tool: unfinished.tool, status: .failed)
            result.errorType = "interrupted"
            result.message = "Glassbox stopped while \(unfinished.tool) ran; its outcome is unknown, so it was not run again"
            return result
        }
        guard let tool = registry[unfinished.tool] else {
            return await recorder.deny(stage: "validation", rule: "tool.unknown",
                                       reason: "there is no tool named `\(unfinished.tool)` any more", caller: caller)
        }
        let call = ToolCall(callID: unfinished.callID, caller: caller, agent: agent, environment: environment)
        let plan: ToolPlan
        do {
            plan = try tool.plan(unfinished.input, for: call)
        } catch {
            return await recorder.deny(stage: "validation", rule: "input.\(error.kind)", reason: error.message, caller: caller)
        }
        if let approval = unfinished.approval {
            let request = ApprovalRequest(approvalID: approval.id, callID: unfinished.callID, tool: unfinished.tool, stream: unfinished.stream,
                                          requestedAt: approval.requestedAt, approver: approval.approver, reason: approval.reason, caller: caller)
            if var refusal = await awaitApproval(request, rule: approval.rule, recorder: &recorder) {
                refusal.approvalID = approval.id
                return refusal
            }
        }
        var result = await execute(tool, input: unfinished.input, call: call, plan: plan, recorder: &recorder)
        result.approvalID = unfinished.approval?.id
        return result
    }

    /// Waits for the approval; nil when granted, else the recorded refusal.
    private func awaitApproval(_ request: ApprovalRequest, rule: String, recorder: inout CallRecorder) async -> ToolCallResult? {
        let decision = await approvals.decide(request)
        if case .unanswered = decision, Task.isCancelled {
            // Stopped or shut down while waiting: nothing is decided, so nothing is recorded. The request stays
            // open in the log; a run resumed after a restart waits for it again.
            var result = ToolCallResult(callID: request.callID, tool: request.tool, status: .failed)
            result.errorType = "cancelled"
            result.message = "stopped while waiting for approval \(request.approvalID)"
            result.approvalID = request.approvalID
            return result
        }
        var refusal: ToolCallResult
        switch decision {
        case .granted(let by, let comment, let recorded):
            if let problem = approverRefusal(by: by, approver: request.approver, caller: request.caller) {
                refusal = await recorder.deny(stage: "approval", rule: rule, reason: problem, caller: request.caller)
            } else {
                if !recorded { recorder.approvalDecided(id: request.approvalID, granted: true, by: by, comment: comment) }
                return nil
            }
        case .rejected(let by, let comment, let recorded):
            if !recorded { recorder.approvalDecided(id: request.approvalID, granted: false, by: by, comment: comment) }
            refusal = await recorder.deny(stage: "approval", rule: rule,
                                          reason: "\(by) rejected the call" + (comment.isEmpty ? "" : ": \(comment)"), caller: request.caller)
        case .unanswered(let reason):
            refusal = await recorder.deny(stage: "approval", rule: rule, reason: reason, caller: request.caller)
        }
        refusal.approvalID = request.approvalID
        return refusal
    }

    /// Records the start, runs the tool, caps and redacts its output, records the end.
    private func execute(_ tool: any Tool, input: JSONValue, call: ToolCall, plan: ToolPlan, recorder: inout CallRecorder) async -> ToolCallResult {
        recorder.started(executingAs: plan.executingAs)
        guard await recorder.flush() != nil else { return recorder.logFailure() }
        let context = ToolContext(call: call, plan: plan)
        let started = ContinuousClock.now
        var result = ToolCallResult(callID: call.callID, tool: tool.name, status: .completed)
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

/// A tool call the log shows begun but not ended (see ``ToolCallGuard/resume(_:caller:agent:)``).
public struct UnfinishedToolCall: Sendable {
    /// An approval the call asked for.
    public struct Approval: Sendable {
        public var id: String
        public var approver: String
        public var reason: String
        /// The policy rule that asked for it.
        public var rule: String
        /// The `seq` of `approval.requested`: decisions come after it.
        public var requestedAt: Int64
        public init(id: String, approver: String, reason: String, rule: String, requestedAt: Int64) {
            self.id = id
            self.approver = approver
            self.reason = reason
            self.rule = rule
            self.requestedAt = requestedAt
        }
    }

    public var callID: String
    public var tool: String
    /// The input as recorded (secrets masked).
    public var input: JSONValue
    /// The span the call's events carry.
    public var trace: TraceContext
    public var stream: String
    public var approval: Approval?
    /// `tool.started` is in the log.
    public var started: Bool

    public init(callID: String, tool: String, input: JSONValue, trace: TraceContext, stream: String, approval: Approval?, started: Bool) {
        self.callID = callID
        self.tool = tool
        self.input = input
        self.trace = trace
        self.stream = stream
        self.approval = approval
        self.started = started
    }
}
