import Foundation

/// The JSON Schema subset tools describe their input with: `type`, `properties`, `required`,
/// `additionalProperties` (boolean), `enum`, `minimum`/`maximum`, `minLength`/`maxLength`, `pattern`,
/// `items`, `minItems`/`maxItems`, `description` and `default` (documentation only).
///
/// ```swift
/// let schema = try JSONSchema([
///     "type": "object",
///     "properties": ["sql": ["type": "string", "minLength": 1]],
///     "required": ["sql"],
///     "additionalProperties": false,
/// ])
/// schema.validate(["sql": ""])  // ["/sql: must have at least 1 character"]
/// ```
public struct JSONSchema: Sendable, Hashable {
    /// The schema as written, for `glassbox tools list` and for LLM tool definitions.
    public let document: JSONValue
    private let types: [String]?
    private let properties: [String: JSONSchema]
    private let required: [String]
    private let additionalProperties: Bool
    private let allowed: [JSONValue]?
    private let minimum: Double?, maximum: Double?
    private let minLength: Int?, maxLength: Int?
    private let pattern: String?
    private let items: Box?
    private let minItems: Int?, maxItems: Int?

    /// Boxes the recursive `items` schema.
    private final class Box: Sendable, Hashable {
        let schema: JSONSchema
        init(_ schema: JSONSchema) { self.schema = schema }
        static func == (a: Box, b: Box) -> Bool { a.schema == b.schema }
        func hash(into hasher: inout Hasher) { hasher.combine(schema) }
    }

    static let knownKeywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "minimum", "maximum", "minLength",
        "maxLength", "pattern", "items", "minItems", "maxItems", "description", "default", "title", "examples", "format",
    ]
    static let knownTypes: Set<String> = ["object", "array", "string", "integer", "number", "boolean", "null"]

    /// Reads a schema document; refuses keywords this subset does not enforce, so that a schema
    /// never looks stricter than it is.
    public init(_ document: JSONValue) throws(ToolDefinitionError) {
        guard let members = document.object else { throw ToolDefinitionError("a schema must be a JSON object, got \(document.typeName)") }
        if let unknown = members.keys.first(where: { !Self.knownKeywords.contains($0) }) {
            throw ToolDefinitionError("schema keyword `\(unknown)` is not supported; use only \(Self.knownKeywords.sorted().joined(separator: ", "))")
        }
        self.document = document
        switch members["type"] {
        case nil: types = nil
        case .string(let t): types = [t]
        case .array(let list): types = list.compactMap(\.string)
        default: throw ToolDefinitionError("`type` must be a string or a list of strings")
        }
        if let bad = types?.first(where: { !Self.knownTypes.contains($0) }) { throw ToolDefinitionError("unknown type `\(bad)`") }
        var properties: [String: JSONSchema] = [:]
        for (name, sub) in members["properties"]?.object ?? [:] { properties[name] = try JSONSchema(sub) }
        self.properties = properties
        required = members["required"]?.array?.compactMap(\.string) ?? []
        additionalProperties = members["additionalProperties"]?.bool ?? true
        allowed = members["enum"]?.array
        minimum = members["minimum"]?.double
        maximum = members["maximum"]?.double
        minLength = (members["minLength"]?.integer).map { Int($0) }
        maxLength = (members["maxLength"]?.integer).map { Int($0) }
        pattern = members["pattern"]?.string
        if let pattern, (try? NSRegularExpression(pattern: pattern)) == nil { throw ToolDefinitionError("`pattern` \(pattern) is not a valid regular expression") }
        items = try members["items"].map { sub throws(ToolDefinitionError) in Box(try JSONSchema(sub)) }
        minItems = (members["minItems"]?.integer).map { Int($0) }
        maxItems = (members["maxItems"]?.integer).map { Int($0) }
    }

    /// Every way `value` breaks the schema, each starting with its JSON pointer; empty when valid.
    public func validate(_ value: JSONValue) -> [String] {
        var problems: [String] = []
        validate(value, at: "", into: &problems)
        return problems
    }

    private func validate(_ value: JSONValue, at path: String, into problems: inout [String]) {
        let here = path.isEmpty ? "/" : path
        if let types, !types.contains(where: { matches(value, type: $0) }) {
            problems.append("\(here): must be \(types.joined(separator: " or ")), got \(value.typeName)")
            return
        }
        if let allowed, !allowed.contains(where: { equal($0, value) }) {
            problems.append("\(here): must be one of \(allowed.map(\.jsonText).joined(separator: ", ")), got \(value.jsonText.prefix(80))")
        }
        switch value {
        case .object(let members):
            for name in required where members[name] == nil {
                problems.append("\(here): missing required property `\(name)`")
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let sub = properties[name] {
                    sub.validate(member, at: path + "/" + name, into: &problems)
                } else if !additionalProperties {
                    let known = properties.keys.sorted().joined(separator: ", ")
                    problems.append("\(here): unknown property `\(name)` (known: \(known))")
                }
            }
        case .array(let list):
            if let minItems, list.count < minItems { problems.append("\(here): must have at least \(minItems) items") }
            if let maxItems, list.count > maxItems { problems.append("\(here): must have at most \(maxItems) items") }
            if let items { for (i, item) in list.enumerated() { items.schema.validate(item, at: "\(path)/\(i)", into: &problems) } }
        case .string(let s):
            let count = s.count
            if let minLength, count < minLength { problems.append("\(here): must have at least \(minLength) character\(minLength == 1 ? "" : "s")") }
            if let maxLength, count > maxLength { problems.append("\(here): must have at most \(maxLength) characters, has \(count)") }
            if let pattern, s.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(here): must match the pattern \(pattern)")
            }
        case .integer, .number:
            let d = value.double!
            if let minimum, d < minimum { problems.append("\(here): must be ≥ \(JSONValue.number(minimum).jsonText), got \(value.jsonText)") }
            if let maximum, d > maximum { problems.append("\(here): must be ≤ \(JSONValue.number(maximum).jsonText), got \(value.jsonText)") }
        default: break
        }
    }

    private func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): true
        case ("number", .integer), ("number", .number): true
        case ("integer", _): value.integer != nil
        default: false
        }
    }

    private func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.double, let y = b.double { return x == y }
        return a == b
    }
}
