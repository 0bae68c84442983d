import EventLog
import Foundation
import GlassboxProto
import SwiftProtobuf
import Testing
@testable import Telemetry

@Suite struct RetryPolicyTests {
    let policy = ExportRetryPolicy(initialBackoff: 1, multiplier: 2, maxBackoff: 30)

    @Test func onlyTheSpecsStatusesAreRetried() {
        for status in [429, 502, 503, 504] {
            guard case .retry = policy.decide(.answered(status: status, retryAfter: nil), retry: 1) else {
                Issue.record("\(status) must be retried")
                continue
            }
        }
        for status in [400, 401, 403, 404, 405, 413, 415, 500, 501] {
            #expect(policy.decide(.answered(status: status, retryAfter: nil), retry: 1) == .reject(reason: "HTTP \(status)"))
        }
        #expect(policy.decide(.answered(status: 200, retryAfter: nil), retry: 1) == .accepted)
        guard case .retry = policy.decide(.noAnswer("connection refused"), retry: 1) else {
            Issue.record("a refused connection must be retried")
            return
        }
    }

    @Test func retryAfterIsHonouredInSecondsAndAsADate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(policy.decide(.answered(status: 503, retryAfter: "7"), retry: 1, now: now)
                == .retry(afterSeconds: 7, reason: "HTTP 503, Retry-After 7"))
        let date = "Tue, 14 Nov 2023 22:13:32 GMT" // now + 12 s
        guard case .retry(let seconds, _) = policy.decide(.answered(status: 429, retryAfter: date), retry: 3, now: now) else {
            Issue.record("429 with a date must be retried")
            return
        }
        #expect(abs(seconds - 12) < 0.001)
        // Unreadable: fall back to backoff. Too long: capped.
        guard case .retry(let fallback, _) = policy.decide(.answered(status: 503, retryAfter: "soon"), retry: 1, random: 1) else { return }
        #expect(fallback == 1)
        #expect(policy.decide(.answered(status: 503, retryAfter: "100000"), retry: 1, now: now)
                == .retry(afterSeconds: 300, reason: "HTTP 503, Retry-After 100000"))
    }

    @Test func backoffGrowsExponentiallyWithJitterAndACap() {
        for retry in 1...10 {
            let step = min(30, pow(2, Double(retry - 1)))
            #expect(policy.backoff(retry: retry, random: 0) == step / 2)
            #expect(policy.backoff(retry: retry, random: 1) == step)
        }
        let draws = (0..<200).map { _ in policy.backoff(retry: 4, random: Double.random(in: 0..<1)) }
        #expect(Set(draws).count > 100, "jitter spreads retries")
        #expect(draws.allSatisfy { $0 >= 4 && $0 <= 8 })
    }
}

@Suite struct DestinationTests {
    @Test func theBaseEndpointGetsTheSignalPathAppended() throws {
        let destination = try #require(try OTLPDestination.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]))
        #expect(destination.tracesURL?.absoluteString == "http://collector:4318/v1/traces")
        #expect(destination.logsURL == nil, "log records are opt-in")
        let withPath = try #require(try OTLPDestination.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://cloud.langfuse.com/api/public/otel", "OTEL_LOGS_EXPORTER": "otlp"]))
        #expect(withPath.tracesURL?.absoluteString == "https://cloud.langfuse.com/api/public/otel/v1/traces")
        #expect(withPath.logsURL?.absoluteString == "https://cloud.langfuse.com/api/public/otel/v1/logs")
        let slash = try #require(try OTLPDestination.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/base/"]))
        #expect(slash.tracesURL?.absoluteString == "http://c:4318/base/v1/traces")
    }

    @Test func aSignalEndpointIsUsedAsIs() throws {
        let destination = try #require(try OTLPDestination.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo:4318/custom/path"]))
        #expect(destination.tracesURL?.absoluteString == "http://tempo:4318/custom/path")
        let bare = try #require(try OTLPDestination.fromEnvironment(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo:4318"]))
        #expect(bare.tracesURL?.absoluteString == "http://tempo:4318/")
    }

    @Test func headersProtocolCompressionAndTimeout() throws {
        let destination = try #require(try OTLPDestination.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20cGs6c2s=, x-project-name=glassbox",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500"]))
        #expect(destination.headers == ["Authorization": "Basic cGs6c2s=", "x-project-name": "glassbox"])
        #expect(destination.wireProtocol == .json)
        #expect(destination.compression == .gzip)
        #expect(destination.timeoutSeconds == 2.5)
    }

    @Test func badSettingsAreRefusedWithTheFix() throws {
        let cases: [([String: String], String)] = [
            (["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"], "http://"),
            (["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], "use http/protobuf"),
            (["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"], "gzip or none"),
            (["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"], "name=value"),
            (["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TIMEOUT": "-1"], "milliseconds"),
        ]
        for (environment, hint) in cases {
            do {
                _ = try OTLPDestination.fromEnvironment(environment)
                Issue.record("\(environment) was accepted")
            } catch {
                #expect("\(error)".contains(hint), "\(error)")
            }
        }
        #expect(try OTLPDestination.fromEnvironment([:]) == nil, "nothing is exported unless asked")
    }

    @Test func resourceFromTheEnvironment() {
        let (resource, warnings) = TelemetryResource.fromEnvironment([
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,deployment.environment=prod,team=data%2Cplatform",
            "OTEL_SERVICE_NAME": "glassbox-eu"])
        #expect(warnings.isEmpty)
        #expect(resource.value(of: "service.name") == "glassbox-eu")
        #expect(resource.value(of: "deployment.environment") == "prod")
        #expect(resource.value(of: "team") == "data,platform")
        let (broken, brokenWarnings) = TelemetryResource.fromEnvironment(["OTEL_RESOURCE_ATTRIBUTES": "a=1,oops,b=2"])
        #expect(broken.attributes.map(\.key) == ["service.name"], "a value with an error is discarded whole")
        #expect(broken.value(of: "service.name") == "glassbox")
        #expect(brokenWarnings.count == 1)
    }
}

@Suite struct TraceParentTests {
    @Test func aValidHeaderIsContinued() throws {
        let trace = try #require(TraceContext(continuing: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.parentSpanID == "00f067aa0ba902b7")
        #expect(trace.spanID.count == 16 && trace.spanID != "00f067aa0ba902b7")
        // A later version may append fields.
        #expect(TraceContext(continuing: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") != nil)
    }

    @Test func invalidHeadersAreIgnored() {
        let invalid = [
            nil, "", "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // version 00 must be 55 characters
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // short trace id
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ]
        for header in invalid {
            #expect(TraceContext(continuing: header) == nil, "\(header ?? "nil")")
        }
    }
}

@Suite struct EncodingTests {
    @Test func otlpJSONHasHexIdsNumericEnumsAndStringInts() async throws {
        let fixture = try await Fixture(runs: 1)
        defer { fixture.close() }
        let spans = fixture.spans()
        let bytes = OTLPPayload.traces(fixture.records(), resource: TelemetryResource(), encoding: .json)
        let json = try #require(PayloadJSON.parse(String(decoding: bytes, as: UTF8.self)))
        let decoded = try #require(json["resourceSpans"]?.array?.first?["scopeSpans"]?.array?.first?["spans"]?.array)
        #expect(decoded.count == spans.count)
        for (span, original) in zip(decoded, spans) {
            #expect(span["traceId"]?.string == HexID.hex(original.traceID))
            #expect(span["spanId"]?.string == HexID.hex(original.spanID))
            #expect(span["kind"] == .integer(Int64(original.kind.rawValue)))
            #expect(span["startTimeUnixNano"]?.string == String(original.startTimeUnixNano))
            #expect(span["attributes"]?.array?.count == original.attributes.count)
        }
        let withTokens = try #require(decoded.first { $0["name"]?.string?.hasPrefix("chat") == true })
        let tokens = withTokens["attributes"]?.array?.first { $0["key"]?.string == "gen_ai.usage.input_tokens" }
        #expect(tokens?["value"]?["intValue"]?.string != nil, "64-bit ints are strings in OTLP/JSON")
    }

    @Test func theProtobufWriterMatchesSwiftProtobuf() async throws {
        let fixture = try await Fixture(runs: 3)
        defer { fixture.close() }
        let records = fixture.records(SpanMapper(content: .include))
        let spans = records.map(\.otlp)
        var resource = TelemetryResource()
        resource.set("deployment.environment", "prod")
        let protobuf = OTLPPayload.traces(records, resource: resource, encoding: .protobuf)
        let request = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: protobuf)
        #expect(request.resourceSpans[0].scopeSpans[0].spans == spans)
        #expect(request.resourceSpans[0].resource == resource.otlp)
        #expect(request.resourceSpans[0].scopeSpans[0].scope == TelemetryResource.scope)
        // Byte for byte what SwiftProtobuf writes (same field order, same defaults left out).
        #expect(try request.serializedBytes() == protobuf)

        let logRecords = fixture.events.map(LogRecordMapper(content: .include).record(from:))
        let logs = OTLPPayload.logs(logRecords, resource: resource, encoding: .protobuf)
        let logsRequest = try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest(serializedBytes: logs)
        #expect(logsRequest.resourceLogs[0].scopeLogs[0].logRecords == logRecords)
        #expect(try logsRequest.serializedBytes() == logs)
    }

    @Test func gzipRoundTrips() throws {
        let text = Array(String(repeating: "glassbox ", count: 1_000).utf8)
        let compressed = try Gzip.compress(text)
        #expect(compressed.count < text.count / 10)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
    }

    @Test func partialSuccessIsRead() throws {
        var response = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        response.partialSuccess.rejectedSpans = 3
        response.partialSuccess.errorMessage = "spans too old"
        let protobuf = OTLPPayload.partialSuccess(try response.serializedBytes(), signal: .traces, encoding: .protobuf)
        #expect(protobuf.rejected == 3 && protobuf.message == "spans too old")
        let json = OTLPPayload.partialSuccess(Array(#"{"partialSuccess":{"rejectedSpans":"4","errorMessage":"x"}}"#.utf8), signal: .traces, encoding: .json)
        #expect(json.rejected == 4 && json.message == "x")
        #expect(OTLPPayload.partialSuccess([], signal: .traces, encoding: .json).rejected == 0)
    }
}

@Suite struct PayloadJSONTests {
    @Test func parsesWhatTheLogWrites() {
        let value = PayloadJSON.parse(#"{"a":"x\"y\\z\n\u00e9\ud83d\ude00","b":[1,-2.5,true,null],"c":{"d":"9007199254740993"}}"#)
        #expect(value?["a"]?.string == "x\"y\\z\né😀")
        #expect(value?["b"]?.array == [.integer(1), .number(-2.5), .bool(true), .null])
        #expect(value?["c"]?["d"]?.integer == 9_007_199_254_740_993)
        for broken in ["", "{", #"{"a":}"#, "[1,]", #"{"a":1} x"#, #""\u12""#] {
            #expect(PayloadJSON.parse(broken) == nil, "\(broken)")
        }
        let text = #"{"k":["v",{"n":1}],"e":"a\"b"}"#
        #expect(PayloadJSON.parse(text)?.jsonText == text)
    }
}

@Suite struct SQLStatementTests {
    @Test func operationCollectionAndSanitizedText() {
        let select = SQLStatement("SELECT name FROM warehouse.customers WHERE email = 'ann@example.com' AND age > 42")
        #expect(select.operation == "SELECT")
        #expect(select.collection == "warehouse.customers")
        #expect(select.sanitized == "SELECT name FROM warehouse.customers WHERE email = ? AND age > ?")
        #expect(SQLStatement("insert into t2 values ('it''s', 3)").sanitized == "insert into t2 values (?, ?)")
        #expect(SQLStatement("SELECT * FROM a JOIN b ON a.id = b.id").collection == nil, "two tables: no single collection")
        #expect(SQLStatement("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)").operation == "DELETE")
        #expect(SQLStatement("with recent as (select * from orders) select count(*) from recent").operation == "SELECT")
        #expect(SQLStatement("select col1 from t -- secret 'x'\nwhere a = 'b'").sanitized == "select col1 from t \nwhere a = ?")
        #expect(SQLStatement.systemName(declared: nil, connection: "postgresql://u@h/db") == "postgresql")
        #expect(SQLStatement.systemName(declared: nil, connection: "warehouse") == "other_sql")
    }
}
