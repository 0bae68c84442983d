import Foundation
import GlassboxTesting
import Testing

/// `glassbox serve` refuses what it cannot use before it listens: one line, exit 2, the log untouched.
@Suite struct ServeCommandTests {
    private func expectRefused(_ result: CommandResult, mentioning words: [String]) {
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.hasPrefix("glassbox: error: "), "\(result.stderr)")
        for word in words { #expect(result.stderr.contains(word), "'\(word)' missing from: \(result.stderr)") }
    }

    @Test func demoRefusesALogWithRealRuns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("real.db")
        let append = try glassbox(["log", "append", "--db", path, "--stream", "run/r1", "--type", "agent.thought",
                                   "--data", #"{"text":"real work"}"#])
        #expect(append.status == 0, "\(append.stderr)")
        let before = snapshot(path)
        expectRefused(try glassbox(["serve", "--db", path, "--demo", "--port", "0"]), mentioning: ["--demo", "--db demo.db"])
        #expect(snapshot(path) == before)
    }

    @Test func badConfigurationNamesFileLineAndKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.path("glassbox.yaml")
        try "port: 8080\nheartbeat_seconds: soon\n".write(toFile: config, atomically: true, encoding: .utf8)
        expectRefused(try glassbox(["serve", "--config", config, "--db", directory.path("x.db")]),
                      mentioning: ["glassbox.yaml:2", "heartbeat_seconds"])
        expectRefused(try glassbox(["serve", "--config", directory.path("missing.yaml")]), mentioning: ["does not exist"])
        expectRefused(try glassbox(["serve", "--db", directory.path("x.db")], environment: ["GLASSBOX_PORT": "99999"]),
                      mentioning: ["$GLASSBOX_PORT", "65535"])
        expectRefused(try glassbox(["serve", "--db", directory.path("x.db"), "--dashboard", directory.path("nowhere")]),
                      mentioning: ["index.html"])
        #expect(!FileManager.default.fileExists(atPath: directory.path("x.db")), "nothing is created before the settings are good")
    }
}
