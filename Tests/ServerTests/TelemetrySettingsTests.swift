import Foundation
import Glassbox
import Telemetry
import Testing

@Suite struct TelemetrySettingsTests {
    @Test func destinationsFromTheFileAndTheEnvironment() throws {
        var configuration = ServeConfiguration()
        try configuration.apply(yaml: """
            otlp:
              content: true
              resource: {deployment.environment: prod}
              destinations:
                - name: phoenix
                  endpoint: http://127.0.0.1:6006
                  headers: {x-project-name: glassbox}
                - name: tempo
                  traces_endpoint: http://tempo:4318/v1/traces
                  logs_endpoint: http://loki:3100/otlp/v1/logs
                  signals: [traces, logs]
                  protocol: http/json
                  compression: gzip
                  timeout_ms: 2500
                  max_batch_items: 100
            """)
        try configuration.telemetry.apply(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SERVICE_NAME": "glassbox-eu"])
        let destinations = configuration.telemetry.destinations
        #expect(destinations.map(\.name) == ["phoenix", "tempo", "default"])
        #expect(destinations[0].tracesURL?.absoluteString == "http://127.0.0.1:6006/v1/traces")
        #expect(destinations[0].logsURL == nil)
        #expect(destinations[0].headers == ["x-project-name": "glassbox"])
        #expect(destinations[1].signals == [.traces, .logs])
        #expect(destinations[1].logsURL?.absoluteString == "http://loki:3100/otlp/v1/logs")
        #expect(destinations[1].wireProtocol == .json && destinations[1].compression == .gzip)
        #expect(destinations[1].timeoutSeconds == 2.5 && destinations[1].maxBatchItems == 100)
        #expect(destinations[2].tracesURL?.absoluteString == "http://collector:4318/v1/traces")
        #expect(configuration.telemetry.content)
        #expect(configuration.telemetry.resource.value(of: "service.name") == "glassbox-eu")
        #expect(configuration.telemetry.resource.value(of: "deployment.environment") == "prod")
    }

    @Test func badDestinationsNameTheLineAndTheFix() {
        let cases: [(String, Int, String)] = [
            ("otlp:\n  destinations:\n    - endpoint: collector:4318\n", 3, "http://"),
            ("otlp:\n  destinations:\n    - endpoint: http://c:4318\n      sigals: [traces]\n", 4, "unknown destination key `sigals`"),
            ("otlp:\n  destinations:\n    - name: a\n      signals: [spans]\n      endpoint: http://c:4318\n", 4, "use traces and/or logs"),
            ("otlp:\n  destinations:\n    - name: a\n      endpoint: http://c:4318\n    - name: a\n      endpoint: http://d:4318\n", 5, "unique"),
            ("otlp:\n  destinations:\n    - name: a\n", 3, "needs `endpoint:`"),
            ("otlp:\n  destinations:\n    - endpoint: http://c:4318\n      protocol: grpc\n", 3, "http/protobuf"),
            ("otlp:\n  contents: true\n", 2, "unknown key `otlp.contents`"),
        ]
        for (yaml, line, hint) in cases {
            var configuration = ServeConfiguration()
            do {
                try configuration.apply(yaml: yaml, file: "glassbox.yaml")
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigurationError {
                #expect(error.line == line, "\(error)")
                #expect(error.description.contains(hint), "\(error)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func aBadEnvironmentIsRefusedAtStart() {
        #expect(throws: ConfigurationError.self) {
            _ = try ServeConfiguration.load(file: nil, environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"])
        }
    }
}
