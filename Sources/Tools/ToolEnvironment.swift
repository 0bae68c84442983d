public import Connectors
public import Foundation
public import Security

/// What tools may reach, from configuration: named databases, the workspace folder, HTTP and mail settings.
public struct ToolEnvironment: Sendable {
    /// Named SQL connections, e.g. `warehouse`.
    public var databases: [String: SQLDatabase]
    /// The connection used when a call names none: the only one, or one named `warehouse`.
    public var defaultConnection: String? {
        if databases.count == 1 { return databases.keys.first }
        return databases["warehouse"] != nil ? "warehouse" : nil
    }
    /// The folder file, git, docs, dbt and chart tools work in; nil disables them.
    public var workspace: Workspace?
    public var http: HTTPFetchSettings
    /// Nil disables `email.send`.
    public var email: EmailSettings?
    public var limits: OutputLimits
    /// Facts about where Glassbox runs that policy conditions test as `context.*`, e.g. `environment: prod`.
    public var context: [String: String]

    public init(databases: [String: SQLDatabase] = [:], workspace: Workspace? = nil, http: HTTPFetchSettings = HTTPFetchSettings(),
                email: EmailSettings? = nil, limits: OutputLimits = OutputLimits(), context: [String: String] = [:]) {
        self.databases = databases
        self.workspace = workspace
        self.http = http
        self.email = email
        self.limits = limits
        self.context = context
    }

    /// The database a call names, or the default one, with an error that lists the configured names.
    public func database(named name: String?) throws(ToolError) -> SQLDatabase {
        guard let name = name ?? defaultConnection else {
            throw .invalidInput(databases.isEmpty
                ? "no database connection is configured; add one under `connections:` in glassbox.yaml"
                : "name a connection with `connection`: one of \(databases.keys.sorted().joined(separator: ", "))")
        }
        guard let database = databases[name] else {
            throw ToolError("not_found", "no connection named `\(name)`; configured: \(databases.keys.sorted().joined(separator: ", ")); add it under `connections:` in glassbox.yaml")
        }
        return database
    }

    /// The workspace, or an error saying how to configure one.
    public func requireWorkspace() throws(ToolError) -> Workspace {
        guard let workspace else { throw .configuration("no workspace is configured; set `workspace: PATH` in glassbox.yaml or pass --workspace") }
        return workspace
    }
}

/// The folder file tools are confined to.
public struct Workspace: Sendable, Hashable {
    /// Absolute, symlinks resolved.
    public var root: URL
    /// Largest file `file.read` returns and `file.write` writes.
    public var maxFileBytes: Int

    public init(root: String, maxFileBytes: Int = 1 << 20) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath()
        self.maxFileBytes = maxFileBytes
    }
}

/// Where `http.fetch` may go.
public struct HTTPFetchSettings: Sendable, Hashable {
    /// Host names or patterns (`*.example.com`); empty refuses every host.
    public var allowHosts: [String]
    /// Hosts whose loopback, private or link-local addresses are allowed anyway (e.g. a local test server).
    public var allowPrivateHosts: [String]
    public var maxBytes: Int
    public var timeout: Duration

    public init(allowHosts: [String] = [], allowPrivateHosts: [String] = [], maxBytes: Int = 1 << 20, timeout: Duration = .seconds(10)) {
        self.allowHosts = allowHosts
        self.allowPrivateHosts = allowPrivateHosts
        self.maxBytes = maxBytes
        self.timeout = timeout
    }
}

/// How `email.send` delivers mail.
public struct EmailSettings: Sendable, Hashable {
    /// `smtp://host:port` or `smtps://host:port`.
    public var smtpURL: String
    public var from: String
    public var username: String?
    /// From the environment or a secret file; never recorded.
    public var password: String?
    /// Recipient patterns (`*@example.com`); empty refuses every recipient.
    public var allowRecipients: [String]
    public var timeout: Duration

    public init(smtpURL: String, from: String, username: String? = nil, password: String? = nil,
                allowRecipients: [String] = [], timeout: Duration = .seconds(30)) {
        self.smtpURL = smtpURL
        self.from = from
        self.username = username
        self.password = password
        self.allowRecipients = allowRecipients
        self.timeout = timeout
    }
}

/// Caps on what a call returns and records.
public struct OutputLimits: Sendable, Hashable {
    /// Largest output kept, in bytes of JSON; larger outputs are cut and marked `truncated`.
    public var maxOutputBytes: Int
    /// Most rows a query returns.
    public var maxRows: Int
    public var queryTimeout: Duration

    public init(maxOutputBytes: Int = 256 << 10, maxRows: Int = 1_000, queryTimeout: Duration = .seconds(30)) {
        self.maxOutputBytes = maxOutputBytes
        self.maxRows = maxRows
        self.queryTimeout = queryTimeout
    }
}

/// Who asks for a call, and for whom: what a tool's `plan` sees.
public struct ToolCall: Sendable {
    public let callID: String
    /// The principal the call is made for (the person or service).
    public let caller: Principal
    /// The agent making the call on the caller's behalf, if any.
    public let agent: Principal?
    public let environment: ToolEnvironment

    public init(callID: String, caller: Principal, agent: Principal?, environment: ToolEnvironment) {
        self.callID = callID
        self.caller = caller
        self.agent = agent
        self.environment = environment
    }

    /// `agent:analyst@user:alice`, or the caller's id.
    public var actor: String { agent.map { "\($0.id)@\(caller.id)" } ?? caller.id }
}
