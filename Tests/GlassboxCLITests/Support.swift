import Foundation
import GlassboxTesting

/// The `glassbox` binary built next to the test bundle (or $GLASSBOX_BIN).
let glassboxBinary: String = {
    if let override = ProcessInfo.processInfo.environment["GLASSBOX_BIN"] { return override }
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [bundle.appendingPathComponent("glassbox").path]
    // On some platforms the bundle is a directory two levels deeper.
    candidates.append(bundle.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("glassbox").path)
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `glassbox` with `arguments` and waits for it.
@discardableResult
func glassbox(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: glassboxBinary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env.removeValue(forKey: "GLASSBOX_DB")
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    // Read both pipes to the end before waiting, so a full pipe cannot block the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var errorData = Data()
    group.enter()
    DispatchQueue.global().async {
        errorData = errors.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus,
                         stdout: String(decoding: outputData, as: UTF8.self),
                         stderr: String(decoding: errorData, as: UTF8.self))
}

/// Runs the sqlite3 command-line tool on `path`, as someone with access to the file would.
@discardableResult
func sqlite3(_ path: String, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [path, sql]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ToolFailure(message: "sqlite3: \(errorText)") }
    return String(decoding: data, as: UTF8.self)
}

struct ToolFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Lines for `glassbox log append --stdin`: one thought per line, each with a fresh id.
func thoughtLines(count: Int, stream: String, prefix: String = "thought") -> (text: String, ids: [String]) {
    var ids: [String] = []
    var lines: [String] = []
    for index in 0..<count {
        let id = UUID().uuidString.lowercased()
        ids.append(id)
        lines.append(#"{"stream":"\#(stream)","type":"agent.thought","id":"\#(id)","actor":"agent:test@user:ci","data":{"text":"\#(prefix) \#(index)"}}"#)
    }
    return (lines.joined(separator: "\n") + "\n", ids)
}

/// The contents of a file and its WAL, to show that a refused command changed nothing.
/// An empty WAL (which SQLite creates when a reader opens the file) holds nothing and counts as none.
func snapshot(_ path: String) -> [Data?] {
    [path, path + "-wal"].map { FileManager.default.contents(atPath: $0).flatMap { $0.isEmpty ? nil : $0 } }
}
