/// Someone or something that acts: a person, a service account, or an agent.
///
/// Ids carry their kind as a prefix: `user:alice`, `service:ci`, `agent:analyst`.
///
/// ```swift
/// let alice = try Principal(parsing: "user:alice", roles: ["analyst"], attributes: ["team": "data"])
/// alice.kind   // .user
/// ```
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case user, service, agent
    }

    /// The full id, prefix included.
    public var id: String
    public var kind: Kind
    /// Role names; the policy adds the roles it assigns to this id.
    public var roles: [String]
    /// Attributes conditions can test (`principal.team`); the policy adds its own, these win.
    public var attributes: [String: String]

    public init(id: String, kind: Kind, roles: [String] = [], attributes: [String: String] = [:]) {
        self.id = id
        self.kind = kind
        self.roles = roles
        self.attributes = attributes
    }

    /// A principal whose kind comes from the id's prefix; throws for an id without a known prefix.
    public init(parsing id: String, roles: [String] = [], attributes: [String: String] = [:]) throws(PolicyError) {
        guard let kind = Self.kind(of: id) else {
            throw PolicyError(file: "", line: nil, column: nil, message: Self.problem(with: id) ?? "bad principal id `\(id)`")
        }
        self.init(id: id, kind: kind, roles: roles, attributes: attributes)
    }

    public var description: String { id }

    /// The kind of a well-formed id, or nil.
    static func kind(of id: String) -> Kind? {
        guard problem(with: id) == nil, let colon = id.firstIndex(of: ":") else { return nil }
        return Kind(rawValue: String(id[..<colon]))
    }

    /// What is wrong with an id, said so that the user can fix it; nil when it is fine.
    static func problem(with id: String) -> String? {
        let kinds = Kind.allCases.map { "`\($0.rawValue):`" }.joined(separator: ", ")
        guard let colon = id.firstIndex(of: ":") else {
            return "principal id `\(id)` has no kind prefix; write it as \(kinds) followed by a name, e.g. `user:alice`"
        }
        let prefix = String(id[..<colon])
        guard Kind(rawValue: prefix) != nil else {
            return "principal id `\(id)` has the unknown kind `\(prefix)`; use one of \(kinds)"
        }
        let name = id[id.index(after: colon)...]
        guard !name.isEmpty else { return "principal id `\(id)` has no name after the colon, e.g. `\(prefix):alice`" }
        if name.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
            return "principal id `\(id)` contains a space or control character; ids are single words such as `user:alice`"
        }
        return nil
    }
}
