/// Just enough SQL lexing to count statements, find the first keyword and drop trailing
/// semicolons: comments, quoted strings and identifiers, PostgreSQL dollar quotes and E'' strings.
/// The engines parse the SQL for real; this only keeps Glassbox's own wrapping of a statement exact.
enum SQLText {
    struct Token {
        var range: Range<Int>
        var isSemicolon: Bool
    }

    /// The significant tokens' byte ranges in `sql` (comments and white space left out).
    static func tokens(_ sql: String, engine: SQLEngine) -> [Token] {
        let bytes = Array(sql.utf8)
        var tokens: [Token] = []
        var index = 0
        func at(_ offset: Int) -> UInt8 { index + offset < bytes.count ? bytes[index + offset] : 0 }
        while index < bytes.count {
            let byte = bytes[index]
            let start = index
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0C:
                index += 1
                continue
            case UInt8(ascii: "-") where at(1) == UInt8(ascii: "-"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            case UInt8(ascii: "/") where at(1) == UInt8(ascii: "*"):
                // PostgreSQL nests block comments; SQLite does not.
                var depth = 0
                while index < bytes.count {
                    if at(0) == UInt8(ascii: "/") && at(1) == UInt8(ascii: "*") && (depth == 0 || engine == .postgresql) {
                        depth += 1
                        index += 2
                    } else if at(0) == UInt8(ascii: "*") && at(1) == UInt8(ascii: "/") {
                        depth -= 1
                        index += 2
                        if depth == 0 { break }
                    } else {
                        index += 1
                    }
                }
                continue
            case UInt8(ascii: ";"):
                index += 1
                tokens.append(Token(range: start..<index, isSemicolon: true))
                continue
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                index = skipQuoted(bytes, from: index, quote: byte, backslashEscapes: false)
            case UInt8(ascii: "`") where engine == .sqlite:
                index = skipQuoted(bytes, from: index, quote: byte, backslashEscapes: false)
            case UInt8(ascii: "[") where engine == .sqlite:
                while index < bytes.count && bytes[index] != UInt8(ascii: "]") { index += 1 }
                index = min(index + 1, bytes.count)
            case UInt8(ascii: "$") where engine == .postgresql:
                if let end = dollarQuoteEnd(bytes, from: index) {
                    index = end
                } else {
                    index += 1
                    while index < bytes.count && isWordByte(bytes[index]) { index += 1 }
                }
            default:
                if isWordByte(byte) {
                    while index < bytes.count && isWordByte(bytes[index]) { index += 1 }
                    // PostgreSQL's E'…' strings take backslash escapes.
                    if engine == .postgresql, index - start == 1, byte | 0x20 == UInt8(ascii: "e"),
                       index < bytes.count, bytes[index] == UInt8(ascii: "'") {
                        index = skipQuoted(bytes, from: index, quote: UInt8(ascii: "'"), backslashEscapes: true)
                    }
                } else {
                    index += 1
                }
            }
            tokens.append(Token(range: start..<index, isSemicolon: false))
        }
        return tokens
    }

    /// How many statements `sql` holds (empty ones between semicolons not counted).
    static func statementCount(_ sql: String, engine: SQLEngine) -> Int {
        var count = 0
        var inStatement = false
        for token in tokens(sql, engine: engine) {
            if token.isSemicolon {
                inStatement = false
            } else if !inStatement {
                inStatement = true
                count += 1
            }
        }
        return count
    }

    /// The first keyword, lowercased, past comments and opening parentheses: `select`, `with`, `insert`, …
    static func leadingKeyword(_ sql: String, engine: SQLEngine) -> String {
        let bytes = Array(sql.utf8)
        for token in tokens(sql, engine: engine) where !token.isSemicolon {
            let text = bytes[token.range]
            if text.count == 1 && text.first == UInt8(ascii: "(") { continue }
            return String(decoding: text, as: UTF8.self).lowercased()
        }
        return ""
    }

    /// The single statement of `sql` without trailing semicolons and comments, for embedding in
    /// Glassbox's own SQL; throws when `sql` holds no statement or more than one.
    static func singleStatement(_ sql: String, engine: SQLEngine) throws(ConnectorError) -> String {
        let count = statementCount(sql, engine: engine)
        guard count == 1 else { throw .notOneStatement(found: count) }
        let significant = tokens(sql, engine: engine).filter { !$0.isSemicolon }
        let bytes = Array(sql.utf8)
        let start = significant.first?.range.lowerBound ?? 0
        let end = significant.last?.range.upperBound ?? bytes.count
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `name` as a double-quoted identifier, safe to splice into SQL.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }

    /// `text` as a single-quoted SQL string literal.
    static func quoteLiteral(_ text: String) -> String {
        "'" + text.replacingAll("'", with: "''") + "'"
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private static func skipQuoted(_ bytes: [UInt8], from start: Int, quote: UInt8, backslashEscapes: Bool) -> Int {
        var index = start + 1
        while index < bytes.count {
            if backslashEscapes && bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == quote {
                if index + 1 < bytes.count && bytes[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return bytes.count
    }

    /// The end of a `$tag$ … $tag$` string starting at `start`, or nil when `$` starts no dollar quote (e.g. `$1`).
    private static func dollarQuoteEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        if index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { return nil }
        while index < bytes.count && bytes[index] != UInt8(ascii: "$") {
            guard isWordByte(bytes[index]) else { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let tag = Array(bytes[start...index])
        index += 1
        while index + tag.count <= bytes.count {
            if bytes[index] == UInt8(ascii: "$") && Array(bytes[index..<index + tag.count]) == tag {
                return index + tag.count
            }
            index += 1
        }
        return bytes.count
    }
}

extension String {
    /// Every occurrence of `target` replaced, without Foundation.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(count)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
