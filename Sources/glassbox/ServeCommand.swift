import Agents
import ArgumentParser
import EventLog
import Foundation
import Glassbox
import Logging
import Metrics
import Prometheus
import Server
import Telemetry

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the live dashboard, the JSON API and the event streams over the log.",
        discussion: """
            Open the printed URL in a browser. With --demo the server also appends scripted agent
            runs at a human pace (use a fresh --db for that), so there is something to watch.

            Settings come from flags, then GLASSBOX_<KEY> environment variables, then
            glassbox.yaml (or --config FILE), then defaults. Keys: \(ServeConfiguration.keys.joined(separator: ", ")).

            Listens on 127.0.0.1 unless --host says otherwise. SIGINT or SIGTERM shuts down
            gracefully: streams are closed with their resume cursor and every accepted event is kept.
            API: /api/v1 (openapi.yaml in the repository), health: /healthz, metrics: /metrics.

            Spans are exported live to any OTLP/HTTP collector when OTEL_EXPORTER_OTLP_ENDPOINT
            (or `otlp:` in glassbox.yaml) is set, from a durable checkpoint: nothing is dropped.
            """
    )

    @Option(help: ArgumentHelp("A YAML configuration file (default: ./glassbox.yaml when it exists).", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("Path of the log file (default: ./glassbox.db).", valueName: "path")) var db: String?
    @Option(help: "full or normal (see glassbox --help).") var durability: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (default 8080).") var port: Int?
    @Option(help: ArgumentHelp("The dashboard folder (default: dashboards/web of the checkout).", valueName: "dir"))
    var dashboard: String?
    @Option(name: .customLong("cors-origin"), help: ArgumentHelp(
        "An origin allowed to call the API from a browser, e.g. http://localhost:3000; `null` for a dashboard opened from disk. Repeatable.",
        valueName: "origin"))
    var corsOrigins: [String] = []
    @Flag(help: "Append scripted demo runs while serving.") var demo = false
    @Option(help: ArgumentHelp("Seconds without events before a stream gets a heartbeat (default 15).", valueName: "seconds"))
    var heartbeat: Double?
    @Option(name: .customLong("stream-buffer"), help: ArgumentHelp(
        "Recent events kept for live streams; a client further behind is disconnected with its cursor (default 20000).", valueName: "events"))
    var streamBuffer: Int?
    @Option(name: .customLong("stream-stall-timeout"), help: ArgumentHelp(
        "Seconds a stream client may read nothing before it is disconnected (default 30).", valueName: "seconds"))
    var stallTimeout: Double?

    func run() async throws {
        var settings: ServeConfiguration
        do {
            settings = try ServeConfiguration.load(file: config ?? "glassbox.yaml", required: config != nil,
                                                   environment: ProcessInfo.processInfo.environment)
            // Flags win, checked like every other source.
            let flags: [(key: String, flag: String, values: [String]?)] = [
                ("db", "--db", db.map { [$0] }), ("durability", "--durability", durability.map { [$0] }),
                ("host", "--host", host.map { [$0] }), ("port", "--port", port.map { [String($0)] }),
                ("dashboard", "--dashboard", dashboard.map { [$0] }),
                ("cors_origins", "--cors-origin", corsOrigins.isEmpty ? nil : corsOrigins),
                ("demo", "--demo", demo ? ["true"] : nil), ("heartbeat_seconds", "--heartbeat", heartbeat.map { [String($0)] }),
                ("stream_buffer_events", "--stream-buffer", streamBuffer.map { [String($0)] }),
                ("stream_stall_timeout_seconds", "--stream-stall-timeout", stallTimeout.map { [String($0)] }),
            ]
            for (key, flag, values) in flags {
                if let values { try settings.set(key, to: values, source: flag) }
            }
        } catch let error as ConfigurationError {
            throw CommandFailure(message: "configuration: \(error)", code: ExitStatus.invalidInput)
        }
        if let dashboard = settings.dashboard, !FileManager.default.fileExists(atPath: dashboard + "/index.html") {
            throw CommandFailure(message: "--dashboard \(dashboard) has no index.html; point it at the repository's dashboards/web", code: ExitStatus.invalidInput)
        }

        if settings.demo, FileManager.default.fileExists(atPath: settings.db) {
            // Read-only, so that a refused log is not touched at all (not even a WAL file).
            let existing = try SQLiteEventLog(path: settings.db, options: .init(createIfMissing: false, readOnly: true))
            defer { try? existing.close() }
            try await Self.checkDemoLog(existing)
        }
        let log = try SQLiteEventLog(path: settings.db, options: .init(
            createIfMissing: true, durability: SQLiteEventLog.Durability(rawValue: settings.durability) ?? .full,
            pollInterval: .milliseconds(settings.pollMilliseconds)))

        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)

        var logger = Logger(label: "glassbox")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let agents: AgentServices
        do {
            let platform = try AgentPlatform(configuration: settings, environment: ProcessInfo.processInfo.environment)
            for warning in platform.tools.warnings { Terminal.note("glassbox: warning: \(warning)") }
            let runtime = try await platform.makeRuntime(log: log, runner: "serve", loadedBy: "service:glassbox-serve")
            agents = AgentServices(platform: platform, runtime: runtime, desk: ApprovalDesk(log: log, policy: platform.policy))
            Terminal.note("glassbox: agents use \(platform.models.summary)")
        } catch let error as ConfigurationError {
            try? log.close()
            throw CommandFailure(message: "configuration: \(error)", code: ExitStatus.invalidInput)
        }
        let server = try await GlassboxServer(log: log, configuration: settings, metricsRegistry: registry, logger: logger, agents: agents)
        let path = log.path
        let demo = settings.demo
        let exports = settings.telemetry.destinations.flatMap { destination in
            destination.signals.compactMap { signal in
                destination.url(for: signal).map { "\(signal.rawValue) to \($0.absoluteString) (\(destination.name))" }
            }
        }
        for warning in settings.telemetry.warnings { Terminal.note("glassbox: warning: \(warning)") }
        try await server.run { url in
            Terminal.line("glassbox serving \(url) (log \(path))" + (demo ? " with demo activity" : ""))
            Terminal.line("open \(url)/ in a browser · API \(url)/api/v1 · stop with Ctrl-C")
            for export in exports { Terminal.line("exporting \(export)") }
        }
        try log.close()
        Terminal.line("glassbox stopped; the log is closed and every accepted event is on disk")
    }

    /// The demo writes scripted runs: refuse to mix them into a log that holds real ones.
    static func checkDemoLog(_ log: SQLiteEventLog) async throws {
        guard let first = try await log.events(EventQuery(limit: 1)).first else { return }
        if !first.stream.hasPrefix("run/demo-") {
            throw CommandFailure(
                message: "--demo appends scripted runs, and \(log.path) already holds other events (seq 1 is \(first.type) in \(first.stream)); use a new file, e.g. --db demo.db",
                code: ExitStatus.invalidInput)
        }
    }
}
