/// The Jinja a model given to `dbt.create_model` may hold, rendered to plain SQL so that the
/// statement can be classified and checked by the engine: `{{ ref('model') }}` (also
/// `ref('package', 'model')`), `{{ source('source', 'table') }}`, `{{ config(…) }}` (rendered as
/// nothing) and `{# comments #}`. Anything else (`{% if %}`, macros, variables) cannot be checked
/// and is refused.
///
/// ```swift
/// let rendered = try DbtJinja.render("select * from {{ ref('orders') }}") { relation in
///     "\"main\".\"\(relation.table)\""
/// }
/// rendered.sql   // select * from "main"."orders"
/// ```
enum DbtJinja {
    /// What a `ref` or `source` names.
    enum Relation: Sendable, Hashable, CustomStringConvertible {
        /// `ref('name')`: a model, i.e. a relation of that name in the target connection.
        case model(String)
        /// `source('schema', 'table')`.
        case source(schema: String, table: String)

        var table: String {
            switch self {
            case .model(let name): name
            case .source(_, let table): table
            }
        }

        var description: String {
            switch self {
            case .model(let name): "ref('\(name)')"
            case .source(let schema, let table): "source('\(schema)', '\(table)')"
            }
        }
    }

    struct Rendered: Sendable, Hashable {
        var sql: String
        /// Every relation referenced, in order of first appearance.
        var relations: [Relation]
        /// Whether the model sets its own `config(…)`.
        var hasConfig: Bool
    }

    static let supported = "only {{ ref('model') }}, {{ source('source', 'table') }}, {{ config(...) }} and {# comments #} can be checked"

    /// Renders the template, replacing each `ref`/`source` with what `relation` returns for it.
    static func render(_ template: String, relation: (Relation) throws(ToolError) -> String) throws(ToolError) -> Rendered {
        let text = Array(template)
        var out = ""
        var relations: [Relation] = []
        var hasConfig = false
        var i = 0
        while i < text.count {
            guard text[i] == "{", i + 1 < text.count, "{%#".contains(text[i + 1]) else {
                out.append(text[i])
                i += 1
                continue
            }
            switch text[i + 1] {
            case "#":
                guard let end = find(["#", "}"], in: text, from: i + 2, skippingStrings: false) else {
                    throw .invalidInput("a `{#` comment is not closed with `#}`")
                }
                i = end + 2
            case "%":
                throw .invalidInput("`{% … %}` blocks (if, for, set, macros) are not supported in dbt.create_model: \(supported); write the logic in SQL")
            default:
                guard let end = find(["}", "}"], in: text, from: i + 2, skippingStrings: true) else {
                    throw .invalidInput("a `{{` expression is not closed with `}}`")
                }
                var expression = String(text[(i + 2)..<end])
                // Whitespace control (`{{-` / `-}}`) changes nothing that matters for checking.
                if expression.hasPrefix("-") { expression.removeFirst() }
                if expression.hasSuffix("-") { expression.removeLast() }
                let call = try parseCall(expression)
                switch call.name {
                case "ref":
                    guard call.arguments.count == 1 || call.arguments.count == 2 else {
                        throw .invalidInput("`{{\(expression)}}`: ref takes the model name, or a package and a model name, as quoted strings")
                    }
                    let found = Relation.model(call.arguments.last!)
                    if !relations.contains(found) { relations.append(found) }
                    out += try relation(found)
                case "source":
                    guard call.arguments.count == 2 else {
                        throw .invalidInput("`{{\(expression)}}`: source takes two quoted strings, the source name and the table name")
                    }
                    let found = Relation.source(schema: call.arguments[0], table: call.arguments[1])
                    if !relations.contains(found) { relations.append(found) }
                    out += try relation(found)
                case "config":
                    hasConfig = true
                default:
                    throw .invalidInput("`{{\(expression)}}` is not supported in dbt.create_model: \(supported)")
                }
                i = end + 2
            }
        }
        return Rendered(sql: out, relations: relations, hasConfig: hasConfig)
    }

    /// The index where `pair` starts, at or after `start`; quoted strings are skipped when asked.
    private static func find(_ pair: [Character], in text: [Character], from start: Int, skippingStrings: Bool) -> Int? {
        var i = start
        var quote: Character?
        while i + 1 < text.count {
            let c = text[i]
            if let open = quote {
                if c == "\\" { i += 2; continue }
                if c == open { quote = nil }
            } else if skippingStrings, c == "'" || c == "\"" {
                quote = c
            } else if c == pair[0], text[i + 1] == pair[1] {
                return i
            }
            i += 1
        }
        return nil
    }

    /// `name(args)`: for ref and source the arguments must be quoted strings; config's are not read.
    private static func parseCall(_ expression: String) throws(ToolError) -> (name: String, arguments: [String]) {
        let text = Array(expression)
        var i = 0
        func skipSpaces() { while i < text.count, text[i].isWhitespace { i += 1 } }
        skipSpaces()
        var name = ""
        while i < text.count, text[i].isLetter || text[i].isNumber || text[i] == "_" {
            name.append(text[i])
            i += 1
        }
        skipSpaces()
        guard !name.isEmpty, i < text.count, text[i] == "(" else {
            throw .invalidInput("`{{\(expression)}}` is not supported in dbt.create_model: \(supported)")
        }
        i += 1
        if name == "config" {
            skipSpaces()
            guard text.last(where: { !$0.isWhitespace }) == ")" else {
                throw .invalidInput("`{{\(expression)}}`: config(…) must end with `)`")
            }
            return (name, [])
        }
        guard name == "ref" || name == "source" else {
            throw .invalidInput("`{{\(expression)}}` is not supported in dbt.create_model: \(supported)")
        }
        var arguments: [String] = []
        skipSpaces()
        while i < text.count, text[i] != ")" {
            guard text[i] == "'" || text[i] == "\"" else {
                throw .invalidInput("`{{\(expression)}}`: \(name)() takes quoted strings only (no keyword arguments or variables)")
            }
            let quote = text[i]
            i += 1
            var value = ""
            while i < text.count, text[i] != quote {
                if text[i] == "\\", i + 1 < text.count { i += 1 }
                value.append(text[i])
                i += 1
            }
            guard i < text.count else { throw .invalidInput("`{{\(expression)}}`: a string is not closed") }
            i += 1
            guard !value.isEmpty else { throw .invalidInput("`{{\(expression)}}`: \(name)() names must not be empty") }
            arguments.append(value)
            skipSpaces()
            if i < text.count, text[i] == "," {
                i += 1
                skipSpaces()
            } else {
                break
            }
        }
        guard i < text.count, text[i] == ")" else { throw .invalidInput("`{{\(expression)}}`: expected `)`") }
        i += 1
        skipSpaces()
        guard i == text.count else { throw .invalidInput("`{{\(expression)}}`: unexpected text after `)`; \(supported)") }
        return (name, arguments)
    }
}
