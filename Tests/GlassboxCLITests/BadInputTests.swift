import Foundation
import GlassboxTesting
import Testing

/// Each kind of bad input: one line naming the problem and the fix, a non-zero
/// exit code, and the log exactly as it was.
@Suite struct BadInputTests {
    private func logWithDemo() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = directory.path("glassbox.db")
        let demo = try glassbox(["demo", "--db", path])
        #expect(demo.status == 0, "\(demo.stderr)")
        return (directory, path)
    }

    private func expectOneLineError(_ result: CommandResult, status: Int32, mentioning words: [String]) {
        #expect(result.status == status, "exit \(result.status): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line on stderr, got: \(result.stderr)")
        #expect(result.stderr.hasPrefix("glassbox: error: "))
        for word in words { #expect(result.stderr.contains(word), "'\(word)' missing from: \(result.stderr)") }
    }

    @Test func invalidJSONIsRefused() throws {
        let (directory, path) = try logWithDemo()
        defer { directory.remove() }
        let before = snapshot(path)
        let result = try glassbox(["log", "append", "--db", path, "--stream", "run/x", "--type", "agent.thought",
                                   "--data", #"{"text": "unterminated"#])
        expectOneLineError(result, status: 2, mentioning: ["not valid JSON", "--data"])
        #expect(snapshot(path) == before)
    }

    @Test func anUnknownEventTypeIsRefused() throws {
        let (directory, path) = try logWithDemo()
        defer { directory.remove() }
        let before = snapshot(path)
        let result = try glassbox(["log", "append", "--db", path, "--stream", "run/x", "--type", "tool.exploded",
                                   "--data", "{}"])
        expectOneLineError(result, status: 2, mentioning: ["unknown event type 'tool.exploded'", "glassbox log types"])
        #expect(snapshot(path) == before)
    }

    @Test func aPayloadFieldThatDoesNotExistIsRefused() throws {
        let (directory, path) = try logWithDemo()
        defer { directory.remove() }
        let result = try glassbox(["log", "append", "--db", path, "--stream", "run/x", "--type", "agent.thought",
                                   "--data", #"{"thougth": "typo"}"#])
        expectOneLineError(result, status: 2, mentioning: ["no field 'thougth'", "text"])
    }

    @Test func aFileThatIsNotALogIsRefusedUntouched() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("report.csv")
        try Data("region,revenue\nEMEA,1388800\n".utf8).write(to: URL(fileURLWithPath: path))
        let before = snapshot(path)
        for arguments in [["log", "tail"], ["verify"], ["log", "append", "--stream", "run/x", "--type", "agent.thought", "--data", "{}"],
                          ["audit", "SELECT 1"], ["projections", "rebuild"]] {
            let result = try glassbox(arguments + ["--db", path])
            expectOneLineError(result, status: 4, mentioning: ["is not a Glassbox log", "--db"])
        }
        #expect(snapshot(path) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func aMissingLogIsReportedWithWhatToDo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("nowhere.db")
        let result = try glassbox(["log", "tail", "--db", path])
        expectOneLineError(result, status: 4, mentioning: ["no Glassbox log", "glassbox demo"])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aCorruptPageIsReportedAndNothingIsWritten() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        let lines = thoughtLines(count: 400, stream: "run/big", prefix: String(repeating: "a long line of reasoning ", count: 12))
        #expect(try glassbox(["log", "append", "--stdin", "--batch", "50", "--db", path], stdin: lines.text).status == 0)
        let page = try #require(Int(try sqlite3(path, "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 5")
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64((page - 1) * 4096 + 200))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 2000))
        try handle.close()
        let before = snapshot(path)

        let tail = try glassbox(["log", "tail", "--from", "1", "--db", path])
        expectOneLineError(tail, status: 4, mentioning: ["is damaged", "backup", ".recover"])
        let verify = try glassbox(["verify", "--db", path])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("DAMAGED"))
        #expect(snapshot(path) == before)
    }

    @Test func aWriteThroughAuditIsRefusedAndTheLogUntouched() throws {
        let (directory, path) = try logWithDemo()
        defer { directory.remove() }
        let before = snapshot(path)
        let head = try glassbox(["verify", "--json", "--db", path]).stdout
        for sql in ["DELETE FROM events", "UPDATE events SET actor = 'x'", "INSERT INTO consumer_checkpoints VALUES ('x', 1, 1)",
                    "DROP TRIGGER events_are_append_only_delete", "ATTACH '/tmp/x.db' AS x"] {
            let result = try glassbox(["audit", sql, "--db", path])
            expectOneLineError(result, status: 2, mentioning: ["read-only", "SELECT"])
        }
        #expect(snapshot(path) == before)
        let after = try glassbox(["verify", "--json", "--db", path]).stdout
        #expect(after.components(separatedBy: "\"seconds\"")[0] == head.components(separatedBy: "\"seconds\"")[0])
    }

    @Test func aLostRaceExitsWithTheConflictCode() throws {
        let (directory, path) = try logWithDemo()
        defer { directory.remove() }
        let arguments = ["log", "append", "--db", path, "--stream", "run/r", "--type", "agent.thought", "--data", #"{"text":"x"}"#]
        #expect(try glassbox(arguments + ["--expected-version", "none"]).status == 0)
        let second = try glassbox(arguments + ["--expected-version", "none"])
        expectOneLineError(second, status: 3, mentioning: ["stream 'run/r' is at version 1", "retry"])
    }
}
