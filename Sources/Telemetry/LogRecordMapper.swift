public import EventLog
import Foundation
public import GlassboxProto

/// Turns any event into an OTLP log record for log backends: `event_name` is the event
/// type, the body is its payload, and the trace and span ids tie it to its span.
public struct LogRecordMapper: Sendable {
    public var content: SpanMapper.Content

    public init(content: SpanMapper.Content = .omit) {
        self.content = content
    }

    /// Payload fields that hold message contents, left out unless contents are opted in.
    static let contentFields: [String: Set<String>] = [
        "run.started": ["task"],
        "run.completed": ["output"],
        "llm.requested": ["messages"],
        "llm.responded": ["content", "toolCalls"],
        "agent.thought": ["text"],
        "tool.requested": ["input"],
        "tool.completed": ["output"],
        "approval.requested": ["input"],
    ]

    public func record(from event: Event) -> Opentelemetry_Proto_Logs_V1_LogRecord {
        var record = OTLPLogRecord()
        record.timeUnixNano = UInt64(max(0, event.time))
        record.observedTimeUnixNano = record.timeUnixNano
        record.eventName = event.type
        (record.severityNumber, record.severityText) = Self.severity(of: event.type)
        record.traceID = Data(HexID.bytes(event.traceID))
        record.spanID = Data(HexID.bytes(event.spanID))
        if var body = PayloadJSON.parse(event.data) {
            if content == .omit, let hidden = Self.contentFields[event.type], case .object(let members) = body {
                body = .object(members.filter { !hidden.contains($0.key) })
            }
            record.body = body.anyValue
        }
        var attributes = AttributeList()
        attributes.add("glassbox.seq", event.seq)
        attributes.add("glassbox.event.id", event.id.uuidString.lowercased())
        attributes.add("glassbox.stream", event.stream)
        attributes.add("glassbox.stream_version", event.streamVersion)
        attributes.add("glassbox.actor", event.actor)
        record.attributes = attributes.otlp
        return record
    }

    /// Failures are errors; refusals are warnings; everything else is information.
    static func severity(of type: String) -> (Opentelemetry_Proto_Logs_V1_SeverityNumber, String) {
        if type.hasSuffix(".failed") || type == "export.rejected" { return (.error, "ERROR") }
        if ["tool.denied", "guardrail.blocked", "auth.failed", "approval.rejected", "run.cancelled",
            "step.retry_scheduled"].contains(type) {
            return (.warn, "WARN")
        }
        return (.info, "INFO")
    }
}
