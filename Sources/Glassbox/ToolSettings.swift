import Foundation
public import Tools
import Yams

/// The `tools:` section of `glassbox.yaml`: what tools may reach besides databases.
///
/// ```yaml
/// tools:
///   context: {environment: prod}        # tested by policy conditions as context.*
///   limits: {max_rows: 1000, max_output_bytes: 262144, query_timeout_seconds: 30}
///   http:
///     allow_hosts: [api.github.com, "*.example.com"]
///     allow_private_hosts: []            # hosts allowed to resolve to loopback/private addresses
///     max_bytes: 1048576
///     timeout_seconds: 10
///   email:
///     smtp_url: smtp://127.0.0.1:8025
///     from: glassbox@example.com
///     username: reports
///     password_env: SMTP_PASSWORD        # or password_file: /run/secrets/smtp
///     allow_recipients: ["*@example.com"]
/// ```
public struct ToolSettings: Sendable, Equatable {
    public var context: [String: String] = [:]
    public var limits = OutputLimits()
    public var http = HTTPFetchSettings()
    public var email: EmailSettings?

    public init() {}

    mutating func apply(yaml node: Node, file: String, environment: [String: String]) throws {
        let mapping = try Self.mapping(node, key: "tools", file: file, expected: "context, limits, http, email")
        for (key, value) in mapping {
            switch key {
            case "context":
                for (name, item) in try Self.mapping(value, key: "tools.context", file: file, expected: "names and text values") {
                    context[name] = try Setting(key: "tools.context.\(name)", node: item, file: file).string()
                }
            case "limits":
                for (name, item) in try Self.mapping(value, key: "tools.limits", file: file, expected: "max_rows, max_output_bytes, query_timeout_seconds") {
                    let setting = Setting(key: "tools.limits.\(name)", node: item, file: file)
                    switch name {
                    case "max_rows": limits.maxRows = try setting.integer(in: 1...1_000_000)
                    case "max_output_bytes": limits.maxOutputBytes = try setting.integer(in: 1_024...(64 << 20))
                    case "query_timeout_seconds": limits.queryTimeout = .milliseconds(Int(try setting.number(in: 0.1...3_600) * 1_000))
                    default: throw Self.unknown(name, in: "tools.limits", node: item, file: file, known: "max_rows, max_output_bytes, query_timeout_seconds")
                    }
                }
            case "http":
                let known = "allow_hosts, allow_private_hosts, max_bytes, timeout_seconds"
                for (name, item) in try Self.mapping(value, key: "tools.http", file: file, expected: known) {
                    let setting = Setting(key: "tools.http.\(name)", node: item, file: file)
                    switch name {
                    case "allow_hosts": http.allowHosts = try setting.strings()
                    case "allow_private_hosts": http.allowPrivateHosts = try setting.strings()
                    case "max_bytes": http.maxBytes = try setting.integer(in: 1...(256 << 20))
                    case "timeout_seconds": http.timeout = .milliseconds(Int(try setting.number(in: 0.1...600) * 1_000))
                    default: throw Self.unknown(name, in: "tools.http", node: item, file: file, known: known)
                    }
                }
            case "email":
                email = try Self.email(value, file: file, environment: environment)
            default:
                throw Self.unknown(key, in: "tools", node: value, file: file, known: "context, limits, http, email")
            }
        }
    }

    private static func email(_ node: Node, file: String, environment: [String: String]) throws -> EmailSettings {
        let known = "smtp_url, from, username, password_env, password_file, allow_recipients, timeout_seconds"
        var url: String?, from: String?, username: String?, password: String?
        var recipients: [String] = []
        var timeout: Duration = .seconds(30)
        for (name, item) in try mapping(node, key: "tools.email", file: file, expected: known) {
            let setting = Setting(key: "tools.email.\(name)", node: item, file: file)
            switch name {
            case "smtp_url":
                let value = try setting.string()
                guard value.hasPrefix("smtp://") || value.hasPrefix("smtps://") else { throw setting.fail("an smtp:// or smtps:// URL") }
                if value.split(separator: "@").count > 1 {
                    throw ConfigurationError(file: file, node: item, message: "`tools.email.smtp_url` must not carry credentials; use `username` and `password_env` or `password_file`")
                }
                url = value
            case "from": from = try setting.string()
            case "username": username = try setting.string()
            case "password_env":
                let variable = try setting.string()
                guard let value = environment[variable], !value.isEmpty else {
                    throw ConfigurationError(file: file, node: item, message: "`tools.email.password_env` names $\(variable), which is not set; export it or use password_file")
                }
                password = value
            case "password_file":
                let path = try setting.string()
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigurationError(file: file, node: item, message: "cannot read the password file \(path); check the path and its permissions")
                }
                password = text.trimmingCharacters(in: .newlines)
            case "allow_recipients": recipients = try setting.strings()
            case "timeout_seconds": timeout = .milliseconds(Int(try setting.number(in: 0.1...600) * 1_000))
            default: throw unknown(name, in: "tools.email", node: item, file: file, known: known)
            }
        }
        guard let url, let from else {
            throw ConfigurationError(file: file, node: node, message: "`tools.email` needs `smtp_url` and `from`")
        }
        return EmailSettings(smtpURL: url, from: from, username: username, password: password, allowRecipients: recipients, timeout: timeout)
    }

    static func mapping(_ node: Node, key: String, file: String, expected: String) throws -> [(String, Node)] {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node, message: "`\(key)` must be a mapping (\(expected))")
        }
        return try mapping.map { keyNode, value in
            guard let name = keyNode.string else { throw ConfigurationError(file: file, node: keyNode, message: "keys under `\(key)` must be strings") }
            return (name, value)
        }
    }

    static func unknown(_ name: String, in section: String, node: Node, file: String, known: String) -> ConfigurationError {
        ConfigurationError(file: file, node: node, message: "unknown key `\(name)` under `\(section)`; known: \(known)")
    }
}

