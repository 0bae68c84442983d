import Agents
import Testing
import Tools

@Suite struct PriceTableTests {
    private let table = PriceTable([
        "gpt-4o": ModelPrice(input: 2.5, output: 10, cacheRead: 1.25),
        "gpt-4o-mini": ModelPrice(input: 0.15, output: 0.60, cacheRead: 0.075),
        "claude-sonnet-4": ModelPrice(input: 3, output: 15),
    ])

    @Test func longestPrefixWins() {
        #expect(table.price(for: "gpt-4o-mini-2024-07-18") == ModelPrice(input: 0.15, output: 0.60, cacheRead: 0.075))
        #expect(table.price(for: "gpt-4o-2024-08-06")?.input == 2.5)
        #expect(table.price(for: "GPT-4o-mini")?.input == 0.15)
        #expect(table.price(for: "gpt-4") == nil)
    }

    @Test func costInDollarsPerMillionTokens() {
        let usage = TokenUsage(input: 1_000_000, output: 500_000)
        #expect(abs(table.cost(model: "gpt-4o-mini", usage: usage) - (0.15 + 0.30)) < 1e-12)
    }

    @Test func cachedInputIsChargedAtTheCacheReadPrice() {
        let usage = TokenUsage(input: 1_000_000, output: 0, cacheRead: 400_000)
        #expect(abs(table.cost(model: "gpt-4o", usage: usage) - (0.6 * 2.5 + 0.4 * 1.25)) < 1e-12)
        // Without a cache-read price, cached tokens cost as much as any input.
        #expect(abs(table.cost(model: "claude-sonnet-4-5", usage: usage) - 3) < 1e-12)
    }

    @Test func unknownModelsCostNothing() {
        #expect(table.cost(model: "llama3.1:8b", usage: TokenUsage(input: 1000, output: 1000)) == 0)
        #expect(PriceTable().cost(model: "gpt-4o", usage: TokenUsage(input: 1000)) == 0)
    }

    @Test func parsedFromTheConfigurationShape() throws {
        let value = try JSONValue(parsing: #"{"gpt-4o-mini": {"input": 0.15, "output": 0.6, "cache_read": 0.075}, "local": {"input": 0, "output": 0}}"#)
        let parsed = try PriceTable(parsing: value)
        #expect(parsed.prices == [
            "gpt-4o-mini": ModelPrice(input: 0.15, output: 0.6, cacheRead: 0.075),
            "local": ModelPrice(input: 0, output: 0),
        ])
    }

    @Test(arguments: [
        (#"[1, 2]"#, "llm.prices", "mapping of model names"),
        (#"{"gpt-4o": 3}"#, "llm.prices.gpt-4o", "`input`, `output`"),
        (#"{"gpt-4o": {"input": "cheap", "output": 1}}"#, "llm.prices.gpt-4o.input", "\"cheap\""),
        (#"{"gpt-4o": {"input": -1, "output": 1}}"#, "llm.prices.gpt-4o.input", "0 or more"),
        (#"{"gpt-4o": {"input": 1}}"#, "llm.prices.gpt-4o.output", "missing"),
        (#"{"gpt-4o": {"input": 1, "output": 2, "cached": 0.5}}"#, "llm.prices.gpt-4o.cached", "unknown price field"),
    ])
    func badTablesNameTheKey(json: String, key: String, hint: String) throws {
        let value = try JSONValue(parsing: json)
        #expect {
            try PriceTable(parsing: value)
        } throws: { error in
            guard let error = error as? PriceTableError else { return false }
            return error.key == key && error.description.contains("`\(key)`") && error.message.contains(hint)
        }
    }
}
