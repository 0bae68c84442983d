public import EventLog
import GlassboxProto
import Foundation
import SwiftProtobuf

/// Builds realistic agent runs as event drafts: for tests, fixtures and benchmarks.
///
/// Each run is `run.started`, then `steps` rounds of thought → LLM call → tool call
/// (one in `denyEvery` denied), then `run.completed` (or `run.failed` for one in
/// `failEvery` runs). Deterministic for a given seed, so tests can predict the read models.
///
/// ```swift
/// var generator = RunGenerator(seed: 7)
/// let run = try generator.run(steps: 2)
/// try await log.append(run.drafts, to: run.stream, expectedVersion: .noStream)
/// ```
public struct RunGenerator: Sendable {
    /// One generated run: its id, stream and events in order.
    public struct Run: Sendable {
        public let runID: String
        public let stream: String
        public let drafts: [EventDraft]
    }

    public var denyEvery: Int
    public var failEvery: Int
    /// Characters of reasoning text in each thought; sets the typical event size.
    public var thoughtLength: Int
    private var state: UInt64
    private var counter = 0
    private var clock: Int64

    public init(seed: UInt64 = 1, denyEvery: Int = 4, failEvery: Int = 5, thoughtLength: Int = 160,
                startTime: Int64 = 1_764_000_000_000_000_000) {
        self.state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        self.denyEvery = denyEvery
        self.failEvery = failEvery
        self.thoughtLength = thoughtLength
        self.clock = startTime
    }

    /// The next run, with `steps` LLM-and-tool rounds.
    public mutating func run(steps: Int = 2, agent: String = "analyst", caller: String = "user:alice") throws -> Run {
        counter += 1
        let runID = String(format: "r%06d-%04x", counter, Int(next() & 0xFFFF))
        let actor = "agent:\(agent)@\(caller)"
        let root = TraceContext.newTrace()
        var drafts: [EventDraft] = []

        var started = Glassbox_V1_RunStarted()
        started.runID = runID
        started.agent = agent
        started.caller = caller
        started.task = "How did revenue per region change last quarter?"
        started.provider = "openai"
        started.model = "gpt-4.1"
        drafts.append(try draft(started, actor, root, after: 0))

        for step in 1...max(1, steps) {
            let llm = root.newChild()
            let callID = "llm-\(runID)-\(step)"
            var thought = Glassbox_V1_AgentThought()
            thought.text = text(length: thoughtLength)
            thought.callID = callID
            thought.step = UInt32(step)
            var requested = Glassbox_V1_LlmRequested()
            requested.callID = callID
            requested.provider = "openai"
            requested.model = "gpt-4.1"
            requested.messageCount = UInt32(2 * step)
            requested.toolCount = 3
            requested.attempt = 1
            var responded = Glassbox_V1_LlmResponded()
            responded.callID = callID
            responded.provider = "openai"
            responded.model = "gpt-4.1-2025-04-14"
            responded.inputTokens = UInt32(400 + next() % 600)
            responded.outputTokens = UInt32(50 + next() % 200)
            responded.latencyMs = UInt32(300 + next() % 900)
            responded.costUsd = Double(responded.inputTokens) * 2e-6 + Double(responded.outputTokens) * 8e-6
            responded.finishReasons = ["tool_calls"]
            drafts.append(try draft(requested, actor, llm, after: 2_000_000))
            drafts.append(try draft(thought, actor, llm, after: Int64(responded.latencyMs) * 500_000))
            drafts.append(try draft(responded, actor, llm, after: Int64(responded.latencyMs) * 500_000))

            let tool = root.newChild()
            let toolCallID = "call-\(runID)-\(step)"
            var toolRequested = Glassbox_V1_ToolRequested()
            toolRequested.callID = toolCallID
            toolRequested.tool = "sql_query"
            toolRequested.risk = "read"
            toolRequested.llmCallID = callID
            toolRequested.principal = caller
            toolRequested.input.fields["sql"] = .init(stringValue: "SELECT region, SUM(amount) FROM sales.orders GROUP BY region")
            drafts.append(try draft(toolRequested, actor, tool, after: 1_000_000))
            if (step + counter) % max(1, denyEvery) == 0 {
                var denied = Glassbox_V1_ToolDenied()
                denied.callID = toolCallID
                denied.tool = "sql_query"
                denied.principal = caller
                denied.action = "sql:read"
                denied.resource = "warehouse.sales.orders"
                denied.rule = "deny-by-default"
                denied.reason = "no grant allows sql:read on warehouse.sales.orders"
                denied.stage = "authorization"
                drafts.append(try draft(denied, actor, tool, after: 300_000))
            } else {
                var authorized = Glassbox_V1_ToolAuthorized()
                authorized.callID = toolCallID
                authorized.tool = "sql_query"
                authorized.principal = caller
                authorized.action = "sql:read"
                authorized.resource = "warehouse.sales.orders"
                authorized.rule = "analysts-read-sales"
                var toolStarted = Glassbox_V1_ToolStarted()
                toolStarted.callID = toolCallID
                toolStarted.tool = "sql_query"
                toolStarted.executingAs = "role:alice_ro"
                var completed = Glassbox_V1_ToolCompleted()
                completed.callID = toolCallID
                completed.tool = "sql_query"
                completed.rows = UInt32(4 + next() % 20)
                completed.durationMs = UInt32(20 + next() % 400)
                completed.outputBytes = completed.rows * 40
                drafts.append(try draft(authorized, actor, tool, after: 300_000))
                drafts.append(try draft(toolStarted, actor, tool, after: 100_000))
                drafts.append(try draft(completed, actor, tool, after: Int64(completed.durationMs) * 1_000_000))
            }
        }
        if counter % max(1, failEvery) == 0 {
            var failed = Glassbox_V1_RunFailed()
            failed.runID = runID
            failed.errorType = "budget_exceeded"
            failed.message = "the run used more than its 20,000-token budget"
            failed.steps = UInt32(steps)
            drafts.append(try draft(failed, actor, root, after: 1_000_000))
        } else {
            var completed = Glassbox_V1_RunCompleted()
            completed.runID = runID
            completed.output = "Revenue grew in EMEA (+12%) and fell in APAC (-3%)."
            completed.steps = UInt32(steps)
            drafts.append(try draft(completed, actor, root, after: 1_000_000))
        }
        return Run(runID: runID, stream: "run/\(runID)", drafts: drafts)
    }

    private mutating func draft(_ payload: some EventPayload, _ actor: String, _ trace: TraceContext, after nanoseconds: Int64) throws -> EventDraft {
        clock += nanoseconds
        return try EventDraft(payload, actor: actor, trace: trace, time: clock)
    }

    private mutating func next() -> UInt64 {
        // xorshift64*: deterministic, fast, good enough for fixtures.
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    private static let words = ["the", "orders", "table", "region", "revenue", "quarter", "join", "customers",
                                "filter", "partition", "month", "sum", "amount", "check", "schema", "sales"]

    private mutating func text(length: Int) -> String {
        var result = "I should"
        while result.utf8.count < length {
            result += " " + Self.words[Int(next() % UInt64(Self.words.count))]
        }
        return String(result.prefix(length))
    }
}
