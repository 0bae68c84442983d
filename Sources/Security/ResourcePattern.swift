/// A glob over action or resource names: `*` matches any run of characters (including
/// `.`, `:` and `/`, and none at all), `?` exactly one character; everything else matches itself.
///
/// ```swift
/// let tables = try ResourcePattern("warehouse.*.pii_*")
/// tables.matches("warehouse.crm.pii_contacts")   // true
/// tables.matches("warehouse.crm.contacts")       // false
/// ```
///
/// Matching is case-sensitive unless asked otherwise: grants match exactly, while deny rules and
/// approvals ignore case so that `WAREHOUSE.CRM.PII_CONTACTS` cannot slip past them.
public struct ResourcePattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let text: String
    private let characters: [Character]
    private let folded: [Character]

    /// A pattern that cannot be used, and why.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let pattern: String
        public let problem: String
        public var description: String { "bad pattern `\(pattern)`: \(problem)" }
    }

    /// Characters other globbing dialects give a meaning; refusing them avoids silent surprises.
    private static let reserved: Set<Character> = ["[", "]", "{", "}", "\\"]

    /// Parses a pattern; throws when it is empty, contains spaces or control characters,
    /// or uses `[ ] { } \`, which this dialect does not support.
    public init(_ text: String) throws(SyntaxError) {
        guard !text.isEmpty else {
            throw SyntaxError(pattern: text, problem: "it is empty; write a name, or `*` for everything")
        }
        if let bad = text.first(where: { Self.reserved.contains($0) }) {
            throw SyntaxError(pattern: text, problem: "`\(bad)` is not supported; use `*` (any run of characters) and `?` (one character) only")
        }
        if text.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
            throw SyntaxError(pattern: text, problem: "it contains a space or control character; names never do")
        }
        self.text = text
        characters = Array(text)
        folded = Array(text.lowercased())
    }

    /// True when the pattern has no wildcard, i.e. it names exactly one thing.
    public var isLiteral: Bool { !characters.contains("*") && !characters.contains("?") }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String, ignoringCase: Bool = false) -> Bool {
        ignoringCase ? Self.match(folded, Array(name.lowercased())) : Self.match(characters, Array(name))
    }

    public var description: String { text }

    public static func == (lhs: ResourcePattern, rhs: ResourcePattern) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Greedy matching with one backtrack point: the last `*` seen. Linear in practice, O(n·m) at worst.
    private static func match(_ pattern: [Character], _ name: [Character]) -> Bool {
        var p = 0, n = 0
        var star: Int?, resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == "?" || (pattern[p] != "*" && pattern[p] == name[n]) {
                p += 1
                n += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = n
                p += 1
            } else if let star {
                // Let the last `*` swallow one more character and try again from there.
                p = star + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
