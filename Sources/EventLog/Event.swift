public import Foundation

/// One recorded event: the envelope of DESIGN.md plus its payload, as stored in the log.
///
/// Events are read from an ``EventReader``; they are never built by hand except
/// by the store itself. To write, build an ``EventDraft`` and append it.
public struct Event: Sendable, Hashable {
    /// Global position: 1, 2, 3 … without gaps. The cursor every reader uses.
    public let seq: Int64
    /// UUIDv7 chosen by the writer; appending the same id again is a no-op.
    public let id: UUID
    /// Wall-clock time of the event, Unix nanoseconds.
    public let time: Int64
    /// The stream the event belongs to, e.g. `run/7f3a…`.
    public let stream: String
    /// Position within `stream`, starting at 1.
    public let streamVersion: Int64
    /// `noun.verb-in-past-tense`, e.g. `tool.authorized`. See ``EventCatalog``.
    public let type: String
    /// Who acted, and on whose behalf, e.g. `agent:analyst@user:alice`.
    public let actor: String
    /// W3C trace context: 32 and 16 lowercase hex digits, or nil.
    public let traceID: String?
    public let spanID: String?
    public let parentSpanID: String?
    /// The payload: the proto3 JSON form of the message for `type`, exactly as stored and hashed.
    public let data: String
    /// SHA-256 of the previous event's encoding (32 zero bytes for the first event).
    public let prevHash: ChainHash
    /// SHA-256 of this event's canonical encoding; see ``ChainHash``.
    public let hash: ChainHash

    public init(
        seq: Int64, id: UUID, time: Int64, stream: String, streamVersion: Int64, type: String,
        actor: String, traceID: String?, spanID: String?, parentSpanID: String?, data: String,
        prevHash: ChainHash, hash: ChainHash
    ) {
        self.seq = seq
        self.id = id
        self.time = time
        self.stream = stream
        self.streamVersion = streamVersion
        self.type = type
        self.actor = actor
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.data = data
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The event time as a `Date` (microsecond precision is kept; `time` has the full value).
    public var date: Date { Date(timeIntervalSince1970: Double(time) / 1_000_000_000) }
}

/// An event that is not in the log yet. Build one from a typed payload, or from
/// JSON text (validated against the payload message of its type), then pass it to
/// ``EventStore/append(_:to:expectedVersion:)``.
///
/// ```swift
/// var thought = Glassbox_V1_AgentThought()
/// thought.text = "The sales table is partitioned by month; I will filter on it."
/// let draft = try EventDraft(thought, actor: "agent:analyst@user:alice")
/// ```
public struct EventDraft: Sendable {
    /// Chosen once, before the first attempt, so that a retry is recognised.
    public var id: UUID
    /// Unix nanoseconds; defaults to now.
    public var time: Int64
    public let type: String
    /// Canonical proto3 JSON of the payload.
    public let data: String
    public var actor: String
    public var trace: TraceContext?

    /// A draft whose payload is a typed message; its event type comes from ``EventCatalog``.
    public init(
        _ payload: some EventPayload, actor: String, trace: TraceContext? = nil,
        id: UUID = .version7(), time: Int64 = EventClock.now()
    ) throws {
        guard let type = EventCatalog.eventType(of: payload) else {
            throw EventLogError.unknownEventType("\(Swift.type(of: payload))", known: EventCatalog.allTypes)
        }
        self.id = id
        self.time = time
        self.type = type
        self.data = try EventCatalog.canonicalJSON(of: payload, type: type)
        self.actor = actor
        self.trace = trace
    }

    /// A draft from JSON text, e.g. from the command line or an HTTP request.
    ///
    /// The JSON is decoded into the payload message of `type` (field names in
    /// lowerCamelCase or snake_case), so unknown fields and wrong value types are
    /// refused, and it is stored in canonical proto3 JSON form.
    public init(
        type: String, json: String, actor: String, trace: TraceContext? = nil,
        id: UUID = .version7(), time: Int64 = EventClock.now()
    ) throws {
        self.id = id
        self.time = time
        self.type = type
        self.data = try EventCatalog.canonicalJSON(type: type, json: json)
        self.actor = actor
        self.trace = trace
    }
}

/// W3C trace context carried in the envelope: a span is opened by one event and
/// closed by another carrying the same `spanID`.
public struct TraceContext: Sendable, Hashable {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero.
    public let spanID: String
    public let parentSpanID: String?

    /// Validates the ids as W3C Trace Context requires.
    public init(traceID: String, spanID: String, parentSpanID: String? = nil) throws {
        self.traceID = try TraceContext.check(traceID, digits: 32, name: "trace id")
        self.spanID = try TraceContext.check(spanID, digits: 16, name: "span id")
        self.parentSpanID = try parentSpanID.map { try TraceContext.check($0, digits: 16, name: "parent span id") }
    }

    private init(validTraceID: String, spanID: String, parentSpanID: String?) {
        self.traceID = validTraceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
    }

    /// A new trace with a new root span.
    public static func newTrace() -> TraceContext {
        TraceContext(validTraceID: randomHex(bytes: 16), spanID: randomHex(bytes: 8), parentSpanID: nil)
    }

    /// A new span that continues the trace of a W3C `traceparent` header
    /// (`00-<trace-id>-<parent-id>-<flags>`): same trace id, the caller's span as parent.
    /// Nil when the header is invalid, which W3C Trace Context says to ignore: the caller
    /// then starts a new trace.
    ///
    /// ```swift
    /// let trace = TraceContext(continuing: request.headers["traceparent"]) ?? .newTrace()
    /// ```
    public init?(continuing traceparent: String?) {
        guard let header = traceparent?.trimmingCharacters(in: .whitespaces) else { return nil }
        let bytes = Array(header.utf8)
        func isHex(_ range: Range<Int>) -> Bool {
            bytes[range].allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
        }
        // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55 characters.
        guard bytes.count >= 55, isHex(0..<2), bytes[2] == 45, bytes[35] == 45, bytes[52] == 45,
              isHex(3..<35), isHex(36..<52), isHex(53..<55) else { return nil }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        // Version ff is invalid; version 00 is exactly 55 characters; later versions may append "-…".
        guard version != "ff", version == "00" ? bytes.count == 55 : (bytes.count == 55 || bytes[55] == 45) else { return nil }
        let traceID = String(decoding: bytes[3..<35], as: UTF8.self)
        let parentID = String(decoding: bytes[36..<52], as: UTF8.self)
        guard traceID.utf8.contains(where: { $0 != 48 }), parentID.utf8.contains(where: { $0 != 48 }) else { return nil }
        self.init(validTraceID: traceID, spanID: TraceContext.randomHex(bytes: 8), parentSpanID: parentID)
    }

    /// A new span in the same trace whose parent is this span.
    public func newChild() -> TraceContext {
        TraceContext(validTraceID: traceID, spanID: TraceContext.randomHex(bytes: 8), parentSpanID: spanID)
    }

    static func check(_ value: String, digits: Int, name: String) throws -> String {
        let lower = value.lowercased()
        guard lower.utf8.count == digits, lower.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }),
              lower.utf8.contains(where: { $0 != 48 })
        else {
            throw EventLogError.invalidTraceContext("\(name) '\(value)' must be \(digits) hex digits, not all zero")
        }
        return lower
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var hex = ""
        hex.reserveCapacity(bytes * 2)
        repeat {
            hex = ""
            for _ in 0..<bytes {
                let byte = UInt8.random(in: 0...255, using: &generator)
                hex += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
            }
        } while hex.utf8.allSatisfy { $0 == 48 }
        return hex
    }
}

/// What a writer believes the stream's current version is; a mismatch means it lost a race.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// Append whatever the stream's version.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream's last event must have exactly this version.
    case exact(Int64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream (0)"
        case .exact(let version): "\(version)"
        }
    }
}

/// Where one appended event landed.
public struct EventPosition: Sendable, Hashable {
    public let seq: Int64
    public let streamVersion: Int64

    public init(seq: Int64, streamVersion: Int64) {
        self.seq = seq
        self.streamVersion = streamVersion
    }
}

/// The outcome of one append call.
public struct AppendResult: Sendable, Hashable {
    /// One position per draft, in the order given.
    public let positions: [EventPosition]
    /// True when every event id was already in the log: nothing was written and
    /// `positions` are where the original append put them.
    public let deduplicated: Bool

    public var firstSeq: Int64 { positions.first?.seq ?? 0 }
    public var lastSeq: Int64 { positions.last?.seq ?? 0 }
    /// The stream's version after this append.
    public var streamVersion: Int64 { positions.last?.streamVersion ?? 0 }
}

/// Event times: Unix nanoseconds from the wall clock.
public enum EventClock {
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
