import Connectors
import Foundation

/// Identifiers written into generated SQL. Both engines quote with double quotes and escape one
/// by doubling it; quoting always keeps case, keywords and odd characters exactly as named.
enum SQLIdentifier {
    /// `"name"`, with embedded double quotes doubled. Names with a NUL character cannot be
    /// written in SQL at all.
    static func quote(_ name: String, for engine: SQLEngine) throws(ToolError) -> String {
        guard !name.isEmpty else { throw .invalidInput("an identifier is empty; name the table or column") }
        guard !name.unicodeScalars.contains("\0") else {
            throw .invalidInput("identifier \(name.debugDescription) contains a NUL character, which no SQL engine accepts")
        }
        switch engine {
        case .sqlite, .postgresql:
            return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }

    /// `"schema"."table"`.
    static func qualified(schema: String, table: String, for engine: SQLEngine) throws(ToolError) -> String {
        try quote(schema, for: engine) + "." + quote(table, for: engine)
    }
}
