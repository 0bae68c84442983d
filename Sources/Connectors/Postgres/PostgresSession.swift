import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// One PostgreSQL connection of a reader or writer: logged in, `SET ROLE` done, one call at a time.
///
/// Each call runs in its own transaction that re-asserts the role and sets `statement_timeout`
/// with `SET LOCAL` semantics (`set_config(…, true)`), so a statement that changed either cannot
/// carry the change into the next call. postgres-nio 1.33 does not stop a running query when
/// its task is cancelled (the server keeps working), so cancellation and the client-side
/// deadline send `pg_cancel_backend(pid)` from a second connection as the same login user.
final class PostgresSession: Sendable {
    let connectionName: String
    let endpoint: PostgresEndpoint
    let role: String?
    /// The login user (`current_user` before SET ROLE).
    let loginUser: String
    private let configuration: PostgresConnection.Configuration
    private let connection: PostgresConnection
    private let backendPID: Int32
    private let logger: Logger
    private let gate = SerialGate()
    private let state = Mutex(State())

    private struct State {
        var closed = false
        /// Type names looked up in pg_type, by OID.
        var typeNames: [UInt32: String] = [:]
    }

    private init(connectionName: String, endpoint: PostgresEndpoint, role: String?, loginUser: String,
                 configuration: PostgresConnection.Configuration, connection: PostgresConnection, backendPID: Int32, logger: Logger) {
        self.connectionName = connectionName
        self.endpoint = endpoint
        self.role = role
        self.loginUser = loginUser
        self.configuration = configuration
        self.connection = connection
        self.backendPID = backendPID
        self.logger = logger
    }

    deinit {
        if !state.withLock({ $0.closed }) { connection.close().whenComplete { _ in } }
    }

    /// Connects, reads the backend's process id, and switches to `role` (quoted as an identifier).
    static func open(connectionName: String, endpoint: PostgresEndpoint, password: String?, role: String?) async throws -> PostgresSession {
        let logger = Logger(label: "glassbox.connectors.postgres")
        let configuration = try makeConfiguration(connectionName: connectionName, endpoint: endpoint, password: password)
        let connection = try await connect(connectionName: connectionName, endpoint: endpoint, configuration: configuration, logger: logger)
        do {
            let identity = try await PostgresSession.rows(connection, "SELECT pg_backend_pid(), current_user::text", logger: logger)
            guard let row = identity.first, case .integer(let pid) = row[0], case .text(let user) = row[1] else {
                throw ConnectorError.connectFailed(connection: connectionName, endpoint: endpoint.address, reason: "the server did not say who we are")
            }
            if let role {
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: "SET ROLE " + SQLText.quoteIdentifier(role)), logger: logger)
                } catch let error as PSQLError {
                    throw ConnectorError.roleUnavailable(connection: connectionName, role: role, reason: PostgresErrors.serverMessage(error))
                }
            }
            return PostgresSession(connectionName: connectionName, endpoint: endpoint, role: role, loginUser: user,
                                   configuration: configuration, connection: connection, backendPID: Int32(pid), logger: logger)
        } catch {
            try? await connection.close()
            throw PostgresErrors.map(error, connectionName: connectionName, timeout: nil)
        }
    }

    func close() async {
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        if wasOpen { try? await connection.close() }
    }

    // MARK: Calls

    /// Runs `body` in a transaction (READ ONLY unless `readWrite`) under the role and `timeout`,
    /// one call at a time; cancellation and the deadline stop the statement on the server.
    func transaction<T: Sendable>(readWrite: Bool, timeout: Duration,
                                  _ body: @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await call(timeout: timeout) { connection, logger in
            try await connection.query(readWrite ? "BEGIN READ WRITE" : "BEGIN READ ONLY", logger: logger)
            do {
                try await self.settings(connection, timeout: timeout, local: true, logger: logger)
                let value = try await body(connection, logger)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` outside a transaction block, for the statements PostgreSQL refuses inside one
    /// (CREATE DATABASE, VACUUM, CREATE INDEX CONCURRENTLY, …); the timeout is set for the session
    /// and reset afterwards.
    func autocommit<T: Sendable>(timeout: Duration, _ body: @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await call(timeout: timeout) { connection, logger in
            try await self.settings(connection, timeout: timeout, local: false, logger: logger)
            do {
                let value = try await body(connection, logger)
                try await connection.query("SELECT set_config('statement_timeout', '0', false)", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("SELECT set_config('statement_timeout', '0', false)", logger: logger)
                throw error
            }
        }
    }

    /// `statement_timeout`, and the role again: a statement may have changed it (`SET ROLE`, `set_config`).
    private func settings(_ connection: PostgresConnection, timeout: Duration, local: Bool, logger: Logger) async throws {
        let milliseconds = String(max(1, timeout.wholeMilliseconds))
        if let role {
            try await connection.query("SELECT set_config('statement_timeout', \(milliseconds), \(local)), set_config('role', \(role), \(local))", logger: logger)
        } else {
            try await connection.query("SELECT set_config('statement_timeout', \(milliseconds), \(local))", logger: logger)
        }
    }

    private func call<T: Sendable>(timeout: Duration, _ work: @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        do {
            try await gate.enter()
        } catch {
            throw ConnectorError.cancelled
        }
        defer { gate.leave() }
        guard !Task.isCancelled else { throw ConnectorError.cancelled }
        guard !state.withLock({ $0.closed }) else { throw ConnectorError.closed(connection: connectionName) }
        let interruption = PostgresInterruption()
        // The server's statement_timeout stops the statement; this backstop covers a server that does not answer.
        let backstop = Task { [self] in
            try await Task.sleep(for: timeout + .seconds(2))
            interruption.stop(.timedOut, session: self)
            try await Task.sleep(for: .seconds(5))
            try? await connection.close()
        }
        defer { backstop.cancel() }
        do {
            let value = try await withTaskCancellationHandler {
                try await work(connection, logger)
            } onCancel: {
                interruption.stop(.cancelled, session: self)
            }
            await interruption.settled()
            return value
        } catch {
            // Wait until a cancel request was delivered, so that it cannot hit the next call's statement.
            await interruption.settled()
            switch interruption.reason {
            case .cancelled: throw ConnectorError.cancelled
            case .timedOut: throw ConnectorError.timeout(timeout)
            case nil: throw PostgresErrors.map(error, connectionName: connectionName, timeout: timeout)
            }
        }
    }

    /// Sends `pg_cancel_backend` for this session's backend from a second, short-lived connection.
    func cancelRunningStatement() async {
        do {
            let other = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: logger)
            _ = try? await other.query("SELECT pg_cancel_backend(\(backendPID))", logger: logger)
            try? await other.close()
        } catch {
            logger.warning("could not send a cancel request", metadata: ["connection": "\(connectionName)", "error": "\(String(describing: type(of: error)))"])
        }
    }

    // MARK: Rows and types

    /// Runs `query` and returns all its rows as values (catalog queries: small results).
    static func rows(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [[SQLValue]] {
        let sink = PostgresRowSink(limits: QueryLimits(maxRows: .max, maxBytes: .max))
        _ = try await sink.run(query, on: connection, logger: logger)
        return sink.snapshot().rows
    }

    /// Type names for `oids`: postgres-nio's known names, else `format_type` from pg_type (cached).
    func typeNames(_ oids: [UInt32], connection: PostgresConnection, logger: Logger) async throws -> [UInt32: String] {
        var names: [UInt32: String] = [:]
        var missing: [UInt32] = []
        let cached = state.withLock { $0.typeNames }
        for oid in Set(oids) {
            if let name = PostgresValues.knownTypeName(oid) ?? cached[oid] { names[oid] = name } else { missing.append(oid) }
        }
        guard !missing.isEmpty else { return names }
        let list = missing.map(String.init).joined(separator: ",")
        for row in try await Self.rows(connection, PostgresQuery(unsafeSQL: "SELECT oid::int8, format_type(oid, NULL) FROM pg_type WHERE oid IN (\(list))"), logger: logger) {
            guard case .integer(let oid) = row[0], case .text(let name) = row[1] else { continue }
            names[UInt32(oid)] = name
        }
        let found = names
        state.withLock { $0.typeNames.merge(found) { old, _ in old } }
        return names
    }

    // MARK: Connecting

    private static func makeConfiguration(connectionName: String, endpoint: PostgresEndpoint, password: String?) throws(ConnectorError)
        -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch endpoint.tls {
        case .disable:
            tls = .disable
        case .prefer, .require, .verifyCA, .verifyFull:
            var settings = TLSConfiguration.makeClientConfiguration()
            settings.certificateVerification = switch endpoint.tls {
            case .verifyFull: .fullVerification
            case .verifyCA: .noHostnameVerification
            default: .none
            }
            if let root = endpoint.rootCertificate { settings.trustRoots = .file(root) }
            do {
                let context = try NIOSSLContext(configuration: settings)
                tls = endpoint.tls == .prefer ? .prefer(context) : .require(context)
            } catch {
                throw .connectFailed(connection: connectionName, endpoint: endpoint.address,
                                     reason: "cannot set up TLS (\(error)); check sslrootcert")
            }
        }
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: password,
            database: endpoint.database, tls: tls)
        configuration.options.connectTimeout = .milliseconds(endpoint.connectTimeout.wholeMilliseconds)
        configuration.options.additionalStartupParameters = [("application_name", endpoint.applicationName)]
        return configuration
    }

    private static func connect(connectionName: String, endpoint: PostgresEndpoint, configuration: PostgresConnection.Configuration,
                                logger: Logger) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger)
        } catch is CancellationError {
            throw ConnectorError.cancelled
        } catch let error as PSQLError {
            if error.code == .queryCancelled { throw ConnectorError.cancelled }
            throw ConnectorError.connectFailed(connection: connectionName, endpoint: endpoint.address, reason: PostgresErrors.connectReason(error))
        } catch {
            throw ConnectorError.connectFailed(connection: connectionName, endpoint: endpoint.address, reason: "\(error)")
        }
    }
}

/// Why a call was stopped early, and the cancel request sent for it.
final class PostgresInterruption: Sendable {
    enum Reason { case cancelled, timedOut }

    private let state = Mutex<(reason: Reason?, request: Task<Void, Never>?)>((nil, nil))

    var reason: Reason? { state.withLock { $0.reason } }

    /// Records the first reason and sends one cancel request.
    func stop(_ reason: Reason, session: PostgresSession) {
        state.withLock { state in
            guard state.reason == nil else { return }
            state.reason = reason
            state.request = Task { await session.cancelRunningStatement() }
        }
    }

    /// Returns once the cancel request (if any) has been delivered.
    func settled() async {
        await state.withLock { $0.request }?.value
    }
}

/// Gathers streamed rows within limits. postgres-nio calls `onRow` on its event loop.
final class PostgresRowSink: Sendable {
    private let state: Mutex<(collector: ResultCollector, columns: [(String, UInt32)]?)>

    init(limits: QueryLimits) {
        state = Mutex((ResultCollector(limits: limits), nil))
    }

    /// Runs `query`, keeping rows within the limits (the rest are read and dropped); returns the command's metadata.
    func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> PostgresQueryMetadata {
        try await connection.query(query, logger: logger) { row in
            self.state.withLock { state in
                if state.columns == nil { state.columns = row.map { ($0.columnName, $0.dataType.rawValue) } }
                guard state.collector.wantsMore else { return }
                state.collector.add(row.map(PostgresValues.value))
            }
        }.get()
    }

    func snapshot() -> (collector: ResultCollector, rows: [[SQLValue]], columns: [(name: String, oid: UInt32)]?) {
        state.withLock { ($0.collector, $0.collector.rows, $0.columns?.map { (name: $0.0, oid: $0.1) }) }
    }
}

/// A lock that async calls take in turn; a waiter whose task is cancelled leaves the queue at once.
final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var nextID = 0
        /// Callers between taking an id and queueing, and those of them cancelled meanwhile.
        var arriving: Set<Int> = []
        var cancelledWhileArriving: Set<Int> = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state = Mutex(State())

    func enter() async throws {
        let id = state.withLock { state in
            state.nextID += 1
            state.arriving.insert(state.nextID)
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    state.arriving.remove(id)
                    if state.cancelledWhileArriving.remove(id) != nil { return .failure(CancellationError()) }
                    if !state.busy {
                        state.busy = true
                        return .success(())
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                if state.arriving.contains(id) { state.cancelledWhileArriving.insert(id) }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
