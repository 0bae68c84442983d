public import Telemetry
import Foundation
import Yams

/// Where Glassbox exports telemetry: the `otlp:` section of `glassbox.yaml` and the
/// standard `OTEL_*` environment variables. Nothing is exported until a destination is given.
///
/// ```yaml
/// otlp:
///   content: false                  # prompts, answers and thoughts stay in the log
///   destinations:
///     - name: phoenix
///       endpoint: http://127.0.0.1:6006      # /v1/traces is appended
///       compression: gzip
///     - name: tempo
///       traces_endpoint: http://tempo:4318/v1/traces
///       signals: [traces, logs]
///       logs_endpoint: http://loki:3100/otlp/v1/logs
///       headers: {X-Scope-OrgID: data-team}
/// ```
public struct TelemetrySettings: Sendable, Equatable {
    public var destinations: [OTLPDestination] = []
    /// Export message contents (prompts, answers, thoughts, tool input and output).
    public var content = false
    public var resource = TelemetryResource()
    /// Problems that did not stop start-up (e.g. an undecodable OTEL_RESOURCE_ATTRIBUTES).
    public var warnings: [String] = []

    public init() {}

    /// Applies the standard variables: an `OTEL_EXPORTER_OTLP_*` endpoint adds (or replaces)
    /// the destination `default`; `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` set the resource;
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` opts in to contents.
    public mutating func apply(environment: [String: String]) throws {
        do {
            if let destination = try OTLPDestination.fromEnvironment(environment) {
                destinations.removeAll { $0.name == destination.name }
                destinations.append(destination)
            }
        } catch let error as TelemetryError {
            throw ConfigurationError(file: "environment", line: nil, column: nil, message: error.description)
        }
        if environment["OTEL_RESOURCE_ATTRIBUTES"] != nil || environment["OTEL_SERVICE_NAME"] != nil {
            let (fromEnvironment, warnings) = TelemetryResource.fromEnvironment(environment)
            for attribute in fromEnvironment.attributes where attribute.key != "service.name" || environment["OTEL_SERVICE_NAME"] != nil
                || fromEnvironment.value(of: "service.name") != "glassbox" {
                resource.set(attribute.key, attribute.value)
            }
            self.warnings += warnings
        }
        if let flag = environment["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"]?.lowercased() {
            content = ["true", "1", "yes"].contains(flag)
        }
    }

    /// Applies the `otlp:` mapping of `glassbox.yaml`.
    mutating func apply(yaml node: Node, file: String) throws {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node, message: "`otlp` must be a mapping with `destinations:` (a list), `content:` and `resource:`")
        }
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "content": content = try Setting(key: "otlp.content", node: value, file: file).bool()
            case "resource":
                guard let pairs = value.mapping else {
                    throw ConfigurationError(file: file, node: value, message: "`otlp.resource` must be a mapping of attribute names to values")
                }
                for (name, attribute) in pairs {
                    resource.set(name.string ?? "", try Setting(key: "otlp.resource.\(name.string ?? "")", node: attribute, file: file).string())
                }
            case "destinations":
                guard let list = value.sequence else {
                    throw ConfigurationError(file: file, node: value, message: "`otlp.destinations` must be a list, e.g. `- endpoint: http://localhost:4318`")
                }
                for (index, item) in list.enumerated() {
                    let destination = try Self.destination(item, index: index, file: file)
                    if destinations.contains(where: { $0.name == destination.name }) {
                        throw ConfigurationError(file: file, node: item, message: "two destinations are named `\(destination.name)`; give each a unique `name:`")
                    }
                    destinations.append(destination)
                }
            default:
                throw ConfigurationError(file: file, node: keyNode, message: "unknown key `otlp.\(key)`; known keys: content, resource, destinations")
            }
        }
    }

    private static let destinationKeys = ["name", "endpoint", "traces_endpoint", "logs_endpoint", "signals", "protocol",
                                          "compression", "headers", "timeout_ms", "max_batch_items", "max_batch_bytes"]

    private static func destination(_ node: Node, index: Int, file: String) throws -> OTLPDestination {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node, message: "each destination must be a mapping, e.g. `- endpoint: http://localhost:4318`")
        }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            guard destinationKeys.contains(key) else {
                throw ConfigurationError(file: file, node: keyNode, message: "unknown destination key `\(key)`; known keys: \(destinationKeys.joined(separator: ", "))")
            }
            values[key] = value
        }
        func setting(_ key: String) -> Setting? { values[key].map { Setting(key: "otlp.destinations[\(index)].\(key)", node: $0, file: file) } }
        func fail(_ key: String, _ error: TelemetryError) -> ConfigurationError {
            ConfigurationError(file: file, node: values[key] ?? node, message: "\(error)")
        }
        let name = try setting("name")?.string() ?? (index == 0 ? "default" : "destination\(index + 1)")
        let signals = try setting("signals")?.strings() ?? ["traces"]
        for signal in signals where OTLPDestination.Signal(rawValue: signal) == nil {
            throw ConfigurationError(file: file, node: values["signals"] ?? node, message: "unknown signal `\(signal)`; use traces and/or logs")
        }
        var destination = OTLPDestination(name: name, tracesURL: nil)
        do {
            let base = try setting("endpoint")?.string()
            for signal in OTLPDestination.Signal.allCases where signals.contains(signal.rawValue) {
                let exactKey = "\(signal.rawValue)_endpoint"
                let url: URL
                if let exact = try setting(exactKey)?.string() {
                    url = try OTLPDestination.exactURL(exact, variable: exactKey)
                } else if let base {
                    url = try OTLPDestination.signalURL(base: base, signal: signal, variable: "endpoint")
                } else {
                    throw ConfigurationError(file: file, node: node, message: "destination `\(name)` needs `endpoint:` (a base URL such as http://localhost:4318) or `\(exactKey):`")
                }
                if signal == .traces { destination.tracesURL = url } else { destination.logsURL = url }
            }
            if let text = try setting("protocol")?.string() {
                destination.wireProtocol = try OTLPDestination.parseProtocol(text, variable: "protocol")
            }
            if let text = try setting("compression")?.string() {
                destination.compression = try OTLPDestination.parseCompression(text, variable: "compression")
            }
        } catch let error as TelemetryError {
            throw fail("endpoint", error)
        }
        if let headers = values["headers"] {
            guard let pairs = headers.mapping else {
                throw ConfigurationError(file: file, node: headers, message: "`headers` must be a mapping of header names to values")
            }
            for (key, value) in pairs {
                destination.headers[key.string ?? ""] = try Setting(key: "headers.\(key.string ?? "")", node: value, file: file).string()
            }
        }
        if let timeout = try setting("timeout_ms")?.integer(in: 1...600_000) { destination.timeoutSeconds = Double(timeout) / 1_000 }
        if let items = try setting("max_batch_items")?.integer(in: 1...100_000) { destination.maxBatchItems = items }
        if let bytes = try setting("max_batch_bytes")?.integer(in: 1_024...(64 << 20)) { destination.maxBatchBytes = bytes }
        return destination
    }
}
