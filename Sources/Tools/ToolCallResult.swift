/// How a call through the guard ended.
public struct ToolCallResult: Sendable {
    public enum Status: String, Sendable { case completed, denied, failed }

    public var callID: String
    public var tool: String
    public var status: Status
    /// The output, capped and with secrets masked (completed calls).
    public var output: JSONValue?
    public var truncated: Bool
    /// Which step refused a denied call: `validation`, `authorization`, `rate_limit`, `guardrail` or `approval`.
    public var stage: String?
    /// The policy rule or guardrail that decided (denied calls), or that allowed (completed calls).
    public var rule: String?
    /// Why the call was denied or failed, for a person.
    public var message: String?
    /// The failure's kind (failed calls), e.g. `sql_error`.
    public var errorType: String?
    /// Seconds until a rate-limited call could pass.
    public var retryAfter: Double?
    /// The approval the call waited for, if any.
    public var approvalID: String?

    init(callID: String, tool: String, status: Status) {
        self.callID = callID
        self.tool = tool
        self.status = status
        self.truncated = false
    }

    /// The result as JSON, as `glassbox tools call --json` prints it.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["call_id": .string(callID), "tool": .string(tool), "status": .string(status.rawValue)]
        if let output { members["output"] = output }
        if truncated { members["truncated"] = true }
        if let stage { members["stage"] = .string(stage) }
        if let rule { members["rule"] = .string(rule) }
        if let message { members["message"] = .string(message) }
        if let errorType { members["error_type"] = .string(errorType) }
        if let retryAfter { members["retry_after_seconds"] = .number((retryAfter * 10).rounded(.up) / 10) }
        if let approvalID { members["approval_id"] = .string(approvalID) }
        return .object(members)
    }
}
