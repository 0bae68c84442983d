import EventLog
import Foundation
import GlassboxTesting
import Testing

@Suite struct MultiProcessTests {
    @Test func twoProcessesAppendingTenThousandEventsEachLeaveNoGap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        var processes: [(Process, Pipe)] = []
        for name in ["a", "b"] {
            let input = directory.path("\(name).ndjson")
            try Data(thoughtLines(count: 10_000, stream: "run/process-\(name)").text.utf8).write(to: URL(fileURLWithPath: input))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: glassboxBinary)
            process.arguments = ["log", "append", "--stdin", "--db", path, "--batch", "10", "--durability", "normal"]
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
            process.standardOutput = FileHandle.nullDevice
            let errors = Pipe()
            process.standardError = errors
            processes.append((process, errors))
        }
        for (process, _) in processes { try process.run() }
        for (process, errors) in processes {
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(message)")
        }
        let log = try SQLiteEventLog(path: path)
        let events = try await log.events(EventQuery(limit: 100_000))
        #expect(events.count == 20_000)
        #expect(events.map(\.seq) == Array(1...20_000))
        #expect(events.filter { $0.stream == "run/process-a" }.map(\.streamVersion) == Array(1...10_000))
        // The two writers really ran at the same time: their events interleave.
        let switches = zip(events, events.dropFirst()).filter { $0.stream != $1.stream }.count
        #expect(switches > 1, "the processes did not overlap; the test proved less than it should")
        let report = try await log.verify()
        #expect(report.isIntact)
        #expect(report.eventsChecked == 20_000)
    }

    @Test func tailFollowShowsEventsAppendedByAnotherProcess() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("glassbox.db")
        try glassbox(["demo", "--db", path])
        let tail = Process()
        tail.executableURL = URL(fileURLWithPath: glassboxBinary)
        tail.arguments = ["log", "tail", "--follow", "--json", "--type", "agent.thought", "--db", path]
        let output = Pipe()
        tail.standardOutput = output
        tail.standardError = FileHandle.nullDevice
        try tail.run()
        defer { if tail.isRunning { tail.terminate() } }
        try await Task.sleep(for: .milliseconds(300))
        let appended = try glassbox(["log", "append", "--db", path, "--stream", "run/live", "--type", "agent.thought",
                                     "--data", #"{"text":"appended by another process"}"#])
        #expect(appended.status == 0)

        // Read until the new event shows up; give up after a generous 10 s by stopping tail.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(10))
            tail.terminate()
        }
        defer { watchdog.cancel() }
        let reader = output.fileHandleForReading
        var text = ""
        while !text.contains("appended by another process") {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(text.contains("appended by another process"))
        #expect(text.split(separator: "\n").count == 3, "two thoughts of the demo, then the live one: \(text)")
    }
}
