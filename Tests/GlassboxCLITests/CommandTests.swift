import Foundation
import GlassboxTesting
import Testing

@Suite struct CommandTests {
    @Test func helpDocumentsTheExitCodes() throws {
        let help = try glassbox(["--help"])
        #expect(help.status == 0)
        for code in ["0   success", "1   verify", "2   invalid input", "3   conflict", "4   the log cannot be used", "64  command-line usage"] {
            #expect(help.stdout.contains(code), "missing '\(code)'")
        }
        #expect(try glassbox(["log", "tail", "--no-such-flag"]).status == 64)
    }

    @Test func theDemoRunCanBeReadBackEveryWay() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        let demo = try glassbox(["demo"], environment: ["GLASSBOX_DB": path])
        #expect(demo.status == 0)
        #expect(demo.stdout.contains("16 events, seq 1–16"))

        let tail = try glassbox(["log", "tail", "--db", path])
        let lines = tail.stdout.split(separator: "\n")
        #expect(lines.count == 16)
        #expect(lines.first?.contains("run.started") == true && lines.last?.contains("run.completed") == true)

        let json = try glassbox(["log", "tail", "--json", "--type", "tool.*", "--db", path])
        let events = try json.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(events.map { $0["type"] as? String } == ["tool.requested", "tool.authorized", "tool.started", "tool.completed", "tool.requested", "tool.denied"])
        #expect((events[5]["data"] as? [String: Any])?["rule"] as? String == "deny-by-default")
        #expect((events[0]["hash"] as? String)?.count == 64)

        let runs = try glassbox(["projections", "show", "runs", "--json", "--db", path])
        let run = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [String: Any])
        #expect(run["status"] as? String == "completed")
        #expect(run["toolCallsDenied"] as? Int == 1)
        #expect(run["inputTokens"] as? Int == 812 + 1_204 + 1_377)

        let earlier = try glassbox(["projections", "show", "runs", "--json", "--as-of", "8", "--db", path])
        let then = try #require(try JSONSerialization.jsonObject(with: Data(earlier.stdout.utf8)) as? [String: Any])
        #expect(then["status"] as? String == "running")

        let rebuild = try glassbox(["projections", "rebuild", "--db", path])
        #expect(rebuild.status == 0)
        #expect(rebuild.stdout.contains("runs: folded 16 events into 1 rows"))

        let csv = try glassbox(["audit", "SELECT type, COUNT(*) AS n FROM events GROUP BY type ORDER BY type", "--csv", "--db", path])
        #expect(csv.stdout.hasPrefix("type,n\nagent.thought,2\n"))
        let audit = try glassbox(["audit", "SELECT seq, data ->> '$.reason' AS reason FROM events WHERE type = 'tool.denied'", "--json", "--db", path])
        #expect(audit.stdout.contains(#""reason":"no grant of user:demo allows sql:read on warehouse.hr.*""#))
    }

    @Test func appendingTheSameIDTwiceAppendsOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        let arguments = ["log", "append", "--db", path, "--stream", "run/r", "--type", "agent.thought",
                         "--data", #"{"text":"retry me"}"#, "--id", "0190f3a2-7c4e-7d1a-8b2c-3d4e5f607182", "--json"]
        let first = try glassbox(arguments)
        let second = try glassbox(arguments)
        #expect(first.stdout.contains(#""seq":1"#) && first.stdout.contains(#""deduplicated":false"#))
        #expect(second.stdout.contains(#""seq":1"#) && second.stdout.contains(#""deduplicated":true"#))
        #expect(try glassbox(["log", "tail", "--db", path]).stdout.split(separator: "\n").count == 1)
    }

    @Test func stdinAppendsStopAtABadLineAndKeepWhatCameBefore() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        let input = thoughtLines(count: 3, stream: "run/s").text + "{\"stream\":\"run/s\",\"type\":\"agent.thought\",\"data\":{\"text\":1}}\n"
        let result = try glassbox(["log", "append", "--stdin", "--db", path], stdin: input)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 4:"))
        #expect(result.stdout.split(separator: "\n").count == 3)
        #expect(try glassbox(["log", "tail", "--db", path]).stdout.split(separator: "\n").count == 3)
    }

    @Test func typesListsEveryCoreEventType() throws {
        let types = try glassbox(["log", "types"])
        for type in ["run.started", "llm.responded", "agent.thought", "tool.denied", "guardrail.blocked", "approval.requested",
                     "mission.started", "step.retry_scheduled", "worker.exited", "api.called", "auth.failed", "policy.loaded", "audit.queried"] {
            #expect(types.stdout.contains(type))
        }
        let fields = try glassbox(["log", "types", "llm.responded"])
        #expect(fields.stdout.contains("inputTokens") && fields.stdout.contains("uint32"))
    }
}
