import ArgumentParser
import EventLog
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and check the file's pages; report the first break.",
        discussion: """
            Exits 0 when the log is intact and 1 when it was altered or is damaged, naming the first
            seq that differs from what was appended and what kind of change explains it (edited,
            deleted, inserted, reordered). Record the head hash it prints somewhere else: a log whose
            whole tail was rewritten can only be caught against a hash kept outside it.
            """
    )

    @OptionGroup var location: LogLocation
    @Flag(help: "Skip SQLite's page check (PRAGMA quick_check) and only recompute the chain.") var noStorageCheck = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        let log = try location.openForReading()
        let total = try await log.lastSeq()
        let report = try await log.verify(checkStorage: !noStorageCheck) { checked in
            Terminal.progress("verifying: \(Format.count(checked)) of \(Format.count(total)) events")
        }
        Terminal.endProgress()
        let seconds = Format.seconds(report.duration)
        if json {
            let chainBreak = report.chainBreak.map {
                #"{"seq":\#($0.seq),"kind":"\#($0.kind.rawValue)","detail":\#(JSONText.string($0.detail))}"#
            } ?? "null"
            let problems = report.storageProblems.map(JSONText.string).joined(separator: ",")
            Terminal.line("""
                {"path":\(JSONText.string(log.path)),"intact":\(report.isIntact),"eventsChecked":\(report.eventsChecked),\
                "lastSeq":\(report.lastSeq),"headHash":"\(report.headHash.hex)","chainBreak":\(chainBreak),\
                "storageProblems":[\(problems)],"truncation":\(JSONText.optional(report.truncation)),"seconds":\(seconds)}
                """)
        } else {
            Terminal.line("verify \(log.path)")
            if noStorageCheck {
                Terminal.line("  storage  not checked")
            } else if report.storageProblems.isEmpty {
                Terminal.line("  storage  ok (SQLite quick_check)")
            } else {
                Terminal.line("  storage  DAMAGED: " + report.storageProblems.prefix(5).joined(separator: "; "))
            }
            if let chainBreak = report.chainBreak {
                Terminal.line("  chain    BROKEN at seq \(chainBreak.seq): \(chainBreak.kind.rawValue): \(chainBreak.detail)")
                Terminal.line("  intact   \(Format.count(report.eventsChecked)) events before it")
            } else {
                Terminal.line("  chain    intact: \(Format.count(report.eventsChecked)) events" +
                              (report.lastSeq > 0 ? ", seq 1–\(report.lastSeq)" : ""))
            }
            if let truncation = report.truncation { Terminal.line("  end      TRUNCATED: \(truncation)") }
            Terminal.line("  head     \(report.headHash.hex)")
            let rate = seconds > 0 ? " (\(Format.count(Int(Double(report.eventsChecked) / seconds))) events/s)" : ""
            Terminal.line(String(format: "  took     %.2f s", seconds) + rate)
        }
        if !report.isIntact {
            throw CommandFailure(
                message: report.chainBreak.map { "the log was altered: first break at seq \($0.seq) (\($0.kind.rawValue))." }
                    ?? report.truncation.map { "the log was altered: \($0)." }
                    ?? "the log file is damaged; restore it from a backup or salvage it with `sqlite3 \(log.path) .recover`.",
                code: ExitStatus.verificationFailed)
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Run read-only SQL on the log: the engine refuses any write.",
        discussion: """
            Tables: events (the log), read_models and consumer_checkpoints. Payloads are JSON:
              glassbox audit "SELECT actor, COUNT(*) FROM events WHERE type = 'tool.denied' GROUP BY actor"
              glassbox audit "SELECT seq, data ->> '$.reason' FROM events WHERE type = 'tool.denied'" --csv
            """
    )

    @OptionGroup var location: LogLocation
    @Argument(help: "One SELECT statement.") var sql: String
    @Flag(help: "Print rows as JSON objects, one per line.") var json = false
    @Flag(help: "Print rows as CSV with a header line.") var csv = false
    @Option(help: "Stop after this many rows.") var maxRows = 10_000
    @Option(help: "Stop the query after this many seconds.") var timeout: Double = 30

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv.") }
        if maxRows < 1 { throw ValidationError("--max-rows must be at least 1.") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive.") }
    }

    func run() async throws {
        // Opening the log first gives the clear errors for a missing or foreign file.
        let log = try location.openForReading()
        try log.close()
        let result = try await AuditQuery(path: location.path).run(
            sql, maxRows: maxRows, timeout: .milliseconds(Int64(timeout * 1000)))
        if json {
            for row in result.rows {
                let fields = zip(result.columns, row).map { column, value in
                    JSONText.string(column) + ":" + jsonValue(value)
                }
                Terminal.line("{" + fields.joined(separator: ",") + "}")
            }
        } else if csv {
            Terminal.line(Format.csv(result.columns))
            for row in result.rows { Terminal.line(Format.csv(row.map(\.description))) }
        } else {
            Terminal.line(Format.table(columns: result.columns, rows: result.rows.map { $0.map(\.description) }))
            Terminal.note("(\(Format.count(result.rows.count)) rows, \(String(format: "%.0f", Format.seconds(result.duration) * 1000)) ms)")
        }
        if result.truncated {
            Terminal.note("glassbox: note: stopped after \(Format.count(maxRows)) rows; raise --max-rows to see more.")
        }
    }

    private func jsonValue(_ value: AuditValue) -> String {
        switch value {
        case .null: return "null"
        case .integer(let number): return String(number)
        case .real(let number): return number.isFinite ? String(number) : "null"
        case .text(let text): return JSONText.string(text)
        case .blob: return JSONText.string(value.description)
        }
    }
}
