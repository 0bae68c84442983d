/// One event of a `text/event-stream` body.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; "message" when the event has none.
    public var event: String
    /// The `data:` lines joined with "\n".
    public var data: String
    /// The last `id:` seen in the stream, if any.
    public var id: String?

    public init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An incremental parser for Server-Sent Events, as the WHATWG HTML standard defines them: bytes in,
/// events out, in chunks of any size (a line, a UTF-8 sequence or a "\r\n" may be split between chunks).
///
/// ```swift
/// var parser = ServerSentEventParser()
/// for try await chunk in body {
///     for event in parser.feed(chunk) { handle(event) }
/// }
/// for event in parser.finish() { handle(event) }
/// ```
///
/// Lines end with "\n", "\r\n" or "\r"; lines starting with ":" are comments; `retry:` with digits sets
/// ``retryMilliseconds``; a blank line dispatches the event (none when it has no `data:`).
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    /// The previous byte ended a line with "\r": a "\n" right after it belongs to the same line end.
    private var afterCarriageReturn = false
    private var atStreamStart = true
    private var eventType = ""
    private var dataLines: [String] = []
    private var lastEventID: String?
    /// Bytes seen since the last complete line: a stream ending here ends mid-line.
    public var hasPartialLine: Bool { !line.isEmpty }
    /// The reconnection time the server asked for with `retry:`, in milliseconds.
    public private(set) var retryMilliseconds: Int?

    public init() {}

    /// Feeds the next bytes of the stream; returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                if afterCarriageReturn {
                    afterCarriageReturn = false
                } else {
                    endLine(into: &events)
                }
            case UInt8(ascii: "\r"):
                afterCarriageReturn = true
                endLine(into: &events)
            default:
                afterCarriageReturn = false
                line.append(byte)
            }
        }
        return events
    }

    /// Ends the stream. A stream whose last line is complete but lacks the blank line that would
    /// dispatch it still yields that event (some servers end that way); a line cut off midway is dropped.
    public mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if line.isEmpty { dispatch(into: &events) }
        line.removeAll()
        return events
    }

    private mutating func endLine(into events: inout [ServerSentEvent]) {
        var bytes = line[...]
        line.removeAll(keepingCapacity: true)
        if atStreamStart {
            atStreamStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        }
        if bytes.isEmpty {
            dispatch(into: &events)
            return
        }
        if bytes.first == UInt8(ascii: ":") { return }
        let field: String
        var value: ArraySlice<UInt8> = []
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: bytes[..<colon], as: UTF8.self)
            value = bytes[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = String(decoding: bytes, as: UTF8.self)
        }
        let text = String(decoding: value, as: UTF8.self)
        switch field {
        case "event": eventType = text
        case "data": dataLines.append(text)
        case "id" where !text.contains("\u{0}"): lastEventID = text
        case "retry":
            if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                retryMilliseconds = Int(text)
            }
        default: break
        }
    }

    /// A blank line: the event collected so far is complete (nothing is dispatched without data).
    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        if !dataLines.isEmpty {
            events.append(ServerSentEvent(event: eventType.isEmpty ? "message" : eventType, data: dataLines.joined(separator: "\n"), id: lastEventID))
        }
        eventType = ""
        dataLines.removeAll()
    }
}
