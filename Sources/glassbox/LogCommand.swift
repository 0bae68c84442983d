import ArgumentParser
import EventLog
import Foundation
import SwiftProtobuf

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Append to the log and read it.",
        subcommands: [AppendCommand.self, TailCommand.self, TypesCommand.self]
    )
}

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, or one event per line of standard input (for scripts and tests).",
        discussion: """
            The data is the event's payload as JSON; it is checked against the payload message of
            its type (see `glassbox log types`) and stored in canonical proto3 JSON form.

              glassbox log append --stream run/42 --type agent.thought --data '{"text": "checking orders"}'

            With --stdin, each line is one JSON object:
              {"stream": "run/42", "type": "agent.thought", "data": {"text": "…"},
               "actor": "…", "id": "…", "expectedVersion": 3, "traceId": "…", "spanId": "…"}
            Each acknowledged event is printed as one JSON line as soon as it is durable. A bad line
            stops the command with its line number; the lines before it stay appended.
            """
    )

    @OptionGroup var location: LogLocation
    @OptionGroup var durability: DurabilityOption

    @Option(help: "The stream, e.g. run/<id>.") var stream: String?
    @Option(help: "The event type, e.g. agent.thought.") var type: String?
    @Option(help: "The payload as a JSON object.") var data: String?
    @Option(help: "Who acts, and on whose behalf. Default: user:$USER.") var actor: String?
    @Option(help: ArgumentHelp("Refuse unless the stream is at this version: a number, none (must not exist), or any.",
                               valueName: "version"))
    var expectedVersion: String = "any"
    @Option(help: "The event id (UUID), so that retrying the same command appends once.") var id: String?
    @Option(help: "W3C trace id (32 hex digits).") var traceId: String?
    @Option(help: "W3C span id (16 hex digits).") var spanId: String?
    @Option(help: "W3C parent span id (16 hex digits).") var parentSpanId: String?
    @Flag(help: "Read events from standard input, one JSON object per line.") var stdin = false
    @Option(help: "With --stdin: append up to this many consecutive lines of one stream in one call.") var batch = 1
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if stdin {
            guard stream == nil, type == nil, data == nil else {
                throw ValidationError("--stdin reads stream, type and data from each line; do not pass --stream, --type or --data.")
            }
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1.") }
        } else {
            guard stream != nil, type != nil, data != nil else {
                throw ValidationError("pass --stream, --type and --data (or --stdin).")
            }
        }
    }

    func run() async throws {
        if stdin {
            let log = try location.openForWriting(durability: try durability.resolved())
            defer { try? log.close() }
            try await appendLines(to: log)
            return
        }
        // Check the input before the file is opened: bad input never touches the log.
        let trace = try traceContext(traceID: traceId, spanID: spanId, parentSpanID: parentSpanId)
        let draft = try EventDraft(
            type: type!, json: data!, actor: actor ?? Self.defaultActor, trace: trace, id: try parseID(id))
        let version = try Self.parseVersion(expectedVersion)
        try Validation.checkStream(stream!)
        try Validation.checkActor(draft.actor)
        let log = try location.openForWriting(durability: try durability.resolved())
        defer { try? log.close() }
        let result = try await log.append([draft], to: stream!, expectedVersion: version)
        let position = result.positions[0]
        if json {
            Terminal.line(#"{"seq":\#(position.seq),"id":"\#(draft.id.uuidString.lowercased())","stream":\#(JSONText.string(stream!)),"streamVersion":\#(position.streamVersion),"deduplicated":\#(result.deduplicated)}"#)
        } else if result.deduplicated {
            Terminal.line("already in the log at seq \(position.seq) (\(stream!) version \(position.streamVersion)); nothing appended")
        } else {
            Terminal.line("appended seq \(position.seq) (\(stream!) version \(position.streamVersion))")
        }
    }

    static var defaultActor: String {
        "user:" + (ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown")
    }

    static func parseVersion(_ text: String) throws -> ExpectedVersion {
        switch text.lowercased() {
        case "any": return .any
        case "none", "0": return .noStream
        default:
            guard let version = Int64(text), version > 0 else {
                throw CommandFailure(message: "--expected-version '\(text)' is not a version; use a number, none or any.",
                                     code: ExitStatus.invalidInput)
            }
            return .exact(version)
        }
    }

    private func parseID(_ text: String?) throws -> UUID {
        guard let text else { return .version7() }
        guard let id = UUID(uuidString: text) else {
            throw CommandFailure(message: "--id '\(text)' is not a UUID.", code: ExitStatus.invalidInput)
        }
        return id
    }

    private func traceContext(traceID: String?, spanID: String?, parentSpanID: String?) throws -> TraceContext? {
        guard traceID != nil || spanID != nil || parentSpanID != nil else { return nil }
        guard let traceID, let spanID else {
            throw EventLogError.invalidTraceContext("a trace context needs both a trace id and a span id")
        }
        return try TraceContext(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID)
    }

    /// One parsed line of --stdin.
    private struct Line {
        let number: Int
        let stream: String
        let draft: EventDraft
        let expectedVersion: ExpectedVersion?
    }

    private func appendLines(to log: SQLiteEventLog) async throws {
        var pending: [Line] = []
        var number = 0
        func flush() async throws {
            guard let first = pending.first else { return }
            let result = try await log.append(pending.map(\.draft), to: first.stream,
                                              expectedVersion: first.expectedVersion ?? .any)
            for (line, position) in zip(pending, result.positions) {
                Terminal.line(#"{"line":\#(line.number),"seq":\#(position.seq),"id":"\#(line.draft.id.uuidString.lowercased())","stream":\#(JSONText.string(line.stream)),"streamVersion":\#(position.streamVersion)}"#)
            }
            pending.removeAll()
        }
        while let text = Swift.readLine(strippingNewline: true) {
            number += 1
            if text.allSatisfy(\.isWhitespace) { continue }
            let line: Line
            do {
                line = try parse(text, number: number)
            } catch {
                try await flush()
                let message = (error as? EventLogError)?.description ?? (error as? CommandFailure)?.message ?? "\(error)"
                throw CommandFailure(message: "line \(number): \(message)",
                                     code: (error as? EventLogError).map(ExitStatus.of) ?? ExitStatus.invalidInput)
            }
            if let first = pending.first,
               first.stream != line.stream || line.expectedVersion != nil || pending.count >= batch {
                try await flush()
            }
            pending.append(line)
            if pending.count >= batch || line.expectedVersion != nil { try await flush() }
        }
        try await flush()
    }

    private func parse(_ text: String, number: Int) throws -> Line {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw EventLogError.invalidJSON(problem: detail.trimmingCharacters(in: CharacterSet(charactersIn: ". ")))
        }
        guard let fields = object as? [String: Any] else {
            throw EventLogError.invalidJSON(problem: "each line must be a JSON object with stream, type and data")
        }
        guard let stream = fields["stream"] as? String, let type = fields["type"] as? String else {
            throw CommandFailure(message: "each line needs \"stream\" and \"type\" strings", code: ExitStatus.invalidInput)
        }
        let payload = fields["data"] ?? [String: Any]()
        let data = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.fragmentsAllowed]), as: UTF8.self)
        let trace = try traceContext(traceID: fields["traceId"] as? String, spanID: fields["spanId"] as? String,
                                     parentSpanID: fields["parentSpanId"] as? String)
        let id = try parseID(fields["id"] as? String)
        let draft = try EventDraft(type: type, json: data, actor: fields["actor"] as? String ?? actor ?? Self.defaultActor,
                                   trace: trace, id: id)
        var expected: ExpectedVersion?
        switch fields["expectedVersion"] {
        case nil: expected = nil
        case let number as Int: expected = try Self.parseVersion(String(number))
        case let text as String: expected = try Self.parseVersion(text)
        default: throw CommandFailure(message: "\"expectedVersion\" must be a number, \"none\" or \"any\"", code: ExitStatus.invalidInput)
        }
        return Line(number: number, stream: stream, draft: draft, expectedVersion: expected)
    }
}

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Show the last events, or every event from a seq on; with --follow, keep showing new ones.",
        discussion: """
            Patterns use * and ? (SQLite GLOB), e.g. --type 'tool.*' or --stream 'run/*'.
            Several types: --type 'tool.*,run.*'.
            """
    )

    @OptionGroup var location: LogLocation
    @Flag(name: [.short, .long], help: "Keep printing events as they are appended, until interrupted.") var follow = false
    @Option(help: "Start at this seq (inclusive) instead of the last events.") var from: Int64?
    @Option(name: [.customShort("n"), .customLong("lines")], help: "How many events to show (default: the last 20; with --from, all).")
    var lines: Int?
    @Option(help: "Only these event types (patterns, comma-separated).") var type: String?
    @Option(help: "Only this stream (or pattern).") var stream: String?
    @Option(help: "Only events of this trace.") var traceId: String?
    @Option(help: "Only events of this actor (or pattern).") var actor: String?
    @Flag(help: "One JSON object per event, with the full envelope and hashes.") var json = false
    @Flag(help: "Show payloads in full instead of cutting them at 120 characters.") var full = false

    func run() async throws {
        let log = try location.openForReading()
        let filter = EventFilter(
            stream: stream, types: type.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            traceID: traceId, actor: actor)
        var cursor: Int64
        if let from {
            cursor = max(0, from - 1)
            let limit = lines ?? Int.max
            var printed = 0
            while printed < limit {
                let page = try await log.events(EventQuery(filter: filter, after: cursor, limit: min(1_000, limit - printed)))
                guard let last = page.last else { break }
                page.forEach(show)
                printed += page.count
                cursor = last.seq
            }
            if printed >= limit, follow { cursor = try await log.lastSeq() }
        } else {
            let head = try await log.lastSeq()
            let newest = try await log.events(EventQuery(filter: filter, through: head, limit: lines ?? 20, newestFirst: true))
            newest.reversed().forEach(show)
            cursor = head
        }
        guard follow else { return }
        for try await event in log.subscribe(after: cursor, filter: filter) {
            show(event)
        }
    }

    private func show(_ event: Event) {
        Terminal.line(json ? event.jsonLine : Format.eventLine(event, full: full))
    }
}

struct TypesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "types",
        abstract: "List the event types and the fields of their payloads."
    )

    @Argument(help: "Show only this type.") var type: String?

    func run() throws {
        if let type {
            guard EventCatalog.messageType(for: type) != nil else {
                throw EventLogError.unknownEventType(type, known: EventCatalog.allTypes)
            }
            Terminal.line(Format.table(
                columns: ["FIELD", "TYPE"], rows: EventCatalog.fields(of: type).map { [$0.name, $0.type] }))
            return
        }
        let rows = EventCatalog.entries.map { entry in
            [entry.type, entry.message.protoMessageName, EventCatalog.fieldNames(of: entry.type).joined(separator: ", ")]
        }
        Terminal.line(Format.table(columns: ["TYPE", "PAYLOAD", "FIELDS"], rows: rows, maxWidth: 90))
    }
}
