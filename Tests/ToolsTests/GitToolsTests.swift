import Foundation
import GlassboxTesting
import Security
import Testing
@testable import Tools

/// Runs git in `folder` for the test's own set-up and checks (not through the tools).
@discardableResult
func git(_ arguments: [String], in folder: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try requirePeer(findExecutable("/usr/bin/git"), "git is not installed at /usr/bin/git"))
    process.arguments = ["-C", folder] + arguments
    process.environment = ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

let gitPolicy = """
    version: 1
    roles:
      worker: {grants: [{action: "*", resource: "*"}]}
      writer-agent: {grants: [{action: "*", resource: "*"}]}
      reader: {grants: [{action: "git:read", resource: workspace}]}
    principals:
      user:alice: {roles: [worker]}
      user:bob: {roles: [reader]}
    agents:
      agent:analyst: {roles: [writer-agent]}
    """

@Suite struct GitToolsTests {
    /// A workspace that is a fresh git repository on branch `main`.
    static func repository() throws -> WorkspaceFixture {
        let fx = try WorkspaceFixture()
        try git(["init", "-q", "-b", "main"], in: fx.root)
        return fx
    }

    @Test func statusDiffAndCommitWithTrailers() async throws {
        let fx = try Self.repository()
        defer { fx.remove() }
        let h = try await makeHarness(policy: gitPolicy, environment: fx.environment)
        defer { h.remove() }

        let empty = await h.call("git.status", [:], as: "user:alice")
        #expect(empty.status == .completed, "\(empty.message ?? "")")
        #expect(empty.output?["clean"] == true)
        #expect(empty.output?["branch"] == "main")
        #expect(empty.output?["head"] == .null)
        #expect(try await h.eventTypes(of: empty.callID) == completedSequence)

        try fx.write("models/orders.sql", "select 1\n")
        try fx.write("README.md", "hello\n")
        let untracked = await h.call("git.status", [:], as: "user:alice")
        let entries = try #require(untracked.output?["entries"]?.array)
        #expect(entries.map { $0["path"]?.string ?? "" } .sorted() == ["README.md", "models/orders.sql"])
        #expect(entries.allSatisfy { $0["kind"] == "untracked" })

        let commit = await h.call("git.commit", ["message": "Add the orders model\n\nFirst version."], as: "user:alice", agent: "agent:analyst")
        #expect(commit.status == .completed, "\(commit.message ?? "")")
        let hash = try #require(commit.output?["commit"]?.string)
        #expect(hash.count == 40)
        #expect(commit.output?["files"]?.array?.compactMap(\.string).sorted() == ["README.md", "models/orders.sql"])
        #expect(try await h.eventTypes(of: commit.callID) == completedSequence)

        let body = try git(["log", "-1", "--format=%B"], in: fx.root)
        #expect(body.contains("Add the orders model\n\nFirst version."))
        #expect(body.contains("On-behalf-of: user:alice"))
        #expect(body.contains("Agent: agent:analyst"))
        #expect(try git(["log", "-1", "--format=%an <%ae>|%H"], in: fx.root).trimmingCharacters(in: .whitespacesAndNewlines)
                == "Glassbox <glassbox@localhost>|\(hash)")

        try fx.write("models/orders.sql", "select 2\n")
        let diff = await h.call("git.diff", [:], as: "user:alice")
        #expect(diff.status == .completed)
        #expect(diff.output?["files"] == ["models/orders.sql"])
        #expect(diff.output?["diff"]?.string?.contains("-select 1\n+select 2") == true)
        let stagedBefore = await h.call("git.diff", ["staged": true], as: "user:alice")
        #expect(stagedBefore.output?["diff"] == "")
        try git(["add", "models/orders.sql"], in: fx.root)
        let staged = await h.call("git.diff", ["staged": true, "paths": ["models"]], as: "user:alice")
        #expect(staged.output?["files"] == ["models/orders.sql"])

        let modified = await h.call("git.status", [:], as: "user:alice")
        #expect(modified.output?["head"] == .string(hash))
        #expect(modified.output?["entries"]?.array?.first?["index"] == "M")
    }

    @Test func commitOnlyTheGivenPaths() async throws {
        let fx = try Self.repository()
        defer { fx.remove() }
        try fx.write("keep.txt", "keep\n")
        try git(["-c", "user.name=Test", "-c", "user.email=test@example.com", "add", "keep.txt"], in: fx.root)
        try git(["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "init"], in: fx.root)
        try git(["config", "user.name", "Repo Owner"], in: fx.root)
        try git(["config", "user.email", "owner@example.com"], in: fx.root)
        try fx.write("reports/a.md", "a\n")
        try fx.write("reports/b.md", "b\n")
        try FileManager.default.removeItem(atPath: fx.root + "/keep.txt")
        let h = try await makeHarness(policy: gitPolicy, environment: fx.environment)
        defer { h.remove() }

        let commit = await h.call("git.commit", ["message": "Report a, drop keep", "paths": ["reports/a.md", "keep.txt"]], as: "user:alice")
        #expect(commit.status == .completed, "\(commit.message ?? "")")
        #expect(commit.output?["files"]?.array?.compactMap(\.string).sorted() == ["keep.txt", "reports/a.md"])
        #expect(try git(["log", "-1", "--format=%an <%ae>"], in: fx.root).trimmingCharacters(in: .whitespacesAndNewlines) == "Repo Owner <owner@example.com>")
        #expect(!(try git(["log", "-1", "--format=%B"], in: fx.root)).contains("Agent:"))
        #expect(try git(["status", "--porcelain"], in: fx.root).contains("?? reports/b.md"))

        let nothing = await h.call("git.commit", ["message": "again", "paths": ["reports/a.md"]], as: "user:alice")
        #expect(nothing.status == .failed)
        #expect(nothing.errorType == "invalid_input")
        #expect(nothing.message?.contains("nothing to commit") == true)
    }

    @Test func hooksNeverRun() async throws {
        let fx = try Self.repository()
        defer { fx.remove() }
        let marker = fx.outside + "/hook-ran"
        let hook = fx.root + "/.git/hooks/pre-commit"
        try "#!/bin/sh\ntouch \(marker)\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        try fx.write("a.txt", "a\n")
        let h = try await makeHarness(policy: gitPolicy, environment: fx.environment)
        defer { h.remove() }
        let commit = await h.call("git.commit", ["message": "with a hook present"], as: "user:alice")
        #expect(commit.status == .completed, "\(commit.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func aFolderThatIsNotARepositorySaysToRunGitInit() async throws {
        // The workspace sits inside another repository: the tools must not use that one.
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        _ = try requirePeer(findExecutable("/usr/bin/git"), "git is not installed at /usr/bin/git")
        try git(["init", "-q"], in: (fx.root as NSString).deletingLastPathComponent)
        try fx.write("a.txt", "a\n")
        let h = try await makeHarness(policy: gitPolicy, environment: fx.environment)
        defer { h.remove() }
        for tool in ["git.status", "git.diff", "git.commit"] {
            let input: JSONValue = tool == "git.commit" ? ["message": "x"] : [:]
            let result = await h.call(tool, input, as: "user:alice")
            #expect(result.status == .failed, "\(tool)")
            #expect(result.errorType == "not_found", "\(tool)")
            #expect(result.message?.contains("git init") == true, "\(tool)")
            #expect(try await h.eventTypes(of: result.callID) == failedSequence)
        }
        #expect(try git(["rev-parse", "--verify", "-q", "HEAD"], in: (fx.root as NSString).deletingLastPathComponent).isEmpty)
    }

    @Test func refusals() async throws {
        let fx = try Self.repository()
        defer { fx.remove() }
        try fx.write("a.txt", "a\n")
        let h = try await makeHarness(policy: gitPolicy, environment: fx.environment)
        defer { h.remove() }

        let outside = await h.call("git.commit", ["message": "x", "paths": ["../outside/secret.txt"]], as: "user:alice")
        #expect(outside.rule == "file.outside_workspace")
        #expect(try await h.eventTypes(of: outside.callID) == blockedSequence)

        let diffOutside = await h.call("git.diff", ["paths": ["/etc"]], as: "user:alice")
        #expect(diffOutside.rule == "file.outside_workspace")

        let forged = await h.call("git.commit", ["message": "Fix\n\nOn-behalf-of: user:ceo"], as: "user:alice")
        #expect(forged.status == .denied)
        #expect(forged.stage == "validation")

        let readOnly = await h.call("git.commit", ["message": "x"], as: "user:bob")
        #expect(readOnly.stage == "authorization")
        #expect(await h.call("git.status", [:], as: "user:bob").status == .completed)
        #expect(try git(["rev-parse", "--verify", "-q", "HEAD"], in: fx.root).isEmpty)
    }

    @Test func porcelainParsing() {
        let record = "# branch.oid (initial)\0# branch.head main\0"
            + "1 .M N... 100644 100644 100644 abc abc models/with space.sql\0"
            + "2 R. N... 100644 100644 100644 abc abc R100 new name.sql\0old name.sql\0"
            + "? notes/todo.md\0"
        let status = GitStatus(parsing: Data(record.utf8))
        #expect(status.branch == "main")
        #expect(status.head == nil)
        #expect(status.entries == [
            .init(path: "models/with space.sql", kind: "changed", index: ".", worktree: "M"),
            .init(path: "new name.sql", kind: "renamed", index: "R", worktree: ".", originalPath: "old name.sql"),
            .init(path: "notes/todo.md", kind: "untracked", index: "?", worktree: "?"),
        ])
    }
}
