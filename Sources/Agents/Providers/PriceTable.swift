public import Tools
public import Yams

/// What a model costs, in US dollars per million tokens.
public struct ModelPrice: Sendable, Equatable {
    public var input: Double
    public var output: Double
    /// Prompt tokens served from the provider's cache; nil charges them as `input`.
    public var cacheRead: Double?

    public init(input: Double, output: Double, cacheRead: Double? = nil) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
    }
}

/// Model prices, looked up by the longest key that starts the model's name, so
/// `gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`, not `gpt-4o`.
///
/// ```yaml
/// llm:
///   prices:                       # USD per million tokens
///     gpt-4o-mini: {input: 0.15, output: 0.60, cache_read: 0.075}
///     claude-sonnet-4: {input: 3, output: 15, cache_read: 0.30}
/// ```
/// ```swift
/// let table = try PriceTable(yaml: pricesNode)
/// table.cost(model: "gpt-4o-mini-2024-07-18", usage: TokenUsage(input: 1200, output: 300))  // 0.00036
/// ```
public struct PriceTable: Sendable, Equatable {
    /// Prices by model-name prefix.
    public private(set) var prices: [String: ModelPrice]

    public init(_ prices: [String: ModelPrice] = [:]) {
        self.prices = prices
    }

    /// The price of the longest key that starts `model` (ignoring case); nil when none does.
    public func price(for model: String) -> ModelPrice? {
        let name = model.lowercased()
        var best: (length: Int, price: ModelPrice)?
        for (prefix, price) in prices where name.hasPrefix(prefix.lowercased()) {
            if prefix.count > best?.length ?? -1 { best = (prefix.count, price) }
        }
        return best?.price
    }

    /// US dollars for one call; 0 for a model without a price. `usage.input` includes the cached
    /// tokens (`usage.cacheRead`), which are charged at the cache-read price.
    public func cost(model: String, usage: TokenUsage) -> Double {
        guard let price = price(for: model) else { return 0 }
        let cached = min(max(usage.cacheRead, 0), max(usage.input, 0))
        let uncached = max(usage.input, 0) - cached
        let dollars = Double(uncached) * price.input + Double(cached) * (price.cacheRead ?? price.input)
            + Double(max(usage.output, 0)) * price.output
        return dollars / 1_000_000
    }
}

/// A price table in the configuration that cannot be used.
public struct PriceTableError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The full key of the bad value, e.g. `llm.prices.gpt-4o.input`.
    public var key: String
    /// The line in the configuration file, when known.
    public var line: Int?
    public var message: String

    public init(key: String, line: Int? = nil, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String {
        "`\(key)`\(line.map { " (line \($0))" } ?? ""): \(message)"
    }
}

extension PriceTable {
    /// Reads prices from a mapping of model names to `{input, output, cache_read}` (USD per million
    /// tokens; `cache_read` optional), e.g. the JSON form of the `llm.prices` setting.
    public init(parsing value: JSONValue, key: String = "llm.prices") throws(PriceTableError) {
        guard let models = value.object else {
            throw PriceTableError(key: key, message: Self.tableShape(got: value.typeName))
        }
        var prices: [String: ModelPrice] = [:]
        for (model, fields) in models {
            let modelKey = "\(key).\(model)"
            guard let members = fields.object else {
                throw PriceTableError(key: modelKey, message: Self.modelShape(got: fields.typeName))
            }
            prices[model] = try Self.price(
                key: modelKey, line: nil,
                fields: members.sorted { $0.key < $1.key }.map { ($0.key, $0.value.double, $0.value.jsonText, nil) })
        }
        self.init(prices)
    }

    /// Reads prices from the YAML node of the `llm.prices` setting (see ``PriceTable``); errors carry its line.
    public init(yaml node: Node, key: String = "llm.prices") throws(PriceTableError) {
        guard let mapping = node.mapping else {
            throw PriceTableError(key: key, line: node.mark?.line, message: Self.tableShape(got: Self.kind(of: node)))
        }
        var prices: [String: ModelPrice] = [:]
        for (modelNode, fieldsNode) in mapping {
            let model = modelNode.string ?? ""
            let modelKey = "\(key).\(model)"
            guard let fields = fieldsNode.mapping else {
                throw PriceTableError(key: modelKey, line: fieldsNode.mark?.line, message: Self.modelShape(got: Self.kind(of: fieldsNode)))
            }
            if prices[model] != nil {
                throw PriceTableError(key: modelKey, line: modelNode.mark?.line, message: "the model is priced twice; keep one entry")
            }
            prices[model] = try Self.price(
                key: modelKey, line: fieldsNode.mark?.line,
                fields: fields.map { field, value in
                    (field.string ?? "", value.scalar == nil ? nil : value.float, value.scalar?.string ?? Self.kind(of: value), value.mark?.line)
                })
        }
        self.init(prices)
    }

    private static func tableShape(got kind: String) -> String {
        "must be a mapping of model names to prices, e.g. `gpt-4o-mini: {input: 0.15, output: 0.60, cache_read: 0.075}` (USD per million tokens); got \(kind)"
    }

    private static func modelShape(got kind: String) -> String {
        "must be a mapping with `input`, `output` and optionally `cache_read` (USD per million tokens), e.g. `{input: 0.15, output: 0.60}`; got \(kind)"
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case .scalar(let scalar): "`\(scalar.string)`"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// One model's fields: (name, value as a number when it is one, value as shown, line).
    private static func price(
        key: String, line: Int?, fields: [(name: String, number: Double?, shown: String, line: Int?)]
    ) throws(PriceTableError) -> ModelPrice {
        var values: [String: Double] = [:]
        for field in fields {
            let fieldKey = "\(key).\(field.name)"
            guard ["input", "output", "cache_read"].contains(field.name) else {
                throw PriceTableError(key: fieldKey, line: field.line ?? line, message: "unknown price field; use `input`, `output` and `cache_read` (USD per million tokens)")
            }
            guard let number = field.number, number.isFinite, number >= 0 else {
                throw PriceTableError(key: fieldKey, line: field.line ?? line, message: "must be a number of US dollars per million tokens, 0 or more, e.g. `0.15`; got \(field.shown)")
            }
            values[field.name] = number
        }
        func missing(_ field: String) -> PriceTableError {
            PriceTableError(key: "\(key).\(field)", line: line, message: "is missing; give the price in US dollars per million tokens, e.g. `\(field): 0.60`")
        }
        guard let input = values["input"] else { throw missing("input") }
        guard let output = values["output"] else { throw missing("output") }
        return ModelPrice(input: input, output: output, cacheRead: values["cache_read"])
    }
}
