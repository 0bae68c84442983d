import EventLog
import Foundation
import GlassboxTesting
import Testing

@Suite struct AuditTests {
    private func populatedLog() async throws -> TestLog {
        let test = try TestLog()
        var generator = RunGenerator(seed: 5)
        for _ in 0..<4 {
            let run = try generator.run(steps: 2)
            _ = try await test.log.append(run.drafts, to: run.stream, expectedVersion: .noStream)
        }
        return test
    }

    @Test func selectsRunWithJSONFunctions() async throws {
        let test = try await populatedLog()
        let result = try await AuditQuery(path: test.path).run(
            "SELECT type, COUNT(*) AS n, SUM(data ->> '$.inputTokens') AS tokens FROM events WHERE type = 'llm.responded' GROUP BY type")
        #expect(result.columns == ["type", "n", "tokens"])
        #expect(result.rows.count == 1)
        #expect(result.rows[0][1] == .integer(8))
        guard case .integer(let tokens) = result.rows[0][2] else { Issue.record("tokens not summed"); return }
        #expect(tokens > 8 * 400)
    }

    @Test(arguments: [
        "INSERT INTO events (seq) VALUES (999)",
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "DROP TABLE events",
        "CREATE TABLE x (a)",
        "CREATE TEMP TABLE x AS SELECT * FROM events",
        "ATTACH DATABASE '/tmp/other.db' AS other",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA user_version = 7",
        "SELECT 1; DELETE FROM events",
        "BEGIN IMMEDIATE",
        "VACUUM",
    ])
    func everyWriteIsRefusedAndTheLogStaysTheSame(sql: String) async throws {
        let test = try await populatedLog()
        let before = try await test.log.verify()
        await #expect {
            _ = try await AuditQuery(path: test.path).run(sql)
        } throws: { error in
            guard case EventLogError.auditRefused = error else { return false }
            return true
        }
        let after = try await test.log.verify()
        #expect(after.isIntact)
        #expect(after.headHash == before.headHash)
        #expect(after.lastSeq == before.lastSeq)
    }

    @Test func rowsAreCappedAndLongQueriesStopped() async throws {
        let test = try await populatedLog()
        let capped = try await AuditQuery(path: test.path).run("SELECT seq FROM events ORDER BY seq", maxRows: 5)
        #expect(capped.rows.count == 5)
        #expect(capped.truncated)
        await #expect {
            _ = try await AuditQuery(path: test.path).run(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n",
                timeout: .milliseconds(200))
        } throws: { error in
            guard case EventLogError.auditTimedOut = error else { return false }
            return true
        }
        let introspection = try await AuditQuery(path: test.path).run("PRAGMA table_info(events)")
        #expect(introspection.rows.count == 13)
    }
}
