import EventLog
import Foundation
import GlassboxTesting
import Security
import Testing
@testable import Tools

/// A tool whose behaviour the input chooses, to drive every branch of the guard.
struct ProbeTool: Tool {
    var name = "probe.run"
    let description = "Test tool."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "resource": ["type": "string"],
            "mode": ["type": "string", "enum": ["ok", "fail", "violate", "approve", "secret", "big"]],
            "password": ["type": "string"],
            "url": ["type": "string"],
        ],
        "required": ["mode"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read
    var rateLimit: RateLimit? = nil
    var needsApproval = false

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let resource = input["resource"]?.string ?? "probe.default"
        var plan = ToolPlan(permissions: [Permission("probe:run", on: resource)], risk: .read, executingAs: "probe")
        switch input["mode"]?.string {
        case "violate": plan.violation = GuardrailViolation(guardrail: "probe.never", reason: "probes may not do that", detail: "mode=violate")
        case "approve": plan.approvalReason = "a probe that needs a human"; plan.risk = .destructive
        default: break
        }
        return plan
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        switch input["mode"]?.string {
        case "fail": throw ToolError("sql_error", "relation \"missing\" does not exist (password=hunter2)")
        case "secret": return ToolOutput(["dsn": "postgresql://bob:s3cret@db/x", "note": "ok", "api_key": "k-123"])
        case "big":
            let rows = (0..<5_000).map { JSONValue.array([.integer(Int64($0)), .string(String(repeating: "x", count: 40))]) }
            return ToolOutput(["columns": ["id", "text"], "rows": .array(rows), "row_count": 5_000], rows: 5_000)
        default: return ToolOutput(["echo": input["mode"] ?? .null, "as": .string(context.caller.id)])
        }
    }
}

let probePolicy = """
    version: 1
    roles:
      prober:
        grants:
          - id: probe-anything
            action: probe:run
            resource: "probe.*"
      admin:
        grants:
          - {action: "*", resource: "*"}
      narrow-agent:
        grants:
          - {id: agent-probe-public, action: probe:run, resource: "probe.public.*"}
    principals:
      user:alice: {roles: [prober]}
      user:dana: {roles: [admin]}
      user:mallory: {roles: []}
    agents:
      agent:helper: {roles: [narrow-agent]}
    """

@Suite struct ToolCallGuardTests {
    @Test func aCompletedCallLeavesTheFullSequence() async throws {
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { h.remove() }
        let result = await h.call("probe.run", ["mode": "ok"], as: "user:alice")
        #expect(result.status == .completed)
        #expect(result.output?["as"]?.string == "user:alice")
        #expect(result.rule == "probe-anything")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.completed"])
        let events = try await h.events(of: result.callID)
        #expect(Set(events.map(\.spanID)).count == 1, "every event of a call is on the call's span")
        #expect(events.allSatisfy { $0.traceID != nil && $0.actor == "user:alice" })
        #expect(events[1].data.contains("\"rule\":\"probe-anything\""))
        #expect(events[2].data.contains("\"executingAs\":\"probe\""))
    }

    @Test func unknownToolsAndBadInputAreRefusedAtValidation() async throws {
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { h.remove() }
        let unknown = await h.call("probe.nope", ["mode": "ok"], as: "user:alice")
        #expect(unknown.status == .denied && unknown.stage == "validation" && unknown.rule == "tool.unknown")
        #expect(unknown.message?.contains("probe.run") == true, "the refusal lists the known tools")
        #expect(try await h.eventTypes(of: unknown.callID) == ["tool.requested", "tool.denied"])

        let bad = await h.call("probe.run", ["mode": "explode", "extra": 1], as: "user:alice")
        #expect(bad.status == .denied && bad.stage == "validation" && bad.rule == "input.schema")
        #expect(bad.message?.contains("/mode: must be one of") == true)
        #expect(bad.message?.contains("unknown property `extra`") == true)
        #expect(try await h.eventTypes(of: bad.callID) == ["tool.requested", "tool.denied"])
    }

    @Test func denialsNameTheRuleAndAgentsNeverExceedTheirCaller() async throws {
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { h.remove() }
        let mallory = await h.call("probe.run", ["mode": "ok"], as: "user:mallory")
        #expect(mallory.status == .denied && mallory.stage == "authorization" && mallory.rule == "default-deny")
        #expect(try await h.eventTypes(of: mallory.callID) == ["tool.requested", "tool.denied"])

        // The agent may only touch probe.public.*; alice may touch probe.*: the intersection decides.
        let narrow = await h.call("probe.run", ["mode": "ok", "resource": "probe.public.x"], as: "user:alice", agent: "agent:helper")
        #expect(narrow.status == .completed)
        let wide = await h.call("probe.run", ["mode": "ok", "resource": "probe.private.x"], as: "user:alice", agent: "agent:helper")
        #expect(wide.status == .denied && wide.stage == "authorization")
        // An agent acting for someone without rights gets nothing, whatever its own grants.
        let borrowed = await h.call("probe.run", ["mode": "ok", "resource": "probe.public.x"], as: "user:mallory", agent: "agent:helper")
        #expect(borrowed.status == .denied)
        let events = try await h.events(of: narrow.callID)
        #expect(events.first?.actor == "agent:helper@user:alice")
    }

    @Test func guardrailsBlockAfterAuthorization() async throws {
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { h.remove() }
        let result = await h.call("probe.run", ["mode": "violate"], as: "user:alice")
        #expect(result.status == .denied && result.stage == "guardrail" && result.rule == "probe.never")
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "guardrail.blocked", "tool.denied"])
    }

    @Test func failuresAreRecordedWithoutSecrets() async throws {
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { h.remove() }
        let result = await h.call("probe.run", ["mode": "fail"], as: "user:alice")
        #expect(result.status == .failed && result.errorType == "sql_error")
        #expect(result.message?.contains("hunter2") == false)
        #expect(try await h.eventTypes(of: result.callID) == ["tool.requested", "tool.authorized", "tool.started", "tool.failed"])
        let all = try await h.events(of: result.callID).map(\.data).joined()
        #expect(!all.contains("hunter2"))
    }

    @Test func secretsNeverReachAnEvent() async throws {
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { h.remove() }
        let result = await h.call("probe.run", ["mode": "secret", "password": "hunter2", "url": "postgresql://alice:pa55word@db:5432/w"],
                                  as: "user:alice")
        #expect(result.status == .completed)
        let all = try await h.events(of: result.callID).map(\.data).joined()
        for secret in ["hunter2", "pa55word", "s3cret", "k-123"] {
            #expect(!all.contains(secret), "\(secret) leaked into the log")
            #expect(!(result.output?.jsonText.contains(secret) ?? false), "\(secret) leaked into the result")
        }
        #expect(all.contains("postgresql://alice:[REDACTED]@db:5432/w"), "the rest of a URL stays readable")
        #expect(all.contains("\"redacted\":["))
    }

    @Test func bigOutputsAreCappedAndMarked() async throws {
        var environment = ToolEnvironment()
        environment.limits.maxOutputBytes = 4_096
        let h = try await makeHarness(policy: probePolicy, environment: environment, tools: [ProbeTool()])
        defer { h.remove() }
        let result = await h.call("probe.run", ["mode": "big"], as: "user:alice")
        #expect(result.status == .completed && result.truncated)
        let rows = result.output?["rows"]?.array ?? []
        #expect(rows.count > 10 && rows.count < 5_000)
        #expect((result.output?.jsonText.utf8.count ?? .max) <= 4_096)
        #expect(result.output?["row_count"]?.integer == Int64(rows.count))
    }

    @Test func approvalsAreAskedForAndDecidedByTheRightPeople() async throws {
        // Nobody to ask: refused, and the request is on record.
        let refused = try await makeHarness(policy: probePolicy, tools: [ProbeTool()])
        defer { refused.remove() }
        let r1 = await refused.call("probe.run", ["mode": "approve"], as: "user:alice")
        #expect(r1.status == .denied && r1.stage == "approval" && r1.approvalID != nil)
        #expect(try await refused.eventTypes(of: r1.callID) == ["tool.requested", "tool.authorized", "approval.requested", "tool.denied"])

        let granted = try await makeHarness(policy: probePolicy, tools: [ProbeTool()],
                                            approvals: ApprovalGates.automatic(grant: true, decidedBy: "user:dana"))
        defer { granted.remove() }
        let r2 = await granted.call("probe.run", ["mode": "approve"], as: "user:alice")
        #expect(r2.status == .completed)
        #expect(try await granted.eventTypes(of: r2.callID)
                == ["tool.requested", "tool.authorized", "approval.requested", "approval.granted", "tool.started", "tool.completed"])
        let decision = try await granted.events(of: r2.callID)[3]
        #expect(decision.actor == "user:dana")

        // Nobody approves their own call, and an approval from someone without the role does not count.
        let selfApproved = try await makeHarness(policy: probePolicy, tools: [ProbeTool()],
                                                 approvals: ApprovalGates.automatic(grant: true, decidedBy: "user:dana"))
        defer { selfApproved.remove() }
        let r3 = await selfApproved.call("probe.run", ["mode": "approve"], as: "user:dana")
        #expect(r3.status == .denied && r3.stage == "approval" && r3.message?.contains("own call") == true)
        let wrongRole = try await makeHarness(policy: probePolicy, tools: [ProbeTool()],
                                              approvals: ApprovalGates.automatic(grant: true, decidedBy: "user:mallory"))
        defer { wrongRole.remove() }
        let r4 = await wrongRole.call("probe.run", ["mode": "approve"], as: "user:alice")
        #expect(r4.status == .denied && r4.message?.contains("does not hold role:admin") == true)
    }

    @Test func anApprovalAppendedByAnotherWriterResumesTheCall() async throws {
        let directory = try TemporaryDirectory(prefix: "glassbox-tools")
        let reader = try SQLiteEventLog(path: directory.path("log.db"), options: .init(durability: .normal))
        let h = try await makeHarness(policy: probePolicy, tools: [ProbeTool()],
                                      approvals: ApprovalGates.log(reader, timeout: .seconds(20)), directory: directory)
        defer { try? reader.close(); h.remove() }
        let call = Task { await h.call("probe.run", ["mode": "approve"], as: "user:alice") }
        // Wait for the request, then approve it as a human would, from a separate writer.
        var request: Event? = nil
        for _ in 0..<200 where request == nil {
            request = try await reader.events(EventQuery(filter: EventFilter(types: ["approval.requested"]))).first
            if request == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let requested = try #require(request)
        let data = try JSONValue(parsing: requested.data)
        let approvalID = try #require(data["approvalId"]?.string)
        let draft = try EventDraft(type: "approval.granted",
                                   json: #"{"approvalId":"\#(approvalID)","callId":"\#(data["callId"]!.string!)","decidedBy":"user:dana"}"#,
                                   actor: "user:dana")
        _ = try await reader.append([draft], to: requested.stream, expectedVersion: .any)
        let result = await call.value
        #expect(result.status == .completed)
        #expect(try await h.eventTypes(of: result.callID)
                == ["tool.requested", "tool.authorized", "approval.requested", "approval.granted", "tool.started", "tool.completed"])
    }

    @Test func rateLimitsHoldAcrossARestart() async throws {
        let directory = try TemporaryDirectory(prefix: "glassbox-tools")
        defer { directory.remove() }
        let clock = TestClock(start: Date().timeIntervalSince1970)
        var tool = ProbeTool()
        tool.rateLimit = RateLimit(capacity: 3, period: .seconds(60))
        let first = try await makeHarness(policy: probePolicy, tools: [tool], now: clock.now, directory: directory)
        for _ in 0..<3 { #expect(await first.call("probe.run", ["mode": "ok"], as: "user:alice").status == .completed) }
        let limited = await first.call("probe.run", ["mode": "ok"], as: "user:alice")
        #expect(limited.status == .denied && limited.stage == "rate_limit")
        #expect((limited.retryAfter ?? 0) > 0)
        #expect(try await first.eventTypes(of: limited.callID) == ["tool.requested", "tool.authorized", "tool.denied"])
        // Another principal has its own bucket.
        #expect(await first.call("probe.run", ["mode": "ok"], as: "user:dana").status == .completed)
        try first.log.close()

        // A new guard over the same log (a restart) still refuses alice.
        let second = try await makeHarness(policy: probePolicy, tools: [tool], now: clock.now, directory: directory)
        defer { try? second.log.close() }
        #expect(await second.call("probe.run", ["mode": "ok"], as: "user:alice").stage == "rate_limit")
        // 20 s later one token has come back (3 per 60 s).
        clock.advance(by: 20.5)
        #expect(await second.call("probe.run", ["mode": "ok"], as: "user:alice").status == .completed)
        #expect(await second.call("probe.run", ["mode": "ok"], as: "user:alice").stage == "rate_limit")
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    // Guarded by `lock`; tests read it from the guard's actor and write it from the test.
    private let lock = NSLock()
    private var seconds: Double

    init(start: Double) { seconds = start }

    var now: @Sendable () -> Double { { [self] in lock.withLock { seconds } } }

    func advance(by delta: Double) { lock.withLock { seconds += delta } }
}
