/// Cuts outputs to a byte budget, keeping their shape: rows are dropped from the end of a
/// `rows` array, long strings are shortened, and `truncated` says so.
enum OutputCap {
    static func cap(_ value: JSONValue, maxBytes: Int) -> (JSONValue, Bool) {
        guard value.approximateSize > maxBytes else { return (value, false) }
        switch value {
        case .object(var members):
            if case .array(var rows)? = members["rows"] {
                let others = members.filter { $0.key != "rows" }.reduce(16) { $0 + $1.key.utf8.count + $1.value.approximateSize }
                var size = others
                var kept = 0
                for row in rows {
                    size += row.approximateSize + 1
                    if size > maxBytes { break }
                    kept += 1
                }
                rows.removeSubrange(kept...)
                members["rows"] = .array(rows)
                members["truncated"] = true
                members["row_count"] = .integer(Int64(kept))
                if JSONValue.object(members).approximateSize <= maxBytes { return (.object(members), true) }
            }
            // Shorten the largest strings first.
            var budget = maxBytes
            for key in members.keys.sorted(by: { members[$0]!.approximateSize > members[$1]!.approximateSize }) {
                let (capped, _) = cap(members[key]!, maxBytes: max(64, budget / 2))
                members[key] = capped
                budget = maxBytes - JSONValue.object(members).approximateSize
                if budget >= 0 { break }
            }
            members["truncated"] = true
            if JSONValue.object(members).approximateSize <= maxBytes { return (.object(members), true) }
            return (preview(value, maxBytes: maxBytes), true)
        case .string(let s):
            return (.string(String(decoding: s.utf8.prefix(max(0, maxBytes - 24)), as: UTF8.self) + "… [truncated]"), true)
        case .array(let items):
            var size = 2
            var kept: [JSONValue] = []
            for item in items {
                size += item.approximateSize + 1
                if size > maxBytes { break }
                kept.append(item)
            }
            return (.array(kept), true)
        default:
            return (preview(value, maxBytes: maxBytes), true)
        }
    }

    private static func preview(_ value: JSONValue, maxBytes: Int) -> JSONValue {
        let text = value.jsonText
        return ["truncated": true, "preview": .string(String(text.prefix(max(0, maxBytes / 2))))]
    }
}
