import PostgresNIO

/// postgres-nio's errors as ``ConnectorError``s. Only the server's fields and postgres-nio's
/// error codes are used: never the configuration, so no password can end up in a message.
enum PostgresErrors {
    /// SQLSTATEs that mean the engine refused on principle rather than failed.
    static let refusals: Set<String> = [
        "25006",  // read_only_sql_transaction
        "42501",  // insufficient_privilege
        "0A000",  // feature_not_supported, e.g. a data-modifying WITH in a read-only cursor
    ]

    static func map(_ error: any Error, connectionName: String, timeout: Duration?) -> ConnectorError {
        switch error {
        case let error as ConnectorError:
            return error
        case is CancellationError:
            return .cancelled
        case let error as PSQLError:
            if error.code == .server, let info = error.serverInfo {
                let state = info[.sqlState] ?? "?????"
                let message = serverMessage(error)
                if state == "57014" { return .timeout(timeout ?? .zero) }  // statement_timeout
                if refusals.contains(state) { return .refusedByEngine(message: message, code: "SQLSTATE \(state)") }
                return .sqlError(message: message, code: "SQLSTATE \(state)")
            }
            switch error.code {
            case .queryCancelled: return .cancelled
            case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown:
                return .closed(connection: connectionName)
            default:
                return .sqlError(message: "the PostgreSQL client failed (\(error.code))", code: "client")
            }
        default:
            return .sqlError(message: "\(error)", code: "client")
        }
    }

    /// The server's message with its detail and hint.
    static func serverMessage(_ error: PSQLError) -> String {
        guard let info = error.serverInfo else { return "\(error.code)" }
        var message = info[.message] ?? "\(error.code)"
        if let detail = info[.detail] { message += " (\(detail))" }
        if let hint = info[.hint] { message += "; hint: \(hint)" }
        return message
    }

    /// Why connecting failed, in words: the server's message, or the network error.
    static func connectReason(_ error: PSQLError) -> String {
        if error.serverInfo != nil {
            return serverMessage(error) + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        switch error.code {
        case .authMechanismRequiresPassword:
            return "the server asks for a password and none is set"
        case .sslUnsupported:
            return "the server does not offer TLS; use sslmode=disable or prefer"
        default:
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
    }
}
