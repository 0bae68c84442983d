import Connectors
import Foundation

/// The Markdown page `docs.write_table_doc` writes for a table: the caller's summary, the table's
/// facts, its columns and keys, and the profile when one was taken. Pure, so it is tested as text.
enum TableDocMarkdown {
    static func render(connection: String, table: TableInfo, summary: String, profile: TableProfile?) -> String {
        var lines: [String] = []
        lines.append("# \(heading(table.schema + "." + table.name))")
        lines.append("")
        lines.append(summary.trimmingCharacters(in: .whitespacesAndNewlines))
        lines.append("")
        lines.append("| | |")
        lines.append("|---|---|")
        lines.append("| Connection | \(code(connection)) |")
        lines.append("| Kind | \(table.kind) |")
        if let estimate = table.rowEstimate { lines.append("| Rows (estimate) | \(estimate) |") }
        if !table.primaryKey.isEmpty { lines.append("| Primary key | \(table.primaryKey.map(code).joined(separator: ", ")) |") }
        if let comment = table.comment, !comment.isEmpty { lines.append("| Comment | \(cell(comment)) |") }
        lines.append("")

        lines.append("## Columns")
        lines.append("")
        lines.append("| Column | Type | Nullable | Default | Description |")
        lines.append("|---|---|---|---|---|")
        let keys = Set(table.primaryKey)
        for column in table.columns {
            let name = code(column.name) + (keys.contains(column.name) ? " (PK)" : "")
            lines.append("| \(name) | \(code(column.type)) | \(column.nullable ? "yes" : "no") | "
                + "\(column.defaultValue.map(code) ?? "") | \(cell(column.comment ?? "")) |")
        }

        if !table.foreignKeys.isEmpty {
            lines.append("")
            lines.append("## Foreign keys")
            lines.append("")
            for key in table.foreignKeys {
                lines.append("- \(key.columns.map(code).joined(separator: ", ")) → "
                    + "\(code(key.referencedSchema + "." + key.referencedTable)) (\(key.referencedColumns.map(code).joined(separator: ", ")))")
            }
        }

        if let profile {
            lines.append("")
            lines.append("## Profile")
            lines.append("")
            if let sample = profile.sampleRows {
                lines.append("From the first \(sample) rows (\(profile.rowCount) profiled).")
            } else {
                lines.append("From all \(profile.rowCount) rows.")
            }
            lines.append("")
            lines.append("| Column | Nulls | Distinct | Min | Max | Most frequent |")
            lines.append("|---|---|---|---|---|---|")
            for column in profile.columns {
                let nulls = profile.rowCount > 0
                    ? "\(column.nullCount) (\(percent(Double(column.nullCount) / Double(profile.rowCount))))" : "0"
                let top = column.topValues.map { "\(value($0.value)) × \($0.count)" }.joined(separator: ", ")
                lines.append("| \(code(column.name)) | \(nulls) | \(column.distinctCount) | \(column.min.map(value) ?? "") | "
                    + "\(column.max.map(value) ?? "") | \(top) |")
            }
        }
        lines.append("")
        lines.append("_Written by Glassbox `docs.write_table_doc`._")
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// Text in a table cell: on one line, `|` escaped.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "|", with: "\\|")
    }

    /// A code span long enough to hold any backticks inside it, with `|` escaped for tables.
    static func code(_ text: String) -> String {
        let flat = cell(text)
        var longest = 0, run = 0
        for character in flat {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return fence + pad + flat + pad + fence
    }

    private static func heading(_ text: String) -> String {
        cell(text).replacingOccurrences(of: "#", with: "\\#")
    }

    private static func value(_ value: SQLValue) -> String {
        switch value {
        case .null: "NULL"
        case .blob(let bytes): "(\(bytes.count) bytes)"
        default: code(value.description)
        }
    }

    private static func percent(_ ratio: Double) -> String {
        String(format: "%.1f%%", ratio * 100)
    }
}
