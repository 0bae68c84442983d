import EventLog
import Foundation
import GlassboxTesting
import Testing

@Suite struct CrashSafetyTests {
    /// A child appends in a loop and is killed with SIGKILL at random moments. Every
    /// event it acknowledged before the kill must be in the log; seq has no gap; the chain holds.
    @Test func everyAcknowledgedAppendSurvivesSIGKILL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        var acknowledged: Set<String> = []
        var generator = SystemRandomNumberGenerator()
        let kills = 24
        for round in 0..<kills {
            let input = directory.path("input-\(round).ndjson")
            let lines = thoughtLines(count: 20_000, stream: "run/crash-\(round)", prefix: "round \(round)")
            try Data(lines.text.utf8).write(to: URL(fileURLWithPath: input))

            let process = Process()
            process.executableURL = URL(fileURLWithPath: glassboxBinary)
            // Batches of varying size, so kills land inside multi-event transactions too.
            process.arguments = ["log", "append", "--stdin", "--db", path, "--batch", String(1 + round % 5 * 7)]
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The kill is timed on Dispatch, not on a Swift task: other tests block the cooperative
            // threads in synchronous waits, and one of them may wait on a pipe this child inherited,
            // so a task-timed kill could wait for a thread that only this kill would free.
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int.random(in: 120...450, using: &generator))) {
                kill(pid, SIGKILL)
            }
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): the child ended before it was killed")

            // Only whole lines are acknowledgements; a line cut by the kill is not counted.
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                acknowledged.insert(try #require(object?["id"] as? String))
            }
        }
        #expect(acknowledged.count > kills * 10, "too few appends were acknowledged to make this test meaningful")

        let log = try SQLiteEventLog(path: path)
        let last = try await log.lastSeq()
        let events = try await log.events(EventQuery(limit: Int(last)))
        let present = Set(events.map { $0.id.uuidString.lowercased() })
        let seqs = events.map(\.seq)
        #expect(acknowledged.isSubset(of: present), "\(acknowledged.subtracting(present).count) acknowledged events are missing")
        #expect(seqs == Array(1...last))
        let report = try await log.verify()
        #expect(report.isIntact, "\(String(describing: report.chainBreak)) \(report.storageProblems)")
        #expect(report.eventsChecked == last)
    }
}
