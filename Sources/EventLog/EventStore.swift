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
    /// Only events of this span (16 hex digits): how a span's events are found again.
    public var spanID: String?

    public init(stream: String? = nil, types: [String] = [], traceID: String? = nil, actor: String? = nil,
                spanID: String? = nil) {
        self.stream = stream
        self.types = types
        self.traceID = traceID
        self.actor = actor
        self.spanID = spanID
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

extension EventFilter {
    /// Whether an event with these envelope fields passes the filter, with the same
    /// meaning as the SQL the log runs for it (GLOB patterns, case-sensitive).
    public func matches(type: String, stream: String, actor: String, traceID: String?, spanID: String? = nil) -> Bool {
        if let pattern = self.stream, !Glob.matches(pattern, stream) { return false }
        if let wanted = self.spanID, wanted != spanID { return false }
        if !types.isEmpty, !types.contains(where: { Glob.matches($0, type) }) { return false }
        if let pattern = self.traceID, pattern != traceID { return false }
        if let pattern = self.actor, !Glob.matches(pattern, actor) { return false }
        return true
    }
}

/// SQLite's GLOB: `*` any text, `?` one character, `[abc]`, `[a-z]` and `[^abc]` one of a set.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        if !pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) { return pattern == text }
        return matches(Array(pattern.unicodeScalars)[...], Array(text.unicodeScalars)[...])
    }

    private static func matches(_ pattern: ArraySlice<Unicode.Scalar>, _ text: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = pattern.startIndex, t = text.startIndex
        var starP: Int? = nil, starT = text.startIndex
        while t < text.endIndex {
            if p < pattern.endIndex {
                switch pattern[p] {
                case "*":
                    starP = p
                    starT = t
                    p += 1
                    continue
                case "?":
                    p += 1
                    t += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(pattern, at: p, text[t]) {
                        if matched {
                            p = next
                            t += 1
                            continue
                        }
                    } else if text[t] == "[" {
                        p += 1
                        t += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            guard let star = starP else { return false }
            p = star + 1
            starT += 1
            t = starT
        }
        while p < pattern.endIndex, pattern[p] == "*" { p += 1 }
        return p == pattern.endIndex
    }

    /// Matches `c` against the class starting at `start` (`[`); nil when the class is not closed.
    private static func matchClass(_ pattern: ArraySlice<Unicode.Scalar>, at start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.endIndex, pattern[i] == "^" {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.endIndex, pattern[i] != "]" || first {
            first = false
            if i + 2 < pattern.endIndex, pattern[i + 1] == "-", pattern[i + 2] != "]" {
                if pattern[i].value <= c.value && c.value <= pattern[i + 2].value { matched = true }
                i += 3
            } else {
                if pattern[i] == c { matched = true }
                i += 1
            }
        }
        guard i < pattern.endIndex else { return nil }
        return (matched != negate, i + 1)
    }
}
