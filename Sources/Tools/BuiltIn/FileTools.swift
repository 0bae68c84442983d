import Foundation
import Security

/// `file.read`: a file of the workspace, as text or base64, cut at the workspace's size limit.
///
/// Needs `file:read` on `workspace:<path>`, where the path is the real one (symbolic links inside the
/// workspace resolved). Paths outside the workspace are refused by guardrails (`file.outside_workspace`,
/// `file.symlink_escape`).
struct FileReadTool: Tool {
    let name = "file.read"
    let description = "Reads a file of the workspace (path relative to the workspace root). Returns text, or base64 for binary files, cut at a size limit with `truncated: true`."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "path": ["type": "string", "minLength": 1, "description": "Relative to the workspace root, e.g. `models/orders.sql`."],
            "max_bytes": ["type": "integer", "minimum": 1, "description": "Return at most this many bytes (never more than the workspace limit)."],
        ],
        "required": ["path"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read
    var rateLimit: RateLimit? { RateLimit(capacity: 120, period: .seconds(60)) }

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let confined = try call.environment.requireWorkspace().confine(input["path"]?.string ?? "", for: .read)
        return ToolPlan(permissions: [Permission("file:read", on: confined.resource)], risk: .read, violation: confined.violation)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let workspace = try context.environment.requireWorkspace()
        let path = try workspace.confineAgain(input["path"]?.string ?? "", for: .read, authorized: context.plan)
        let limit = min(workspace.maxFileBytes, Int(clamping: input["max_bytes"]?.integer ?? Int64(workspace.maxFileBytes)))
        let (data, size, truncated) = try WorkspaceFiles.read(path, maxBytes: limit)
        var output: [String: JSONValue] = [
            "path": .string(path.resolved), "size": .integer(Int64(size)), "bytes": .integer(Int64(data.count)), "truncated": .bool(truncated),
        ]
        if let text = TextBody.utf8(data, mayBeCut: truncated) {
            output["encoding"] = "utf-8"
            output["content"] = .string(text)
        } else {
            output["encoding"] = "base64"
            output["content"] = .string(data.base64EncodedString())
        }
        return ToolOutput(.object(output))
    }
}

/// `file.write`: creates, replaces or appends to a file of the workspace, making missing folders.
///
/// Needs `file:write` on `workspace:<path>`. Content over the workspace's size limit is refused
/// (`file.too_large`); the `.git` folder cannot be written (`file.git_directory`).
struct FileWriteTool: Tool {
    let name = "file.write"
    let description = "Writes a file in the workspace (path relative to the root), creating missing folders. Mode `create` (default) refuses an existing file; `overwrite` replaces it; `append` adds to it."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "path": ["type": "string", "minLength": 1, "description": "Relative to the workspace root, e.g. `reports/summary.md`."],
            "content": ["type": "string", "description": "The text to write (or base64 with `encoding: base64`)."],
            "mode": ["type": "string", "enum": ["create", "overwrite", "append"], "default": "create"],
            "encoding": ["type": "string", "enum": ["utf-8", "base64"], "default": "utf-8"],
        ],
        "required": ["path", "content"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.write
    var rateLimit: RateLimit? { RateLimit(capacity: 60, period: .seconds(60)) }

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let workspace = try call.environment.requireWorkspace()
        let confined = try workspace.confine(input["path"]?.string ?? "", for: .write)
        let data = try Self.content(input)
        var violation = confined.violation
        if violation == nil, data.count > workspace.maxFileBytes {
            violation = GuardrailViolation(
                guardrail: "file.too_large",
                reason: "the content is \(data.count) bytes, over the workspace limit of \(workspace.maxFileBytes) bytes; write smaller files",
                detail: "\(data.count) bytes")
        }
        return ToolPlan(permissions: [Permission("file:write", on: confined.resource)], risk: .write, violation: violation)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let workspace = try context.environment.requireWorkspace()
        let path = try workspace.confineAgain(input["path"]?.string ?? "", for: .write, authorized: context.plan)
        let mode = WorkspaceFiles.WriteMode(rawValue: input["mode"]?.string ?? "create") ?? .create
        let data = try Self.content(input)
        let (created, size) = try WorkspaceFiles.write(path, data: data, mode: mode, maxFileBytes: workspace.maxFileBytes)
        return ToolOutput([
            "path": .string(path.resolved), "mode": .string(mode.rawValue), "bytes": .integer(Int64(data.count)),
            "size": .integer(Int64(size)), "created": .bool(created),
        ])
    }

    private static func content(_ input: JSONValue) throws(ToolError) -> Data {
        let text = input["content"]?.string ?? ""
        guard input["encoding"]?.string == "base64" else { return Data(text.utf8) }
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
            throw .invalidInput("`content` is not valid base64; send text with `encoding: utf-8` or fix the base64")
        }
        return data
    }
}

/// `file.list`: the entries of a workspace folder, optionally recursive and filtered by a glob.
///
/// Needs `file:read` on `workspace:<folder>` (`workspace:.` for the root). Recursive listings do not
/// descend into symbolic links or `.git`.
struct FileListTool: Tool {
    let name = "file.list"
    let description = "Lists a workspace folder (default the root): each entry's path, kind (file, directory, symlink, other) and size. Optional glob (`*.sql`; with `/` it matches the path below the folder) and recursion."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": [
            "path": ["type": "string", "description": "Folder relative to the workspace root; empty or `.` for the root.", "default": "."],
            "glob": ["type": "string", "minLength": 1, "description": "fnmatch pattern, e.g. `*.sql` or `models/*.yml`."],
            "recursive": ["type": "boolean", "default": false],
            "limit": ["type": "integer", "minimum": 1, "maximum": 5000, "default": 500],
        ],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read
    var rateLimit: RateLimit? { RateLimit(capacity: 120, period: .seconds(60)) }

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        let confined = try call.environment.requireWorkspace().confine(input["path"]?.string ?? "", for: .read)
        return ToolPlan(permissions: [Permission("file:read", on: confined.resource)], risk: .read, violation: confined.violation)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let workspace = try context.environment.requireWorkspace()
        let folder = try workspace.confineAgain(input["path"]?.string ?? "", for: .read, authorized: context.plan)
        let limit = Int(clamping: input["limit"]?.integer ?? 500)
        let (entries, truncated) = try WorkspaceFiles.list(folder, glob: input["glob"]?.string, recursive: input["recursive"]?.bool ?? false, limit: limit)
        let list: [JSONValue] = entries.map { ["path": .string($0.path), "kind": .string($0.kind.rawValue), "size": .integer(Int64($0.size))] }
        return ToolOutput(["path": .string(folder.resolved), "entries": .array(list), "truncated": .bool(truncated)], rows: entries.count)
    }
}

/// Deciding whether bytes are text.
enum TextBody {
    /// `data` as UTF-8 text, or nil when it is not text. When the data may have been cut, up to three
    /// bytes of a character split at the end are dropped. NUL bytes mean binary.
    static func utf8(_ data: Data, mayBeCut: Bool) -> String? {
        guard !data.contains(0) else { return nil }
        if let text = String(validating: data, as: UTF8.self) { return text }
        guard mayBeCut else { return nil }
        for drop in 1...3 where data.count >= drop {
            if let text = String(validating: data.dropLast(drop), as: UTF8.self) { return text }
        }
        return nil
    }
}
