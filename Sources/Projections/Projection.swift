public import EventLog

/// A read model derived from the log by a pure fold: `(State, Event) -> State`.
///
/// Each projection keeps rows of JSON by key (a run id, a tool call id). The
/// ``ProjectionRunner`` stores the rows together with the `seq` they reflect, in
/// one transaction, and can rebuild them from zero at any time.
///
/// ```swift
/// struct StreamSizes: Projection {
///     static let name = "stream_sizes"
///     static let version = 1
///     static func apply(_ event: Event, to model: inout ReadModel<Int>) {
///         model[event.stream, default: 0] += 1
///     }
/// }
/// ```
public protocol Projection: Sendable {
    associatedtype Row: Codable & Sendable & Equatable
    /// The read model's name, e.g. `runs`. Rows are stored under it.
    static var name: String { get }
    /// Bump when `apply` changes meaning: the runner then rebuilds the read model from zero.
    static var version: Int { get }
    /// Folds one event into the model. Must not do I/O, read the clock or keep state elsewhere:
    /// rebuilding from zero must give the same rows as folding one event at a time.
    static func apply(_ event: Event, to model: inout ReadModel<Row>)
}

extension Projection {
    /// `name@version`, the key of the projection's checkpoint.
    static var storageName: String { "\(name)@v\(version)" }
}

/// The state of a projection: rows by key, and the last `seq` folded into them.
public struct ReadModel<Row: Sendable & Equatable>: Sendable, Equatable {
    public private(set) var rows: [String: Row]
    /// The last event folded in; 0 for an empty model.
    public internal(set) var seq: Int64
    /// Keys written since the runner last saved (with repeats); not part of equality.
    var changed: [String] = []

    public init(rows: [String: Row] = [:], seq: Int64 = 0) {
        self.rows = rows
        self.seq = seq
    }

    public subscript(key: String) -> Row? {
        get { rows[key] }
        set {
            rows[key] = newValue
            changed.append(key)
        }
    }

    public subscript(key: String, default defaultValue: @autoclosure () -> Row) -> Row {
        get { rows[key] ?? defaultValue() }
        set {
            rows[key] = newValue
            changed.append(key)
        }
    }

    /// Changes the row at `key` in place, creating it with `make` first when it is missing.
    /// The fast way to fold: the row is neither copied nor hashed twice.
    public mutating func update(_ key: String, orInsert make: @autoclosure () -> Row, _ body: (inout Row) -> Void) {
        body(&rows[key, default: make()])
        changed.append(key)
    }

    public static func == (lhs: ReadModel, rhs: ReadModel) -> Bool {
        lhs.seq == rhs.seq && lhs.rows == rhs.rows
    }
}

extension Projection {
    /// Folds events into `model` in order, skipping any at or before the model's `seq`.
    public static func fold(_ events: some Sequence<Event>, into model: inout ReadModel<Row>) {
        for event in events where event.seq > model.seq {
            apply(event, to: &model)
            model.seq = event.seq
        }
    }
}
