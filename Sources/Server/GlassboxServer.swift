public import EventLog
import Agents
import Foundation
public import Glassbox
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
public import Logging
import CoreMetrics
import Metrics
import NIOCore
public import Prometheus
import ServiceLifecycle
import UnixSignals

/// `glassbox serve`: the dashboard, the JSON API, the live streams and `/metrics`
/// over one log, until SIGINT or SIGTERM.
///
/// ```swift
/// let log = try SQLiteEventLog(path: "glassbox.db")
/// let server = GlassboxServer(log: log, configuration: ServeConfiguration())
/// try await server.run { url in print("serving \(url)") }
/// ```
///
/// Shutdown is graceful and ordered: the demo stops appending, every stream is sent
/// `closing` with its resume cursor, requests in flight finish, then the caller closes
/// the log, which commits everything already accepted.
public struct GlassboxServer: Sendable {
    let log: SQLiteEventLog
    let configuration: ServeConfiguration
    let metricsRegistry: PrometheusCollectorRegistry?
    let feed: LiveFeed
    let readModels: ReadModels
    let origins: OriginPolicy
    /// The log, with the append-latency histogram around every append the server makes.
    let store: InstrumentedStore
    let logger: Logger
    /// The agent runtime and approvals; nil serves the log without running agents.
    let agents: AgentServices?
    let webSocketMessages = RenderedMessages()
    let sseMessages = RenderedMessages()

    var heartbeat: Duration { .milliseconds(Int(configuration.heartbeatSeconds * 1_000)) }
    var stallTimeout: Duration { .milliseconds(Int(configuration.streamStallTimeoutSeconds * 1_000)) }

    /// - Parameter metricsRegistry: where `/metrics` reads from; bootstrap swift-metrics with a
    ///   `PrometheusMetricsFactory` on the same registry so the server's metrics land in it.
    public init(log: SQLiteEventLog, configuration: ServeConfiguration, metricsRegistry: PrometheusCollectorRegistry? = nil,
                logger: Logger = Logger(label: "glassbox.server"), agents: AgentServices? = nil) async throws {
        self.log = log
        self.agents = agents
        self.configuration = configuration
        self.metricsRegistry = metricsRegistry
        self.logger = logger
        feed = LiveFeed(reader: log, capacity: configuration.streamBufferEvents, startingAfter: try await log.lastSeq(), logger: logger)
        readModels = ReadModels(log: log)
        origins = OriginPolicy(configuration.corsOrigins)
        store = InstrumentedStore(log: log, timer: Metrics.Timer(label: "glassbox_append_duration_seconds"))
    }

    /// The dashboard folder: the configured one, else `dashboards/web` under the current
    /// folder or next to the program's checkout (`.build/<config>/glassbox` → repository root).
    public static func findDashboard(configured: String?) -> String? {
        if let configured { return configured }
        var candidates = [FileManager.default.currentDirectoryPath + "/dashboards/web"]
        let program = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = program.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("dashboards/web").path)
            folder = folder.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }

    /// The HTTP router, and the router that decides WebSocket upgrades.
    func buildRouters(dashboard: String?) -> (http: Router<GlassboxRequestContext>, webSocket: Router<GlassboxRequestContext>) {
        let router = Router(context: GlassboxRequestContext.self)
        let webSocketRouter = Router(context: GlassboxRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: CORSMiddleware(policy: origins))
        router.add(middleware: JSONErrorMiddleware())
        if let dashboard {
            router.add(middleware: FileMiddleware(dashboard, searchForIndexHtml: true,
                                                  logger: logger))
        }
        addAPIRoutes(to: router)
        addAgentRoutes(to: router)
        addStreamRoutes(to: router, webSocketRouter: webSocketRouter)
        refuseOtherMethods(on: router)
        return (router, webSocketRouter)
    }

    /// The methods each route takes; any other gets 405 with `Allow` instead of a 404 that
    /// would suggest the path does not exist.
    static let routeMethods: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/healthz", [.get]), ("/metrics", [.get]), ("/api/v1/events", [.get]), ("/api/v1/types", [.get]),
        ("/api/v1/stats", [.get]), ("/api/v1/runs", [.get, .post]), ("/api/v1/runs/{id}", [.get]),
        ("/api/v1/runs/{id}/events", [.get]), ("/api/v1/tool-calls", [.get]), ("/api/v1/runs/{id}/stop", [.post]),
        ("/api/v1/audit/query", [.post]), ("/api/v1/stream", [.get]), ("/api/v1/events/stream", [.get]),
        ("/api/v1/agents", [.get]), ("/api/v1/approvals", [.get]), ("/api/v1/approvals/{id}/approve", [.post]),
        ("/api/v1/approvals/{id}/reject", [.post]),
    ]

    private func refuseOtherMethods(on router: Router<GlassboxRequestContext>) {
        for (path, methods) in Self.routeMethods {
            let allow = methods.map(\.rawValue).joined(separator: ", ")
            for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] where !methods.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError(.methodNotAllowed, code: "method_not_allowed",
                                   "\(request.method) is not allowed on \(path); use \(allow)", allow: allow)
                }
            }
        }
    }

    /// Serves until SIGINT or SIGTERM. `onReady` gets the base URL once the port is bound.
    public func run(onReady: @escaping @Sendable (String) -> Void) async throws {
        try await readModels.prepare()
        let dashboard = Self.findDashboard(configured: configuration.dashboard)
        if dashboard == nil {
            logger.warning("no dashboard found (dashboards/web); the API works, pass --dashboard DIR for the web UI")
        }
        let routers = buildRouters(dashboard: dashboard)
        let host = configuration.host
        let app = Application(
            router: routers.http,
            server: .http1WebSocketUpgrade(webSocketRouter: routers.webSocket, configuration: .init(ws: .init(maxFrameSize: 1 << 24))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "glassbox"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shownHost = host.contains(":") ? "[\(host)]" : host
                onReady("http://\(shownHost):\(port)")
            },
            logger: logger
        )
        var services: [any Service] = [app, ClosureService { await readModels.follow() }, FeedService(feed: feed)]
        if !configuration.telemetry.destinations.isEmpty {
            let (log, settings, logger) = (log, configuration.telemetry, logger)
            services.append(ClosureService {
                // Made inside the service, so its HTTP client lives exactly as long as the export runs.
                let export = TelemetryExport(store: log, settings: settings, logger: logger)
                do {
                    try await export.run()
                } catch {
                    logger.error("OTLP export stopped: \(error); it resumes from its checkpoint at the next start")
                }
            })
        }
        if let agents {
            services.append(AgentService(runtime: agents.runtime, logger: logger))
        }
        if configuration.demo {
            let demo = DemoActivity(store: store)
            services.append(ClosureService { await demo.run() })
        }
        // Shut down in reverse order: demo, then the exporters (checkpoints saved), then streams (closing with cursors), then read models, then HTTP.
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A client that never reads must not hold the shutdown forever.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
    }
}

/// Follows the log for the streams; on graceful shutdown tells every stream to close
/// with its cursor and gives them a moment to send it.
struct FeedService: Service {
    let feed: LiveFeed

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await cancelWhenGracefulShutdown { await feed.run() }
        } onGracefulShutdown: {
            feed.close()
        }
        // Streams see `closing` at their next step; let them write it before HTTP shuts down.
        try? await Task.sleep(for: .milliseconds(300))
    }
}

/// Runs agents: resumes the runs a crash or restart interrupted, watches for stop requests, and on
/// shutdown cancels the runs in flight without recording an end, so the next start resumes them.
struct AgentService: Service {
    let runtime: AgentRuntime
    let logger: Logger

    func run() async throws {
        await runtime.watchStopRequests()
        do {
            let resumed = try await runtime.resumeUnfinished()
            if !resumed.isEmpty { logger.notice("resumed \(resumed.count) interrupted run(s): \(resumed.joined(separator: ", "))") }
        } catch {
            logger.error("could not look for interrupted runs: \(error)")
        }
        await withGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onGracefulShutdown: {}
        await runtime.shutdown()
    }
}

/// A long-running task as a service, cancelled on graceful shutdown.
struct ClosureService: Service {
    let body: @Sendable () async -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await body()
        }
    }
}

/// The log with the server's append-latency histogram around every append.
struct InstrumentedStore: EventStore {
    let log: SQLiteEventLog
    let timer: Metrics.Timer

    func append(_ events: [EventDraft], to stream: String, expectedVersion: ExpectedVersion) async throws -> AppendResult {
        let start = ContinuousClock.now
        defer { timer.recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1))) }
        return try await log.append(events, to: stream, expectedVersion: expectedVersion)
    }

    func events(_ query: EventQuery) async throws -> [Event] { try await log.events(query) }
    func lastSeq() async throws -> Int64 { try await log.lastSeq() }
    func waitForEvents(after seq: Int64) async { await log.waitForEvents(after: seq) }
}
