import Foundation
import Yams

extension Policy {
    static let topKeys = ["version", "roles", "principals", "agents", "deny", "approvals", "tools"]

    /// Parses a policy from YAML text; `source` names it in errors (usually the path).
    ///
    /// Throws a ``PolicyError`` with the line and column for syntax errors, unknown keys, wrong types,
    /// bad patterns, durations and time windows, unknown roles, duplicate rule ids and inheritance cycles.
    public init(yaml: String, source: String) throws(PolicyError) {
        var parser = PolicyParser(reader: YAMLReader(file: source, text: yaml))
        try parser.parse()
        self.init(source: source, text: yaml, roles: parser.roles, entries: parser.entries, denies: parser.denies,
                  approvals: parser.approvals, tools: parser.tools)
    }
}

/// Builds a policy's rules from its YAML, checking references once everything is read.
struct PolicyParser {
    let reader: YAMLReader
    var roles: [Role] = []
    var entries: [String: PrincipalEntry] = [:]
    var denies: [DenyRule] = []
    var approvals: [ApprovalRule] = []
    var tools: [String: ToolPolicy] = [:]
    /// Rule names seen so far and where, to refuse duplicates.
    private var ruleNames: [String: Node] = [:]
    /// Role references to check when all roles are known.
    private var roleReferences: [(name: String, node: Node, from: String)] = []
    private var inherits: [String: [(String, Node)]] = [:]
    /// Approvers naming a role, to check when all roles are known.
    private var approverRoles: [(String, Node)] = []

    init(reader: YAMLReader) {
        self.reader = reader
    }

    mutating func parse() throws(PolicyError) {
        guard let root = try reader.root(), !reader.isNull(root) else {
            throw PolicyError(file: reader.file, line: nil, column: nil,
                              message: "the policy is empty; start with `version: 1` and a `roles:` section (see examples/policy.yaml)")
        }
        let top = try reader.fields(root, "the policy", keys: Policy.topKeys, example: "version: 1")
        guard let version = top["version"] else {
            throw reader.error(root, "the policy has no `version:`; add `version: 1` at the top")
        }
        guard try reader.string(version, "`version`") == "1" else {
            throw reader.error(version, "this Glassbox reads policy version 1, not \(reader.shown(version)); write `version: 1`")
        }
        if let node = top["roles"] { try parseRoles(node) }
        if let node = top["principals"] { try parsePrincipals(node, section: "principals") }
        if let node = top["agents"] { try parsePrincipals(node, section: "agents") }
        if let node = top["deny"] { try parseDenies(node) }
        if let node = top["approvals"] { try parseApprovals(node) }
        if let node = top["tools"] { try parseTools(node) }
        try checkRoleReferences()
    }

    // MARK: Sections

    private mutating func parseRoles(_ node: Node) throws(PolicyError) {
        for entry in try reader.namedEntries(node, "`roles`", example: "analyst: {grants: [...]}") {
            let name = entry.key
            if let problem = Self.nameProblem(name) { throw reader.error(entry.keyNode, "role name `\(name)` \(problem)") }
            let what = "role `\(name)`"
            var role = Role(name: name, description: nil, inherits: [], grants: [])
            if !reader.isNull(entry.value) {
                let fields = try reader.fields(entry.value, what, keys: ["description", "inherits", "grants"],
                                               example: "grants: [{action: sql:read, resource: \"warehouse.*\"}]")
                role.description = try fields["description"].map { (node) throws(PolicyError) in try reader.string(node, "`description`") }
                if let node = fields["inherits"] {
                    var parents: [(String, Node)] = []
                    for item in try reader.items(node, "`inherits` of \(what)", allowScalar: true) {
                        parents.append((try reader.string(item, "each entry of `inherits`"), item))
                    }
                    inherits[name] = parents
                    role.inherits = parents.map(\.0)
                }
                if let node = fields["grants"] {
                    role.grants = try parseGrants(node, owner: .role(name), prefix: "role:\(name)", what: what)
                }
            }
            roles.append(role)
        }
    }

    private mutating func parsePrincipals(_ node: Node, section: String) throws(PolicyError) {
        let agents = section == "agents"
        for entry in try reader.namedEntries(node, "`\(section)`", example: agents ? "agent:analyst: {roles: [analyst]}" : "user:alice: {roles: [analyst]}") {
            let id = entry.key
            if let problem = Principal.problem(with: id) { throw reader.error(entry.keyNode, problem) }
            let principal = try Principal(parsing: id)
            if agents != (principal.kind == .agent) {
                throw reader.error(entry.keyNode, agents
                    ? "`agents:` lists agents only; move `\(id)` to `principals:`, or name it `agent:…`"
                    : "agents are listed under `agents:`; move `\(id)` there")
            }
            var result = PrincipalEntry(principal: principal, grants: [])
            if !reader.isNull(entry.value) {
                let what = "`\(id)`"
                let fields = try reader.fields(entry.value, what, keys: ["description", "roles", "attributes", "grants"],
                                               example: "{roles: [analyst], attributes: {team: data}}")
                if let node = fields["description"] { _ = try reader.string(node, "`description`") }
                if let node = fields["roles"] {
                    for item in try reader.items(node, "`roles` of \(what)", allowScalar: true) {
                        let role = try reader.string(item, "each entry of `roles`")
                        roleReferences.append((role, item, "`roles` of \(what)"))
                        result.principal.roles.append(role)
                    }
                }
                if let node = fields["attributes"] {
                    result.principal.attributes = try reader.stringMap(node, "`attributes` of \(what)")
                }
                if let node = fields["grants"] {
                    result.grants = try parseGrants(node, owner: .principal(id), prefix: id, what: what)
                }
            }
            entries[id] = result
        }
    }

    private mutating func parseDenies(_ node: Node) throws(PolicyError) {
        for (index, item) in try reader.items(node, "`deny`").enumerated() {
            let what = "deny rule \(index + 1)"
            let fields = try reader.fields(item, what, keys: ["id", "description", "action", "resource", "when", "unless", "reason"],
                                           example: "{id: no-pii, action: \"*\", resource: \"warehouse.*.pii_*\"}")
            let id = try ruleID(fields, default: String(index), prefix: "deny:")
            if let node = fields["description"] { _ = try reader.string(node, "`description`") }
            if let node = fields["unless"], try conditions(node, "`unless` of \(what)").isEmpty {
                throw reader.error(node, "`unless` of \(what) has no condition, so the rule would never deny; add one, "
                                   + "e.g. `unless: {principal.clearance: pii}`, or remove `unless:`")
            }
            denies.append(DenyRule(
                id: id,
                actions: try actionPatterns(fields, what),
                resources: try resourcePatterns(fields, what),
                when: try fields["when"].map { (node) throws(PolicyError) in try conditions(node, "`when` of \(what)") } ?? Conditions(),
                unless: try fields["unless"].map { (node) throws(PolicyError) in try conditions(node, "`unless` of \(what)") },
                reason: try fields["reason"].map { (node) throws(PolicyError) in try reader.string(node, "`reason`") }))
        }
    }

    private mutating func parseApprovals(_ node: Node) throws(PolicyError) {
        for (index, item) in try reader.items(node, "`approvals`").enumerated() {
            let what = "approval rule \(index + 1)"
            let fields = try reader.fields(item, what, keys: ["id", "description", "action", "resource", "when", "approver"],
                                           example: "{action: sql:write, resource: \"warehouse.*\", approver: role:admin}")
            let id = try ruleID(fields, default: String(index), prefix: "approval:")
            if let node = fields["description"] { _ = try reader.string(node, "`description`") }
            guard let approver = fields["approver"] else {
                throw reader.error(item, "\(what) has no `approver:`; add one, e.g. `approver: role:admin`")
            }
            approvals.append(ApprovalRule(
                id: id,
                actions: try actionPatterns(fields, what),
                resources: try resourcePatterns(fields, what),
                when: try fields["when"].map { (node) throws(PolicyError) in try conditions(node, "`when` of \(what)") } ?? Conditions(),
                approver: try self.approver(approver)))
        }
    }

    private mutating func parseTools(_ node: Node) throws(PolicyError) {
        for entry in try reader.namedEntries(node, "`tools`", example: "sql.query: {rate_limit: {capacity: 30, per: 1m}}") {
            let what = "tool `\(entry.key)`"
            let fields = try reader.fields(entry.value, what, keys: ["rate_limit", "approval"],
                                           example: "{rate_limit: {capacity: 30, per: 1m}}")
            var tool = ToolPolicy()
            if let node = fields["rate_limit"] {
                let limit = try reader.fields(node, "`rate_limit` of \(what)", keys: ["capacity", "per"], example: "{capacity: 30, per: 1m}")
                guard let capacityNode = limit["capacity"], let perNode = limit["per"] else {
                    throw reader.error(node, "`rate_limit` of \(what) needs both `capacity:` and `per:`, e.g. `{capacity: 30, per: 1m}`")
                }
                guard let capacity = capacityNode.scalar.flatMap({ Int($0.string) }), (1...1_000_000).contains(capacity) else {
                    throw reader.error(capacityNode, "`capacity` must be a whole number from 1 to 1000000, not \(reader.shown(capacityNode))")
                }
                let perText = try reader.string(perNode, "`per`")
                guard let period = DurationText.parse(perText) else {
                    throw reader.error(perNode, "bad duration `\(perText)`; write a whole number and a unit: 500ms, 1s, 1m, 1h or 1d")
                }
                tool.rateLimit = RateLimit(capacity: capacity, period: period)
            }
            if let node = fields["approval"] {
                let approval = try reader.fields(node, "`approval` of \(what)", keys: ["approver"], example: "{approver: role:admin}")
                guard let approverNode = approval["approver"] else {
                    throw reader.error(node, "`approval` of \(what) needs `approver:`, e.g. `{approver: role:admin}`")
                }
                tool.approval = ApprovalRequirement(rule: "tool:\(entry.key)", approver: try approver(approverNode))
            }
            tools[entry.key] = tool
        }
    }

    // MARK: Rules

    private mutating func parseGrants(_ node: Node, owner: Grant.Owner, prefix: String, what: String) throws(PolicyError) -> [Grant] {
        var grants: [Grant] = []
        for (index, item) in try reader.items(node, "`grants` of \(what)").enumerated() {
            let grantWhat = "grant \(index + 1) of \(what)"
            let fields = try reader.fields(item, grantWhat, keys: ["id", "description", "action", "resource", "when"],
                                           example: "{action: sql:read, resource: \"warehouse.*\"}")
            let name = try ruleID(fields, default: "\(prefix)/grant:\(index)", prefix: "")
            if let node = fields["description"] { _ = try reader.string(node, "`description`") }
            grants.append(Grant(
                name: name, owner: owner,
                actions: try actionPatterns(fields, grantWhat),
                resources: try resourcePatterns(fields, grantWhat),
                conditions: try fields["when"].map { (node) throws(PolicyError) in try conditions(node, "`when` of \(grantWhat)") } ?? Conditions()))
        }
        return grants
    }

    /// The rule's `id:` (or the default), refused when another rule already has the same name.
    private mutating func ruleID(_ fields: Fields, default defaultID: String, prefix: String) throws(PolicyError) -> String {
        let id: String
        let node: Node
        if let idNode = fields["id"] {
            id = try reader.string(idNode, "`id`")
            if let problem = Self.nameProblem(id) { throw reader.error(idNode, "rule id `\(id)` \(problem)") }
            node = idNode
        } else {
            id = defaultID
            node = fields.node
        }
        let name = prefix + id
        if let first = ruleNames[name] {
            let place = first.mark.map { " at line \($0.line)" } ?? ""
            throw reader.error(node, "duplicate rule id `\(id)`: another rule\(place) has it; give each rule its own `id:`")
        }
        ruleNames[name] = node
        return id
    }

    private func actionPatterns(_ fields: Fields, _ what: String) throws(PolicyError) -> [ResourcePattern] {
        guard let node = fields["action"] else {
            throw reader.error(fields.node, "\(what) has no `action:`; add one, e.g. `action: sql:read` or a list")
        }
        var patterns: [ResourcePattern] = []
        for (text, item) in try reader.strings(node, "`action` of \(what)") {
            if let problem = Action.problem(with: text) { throw reader.error(item, problem) }
            patterns.append(try pattern(text, item))
        }
        return patterns
    }

    private func resourcePatterns(_ fields: Fields, _ what: String) throws(PolicyError) -> [ResourcePattern] {
        guard let node = fields["resource"] else {
            throw reader.error(fields.node, "\(what) has no `resource:`; add one, e.g. `resource: \"warehouse.sales.*\"` or a list")
        }
        var patterns: [ResourcePattern] = []
        for (text, item) in try reader.strings(node, "`resource` of \(what)") { patterns.append(try pattern(text, item)) }
        return patterns
    }

    private func pattern(_ text: String, _ node: Node) throws(PolicyError) -> ResourcePattern {
        do {
            return try ResourcePattern(text)
        } catch {
            throw reader.error(node, error.description)
        }
    }

    private mutating func approver(_ node: Node) throws(PolicyError) -> String {
        let text = try reader.string(node, "`approver`")
        if text.hasPrefix("role:") {
            approverRoles.append((String(text.dropFirst("role:".count)), node))
        } else if Principal.kind(of: text) != .user {
            throw reader.error(node, "approver `\(text)` must be `role:<role>` (anyone with the role) or a person, `user:<name>`")
        }
        return text
    }

    // MARK: Conditions

    private func conditions(_ node: Node, _ what: String) throws(PolicyError) -> Conditions {
        var result = Conditions()
        for entry in try reader.namedEntries(node, what, example: "{principal.team: [data, finance]}") {
            if entry.key == "time" {
                result.time = try timeWindow(entry.value)
                continue
            }
            let parts = entry.key.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let scope = AttributeCondition.Scope(rawValue: String(parts[0])) else {
                throw reader.error(entry.keyNode, "unknown condition `\(entry.key)` in \(what); use `principal.<attribute>`, "
                                   + "`resource.<attribute>`, `context.<attribute>` or `time`")
            }
            let values = try reader.strings(entry.value, "`\(entry.key)`").map(\.0)
            result.attributes.append(AttributeCondition(scope: scope, name: String(parts[1]), values: values))
        }
        return result
    }

    private func timeWindow(_ node: Node) throws(PolicyError) -> TimeWindow {
        let example = "time: \"08:00-18:00\", or time: {between: \"08:00-18:00\", days: [mon, tue, wed, thu, fri], timezone: UTC}"
        var betweenNode = node
        var days: Set<Int>?
        var daysText = ""
        var zone = TimeZone(identifier: "UTC")!
        var zoneName = "UTC"
        if node.mapping != nil {
            let fields = try reader.fields(node, "`time`", keys: ["between", "days", "timezone"], example: example)
            guard let between = fields["between"] else {
                throw reader.error(node, "`time` needs `between:`, e.g. `\(example)`")
            }
            betweenNode = between
            if let daysNode = fields["days"] {
                var set = Set<Int>()
                var written: [String] = []
                for (text, item) in try reader.strings(daysNode, "`days`") {
                    guard let range = Self.days(text.lowercased()) else {
                        throw reader.error(item, "unknown day `\(text)`; use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri")
                    }
                    set.formUnion(range)
                    written.append(text.lowercased())
                }
                days = set
                daysText = " on " + written.joined(separator: ", ")
            }
            if let zoneNode = fields["timezone"] {
                let name = try reader.string(zoneNode, "`timezone`")
                guard let found = TimeZone(identifier: name) else {
                    throw reader.error(zoneNode, "unknown time zone `\(name)`; use an IANA name such as UTC or Europe/Berlin")
                }
                zone = found
                zoneName = name
            }
        }
        guard betweenNode.scalar != nil, let text = betweenNode.scalar?.string, let window = TimeWindow.minutes(text) else {
            throw reader.error(betweenNode, "bad time window \(reader.shown(betweenNode)); write HH:MM-HH:MM in 24-hour time, "
                               + "e.g. \"08:00-18:00\" (\"22:00-06:00\" runs past midnight)")
        }
        return TimeWindow(start: window.start, end: window.end, days: days, timeZone: zone, zoneName: zoneName,
                          text: "\(text) \(zoneName)\(daysText)")
    }

    /// `mon` → [2]; `mon-fri` → [2...6]; a range may wrap (`fri-mon`).
    private static func days(_ text: String) -> Set<Int>? {
        func day(_ name: some StringProtocol) -> Int? { TimeWindow.dayNames.firstIndex(of: String(name)).map { $0 + 1 } }
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        if ends.count == 1 { return day(ends[0]).map { [$0] } }
        guard ends.count == 2, let first = day(ends[0]), let last = day(ends[1]) else { return nil }
        var result = Set<Int>()
        var current = first
        while true {
            result.insert(current)
            if current == last { return result }
            current = current % 7 + 1
        }
    }

    // MARK: References

    private func checkRoleReferences() throws(PolicyError) {
        let known = Set(roles.map(\.name))
        let list = roles.map(\.name).joined(separator: ", ")
        func unknown(_ name: String, _ node: Node, _ from: String) -> PolicyError {
            reader.error(node, "unknown role `\(name)` in \(from); define it under `roles:` (known roles: \(list.isEmpty ? "none" : list))")
        }
        for role in roles {
            for (parent, node) in inherits[role.name] ?? [] where !known.contains(parent) {
                throw unknown(parent, node, "`inherits` of role `\(role.name)`")
            }
        }
        for reference in roleReferences where !known.contains(reference.name) {
            throw unknown(reference.name, reference.node, reference.from)
        }
        for (name, node) in approverRoles where !known.contains(name) {
            throw unknown(name, node, "`approver`")
        }
        try checkCycles()
    }

    /// Depth-first search; a role met again while still on the path closes a cycle.
    private func checkCycles() throws(PolicyError) {
        var done = Set<String>()
        var path: [String] = []
        func visit(_ role: String) throws(PolicyError) {
            if done.contains(role) { return }
            path.append(role)
            for (parent, node) in inherits[role] ?? [] {
                if let start = path.firstIndex(of: parent) {
                    let cycle = (path[start...] + [parent]).joined(separator: " → ")
                    throw reader.error(node, "roles inherit in a cycle: \(cycle); remove one of these `inherits:` entries")
                }
                try visit(parent)
            }
            path.removeLast()
            done.insert(role)
        }
        for role in roles { try visit(role.name) }
    }

    /// Why a role name or rule id is unusable, or nil.
    static func nameProblem(_ name: String) -> String? {
        if name.contains(where: { $0.isWhitespace }) { return "contains a space; use letters, digits, `-` and `_`" }
        if name.contains("∩") { return "contains `∩`, which decisions use to join rules" }
        return nil
    }
}
