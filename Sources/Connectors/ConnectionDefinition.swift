/// A named database connection: where it is, the password to log in with, and which database
/// role each caller's statements run as.
///
/// ```swift
/// let warehouse = try ConnectionDefinition(
///     name: "warehouse", url: "postgresql://glassbox@127.0.0.1:5432/warehouse?sslmode=disable",
///     password: environment["WAREHOUSE_PASSWORD"],
///     roles: ["user:alice": "analyst_ro", "role:engineer": "engineer_rw", "default": "readonly"])
/// let local = try ConnectionDefinition(name: "local", url: "sqlite:///var/data/warehouse.db")
/// ```
///
/// URLs: `sqlite:///absolute/path.db`, `sqlite:relative/path.db` (against the working directory),
/// `postgresql://user@host:port/database?sslmode=…` (also `postgres://`). PostgreSQL parameters:
/// `sslmode` (`disable`, the default; `prefer`, `require`, `verify-ca`, `verify-full`), `sslrootcert`
/// (a PEM file), `connect_timeout` (seconds), `application_name`. A password never goes in the URL.
///
/// The description leaves the password out, and so does `dump`.
public struct ConnectionDefinition: Sendable, Hashable {
    public var name: String
    public var url: String
    public var engine: SQLEngine
    /// The login password, resolved from the environment or a secret file; never printed.
    public var password: String?
    /// Principal id, or `role:<name>`, or `default` → the database role to `SET ROLE` to (PostgreSQL).
    public var roles: [String: String]

    /// Checks the URL; throws ``ConnectorError/invalidURL(url:reason:)`` saying what to fix.
    public init(name: String, url: String, password: String? = nil, roles: [String: String] = [:]) throws(ConnectorError) {
        let endpoint = try ConnectionEndpoint(url: url)
        self.name = name
        self.url = url
        self.engine = endpoint.engine
        self.password = password
        self.roles = roles
    }

    /// The file of an SQLite connection as its URL gives it (relative or absolute); nil for other engines.
    public var sqlitePath: String? {
        guard case .sqlite(let path)? = try? ConnectionEndpoint(url: url) else { return nil }
        return path
    }

    /// The URL of an SQLite file, e.g. `sqlite:///var/data/warehouse.db` (`%` and `?` escaped).
    public static func sqliteURL(path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            default: escaped.append(character)
            }
        }
        return (path.hasPrefix("/") ? "sqlite://" : "sqlite:") + escaped
    }

    /// Splits a password out of a URL such as `postgresql://user:secret@host/db`, for a command
    /// line that accepts one there; the URL comes back without it.
    public static func separatingPassword(from url: String) -> (url: String, password: String?) {
        guard let parts = URLParts(url), let password = parts.password else { return (url, nil) }
        return (parts.text(passwordPlaceholder: nil), password)
    }
}

extension ConnectionDefinition: CustomStringConvertible, CustomReflectable {
    public var description: String {
        var text = "\(name): \(ConnectionEndpoint.redacted(url))"
        if password != nil { text += " (password set)" }
        if !roles.isEmpty { text += " roles: " + roles.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", ") }
        return text
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "url": ConnectionEndpoint.redacted(url), "engine": engine,
                                "password": password == nil ? "(none)" : "(set)", "roles": roles])
    }
}

/// A parsed connection URL.
enum ConnectionEndpoint: Sendable, Hashable {
    case sqlite(path: String)
    case postgres(PostgresEndpoint)

    var engine: SQLEngine {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgresql
        }
    }

    init(url: String) throws(ConnectorError) {
        func fail(_ reason: String) -> ConnectorError { .invalidURL(url: Self.redacted(url), reason: reason) }
        let lowered = url.lowercased()
        if lowered.hasPrefix("sqlite:") {
            var rest = String(url.dropFirst("sqlite:".count))
            if rest.hasPrefix("///") {
                rest.removeFirst(2)
            } else if rest.hasPrefix("//") {
                throw fail("write sqlite:///absolute/path.db (three slashes) or sqlite:relative/path.db")
            }
            if let query = rest.firstIndex(of: "?") {
                throw fail("SQLite URLs take no parameters (found `\(rest[query...])`)")
            }
            guard let path = rest.percentDecoded, !path.isEmpty else {
                throw fail("the file path is missing or badly percent-encoded, e.g. sqlite:///var/data/warehouse.db")
            }
            self = .sqlite(path: path)
        } else if lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://") {
            self = .postgres(try PostgresEndpoint(url: url, fail: fail))
        } else {
            throw fail("use sqlite:///path/to/file.db or postgresql://user@host:5432/database")
        }
    }

    /// The URL with any password replaced by `***`, for messages.
    static func redacted(_ url: String) -> String {
        guard let parts = URLParts(url), parts.password != nil else { return url }
        return parts.text(passwordPlaceholder: "***")
    }
}

/// Where a PostgreSQL server is and how to log in (without the password).
struct PostgresEndpoint: Sendable, Hashable {
    enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var user: String
    var database: String
    var tls: TLSMode = .disable
    var rootCertificate: String?
    var connectTimeout: Duration = .seconds(10)
    var applicationName = "glassbox"

    /// `host:port`, for messages.
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static let parameters = ["sslmode", "sslrootcert", "connect_timeout", "application_name"]

    init(url: String, fail: (String) -> ConnectorError) throws(ConnectorError) {
        guard let parts = URLParts(url) else {
            throw fail("expected postgresql://user@host:port/database")
        }
        if parts.password != nil {
            throw fail("it holds a password; remove it from the URL and give it separately "
                       + "(password_env or password_file in glassbox.yaml, PGPASSWORD on the command line)")
        }
        guard let user = parts.user?.percentDecoded, !user.isEmpty else {
            throw fail("the user is missing: postgresql://user@host:port/database")
        }
        guard !parts.host.isEmpty else { throw fail("the host is missing: postgresql://user@host:port/database") }
        self.user = user
        self.host = parts.host
        if let port = parts.port {
            guard let number = Int(port), (1...65_535).contains(number) else { throw fail("the port `\(port)` is not a number from 1 to 65535") }
            self.port = number
        } else {
            self.port = 5432
        }
        let database = parts.path.percentDecoded ?? ""
        self.database = database.isEmpty ? user : database
        for (key, value) in parts.query {
            switch key {
            case "sslmode":
                switch value {
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require": tls = .require
                case "verify-ca": tls = .verifyCA
                case "verify-full": tls = .verifyFull
                default: throw fail("sslmode `\(value)` is unknown; use disable, prefer, require, verify-ca or verify-full")
                }
            case "sslrootcert": rootCertificate = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else { throw fail("connect_timeout must be a whole number of seconds above 0") }
                connectTimeout = .seconds(seconds)
            case "application_name": applicationName = value
            default:
                throw fail("the parameter `\(key)` is not supported; known parameters: \(Self.parameters.joined(separator: ", "))")
            }
        }
    }
}

/// The pieces of `scheme://user:password@host:port/path?query`, kept as written (still percent-encoded).
struct URLParts {
    var scheme: String
    var user: String?
    var password: String?
    var host: String
    var port: String?
    var path: String
    var query: [(String, String)]
    private var rawQuery: String?

    init?(_ url: String) {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        scheme = String(url[..<schemeEnd.lowerBound])
        var rest = Substring(url[schemeEnd.upperBound...])
        if let mark = rest.firstIndex(of: "?") {
            rawQuery = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = String(rest[rest.index(after: slash)...])
        } else {
            authority = rest
            path = ""
        }
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = String(userInfo[..<colon])
                password = String(userInfo[userInfo.index(after: colon)...]).percentDecoded
            } else {
                user = String(userInfo)
            }
        }
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            port = after.hasPrefix(":") ? String(after.dropFirst()) : nil
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = String(hostPort[hostPort.index(after: colon)...])
        } else {
            host = String(hostPort)
        }
        query = (rawQuery ?? "").split(separator: "&").map { pair in
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(pieces[0]).percentDecoded ?? String(pieces[0])
            let value = pieces.count > 1 ? (String(pieces[1]).percentDecoded ?? String(pieces[1])) : ""
            return (key, value)
        }
    }

    /// The URL again, without the password (or with `passwordPlaceholder` in its place).
    func text(passwordPlaceholder: String?) -> String {
        var text = scheme + "://"
        if let user {
            text += user
            if let passwordPlaceholder, password != nil { text += ":" + passwordPlaceholder }
            text += "@"
        }
        text += host.contains(":") ? "[\(host)]" : host
        if let port { text += ":" + port }
        if !path.isEmpty { text += "/" + path }
        if let rawQuery { text += "?" + rawQuery }
        return text
    }
}

extension String {
    /// The string with `%XX` escapes decoded; nil when an escape is malformed or not UTF-8.
    var percentDecoded: String? {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first != utf8.endIndex, utf8.index(after: first) != utf8.endIndex,
                      let high = hexValue(utf8[first]), let low = hexValue(utf8[utf8.index(after: first)])
                else { return nil }
                bytes.append(high << 4 | low)
                index = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
