/// Rights an agent definition asks for: actions on resources, as in a policy grant.
public struct AgentGrant: Sendable, Equatable {
    public var actions: [String]
    public var resources: [String]

    public init(actions: [String], resources: [String]) {
        self.actions = actions
        self.resources = resources
    }
}

extension Policy {
    /// Whether the policy has an entry for `id` under `principals:` or `agents:`.
    public func lists(_ id: String) -> Bool { entries[id] != nil }

    /// The policy with `grants` given to `agent`, when the policy does not list that agent itself.
    /// A policy entry always wins: the people who own the policy decide what an agent may do,
    /// and a definition file cannot widen it.
    public func givingUnlisted(agent id: String, grants: [AgentGrant]) throws(PolicyError) -> Policy {
        guard entries[id] == nil, !grants.isEmpty else { return self }
        var copy = self
        var converted: [Grant] = []
        for (index, grant) in grants.enumerated() {
            do {
                converted.append(Grant(name: "\(id)/definition-grant:\(index + 1)", owner: .principal(id),
                                       actions: try grant.actions.map { try ResourcePattern($0) },
                                       resources: try grant.resources.map { try ResourcePattern($0) }, conditions: Conditions()))
            } catch {
                throw PolicyError(file: "agent \(id)", line: nil, column: nil, message: "grant \(index + 1) of the agent definition: \(error)")
            }
        }
        copy.entries[id] = PrincipalEntry(principal: Principal(id: id, kind: .agent), grants: converted)
        return copy
    }
}
