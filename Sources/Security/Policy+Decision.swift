public import Foundation

/// The answer to an ``AccessRequest``: allowed or not, the rule that decided, and why.
public struct Decision: Sendable, CustomStringConvertible {
    public var allowed: Bool
    /// The deciding rule: `deny:<id>`, a grant's id (or `role:<role>/grant:<index>`), `default-deny`,
    /// or for an agent acting for a caller `caller: <rule> ∩ agent: <rule>`.
    public var rule: String
    /// One sentence naming the principal, action and resource, and what to change if it is wrong.
    public var reason: String
    /// On an allow: the approvals a human must give first, most specific first.
    public var approvals: [ApprovalRequirement]

    public init(allowed: Bool, rule: String, reason: String, approvals: [ApprovalRequirement] = []) {
        self.allowed = allowed
        self.rule = rule
        self.reason = reason
        self.approvals = approvals
    }

    /// On an allow: the approval a human must give first (the first of ``approvals``).
    public var approval: ApprovalRequirement? {
        get { approvals.first }
        set { approvals = newValue.map { [$0] } ?? [] }
    }

    /// `ALLOW by read-warehouse: user:alice may sql:read on warehouse.sales.orders …`
    public var description: String { "\(allowed ? "ALLOW" : "DENY") by \(rule): \(reason)" }
}

extension Policy {
    /// The rule name of a decision no rule allowed.
    public static let defaultDenyRule = "default-deny"

    /// Decides one principal's request: a matching deny (whose `unless` does not hold) denies; else the first
    /// matching grant allows (its own grants first, then its roles in declaration order, each role's grants in
    /// order), with the first matching approval requirement; else `default-deny`.
    public func decide(_ request: AccessRequest) -> Decision {
        let facts = ConditionFacts(principal: merged(request.principal), resourceAttributes: request.resourceAttributes,
                                   context: request.context, time: request.time)
        let who = request.principal.id, action = request.action, resource = request.resource
        for deny in denies where deny.covers(action: action, resource: resource) && deny.when.failure(facts) == nil {
            if let unless = deny.unless, unless.failure(facts) == nil { continue }
            var reason = "\(who) may not \(action) on \(resource): deny rule \(deny.id) forbids it"
            if let text = deny.reason { reason += " (\(text))" }
            if let unless = deny.unless { reason += "; it makes an exception only when \(unless.summary)" }
            return Decision(allowed: false, rule: deny.name, reason: reason)
        }
        let grants = grants(of: facts.principal)
        guard let grant = grants.first(where: {
            $0.covers(action: action, resource: resource) && $0.conditions.failure(facts) == nil
        }) else {
            return Decision(allowed: false, rule: Self.defaultDenyRule,
                            reason: missingGrantReason(facts, grants: grants, action: action, resource: resource))
        }
        var reason = "\(who) may \(action) on \(resource) by \(grant.label)"
        var approvals: [ApprovalRequirement] = []
        if let rule = self.approvals.first(where: { $0.covers(action: action, resource: resource) && $0.when.failure(facts) == nil }) {
            approvals.append(ApprovalRequirement(rule: rule.name, approver: rule.approver))
            reason += ", after approval by \(rule.approver) (\(rule.name))"
        }
        return Decision(allowed: true, rule: grant.name, reason: reason, approvals: approvals)
    }

    /// Decides for an agent acting for a caller: allowed only when both the caller and the agent are
    /// allowed, and then every approval either side needs applies. Without an agent, the caller's decision.
    public func decide(caller: Principal, agent: Principal?, action: String, resource: String,
                       resourceAttributes: [String: String] = [:], context: [String: String] = [:],
                       time: Date = Date()) -> Decision {
        func request(_ principal: Principal) -> AccessRequest {
            AccessRequest(principal: principal, action: action, resource: resource,
                          resourceAttributes: resourceAttributes, context: context, time: time)
        }
        let callerDecision = decide(request(caller))
        guard let agent else { return callerDecision }
        let agentDecision = decide(request(agent))
        let rule = "caller: \(callerDecision.rule) ∩ agent: \(agentDecision.rule)"
        let acting = "\(agent.id) acting for \(caller.id)"
        switch (callerDecision.allowed, agentDecision.allowed) {
        case (true, true):
            var approvals = callerDecision.approvals
            for approval in agentDecision.approvals where !approvals.contains(approval) { approvals.append(approval) }
            var reason = "\(acting) may \(action) on \(resource): the caller by \(callerDecision.rule) and the agent by \(agentDecision.rule)"
            if !approvals.isEmpty { reason += ", after approval by " + approvals.map(\.description).joined(separator: " and ") }
            return Decision(allowed: true, rule: rule, reason: reason, approvals: approvals)
        case (false, true):
            return Decision(allowed: false, rule: rule, reason: "\(acting) may not \(action) on \(resource), because the caller may not, "
                            + "and an agent never has more rights than the person it acts for: \(callerDecision.reason)")
        case (true, false):
            return Decision(allowed: false, rule: rule, reason: "\(acting) may not \(action) on \(resource), because the agent may not: "
                            + agentDecision.reason)
        case (false, false):
            return Decision(allowed: false, rule: rule, reason: "\(acting) may not \(action) on \(resource), because neither may: "
                            + "\(callerDecision.reason); and \(agentDecision.reason)")
        }
    }

    /// The request's principal with the roles and attributes the policy gives its id (the request's attributes win).
    func merged(_ principal: Principal) -> Principal {
        guard let known = entries[principal.id]?.principal else { return principal }
        var result = principal
        result.roles = known.roles + principal.roles.filter { !known.roles.contains($0) }
        result.attributes = known.attributes.merging(principal.attributes) { _, request in request }
        return result
    }

    /// The principal's own grants, then those of its roles and the roles they inherit, in declaration order.
    func grants(of principal: Principal) -> [Grant] {
        let own = entries[principal.id]?.grants ?? []
        return own + heldRoles(principal).flatMap { roles[$0].grants }
    }

    /// Indexes into `roles` of the principal's known roles and everything they inherit, sorted.
    func heldRoles(_ principal: Principal) -> [Int] {
        var held = Set<Int>()
        var pending = principal.roles.compactMap { roleIndex[$0] }
        while let index = pending.popLast() {
            guard held.insert(index).inserted else { continue }
            pending += roles[index].inherits.compactMap { roleIndex[$0] }
        }
        return held.sorted()
    }

    /// Why nothing allowed the request, pointing at the grant or role that would.
    private func missingGrantReason(_ facts: ConditionFacts, grants: [Grant], action: String, resource: String) -> String {
        let who = facts.principal.id
        let base = "no grant of \(who) allows \(action) on \(resource)"
        for grant in grants where grant.covers(action: action, resource: resource) {
            if let failure = grant.conditions.failure(facts) { return "\(base): \(grant.label) would, but \(failure)" }
        }
        for grant in grants {
            if let wildcard = grant.wildcardCovering(action: action, resource: resource) {
                return "\(base): \(action) is granted only by name, and \(grant.label) covers it only with the wildcard "
                    + "`\(wildcard.text)`; add a grant with `action: \(action)`"
            }
        }
        let held = Set(heldRoles(facts.principal))
        let section = facts.principal.kind == .agent ? "agents:" : "principals:"
        for (index, role) in roles.enumerated() where !held.contains(index) {
            if let grant = role.grants.first(where: { $0.covers(action: action, resource: resource) }) {
                return "\(base); role \(role.name) would (\(grant.name)): give \(who) that role under `\(section)` if it should"
            }
        }
        return "\(base); grant it in a role under `roles:`"
    }
}
