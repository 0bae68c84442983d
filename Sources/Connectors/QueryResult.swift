/// The database engines Glassbox connects to.
public enum SQLEngine: String, Sendable {
    case sqlite
    case postgresql
}

/// One value of a result row, in the engine-neutral form tools and events use.
///
/// PostgreSQL values without an exact counterpart arrive as text in PostgreSQL's own notation:
/// `numeric` (exact digits), dates and times (`2024-03-01 12:00:00+00`), intervals, UUIDs, arrays
/// (`{1,2,3}`), `inet`. A value of a type Glassbox does not know is text when its bytes are UTF-8
/// (enums, `citext`, …) and a blob otherwise.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case bool(Bool)
}

extension SQLValue: CustomStringConvertible {
    /// The value as a person reads it: NULL is empty, a blob is `x'0a1b'`.
    public var description: String {
        switch self {
        case .null: ""
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value
        case .bool(let value): value ? "true" : "false"
        case .blob(let bytes): "x'" + String(hex: bytes) + "'"
        }
    }

    /// About how many bytes the value takes in a result: what ``QueryLimits/maxBytes`` counts.
    public var byteCount: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .integer, .real: 8
        case .text(let value): value.utf8.count
        case .blob(let bytes): bytes.count
        }
    }
}

/// A result column: its name and the engine's type name (SQLite: the declared type, or the
/// storage class of its first value when it has none; PostgreSQL: e.g. `bigint`, `text`).
public struct QueryColumn: Sendable, Hashable {
    public var name: String
    public var type: String

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }
}

/// How much one statement may return and how long it may run.
///
/// ```swift
/// let result = try await reader.query("SELECT * FROM orders", limits: QueryLimits(maxRows: 100, timeout: .seconds(5)))
/// if result.truncated { print("first \(result.rows.count) rows only, cut by \(result.truncatedBy!)") }
/// ```
public struct QueryLimits: Sendable, Hashable {
    /// Rows returned at most; reading stops there and the result says it was truncated.
    public var maxRows: Int = 1_000
    /// Bytes of values returned at most (see ``SQLValue/byteCount``); the row that would pass it is left out.
    public var maxBytes: Int = 1 << 20
    /// The statement is stopped in the engine after this long, and the call throws ``ConnectorError/timeout(_:)``.
    public var timeout: Duration = .seconds(30)

    public init(maxRows: Int = 1_000, maxBytes: Int = 1 << 20, timeout: Duration = .seconds(30)) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.timeout = timeout
    }
}

/// What a statement returned.
public struct QueryResult: Sendable {
    public var columns: [QueryColumn]
    public var rows: [[SQLValue]]
    /// True when the statement had more to return than the limits allowed.
    public var truncated: Bool
    /// `"rows"` or `"bytes"`: the limit that cut the result, when truncated.
    public var truncatedBy: String?
    /// Rows inserted, updated or deleted, for a statement that writes; nil for reads.
    public var rowsAffected: Int?
    /// The sum of the returned values' ``SQLValue/byteCount``.
    public var byteCount: Int

    public init(columns: [QueryColumn], rows: [[SQLValue]], truncated: Bool = false, truncatedBy: String? = nil,
                rowsAffected: Int? = nil, byteCount: Int? = nil) {
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
        self.truncatedBy = truncatedBy
        self.rowsAffected = rowsAffected
        self.byteCount = byteCount ?? rows.reduce(0) { sum, row in row.reduce(sum) { $0 + $1.byteCount } }
    }
}

/// Collects rows while they are read, stopping at the limits.
struct ResultCollector {
    let limits: QueryLimits
    private(set) var rows: [[SQLValue]] = []
    private(set) var byteCount = 0
    private(set) var truncatedBy: String?

    init(limits: QueryLimits) {
        self.limits = limits
    }

    /// True while more rows are wanted.
    var wantsMore: Bool { truncatedBy == nil }

    /// Takes one row; returns false (and keeps nothing) once a limit is reached.
    @discardableResult
    mutating func add(_ row: [SQLValue]) -> Bool {
        guard truncatedBy == nil else { return false }
        if rows.count >= limits.maxRows {
            truncatedBy = "rows"
            return false
        }
        let size = row.reduce(0) { $0 + $1.byteCount }
        if byteCount + size > limits.maxBytes {
            truncatedBy = "bytes"
            return false
        }
        rows.append(row)
        byteCount += size
        return true
    }

    func result(columns: [QueryColumn], rowsAffected: Int? = nil) -> QueryResult {
        QueryResult(columns: columns, rows: rows, truncated: truncatedBy != nil, truncatedBy: truncatedBy,
                    rowsAffected: rowsAffected, byteCount: byteCount)
    }
}

extension String {
    /// Lowercase hexadecimal digits of `bytes`.
    init(hex bytes: some Sequence<UInt8>) {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        self = String(decoding: text, as: UTF8.self)
    }
}

extension Duration {
    /// The duration in whole milliseconds, at least 1 for any positive duration.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        return attoseconds % 1_000_000_000_000_000 > 0 ? milliseconds + 1 : milliseconds
    }

    var secondsDescription: String {
        let milliseconds = wholeMilliseconds
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000) s" : "\(Double(milliseconds) / 1_000) s"
    }
}
