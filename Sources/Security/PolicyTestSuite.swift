public import Foundation
import Yams

/// A `glassbox policy test` file: requests and the decisions a policy must give them.
///
/// ```yaml
/// policy: policy.yaml              # relative to this file
/// cases:
///   - name: analyst reads sales
///     principal: user:alice        # a principal the policy lists, or {id:, roles:, attributes:}
///     agent: agent:analyst         # optional: decide for the agent acting for the principal
///     action: sql:read
///     resource: warehouse.sales.orders
///     resource_attributes: {}      # optional
///     context: {environment: prod} # optional
///     time: 2026-11-25T10:00:00Z   # optional; default: now
///     expect: allow                # allow | deny
///     rule: read-warehouse         # optional: the deciding rule
///     approval: role:admin         # optional: the approver required (`none`: no approval)
/// ```
public struct PolicyTestSuite: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var principal: Principal
        public var agent: Principal?
        public var action: String
        public var resource: String
        public var resourceAttributes: [String: String]
        public var context: [String: String]
        /// Nil: the time the suite runs.
        public var time: Date?
        public var expectAllow: Bool
        /// The deciding rule expected, when given.
        public var rule: String?
        /// The approver expected, when given; `none` expects no approval.
        public var approval: String?
        /// Where the case starts in the file.
        public var line: Int?
        /// Principals given by id alone must be listed in the policy; kept to check that.
        var references: [(id: String, line: Int?, column: Int?)]
    }

    /// One case's result.
    public struct Outcome: Sendable {
        public var testCase: Case
        public var decision: Decision
        /// What differed from the expectation; empty when the case passed.
        public var failures: [String]
        public var passed: Bool { failures.isEmpty }
    }

    public let source: String
    /// The file's `policy:` resolved against the file's folder; nil when it names none.
    public let policyPath: String?
    public let cases: [Case]

    /// Reads and parses a test file.
    public static func load(file path: String) throws(PolicyError) -> PolicyTestSuite {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw PolicyError(file: path, line: nil, column: nil, message: exists
                ? "cannot read the policy test file; check its permissions"
                : "no such policy test file; check the path (examples/policy-tests.yaml shows the format)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PolicyError(file: path, line: nil, column: nil, message: "the policy test file is not UTF-8 text; save it as UTF-8")
        }
        return try PolicyTestSuite(yaml: text, source: path)
    }

    /// Parses a test file; `source` is its path, against which `policy:` is resolved.
    public init(yaml: String, source: String) throws(PolicyError) {
        let reader = YAMLReader(file: source, text: yaml)
        guard let root = try reader.root(), !reader.isNull(root) else {
            throw PolicyError(file: source, line: nil, column: nil,
                              message: "the test file is empty; write `policy: policy.yaml` and a list of `cases:`")
        }
        let top = try reader.fields(root, "the test file", keys: ["policy", "cases"], example: "cases: [...]")
        self.source = source
        policyPath = try top["policy"].map { (node) throws(PolicyError) in
            Self.resolve(try reader.string(node, "`policy`"), against: source)
        }
        guard let casesNode = top["cases"] else {
            throw reader.error(root, "the test file has no `cases:`; add a list of cases (see examples/policy-tests.yaml)")
        }
        var cases: [Case] = []
        var names = Set<String>()
        for (index, item) in try reader.items(casesNode, "`cases`").enumerated() {
            let testCase = try Self.parseCase(item, index: index, reader: reader)
            guard names.insert(testCase.name).inserted else {
                throw reader.error(item, "two cases are named `\(testCase.name)`; give each case its own name")
            }
            cases.append(testCase)
        }
        guard !cases.isEmpty else { throw reader.error(casesNode, "`cases` is empty; add at least one case") }
        self.cases = cases
    }

    /// Decides every case. Throws when a case names a principal by id that the policy does not list.
    public func run(against policy: Policy, now: Date = Date()) throws(PolicyError) -> [Outcome] {
        var outcomes: [Outcome] = []
        for testCase in cases {
            for reference in testCase.references where policy.principal(reference.id) == nil {
                throw PolicyError(file: source, line: reference.line, column: reference.column,
                                  message: "case `\(testCase.name)`: \(policy.source) does not list `\(reference.id)`; add it under "
                                  + "`principals:`/`agents:` there, or write `{id: \(reference.id), roles: [...]}` in the case")
            }
            let decision = policy.decide(caller: testCase.principal, agent: testCase.agent, action: testCase.action,
                                         resource: testCase.resource, resourceAttributes: testCase.resourceAttributes,
                                         context: testCase.context, time: testCase.time ?? now)
            var failures: [String] = []
            if decision.allowed != testCase.expectAllow {
                failures.append("expected \(testCase.expectAllow ? "allow" : "deny"), got \(decision.allowed ? "allow" : "deny"): \(decision.reason)")
            }
            if let rule = testCase.rule, rule != decision.rule {
                failures.append("expected rule `\(rule)`, got `\(decision.rule)`")
            }
            if let approval = testCase.approval {
                let actual = decision.approvals.map(\.approver)
                if approval == "none" ? !actual.isEmpty : !actual.contains(approval) {
                    failures.append("expected approval \(approval), got \(actual.isEmpty ? "none" : actual.joined(separator: ", "))")
                }
            }
            outcomes.append(Outcome(testCase: testCase, decision: decision, failures: failures))
        }
        return outcomes
    }

    static let caseKeys = ["name", "principal", "agent", "action", "resource", "resource_attributes", "context", "time",
                           "expect", "rule", "approval"]

    private static func parseCase(_ node: Node, index: Int, reader: YAMLReader) throws(PolicyError) -> Case {
        let what = "case \(index + 1)"
        let fields = try reader.fields(node, what, keys: caseKeys,
                                       example: "{name: ..., principal: user:alice, action: sql:read, resource: ..., expect: allow}")
        func required(_ key: String) throws(PolicyError) -> Node {
            guard let value = fields[key] else { throw reader.error(node, "\(what) has no `\(key):`; every case needs name, principal, action, resource and expect") }
            return value
        }
        var references: [(id: String, line: Int?, column: Int?)] = []
        func principal(_ node: Node, _ key: String) throws(PolicyError) -> Principal {
            if node.scalar != nil {
                let id = try reader.string(node, "`\(key)`")
                if let problem = Principal.problem(with: id) { throw reader.error(node, problem) }
                references.append((id, node.mark?.line, node.mark?.column))
                return try Principal(parsing: id)
            }
            let spec = try reader.fields(node, "`\(key)` of \(what)", keys: ["id", "roles", "attributes"],
                                         example: "{id: user:zoe, roles: [analyst], attributes: {team: data}}")
            guard let idNode = spec["id"] else { throw reader.error(node, "`\(key)` of \(what) needs `id:`, e.g. `{id: user:zoe, roles: [analyst]}`") }
            let id = try reader.string(idNode, "`id`")
            if let problem = Principal.problem(with: id) { throw reader.error(idNode, problem) }
            var roles: [String] = []
            if let rolesNode = spec["roles"] {
                for item in try reader.items(rolesNode, "`roles`", allowScalar: true) { roles.append(try reader.string(item, "each role")) }
            }
            let attributes = try spec["attributes"].map { (node) throws(PolicyError) in try reader.stringMap(node, "`attributes`") } ?? [:]
            return try Principal(parsing: id, roles: roles, attributes: attributes)
        }
        let name = try reader.string(try required("name"), "`name`")
        let caller = try principal(try required("principal"), "principal")
        let agent = try fields["agent"].map { (node) throws(PolicyError) in try principal(node, "agent") }
        if let agent, agent.kind != .agent, let node = fields["agent"] {
            throw reader.error(node, "`agent` must be an agent id such as `agent:analyst`, not `\(agent.id)`")
        }
        let expectNode = try required("expect")
        let expect = try reader.string(expectNode, "`expect`")
        guard expect == "allow" || expect == "deny" else {
            throw reader.error(expectNode, "`expect` must be allow or deny, not `\(expect)`")
        }
        var time: Date?
        if let timeNode = fields["time"] {
            let text = try reader.string(timeNode, "`time`")
            guard let date = AccessRequest.time(iso8601: text) else {
                throw reader.error(timeNode, "bad time `\(text)`; write ISO 8601 with a zone, e.g. 2026-11-25T10:00:00Z")
            }
            time = date
        }
        return Case(
            name: name, principal: caller, agent: agent,
            action: try reader.string(try required("action"), "`action`"),
            resource: try reader.string(try required("resource"), "`resource`"),
            resourceAttributes: try fields["resource_attributes"].map { (node) throws(PolicyError) in
                try reader.stringMap(node, "`resource_attributes`")
            } ?? [:],
            context: try fields["context"].map { (node) throws(PolicyError) in try reader.stringMap(node, "`context`") } ?? [:],
            time: time, expectAllow: expect == "allow",
            rule: try fields["rule"].map { (node) throws(PolicyError) in try reader.string(node, "`rule`") },
            approval: try fields["approval"].map { (node) throws(PolicyError) in try reader.string(node, "`approval`") },
            line: node.mark?.line, references: references)
    }

    /// A relative `policy:` is relative to the test file's folder.
    static func resolve(_ path: String, against source: String) -> String {
        guard !path.hasPrefix("/"), let slash = source.lastIndex(of: "/") else { return path }
        return String(source[...slash]) + path
    }
}

extension AccessRequest {
    /// Parses an ISO 8601 time with a zone, e.g. `2026-11-25T10:00:00Z` or `2026-11-25T12:00:00.250+02:00`.
    public static func time(iso8601 text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle()))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
