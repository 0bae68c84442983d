public import Foundation

/// One collector Glassbox exports to, and how: URLs per signal, headers, encoding,
/// compression, timeout and batch limits. Each destination keeps its own checkpoint.
///
/// From the standard variables:
/// ```swift
/// let destination = try OTLPDestination.fromEnvironment(ProcessInfo.processInfo.environment)
/// // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 → traces to http://collector:4318/v1/traces
/// ```
public struct OTLPDestination: Sendable, Equatable {
    public enum WireProtocol: String, Sendable, CaseIterable {
        case protobuf = "http/protobuf"
        case json = "http/json"

        var contentType: String {
            switch self {
            case .protobuf: "application/x-protobuf"
            case .json: "application/json"
            }
        }
    }

    public enum Compression: String, Sendable, CaseIterable {
        case none, gzip
    }

    public enum Signal: String, Sendable, CaseIterable {
        case traces, logs

        var path: String { "v1/\(rawValue)" }
    }

    /// Names the destination in metrics, events and its checkpoint (`otlp:<name>:<signal>`).
    public var name: String
    /// Where spans go; nil exports no spans.
    public var tracesURL: URL?
    /// Where log records go; nil (the default) exports no log records.
    public var logsURL: URL?
    public var headers: [String: String]
    public var wireProtocol: WireProtocol
    public var compression: Compression
    /// How long one request may take before it counts as failed and is retried.
    public var timeoutSeconds: Double
    /// A batch holds at most this many spans or log records …
    public var maxBatchItems: Int
    /// … and at most about this many bytes before compression.
    public var maxBatchBytes: Int

    public init(name: String = "default", tracesURL: URL?, logsURL: URL? = nil, headers: [String: String] = [:],
                wireProtocol: WireProtocol = .protobuf, compression: Compression = .none, timeoutSeconds: Double = 10,
                maxBatchItems: Int = 2_048, maxBatchBytes: Int = 4 << 20) {
        self.name = name
        self.tracesURL = tracesURL
        self.logsURL = logsURL
        self.headers = headers
        self.wireProtocol = wireProtocol
        self.compression = compression
        self.timeoutSeconds = timeoutSeconds
        self.maxBatchItems = maxBatchItems
        self.maxBatchBytes = maxBatchBytes
    }

    public func url(for signal: Signal) -> URL? {
        switch signal {
        case .traces: tracesURL
        case .logs: logsURL
        }
    }

    /// The signals this destination receives.
    public var signals: [Signal] { Signal.allCases.filter { url(for: $0) != nil } }

    /// The durable checkpoint of one signal to this destination.
    public func consumer(_ signal: Signal) -> String { "otlp:\(name):\(signal.rawValue)" }

    /// A signal's URL from a base endpoint, as the specification says for
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: make sure the path ends with `/`, then append `v1/<signal>`.
    public static func signalURL(base: String, signal: Signal, variable: String = "the endpoint") throws -> URL {
        let url = try checkedURL(base, variable: variable)
        var text = url.absoluteString
        if let query = text.firstIndex(of: "?") { text = String(text[..<query]) }
        if !text.hasSuffix("/") { text += "/" }
        return try checkedURL(text + signal.path, variable: variable)
    }

    /// A URL used as given (the `*_TRACES_ENDPOINT` and `*_LOGS_ENDPOINT` variables); an empty path becomes `/`.
    public static func exactURL(_ text: String, variable: String) throws -> URL {
        let url = try checkedURL(text, variable: variable)
        if url.path.isEmpty, let fixed = URL(string: url.absoluteString + "/") { return fixed }
        return url
    }

    static func checkedURL(_ text: String, variable: String) throws -> URL {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty
        else {
            throw TelemetryError.invalidSetting(variable, "`\(text)` is not an http:// or https:// URL, e.g. http://localhost:4318")
        }
        return url
    }

    /// The destination the standard `OTEL_EXPORTER_OTLP_*` variables describe, or nil when
    /// no endpoint is set (Glassbox exports nothing unless told where to).
    ///
    /// Signals: spans unless `OTEL_TRACES_EXPORTER=none`; log records only with
    /// `OTEL_LOGS_EXPORTER=otlp` (every event becomes a record, which doubles the traffic).
    public static func fromEnvironment(_ environment: [String: String], name: String = "default") throws -> OTLPDestination? {
        func value(_ key: String) -> String? {
            guard let value = environment[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        let base = value("OTEL_EXPORTER_OTLP_ENDPOINT")
        let tracesEndpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        let logsEndpoint = value("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
        guard base != nil || tracesEndpoint != nil || logsEndpoint != nil else { return nil }

        var tracesURL: URL?
        if value("OTEL_TRACES_EXPORTER")?.lowercased() != "none" {
            if let tracesEndpoint {
                tracesURL = try exactURL(tracesEndpoint, variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            } else if let base {
                tracesURL = try signalURL(base: base, signal: .traces, variable: "OTEL_EXPORTER_OTLP_ENDPOINT")
            }
        }
        var logsURL: URL?
        if value("OTEL_LOGS_EXPORTER")?.lowercased() == "otlp" {
            if let logsEndpoint {
                logsURL = try exactURL(logsEndpoint, variable: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
            } else if let base {
                logsURL = try signalURL(base: base, signal: .logs, variable: "OTEL_EXPORTER_OTLP_ENDPOINT")
            }
        }
        var destination = OTLPDestination(name: name, tracesURL: tracesURL, logsURL: logsURL)
        for key in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
            guard let text = value(key) else { continue }
            switch KeyValueText.parse(text) {
            case .success(let pairs): for pair in pairs { destination.headers[pair.key] = pair.value }
            case .failure(let problem):
                throw TelemetryError.invalidSetting(key, "\(problem); write it as name=value,name2=value2 with , and = percent-encoded")
            }
        }
        if let text = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? value("OTEL_EXPORTER_OTLP_PROTOCOL") {
            destination.wireProtocol = try parseProtocol(text, variable: "OTEL_EXPORTER_OTLP_PROTOCOL")
        }
        if let text = value("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION") ?? value("OTEL_EXPORTER_OTLP_COMPRESSION") {
            destination.compression = try parseCompression(text, variable: "OTEL_EXPORTER_OTLP_COMPRESSION")
        }
        if let text = value("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") ?? value("OTEL_EXPORTER_OTLP_TIMEOUT") {
            guard let milliseconds = Double(text), milliseconds > 0 else {
                throw TelemetryError.invalidSetting("OTEL_EXPORTER_OTLP_TIMEOUT", "`\(text)` is not a positive number of milliseconds, e.g. 10000")
            }
            destination.timeoutSeconds = milliseconds / 1_000
        }
        return destination
    }

    public static func parseProtocol(_ text: String, variable: String) throws -> WireProtocol {
        if let value = WireProtocol(rawValue: text.lowercased()) { return value }
        if text.lowercased() == "grpc" {
            throw TelemetryError.invalidSetting(variable, "grpc is not supported; use http/protobuf (port 4318) or http/json")
        }
        throw TelemetryError.invalidSetting(variable, "`\(text)` is not http/protobuf or http/json")
    }

    public static func parseCompression(_ text: String, variable: String) throws -> Compression {
        guard let value = Compression(rawValue: text.lowercased()) else {
            throw TelemetryError.invalidSetting(variable, "`\(text)` is not gzip or none")
        }
        return value
    }
}

/// What went wrong with telemetry settings or an export, and what to do about it.
public enum TelemetryError: Error, CustomStringConvertible, Equatable {
    case invalidSetting(String, String)
    case gaveUp(destination: String, signal: String, resumeFrom: Int64, reason: String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let problem): "\(name): \(problem)"
        case .gaveUp(let destination, let signal, let resumeFrom, let reason):
            "export of \(signal) to \(destination) stopped: \(reason). Nothing was lost; run the same command with --from \(resumeFrom) when the collector is reachable"
        }
    }
}
