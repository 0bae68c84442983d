import EventLog
import Foundation
import GlassboxTesting
import Testing

/// Someone with write access edits the file with the sqlite3 tool (dropping the
/// append-only triggers first); `glassbox verify` must name the right seq and kind.
@Suite struct TamperingTests {
    private func preparedLog() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = directory.path("glassbox.db")
        let lines = thoughtLines(count: 12, stream: "run/tamper")
        let appended = try glassbox(["log", "append", "--stdin", "--db", path, "--durability", "normal"], stdin: lines.text)
        #expect(appended.status == 0, "\(appended.stderr)")
        let clean = try glassbox(["verify", "--db", path])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        return (directory, path)
    }

    private func verifyBreak(_ path: String) throws -> (seq: Int, kind: String, status: Int32) {
        let result = try glassbox(["verify", "--json", "--db", path])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let chainBreak = object?["chainBreak"] as? [String: Any]
        return (chainBreak?["seq"] as? Int ?? -1, chainBreak?["kind"] as? String ?? "none", result.status)
    }

    @Test func theTriggersRefuseEditsMadeWithoutDroppingThem() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        #expect(throws: ToolFailure.self) { try sqlite3(path, "UPDATE events SET data = '{}' WHERE seq = 3") }
        #expect(throws: ToolFailure.self) { try sqlite3(path, "DELETE FROM events WHERE seq = 3") }
        #expect(try verifyBreak(path).status == 0)
    }

    @Test func anEditedPayloadIsDetectedAtItsSeq() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        try sqlite3(path, """
            DROP TRIGGER events_are_append_only_update;
            UPDATE events SET data = json_set(data, '$.text', 'nothing to see here') WHERE seq = 7;
            """)
        let found = try verifyBreak(path)
        #expect(found.seq == 7 && found.kind == "edited")
        #expect(found.status == 1)
    }

    @Test func anEditedEnvelopeIsDetectedAtItsSeq() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        try sqlite3(path, """
            DROP TRIGGER events_are_append_only_update;
            UPDATE events SET actor = 'user:someone-else' WHERE seq = 4;
            """)
        let found = try verifyBreak(path)
        #expect(found.seq == 4 && found.kind == "edited")
    }

    @Test func aDeletedRowIsDetectedAtItsSeq() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        try sqlite3(path, "DROP TRIGGER events_are_append_only_delete; DELETE FROM events WHERE seq = 5;")
        let found = try verifyBreak(path)
        #expect(found.seq == 5 && found.kind == "deleted")
        #expect(found.status == 1)
    }

    @Test func aDeletedRowHiddenByRenumberingIsDetected() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        try sqlite3(path, """
            DROP TRIGGER events_are_append_only_delete; DROP TRIGGER events_are_append_only_update;
            DELETE FROM events WHERE seq = 5;
            UPDATE events SET seq = seq + 1000 WHERE seq > 5;
            UPDATE events SET seq = seq - 1001 WHERE seq > 1000;
            """)
        let found = try verifyBreak(path)
        #expect(found.seq == 5 && found.kind == "deleted")
    }

    @Test func swappedRowsAreDetectedAsReordered() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        try sqlite3(path, """
            DROP TRIGGER events_are_append_only_update;
            UPDATE events SET seq = -1 WHERE seq = 6;
            UPDATE events SET seq = 6 WHERE seq = 9;
            UPDATE events SET seq = 9 WHERE seq = -1;
            """)
        let found = try verifyBreak(path)
        #expect(found.seq == 6 && found.kind == "reordered")
    }

    @Test func anInsertedRowIsDetectedAtItsSeq() throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        try sqlite3(path, """
            DROP TRIGGER events_are_append_only_update;
            UPDATE events SET seq = seq + 1000 WHERE seq >= 8;
            UPDATE events SET seq = seq - 999 WHERE seq >= 1000;
            INSERT INTO events (seq, id, time, stream, stream_version, type, actor, data, prev_hash, hash)
            VALUES (8, '0190f3a2-7c4e-7d1a-8b2c-3d4e5f607182', 1764000000000000000, 'run/forged', 1, 'tool.authorized',
                    'agent:test@user:ci', '{"callId":"x","rule":"allow-everything"}',
                    (SELECT hash FROM events WHERE seq = 7), randomblob(32));
            """)
        let found = try verifyBreak(path)
        #expect(found.seq == 8 && found.kind == "inserted")
    }

    @Test func removingTheTailIsCaughtByAConsumerCheckpoint() async throws {
        let (directory, path) = try preparedLog()
        defer { directory.remove() }
        do {
            let log = try SQLiteEventLog(path: path)
            try await log.saveCheckpoint(12, of: "otlp:collector")
            try log.close()
        }
        try sqlite3(path, "DROP TRIGGER events_are_append_only_delete; DELETE FROM events WHERE seq > 10;")
        let result = try glassbox(["verify", "--db", path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("TRUNCATED"))
    }
}
