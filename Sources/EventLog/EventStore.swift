/// Reads the log. Holding only an `EventReader` means you cannot append:
/// audit, dashboards and exporters are given this, never an ``EventStore``.
public protocol EventReader: Sendable {
    /// Events matching `query`, in `seq` order (or newest first when the query asks).
    func events(_ query: EventQuery) async throws -> [Event]
    /// The last `seq` in the log; 0 when it is empty.
    func lastSeq() async throws -> Int64
    /// Returns once an event after `seq` exists, or when the task is cancelled.
    func waitForEvents(after seq: Int64) async
}

/// The one door through which events enter the log.
public protocol EventStore: EventReader {
    /// Appends `events` to `stream` atomically: all of them or none.
    ///
    /// - Throws: ``EventLogError/versionConflict(stream:expected:actual:)`` when the
    ///   stream is not at `expectedVersion` (another writer appended first).
    /// - Returns: where each event landed. If every event id was appended before
    ///   (a retry), nothing is written and the original positions are returned.
    func append(_ events: [EventDraft], to stream: String, expectedVersion: ExpectedVersion) async throws -> AppendResult
}

/// Durable cursors of downstream consumers (exporters, workers): how far each has processed the log.
public protocol CheckpointStore: Sendable {
    /// The last `seq` the consumer finished; 0 when it has none.
    func checkpoint(of consumer: String) async throws -> Int64
    /// Records that the consumer finished everything up to `seq`.
    func saveCheckpoint(_ seq: Int64, of consumer: String) async throws
}

extension EventReader {
    /// A catch-up-then-live subscription: every event after `seq` that matches
    /// `filter`, in order, each exactly once, then new events as they are appended.
    ///
    /// ```swift
    /// for try await event in log.subscribe(after: 0, filter: EventFilter(types: ["tool.*"])) {
    ///     print(event.seq, event.type)
    /// }
    /// ```
    public func subscribe(after seq: Int64, filter: EventFilter = EventFilter()) -> EventSubscription {
        EventSubscription(reader: self, after: seq, filter: filter)
    }
}

/// Which events to read. Patterns use SQLite GLOB syntax: `*` any text, `?` one
/// character, `[abc]` a set; they are case-sensitive.
public struct EventFilter: Sendable, Hashable {
    /// A stream name or pattern, e.g. `run/42` or `run/*`.
    public var stream: String?
    /// Event types or patterns; an event matches any of them. Empty means all types.
    public var types: [String]
    /// Only events of this trace (32 hex digits).
    public var traceID: String?
    /// An actor or pattern, e.g. `*@user:alice`.
    public var actor: String?

    public init(stream: String? = nil, types: [String] = [], traceID: String? = nil, actor: String? = nil) {
        self.stream = stream
        self.types = types
        self.traceID = traceID
        self.actor = actor
    }
}

/// A page of the log.
public struct EventQuery: Sendable, Hashable {
    public var filter: EventFilter
    /// Only events with `seq > after`.
    public var after: Int64
    /// Only events with `seq <= through`, when set.
    public var through: Int64?
    /// At most this many events.
    public var limit: Int
    /// Newest first (for "the last N events"); otherwise oldest first.
    public var newestFirst: Bool

    public init(
        filter: EventFilter = EventFilter(), after: Int64 = 0, through: Int64? = nil,
        limit: Int = 1000, newestFirst: Bool = false
    ) {
        self.filter = filter
        self.after = after
        self.through = through
        self.limit = limit
        self.newestFirst = newestFirst
    }
}
