import Foundation
import Security

/// What the git tools share: the workspace's repository, and path checks.
///
/// The workspace root must itself be a git repository: the tools never create one (an error says to run
/// `git init`) and never use a repository in a parent folder.
enum GitWorkspace {
    static func runner(_ environment: ToolEnvironment) throws(ToolError) -> GitRunner {
        GitRunner(root: try environment.requireWorkspace().realRoot())
    }

    /// Checks every path like the file tools do; the first refusal wins.
    static func confine(_ paths: [String], in environment: ToolEnvironment) throws(ToolError) -> (paths: [WorkspacePath], violation: GuardrailViolation?) {
        let workspace = try environment.requireWorkspace()
        var checked: [WorkspacePath] = []
        for path in paths {
            switch try workspace.confine(path, for: .read) {
            case .inside(let inside): checked.append(inside)
            case .refused(let violation, _): return ([], violation)
            }
        }
        return (checked, nil)
    }

    static func paths(_ input: JSONValue) -> [String] { input["paths"]?.array?.compactMap(\.string) ?? [] }

    /// NUL-separated fields of `-z` output.
    static func fields(_ data: Data) -> [String] {
        data.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// `git.status`: the branch and every changed, staged or untracked file of the workspace repository.
struct GitStatusTool: Tool {
    let name = "git.status"
    let description = "Shows the workspace repository's branch and each changed, staged or untracked file (index and worktree status letters as in `git status --porcelain`)."
    let inputSchema = try! JSONSchema(["type": "object", "properties": [:], "additionalProperties": false])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        _ = try call.environment.requireWorkspace()
        return ToolPlan(permissions: [Permission("git:read", on: "workspace")], risk: .read)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let git = try GitWorkspace.runner(context.environment)
        try await git.requireRepository()
        let result = try await git.run(["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"])
        guard result.status == 0 else { throw git.failure(result, doing: "read the status") }
        let status = GitStatus(parsing: result.output)
        var output: [String: JSONValue] = [
            "clean": .bool(status.entries.isEmpty),
            "entries": .array(status.entries.prefix(1000).map(\.json)),
            "truncated": .bool(status.entries.count > 1000 || result.outputTruncated),
        ]
        output["branch"] = status.branch.map(JSONValue.string) ?? .null
        output["head"] = status.head.map(JSONValue.string) ?? .null
        return ToolOutput(.object(output), rows: min(status.entries.count, 1000))
    }
}

/// `git status --porcelain=v2 --branch -z`, parsed.
struct GitStatus: Equatable {
    struct Entry: Equatable {
        var path: String
        /// `changed`, `renamed`, `unmerged` or `untracked`.
        var kind: String
        /// Status letters (`M`, `A`, `D`, `R`, `?`, `.` for unchanged).
        var index: String
        var worktree: String
        var originalPath: String?

        var json: JSONValue {
            var object: [String: JSONValue] = ["path": .string(path), "kind": .string(kind), "index": .string(index), "worktree": .string(worktree)]
            if let originalPath { object["original_path"] = .string(originalPath) }
            return .object(object)
        }
    }

    var branch: String?
    /// The commit checked out; nil before the first commit.
    var head: String?
    var entries: [Entry] = []

    init(parsing output: Data) {
        var records = GitWorkspace.fields(output)[...]
        while let record = records.popFirst() {
            let letters = { (xy: Substring) in (String(xy.prefix(1)), String(xy.dropFirst().prefix(1))) }
            if record.hasPrefix("# branch.oid ") {
                let oid = String(record.dropFirst("# branch.oid ".count))
                head = oid == "(initial)" ? nil : oid
            } else if record.hasPrefix("# branch.head ") {
                let name = String(record.dropFirst("# branch.head ".count))
                branch = name == "(detached)" ? nil : name
            } else if record.hasPrefix("1 ") {
                let parts = record.split(separator: " ", maxSplits: 8, omittingEmptySubsequences: false)
                guard parts.count == 9 else { continue }
                let (x, y) = letters(parts[1])
                entries.append(Entry(path: String(parts[8]), kind: "changed", index: x, worktree: y))
            } else if record.hasPrefix("2 ") {
                let parts = record.split(separator: " ", maxSplits: 9, omittingEmptySubsequences: false)
                let original = records.popFirst()
                guard parts.count == 10 else { continue }
                let (x, y) = letters(parts[1])
                entries.append(Entry(path: String(parts[9]), kind: "renamed", index: x, worktree: y, originalPath: original))
            } else if record.hasPrefix("u ") {
                let parts = record.split(separator: " ", maxSplits: 10, omittingEmptySubsequences: false)
                guard parts.count == 11 else { continue }
                let (x, y) = letters(parts[1])
                entries.append(Entry(path: String(parts[10]), kind: "unmerged", index: x, worktree: y))
            } else if record.hasPrefix("? ") {
                entries.append(Entry(path: String(record.dropFirst(2)), kind: "untracked", index: "?", worktree: "?"))
            }
        }
    }
}

/// `git.diff`: the unstaged (or, with `staged`, the staged) changes of the workspace repository.
struct GitDiffTool: Tool {
    let name = "git.diff"
    let description = "Shows the workspace repository's changes as a unified diff: unstaged changes, or staged ones with `staged: true`; optionally only for some paths. Long diffs are cut (`truncated: true`)."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "paths": ["type": "array", "items": ["type": "string", "minLength": 1], "maxItems": 100, "description": "Paths relative to the workspace root."],
            "staged": ["type": "boolean", "default": false, "description": "Show what is staged for the next commit instead."],
        ],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let checked = try GitWorkspace.confine(GitWorkspace.paths(input), in: call.environment)
        return ToolPlan(permissions: [Permission("git:read", on: "workspace")], risk: .read, violation: checked.violation)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let git = try GitWorkspace.runner(context.environment)
        try await git.requireRepository()
        let checked = try GitWorkspace.confine(GitWorkspace.paths(input), in: context.environment)
        if let violation = checked.violation { throw ToolError("refused", violation.reason) }
        let staged = input["staged"]?.bool ?? false
        let options = ["--no-color", "--no-ext-diff", "--no-textconv"] + (staged ? ["--cached"] : [])
        let pathspec = checked.paths.isEmpty ? [] : ["--"] + checked.paths.map(\.resolved)
        let names = try await git.run(["diff", "--name-only", "-z"] + options + pathspec)
        guard names.status == 0 else { throw git.failure(names, doing: "list the changed files") }
        let cap = min(context.environment.limits.maxOutputBytes, 256 << 10)
        let diff = try await git.run(["diff"] + options + pathspec, maxOutput: cap)
        guard diff.status == 0 else { throw git.failure(diff, doing: "compute the diff") }
        let text = TextBody.utf8(diff.output, mayBeCut: diff.outputTruncated) ?? String(decoding: diff.output, as: UTF8.self)
        return ToolOutput([
            "staged": .bool(staged),
            "files": .array(GitWorkspace.fields(names.output).map(JSONValue.string)),
            "diff": .string(text),
            "truncated": .bool(diff.outputTruncated),
        ])
    }
}

/// `git.commit`: stages and commits changes of the workspace repository, recording who asked.
///
/// The message gets trailers `On-behalf-of: <caller>` and, when an agent calls, `Agent: <agent>`; a
/// message that writes those trailers itself is refused. The author is the repository's configured
/// `user.name`/`user.email`, else `Glassbox <glassbox@localhost>` (user and system configuration are ignored).
struct GitCommitTool: Tool {
    let name = "git.commit"
    let description = "Commits changes in the workspace repository: the given paths (staging them first, new and deleted files included) or, without paths, every change. Returns the commit hash."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "message": ["type": "string", "minLength": 1, "maxLength": 10000, "description": "The commit message: a summary line, then details."],
            "paths": ["type": "array", "items": ["type": "string", "minLength": 1], "minItems": 1, "maxItems": 500, "description": "Paths relative to the workspace root; omit to commit every change."],
        ],
        "required": ["message"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.write
    var rateLimit: RateLimit? { RateLimit(capacity: 20, period: .seconds(60)) }

    static let defaultName = "Glassbox"
    static let defaultEmail = "glassbox@localhost"

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        try Self.checkMessage(input["message"]?.string ?? "")
        let checked = try GitWorkspace.confine(GitWorkspace.paths(input), in: call.environment)
        return ToolPlan(permissions: [Permission("git:commit", on: "workspace")], risk: .write, violation: checked.violation)
    }

    /// Refuses messages that are empty or forge the trailers Glassbox adds.
    static func checkMessage(_ message: String) throws(ToolError) {
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalidInput("`message` is empty; say what the commit changes")
        }
        guard !message.contains("\0") else { throw .invalidInput("`message` contains a NUL character; remove it") }
        let forged = message.split(whereSeparator: \.isNewline).contains { line in
            let lower = line.trimmingCharacters(in: .whitespaces).lowercased()
            return lower.hasPrefix("on-behalf-of:") || lower.hasPrefix("agent:")
        }
        if forged {
            throw .invalidInput("`message` has an `On-behalf-of:` or `Agent:` line; remove it, Glassbox adds these trailers itself")
        }
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let message = input["message"]?.string ?? ""
        try Self.checkMessage(message)
        let git = try GitWorkspace.runner(context.environment)
        try await git.requireRepository()
        let checked = try GitWorkspace.confine(GitWorkspace.paths(input), in: context.environment)
        if let violation = checked.violation { throw ToolError("refused", violation.reason) }
        let pathspec = ["--"] + (checked.paths.isEmpty ? ["."] : checked.paths.map(\.resolved))

        let add = try await git.run(["add", "-A"] + pathspec)
        guard add.status == 0 else { throw git.failure(add, doing: "stage the changes") }
        let pending = try await git.run(["diff", "--cached", "--quiet"] + pathspec)
        guard pending.status != 0 else {
            throw ToolError.invalidInput("nothing to commit: \(checked.paths.isEmpty ? "the workspace has no changes" : "the given paths have no changes"); write or change files first")
        }

        var identity: [String] = []
        let name = try await git.run(["config", "--get", "user.name"])
        let email = try await git.run(["config", "--get", "user.email"])
        if name.status != 0 || email.status != 0 {
            identity = ["-c", "user.name=\(Self.defaultName)", "-c", "user.email=\(Self.defaultEmail)"]
        }
        var trailers = ["--trailer", "On-behalf-of: \(Self.oneLine(context.caller.id))"]
        if let agent = context.call.agent { trailers += ["--trailer", "Agent: \(Self.oneLine(agent.id))"] }
        // With paths, `commit -- paths` commits exactly those, leaving anything else staged alone.
        let commitPaths = checked.paths.isEmpty ? [] : pathspec
        let commit = try await git.run(identity + ["commit", "--no-verify", "--message=\(message)"] + trailers + commitPaths)
        guard commit.status == 0 else { throw git.failure(commit, doing: "commit") }

        let head = try await git.run(["rev-parse", "HEAD"])
        let files = try await git.run(["diff-tree", "--root", "--no-commit-id", "--name-only", "-r", "-z", "HEAD"])
        let branch = try await git.run(["symbolic-ref", "--short", "-q", "HEAD"])
        let hash = String(decoding: head.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let branchName = String(decoding: branch.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return ToolOutput([
            "commit": .string(hash),
            "branch": branchName.isEmpty ? .null : .string(branchName),
            "files": .array(GitWorkspace.fields(files.output).map(JSONValue.string)),
        ])
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
