import Foundation
import Yams

/// Everything `glassbox serve` needs to know, merged from three layers: built-in defaults,
/// then `glassbox.yaml`, then `GLASSBOX_*` environment variables, then command-line flags.
///
/// ```swift
/// var configuration = try ServeConfiguration.load(file: "glassbox.yaml", environment: ProcessInfo.processInfo.environment)
/// configuration.port = 9000   // a flag wins over everything
/// ```
public struct ServeConfiguration: Sendable, Equatable {
    /// The log file.
    public var db = "glassbox.db"
    /// `full` or `normal`; see `SQLiteEventLog.Durability`.
    public var durability = "full"
    /// The address to listen on. Loopback by default: nothing is exposed until asked.
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// The folder of the static dashboard; nil searches the usual places.
    public var dashboard: String?
    /// Origins besides the server's own that browsers may call the API and streams from.
    /// `null` admits a dashboard opened from disk; `*` admits any origin.
    public var corsOrigins: [String] = []
    /// Fill the log with scripted demo activity while serving.
    public var demo = false
    /// Seconds without events after which a stream gets a heartbeat.
    public var heartbeatSeconds = 15.0
    /// How many recent events the server keeps for live streams; a client further behind is disconnected.
    public var streamBufferEvents = 20_000
    /// Seconds a stream's socket may accept nothing before the client is disconnected.
    public var streamStallTimeoutSeconds = 30.0
    /// How often the server looks for events appended by other processes, in milliseconds.
    public var pollMilliseconds = 5
    /// The most rows and the longest time an audit query may take through the API.
    public var auditMaxRows = 10_000
    public var auditTimeoutMilliseconds = 30_000
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Where traces (and optionally log records) are exported; see ``TelemetrySettings``.
    public var telemetry = TelemetrySettings()
    /// The policy file (roles, grants, denies, approvals, tool limits); nil: every tool call is denied.
    public var policy: String?
    /// The folder file, git, docs, dbt and chart tools are confined to; nil disables them.
    public var workspace: String?
    /// Named SQL databases tools may use; see ``ConnectionSettings``.
    public var connections = ConnectionSettings()
    /// HTTP, mail, limits and policy context for tools; see ``ToolSettings``.
    public var tools = ToolSettings()
    /// The model agents use; see ``LLMSettings``.
    public var llm = LLMSettings()
    /// A folder of agent definitions (YAML) added to the built-in ones.
    public var agents: String?
    /// How long an agent's tool call waits for a human's approval before it is refused.
    public var approvalTimeoutSeconds = 86_400.0

    public init() {}

    /// Reads `file` (when it exists, or always when `required`) and the environment over the defaults.
    public static func load(file: String?, required: Bool = false, environment: [String: String]) throws -> ServeConfiguration {
        var configuration = ServeConfiguration()
        if let file {
            if FileManager.default.fileExists(atPath: file) {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                try configuration.apply(yaml: text, file: file, environment: environment)
            } else if required {
                throw ConfigurationError(file: file, line: nil, column: nil,
                                         message: "the file does not exist; pass an existing file to --config or leave it out")
            }
        }
        try configuration.apply(environment: environment)
        try configuration.telemetry.apply(environment: environment)
        try configuration.llm.apply(environment: environment)
        return configuration
    }

    /// Applies the keys of a `glassbox.yaml` document.
    /// Relative paths in it (`policy`, `workspace`, SQLite connections) are resolved against the file's folder.
    public mutating func apply(yaml text: String, file: String = "glassbox.yaml", environment: [String: String] = [:]) throws {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(yamlError: error, file: file)
        }
        guard let node else { return }
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node, message: "the top level must be a mapping of keys to values, e.g. `port: 8080`")
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                throw ConfigurationError(file: file, node: keyNode, message: "keys must be strings")
            }
            try apply(key: key, node: value, file: file, environment: environment)
        }
    }

    private mutating func apply(key: String, node: Node, file: String, environment: [String: String] = [:]) throws {
        let setting = Setting(key: key, node: node, file: file)
        switch key {
        case "db": db = try setting.string()
        case "durability": durability = try setting.oneOf(["full", "normal"])
        case "host": host = try setting.string()
        case "port": port = try setting.integer(in: 0...65_535)
        case "dashboard": dashboard = try setting.string()
        case "cors_origins": corsOrigins = try setting.strings()
        case "demo": demo = try setting.bool()
        case "heartbeat_seconds": heartbeatSeconds = try setting.number(in: 0.1...3_600)
        case "stream_buffer_events": streamBufferEvents = try setting.integer(in: 100...10_000_000)
        case "stream_stall_timeout_seconds": streamStallTimeoutSeconds = try setting.number(in: 0.1...3_600)
        case "poll_milliseconds": pollMilliseconds = try setting.integer(in: 1...10_000)
        case "audit_max_rows": auditMaxRows = try setting.integer(in: 1...1_000_000)
        case "audit_timeout_ms": auditTimeoutMilliseconds = try setting.integer(in: 1...600_000)
        case "max_body_bytes": maxBodyBytes = try setting.integer(in: 1_024...(1 << 30))
        case "otlp": try telemetry.apply(yaml: node, file: file)
        case "policy": policy = Self.resolve(try setting.string(), against: file)
        case "workspace": workspace = Self.resolve(try setting.string(), against: file)
        case "connections": try connections.apply(yaml: node, file: file, environment: environment)
        case "tools": try tools.apply(yaml: node, file: file, environment: environment)
        case "llm": try llm.apply(yaml: node, file: file)
        case "agents": agents = Self.resolve(try setting.string(), against: file)
        case "approval_timeout_seconds": approvalTimeoutSeconds = try setting.number(in: 1...(30 * 86_400))
        default:
            throw ConfigurationError(file: file, node: node,
                                     message: "unknown key `\(key)`; known keys: \(Self.keys.joined(separator: ", "))")
        }
    }

    /// The keys `glassbox.yaml` accepts; each also has an environment variable `GLASSBOX_<KEY>`.
    public static let keys = [
        "db", "durability", "host", "port", "dashboard", "cors_origins", "demo", "heartbeat_seconds",
        "stream_buffer_events", "stream_stall_timeout_seconds", "poll_milliseconds", "audit_max_rows",
        "audit_timeout_ms", "max_body_bytes", "otlp", "policy", "workspace", "connections", "tools", "llm", "agents",
        "approval_timeout_seconds",
    ]

    /// Keys that only the file sets (structured values).
    static let fileOnlyKeys: Set<String> = ["otlp", "connections", "tools", "llm"]

    /// `path` relative to the folder of `file`, unless it is absolute or `file` is not a path (a flag, a variable).
    static func resolve(_ path: String, against file: String) -> String {
        guard !path.hasPrefix("/"), !file.hasPrefix("$"), !file.hasPrefix("-"), file != "environment" else { return path }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        return folder.appendingPathComponent(path).standardizedFileURL.path
    }

    /// Applies `GLASSBOX_<KEY>` variables; lists are comma-separated.
    public mutating func apply(environment: [String: String]) throws {
        for key in Self.keys where !Self.fileOnlyKeys.contains(key) {
            let name = "GLASSBOX_" + key.uppercased()
            guard let value = environment[name], !value.isEmpty else { continue }
            let values = key == "cors_origins"
                ? value.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } : [value]
            try set(key, to: values, source: "$" + name)
        }
    }

    /// Sets one key from text, e.g. a command-line flag, with the same checks and messages as
    /// the file; `source` names where the value came from (`--port`).
    public mutating func set(_ key: String, to values: [String], source: String) throws {
        let node = key == "cors_origins"
            ? Node.sequence(Node.Sequence(values.map { Node.scalar(Node.Scalar($0)) }))
            : Node.scalar(Node.Scalar(values.last ?? ""))
        try apply(key: key, node: node, file: source)
    }
}

/// A configuration value that cannot be used, with where it was found.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let column: Int?
    public let message: String

    public init(file: String, line: Int?, column: Int?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    init(file: String, node: Node, message: String) {
        let mark = node.mark
        self.init(file: file, line: mark?.line, column: mark?.column, message: message)
    }

    init(yamlError: YamlError, file: String) {
        switch yamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            self.init(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        default:
            self.init(file: file, line: nil, column: nil, message: "YAML: \(yamlError)")
        }
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return "\(place): \(message)"
    }
}

/// One key's value with the conversions and the errors that name the key.
struct Setting {
    let key: String
    let node: Node
    let file: String

    func fail(_ expectation: String) -> ConfigurationError {
        let shown = node.scalar?.string ?? "a \(node.mapping != nil ? "mapping" : "list")"
        return ConfigurationError(file: file, node: node, message: "`\(key)` must be \(expectation), not \(shown)")
    }

    func string() throws -> String {
        guard let value = node.scalar?.string, !value.isEmpty else { throw fail("a non-empty string") }
        return value
    }

    func bool() throws -> Bool {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw fail("true or false")
        }
    }

    func integer(in range: ClosedRange<Int>) throws -> Int {
        guard let value = node.scalar.flatMap({ Int($0.string) }), range.contains(value) else {
            throw fail("a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func number(in range: ClosedRange<Double>) throws -> Double {
        guard let value = node.scalar.flatMap({ Double($0.string) }), range.contains(value) else {
            throw fail("a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func oneOf(_ choices: [String]) throws -> String {
        guard let value = node.scalar?.string, choices.contains(value) else {
            throw fail("one of \(choices.joined(separator: ", "))")
        }
        return value
    }

    func strings() throws -> [String] {
        if let sequence = node.sequence {
            return try sequence.map { item in
                guard let value = item.scalar?.string, !value.isEmpty else { throw fail("a list of strings") }
                return value
            }
        }
        return [try string()]
    }
}
