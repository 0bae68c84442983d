public import EventLog
import Foundation
public import GlassboxProto
public import Logging
import Metrics

/// Records what a collector refused for good, so that it is in the log and can be sent
/// again. `glassbox serve` appends an `export.rejected` event; tests may collect them.
public protocol ExportIncidentRecorder: Sendable {
    func exportRejected(_ incident: Glassbox_V1_ExportRejected) async
}

/// How far an export has got, for progress lines and the final summary.
public struct ExportProgress: Sendable, Equatable {
    /// The last event whose telemetry the collector has (or has refused for good).
    public var exportedThrough: Int64 = 0
    public var itemsSent: Int = 0
    public var batchesSent: Int = 0
    public var bytesSent: Int = 0
    public var retries: Int = 0
    public var itemsRejected: Int = 0
    /// Spans whose events could not be matched (a closing event without its opening event).
    public var unmatched: Int = 0
}

/// Sends the telemetry of the log, one signal to one destination, reading the log in
/// `seq` order. The log is the buffer: nothing is dropped when the collector is slow or
/// away; a batch is retried until it is accepted, and the checkpoint moves only after that.
///
/// ```swift
/// let exporter = OTLPExporter(reader: log, destination: destination, signal: .traces, transport: HTTPClientTransport())
/// try await exporter.follow(checkpoints: log)          // glassbox serve: forever, from the checkpoint
/// let progress = try await exporter.export(after: 0, through: head)   // a backfill
/// ```
public struct OTLPExporter: Sendable {
    public let reader: any EventReader
    public let destination: OTLPDestination
    public let signal: OTLPDestination.Signal
    public var spans: SpanMapper
    public var logs: LogRecordMapper
    public var resource: TelemetryResource
    public var retry: ExportRetryPolicy
    public var incidents: (any ExportIncidentRecorder)?
    public var logger: Logger
    /// Events read from the log at a time.
    public var pageSize = 5_000
    /// Least time between two checkpoint writes while exporting quickly; a crash re-sends at most this much.
    public var checkpointInterval: Duration = .milliseconds(200)
    /// How long a live export waits for more spans before sending a small batch: fewer,
    /// fuller requests at the cost of this much latency (SDKs wait 5 s by default).
    public var linger: Duration = .milliseconds(200)
    let transport: any OTLPTransport
    let url: URL
    let metrics: ExporterMetrics

    public init(reader: any EventReader, destination: OTLPDestination, signal: OTLPDestination.Signal,
                transport: any OTLPTransport, content: SpanMapper.Content = .omit,
                resource: TelemetryResource = TelemetryResource(), retry: ExportRetryPolicy = ExportRetryPolicy(),
                incidents: (any ExportIncidentRecorder)? = nil, logger: Logger = Logger(label: "glassbox.otlp")) {
        self.reader = reader
        self.destination = destination
        self.signal = signal
        self.transport = transport
        self.spans = SpanMapper(content: content)
        self.logs = LogRecordMapper(content: content)
        self.resource = resource
        self.retry = retry
        self.incidents = incidents
        self.url = destination.url(for: signal) ?? URL(string: "http://localhost:4318/v1/\(signal.rawValue)")!
        self.metrics = ExporterMetrics(destination: destination.name, signal: signal.rawValue)
        var logger = logger
        logger[metadataKey: "destination"] = "\(destination.name)"
        logger[metadataKey: "signal"] = "\(signal.rawValue)"
        self.logger = logger
    }

    /// Exports from the durable checkpoint onwards, then follows the log as it grows, until
    /// the task is cancelled. Spans of work still in progress go out when they close.
    public func follow(checkpoints: any CheckpointStore) async throws {
        let consumer = destination.consumer(signal)
        var batch = Batch(exporter: self)
        batch.cursor = try await checkpoints.checkpoint(of: consumer)
        batch.progress.exportedThrough = batch.cursor
        var saved = batch.cursor
        var lastSave = ContinuousClock.now
        var lingered = false
        logger.info("exporting \(signal.rawValue) to \(url) from seq \(saved)")
        do {
            while !Task.isCancelled {
                let page = try await reader.events(EventQuery(after: batch.cursor, limit: pageSize))
                if page.isEmpty {
                    try await batch.drain()
                    if batch.progress.exportedThrough > saved {
                        try await checkpoints.saveCheckpoint(batch.progress.exportedThrough, of: consumer)
                        saved = batch.progress.exportedThrough
                    }
                    metrics.lag(head: try await reader.lastSeq(), exported: saved)
                    await reader.waitForEvents(after: batch.cursor)
                    continue
                }
                try await batch.add(page)
                if page.count < pageSize {
                    // Caught up: give a small batch one chance to fill before sending it.
                    if batch.count > 0, batch.count < destination.maxBatchItems / 2, !lingered {
                        lingered = true
                        try await Task.sleep(for: linger)
                        continue
                    }
                    lingered = false
                    try await batch.drain()
                }
                if batch.progress.exportedThrough > saved, ContinuousClock.now - lastSave >= checkpointInterval {
                    try await checkpoints.saveCheckpoint(batch.progress.exportedThrough, of: consumer)
                    saved = batch.progress.exportedThrough
                    lastSave = .now
                    metrics.lag(head: try await reader.lastSeq(), exported: saved)
                }
            }
        } catch is CancellationError {
            // Shutting down: keep what the collector already accepted.
            batch.inFlight?.cancel()
        }
        let through = batch.progress.exportedThrough
        if through > saved {
            // A cancelled task may not write; the save runs in its own task.
            try await Task { try await checkpoints.saveCheckpoint(through, of: consumer) }.value
        }
        logger.info("export of \(signal.rawValue) to \(url) stopped at seq \(through)")
    }

    /// Exports the events after `after` through `through` once (a backfill to a new
    /// backend), without touching any checkpoint. Spans that open before `after` are
    /// rebuilt from the log; spans still open at `through` are left for a later export.
    ///
    /// - Parameter giveUpAfter: seconds of failed retries after which the export stops
    ///   with ``TelemetryError/gaveUp(destination:signal:resumeFrom:reason:)``; nil retries forever.
    public func export(after: Int64, through: Int64, giveUpAfter: Double? = nil,
                       progress report: (@Sendable (ExportProgress) -> Void)? = nil) async throws -> ExportProgress {
        var batch = Batch(exporter: self)
        batch.cursor = after
        batch.progress.exportedThrough = after
        batch.giveUpAfter = giveUpAfter
        batch.report = report
        while batch.cursor < through {
            try Task.checkCancellation()
            let page = try await reader.events(EventQuery(after: batch.cursor, through: through, limit: pageSize))
            if page.isEmpty { break }
            try await batch.add(page)
        }
        try await batch.drain()
        batch.progress.exportedThrough = max(batch.progress.exportedThrough, through)
        report?(batch.progress)
        return batch.progress
    }
}

/// The items read but not yet sent, and the retry loop that sends them.
struct Batch {
    let exporter: OTLPExporter
    var assembler = SpanAssembler()
    var spans: [SpanRecord] = []
    var records: [OTLPLogRecord] = []
    var bytes = 0
    var firstSeq: Int64 = 0
    /// The last event read.
    var cursor: Int64 = 0
    var progress = ExportProgress()
    var giveUpAfter: Double?
    var report: (@Sendable (ExportProgress) -> Void)?
    /// The batch being delivered while the next one is built: mapping and sending overlap.
    var inFlight: Task<Delivery.Outcome, any Error>?

    init(exporter: OTLPExporter) {
        self.exporter = exporter
    }

    var count: Int { spans.count + records.count }

    mutating func add(_ page: [Event]) async throws {
        for event in page {
            if count == 0 { firstSeq = event.seq }
            switch exporter.signal {
            case .traces:
                switch assembler.consume(event) {
                case .span(let events)?: append(events)
                case .needsHistory(let closer)?:
                    let events = try await exporter.reader.events(EventQuery(
                        filter: EventFilter(traceID: closer.traceID, spanID: closer.spanID),
                        through: closer.seq, limit: 10_000))
                    append(events)
                case nil: break
                }
            case .logs:
                if !isOwnIncident(event) {
                    records.append(exporter.logs.record(from: event))
                    bytes += event.data.utf8.count + 200
                }
            }
            cursor = event.seq
            if count >= exporter.destination.maxBatchItems || bytes >= exporter.destination.maxBatchBytes {
                try await flush()
            }
        }
        // Nothing pending or in flight: everything read so far is exported.
        if count == 0, inFlight == nil { progress.exportedThrough = cursor }
    }

    private mutating func append(_ events: [Event]) {
        guard let span = exporter.spans.span(from: events) else {
            progress.unmatched += 1
            exporter.metrics.unmatched.increment()
            return
        }
        spans.append(span)
        bytes += 240 + events.reduce(0) { $0 + $1.data.utf8.count }
    }

    /// A rejection of this very destination's log records is not exported to it again,
    /// or a collector refusing everything would be sent an endless chain of its own refusals.
    private func isOwnIncident(_ event: Event) -> Bool {
        guard event.type == "export.rejected", let data = PayloadJSON.parse(event.data) else { return false }
        return data["destination"]?.string == exporter.destination.name && data["signal"]?.string == exporter.signal.rawValue
    }

    /// Hands what is pending to delivery, after the previous batch was delivered; returns
    /// while it is being sent, so the next batch is built meanwhile.
    mutating func flush() async throws {
        try await settle()
        guard count > 0 else {
            progress.exportedThrough = max(progress.exportedThrough, cursor)
            return
        }
        let delivery = Delivery(exporter: exporter, spans: spans, records: records, firstSeq: firstSeq, through: cursor,
                                giveUpAfter: giveUpAfter, report: report, progress: progress)
        spans.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        bytes = 0
        inFlight = Task { try await delivery.run() }
    }

    /// Sends what is pending and waits until everything is delivered.
    mutating func drain() async throws {
        try await flush()
        try await settle()
    }

    /// Waits for the batch in flight and counts it.
    mutating func settle() async throws {
        guard let task = inFlight else { return }
        let outcome = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        inFlight = nil
        progress.itemsSent += outcome.itemsSent
        progress.itemsRejected += outcome.itemsRejected
        progress.retries += outcome.retries
        progress.bytesSent += outcome.bytesSent
        progress.batchesSent += outcome.itemsSent > 0 ? 1 : 0
        progress.exportedThrough = max(progress.exportedThrough, outcome.through)
        report?(progress)
    }
}

/// One batch on its way to the collector: encoded once, retried until it is accepted or
/// refused for good.
struct Delivery: Sendable {
    struct Outcome: Sendable {
        var itemsSent = 0
        var itemsRejected = 0
        var retries = 0
        var bytesSent = 0
        var through: Int64 = 0
    }

    let exporter: OTLPExporter
    let spans: [SpanRecord]
    let records: [OTLPLogRecord]
    let firstSeq: Int64
    let through: Int64
    let giveUpAfter: Double?
    let report: (@Sendable (ExportProgress) -> Void)?
    /// Progress before this batch, for the lines shown while it is retried.
    let progress: ExportProgress

    func run() async throws -> Outcome {
        let destination = exporter.destination
        let items = spans.count + records.count
        var body = exporter.signal == .traces
            ? OTLPPayload.traces(spans, resource: exporter.resource, encoding: destination.wireProtocol)
            : OTLPPayload.logs(records, resource: exporter.resource, encoding: destination.wireProtocol)
        var headers: [(name: String, value: String)] = [("Content-Type", destination.wireProtocol.contentType)]
        if destination.compression == .gzip {
            body = try Gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        }
        headers.append(("User-Agent", "glassbox/\(TelemetryResource.glassboxVersion)"))
        for (name, value) in destination.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        let request = OTLPRequest(url: exporter.url, body: body, headers: headers, timeoutSeconds: destination.timeoutSeconds)

        var outcome = Outcome(through: through)
        let started = ContinuousClock.now
        while true {
            let attempt: ExportRetryPolicy.Attempt
            var response: OTLPResponse?
            do {
                let answer = try await exporter.transport.send(request)
                response = answer
                attempt = .answered(status: answer.status, retryAfter: answer.headers["retry-after"])
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                attempt = .noAnswer(Self.describe(error))
            }
            switch exporter.retry.decide(attempt, retry: outcome.retries + 1) {
            case .accepted:
                let partial = OTLPPayload.partialSuccess(response?.body ?? [], signal: exporter.signal, encoding: destination.wireProtocol)
                let rejected = Int(max(0, min(Int64(items), partial.rejected)))
                if rejected > 0 || !partial.message.isEmpty {
                    await reject(items: items, rejected: rejected, status: response?.status ?? 200,
                                 message: partial.message.isEmpty ? "partial success" : partial.message)
                    outcome.itemsRejected = rejected
                }
                exporter.metrics.sent(items: items - rejected, bytes: body.count)
                outcome.itemsSent = items - rejected
                outcome.bytesSent = body.count
                return outcome
            case .reject(let reason):
                let detail = OTLPPayload.errorMessage(response?.body ?? [], contentType: response?.headers["content-type"])
                await reject(items: items, rejected: items, status: response?.status ?? 0,
                             message: detail.isEmpty ? reason : "\(reason): \(detail)")
                outcome.itemsRejected = items
                return outcome
            case .retry(let delay, let reason):
                outcome.retries += 1
                exporter.metrics.retried(reason: Self.retryReason(attempt))
                if let giveUpAfter, (ContinuousClock.now - started) + .seconds(delay) > .seconds(giveUpAfter) {
                    throw TelemetryError.gaveUp(destination: exporter.destination.name, signal: exporter.signal.rawValue,
                                                resumeFrom: firstSeq, reason: reason)
                }
                exporter.logger.warning("collector did not take the batch (\(reason)); retry \(outcome.retries) in \(String(format: "%.1f", delay)) s",
                                        metadata: ["seq_from": "\(firstSeq)", "seq_through": "\(through)", "items": "\(items)"])
                var shown = progress
                shown.retries += outcome.retries
                report?(shown)
                try await Task.sleep(for: .milliseconds(Int(delay * 1_000)))
            }
        }
    }

    private func reject(items: Int, rejected: Int, status: Int, message: String) async {
        exporter.metrics.rejected(items: rejected)
        exporter.logger.error("collector refused \(rejected) of \(items) \(exporter.signal.rawValue) for good (HTTP \(status)): \(message); they stay in the log and can be sent again with glassbox export otlp --from \(firstSeq) --to \(through)")
        var incident = Glassbox_V1_ExportRejected()
        incident.destination = exporter.destination.name
        incident.signal = exporter.signal.rawValue
        incident.endpoint = exporter.url.absoluteString
        incident.fromSeq = firstSeq
        incident.throughSeq = through
        incident.items = UInt32(items)
        incident.rejectedItems = UInt32(rejected)
        incident.httpStatus = UInt32(max(0, status))
        incident.message = String(message.prefix(1_000))
        await exporter.incidents?.exportRejected(incident)
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    static func retryReason(_ attempt: ExportRetryPolicy.Attempt) -> String {
        switch attempt {
        case .answered(let status, _): "http_\(status)"
        case .noAnswer(let text): text.lowercased().contains("timeout") || text.lowercased().contains("deadline") ? "timeout" : "connection"
        }
    }
}

/// The exporter's figures on `/metrics`, labelled by destination and signal.
struct ExporterMetrics: Sendable {
    let itemsSent: Counter
    let batches: Counter
    let bytes: Counter
    let itemsRejected: Counter
    let unmatched: Counter
    let lagEvents: Gauge
    let exportedSeq: Gauge
    let destination: String
    let signal: String

    init(destination: String, signal: String) {
        let dimensions = [("destination", destination), ("signal", signal)]
        self.destination = destination
        self.signal = signal
        itemsSent = Counter(label: "glassbox_otlp_items_sent_total", dimensions: dimensions)
        batches = Counter(label: "glassbox_otlp_batches_sent_total", dimensions: dimensions)
        bytes = Counter(label: "glassbox_otlp_bytes_sent_total", dimensions: dimensions)
        itemsRejected = Counter(label: "glassbox_otlp_items_rejected_total", dimensions: dimensions)
        unmatched = Counter(label: "glassbox_otlp_spans_unmatched_total", dimensions: dimensions)
        lagEvents = Gauge(label: "glassbox_otlp_lag_events", dimensions: dimensions)
        exportedSeq = Gauge(label: "glassbox_otlp_exported_seq", dimensions: dimensions)
    }

    func sent(items: Int, bytes count: Int) {
        itemsSent.increment(by: items)
        batches.increment()
        bytes.increment(by: count)
    }

    func rejected(items: Int) { itemsRejected.increment(by: items) }

    func retried(reason: String) {
        Counter(label: "glassbox_otlp_retries_total", dimensions: [("destination", destination), ("signal", signal), ("reason", reason)]).increment()
    }

    func lag(head: Int64, exported: Int64) {
        lagEvents.record(max(0, head - exported))
        exportedSeq.record(exported)
    }
}
