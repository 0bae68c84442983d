import EventLog
import Foundation
import GlassboxProto
import GlassboxTesting

/// A log in a fresh temporary directory.
struct TestLog {
    let directory: TemporaryDirectory
    let log: SQLiteEventLog
    var path: String { log.path }

    init(durability: SQLiteEventLog.Durability = .normal) throws {
        directory = try TemporaryDirectory()
        log = try SQLiteEventLog(path: directory.path("glassbox.db"), options: .init(durability: durability))
    }
}

func thought(_ text: String, actor: String = "agent:analyst@user:alice", id: UUID = .version7()) throws -> EventDraft {
    var payload = Glassbox_V1_AgentThought()
    payload.text = text
    return try EventDraft(payload, actor: actor, id: id)
}

func sha256OfFile(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}
