public import EventLog

/// Collects the events of open spans while the log is read in `seq` order, and hands
/// over all of a span's events when its closing event arrives. A state machine with no
/// I/O: the exporter feeds it and does the reading.
///
/// Nothing here must survive a restart: a span whose opening event was read before the
/// exporter started (or was evicted to bound memory) is reported as
/// ``Output/needsHistory(_:)``, and the exporter fetches its events by span id, which the
/// log indexes.
public struct SpanAssembler: Sendable {
    public enum Output: Sendable {
        /// A closed span: its events in `seq` order, opener first, closer last.
        case span([Event])
        /// A span closed whose opening event this assembler has not kept; read the span's
        /// events up to this closing event from the log.
        case needsHistory(Event)
    }

    private struct OpenSpan: Sendable {
        var events: [Event]
    }

    private var open: [String: OpenSpan] = [:]
    /// Most spans kept open in memory; beyond it the oldest are dropped and rebuilt from the log.
    public let maxOpenSpans: Int

    public init(maxOpenSpans: Int = 100_000) {
        self.maxOpenSpans = max(1, maxOpenSpans)
    }

    /// Spans currently held open.
    public var openSpans: Int { open.count }

    /// Takes the next event of the log; returns a span when `event` closed one.
    public mutating func consume(_ event: Event) -> Output? {
        guard let spanID = event.spanID else { return nil }
        if SpanRole.opened(by: event.type) != nil {
            open[spanID] = OpenSpan(events: [event])
            if open.count > maxOpenSpans { evictOldest() }
            return nil
        }
        if SpanRole.closed(by: event.type) != nil {
            guard var span = open.removeValue(forKey: spanID), span.events[0].traceID == event.traceID else {
                return .needsHistory(event)
            }
            span.events.append(event)
            return .span(span.events)
        }
        open[spanID]?.events.append(event)
        return nil
    }

    /// Forgets the older half of the open spans; their closing events will ask for history.
    private mutating func evictOldest() {
        let bySeq = open.map { ($0.key, $0.value.events[0].seq) }.sorted { $0.1 < $1.1 }
        for (key, _) in bySeq.prefix(open.count / 2) { open.removeValue(forKey: key) }
    }
}
