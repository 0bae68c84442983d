import Foundation
import GlassboxTesting
import Testing
@testable import Security

/// A small policy exercising every kind of rule.
private let matrixYAML = """
    version: 1
    roles:
      reader:
        grants:
          - id: read-sales
            action: sql:read
            resource: wh.sales.*
          - action: [file:read, file:write]
            resource: "workspace:docs/*"
      writer:
        inherits: [reader]
        grants:
          - id: write-sales
            action: [sql:write, sql:ddl]
            resource: wh.sales.*
            when: {context.environment: [dev, staging]}
      finance:
        grants:
          - id: read-billing
            action: sql:read
            resource: wh.billing.*
            when: {principal.team: finance, resource.sensitivity: [low, medium]}
      owner:
        grants:
          - id: everything
            action: "*"
            resource: "*"
          - id: drop-sales
            action: sql:destructive
            resource: wh.sales.*
    principals:
      user:ann: {roles: [reader]}
      user:wes: {roles: [writer]}
      user:fay: {roles: [finance], attributes: {team: finance}}
      user:oli: {roles: [owner], attributes: {clearance: pii}}
    agents:
      agent:bot:
        grants:
          - {id: bot-read, action: sql:read, resource: ["wh.hr.*", "wh.sales.*", "wh.billing.*"]}
          - {id: bot-write, action: sql:write, resource: wh.sales.*}
          - {id: bot-docs, action: file:read, resource: "workspace:*"}
    deny:
      - id: no-pii
        action: "*"
        resource: "wh.*.pii_*"
        unless: {principal.clearance: pii}
        reason: personal data
      - id: frozen
        action: sql:write
        resource: wh.sales.ledger
    approvals:
      - id: review-writes
        action: [sql:write, sql:ddl]
        resource: "*"
        approver: role:owner
    tools:
      sql.query: {rate_limit: {capacity: 30, per: 1m}}
      email.send: {rate_limit: {capacity: 5, per: 1h}, approval: {approver: role:owner}}
    """

private let matrix = try! Policy(yaml: matrixYAML, source: "matrix.yaml")

private func utc(_ text: String) -> Date { AccessRequest.time(iso8601: text)! }

private func principal(_ id: String, roles: [String] = [], attributes: [String: String] = [:]) -> Principal {
    try! Principal(parsing: id, roles: roles, attributes: attributes)
}

@Suite struct PolicyDecisionTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var who: String
        var action: String
        var resource: String
        var context: [String: String] = [:]
        var resourceAttributes: [String: String] = [:]
        var allowed: Bool
        var rule: String
        var testDescription: String { "\(who) \(action) \(resource) → \(allowed ? "allow" : "deny") by \(rule)" }
    }

    static let rows: [Row] = [
        Row(who: "user:ann", action: "sql:read", resource: "wh.sales.orders", allowed: true, rule: "read-sales"),
        Row(who: "user:ann", action: "sql:write", resource: "wh.sales.orders", allowed: false, rule: "default-deny"),
        Row(who: "user:ann", action: "sql:read", resource: "wh.hr.staff", allowed: false, rule: "default-deny"),
        Row(who: "user:ann", action: "file:write", resource: "workspace:docs/guide/intro.md", allowed: true, rule: "role:reader/grant:1"),
        Row(who: "user:ann", action: "file:write", resource: "workspace:src/main.swift", allowed: false, rule: "default-deny"),
        // Inherited grants, and a context condition.
        Row(who: "user:wes", action: "sql:read", resource: "wh.sales.orders", allowed: true, rule: "read-sales"),
        Row(who: "user:wes", action: "sql:write", resource: "wh.sales.orders", context: ["environment": "dev"], allowed: true, rule: "write-sales"),
        Row(who: "user:wes", action: "sql:write", resource: "wh.sales.orders", context: ["environment": "prod"], allowed: false, rule: "default-deny"),
        Row(who: "user:wes", action: "sql:write", resource: "wh.sales.orders", allowed: false, rule: "default-deny"),
        // An explicit deny beats the grant that would allow it.
        Row(who: "user:wes", action: "sql:write", resource: "wh.sales.ledger", context: ["environment": "dev"], allowed: false, rule: "deny:frozen"),
        Row(who: "user:oli", action: "sql:write", resource: "wh.sales.ledger", allowed: false, rule: "deny:frozen"),
        // Principal and resource attribute conditions.
        Row(who: "user:fay", action: "sql:read", resource: "wh.billing.invoices", resourceAttributes: ["sensitivity": "low"], allowed: true, rule: "read-billing"),
        Row(who: "user:fay", action: "sql:read", resource: "wh.billing.invoices", resourceAttributes: ["sensitivity": "high"], allowed: false, rule: "default-deny"),
        Row(who: "user:fay", action: "sql:read", resource: "wh.billing.invoices", allowed: false, rule: "default-deny"),
        Row(who: "user:ann", action: "sql:read", resource: "wh.billing.invoices", resourceAttributes: ["sensitivity": "low"], allowed: false, rule: "default-deny"),
        // Deny with an exception, matched without regard to case.
        Row(who: "user:ann", action: "sql:read", resource: "wh.sales.pii_people", allowed: false, rule: "deny:no-pii"),
        Row(who: "user:ann", action: "sql:read", resource: "WH.Sales.PII_People", allowed: false, rule: "deny:no-pii"),
        Row(who: "user:oli", action: "sql:read", resource: "wh.sales.pii_people", allowed: true, rule: "everything"),
        // Explicit-only: `*` does not grant sql:destructive, the named grant does.
        Row(who: "user:oli", action: "sql:destructive", resource: "wh.sales.orders", allowed: true, rule: "drop-sales"),
        Row(who: "user:oli", action: "sql:destructive", resource: "wh.hr.staff", allowed: false, rule: "default-deny"),
        Row(who: "user:oli", action: "sql:ddl", resource: "wh.hr.staff", allowed: true, rule: "everything"),
        Row(who: "user:oli", action: "email:send", resource: "cfo@example.com", allowed: true, rule: "everything"),
        // Unknown principals have nothing.
        Row(who: "user:zed", action: "sql:read", resource: "wh.sales.orders", allowed: false, rule: "default-deny"),
        Row(who: "service:ci", action: "sql:read", resource: "wh.sales.orders", allowed: false, rule: "default-deny"),
    ]

    @Test(arguments: rows)
    func matrixDecisions(_ row: Row) {
        let decision = matrix.decide(AccessRequest(
            principal: principal(row.who), action: row.action, resource: row.resource,
            resourceAttributes: row.resourceAttributes, context: row.context))
        #expect(decision.allowed == row.allowed, "\(decision)")
        #expect(decision.rule == row.rule, "\(decision)")
        #expect(decision.reason.contains(row.who) && decision.reason.contains(row.action) && decision.reason.contains(row.resource))
    }

    @Test func wildcardDeniesMatchExplicitOnlyActions() throws {
        let policy = try Policy(yaml: """
            version: 1
            roles:
              dba: {grants: [{id: drop, action: sql:destructive, resource: "*"}]}
            principals:
              user:dba: {roles: [dba]}
            deny:
              - {id: no-prod, action: "sql:*", resource: "prod.*"}
            """, source: "p.yaml")
        let dba = principal("user:dba")
        #expect(policy.decide(AccessRequest(principal: dba, action: "sql:destructive", resource: "dev.t")).rule == "drop")
        #expect(policy.decide(AccessRequest(principal: dba, action: "sql:destructive", resource: "prod.t")).rule == "deny:no-prod")
        #expect(Action.isExplicitOnly("sql:destructive"))
        #expect(Action.isExplicitOnly("git:DESTRUCTIVE"))
        #expect(Action.isExplicitOnly("file.destructive:delete"))
        #expect(!Action.isExplicitOnly("sql:destructive_read"))
        #expect(!Action.isExplicitOnly("sql:write"))
    }

    @Test func aWildcardActionGrantDoesNotCoverExplicitOnlyActions() throws {
        let policy = try Policy(yaml: """
            version: 1
            roles:
              ops: {grants: [{id: sql-all, action: "sql:*", resource: "*"}, {id: near, action: "sql:destruct*", resource: "*"}]}
            """, source: "p.yaml")
        let decision = policy.decide(AccessRequest(principal: principal("user:x", roles: ["ops"]), action: "sql:destructive", resource: "t"))
        #expect(!decision.allowed)
        #expect(decision.rule == "default-deny")
        #expect(decision.reason.contains("granted only by name"))
        #expect(decision.reason.contains("`sql:*`"))
    }

    @Test func requestRolesAndAttributesAddToThePolicys() {
        // ann is a reader in the policy; the request adds writer.
        let ann = principal("user:ann", roles: ["writer"])
        let write = matrix.decide(AccessRequest(principal: ann, action: "sql:write", resource: "wh.sales.orders", context: ["environment": "dev"]))
        #expect(write.allowed && write.rule == "write-sales")
        #expect(matrix.decide(AccessRequest(principal: ann, action: "sql:read", resource: "wh.sales.orders")).rule == "read-sales")
        // The request's attributes win over the policy's.
        let fay = principal("user:fay", attributes: ["team": "marketing"])
        let read = matrix.decide(AccessRequest(principal: fay, action: "sql:read", resource: "wh.billing.invoices",
                                               resourceAttributes: ["sensitivity": "low"]))
        #expect(!read.allowed)
        #expect(read.reason.contains("principal.team is marketing, not finance"))
        // Roles the policy does not define give nothing.
        #expect(!matrix.decide(AccessRequest(principal: principal("user:zed", roles: ["nope"]), action: "sql:read",
                                             resource: "wh.sales.orders")).allowed)
    }

    @Test func principalIDAndKindAreConditionAttributes() throws {
        let policy = try Policy(yaml: """
            version: 1
            roles:
              r:
                grants:
                  - {id: people-only, action: git:read, resource: workspace, when: {principal.kind: user}}
            """, source: "p.yaml")
        #expect(policy.decide(AccessRequest(principal: principal("user:a", roles: ["r"]), action: "git:read", resource: "workspace")).allowed)
        let service = policy.decide(AccessRequest(principal: principal("service:a", roles: ["r"]), action: "git:read", resource: "workspace"))
        #expect(!service.allowed)
        #expect(service.reason.contains("principal.kind is service, not user"))
    }

    @Test func rolesAreTriedInDeclarationOrderAndOwnGrantsFirst() throws {
        let policy = try Policy(yaml: """
            version: 1
            roles:
              first: {grants: [{id: from-first, action: sql:read, resource: "*"}]}
              second: {grants: [{id: from-second, action: sql:read, resource: "*"}]}
            principals:
              user:a: {roles: [second, first]}
              user:b: {roles: [second, first], grants: [{id: own, action: sql:read, resource: "*"}]}
            """, source: "p.yaml")
        #expect(policy.decide(AccessRequest(principal: principal("user:a"), action: "sql:read", resource: "t")).rule == "from-first")
        #expect(policy.decide(AccessRequest(principal: principal("user:b"), action: "sql:read", resource: "t")).rule == "own")
        #expect(policy.decide(AccessRequest(principal: principal("user:c", roles: ["second"]), action: "sql:read", resource: "t")).rule == "from-second")
    }

    @Test func approvalsComeWithAllows() {
        let wes = principal("user:wes")
        let write = matrix.decide(AccessRequest(principal: wes, action: "sql:write", resource: "wh.sales.orders", context: ["environment": "dev"]))
        #expect(write.approval == ApprovalRequirement(rule: "approval:review-writes", approver: "role:owner"))
        #expect(write.reason.contains("after approval by role:owner"))
        #expect(matrix.decide(AccessRequest(principal: wes, action: "sql:read", resource: "wh.sales.orders")).approval == nil)
        #expect(matrix.decide(AccessRequest(principal: principal("user:ann"), action: "sql:write", resource: "wh.sales.orders")).approvals.isEmpty)
    }

    @Test func reasonsSayWhatWouldAllowIt() {
        func reason(_ who: String, _ action: String, _ resource: String, attributes: [String: String] = [:]) -> String {
            matrix.decide(AccessRequest(principal: principal(who), action: action, resource: resource, resourceAttributes: attributes)).reason
        }
        #expect(reason("user:ann", "sql:write", "wh.sales.orders")
                == "no grant of user:ann allows sql:write on wh.sales.orders; role writer would (write-sales): "
                + "give user:ann that role under `principals:` if it should")
        #expect(reason("user:fay", "sql:read", "wh.billing.x", attributes: ["sensitivity": "high"])
                == "no grant of user:fay allows sql:read on wh.billing.x: grant read-billing of role finance would, "
                + "but resource.sensitivity is high, not one of low, medium")
        #expect(reason("user:fay", "sql:read", "wh.billing.x") .hasSuffix("but resource.sensitivity is not set"))
        #expect(reason("user:ann", "email:send", "x@example.com")
                == "no grant of user:ann allows email:send on x@example.com; role owner would (everything): "
                + "give user:ann that role under `principals:` if it should")
        #expect(reason("user:ann", "sql:read", "wh.sales.pii_people")
                == "user:ann may not sql:read on wh.sales.pii_people: deny rule no-pii forbids it (personal data); "
                + "it makes an exception only when principal.clearance is pii")
        #expect(reason("user:ann", "sql:read", "wh.sales.orders") == "user:ann may sql:read on wh.sales.orders by grant read-sales of role reader")
        #expect(Policy.empty.decide(AccessRequest(principal: principal("user:ann"), action: "sql:read", resource: "t")).reason
                == "no grant of user:ann allows sql:read on t; grant it in a role under `roles:`")
    }

    @Test func theEmptyPolicyDeniesEverything() {
        let decision = Policy.empty.decide(AccessRequest(principal: principal("user:root", roles: ["admin"]), action: "*", resource: "*"))
        #expect(!decision.allowed)
        #expect(decision.rule == "default-deny")
        #expect(Policy.empty.roleCount == 0 && Policy.empty.ruleCount == 0)
        #expect(Policy.empty.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

@Suite struct AgentIntersectionTests {
    let ann = principal("user:ann")
    let bot = principal("agent:bot")

    @Test func bothAllowSoTheAgentMay() {
        let decision = matrix.decide(caller: ann, agent: bot, action: "sql:read", resource: "wh.sales.orders")
        #expect(decision.allowed)
        #expect(decision.rule == "caller: read-sales ∩ agent: bot-read")
        #expect(decision.reason == "agent:bot acting for user:ann may sql:read on wh.sales.orders: the caller by read-sales and the agent by bot-read")
    }

    @Test func theAgentAloneMayButNotForThisCaller() {
        // The agent alone may read wh.hr; ann may not, so the agent may not for her.
        #expect(matrix.decide(AccessRequest(principal: bot, action: "sql:read", resource: "wh.hr.staff")).allowed)
        let decision = matrix.decide(caller: ann, agent: bot, action: "sql:read", resource: "wh.hr.staff")
        #expect(!decision.allowed)
        #expect(decision.rule == "caller: default-deny ∩ agent: bot-read")
        #expect(decision.reason.hasPrefix("agent:bot acting for user:ann may not sql:read on wh.hr.staff, because the caller may not"))
    }

    @Test func theCallerAloneMayButNotThroughThisAgent() {
        // ann may write her docs; the agent may only read them.
        #expect(matrix.decide(AccessRequest(principal: ann, action: "file:write", resource: "workspace:docs/a.md")).allowed)
        let decision = matrix.decide(caller: ann, agent: bot, action: "file:write", resource: "workspace:docs/a.md")
        #expect(!decision.allowed)
        #expect(decision.rule == "caller: role:reader/grant:1 ∩ agent: default-deny")
        #expect(decision.reason.contains("because the agent may not: no grant of agent:bot allows file:write"))
        // And the reverse direction through the same pair: both may read docs.
        #expect(matrix.decide(caller: ann, agent: bot, action: "file:read", resource: "workspace:docs/a.md").allowed)
    }

    @Test func eachSideAllowsDifferentThingsAndOnlyTheOverlapIsAllowed() {
        // wes may write sales in dev and read sales; the bot may write and read sales but not ddl.
        let wes = principal("user:wes")
        let dev = ["environment": "dev"]
        #expect(matrix.decide(AccessRequest(principal: wes, action: "sql:ddl", resource: "wh.sales.t", context: dev)).allowed)
        #expect(!matrix.decide(caller: wes, agent: bot, action: "sql:ddl", resource: "wh.sales.t", context: dev).allowed)
        #expect(matrix.decide(AccessRequest(principal: bot, action: "sql:read", resource: "wh.billing.x")).allowed)
        #expect(!matrix.decide(caller: wes, agent: bot, action: "sql:read", resource: "wh.billing.x").allowed)
        let overlap = matrix.decide(caller: wes, agent: bot, action: "sql:write", resource: "wh.sales.t", context: dev)
        #expect(overlap.allowed)
        #expect(overlap.rule == "caller: write-sales ∩ agent: bot-write")
        // Both sides need the same approval: it is asked for once.
        #expect(overlap.approvals == [ApprovalRequirement(rule: "approval:review-writes", approver: "role:owner")])
    }

    @Test func anAgentDoesNotInheritItsCallersClearance() {
        let oli = principal("user:oli")
        #expect(matrix.decide(AccessRequest(principal: oli, action: "sql:read", resource: "wh.sales.pii_people")).allowed)
        let decision = matrix.decide(caller: oli, agent: bot, action: "sql:read", resource: "wh.sales.pii_people")
        #expect(!decision.allowed)
        #expect(decision.rule == "caller: everything ∩ agent: deny:no-pii")
    }

    @Test func whenNeitherMayBothReasonsAreGiven() {
        let decision = matrix.decide(caller: ann, agent: bot, action: "email:send", resource: "x@example.com")
        #expect(decision.rule == "caller: default-deny ∩ agent: default-deny")
        #expect(decision.reason.contains("because neither may: no grant of user:ann") && decision.reason.contains("; and no grant of agent:bot"))
    }

    @Test func withoutAnAgentTheCallersDecisionStands() {
        let decision = matrix.decide(caller: ann, agent: nil, action: "sql:read", resource: "wh.sales.orders")
        #expect(decision.rule == "read-sales")
    }

    @Test func approvalsOfBothSidesApply() throws {
        let policy = try Policy(yaml: """
            version: 1
            roles:
              all: {grants: [{id: g, action: "email:send", resource: "*"}]}
            principals:
              user:a: {roles: [all]}
            agents:
              agent:m: {roles: [all], attributes: {kind: mailer}}
            approvals:
              - {id: agent-mail, action: email:send, resource: "*", approver: user:boss, when: {principal.kind: mailer}}
              - {id: any-mail, action: email:send, resource: "*", approver: role:all}
            """, source: "p.yaml")
        let decision = policy.decide(caller: principal("user:a"), agent: principal("agent:m"), action: "email:send", resource: "cfo@example.com")
        #expect(decision.allowed)
        #expect(decision.approvals == [ApprovalRequirement(rule: "approval:any-mail", approver: "role:all"),
                                       ApprovalRequirement(rule: "approval:agent-mail", approver: "user:boss")])
        #expect(decision.approval?.approver == "role:all")
    }
}

@Suite struct TimeWindowTests {
    static let yaml = """
        version: 1
        roles:
          day: {grants: [{id: office, action: sql:read, resource: "*", when: {time: "08:00-18:00"}}]}
          night: {grants: [{id: night, action: sql:read, resource: "*", when: {time: "22:00-06:00"}}]}
          weekdays:
            grants:
              - id: berlin-weekdays
                action: sql:read
                resource: "*"
                when: {time: {between: "00:00-24:00", days: [mon-fri], timezone: Europe/Berlin}}
          weekend:
            grants:
              - id: weekend
                action: sql:read
                resource: "*"
                when: {time: {between: "10:00-12:00", days: [sat, SUN]}}
        """

    func allowed(_ role: String, at time: String) throws -> Bool {
        let policy = try Policy(yaml: Self.yaml, source: "t.yaml")
        return policy.decide(AccessRequest(principal: principal("user:x", roles: [role]), action: "sql:read", resource: "t",
                                           time: utc(time))).allowed
    }

    @Test func aDayWindowIncludesItsStartAndExcludesItsEnd() throws {
        #expect(try !allowed("day", at: "2026-11-25T07:59:59Z"))
        #expect(try allowed("day", at: "2026-11-25T08:00:00Z"))
        #expect(try allowed("day", at: "2026-11-25T17:59:00Z"))
        #expect(try !allowed("day", at: "2026-11-25T18:00:00Z"))
    }

    @Test func aWindowMayRunPastMidnight() throws {
        #expect(try allowed("night", at: "2026-11-25T23:00:00Z"))
        #expect(try allowed("night", at: "2026-11-26T05:59:00Z"))
        #expect(try !allowed("night", at: "2026-11-26T06:00:00Z"))
        #expect(try !allowed("night", at: "2026-11-26T12:00:00Z"))
    }

    @Test func daysAreThoseOfTheLocalDate() throws {
        // 2026-11-27 is a Friday. 22:30 UTC is Friday 23:30 in Berlin; 23:30 UTC is already Saturday there.
        #expect(try allowed("weekdays", at: "2026-11-27T22:30:00Z"))
        #expect(try !allowed("weekdays", at: "2026-11-27T23:30:00Z"))
        // Monday 00:30 in Berlin is still Sunday in UTC.
        #expect(try allowed("weekdays", at: "2026-11-29T23:30:00Z"))
        #expect(try allowed("weekend", at: "2026-11-28T11:00:00Z"))
        #expect(try allowed("weekend", at: "2026-11-29T10:00:00Z"))
        #expect(try !allowed("weekend", at: "2026-11-27T11:00:00Z"))
        #expect(try !allowed("weekend", at: "2026-11-28T12:00:00Z"))
    }

    @Test func theReasonNamesTheWindow() throws {
        let policy = try Policy(yaml: Self.yaml, source: "t.yaml")
        let late = policy.decide(AccessRequest(principal: principal("user:x", roles: ["day"]), action: "sql:read", resource: "t",
                                               time: utc("2026-11-25T19:30:00Z")))
        #expect(late.reason.hasSuffix("grant office of role day would, but the time (19:30 UTC) is outside 08:00-18:00 UTC"))
        let saturday = policy.decide(AccessRequest(principal: principal("user:x", roles: ["weekdays"]), action: "sql:read", resource: "t",
                                                   time: utc("2026-11-28T10:00:00Z")))
        #expect(saturday.reason.hasSuffix("but the day (sat) is outside 00:00-24:00 Europe/Berlin on mon-fri"))
    }
}

@Suite struct PolicyFileTests {
    @Test func countsAndHash() throws {
        #expect(matrix.roleCount == 4)
        // 6 role grants + 3 agent grants + 2 denies + 1 approval.
        #expect(matrix.ruleCount == 12)
        #expect(matrix.source == "matrix.yaml")
        let minimal = try Policy(yaml: "version: 1\n", source: "m.yaml")
        #expect(minimal.sha256 == "09bfcc6a14b83e2192b8673677725c84883ee9cd0c70e45c9ec09daa8f2b2847")
        #expect(minimal.roleCount == 0)
    }

    @Test func knownPrincipalsAndTools() throws {
        let fay = try #require(matrix.principal("user:fay"))
        #expect(fay.kind == .user && fay.roles == ["finance"] && fay.attributes == ["team": "finance"])
        #expect(matrix.principal("agent:bot")?.kind == .agent)
        #expect(matrix.principal("user:nobody") == nil)
        #expect(matrix.principalIDs == ["agent:bot", "user:ann", "user:fay", "user:oli", "user:wes"])
        #expect(matrix.toolPolicy("sql.query").rateLimit == RateLimit(capacity: 30, period: .seconds(60)))
        #expect(matrix.toolPolicy("sql.query").approval == nil)
        #expect(matrix.toolPolicy("email.send").rateLimit == RateLimit(capacity: 5, period: .seconds(3_600)))
        #expect(matrix.toolPolicy("email.send").approval == ApprovalRequirement(rule: "tool:email.send", approver: "role:owner"))
        #expect(matrix.toolPolicy("git.commit").rateLimit == nil)
    }

    @Test func loadingAMissingFileSaysSo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("nope.yaml")
        #expect(throws: PolicyError.self) { try Policy.load(file: path) }
        do {
            _ = try Policy.load(file: path)
        } catch {
            #expect(error.description == "\(path): no such policy file; check the path, or start from examples/policy.yaml")
        }
        do {
            _ = try Policy.load(file: directory.url.path)
        } catch {
            #expect(error.message.contains("is a directory"))
        }
        try "version: 1\nroles: {a: {}}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Policy.load(file: path).roleNames == ["a"])
    }

    /// Malformed policies: the exact place, and a message that says how to fix it.
    struct Malformed: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(name: "unknown top-level key", yaml: "version: 1\nrolez: {}\n", line: 2, column: 1,
                  message: "unknown key `rolez` in the policy; did you mean `roles`? known keys: version, roles, principals, agents, deny, approvals, tools"),
        Malformed(name: "missing version", yaml: "roles: {}\n", line: 1, column: 1,
                  message: "the policy has no `version:`; add `version: 1` at the top"),
        Malformed(name: "wrong version", yaml: "version: 2\n", line: 1, column: 10,
                  message: "this Glassbox reads policy version 1, not `2`; write `version: 1`"),
        Malformed(name: "grants not a list", yaml: "version: 1\nroles:\n  analyst:\n    grants: sql:read\n", line: 4, column: 13,
                  message: "`grants` of role `analyst` must be a list, e.g. `[a, b]`, not `sql:read`"),
        Malformed(name: "bad glob", yaml: """
            version: 1
            roles:
              a:
                grants:
                  - action: sql:read
                    resource: "warehouse.[abc]"
            """, line: 6, column: 19,
                  message: "bad pattern `warehouse.[abc]`: `[` is not supported; use `*` (any run of characters) and `?` (one character) only"),
        Malformed(name: "action without an area", yaml: """
            version: 1
            roles:
              a:
                grants:
                  - action: sql.read
                    resource: "*"
            """, line: 5, column: 17,
                  message: "action `sql.read` must look like `area:verb` (e.g. `sql:read`, `file:*`) or be `*`"),
        Malformed(name: "misspelt grant key", yaml: """
            version: 1
            roles:
              a:
                grants:
                  - action: sql:read
                    resources: "*"
            """, line: 6, column: 9,
                  message: "unknown key `resources` in grant 1 of role `a`; did you mean `resource`? known keys: id, description, action, resource, when"),
        Malformed(name: "missing resource", yaml: "version: 1\nroles:\n  a:\n    grants:\n      - action: sql:read\n", line: 5, column: 9,
                  message: "grant 1 of role `a` has no `resource:`; add one, e.g. `resource: \"warehouse.sales.*\"` or a list"),
        Malformed(name: "bad duration", yaml: "version: 1\ntools:\n  sql.query: {rate_limit: {capacity: 30, per: 1 minute}}\n", line: 3, column: 47,
                  message: "bad duration `1 minute`; write a whole number and a unit: 500ms, 1s, 1m, 1h or 1d"),
        Malformed(name: "zero capacity", yaml: "version: 1\ntools:\n  sql.query: {rate_limit: {capacity: 0, per: 1m}}\n", line: 3, column: 38,
                  message: "`capacity` must be a whole number from 1 to 1000000, not `0`"),
        Malformed(name: "bad time window", yaml: """
            version: 1
            roles:
              a:
                grants:
                  - action: sql:read
                    resource: "*"
                    when:
                      time: "8-18"
            """, line: 8, column: 17,
                  message: "bad time window `8-18`; write HH:MM-HH:MM in 24-hour time, e.g. \"08:00-18:00\" (\"22:00-06:00\" runs past midnight)"),
        Malformed(name: "unknown day", yaml: """
            version: 1
            roles:
              a: {grants: [{action: sql:read, resource: "*", when: {time: {between: "08:00-18:00", days: [mon, fry]}}}]}
            """, line: 3, column: 100,
                  message: "unknown day `fry`; use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri"),
        Malformed(name: "unknown time zone", yaml: """
            version: 1
            roles:
              a: {grants: [{action: sql:read, resource: "*", when: {time: {between: "08:00-18:00", timezone: Mars/Olympus}}}]}
            """, line: 3, column: 98,
                  message: "unknown time zone `Mars/Olympus`; use an IANA name such as UTC or Europe/Berlin"),
        Malformed(name: "unknown condition", yaml: """
            version: 1
            roles:
              a: {grants: [{action: sql:read, resource: "*", when: {user.team: data}}]}
            """, line: 3, column: 57,
                  message: "unknown condition `user.team` in `when` of grant 1 of role `a`; use `principal.<attribute>`, `resource.<attribute>`, `context.<attribute>` or `time`"),
        Malformed(name: "unknown inherited role", yaml: "version: 1\nroles:\n  a:\n    inherits: [b]\n", line: 4, column: 16,
                  message: "unknown role `b` in `inherits` of role `a`; define it under `roles:` (known roles: a)"),
        Malformed(name: "unknown role of a principal", yaml: "version: 1\nroles:\n  a: {}\nprincipals:\n  user:x: {roles: [a, c]}\n",
                  line: 5, column: 23, message: "unknown role `c` in `roles` of `user:x`; define it under `roles:` (known roles: a)"),
        Malformed(name: "unknown role of an agent", yaml: "version: 1\nagents:\n  agent:x: {roles: [a]}\n",
                  line: 3, column: 21, message: "unknown role `a` in `roles` of `agent:x`; define it under `roles:` (known roles: none)"),
        Malformed(name: "inheritance cycle", yaml: "version: 1\nroles:\n  a:\n    inherits: [b]\n  b:\n    inherits: [c]\n  c:\n    inherits: [a]\n",
                  line: 8, column: 16, message: "roles inherit in a cycle: a → b → c → a; remove one of these `inherits:` entries"),
        Malformed(name: "a role inheriting itself", yaml: "version: 1\nroles:\n  a:\n    inherits: a\n",
                  line: 4, column: 15, message: "roles inherit in a cycle: a → a; remove one of these `inherits:` entries"),
        Malformed(name: "duplicate grant ids", yaml: """
            version: 1
            roles:
              a:
                grants:
                  - id: g
                    action: sql:read
                    resource: "*"
              b:
                grants:
                  - id: g
                    action: sql:write
                    resource: "*"
            """, line: 10, column: 13,
                  message: "duplicate rule id `g`: another rule at line 5 has it; give each rule its own `id:`"),
        Malformed(name: "duplicate deny ids", yaml: "version: 1\ndeny:\n  - {id: d, action: \"*\", resource: a}\n  - {id: d, action: \"*\", resource: b}\n",
                  line: 4, column: 10, message: "duplicate rule id `d`: another rule at line 3 has it; give each rule its own `id:`"),
        Malformed(name: "an empty unless", yaml: "version: 1\ndeny:\n  - {action: \"*\", resource: \"*\", unless: {}}\n", line: 3, column: 42,
                  message: "`unless` of deny rule 1 has no condition, so the rule would never deny; add one, e.g. `unless: {principal.clearance: pii}`, or remove `unless:`"),
        Malformed(name: "principal without a kind", yaml: "version: 1\nprincipals:\n  alice: {}\n", line: 3, column: 3,
                  message: "principal id `alice` has no kind prefix; write it as `user:`, `service:`, `agent:` followed by a name, e.g. `user:alice`"),
        Malformed(name: "agent listed as a principal", yaml: "version: 1\nprincipals:\n  agent:x: {}\n", line: 3, column: 3,
                  message: "agents are listed under `agents:`; move `agent:x` there"),
        Malformed(name: "bad approver", yaml: "version: 1\napprovals:\n  - {action: sql:write, resource: \"*\", approver: admin}\n",
                  line: 3, column: 50, message: "approver `admin` must be `role:<role>` (anyone with the role) or a person, `user:<name>`"),
        Malformed(name: "approver role unknown", yaml: "version: 1\napprovals:\n  - {action: sql:write, resource: \"*\", approver: role:boss}\n",
                  line: 3, column: 50, message: "unknown role `boss` in `approver`; define it under `roles:` (known roles: none)"),
        Malformed(name: "attribute value a list", yaml: "version: 1\nprincipals:\n  user:x: {attributes: {team: [a, b]}}\n", line: 3, column: 31,
                  message: "`team` in `attributes` of `user:x` must be a single value such as `data`, not a list"),
        Malformed(name: "YAML syntax", yaml: "version: 1\nroles:\n  a: [unclosed\n", line: 4, column: 1,
                  message: "YAML syntax: did not find expected ',' or ']'; check the indentation and quoting around this place"),
        Malformed(name: "duplicate key", yaml: "version: 1\nroles: {}\nroles: {}\n", line: 2, column: 1,
                  message: "`roles` appears more than once in the same mapping; keep one (merge their contents)"),
        Malformed(name: "not a mapping", yaml: "- version: 1\n", line: 1, column: 1,
                  message: "the policy must be a mapping, e.g. `version: 1`, not a list"),
    ]

    @Test(arguments: malformed)
    func malformedPoliciesAreRefusedWithTheirPlace(_ example: Malformed) {
        do {
            _ = try Policy(yaml: example.yaml, source: "bad.yaml")
            Issue.record("\(example.name) was accepted")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.message == example.message)
            #expect(error.line == example.line, "\(error)")
            #expect(error.column == example.column, "\(error)")
            #expect(error.description == "bad.yaml:\(example.line):\(example.column): \(example.message)")
        }
    }

    @Test func anEmptyPolicyIsRefused() {
        #expect(throws: PolicyError.self) { try Policy(yaml: "", source: "e.yaml") }
        #expect(throws: PolicyError.self) { try Policy(yaml: "# nothing\n", source: "e.yaml") }
    }
}

@Suite struct PrincipalAndPatternTests {
    @Test func kindsComeFromThePrefix() throws {
        #expect(try Principal(parsing: "user:alice").kind == .user)
        #expect(try Principal(parsing: "service:ci").kind == .service)
        #expect(try Principal(parsing: "agent:analyst", roles: ["a"]).roles == ["a"])
        #expect(try Principal(parsing: "user:alice@example.com").kind == .user)
    }

    @Test(arguments: [
        ("alice", "has no kind prefix"), ("robot:x", "has the unknown kind `robot`"), ("user:", "has no name after the colon"),
        ("user:a b", "contains a space"), ("", "has no kind prefix"),
    ])
    func badIDsAreRefused(_ id: String, _ problem: String) {
        do {
            _ = try Principal(parsing: id)
            Issue.record("\(id) was accepted")
        } catch {
            #expect(error.message.contains(problem), "\(error)")
            #expect(error.line == nil)
        }
    }

    @Test func globs() throws {
        let tables = try ResourcePattern("warehouse.*.pii_*")
        #expect(tables.matches("warehouse.crm.pii_contacts"))
        #expect(tables.matches("warehouse.a.b.pii_"))
        #expect(!tables.matches("warehouse.crm.contacts"))
        #expect(!tables.matches("lake.crm.pii_contacts"))
        #expect(!tables.matches("warehouse.crm.PII_contacts"))
        #expect(tables.matches("WAREHOUSE.crm.PII_contacts", ignoringCase: true))
        #expect(try ResourcePattern("*").matches(""))
        #expect(try ResourcePattern("*").matches("workspace:models/a.sql"))
        #expect(try ResourcePattern("sql:*").matches("sql:"))
        #expect(try ResourcePattern("?:x").matches("a:x"))
        #expect(try !ResourcePattern("?:x").matches(":x"))
        #expect(try !ResourcePattern("?:x").matches("ab:x"))
        #expect(try ResourcePattern("*a*b*c").matches("xxaxxbxxbxxc"))
        #expect(try !ResourcePattern("*a*b*c").matches("xxaxxbxxbxxcx"))
        #expect(try ResourcePattern("workspace").matches("workspace"))
        #expect(try !ResourcePattern("workspace").matches("workspace:x"))
        #expect(try ResourcePattern("workspace").isLiteral)
        #expect(try !ResourcePattern("sql:?").isLiteral)
        #expect(throws: ResourcePattern.SyntaxError.self) { try ResourcePattern("") }
        #expect(throws: ResourcePattern.SyntaxError.self) { try ResourcePattern("a{b,c}") }
        #expect(throws: ResourcePattern.SyntaxError.self) { try ResourcePattern("a b") }
    }
}

@Suite struct PolicyTestSuiteTests {
    @Test func casesPassAndFailWithTheirDifferences() throws {
        let suite = try PolicyTestSuite(yaml: """
            policy: matrix.yaml
            cases:
              - name: ann reads
                principal: user:ann
                action: sql:read
                resource: wh.sales.orders
                expect: allow
                rule: read-sales
                approval: none
              - name: wrong expectation
                principal: user:ann
                action: sql:write
                resource: wh.sales.orders
                expect: allow
                rule: write-sales
              - name: agent for wes
                principal: user:wes
                agent: agent:bot
                action: sql:write
                resource: wh.sales.orders
                context: {environment: dev}
                time: 2026-11-25T10:00:00Z
                expect: allow
                rule: "caller: write-sales ∩ agent: bot-write"
                approval: role:owner
              - name: an ad-hoc principal
                principal: {id: user:new, roles: [finance], attributes: {team: finance}}
                action: sql:read
                resource: wh.billing.x
                resource_attributes: {sensitivity: medium}
                expect: allow
                approval: role:owner
            """, source: "tests/cases.yaml")
        #expect(suite.policyPath == "tests/matrix.yaml")
        #expect(suite.cases.count == 4)
        #expect(suite.cases[2].line == 16)
        let outcomes = try suite.run(against: matrix)
        #expect(outcomes.map(\.passed) == [true, false, true, false])
        #expect(outcomes[1].failures.count == 2)
        #expect(outcomes[1].failures[0].hasPrefix("expected allow, got deny: no grant of user:ann allows sql:write"))
        #expect(outcomes[1].failures[1] == "expected rule `write-sales`, got `default-deny`")
        #expect(outcomes[3].failures == ["expected approval role:owner, got none"])
    }

    @Test func aPrincipalGivenByIDMustBeKnown() throws {
        let suite = try PolicyTestSuite(yaml: """
            cases:
              - {name: x, principal: user:ghost, action: sql:read, resource: t, expect: deny}
            """, source: "cases.yaml")
        #expect(suite.policyPath == nil)
        do {
            _ = try suite.run(against: matrix)
            Issue.record("an unknown principal was accepted")
        } catch {
            #expect(error.line == 2 && error.column == 26)
            #expect(error.message.contains("matrix.yaml does not list `user:ghost`"))
        }
    }

    @Test(arguments: [
        ("cases: []\n", 1, 8, "`cases` is empty; add at least one case"),
        ("cases:\n  - {name: x, principal: user:a, action: a:b, resource: r, expect: maybe}\n", 2, 68, "`expect` must be allow or deny, not `maybe`"),
        ("cases:\n  - {name: x, principal: user:a, action: a:b, resource: r}\n", 2, 5,
         "case 1 has no `expect:`; every case needs name, principal, action, resource and expect"),
        ("cases:\n  - {name: x, principal: user:a, action: a:b, resource: r, expect: deny, time: tomorrow}\n", 2, 80,
         "bad time `tomorrow`; write ISO 8601 with a zone, e.g. 2026-11-25T10:00:00Z"),
        ("cases:\n  - {name: x, principal: user:a, agent: user:b, action: a:b, resource: r, expect: deny}\n", 2, 41,
         "`agent` must be an agent id such as `agent:analyst`, not `user:b`"),
        ("policy: p.yaml\ncase: []\n", 2, 1, "unknown key `case` in the test file; did you mean `cases`? known keys: policy, cases"),
    ])
    func malformedTestFiles(_ yaml: String, _ line: Int, _ column: Int, _ message: String) {
        do {
            _ = try PolicyTestSuite(yaml: yaml, source: "t.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message == message)
            #expect(error.line == line && error.column == column, "\(error)")
        }
    }

    /// The shipped examples stay valid and all their cases pass.
    @Test func theExamplesPass() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let suite = try PolicyTestSuite.load(file: root.appendingPathComponent("examples/policy-tests.yaml").path)
        let policy = try Policy.load(file: try #require(suite.policyPath))
        #expect(policy.roleNames == ["viewer", "analyst", "engineer", "reporter", "admin"])
        #expect(suite.cases.count >= 25)
        for outcome in try suite.run(against: policy) {
            #expect(outcome.passed, "\(outcome.testCase.name): \(outcome.failures.joined(separator: "; "))")
        }
    }
}
