public import Agents
import Foundation
import Yams

/// The `llm:` section of `glassbox.yaml`: which model the agents use and how calls to it behave.
/// Keys come from the environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`), never from this file.
///
/// ```yaml
/// llm:
///   provider: openai                  # openai (any OpenAI-compatible server), anthropic or scripted
///   model: gpt-4o-mini
///   base_url: http://127.0.0.1:11434/v1   # else OPENAI_BASE_URL / ANTHROPIC_BASE_URL
///   script: replies.yaml              # the scripted provider's replies
///   timeout_seconds: 120
///   idle_timeout_seconds: 60
///   max_attempts: 4
///   stream: true
///   prices:                           # USD per million tokens, for cost in llm.responded
///     gpt-4o-mini: {input: 0.15, output: 0.60}
/// ```
/// `GLASSBOX_LLM_PROVIDER`, `GLASSBOX_LLM_MODEL` and `GLASSBOX_LLM_SCRIPT` override the file.
public struct LLMSettings: Sendable, Equatable {
    public var provider: String?
    public var model: String?
    public var baseURL: String?
    public var script: String?
    public var timeoutSeconds: Double = 120
    public var idleTimeoutSeconds: Double = 60
    public var maxAttempts = 4
    public var stream = true
    public var prices = PriceTable()

    public init() {}

    static let keys = ["provider", "model", "base_url", "script", "timeout_seconds", "idle_timeout_seconds", "max_attempts", "stream", "prices"]

    mutating func apply(yaml node: Node, file: String) throws {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, node: node, message: "`llm` must be a mapping, e.g. `llm: {provider: openai, model: gpt-4o-mini}`")
        }
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let setting = Setting(key: "llm.\(key)", node: value, file: file)
            switch key {
            case "provider": provider = try setting.oneOf(["openai", "anthropic", "scripted"])
            case "model": model = try setting.string()
            case "base_url": baseURL = try setting.string()
            case "script": script = ServeConfiguration.resolve(try setting.string(), against: file)
            case "timeout_seconds": timeoutSeconds = try setting.number(in: 1...3_600)
            case "idle_timeout_seconds": idleTimeoutSeconds = try setting.number(in: 1...3_600)
            case "max_attempts": maxAttempts = try setting.integer(in: 1...20)
            case "stream": stream = try setting.bool()
            case "prices":
                do {
                    prices = try PriceTable(yaml: value, key: "llm.prices")
                } catch {
                    throw ConfigurationError(file: file, line: error.line, column: nil, message: error.description)
                }
            default:
                throw ConfigurationError(file: file, node: keyNode, message: "unknown key `\(key)` in llm; known keys: \(Self.keys.joined(separator: ", "))")
            }
        }
    }

    mutating func apply(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        if let provider = value("GLASSBOX_LLM_PROVIDER") {
            guard ["openai", "anthropic", "scripted"].contains(provider) else {
                throw ConfigurationError(file: "$GLASSBOX_LLM_PROVIDER", line: nil, column: nil,
                                         message: "must be openai, anthropic or scripted, not \(provider)")
            }
            self.provider = provider
        }
        if let model = value("GLASSBOX_LLM_MODEL") { self.model = model }
        if let script = value("GLASSBOX_LLM_SCRIPT") { self.script = script }
    }

    /// The settings the agent runtime uses, with the provider variables from `environment`.
    public func modelSettings(environment: [String: String]) -> ModelSettings {
        ModelSettings(provider: provider, model: model, baseURL: baseURL, script: script, prices: prices,
                      retry: RetryPolicy(maxAttempts: maxAttempts, jitter: RetryPolicy.equalJitter),
                      timeout: .milliseconds(Int(timeoutSeconds * 1000)), idleTimeout: .milliseconds(Int(idleTimeoutSeconds * 1000)),
                      stream: stream, environment: environment)
    }
}
