import Yams

/// Reads the YAML of policy and policy test files: typed values out of nodes, and errors that
/// carry the node's line and column and say what to write instead.
struct YAMLReader {
    let file: String
    let text: String

    /// The document's root node, or nil for an empty document.
    func root() throws(PolicyError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                throw PolicyError(file: file, line: mark.line, column: mark.column,
                                  message: "YAML syntax: \(problem); check the indentation and quoting around this place")
            case .duplicatedKeysInMapping(let duplicates, let context):
                let keys = duplicates.map { "`\($0)`" }.joined(separator: ", ")
                throw PolicyError(file: file, line: context.mark.line, column: context.mark.column,
                                  message: "\(keys) appears more than once in the same mapping; keep one (merge their contents)")
            default:
                throw PolicyError(file: file, line: nil, column: nil, message: "cannot read the YAML: \(error)")
            }
        } catch {
            throw PolicyError(file: file, line: nil, column: nil, message: "cannot read the YAML: \(error)")
        }
    }

    func error(_ node: Node, _ message: String) -> PolicyError {
        PolicyError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
    }

    /// `~`, `null` or nothing at all.
    func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// What a node is, for messages: the scalar itself, or "a mapping" / "a list".
    func shown(_ node: Node) -> String {
        if isNull(node) { return "empty" }
        if let scalar = node.scalar { return "`\(scalar.string)`" }
        return node.mapping != nil ? "a mapping" : "a list"
    }

    /// A mapping's keys and values in file order; unknown keys are refused (with a suggestion for a typo).
    func fields(_ node: Node, _ what: String, keys: [String], example: String) throws(PolicyError) -> Fields {
        guard let mapping = node.mapping else {
            throw error(node, "\(what) must be a mapping, e.g. `\(example)`, not \(shown(node))")
        }
        var entries: [Fields.Entry] = []
        for (keyNode, value) in mapping {
            let key = try string(keyNode, "a key in \(what)")
            guard keys.contains(key) else {
                let hint = Self.closest(to: key, in: keys).map { "did you mean `\($0)`? " } ?? ""
                throw error(keyNode, "unknown key `\(key)` in \(what); \(hint)known keys: \(keys.joined(separator: ", "))")
            }
            entries.append(Fields.Entry(key: key, keyNode: keyNode, value: value))
        }
        return Fields(node: node, entries: entries)
    }

    /// A mapping whose keys are names the file chooses (roles, principals, tools); null means none.
    func namedEntries(_ node: Node, _ what: String, example: String) throws(PolicyError) -> [Fields.Entry] {
        if isNull(node) { return [] }
        guard let mapping = node.mapping else {
            throw error(node, "\(what) must be a mapping, e.g. `\(example)`, not \(shown(node))")
        }
        var entries: [Fields.Entry] = []
        for (keyNode, value) in mapping {
            entries.append(Fields.Entry(key: try string(keyNode, "a key in \(what)"), keyNode: keyNode, value: value))
        }
        return entries
    }

    /// A non-empty scalar.
    func string(_ node: Node, _ what: String) throws(PolicyError) -> String {
        guard let scalar = node.scalar, !isNull(node), !scalar.string.isEmpty else {
            throw error(node, "\(what) must be a non-empty string, not \(shown(node))")
        }
        return scalar.string
    }

    /// The items of a list; a single scalar counts as a list of one when `allowScalar`; null is an empty list.
    func items(_ node: Node, _ what: String, allowScalar: Bool = false) throws(PolicyError) -> [Node] {
        if isNull(node) { return [] }
        if let sequence = node.sequence { return Array(sequence) }
        if allowScalar, node.scalar != nil { return [node] }
        throw error(node, "\(what) must be a list\(allowScalar ? " or a single value" : ""), e.g. `[a, b]`, not \(shown(node))")
    }

    /// A string or a list of strings; at least one.
    func strings(_ node: Node, _ what: String) throws(PolicyError) -> [(String, Node)] {
        var result: [(String, Node)] = []
        for item in try items(node, what, allowScalar: true) {
            guard item.scalar != nil else {
                throw error(item, "\(what) must be a string or a list of strings, not \(shown(item))")
            }
            result.append((try string(item, "each entry of \(what)"), item))
        }
        guard !result.isEmpty else { throw error(node, "\(what) must name at least one value") }
        return result
    }

    /// A mapping of names to scalar values, e.g. `attributes:`.
    func stringMap(_ node: Node, _ what: String) throws(PolicyError) -> [String: String] {
        var result: [String: String] = [:]
        for entry in try namedEntries(node, what, example: "{team: data}") {
            guard let scalar = entry.value.scalar, !isNull(entry.value) else {
                throw error(entry.value, "`\(entry.key)` in \(what) must be a single value such as `data`, not \(shown(entry.value))")
            }
            result[entry.key] = scalar.string
        }
        return result
    }

    /// The known key nearest to a misspelt one, if it is close.
    static func closest(to key: String, in keys: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        let scored = keys.map { ($0, distance(Array(key), Array($0))) }.filter { $0.1 <= 2 && $0.1 < key.count }
        return scored.min { $0.1 < $1.1 }?.0
    }
}

/// The entries of a mapping with known keys.
struct Fields {
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    let node: Node
    let entries: [Entry]

    subscript(key: String) -> Node? { entries.first { $0.key == key }?.value }
}
