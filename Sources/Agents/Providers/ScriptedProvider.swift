import Foundation
public import Tools
import Yams

/// A model that answers from a script: the same replies, in the same order, every time. For demos
/// and tests of the agent loop, with no network and no API key.
///
/// ```yaml
/// # Replies in order, one per model call. A reply either calls tools or answers.
/// replies:
///   - text: "Let me count the customers by region."
///     tool_calls:
///       - name: sql.query
///         arguments: {connection: warehouse, sql: "SELECT region, count(*) FROM customers GROUP BY region"}
///   - text: "There are 3 regions; EMEA has the most customers."
/// delay_ms: 0          # optional pause before each reply (demos)
/// ```
/// ```swift
/// let provider = try ScriptedProvider(path: "demo/script.yaml")
/// let first = try await provider.complete(request) { _ in }   // asks for sql.query
/// ```
///
/// Which reply answers is decided by the conversation, not by the provider's history: a request
/// whose messages hold N assistant answers gets reply N + 1. So one provider serves many runs at
/// once, and a run resumed after a crash, or replayed, gets the replies it would have got.
///
/// Tool-call ids are `scripted-<reply index>-<call index>`, both from zero. Usage counts about a
/// token per four characters (of the request's messages for input, of the reply for output), so
/// token budgets can be tested. When the replies run out, `complete` throws a ``ProviderError``
/// of kind `script_exhausted`.
public final class ScriptedProvider: LLMProvider {
    /// One scripted model reply.
    public struct Reply: Sendable, Equatable {
        public var text: String
        public var toolCalls: [ToolCall]

        public init(text: String = "", toolCalls: [ToolCall] = []) {
            self.text = text
            self.toolCalls = toolCalls
        }
    }

    /// A tool call in a scripted reply.
    public struct ToolCall: Sendable, Equatable {
        public var name: String
        public var arguments: JSONValue

        public init(name: String, arguments: JSONValue = [:]) {
            self.name = name
            self.arguments = arguments
        }
    }

    public let name = "scripted"
    /// The script, in order.
    public let replies: [Reply]
    /// The pause before each reply.
    public let delay: Duration

    public init(replies: [Reply], delay: Duration = .zero) {
        self.replies = replies
        self.delay = delay
    }

    /// Reads a script from YAML text.
    public convenience init(yaml: String) throws(ScriptedProviderError) {
        let script = try ScriptReader(source: "the script").read(yaml)
        self.init(replies: script.replies, delay: script.delay)
    }

    /// Reads a script from a YAML file.
    public convenience init(path: String) throws(ScriptedProviderError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ScriptedProviderError(
                source: path, line: nil, column: nil,
                message: "cannot read the script (\(error.localizedDescription)); check that the file exists and is UTF-8 text")
        }
        let script = try ScriptReader(source: path).read(text)
        self.init(replies: script.replies, delay: script.delay)
    }

    public func complete(
        _ request: ChatRequest, onText: @escaping @Sendable (String) async -> Void
    ) async throws -> ChatResponse {
        if delay > .zero {
            try await Task.sleep(for: delay)
        }
        try Task.checkCancellation()
        let index = request.messages.filter { $0.role == .assistant }.count
        guard index < replies.count else {
            throw ProviderError(
                kind: "script_exhausted",
                message: "the script has \(replies.count) \(replies.count == 1 ? "reply" : "replies") and reply \(index + 1) "
                    + "was asked for; add replies to the script, or end the conversation with a reply that calls no tools",
                retryable: false)
        }
        let reply = replies[index]
        if request.stream {
            for piece in Self.words(reply.text) {
                try Task.checkCancellation()
                await onText(piece)
            }
        }
        let toolCalls = reply.toolCalls.enumerated().map { n, call in
            ModelToolCall(id: "scripted-\(index)-\(n)", name: call.name, arguments: call.arguments.jsonText)
        }
        let inputCharacters = request.messages.reduce(0) { total, message in
            total + message.content.count + message.toolCalls.reduce(0) { $0 + $1.name.count + $1.arguments.count }
        }
        let outputCharacters = reply.text.count + toolCalls.reduce(0) { $0 + $1.name.count + $1.arguments.count }
        return ChatResponse(
            id: "scripted-\(index)", model: request.model, content: reply.text, toolCalls: toolCalls,
            finishReason: toolCalls.isEmpty ? "stop" : "tool_calls",
            usage: TokenUsage(input: Self.tokens(inputCharacters), output: Self.tokens(outputCharacters)))
    }

    /// About one token per four characters, rounded up.
    static func tokens(_ characters: Int) -> Int {
        (characters + 3) / 4
    }

    /// `text` in word-sized pieces, each word with the white space after it, so that the pieces
    /// joined are the text.
    static func words(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var hasWord = false
        var trailingSpace = false
        for character in text {
            if character.isWhitespace {
                trailingSpace = hasWord
            } else {
                if trailingSpace {
                    pieces.append(current)
                    current = ""
                    trailingSpace = false
                }
                hasWord = true
            }
            current.append(character)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}

/// A script that cannot be used: where (line and column when known) and what to change.
public struct ScriptedProviderError: Error, Sendable, CustomStringConvertible {
    /// The script's path, or `the script` for YAML text.
    public var source: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public var description: String {
        var place = source
        if let line { place += ", line \(line)" + (column.map { ", column \($0)" } ?? "") }
        return "scripted replies in \(place): \(message)"
    }
}

/// Reads the script's YAML into replies, refusing unknown keys and wrong shapes by name.
private struct ScriptReader {
    let source: String

    static let scriptKeys = ["replies", "delay_ms"]
    static let replyKeys = ["text", "tool_calls"]
    static let toolCallKeys = ["name", "arguments"]

    func read(_ yaml: String) throws(ScriptedProviderError) -> (replies: [ScriptedProvider.Reply], delay: Duration) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw syntax(error)
        } catch {
            throw ScriptedProviderError(source: source, line: nil, column: nil, message: "cannot read the YAML: \(error)")
        }
        guard let root, let mapping = root.mapping else {
            throw self.error(root, "the script must be a mapping with a `replies` list, e.g. `replies: [{text: \"Done.\"}]`")
        }
        var repliesNode: Node?
        var delay = Duration.zero
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "replies":
                repliesNode = value
            case "delay_ms":
                guard let milliseconds = value.int, milliseconds >= 0 else {
                    throw error(value, "`delay_ms` must be a whole number of milliseconds, 0 or more, not \(shown(value))")
                }
                delay = .milliseconds(milliseconds)
            default:
                throw unknown(key, keyNode, in: "the script", known: Self.scriptKeys)
            }
        }
        guard let repliesNode else {
            throw error(root, "the script has no `replies` list; add one, e.g. `replies: [{text: \"Done.\"}]`")
        }
        guard let items = repliesNode.sequence else {
            throw error(repliesNode, "`replies` must be a list of replies, not \(shown(repliesNode))")
        }
        var replies: [ScriptedProvider.Reply] = []
        for (index, item) in items.enumerated() {
            replies.append(try reply(item, number: index + 1))
        }
        return (replies, delay)
    }

    /// A reply: a mapping with `text` and/or `tool_calls`, or plain text.
    private func reply(_ node: Node, number: Int) throws(ScriptedProviderError) -> ScriptedProvider.Reply {
        let what = "reply \(number)"
        if let scalar = node.scalar, !isNull(node) { return ScriptedProvider.Reply(text: scalar.string) }
        guard let mapping = node.mapping else {
            throw error(node, "\(what) must be a mapping with `text` and/or `tool_calls`, not \(shown(node))")
        }
        var reply = ScriptedProvider.Reply()
        var hasContent = false
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "text":
                guard let scalar = value.scalar else {
                    throw error(value, "`text` in \(what) must be text, not \(shown(value)); quote it if it contains `: ` or `#`")
                }
                reply.text = isNull(value) ? "" : scalar.string
                hasContent = true
            case "tool_calls":
                if isNull(value) { continue }
                guard let calls = value.sequence else {
                    throw error(value, "`tool_calls` in \(what) must be a list of {name, arguments}, not \(shown(value))")
                }
                for (n, call) in calls.enumerated() {
                    reply.toolCalls.append(try toolCall(call, what: "tool call \(n + 1) of \(what)"))
                }
                hasContent = true
            default:
                throw unknown(key, keyNode, in: what, known: Self.replyKeys)
            }
        }
        guard hasContent else {
            throw error(node, "\(what) has neither `text` nor `tool_calls`; give it at least one")
        }
        return reply
    }

    private func toolCall(_ node: Node, what: String) throws(ScriptedProviderError) -> ScriptedProvider.ToolCall {
        guard let mapping = node.mapping else {
            throw error(node, "\(what) must be a mapping such as `{name: sql.query, arguments: {sql: \"SELECT 1\"}}`, not \(shown(node))")
        }
        var name: String?
        var arguments: JSONValue = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "name":
                guard let scalar = value.scalar, !isNull(value), !scalar.string.isEmpty else {
                    throw error(value, "`name` in \(what) must be a tool name such as `sql.query`, not \(shown(value))")
                }
                name = scalar.string
            case "arguments":
                if isNull(value) { continue }
                guard value.mapping != nil else {
                    throw error(value, "`arguments` in \(what) must be a mapping of the tool's inputs, not \(shown(value))")
                }
                arguments = try json(value)
            default:
                throw unknown(key, keyNode, in: what, known: Self.toolCallKeys)
            }
        }
        guard let name else {
            throw error(node, "\(what) has no `name`; say which tool it calls, e.g. `name: sql.query`")
        }
        return ScriptedProvider.ToolCall(name: name, arguments: arguments)
    }

    /// A YAML value as JSON: plain scalars by their resolved type, quoted ones as strings.
    private func json(_ node: Node) throws(ScriptedProviderError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case Tag.Name.null: return .null
            case Tag.Name.bool: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int: return node.int.map { .integer(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float:
                guard let number = node.float, number.isFinite else { return .string(scalar.string) }
                return .number(number)
            default: return .string(scalar.string)
            }
        case .sequence(let items):
            var array: [JSONValue] = []
            for item in items { array.append(try json(item)) }
            return .array(array)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (keyNode, value) in mapping {
                guard let key = keyNode.scalar?.string else {
                    throw error(keyNode, "keys in `arguments` must be text, not \(shown(keyNode))")
                }
                object[key] = try json(value)
            }
            return .object(object)
        case .alias:
            throw error(node, "aliases (`*name`) are not supported in a script; write the value out")
        }
    }

    private func unknown(_ key: String, _ keyNode: Node, in what: String, known: [String]) -> ScriptedProviderError {
        error(keyNode, "unknown key `\(key)` in \(what); known keys: \(known.joined(separator: ", "))")
    }

    private func error(_ node: Node?, _ message: String) -> ScriptedProviderError {
        ScriptedProviderError(source: source, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    private func syntax(_ error: YamlError) -> ScriptedProviderError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ScriptedProviderError(
                source: source, line: mark.line, column: mark.column,
                message: "YAML syntax: \(problem); check the indentation and quoting around this place")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ScriptedProviderError(
                source: source, line: context.mark.line, column: context.mark.column,
                message: "\(duplicates.map { "`\($0)`" }.joined(separator: ", ")) appears more than once in the same mapping; keep one")
        default:
            return ScriptedProviderError(source: source, line: nil, column: nil, message: "cannot read the YAML: \(error)")
        }
    }

    private func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// What a node is, for messages.
    private func shown(_ node: Node?) -> String {
        guard let node else { return "an empty document" }
        if isNull(node) { return "empty" }
        if let scalar = node.scalar { return "`\(scalar.string)`" }
        return node.mapping != nil ? "a mapping" : "a list"
    }
}
