import EventLog
import Foundation
import GlassboxProto
import SwiftProtobuf

/// The body of one OTLP/HTTP request, in protobuf (the default) or OTLP/JSON.
///
/// OTLP/JSON is not protobuf's JSON mapping: ids are hex rather than base64 and enums
/// are numbers, so it is written here rather than by SwiftProtobuf.
enum OTLPPayload {
    static func traces(_ spans: [SpanRecord], resource: TelemetryResource, encoding: OTLPDestination.WireProtocol) -> [UInt8] {
        if encoding == .protobuf {
            var writer = ProtobufWriter(capacity: spans.count * 1_200)
            writer.traces(spans, resource: resource.otlp, scope: TelemetryResource.scope)
            return writer.bytes
        }
        var out = JSONOut()
        out.traces(spans, resource: resource.otlp, scope: TelemetryResource.scope)
        return out.bytes
    }

    static func logs(_ records: [OTLPLogRecord], resource: TelemetryResource, encoding: OTLPDestination.WireProtocol) -> [UInt8] {
        if encoding == .protobuf {
            var writer = ProtobufWriter(capacity: records.count * 800)
            writer.logs(records, resource: resource.otlp, scope: TelemetryResource.scope)
            return writer.bytes
        }
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        resourceLogs.resource = resource.otlp
        var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        scopeLogs.scope = TelemetryResource.scope
        scopeLogs.logRecords = records
        resourceLogs.scopeLogs = [scopeLogs]
        request.resourceLogs = [resourceLogs]
        var out = JSONOut()
        out.logs(request)
        return out.bytes
    }

    /// Reads a 200 answer: how many items the collector rejected and why (partial success).
    static func partialSuccess(_ body: [UInt8], signal: OTLPDestination.Signal, encoding: OTLPDestination.WireProtocol) -> (rejected: Int64, message: String) {
        guard !body.isEmpty else { return (0, "") }
        switch encoding {
        case .protobuf:
            switch signal {
            case .traces:
                guard let response = try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: body) else { return (0, "") }
                return (response.partialSuccess.rejectedSpans, response.partialSuccess.errorMessage)
            case .logs:
                guard let response = try? Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse(serializedBytes: body) else { return (0, "") }
                return (response.partialSuccess.rejectedLogRecords, response.partialSuccess.errorMessage)
            }
        case .json:
            guard let json = PayloadJSON.parse(String(decoding: body, as: UTF8.self)),
                  let partial = json["partialSuccess"] ?? json["partial_success"] else { return (0, "") }
            let rejected = partial["rejectedSpans"] ?? partial["rejected_spans"] ?? partial["rejectedLogRecords"] ?? partial["rejected_log_records"]
            return (rejected?.integer ?? 0, (partial["errorMessage"] ?? partial["error_message"])?.string ?? "")
        }
    }

    /// The message of an error answer (a `google.rpc.Status`, or whatever text came back).
    static func errorMessage(_ body: [UInt8], contentType: String?) -> String {
        guard !body.isEmpty else { return "" }
        if contentType?.contains("protobuf") == true, let status = try? Google_Rpc_Status(serializedBytes: body), !status.message.isEmpty {
            return status.message
        }
        let text = String(decoding: body.prefix(2_000), as: UTF8.self)
        if let json = PayloadJSON.parse(text), let message = json["message"]?.string { return message }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A writer of OTLP/JSON for the messages Glassbox sends.
private struct JSONOut {
    var text = ""

    init() { text.reserveCapacity(64 * 1024) }

    var bytes: [UInt8] { Array(text.utf8) }

    mutating func traces(_ spans: [SpanRecord], resource: Opentelemetry_Proto_Resource_V1_Resource,
                         scope: Opentelemetry_Proto_Common_V1_InstrumentationScope) {
        text += "{\"resourceSpans\":[{\"resource\":"
        self.resource(resource)
        text += ",\"scopeSpans\":[{\"scope\":"
        self.scope(scope)
        text += ",\"spans\":["
        for (index, span) in spans.enumerated() {
            if index > 0 { text += "," }
            self.span(span)
        }
        text += "]}]}]}"
    }

    mutating func logs(_ request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest) {
        text += "{\"resourceLogs\":["
        for (index, resourceLogs) in request.resourceLogs.enumerated() {
            if index > 0 { text += "," }
            text += "{\"resource\":"
            resource(resourceLogs.resource)
            text += ",\"scopeLogs\":["
            for (scopeIndex, scopeLogs) in resourceLogs.scopeLogs.enumerated() {
                if scopeIndex > 0 { text += "," }
                text += "{\"scope\":"
                scope(scopeLogs.scope)
                text += ",\"logRecords\":["
                for (recordIndex, record) in scopeLogs.logRecords.enumerated() {
                    if recordIndex > 0 { text += "," }
                    self.record(record)
                }
                text += "]}"
            }
            text += "]}"
        }
        text += "]}"
    }

    private mutating func resource(_ resource: Opentelemetry_Proto_Resource_V1_Resource) {
        text += "{\"attributes\":"
        attributes(resource.attributes)
        text += "}"
    }

    private mutating func scope(_ scope: Opentelemetry_Proto_Common_V1_InstrumentationScope) {
        text += "{\"name\":"
        text += JSONText.string(scope.name)
        text += ",\"version\":"
        text += JSONText.string(scope.version)
        text += "}"
    }

    private mutating func span(_ span: SpanRecord) {
        text += "{\"traceId\":\"" + span.traceID + "\",\"spanId\":\"" + span.spanID + "\""
        if let parent = span.parentSpanID, !parent.isEmpty { text += ",\"parentSpanId\":\"" + parent + "\"" }
        text += ",\"name\":"
        text += JSONText.string(span.name)
        text += ",\"kind\":\(span.kind.rawValue)"
        text += ",\"startTimeUnixNano\":\"\(span.startTimeUnixNano)\",\"endTimeUnixNano\":\"\(span.endTimeUnixNano)\""
        text += ",\"attributes\":"
        attributes(span.attributes.map(\.otlp))
        if !span.events.isEmpty {
            text += ",\"events\":["
            for (index, event) in span.events.enumerated() {
                if index > 0 { text += "," }
                text += "{\"timeUnixNano\":\"\(event.timeUnixNano)\",\"name\":"
                text += JSONText.string(event.name)
                text += ",\"attributes\":"
                attributes(event.attributes.map(\.otlp))
                text += "}"
            }
            text += "]"
        }
        if span.statusCode != .unset {
            text += ",\"status\":{\"code\":\(span.statusCode.rawValue)"
            if !span.statusMessage.isEmpty {
                text += ",\"message\":"
                text += JSONText.string(span.statusMessage)
            }
            text += "}"
        }
        text += "}"
    }

    private mutating func record(_ record: OTLPLogRecord) {
        text += "{\"timeUnixNano\":\"\(record.timeUnixNano)\",\"observedTimeUnixNano\":\"\(record.observedTimeUnixNano)\""
        text += ",\"severityNumber\":\(record.severityNumber.rawValue),\"severityText\":"
        text += JSONText.string(record.severityText)
        text += ",\"eventName\":"
        text += JSONText.string(record.eventName)
        if !record.traceID.isEmpty { text += ",\"traceId\":\"" + HexID.hex(record.traceID) + "\"" }
        if !record.spanID.isEmpty { text += ",\"spanId\":\"" + HexID.hex(record.spanID) + "\"" }
        if record.hasBody {
            text += ",\"body\":"
            value(record.body)
        }
        text += ",\"attributes\":"
        attributes(record.attributes)
        text += "}"
    }

    private mutating func attributes(_ items: [OTLPKeyValue]) {
        text += "["
        for (index, item) in items.enumerated() {
            if index > 0 { text += "," }
            text += "{\"key\":"
            text += JSONText.string(item.key)
            text += ",\"value\":"
            value(item.value)
            text += "}"
        }
        text += "]"
    }

    private mutating func value(_ value: OTLPAnyValue) {
        switch value.value {
        case .stringValue(let string)?:
            text += "{\"stringValue\":"
            text += JSONText.string(string)
            text += "}"
        case .boolValue(let bool)?: text += "{\"boolValue\":\(bool)}"
        case .intValue(let int)?: text += "{\"intValue\":\"\(int)\"}"
        case .doubleValue(let double)?: text += double.isFinite ? "{\"doubleValue\":\(double)}" : "{\"stringValue\":\"\(double)\"}"
        case .arrayValue(let array)?:
            text += "{\"arrayValue\":{\"values\":["
            for (index, item) in array.values.enumerated() {
                if index > 0 { text += "," }
                self.value(item)
            }
            text += "]}}"
        case .kvlistValue(let list)?:
            text += "{\"kvlistValue\":{\"values\":"
            attributes(list.values)
            text += "}}"
        case .bytesValue(let data)?: text += "{\"bytesValue\":\"\(data.base64EncodedString())\"}"
        case nil: text += "{}"
        }
    }
}
