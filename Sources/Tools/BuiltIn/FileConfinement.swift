import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A path a caller named, checked to lead somewhere inside the workspace.
///
/// `resolved` is where the path really leads: symbolic links inside the workspace followed, the part
/// that does not exist yet appended. Rights are granted on the resolved path (a link cannot borrow the
/// rights of its name), and the tools open exactly that path, one component at a time with
/// `O_NOFOLLOW`, so a link planted after the check makes the call fail instead of escaping.
struct WorkspacePath: Sendable, Hashable {
    /// The real path of the workspace root.
    let root: String
    /// What the caller wrote, normalized (`./a//b` is `a/b`; the root is `.`).
    let requested: String
    /// The real location relative to the root (`.` for the root itself).
    let resolved: String
    /// Whether something exists at the path.
    let exists: Bool

    /// The resource the rights are checked on: `workspace:<resolved>`.
    var resource: String { "workspace:" + resolved }
    var components: [String] { resolved == "." ? [] : resolved.split(separator: "/").map(String.init) }
    var isRoot: Bool { resolved == "." }
    var absolute: String { isRoot ? root : root + "/" + resolved }
    /// The last component, or `.`.
    var name: String { components.last ?? "." }
}

/// The outcome of checking a path: inside the workspace, or a guardrail refusal.
enum ConfinedPath: Sendable {
    case inside(WorkspacePath)
    /// `resource` names what was asked for, so that authorization can still be recorded.
    case refused(GuardrailViolation, resource: String)

    var path: WorkspacePath? { if case .inside(let path) = self { return path }; return nil }
    var violation: GuardrailViolation? { if case .refused(let violation, _) = self { return violation }; return nil }
    var resource: String {
        switch self {
        case .inside(let path): path.resource
        case .refused(_, let resource): resource
        }
    }
}

extension Workspace {
    /// How a path will be used: writing also refuses the repository's `.git` folder.
    enum Access: Sendable { case read, write }

    /// The real path of the root; throws when the folder is missing.
    func realRoot() throws(ToolError) -> String {
        guard let real = realPath(root.path) else {
            throw .configuration("the workspace folder `\(root.path)` does not exist or cannot be opened; create it or fix `workspace:` in glassbox.yaml")
        }
        return real
    }

    /// Checks `path` (relative to the root; empty means the root) without touching anything but metadata.
    ///
    /// Refused: NUL characters, absolute paths and `..` components (`file.outside_workspace`); a symbolic
    /// link on the way whose target is outside the root or missing (`file.symlink_escape`); for writing,
    /// anything inside `.git` (`file.git_directory`: a written git config or hook would run code).
    func confine(_ path: String, for access: Access) throws(ToolError) -> ConfinedPath {
        let asked = "workspace:" + path.replacingOccurrences(of: "\0", with: "\\0")
        if path.contains("\0") {
            return .refused(GuardrailViolation(guardrail: "file.outside_workspace", reason: "the path contains a NUL character; name a file inside the workspace"), resource: asked)
        }
        if path.hasPrefix("/") || path.hasPrefix("~") {
            return .refused(GuardrailViolation(
                guardrail: "file.outside_workspace",
                reason: "`\(path)` is absolute (or names a home folder); paths are relative to the workspace root, e.g. `reports/summary.md`",
                detail: path), resource: asked)
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        if parts.contains("..") {
            return .refused(GuardrailViolation(
                guardrail: "file.outside_workspace",
                reason: "`\(path)` has a `..` component; name files inside the workspace without `..`",
                detail: path), resource: asked)
        }
        let requested = parts.isEmpty ? "." : parts.joined(separator: "/")
        let root = try realRoot()

        // Walk from the root: follow each existing component (resolving links), stop at the first missing one.
        var current = root
        var missing: [String] = []
        for (index, part) in parts.enumerated() {
            let candidate = current == "/" ? "/" + part : current + "/" + part
            var info = stat()
            guard lstat(candidate, &info) == 0 else {
                missing = Array(parts[index...])
                break
            }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                let shown = parts[...index].joined(separator: "/")
                guard let target = realPath(candidate) else {
                    return .refused(GuardrailViolation(
                        guardrail: "file.symlink_escape",
                        reason: "`\(shown)` is a symbolic link whose target does not exist; only links to existing places inside the workspace are followed",
                        detail: shown), resource: "workspace:" + requested)
                }
                guard Self.isInside(target, root: root) else {
                    return .refused(GuardrailViolation(
                        guardrail: "file.symlink_escape",
                        reason: "`\(shown)` is a symbolic link that leads outside the workspace; name files inside the workspace",
                        detail: shown), resource: "workspace:" + requested)
                }
                current = target
            } else {
                current = candidate
            }
        }
        var resolvedParts = current == root ? [] : String(current.dropFirst(root == "/" ? 1 : root.count + 1)).split(separator: "/").map(String.init)
        resolvedParts += missing
        let resolved = resolvedParts.isEmpty ? "." : resolvedParts.joined(separator: "/")
        // Lowercased for case-insensitive file systems, where `.GIT` is the same folder.
        if access == .write, resolvedParts.first?.lowercased() == ".git" {
            return .refused(GuardrailViolation(
                guardrail: "file.git_directory",
                reason: "`\(requested)` is inside the repository's `.git` folder, which file tools may not change; use git.commit to record changes",
                detail: resolved), resource: "workspace:" + resolved)
        }
        return .inside(WorkspacePath(root: root, requested: requested, resolved: resolved, exists: missing.isEmpty))
    }

    /// Re-checks a path at execution time and insists it still leads where it led when it was authorized.
    func confineAgain(_ path: String, for access: Access, authorized plan: ToolPlan) throws(ToolError) -> WorkspacePath {
        switch try confine(path, for: access) {
        case .refused(let violation, _):
            throw ToolError("refused", "\(violation.reason) (the path changed after it was authorized)")
        case .inside(let checked):
            guard plan.permissions.contains(where: { $0.resource == checked.resource }) else {
                throw ToolError("refused", "`\(path)` now leads somewhere else than when it was authorized (a symbolic link changed); call the tool again")
            }
            return checked
        }
    }

    static func isInside(_ path: String, root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }
}

/// realpath(3): the absolute path with every symbolic link resolved, or nil when it does not exist.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
