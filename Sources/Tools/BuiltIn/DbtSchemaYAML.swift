import Foundation

/// A model's entry in a dbt `schema.yml`, and the merge that adds it to the file or replaces the
/// entry of the same name while leaving the rest of the file (other models, sources, comments) as
/// written. The YAML is emitted by hand: names plain when they are safe, descriptions double-quoted.
struct DbtModelEntry: Sendable, Hashable {
    struct Column: Sendable, Hashable {
        var name: String
        var description: String?
        /// Generic tests: `unique`, `not_null`.
        var tests: [String]
    }

    var name: String
    var description: String
    var columns: [Column]

    /// The entry as a list item, indented by `indent` spaces, each line ending in a newline.
    /// `testsKey` is `tests` or `data_tests` (dbt ≥ 1.8), following what the file already uses.
    func yaml(indent: Int, testsKey: String = "tests") -> String {
        let pad = String(repeating: " ", count: indent)
        var out = "\(pad)- name: \(DbtYAML.scalar(name))\n"
        out += "\(pad)  description: \(DbtYAML.quoted(description))\n"
        guard !columns.isEmpty else { return out }
        out += "\(pad)  columns:\n"
        for column in columns {
            out += "\(pad)    - name: \(DbtYAML.scalar(column.name))\n"
            if let description = column.description { out += "\(pad)      description: \(DbtYAML.quoted(description))\n" }
            if !column.tests.isEmpty {
                out += "\(pad)      \(testsKey):\n"
                for test in column.tests { out += "\(pad)        - \(DbtYAML.scalar(test))\n" }
            }
        }
        return out
    }
}

enum DbtYAML {
    /// A scalar written plain when that is unambiguous (letters, digits, `_`, not a YAML keyword or
    /// number), double-quoted otherwise.
    static func scalar(_ text: String) -> String {
        let plain = !text.isEmpty && text.first!.isLetter && text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
        let keywords: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n"]
        return plain && !keywords.contains(text.lowercased()) ? text : quoted(text)
    }

    /// A double-quoted YAML scalar: `\`, `"` and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                    : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A plain or quoted scalar read back (enough for `name:` values), without a trailing comment.
    static func unquote(_ raw: Substring) -> String {
        let text = raw.trimmingSpaces
        if text.hasPrefix("#") { return "" }
        if text.hasPrefix("\"") {
            var value = ""
            var escaped = false
            for c in text.dropFirst() {
                if escaped {
                    value.append(c == "n" ? "\n" : c == "t" ? "\t" : c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    return value
                } else {
                    value.append(c)
                }
            }
            return value
        }
        if text.hasPrefix("'") {
            // Single-quoted: `''` is a quote.
            return String(text.dropFirst().prefix { $0 != "'" })
        }
        if let comment = text.range(of: " #") { return String(text[..<comment.lowerBound]).trimmingSpaces }
        return text
    }

    /// Adds `entry` under the top-level `models:` key of `existing` (a new file when nil), replacing
    /// an entry with the same name. Returns the new text and whether an entry was replaced.
    static func merge(_ entry: DbtModelEntry, into existing: String?) throws(ToolError) -> (text: String, replaced: Bool) {
        guard let existing, !existing.trimmingSpaces.isEmpty else {
            return ("version: 2\n\nmodels:\n" + entry.yaml(indent: 2), false)
        }
        if existing.hasPrefix("\u{FEFF}") { return try merge(entry, into: String(existing.dropFirst())) }
        var lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let testsKey = lines.contains { $0.trimmingSpaces.hasPrefix("data_tests:") } ? "data_tests" : "tests"
        // One document: a `---` may open it, but another one would start a second document.
        let markers = lines.indices.filter { lines[$0] == "---" || lines[$0].hasPrefix("--- ") }
        let firstContent = lines.firstIndex { !$0.trimmingSpaces.isEmpty && !$0.hasPrefix("#") }
        if markers.count > 1 || (markers.count == 1 && markers[0] != firstContent) {
            throw ToolError("invalid_input", "schema.yml holds several YAML documents (`---`); keep one document per file, then retry")
        }

        guard let modelsLine = lines.firstIndex(where: { $0.hasPrefix("models:") }) else {
            // No models yet: add the key at the end.
            var text = lines.joined(separator: "\n") + "\n"
            if lines.last?.trimmingSpaces.isEmpty == false { text += "\n" }
            return (text + "models:\n" + entry.yaml(indent: 2), false)
        }
        let inline = DbtYAML.unquote(lines[modelsLine].dropFirst("models:".count))
        if inline == "[]" {
            lines[modelsLine] = "models:"
        } else if !inline.isEmpty {
            throw ToolError("invalid_input", "schema.yml writes `models:` inline (`\(inline)`); write it as a block list (`models:` then `  - name: …` lines), then retry")
        }

        // The block under `models:` runs to the next top-level key.
        var end = modelsLine + 1
        while end < lines.count, !isTopLevelKey(lines[end]) { end += 1 }
        let block = (modelsLine + 1)..<end
        let itemIndent = block.lazy.compactMap { indentOfItem(lines[$0]) }.first
        let indent = itemIndent ?? 2

        // Items start at `-` lines with the list's indentation.
        let starts = block.filter { indentOfItem(lines[$0]) == indent }
        for (n, start) in starts.enumerated() {
            var stop = n + 1 < starts.count ? starts[n + 1] : end
            // Trailing blank and comment lines stay with what follows.
            while stop > start + 1, lines[stop - 1].trimmingSpaces.isEmpty || lines[stop - 1].trimmingSpaces.hasPrefix("#") { stop -= 1 }
            guard itemName(lines[start..<stop], indent: indent) == entry.name else { continue }
            var replacement = entry.yaml(indent: indent, testsKey: testsKey).split(separator: "\n").map(String.init)
            if replacement.last == "" { replacement.removeLast() }
            lines.replaceSubrange(start..<stop, with: replacement)
            return (lines.joined(separator: "\n") + "\n", true)
        }
        var last = end
        while last > modelsLine + 1, lines[last - 1].trimmingSpaces.isEmpty { last -= 1 }
        let addition = entry.yaml(indent: indent, testsKey: testsKey).split(separator: "\n").map(String.init)
        lines.insert(contentsOf: addition, at: last)
        return (lines.joined(separator: "\n") + "\n", false)
    }

    private static func isTopLevelKey(_ line: String) -> Bool {
        guard let first = line.first else { return false }
        return !first.isWhitespace && first != "#" && first != "-"
    }

    /// The column of a list item's `-`, for lines like `  - name: x`.
    private static func indentOfItem(_ line: String) -> Int? {
        let spaces = line.prefix { $0 == " " }.count
        let rest = line.dropFirst(spaces)
        guard rest == "-" || rest.hasPrefix("- ") else { return nil }
        return spaces
    }

    /// The `name:` of one list item: on its `-` line, or a key line at the item's key indentation.
    private static func itemName(_ item: ArraySlice<String>, indent: Int) -> String? {
        guard let first = item.first else { return nil }
        let afterDash = first.dropFirst(indent + 1)
        var keyIndent = indent + 1 + afterDash.prefix { $0 == " " }.count
        if afterDash.trimmingSpaces.isEmpty {
            // `-` alone on its line: the item's keys start on the next line.
            guard let next = item.dropFirst().first(where: { !$0.trimmingSpaces.isEmpty }) else { return nil }
            keyIndent = next.prefix { $0 == " " }.count
        }
        for (offset, line) in item.enumerated() {
            let content: Substring
            if offset == 0 {
                content = Substring(line).dropFirst(keyIndent)
            } else {
                guard line.prefix(while: { $0 == " " }).count == keyIndent else { continue }
                content = Substring(line)
            }
            let key = content.trimmingSpaces
            if key.hasPrefix("name:") { return unquote(Substring(key).dropFirst("name:".count)) }
        }
        return nil
    }
}

private extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
