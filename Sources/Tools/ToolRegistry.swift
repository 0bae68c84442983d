import Foundation

/// The tools a guard can call, by name.
public struct ToolRegistry: Sendable {
    private let byName: [String: any Tool]

    /// - Throws: when two tools share a name, or a name is not dotted lower-case words.
    public init(_ tools: [any Tool]) throws(ToolDefinitionError) {
        var byName: [String: any Tool] = [:]
        for tool in tools {
            guard tool.name.range(of: #"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"#, options: .regularExpression) != nil else {
                throw ToolDefinitionError("tool name `\(tool.name)` must be dotted lower-case words, e.g. `sql.query`")
            }
            if byName[tool.name] != nil { throw ToolDefinitionError("two tools are named `\(tool.name)`") }
            byName[tool.name] = tool
        }
        self.byName = byName
    }

    /// Every built-in tool: SQL, catalog, profiling, docs, dbt, files, git, HTTP, charts and mail.
    public static func builtIn() -> ToolRegistry {
        // Built-in names are unique and well-formed; the registry tests hold that.
        try! ToolRegistry(DataTools.all + WorkspaceTools.all)
    }

    public subscript(name: String) -> (any Tool)? { byName[name] }

    /// All tools, sorted by name.
    public var tools: [any Tool] { byName.values.sorted { $0.name < $1.name } }
    public var names: [String] { byName.keys.sorted() }
}
