import Foundation
public import GlassboxProto

/// A span as the mapper made it, ready to be written to the wire: ids stay the log's hex
/// text and attributes stay ``SpanAttribute``s until the writer turns them into bytes.
/// ``otlp`` gives the same span as OTLP's message, for anyone who wants that form.
public struct SpanRecord: Sendable, Equatable {
    public typealias Kind = Opentelemetry_Proto_Trace_V1_Span.SpanKind
    public typealias StatusCode = Opentelemetry_Proto_Trace_V1_Status.StatusCode

    /// 32 and 16 lowercase hex digits, as stored in the log; no parent for a root span.
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var name = ""
    public var kind: Kind = .unspecified
    public var startTimeUnixNano: UInt64 = 0
    public var endTimeUnixNano: UInt64 = 0
    public var attributes: [SpanAttribute] = []
    public var events: [SpanEventRecord] = []
    /// Unset unless something went wrong; the message goes with ERROR only.
    public var statusCode: StatusCode = .unset
    public var statusMessage = ""

    public init(traceID: String, spanID: String, parentSpanID: String?) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
    }

    /// The span as an OTLP `Span` message.
    public var otlp: Opentelemetry_Proto_Trace_V1_Span {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(HexID.bytes(traceID))
        span.spanID = Data(HexID.bytes(spanID))
        span.parentSpanID = Data(HexID.bytes(parentSpanID))
        span.name = name
        span.kind = kind
        span.startTimeUnixNano = startTimeUnixNano
        span.endTimeUnixNano = endTimeUnixNano
        span.attributes = attributes.map(\.otlp)
        span.events = events.map { event in
            var result = Opentelemetry_Proto_Trace_V1_Span.Event()
            result.timeUnixNano = event.timeUnixNano
            result.name = event.name
            result.attributes = event.attributes.map(\.otlp)
            return result
        }
        if statusCode != .unset {
            span.status.code = statusCode
            span.status.message = statusMessage
        }
        return span
    }
}

/// Something that happened inside a span: a thought, a permission decision, a guardrail.
public struct SpanEventRecord: Sendable, Equatable {
    public var timeUnixNano: UInt64
    public var name: String
    public var attributes: [SpanAttribute]
}
