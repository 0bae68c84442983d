import Foundation

/// Runs `/usr/bin/git` in the workspace: a fixed argv (no shell), a clean environment that ignores
/// system and user configuration, never prompts, never runs hooks, and never looks for a repository
/// above the workspace root (so a workspace inside another repository cannot commit its files).
struct GitRunner: Sendable {
    static let executable = "/usr/bin/git"
    /// The real path of the workspace root.
    let root: String
    var timeout: Duration = .seconds(60)

    struct Result: Sendable {
        var status: Int32
        var output: Data
        var outputTruncated: Bool
        var errorText: String
    }

    /// Options placed before every subcommand: no hooks, no fsmonitor helper, no pager.
    var globalOptions: [String] {
        ["-C", root, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.pager=cat",
         "-c", "commit.gpgSign=false", "-c", "core.quotePath=false", "--literal-pathspecs"]
    }

    var environment: [String: String] {
        [
            "PATH": "/usr/bin:/bin",
            "LANG": "C",
            "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_OPTIONAL_LOCKS": "0",
            // Stop the upward search for a repository at the workspace root.
            "GIT_CEILING_DIRECTORIES": (root as NSString).deletingLastPathComponent,
        ]
    }

    /// Runs git with `arguments`; stdout is kept up to `maxOutput` bytes (the rest is read and dropped).
    func run(_ arguments: [String], maxOutput: Int = 4 << 20) async throws(ToolError) -> Result {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw .configuration("git is not installed at \(Self.executable); install git to use the git tools")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = globalOptions + arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ToolError("io_error", "could not start git: \(error.localizedDescription)")
        }
        let running = RunningProcess(process: process)
        let timer = Task { [timeout] in
            try await Task.sleep(for: timeout)
            running.terminate()
        }
        defer { timer.cancel() }
        let outputHandle = UncheckedHandle(handle: stdout.fileHandleForReading)
        let errorHandle = UncheckedHandle(handle: stderr.fileHandleForReading)
        let (output, errors) = await withTaskCancellationHandler {
            async let output = DedicatedThread.run(name: "glassbox-git-out") { Self.drain(outputHandle.handle, keep: maxOutput) }
            async let errors = DedicatedThread.run(name: "glassbox-git-err") { Self.drain(errorHandle.handle, keep: 64 << 10) }
            return await (output, errors)
        } onCancel: {
            running.terminate()
        }
        await DedicatedThread.run(name: "glassbox-git-wait") { running.wait() }
        if Task.isCancelled { throw ToolError("cancelled", "the git command was cancelled") }
        if running.wasTerminated {
            throw ToolError("timeout", "git did not finish within \(timeout); try a narrower request (fewer paths)", retryable: true)
        }
        return Result(status: running.status, output: output.data, outputTruncated: output.truncated,
                      errorText: String(decoding: errors.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Reads a pipe to its end, keeping the first `keep` bytes.
    private static func drain(_ handle: FileHandle, keep: Int) -> (data: Data, truncated: Bool) {
        var data = Data()
        var truncated = false
        while let chunk = try? handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
            let room = keep - data.count
            if room > 0 { data.append(chunk.prefix(room)) }
            if chunk.count > room { truncated = true }
        }
        return (data, truncated)
    }

    /// Checks that the workspace root is the top of a git repository.
    func requireRepository() async throws(ToolError) {
        let result = try await run(["rev-parse", "--show-toplevel"])
        let top = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0 else {
            if result.errorText.contains("not a git repository") {
                throw ToolError("not_found", "the workspace `\(root)` is not a git repository; run `git init` in it first (Glassbox does not create repositories, nor use one in a parent folder)")
            }
            throw ToolError("upstream_error", "git could not open the repository in `\(root)`: \(result.errorText)")
        }
        guard realPath(top) == root else {
            throw ToolError("refused", "the workspace `\(root)` is inside the repository `\(top)`, not its root; run `git init` in the workspace")
        }
    }

    /// An error for a git command that failed.
    func failure(_ result: Result, doing what: String) -> ToolError {
        ToolError("upstream_error", "git could not \(what): \(result.errorText.isEmpty ? "exit status \(result.status)" : result.errorText)")
    }
}

/// The child process, shared with the timeout and cancellation handlers.
private final class RunningProcess: @unchecked Sendable {
    // @unchecked: Process is thread-safe for terminate/isRunning; `terminated` is guarded by the lock.
    private let process: Process
    private let lock = NSLock()
    private var terminated = false

    init(process: Process) { self.process = process }

    func terminate() {
        lock.withLock {
            guard process.isRunning else { return }
            terminated = true
            // SIGKILL: the child may have inherited SIGTERM blocked from this process's threads.
            kill(process.processIdentifier, SIGKILL)
        }
    }

    var wasTerminated: Bool { lock.withLock { terminated } }

    func wait() { process.waitUntilExit() }

    var status: Int32 { process.terminationStatus }
}

private struct UncheckedHandle: @unchecked Sendable {
    // @unchecked: each handle is read by exactly one thread.
    let handle: FileHandle
}
