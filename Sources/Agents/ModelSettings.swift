public import Foundation

/// Which model runs the agents, and how calls to it behave: the `llm:` configuration, with the
/// provider's variables (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY`)
/// from the environment.
///
/// With no provider named, an OpenAI-compatible server is used when `OPENAI_API_KEY` or
/// `OPENAI_BASE_URL` is set, else Anthropic when `ANTHROPIC_API_KEY` is; with none of them a run
/// fails at once, saying what to set.
public struct ModelSettings: Sendable {
    /// `openai`, `anthropic` or `scripted`; nil to decide from the environment.
    public var provider: String?
    /// The model; nil for the agent's own or the provider's default.
    public var model: String?
    /// Overrides the base URL from the environment.
    public var baseURL: String?
    /// The scripted provider's YAML file.
    public var script: String?
    public var prices: PriceTable
    public var retry: RetryPolicy
    /// How long to wait for a response to begin.
    public var timeout: Duration
    /// How long a streaming response may stay silent.
    public var idleTimeout: Duration
    /// Stream answers (thoughts appear as they are written).
    public var stream: Bool
    public var environment: [String: String]

    public init(provider: String? = nil, model: String? = nil, baseURL: String? = nil, script: String? = nil, prices: PriceTable = PriceTable(),
                retry: RetryPolicy = RetryPolicy(jitter: RetryPolicy.equalJitter), timeout: Duration = .seconds(120),
                idleTimeout: Duration = .seconds(60), stream: Bool = true,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.provider = provider
        self.model = model
        self.baseURL = baseURL
        self.script = script
        self.prices = prices
        self.retry = retry
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.stream = stream
        self.environment = environment
    }

    static let defaultModels = ["openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "scripted": "scripted"]

    /// The provider and model a run of `definition` uses. The configuration's model wins over the
    /// definition's, so that one setting points every agent at, say, a local Ollama model.
    public func resolve(for definition: AgentDefinition) throws(NoModelConfigured) -> (provider: any LLMProvider, model: String) {
        let name = provider ?? definition.provider ?? detectedProvider
        guard let name else { throw NoModelConfigured(reason: nil) }
        let model = self.model ?? definition.model ?? Self.defaultModels[name] ?? name
        switch name {
        case "scripted":
            guard let script else {
                throw NoModelConfigured(reason: "the scripted provider needs a script: set `llm.script` (or GLASSBOX_LLM_SCRIPT) to a YAML file of replies")
            }
            do {
                return (try ScriptedProvider(path: script), model)
            } catch {
                throw NoModelConfigured(reason: "the script cannot be used: \(error)")
            }
        case "openai", "anthropic":
            let kind: ProviderEndpoint.Kind = name == "openai" ? .openAI : .anthropic
            var endpoint = ProviderEndpoint(kind: kind, environment: environment)
            if let baseURL { endpoint.baseURL = baseURL }
            if kind == .anthropic, endpoint.apiKey == nil, baseURL == nil {
                throw NoModelConfigured(reason: "the anthropic provider needs ANTHROPIC_API_KEY")
            }
            if kind == .openAI, endpoint.apiKey == nil, endpoint.baseURL == ProviderEndpoint.defaultOpenAIBaseURL {
                throw NoModelConfigured(reason: "the openai provider needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local OpenAI-compatible server")
            }
            return (endpoint.makeProvider(timeout: timeout, idleTimeout: idleTimeout), model)
        default:
            throw NoModelConfigured(reason: "unknown provider `\(name)`; use openai, anthropic or scripted")
        }
    }

    /// The provider the environment points at, if any.
    var detectedProvider: String? {
        func set(_ name: String) -> Bool { !(environment[name] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
        if baseURL != nil || set("OPENAI_API_KEY") || set("OPENAI_BASE_URL") { return "openai" }
        if set("ANTHROPIC_API_KEY") { return "anthropic" }
        return nil
    }

    /// One line for logs and `GET /api/v1/agents`; never shows a key.
    public var summary: String {
        guard let name = provider ?? detectedProvider else { return "no model configured" }
        if name == "scripted" { return "scripted replies from \(script ?? "(no script)")" }
        let kind: ProviderEndpoint.Kind = name == "anthropic" ? .anthropic : .openAI
        var endpoint = ProviderEndpoint(kind: kind, environment: environment)
        if let baseURL { endpoint.baseURL = baseURL }
        return "\(model ?? Self.defaultModels[name] ?? name) via \(endpoint)"
    }
}

/// No model can be called: the message names what to set.
public struct NoModelConfigured: Error, Sendable, CustomStringConvertible {
    public var reason: String?

    public var description: String {
        let fix = "set OPENAI_API_KEY (and OPENAI_BASE_URL for a local OpenAI-compatible server such as Ollama or vLLM, "
            + "e.g. OPENAI_BASE_URL=http://127.0.0.1:11434/v1), or ANTHROPIC_API_KEY, or the `llm:` section of glassbox.yaml; "
            + "for a demo without a model, use `llm: {provider: scripted, script: FILE}`"
        if let reason { return "no model can be called: \(reason). To configure one, \(fix)" }
        return "no model is configured: \(fix)"
    }
}
