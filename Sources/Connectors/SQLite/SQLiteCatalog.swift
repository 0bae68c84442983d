/// The catalog of an SQLite file: one schema, `main`.
///
/// SQLite keeps no comments, but it keeps each `CREATE TABLE` as written; Glassbox reads a
/// table's comment from a `-- comment` on its `CREATE TABLE name (` line, and a column's from a
/// `-- comment` ending the line that defines it, as ``SampleWarehouse`` writes them.
enum SQLiteCatalog {
    static let timeout = Duration.seconds(30)
    /// Tables without statistics are counted up to this many rows; beyond, `max(rowid)` estimates.
    static let countLimit = 100_000

    static func checkSchema(_ schema: String?) throws(ConnectorError) {
        guard let schema, schema.lowercased() != "main" else { return }
        throw .unknownSchema(schema)
    }

    static func tables(_ session: SQLiteSession) throws(SQLiteFailure) -> [TableSummary] {
        let rows = try session.rows("""
            SELECT name, type FROM main.sqlite_schema
            WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
            ORDER BY name
            """)
        let statistics = try self.statistics(session)
        var tables: [TableSummary] = []
        for row in rows {
            guard case .text(let name) = row[0], case .text(let type) = row[1] else { continue }
            let estimate = type == "table" ? try rowEstimate(session, table: name, statistics: statistics) : nil
            tables.append(TableSummary(schema: "main", name: name, kind: type, rowEstimate: estimate))
        }
        return tables
    }

    /// The table or view named `table` (case-insensitively, as SQLite resolves names), nil when there is none.
    static func describe(_ session: SQLiteSession, table: String) throws(SQLiteFailure) -> TableInfo? {
        let found = try session.rows("""
            SELECT name, type, sql FROM main.sqlite_schema
            WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE
            """, bindings: [table])
        guard let row = found.first, case .text(let name) = row[0], case .text(let type) = row[1] else { return nil }
        let createSQL: String = if case .text(let sql) = row[2] { sql } else { "" }
        let comments = Comments(createSQL: createSQL)

        var columns: [ColumnInfo] = []
        var primaryKey: [(position: Int64, name: String)] = []
        for column in try session.rows(#"SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?1)"#, bindings: [name]) {
            let columnName = column[0].description
            columns.append(ColumnInfo(
                name: columnName, type: column[1].description, nullable: column[2] != .integer(1),
                defaultValue: column[3] == .null ? nil : column[3].description,
                comment: comments.columns[columnName.lowercased()]))
            if case .integer(let position) = column[4], position > 0 { primaryKey.append((position, columnName)) }
        }

        var foreignKeys: [Int64: ForeignKey] = [:]
        for key in try session.rows(#"SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?1) ORDER BY id, seq"#, bindings: [name]) {
            guard case .integer(let id) = key[0] else { continue }
            var foreignKey = foreignKeys[id] ?? ForeignKey(columns: [], referencedSchema: "main", referencedTable: key[1].description, referencedColumns: [])
            foreignKey.columns.append(key[2].description)
            if key[3] != .null { foreignKey.referencedColumns.append(key[3].description) }
            foreignKeys[id] = foreignKey
        }
        var keys = foreignKeys.sorted { $0.key < $1.key }.map(\.value)
        // `REFERENCES t` without columns means t's primary key.
        for index in keys.indices where keys[index].referencedColumns.isEmpty {
            keys[index].referencedColumns = try session.rows(
                "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", bindings: [keys[index].referencedTable]
            ).map { $0[0].description }
        }

        let estimate = type == "table" ? try rowEstimate(session, table: name, statistics: try statistics(session)) : nil
        return TableInfo(schema: "main", name: name, kind: type, columns: columns,
                         primaryKey: primaryKey.sorted { $0.position < $1.position }.map(\.name),
                         foreignKeys: keys, rowEstimate: estimate, comment: comments.table)
    }

    /// Rows per table from `sqlite_stat1` (written by ANALYZE), when the file has it.
    private static func statistics(_ session: SQLiteSession) throws(SQLiteFailure) -> [String: Int64] {
        let exists = try session.rows("SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'")
        guard !exists.isEmpty else { return [:] }
        var counts: [String: Int64] = [:]
        for row in try session.rows("SELECT tbl, stat FROM main.sqlite_stat1") {
            guard case .text(let table) = row[0], case .text(let stat) = row[1],
                  let first = stat.split(separator: " ").first, let count = Int64(first) else { continue }
            counts[table.lowercased()] = max(counts[table.lowercased()] ?? 0, count)
        }
        return counts
    }

    private static func rowEstimate(_ session: SQLiteSession, table: String, statistics: [String: Int64]) throws(SQLiteFailure) -> Int64? {
        if let count = statistics[table.lowercased()] { return count }
        let quoted = SQLText.quoteIdentifier(table)
        let counted = try session.rows("SELECT count(*) FROM (SELECT 1 FROM main.\(quoted) LIMIT \(countLimit + 1))")
        guard case .integer(let count) = counted.first?.first else { return nil }
        if count <= countLimit { return count }
        // A WITHOUT ROWID table has no rowid to estimate from.
        guard let maxRowID = try? session.rows("SELECT max(rowid) FROM main.\(quoted)"),
              case .integer(let estimate) = maxRowID.first?.first else { return nil }
        return estimate
    }

    /// EXPLAIN QUERY PLAN's rows (id, parent, notused, detail) as an indented tree.
    static func planText(_ rows: [[SQLValue]]) -> String {
        var children: [Int64: [(Int64, String)]] = [:]
        for row in rows {
            guard case .integer(let id) = row[0], case .integer(let parent) = row[1] else { continue }
            children[parent, default: []].append((id, row[3].description))
        }
        var lines: [String] = []
        func walk(_ parent: Int64, depth: Int) {
            for (id, detail) in children[parent] ?? [] {
                lines.append(String(repeating: "  ", count: depth) + detail)
                walk(id, depth: depth + 1)
            }
        }
        walk(0, depth: 0)
        return lines.joined(separator: "\n")
    }

    /// Comments written in a `CREATE TABLE` statement.
    struct Comments {
        var table: String?
        /// Lowercased column name → comment.
        var columns: [String: String] = [:]

        init(createSQL: String) {
            let lines = createSQL.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var headerDone = false
            for (index, line) in lines.enumerated() {
                let (code, comment) = Self.split(line)
                let trimmed = code.trimmingSpaces
                if index == 0 {
                    table = comment
                    headerDone = !code.contains("(")
                    continue
                }
                if !headerDone {
                    // Comment lines right after `CREATE TABLE x (` continue the table's comment.
                    if trimmed.isEmpty, let comment {
                        table = table.map { $0 + " " + comment } ?? comment
                        continue
                    }
                    headerDone = true
                }
                guard let comment, let name = Self.leadingIdentifier(trimmed) else { continue }
                columns[name.lowercased()] = comment
            }
        }

        /// The line's code and its `--` comment (outside quotes), trimmed.
        static func split(_ line: String) -> (code: String, comment: String?) {
            let bytes = Array(line.utf8)
            var quote: UInt8?
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if let open = quote {
                    if byte == (open == UInt8(ascii: "[") ? UInt8(ascii: "]") : open) { quote = nil }
                } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "`") || byte == UInt8(ascii: "[") {
                    quote = byte
                } else if byte == UInt8(ascii: "-"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") {
                    let comment = String(decoding: bytes[(index + 2)...], as: UTF8.self).trimmingSpaces
                    return (String(decoding: bytes[..<index], as: UTF8.self), comment.isEmpty ? nil : comment)
                }
                index += 1
            }
            return (line, nil)
        }

        /// The identifier a column definition starts with, unquoted; nil for constraints.
        static func leadingIdentifier(_ code: String) -> String? {
            guard let first = code.first else { return nil }
            let closing: Character? = switch first {
            case "\"": "\""
            case "`": "`"
            case "[": "]"
            default: nil
            }
            if let closing {
                let rest = code.dropFirst()
                guard let end = rest.firstIndex(of: closing) else { return nil }
                return String(rest[..<end])
            }
            let word = code.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            let constraintWords: Set<String> = ["constraint", "primary", "foreign", "unique", "check", ")"]
            guard !word.isEmpty, !constraintWords.contains(word.lowercased()) else { return nil }
            return String(word)
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
