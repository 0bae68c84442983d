/// Why a connector call failed. Descriptions say what happened and what to do; none holds a password.
public enum ConnectorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection URL cannot be used (shown with any password removed).
    case invalidURL(url: String, reason: String)
    /// The connection's database file does not exist (SQLite readers never create one).
    case fileNotFound(connection: String, path: String)
    /// The server could not be reached, or refused the login.
    case connectFailed(connection: String, endpoint: String, reason: String)
    /// The database role to run as does not exist or may not be assumed by the login user.
    case roleUnavailable(connection: String, role: String, reason: String)
    /// The engine rejected the statement. `code` is the SQLSTATE (PostgreSQL) or SQLite's result code name.
    case sqlError(message: String, code: String)
    /// The engine itself refused: a write on a read-only handle, the SQLite authorizer, or a missing privilege.
    case refusedByEngine(message: String, code: String)
    /// The statement ran longer than ``QueryLimits/timeout`` and was stopped.
    case timeout(Duration)
    /// The task was cancelled; the statement was stopped in the engine.
    case cancelled
    /// No such table or view.
    case unknownTable(schema: String?, table: String)
    /// No such schema.
    case unknownSchema(String)
    /// The SQL holds more than one statement, or none.
    case notOneStatement(found: Int)
    /// The handle was closed, or its connection was lost.
    case closed(connection: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "the connection URL \(url) cannot be used: \(reason)"
        case .fileNotFound(let connection, let path):
            return "connection `\(connection)`: the SQLite file \(path) does not exist; check the path in the URL "
                + "(relative paths resolve against the configuration file's folder) or create it, e.g. with `glassbox sample-warehouse --sqlite \(path)`"
        case .connectFailed(let connection, let endpoint, let reason):
            return "connection `\(connection)`: cannot connect to \(endpoint): \(reason); check that the server runs, "
                + "the host, port, user and database in the URL, and the password setting (password_env or password_file)"
        case .roleUnavailable(let connection, let role, let reason):
            return "connection `\(connection)`: cannot run as database role `\(role)`: \(reason); create the role "
                + "and GRANT it to the login user, or fix the `roles:` mapping of the connection"
        case .sqlError(let message, let code):
            return "the database rejected the statement (\(code)): \(message)"
        case .refusedByEngine(let message, let code):
            return "the database refused (\(code)): \(message); this handle or role may not do that: "
                + "ask for a grant, or use a writer where writing is intended"
        case .timeout(let limit):
            return "the statement ran longer than its \(limit.secondsDescription) limit and was stopped; "
                + "narrow it (filters, LIMIT, fewer joins) or raise the timeout"
        case .cancelled:
            return "the statement was cancelled before it finished"
        case .unknownTable(let schema, let table):
            let name = schema.map { "\($0).\(table)" } ?? table
            return "there is no table or view `\(name)`; list the tables to see the names"
        case .unknownSchema(let schema):
            return "there is no schema `\(schema)`; list the tables without a schema to see the schemas"
        case .notOneStatement(let found):
            return found == 0 ? "the SQL holds no statement; send one"
                : "the SQL holds \(found) statements; send one statement per call"
        case .closed(let connection):
            return "connection `\(connection)`: the handle is closed or its connection was lost; open a new one"
        }
    }
}
