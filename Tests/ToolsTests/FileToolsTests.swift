import Foundation
import GlassboxTesting
import Security
import Testing
@testable import Tools

/// A workspace in a fresh temporary folder, with a sibling folder outside it holding a secret.
struct WorkspaceFixture {
    let directory: TemporaryDirectory
    let root: String
    let outside: String

    init(maxFileBytes: Int = 1 << 20) throws {
        directory = try TemporaryDirectory(prefix: "glassbox-ws")
        let base = realPath(directory.url.path)!
        root = base + "/workspace"
        outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "top secret".write(toFile: outside + "/secret.txt", atomically: true, encoding: .utf8)
        workspace = Workspace(root: root, maxFileBytes: maxFileBytes)
    }

    let workspace: Workspace
    var environment: ToolEnvironment { ToolEnvironment(workspace: workspace) }

    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func link(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root + "/" + path, withDestinationPath: target)
    }

    func contents(_ path: String) -> String? { try? String(contentsOfFile: root + "/" + path, encoding: .utf8) }

    func remove() { directory.remove() }
}

let blockedSequence = ["tool.requested", "tool.authorized", "guardrail.blocked", "tool.denied"]
let completedSequence = ["tool.requested", "tool.authorized", "tool.started", "tool.completed"]
let failedSequence = ["tool.requested", "tool.authorized", "tool.started", "tool.failed"]

// MARK: - Path confinement, without the guard

extension FileToolsTests {
    @Suite struct Confinement {
        @Test func normalPathsResolveInsideTheRoot() throws {
            let fx = try WorkspaceFixture()
            defer { fx.remove() }
            try fx.write("models/orders.sql", "select 1")
            let path = try #require(try fx.workspace.confine("./models//orders.sql", for: .read).path)
            #expect(path.requested == "models/orders.sql")
            #expect(path.resolved == "models/orders.sql")
            #expect(path.resource == "workspace:models/orders.sql")
            #expect(path.exists)
            let new = try #require(try fx.workspace.confine("reports/2025/q1.md", for: .write).path)
            #expect(new.resolved == "reports/2025/q1.md")
            #expect(!new.exists)
            #expect(try fx.workspace.confine("", for: .read).path?.resource == "workspace:.")
            #expect(try fx.workspace.confine(".", for: .read).path?.isRoot == true)
        }

        @Test(arguments: ["/etc/passwd", "../outside/secret.txt", "models/../../x", "a/../b", "~/notes", "a\0b"])
        func escapesByNameAreRefused(path: String) throws {
            let fx = try WorkspaceFixture()
            defer { fx.remove() }
            #expect(try fx.workspace.confine(path, for: .read).violation?.guardrail == "file.outside_workspace")
        }

        @Test func symbolicLinksMustStayInside() throws {
            let fx = try WorkspaceFixture()
            defer { fx.remove() }
            try fx.write("data/real.csv", "a,b")
            try fx.link("inside-link.csv", to: "data/real.csv")
            try fx.link("escape", to: fx.outside)
            try fx.link("escape-file", to: fx.outside + "/secret.txt")
            try fx.link("dangling", to: fx.outside + "/not-there-yet")
            try fx.link("relative-escape", to: "../outside")

            let inside = try #require(try fx.workspace.confine("inside-link.csv", for: .read).path)
            #expect(inside.resolved == "data/real.csv")
            #expect(inside.resource == "workspace:data/real.csv")
            for path in ["escape/secret.txt", "escape-file", "escape/new.txt", "relative-escape/secret.txt", "dangling"] {
                #expect(try fx.workspace.confine(path, for: .write).violation?.guardrail == "file.symlink_escape", "\(path)")
            }
        }

        @Test func theGitFolderCannotBeWritten() throws {
            let fx = try WorkspaceFixture()
            defer { fx.remove() }
            try fx.write(".git/config", "[core]")
            try fx.link("cfg", to: ".git")
            #expect(try fx.workspace.confine(".git/config", for: .write).violation?.guardrail == "file.git_directory")
            #expect(try fx.workspace.confine("cfg/hooks/pre-commit", for: .write).violation?.guardrail == "file.git_directory")
            #expect(try fx.workspace.confine(".git/config", for: .read).violation == nil)
            #expect(try fx.workspace.confine(".gitignore", for: .write).violation == nil)
        }

        @Test func aLinkPlantedAfterTheCheckIsNotFollowed() throws {
            let fx = try WorkspaceFixture()
            defer { fx.remove() }
            try fx.write("data/report.txt", "fine")
            let checked = try #require(try fx.workspace.confine("data/report.txt", for: .read).path)
            // Between the check and the open, the folder is swapped for a link to the outside.
            try FileManager.default.removeItem(atPath: fx.root + "/data")
            try fx.link("data", to: fx.outside)
            try FileManager.default.copyItem(atPath: fx.outside + "/secret.txt", toPath: fx.outside + "/report.txt")
            let error = #expect(throws: ToolError.self) { try WorkspaceFiles.read(checked, maxBytes: 100) }
            #expect(error?.kind == "refused")
            let write = #expect(throws: ToolError.self) {
                try WorkspaceFiles.write(checked, data: Data("x".utf8), mode: .overwrite, maxFileBytes: 100)
            }
            #expect(write?.kind == "refused")
            #expect(try String(contentsOfFile: fx.outside + "/report.txt", encoding: .utf8) == "top secret")
        }

        @Test func textIsDecodedAndCutCharactersAreDropped() {
            #expect(TextBody.utf8(Data("héllo".utf8), mayBeCut: false) == "héllo")
            let cut = Data("hé".utf8).dropLast()
            #expect(TextBody.utf8(cut, mayBeCut: false) == nil)
            #expect(TextBody.utf8(cut, mayBeCut: true) == "h")
            #expect(TextBody.utf8(Data([0x41, 0x00, 0x42]), mayBeCut: false) == nil)
        }
    }
}

// MARK: - file.read, file.write, file.list through the guard

@Suite struct FileToolsTests {
    @Test func writeThenReadBack() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let h = try await makeHarness(policy: allowAllPolicy, environment: fx.environment)
        defer { h.remove() }

        let write = await h.call("file.write", ["path": "reports/2025/summary.md", "content": "# Summary\nrevenue up ✓\n"], as: "user:alice")
        #expect(write.status == .completed, "\(write.message ?? "")")
        #expect(write.output?["created"] == true)
        #expect(write.output?["path"] == "reports/2025/summary.md")
        #expect(try await h.eventTypes(of: write.callID) == completedSequence)
        #expect(fx.contents("reports/2025/summary.md") == "# Summary\nrevenue up ✓\n")

        let read = await h.call("file.read", ["path": "reports/2025/summary.md"], as: "user:alice")
        #expect(read.status == .completed)
        #expect(read.output?["content"] == "# Summary\nrevenue up ✓\n")
        #expect(read.output?["encoding"] == "utf-8")
        #expect(read.output?["truncated"] == false)
        #expect(try await h.eventTypes(of: read.callID) == completedSequence)
    }

    @Test func writeModes() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        let h = try await makeHarness(policy: allowAllPolicy, environment: fx.environment)
        defer { h.remove() }
        _ = await h.call("file.write", ["path": "log.txt", "content": "one\n"], as: "user:alice")

        let again = await h.call("file.write", ["path": "log.txt", "content": "two\n"], as: "user:alice")
        #expect(again.status == .failed)
        #expect(again.errorType == "refused")
        #expect(again.message?.contains("overwrite") == true)
        #expect(fx.contents("log.txt") == "one\n")

        let append = await h.call("file.write", ["path": "log.txt", "content": "two\n", "mode": "append"], as: "user:alice")
        #expect(append.output?["size"] == 8)
        #expect(fx.contents("log.txt") == "one\ntwo\n")

        let overwrite = await h.call("file.write", ["path": "log.txt", "content": "three\n", "mode": "overwrite"], as: "user:alice")
        #expect(overwrite.output?["created"] == false)
        #expect(fx.contents("log.txt") == "three\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fx.root).filter { $0.contains("glassbox-") }
        #expect(leftovers.isEmpty)

        let binary = await h.call("file.write", ["path": "blob.bin", "content": .string(Data([0, 1, 2, 255]).base64EncodedString()), "encoding": "base64"], as: "user:alice")
        #expect(binary.status == .completed)
        let readBinary = await h.call("file.read", ["path": "blob.bin"], as: "user:alice")
        #expect(readBinary.output?["encoding"] == "base64")
        #expect(readBinary.output?["content"] == .string(Data([0, 1, 2, 255]).base64EncodedString()))
    }

    @Test func sizeLimits() async throws {
        let fx = try WorkspaceFixture(maxFileBytes: 16)
        defer { fx.remove() }
        try fx.write("long.txt", "0123456789abcdefghijklmnop")
        let h = try await makeHarness(policy: allowAllPolicy, environment: fx.environment)
        defer { h.remove() }

        let tooLarge = await h.call("file.write", ["path": "big.txt", "content": "01234567890123456789"], as: "user:alice")
        #expect(tooLarge.stage == "guardrail")
        #expect(tooLarge.rule == "file.too_large")
        #expect(try await h.eventTypes(of: tooLarge.callID) == blockedSequence)
        #expect(!FileManager.default.fileExists(atPath: fx.root + "/big.txt"))

        let read = await h.call("file.read", ["path": "long.txt"], as: "user:alice")
        #expect(read.output?["content"] == "0123456789abcdef")
        #expect(read.output?["truncated"] == true)
        #expect(read.output?["size"] == 26)
        let fewer = await h.call("file.read", ["path": "long.txt", "max_bytes": 4], as: "user:alice")
        #expect(fewer.output?["content"] == "0123")
    }

    @Test func confinementViolationsAreGuardrailBlocks() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        try fx.link("escape", to: fx.outside)
        try fx.link("secret-link.txt", to: fx.outside + "/secret.txt")
        let h = try await makeHarness(policy: allowAllPolicy, environment: fx.environment)
        defer { h.remove() }

        let cases: [(String, JSONValue, String)] = [
            ("file.read", ["path": "escape/secret.txt"], "file.symlink_escape"),
            ("file.read", ["path": "secret-link.txt"], "file.symlink_escape"),
            ("file.write", ["path": "escape/planted.txt", "content": "x"], "file.symlink_escape"),
            ("file.write", ["path": "secret-link.txt", "content": "x", "mode": "overwrite"], "file.symlink_escape"),
            ("file.read", ["path": "/etc/passwd"], "file.outside_workspace"),
            ("file.read", ["path": "../outside/secret.txt"], "file.outside_workspace"),
            ("file.write", ["path": "notes/../../outside/x.txt", "content": "x"], "file.outside_workspace"),
            ("file.list", ["path": "escape"], "file.symlink_escape"),
            ("file.write", ["path": ".git/hooks/post-commit", "content": "#!/bin/sh"], "file.git_directory"),
        ]
        for (tool, input, guardrail) in cases {
            let result = await h.call(tool, input, as: "user:alice")
            #expect(result.status == .denied, "\(tool) \(input)")
            #expect(result.rule == guardrail, "\(tool) \(input)")
            #expect(try await h.eventTypes(of: result.callID) == blockedSequence)
        }
        #expect(!FileManager.default.fileExists(atPath: fx.outside + "/planted.txt"))
        #expect(try String(contentsOfFile: fx.outside + "/secret.txt", encoding: .utf8) == "top secret")
    }

    @Test func rightsAreCheckedOnTheRealPath() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        try fx.write("public/readme.md", "hello")
        try fx.write("private/salaries.csv", "alice,1")
        try fx.link("public/salaries.csv", to: "../private/salaries.csv")
        let policy = """
            version: 1
            roles:
              reader: {grants: [{action: "file:read", resource: "workspace:public/*"}]}
            principals:
              user:bob: {roles: [reader]}
            """
        let h = try await makeHarness(policy: policy, environment: fx.environment)
        defer { h.remove() }
        #expect(await h.call("file.read", ["path": "public/readme.md"], as: "user:bob").status == .completed)
        let viaLink = await h.call("file.read", ["path": "public/salaries.csv"], as: "user:bob")
        #expect(viaLink.status == .denied)
        #expect(viaLink.stage == "authorization")
        #expect(try await h.eventTypes(of: viaLink.callID) == ["tool.requested", "tool.denied"])
        let write = await h.call("file.write", ["path": "public/new.md", "content": "x"], as: "user:bob")
        #expect(write.stage == "authorization")
    }

    @Test func listing() async throws {
        let fx = try WorkspaceFixture()
        defer { fx.remove() }
        try fx.write("models/orders.sql", "select 1")
        try fx.write("models/customers.sql", "select 2")
        try fx.write("models/schema.yml", "version: 2")
        try fx.write("README.md", "readme")
        try fx.write(".git/HEAD", "ref: refs/heads/main")
        try fx.link("link-to-models", to: "models")
        let h = try await makeHarness(policy: allowAllPolicy, environment: fx.environment)
        defer { h.remove() }

        let top = await h.call("file.list", [:], as: "user:alice")
        #expect(top.status == .completed, "\(top.message ?? "")")
        let entries = try #require(top.output?["entries"]?.array)
        #expect(entries.map { $0["path"]?.string ?? "" } == [".git", "README.md", "link-to-models", "models"])
        #expect(entries[1]["kind"] == "file")
        #expect(entries[1]["size"] == 6)
        #expect(entries[2]["kind"] == "symlink")
        #expect(entries[3]["kind"] == "directory")

        let sql = await h.call("file.list", ["glob": "*.sql", "recursive": true], as: "user:alice")
        #expect(sql.output?["entries"]?.array?.map { $0["path"]?.string ?? "" } == ["models/customers.sql", "models/orders.sql"])
        #expect(sql.output?["truncated"] == false)

        let models = await h.call("file.list", ["path": "models", "limit": 2], as: "user:alice")
        #expect(models.output?["entries"]?.array?.count == 2)
        #expect(models.output?["truncated"] == true)
        #expect(models.output?["entries"]?.array?.first?["path"] == "models/customers.sql")

        let everything = await h.call("file.list", ["recursive": true], as: "user:alice")
        let paths = everything.output?["entries"]?.array?.compactMap { $0["path"]?.string } ?? []
        #expect(!paths.contains(".git/HEAD"))
        #expect(!paths.contains("link-to-models/orders.sql"))

        let missing = await h.call("file.list", ["path": "nope"], as: "user:alice")
        #expect(missing.status == .failed)
        #expect(missing.errorType == "not_found")
    }

    @Test func withoutAWorkspaceTheToolsSayHowToConfigureOne() async throws {
        let h = try await makeHarness(policy: allowAllPolicy, environment: ToolEnvironment())
        defer { h.remove() }
        let result = await h.call("file.read", ["path": "x.txt"], as: "user:alice")
        #expect(result.status == .denied)
        #expect(result.message?.contains("workspace") == true)
    }
}
