import Foundation

/// The built-in tools over SQL databases and the catalog.
enum DataTools {
    static let all: [any Tool] = [
        SQLQueryTool(), SQLExecuteTool(),
        CatalogListTablesTool(), CatalogDescribeTableTool(), CatalogSearchTool(),
        ProfileTableTool(), TableDocTool(), DbtCreateModelTool(),
    ]
}

/// A path inside the workspace that the docs and dbt tools write to: relative, without `..`, and
/// not leaving the workspace through a symbolic link.
struct ConfinedWorkspacePath: Sendable, Hashable {
    /// Normalized relative path, `/`-separated; empty for the workspace itself.
    let relative: String
    let url: URL

    /// The guardrail id a refused path is reported under.
    static let guardrail = "file.outside_workspace"

    /// A path that leaves the workspace, as the guardrail violation the guard records.
    struct Refusal: Error, Sendable {
        var violation: GuardrailViolation
        var reason: String { violation.reason }
    }

    /// Checks the path's form and, against the file system, that no existing part of it is a link
    /// leading out of the workspace.
    init(_ path: String, in workspace: Workspace) throws(Refusal) {
        let relative = try Self.normalize(path)
        let url = relative.isEmpty ? workspace.root : workspace.root.appendingPathComponent(relative)
        try Self.checkLinks(relative, in: workspace)
        self.relative = relative
        self.url = url
    }

    /// `file:write`-style resource name: `workspace:<relative path>`.
    var resource: String { "workspace:" + relative }

    /// `a/./b//c` → `a/b/c`; refuses absolute paths, `~`, `..`, backslashes and control characters.
    static func normalize(_ path: String) throws(Refusal) -> String {
        func refuse(_ reason: String) -> Refusal {
            Refusal(violation: GuardrailViolation(guardrail: guardrail, reason: reason, detail: path))
        }
        if path.hasPrefix("/") || path.hasPrefix("~") {
            throw refuse("`\(path)` is absolute; give a path relative to the workspace, e.g. docs/orders.md")
        }
        if path.contains("\\") { throw refuse("`\(path)` contains a backslash; separate folders with `/`") }
        if path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw refuse("the path contains a control character")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        if parts.contains("..") {
            throw refuse("`\(path)` goes up with `..`; paths must stay inside the workspace")
        }
        return parts.joined(separator: "/")
    }

    /// Walks the existing part of the path; a symbolic link must resolve to somewhere inside the workspace.
    private static func checkLinks(_ relative: String, in workspace: Workspace) throws(Refusal) {
        let root = workspace.root.path
        var current = workspace.root
        for part in relative.split(separator: "/") {
            current = current.appendingPathComponent(String(part))
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: current.path) else { return }
            guard attributes[.type] as? FileAttributeType == .typeSymbolicLink else { continue }
            let resolved = current.resolvingSymlinksInPath().path
            guard FileManager.default.fileExists(atPath: resolved), resolved == root || resolved.hasPrefix(root + "/") else {
                throw Refusal(violation: GuardrailViolation(
                    guardrail: guardrail, reason: "`\(relative)` passes through the link `\(part)`, which leads outside the workspace",
                    detail: resolved))
            }
        }
    }

    /// Writes `text`, creating folders as needed; the links are checked again right before writing.
    func write(_ text: String, in workspace: Workspace) throws(ToolError) {
        let data = Data(text.utf8)
        guard data.count <= workspace.maxFileBytes else {
            throw ToolError("too_large", "the file would be \(data.count) bytes, above the workspace limit of \(workspace.maxFileBytes); shorten it")
        }
        do {
            try Self.checkLinks(relative, in: workspace)
        } catch {
            throw ToolError("refused", error.reason)
        }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw ToolError("io_error", "cannot write \(relative): \(error.localizedDescription); check the workspace folder's permissions")
        }
    }

    /// The file's text, or nil when there is no file.
    func read() throws(ToolError) -> String? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ToolError("io_error", "cannot read \(relative); check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ToolError("invalid_input", "\(relative) is not UTF-8 text; fix or remove it")
        }
        return text
    }
}
