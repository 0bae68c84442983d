/// What the database conventions want to know about a SQL statement, read without a full
/// parser: the operation (`SELECT`), the one table it targets when there is exactly one,
/// and the text with its literals replaced by `?` (`db.query.text` may carry literals only
/// when sanitized: they can hold personal data). Works on UTF-8 bytes: SQL's syntax is
/// ASCII, and any other byte is part of a name.
struct SQLStatement {
    let operation: String?
    let collection: String?
    let sanitized: String

    init(_ sql: String) {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var words: [(text: String, depth: Int)] = []
        var depth = 0
        var index = 0
        var previousWasWord = false
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        func isWord(_ byte: UInt8) -> Bool {
            (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || isDigit(byte) || byte == 95 || byte >= 0x80
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "'") {
                // A string literal; '' inside is an escaped quote.
                index += 1
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "'") {
                        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") { index += 2; continue }
                        break
                    }
                    index += 1
                }
                index += 1
                out.append(UInt8(ascii: "?"))
                previousWasWord = false
                continue
            }
            if byte == UInt8(ascii: "-"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            }
            if isDigit(byte), !previousWasWord {
                while index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
                out.append(UInt8(ascii: "?"))
                continue
            }
            if isWord(byte) || byte == UInt8(ascii: "\"") {
                let start = index
                while index < bytes.count, isWord(bytes[index]) || bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: "\"") {
                    index += 1
                }
                out.append(contentsOf: bytes[start..<index])
                words.append((String(decoding: bytes[start..<index], as: UTF8.self), depth))
                previousWasWord = true
                continue
            }
            if byte == UInt8(ascii: "(") { depth += 1 }
            if byte == UInt8(ascii: ")") { depth = max(0, depth - 1) }
            out.append(byte)
            previousWasWord = false
            index += 1
        }
        sanitized = String(decoding: out, as: UTF8.self)

        let upper = words.map { $0.text.uppercased() }
        let operations: Set<String> = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER",
                                       "TRUNCATE", "WITH", "EXPLAIN", "COPY", "GRANT", "REVOKE", "PRAGMA", "ATTACH"]
        var operation = upper.first(where: { operations.contains($0) })
        if operation == "WITH" {
            // A CTE: the operation is the first statement outside the WITH clauses' parentheses.
            let main = upper.indices.first { words[$0].depth == 0 && ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"].contains(upper[$0]) }
            operation = main.map { upper[$0] } ?? "SELECT"
        }
        self.operation = operation
        var tables: Set<String> = []
        for (index, word) in upper.enumerated() where ["FROM", "JOIN", "INTO", "UPDATE", "TABLE"].contains(word) && index + 1 < words.count {
            let name = String(words[index + 1].text.filter { $0 != "\"" })
            if !["SELECT", "IF"].contains(name.uppercased()), !name.isEmpty { tables.insert(name) }
        }
        collection = tables.count == 1 ? tables.first : nil
    }

    /// `db.system.name` from what the tool input says: a declared system, or the scheme of
    /// a connection URL (`postgresql://…`, `sqlite:///…`); `other_sql` when nothing says.
    static func systemName(declared: String?, connection: String?) -> String {
        if let declared, !declared.isEmpty { return declared }
        if let connection, connection.contains("://"), let scheme = connection.split(separator: ":", maxSplits: 1).first {
            switch scheme.lowercased() {
            case "postgres", "postgresql": return "postgresql"
            case "sqlite": return "sqlite"
            case "mysql": return "mysql"
            case "mariadb": return "mariadb"
            default: return scheme.lowercased()
            }
        }
        return "other_sql"
    }
}
