import ArgumentParser
import EventLog
import Foundation
import Glassbox
import Logging
import Telemetry

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Send the log's history to other systems.",
        subcommands: [ExportOTLPCommand.self]
    )
}

struct ExportOTLPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otlp",
        abstract: "Export the spans (and optionally log records) of the log to an OTLP/HTTP collector.",
        discussion: """
            A backfill: every span that closes within --from … --to is sent once, with the ids and times stored in the log, so exporting twice gives identical spans. No checkpoint is touched; `glassbox serve` keeps exporting live on its own checkpoints.

            The endpoint is a base URL (/v1/traces and /v1/logs are appended), or comes from the standard OTEL_EXPORTER_OTLP_* variables, as do headers, protocol, compression and timeout. Failed requests are retried (429, 502, 503, 504 and connection errors) with backoff, honouring Retry-After; other refusals are recorded in the log as export.rejected events.

            Exit code 5: the export stopped early (collector unreachable for --give-up-after seconds) or the collector refused some items; the message says what to re-run.
            """
    )

    @OptionGroup var location: LogLocation
    @Option(help: ArgumentHelp("Base URL of the collector, e.g. http://localhost:4318 (default: $OTEL_EXPORTER_OTLP_ENDPOINT).", valueName: "url"))
    var endpoint: String?
    @Option(name: .customLong("protocol"), help: ArgumentHelp("http/protobuf (default) or http/json.", valueName: "protocol"))
    var wireProtocol: String?
    @Option(help: ArgumentHelp("gzip or none (default: $OTEL_EXPORTER_OTLP_COMPRESSION, else none).", valueName: "gzip|none"))
    var compression: String?
    @Option(name: .customLong("header"), help: ArgumentHelp("A request header, e.g. Authorization=Basic%20…; repeatable.", valueName: "name=value"))
    var headers: [String] = []
    @Option(name: .customLong("signal"), help: ArgumentHelp("traces (default) and/or logs; repeatable.", valueName: "signal"))
    var signals: [String] = []
    @Option(help: ArgumentHelp("First seq to export (default 1).", valueName: "seq")) var from: Int64?
    @Option(help: ArgumentHelp("Last seq to export (default: the end of the log now).", valueName: "seq")) var to: Int64?
    @Flag(help: "Include message contents: prompts, answers, thoughts, tool input and output.") var content = false
    @Option(name: .customLong("give-up-after"), help: ArgumentHelp("Stop after this many seconds of failed retries of one batch (default 300; 0 retries forever).", valueName: "seconds"))
    var giveUpAfter: Double = 300
    @Option(name: .customLong("batch-items"), help: ArgumentHelp("Most spans or log records per request (default 2048).", valueName: "n"))
    var batchItems: Int?
    @Flag(help: "Print the summary as one JSON object.") var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var destination: OTLPDestination
        do {
            var variables = environment
            if let endpoint {
                variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
                variables["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = nil
                variables["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] = nil
            }
            let wanted = signals.isEmpty ? ["traces"] : signals
            for signal in wanted where OTLPDestination.Signal(rawValue: signal) == nil {
                throw CommandFailure(message: "--signal \(signal): use traces or logs", code: ExitStatus.invalidInput)
            }
            variables["OTEL_TRACES_EXPORTER"] = wanted.contains("traces") ? "otlp" : "none"
            variables["OTEL_LOGS_EXPORTER"] = wanted.contains("logs") ? "otlp" : "none"
            guard let fromEnvironment = try OTLPDestination.fromEnvironment(variables, name: "backfill") else {
                throw CommandFailure(message: "no collector given: pass --endpoint http://HOST:4318 or set OTEL_EXPORTER_OTLP_ENDPOINT",
                                     code: ExitStatus.invalidInput)
            }
            destination = fromEnvironment
            if let wireProtocol { destination.wireProtocol = try OTLPDestination.parseProtocol(wireProtocol, variable: "--protocol") }
            if let compression { destination.compression = try OTLPDestination.parseCompression(compression, variable: "--compression") }
            for header in headers {
                guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                    throw CommandFailure(message: "--header \(header): write it as name=value", code: ExitStatus.invalidInput)
                }
                let value = String(header[header.index(after: equals)...])
                destination.headers[String(header[..<equals])] = value.removingPercentEncoding ?? value
            }
            if let batchItems {
                guard (1...100_000).contains(batchItems) else {
                    throw CommandFailure(message: "--batch-items must be 1 to 100000", code: ExitStatus.invalidInput)
                }
                destination.maxBatchItems = batchItems
            }
        } catch let error as TelemetryError {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
        guard giveUpAfter >= 0 else {
            throw CommandFailure(message: "--give-up-after must be 0 or more seconds", code: ExitStatus.invalidInput)
        }

        let log = try location.openExisting()
        defer { try? log.close() }
        let head = try await log.lastSeq()
        let first = max(1, from ?? 1)
        let last = min(head, to ?? head)
        guard first <= last || head == 0 else {
            throw CommandFailure(message: "--from \(first) --to \(last) is an empty range; the log has seq 1–\(head)", code: ExitStatus.invalidInput)
        }
        var settings = TelemetrySettings()
        try? settings.apply(environment: environment.filter { $0.key == "OTEL_SERVICE_NAME" || $0.key == "OTEL_RESOURCE_ATTRIBUTES" })
        for warning in settings.warnings { Terminal.note("glassbox: warning: \(warning)") }

        let transport = HTTPClientTransport()
        var logger = Logger(label: "glassbox.export")
        logger.logLevel = .error
        let recorder = IncidentLog(store: log, logger: logger)
        let started = ContinuousClock.now
        var totals: [(OTLPDestination.Signal, ExportProgress)] = []
        var failure: String?
        for signal in destination.signals {
            let exporter = OTLPExporter(reader: log, destination: destination, signal: signal, transport: transport,
                                        content: content ? .include : .omit, resource: settings.resource,
                                        incidents: recorder, logger: logger)
            let span = max(1, last - first + 1)
            do {
                let progress = try await exporter.export(after: first - 1, through: last, giveUpAfter: giveUpAfter == 0 ? nil : giveUpAfter) { progress in
                    let done = Double(progress.exportedThrough - (first - 1)) / Double(span) * 100
                    Terminal.progress("\(signal.rawValue): \(Format.count(progress.itemsSent)) sent, seq \(Format.count(progress.exportedThrough)) of \(Format.count(last)) (\(Int(done))%)"
                                      + (progress.retries > 0 ? ", \(progress.retries) retries" : ""))
                }
                totals.append((signal, progress))
            } catch let error as TelemetryError {
                failure = error.description
                break
            } catch {
                // An HTTP client must be shut down before it is released.
                await transport.shutdown()
                throw error
            }
        }
        Terminal.endProgress()
        await transport.shutdown()
        let seconds = Format.seconds(ContinuousClock.now - started)
        for (signal, progress) in totals {
            let rate = seconds > 0 ? Double(progress.itemsSent) / seconds : 0
            if json {
                Terminal.line("{\"signal\":\"\(signal.rawValue)\",\"items\":\(progress.itemsSent),\"batches\":\(progress.batchesSent),\"bytes\":\(progress.bytesSent),\"retries\":\(progress.retries),\"rejected\":\(progress.itemsRejected),\"unmatched\":\(progress.unmatched),\"from\":\(first),\"to\":\(last),\"seconds\":\(seconds),\"items_per_second\":\(Int(rate))}")
            } else {
                Terminal.line("exported \(Format.count(progress.itemsSent)) \(signal == .traces ? "spans" : "log records") of seq \(Format.count(first))–\(Format.count(last)) to \(destination.url(for: signal)?.absoluteString ?? "") in \(String(format: "%.1f", seconds)) s (\(Format.count(Int(rate)))/s, \(Format.count(progress.batchesSent)) batches, \(Format.count(progress.bytesSent)) bytes, \(progress.retries) retries, \(progress.itemsRejected) rejected)")
            }
        }
        if let failure {
            throw CommandFailure(message: failure, code: ExitStatus.exportIncomplete)
        }
        let rejected = totals.reduce(0) { $0 + $1.1.itemsRejected }
        if rejected > 0 {
            throw CommandFailure(message: "the collector refused \(rejected) items; each refusal is an export.rejected event in the log (glassbox log tail --type export.rejected) with the range to send again",
                                 code: ExitStatus.exportIncomplete)
        }
    }
}
