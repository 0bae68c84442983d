import Foundation

/// What the database conventions want to know about a SQL statement, read without a full
/// parser: the operation (`SELECT`), the one table it targets when there is exactly one,
/// and the text with its literals replaced by `?` (`db.query.text` may carry literals only
/// when sanitized: they can hold personal data).
struct SQLStatement {
    let operation: String?
    let collection: String?
    let sanitized: String

    init(_ sql: String) {
        var tokens: [Substring] = []
        // Parenthesis depth of each word, to find a CTE's main statement.
        var depths: [Int] = []
        var depth = 0
        var sanitized = ""
        sanitized.reserveCapacity(sql.utf8.count)
        let scalars = Array(sql.unicodeScalars)
        var index = 0
        var previousWasWord = false
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "'" {
                // A string literal; '' inside is an escaped quote.
                index += 1
                while index < scalars.count {
                    if scalars[index] == "'" {
                        if index + 1 < scalars.count, scalars[index + 1] == "'" { index += 2; continue }
                        break
                    }
                    index += 1
                }
                index += 1
                sanitized += "?"
                previousWasWord = false
                continue
            }
            if scalar == "-", index + 1 < scalars.count, scalars[index + 1] == "-" {
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
                continue
            }
            if scalar.properties.numericType != nil, !previousWasWord {
                while index < scalars.count, scalars[index].properties.numericType != nil || scalars[index] == "." { index += 1 }
                sanitized += "?"
                continue
            }
            if Self.isWordScalar(scalar) || scalar == "\"" {
                var word = String.UnicodeScalarView()
                while index < scalars.count, Self.isWordScalar(scalars[index]) || scalars[index] == "." || scalars[index] == "\"" {
                    word.append(scalars[index])
                    index += 1
                }
                let text = String(word)
                sanitized += text
                tokens.append(Substring(text))
                depths.append(depth)
                previousWasWord = true
                continue
            }
            if scalar == "(" { depth += 1 }
            if scalar == ")" { depth = max(0, depth - 1) }
            sanitized.unicodeScalars.append(scalar)
            previousWasWord = false
            index += 1
        }
        self.sanitized = sanitized

        let upper = tokens.map { $0.uppercased() }
        let operations: Set<String> = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER",
                                       "TRUNCATE", "WITH", "EXPLAIN", "COPY", "GRANT", "REVOKE", "PRAGMA", "ATTACH"]
        var operation = upper.first(where: { operations.contains($0) })
        if operation == "WITH" {
            // A CTE: the operation is the first statement outside the WITH clauses' parentheses.
            let main = upper.indices.first { depths[$0] == 0 && ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"].contains(upper[$0]) }
            operation = main.map { upper[$0] } ?? "SELECT"
        }
        self.operation = operation
        var tables: Set<String> = []
        for (index, token) in upper.enumerated() where ["FROM", "JOIN", "INTO", "UPDATE", "TABLE"].contains(token) {
            if index + 1 < tokens.count {
                let name = tokens[index + 1].replacingOccurrences(of: "\"", with: "")
                if !["SELECT", "(", "IF"].contains(name.uppercased()), !name.isEmpty { tables.insert(name) }
            }
        }
        self.collection = tables.count == 1 ? tables.first : nil
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar == "_" || scalar.properties.numericType != nil
    }

    /// `db.system.name` from what the tool input says: a declared system, or the scheme of
    /// a connection URL (`postgresql://…`, `sqlite:///…`); `other_sql` when nothing says.
    static func systemName(declared: String?, connection: String?) -> String {
        if let declared, !declared.isEmpty { return declared }
        if let connection, let scheme = connection.split(separator: ":", maxSplits: 1).first, connection.contains("://") {
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
