import Connectors
import Foundation

extension JSONValue {
    /// A database value as JSON: blobs become base64 text, non-finite reals become their name
    /// (`"NaN"`, `"Infinity"`), since JSON has no number for them.
    init(_ value: SQLValue) {
        switch value {
        case .null: self = .null
        case .integer(let i): self = .integer(i)
        case .real(let d): self = d.isFinite ? .number(d) : .string(d.isNaN ? "NaN" : d < 0 ? "-Infinity" : "Infinity")
        case .text(let s): self = .string(s)
        case .blob(let bytes): self = .string(Data(bytes).base64EncodedString())
        case .bool(let b): self = .bool(b)
        }
    }
}

extension QueryResult {
    /// `{columns: [{name, type}], rows: [[…]], row_count, truncated}`, plus `truncated_by`
    /// (`rows` or `bytes`) when the result was cut.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "columns": .array(columns.map { ["name": .string($0.name), "type": .string($0.type)] }),
            "rows": .array(rows.map { .array($0.map(JSONValue.init)) }),
            "row_count": .integer(Int64(rows.count)),
            "truncated": .bool(truncated),
        ]
        if let truncatedBy { members["truncated_by"] = .string(truncatedBy) }
        return .object(members)
    }
}
