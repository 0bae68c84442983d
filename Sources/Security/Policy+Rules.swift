import Foundation

// The parsed form of a policy file. Every rule keeps the name decisions report.

struct Role: Sendable {
    var name: String
    var description: String?
    var inherits: [String]
    var grants: [Grant]
}

/// A `principals:` or `agents:` entry.
struct PrincipalEntry: Sendable {
    var principal: Principal
    var grants: [Grant]
}

struct Grant: Sendable {
    enum Owner: Sendable, Equatable {
        case role(String)
        case principal(String)
    }

    /// The id as written, or `role:<role>/grant:<index>` (`<principal>/grant:<index>`).
    var name: String
    var owner: Owner
    var actions: [ResourcePattern]
    var resources: [ResourcePattern]
    var conditions: Conditions

    /// "grant read-warehouse of role analyst", for reasons.
    var label: String {
        switch owner {
        case .role(let role): return "grant \(name) of role \(role)"
        case .principal: return "grant \(name)"
        }
    }

    /// Whether the grant names this action and resource; conditions aside.
    /// An explicit-only action (see ``Action/isExplicitOnly(_:)``) is only granted by a pattern without wildcards.
    func covers(action: String, resource: String) -> Bool {
        let actionMatches = Action.isExplicitOnly(action)
            ? actions.contains { $0.isLiteral && $0.text == action }
            : actions.contains { $0.matches(action) }
        return actionMatches && resources.contains { $0.matches(resource) }
    }

    /// The wildcard pattern that would cover an explicit-only action if it were not explicit-only.
    func wildcardCovering(action: String, resource: String) -> ResourcePattern? {
        guard Action.isExplicitOnly(action), resources.contains(where: { $0.matches(resource) }) else { return nil }
        return actions.first { !$0.isLiteral && $0.matches(action) }
    }
}

struct DenyRule: Sendable {
    /// As written, or the rule's index in `deny:` when it has none.
    var id: String
    /// What decisions report: `deny:<id>`.
    var name: String { "deny:\(id)" }
    var actions: [ResourcePattern]
    var resources: [ResourcePattern]
    var when: Conditions
    var unless: Conditions?
    var reason: String?

    /// Restrictive rules ignore case and wildcards do match explicit-only actions: they fail closed.
    func covers(action: String, resource: String) -> Bool {
        actions.contains { $0.matches(action, ignoringCase: true) } && resources.contains { $0.matches(resource, ignoringCase: true) }
    }
}

struct ApprovalRule: Sendable {
    /// As written, or the rule's index in `approvals:` when it has none.
    var id: String
    /// What approval requirements report: `approval:<id>`.
    var name: String { "approval:\(id)" }
    var actions: [ResourcePattern]
    var resources: [ResourcePattern]
    var when: Conditions
    var approver: String

    func covers(action: String, resource: String) -> Bool {
        actions.contains { $0.matches(action, ignoringCase: true) } && resources.contains { $0.matches(resource, ignoringCase: true) }
    }
}

/// Action names: `<area>:<verb>`.
public enum Action {
    /// True when the action has a segment `destructive` (segments split at `:` and `.`), e.g. `sql:destructive`.
    /// Such an action is granted only by a grant that names it exactly: `sql:*` or `*` never grant it.
    public static func isExplicitOnly(_ action: String) -> Bool {
        action.lowercased().split(whereSeparator: { $0 == ":" || $0 == "." }).contains("destructive")
    }

    /// Why an action pattern is malformed, or nil: it must be `*` or `area:verb`, each side non-empty.
    static func problem(with pattern: String) -> String? {
        if pattern == "*" { return nil }
        guard let colon = pattern.firstIndex(of: ":"), colon != pattern.startIndex,
              pattern.index(after: colon) != pattern.endIndex else {
            return "action `\(pattern)` must look like `area:verb` (e.g. `sql:read`, `file:*`) or be `*`"
        }
        return nil
    }
}
