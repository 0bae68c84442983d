public import Foundation

/// Everything that can go wrong with the log, each case worded so that a user knows
/// what happened and what to do. Nothing already recorded is ever lost by an error.
public enum EventLogError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// Another writer appended to the stream first.
    case versionConflict(stream: String, expected: ExpectedVersion, actual: Int64)
    /// No log exists at the path and this command does not create one.
    case noLog(path: String)
    /// The file exists but is not a Glassbox log.
    case notALog(path: String, reason: String)
    /// The file was written by a newer Glassbox with schema migrations this build does not know.
    case newerSchema(path: String, unknownMigrations: [String], known: String)
    /// SQLite reports that pages of the file are damaged.
    case corrupt(path: String, detail: String)
    /// The log was opened read-only and cannot be appended to.
    case readOnlyLog(path: String)
    /// Another process held the write lock for longer than the busy timeout.
    case busy(path: String)
    case unknownEventType(String, known: [String])
    case invalidJSON(problem: String)
    case invalidPayload(type: String, problem: String)
    case invalidStream(String, problem: String)
    case invalidActor(String)
    case invalidTraceContext(String)
    /// An append must carry at least one event.
    case emptyAppend
    /// Some ids of the append are in the log and some are not, or an id repeats within it.
    case conflictingEventIDs(String)
    /// The audit query tried to change something or is not a query.
    case auditRefused(problem: String)
    /// The audit query ran longer than its time limit.
    case auditTimedOut(seconds: Double)
    /// Any other SQLite error, with SQLite's own message.
    case database(path: String, message: String)

    public var description: String {
        switch self {
        case .versionConflict(let stream, let expected, let actual):
            return "stream '\(stream)' is at version \(actual), not \(expected) as expected: another writer appended first. Read the stream again, then retry with the new version."
        case .noLog(let path):
            return "no Glassbox log at \(path). Run `glassbox demo` or `glassbox log append` to create one, or point --db (or GLASSBOX_DB) at an existing log."
        case .notALog(let path, let reason):
            return "\(path) is not a Glassbox log (\(reason)). It was not modified. Point --db (or GLASSBOX_DB) at a Glassbox log, or choose a new path to create one."
        case .newerSchema(let path, let unknown, let known):
            return "\(path) was written by a newer Glassbox (schema \(unknown.joined(separator: ", ")); this build knows up to \(known)). It was not modified. Upgrade glassbox to read it."
        case .corrupt(let path, let detail):
            return "\(path) is damaged (SQLite: \(detail)). Nothing was changed. Restore it from a backup, or salvage what is readable with `sqlite3 \(path) .recover`, then run `glassbox verify`."
        case .readOnlyLog(let path):
            return "\(path) was opened read-only; open it for writing to append."
        case .busy(let path):
            return "another process kept \(path) locked for too long. Check for a stuck glassbox process, then retry."
        case .unknownEventType(let type, let known):
            return "unknown event type '\(type)'. Known types: \(known.joined(separator: ", ")). `glassbox log types` shows each type's fields."
        case .invalidJSON(let problem):
            return "the event data is not valid JSON: \(problem). Pass one JSON object, e.g. --data '{\"text\": \"hello\"}'."
        case .invalidPayload(let type, let problem):
            return "the data is not a valid \(type) payload: \(problem). `glassbox log types` shows each type's fields."
        case .invalidStream(let stream, let problem):
            return "invalid stream name '\(stream)': \(problem). Use names like run/<id> or mission/<id>."
        case .invalidActor(let actor):
            return "invalid actor '\(actor)': it must be non-empty, without spaces, at most 256 bytes, like agent:analyst@user:alice."
        case .invalidTraceContext(let problem):
            return "invalid trace context: \(problem)."
        case .emptyAppend:
            return "nothing to append: pass at least one event."
        case .conflictingEventIDs(let problem):
            return "\(problem). A retry must resend exactly the events of the first attempt; new events need new ids."
        case .auditRefused(let problem):
            return "audit queries are read-only and this one was refused: \(problem). Use a SELECT (or WITH … SELECT) statement; the log was not changed."
        case .auditTimedOut(let seconds):
            return "the audit query ran longer than \(seconds) s and was stopped. Narrow it with WHERE seq > … or raise --timeout."
        case .database(let path, let message):
            return "SQLite error on \(path): \(message)."
        }
    }

    public var errorDescription: String? { description }
}
