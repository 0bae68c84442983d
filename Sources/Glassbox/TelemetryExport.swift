public import EventLog
import Foundation
public import GlassboxProto
public import Logging
public import Telemetry

/// Runs one exporter per destination and signal over the log, each from its own durable
/// checkpoint, until cancelled (`glassbox serve` cancels it at graceful shutdown).
public struct TelemetryExport: Sendable {
    public let exporters: [OTLPExporter]
    private let checkpoints: any CheckpointStore
    /// Only made when there is something to export: an HTTP client must be shut down before it goes.
    private let transport: HTTPClientTransport?

    /// Exporters for every destination in `settings`; an empty list when none is configured.
    public init(store: some EventStore & CheckpointStore, settings: TelemetrySettings, logger: Logger) {
        let transport = settings.destinations.isEmpty ? nil : HTTPClientTransport()
        let recorder = IncidentLog(store: store, logger: logger)
        self.transport = transport
        self.checkpoints = store
        guard let transport else {
            exporters = []
            return
        }
        exporters = settings.destinations.flatMap { destination in
            destination.signals.map { signal in
                OTLPExporter(reader: store, destination: destination, signal: signal, transport: transport,
                             content: settings.content ? .include : .omit, resource: settings.resource,
                             incidents: recorder, logger: logger)
            }
        }
    }

    /// Exports until the task is cancelled; the checkpoints keep what was accepted.
    public func run() async throws {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for exporter in exporters {
                    group.addTask { try await exporter.follow(checkpoints: checkpoints) }
                }
                try await group.waitForAll()
            }
        } catch {
            await transport?.shutdown()
            throw error
        }
        await transport?.shutdown()
    }
}

/// Appends `export.rejected` events, so a refused batch is on the record with the range to send again.
public struct IncidentLog: ExportIncidentRecorder {
    let store: any EventStore
    let logger: Logger

    public init(store: any EventStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func exportRejected(_ incident: Glassbox_V1_ExportRejected) async {
        do {
            let draft = try EventDraft(incident, actor: "service:otlp-exporter")
            _ = try await store.append([draft], to: "export/\(incident.destination)", expectedVersion: .any)
        } catch {
            logger.error("could not record the rejected export in the log: \(error)")
        }
    }
}
