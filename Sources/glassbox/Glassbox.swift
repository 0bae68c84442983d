public import ArgumentParser
import EventLog
import Foundation

@main
struct Glassbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glassbox",
        abstract: "Agents for data engineering, in a glass box: every step is an event in one hash-chained log.",
        discussion: """
            The log is one SQLite file: --db PATH, else $GLASSBOX_DB, else ./glassbox.db.

            EXIT CODES
              0   success
              1   verify found the log altered or damaged
              2   invalid input: bad JSON, unknown event type, bad stream or
                  actor, an audit query that was refused or failed
              3   conflict: the stream is not at --expected-version
              4   the log cannot be used: missing, not a Glassbox log, from
                  a newer Glassbox, damaged, or locked by another process
              5   export incomplete: the collector stayed unreachable or
                  refused items (the message says what to re-run)
              64  command-line usage error
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, DemoCommand.self, LogCommand.self, ExportCommand.self, VerifyCommand.self, AuditCommand.self, ProjectionsCommand.self, PolicyCommand.self, ToolsCommand.self, ApproveCommand.self, RejectCommand.self, SampleWarehouseCommand.self, AskCommand.self, StopCommand.self, ResumeCommand.self, AgentsCommand.self, ReplayCommand.self, WhatIfCommand.self]
    )

    /// Runs the command and turns Glassbox's errors into one line on stderr and a documented exit code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as EventLogError {
            fail(error.description, code: ExitStatus.of(error))
        } catch let error as CommandFailure {
            fail(error.message, code: error.code)
        } catch {
            exit(withError: error)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("glassbox: error: \(message)\n".utf8))
        Foundation.exit(code)
    }
}

/// The documented exit codes.
enum ExitStatus {
    static let verificationFailed: Int32 = 1
    static let invalidInput: Int32 = 2
    static let conflict: Int32 = 3
    static let unusableLog: Int32 = 4
    static let exportIncomplete: Int32 = 5

    static func of(_ error: EventLogError) -> Int32 {
        switch error {
        case .versionConflict, .conflictingEventIDs:
            return conflict
        case .noLog, .notALog, .newerSchema, .corrupt, .busy, .database, .readOnlyLog:
            return unusableLog
        case .unknownEventType, .invalidJSON, .invalidPayload, .invalidStream, .invalidActor,
             .invalidTraceContext, .emptyAppend, .auditRefused, .auditTimedOut:
            return invalidInput
        }
    }
}

/// A failure a command reports itself, with its exit code.
struct CommandFailure: Error {
    let message: String
    let code: Int32
}

/// Options every command that touches the log shares.
struct LogLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path of the log file.", valueName: "path"))
    var db: String?

    /// --db, then $GLASSBOX_DB, then ./glassbox.db.
    var path: String {
        if let db, !db.isEmpty { return db }
        if let environment = ProcessInfo.processInfo.environment["GLASSBOX_DB"], !environment.isEmpty {
            return environment
        }
        return "glassbox.db"
    }

    /// Opens the log for reading only: it must exist already, and is not written to.
    func openForReading() throws -> SQLiteEventLog {
        try SQLiteEventLog(path: path, options: .init(createIfMissing: false, readOnly: true))
    }

    /// Opens an existing log for writing (read models, checkpoints).
    func openExisting() throws -> SQLiteEventLog {
        try SQLiteEventLog(path: path, options: .init(createIfMissing: false))
    }

    /// Opens the log for writing, creating it when missing.
    func openForWriting(durability: SQLiteEventLog.Durability) throws -> SQLiteEventLog {
        try SQLiteEventLog(path: path, options: .init(createIfMissing: true, durability: durability))
    }
}

extension SQLiteEventLog.Durability: ExpressibleByArgument {}

/// How writers sync: --durability, else $GLASSBOX_DURABILITY, else full.
struct DurabilityOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "full: every commit survives power loss (default). normal: survives a crash of glassbox, not of the machine.",
        valueName: "full|normal"))
    var durability: SQLiteEventLog.Durability?

    func resolved() throws -> SQLiteEventLog.Durability {
        if let durability { return durability }
        guard let text = ProcessInfo.processInfo.environment["GLASSBOX_DURABILITY"], !text.isEmpty else { return .full }
        guard let value = SQLiteEventLog.Durability(rawValue: text) else {
            throw CommandFailure(message: "GLASSBOX_DURABILITY is '\(text)'; use full or normal.", code: ExitStatus.invalidInput)
        }
        return value
    }
}
