import Connectors

/// Ranks a catalog's tables and columns against a search term, case-insensitively: names before
/// comments, whole-name matches before prefixes before substrings, tables before columns.
enum CatalogSearch {
    /// One table or column that matched.
    struct Hit: Sendable, Hashable {
        enum Field: String, Sendable { case tableName = "table_name", columnName = "column_name", tableComment = "table_comment", columnComment = "column_comment" }

        var schema: String
        var table: String
        var column: String?
        var type: String?
        var field: Field
        /// The text that matched: the name, or the comment.
        var text: String
        var score: Int

        var json: JSONValue {
            var members: [String: JSONValue] = [
                "schema": .string(schema), "table": .string(table), "matched_on": .string(field.rawValue),
                "text": .string(text), "score": .integer(Int64(score)),
            ]
            if let column { members["column"] = .string(column) }
            if let type { members["type"] = .string(type) }
            return .object(members)
        }
    }

    /// The best hits for `term` in `tables`, at most `limit`; ties are ordered by schema, table and column.
    static func rank(term: String, in tables: [TableInfo], limit: Int) -> [Hit] {
        let needle = term.lowercased()
        guard !needle.isEmpty else { return [] }
        var hits: [Hit] = []
        for table in tables {
            if let score = nameScore(table.name, needle, exact: 100, prefix: 70, substring: 50) {
                hits.append(Hit(schema: table.schema, table: table.name, field: .tableName, text: table.name, score: score))
            } else if let comment = table.comment, comment.lowercased().contains(needle) {
                hits.append(Hit(schema: table.schema, table: table.name, field: .tableComment, text: comment, score: 20))
            }
            for column in table.columns {
                if let score = nameScore(column.name, needle, exact: 60, prefix: 40, substring: 30) {
                    hits.append(Hit(schema: table.schema, table: table.name, column: column.name, type: column.type,
                                    field: .columnName, text: column.name, score: score))
                } else if let comment = column.comment, comment.lowercased().contains(needle) {
                    hits.append(Hit(schema: table.schema, table: table.name, column: column.name, type: column.type,
                                    field: .columnComment, text: comment, score: 10))
                }
            }
        }
        hits.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.schema != b.schema { return a.schema < b.schema }
            if a.table != b.table { return a.table < b.table }
            return (a.column ?? "") < (b.column ?? "")
        }
        return Array(hits.prefix(max(0, limit)))
    }

    private static func nameScore(_ name: String, _ needle: String, exact: Int, prefix: Int, substring: Int) -> Int? {
        let name = name.lowercased()
        if name == needle { return exact }
        if name.hasPrefix(needle) { return prefix }
        if name.contains(needle) { return substring }
        return nil
    }
}
