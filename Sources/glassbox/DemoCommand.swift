import ArgumentParser
import EventLog
import Foundation
import GlassboxProto
import SwiftProtobuf

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Append a sample agent run to the log, to see what Glassbox records.",
        discussion: """
            The run is scripted (provider "scripted", label demo=true): an analyst agent answers a
            question for user:demo with one SQL query that is allowed and one that the policy denies.
            No model is called and no database is queried. Then try:
              glassbox log tail
              glassbox projections show runs
              glassbox verify
            """
    )

    @OptionGroup var location: LogLocation
    @OptionGroup var durability: DurabilityOption
    @Option(help: ArgumentHelp(
        "A W3C traceparent (00-<trace-id>-<span-id>-<flags>) the run continues, as a run started by a request carrying it would. An invalid value is ignored, as W3C Trace Context asks.",
        valueName: "header"))
    var traceparent: String?

    func run() async throws {
        let log = try location.openForWriting(durability: try durability.resolved())
        defer { try? log.close() }
        let runID = "demo-" + String(UUID.version7().uuidString.lowercased().suffix(12))
        let trace = TraceContext(continuing: traceparent)
        if traceparent != nil, trace == nil {
            Terminal.note("glassbox: warning: --traceparent is not a valid W3C traceparent; the run starts a new trace")
        }
        let drafts = try DemoRun(runID: runID, endingAt: EventClock.now(), root: trace ?? .newTrace()).drafts()
        let result = try await log.append(drafts, to: "run/\(runID)", expectedVersion: .noStream)
        Terminal.line("appended run \(runID): \(drafts.count) events, seq \(result.firstSeq)–\(result.lastSeq), to \(log.path)")
        Terminal.line("next: glassbox log tail   ·   glassbox projections show runs   ·   glassbox verify")
    }
}

/// A scripted analyst run: two LLM rounds, an allowed query, a denied one, an answer.
struct DemoRun {
    let runID: String
    let endingAt: Int64
    /// The run's own span: a new trace, or one continuing a caller's trace.
    let root: TraceContext

    private let actor = "agent:analyst@user:demo"
    private let model = "scripted-demo"

    func drafts() throws -> [EventDraft] {
        var events: [(offsetMs: Int64, payload: any EventPayload, trace: TraceContext)] = []

        var started = Glassbox_V1_RunStarted()
        started.runID = runID
        started.agent = "analyst"
        started.agentVersion = "1"
        started.task = "Which region grew fastest last quarter, and by how much?"
        started.caller = "user:demo"
        started.provider = "scripted"
        started.model = model
        started.labels = ["demo": "true"]
        started.budget.maxSteps = 8
        started.budget.maxTokens = 20_000
        events.append((0, started, root))

        let firstCall = root.newChild()
        events.append((40, llmRequest("llm-1", messages: 2), firstCall))
        var plan = Glassbox_V1_AgentThought()
        plan.callID = "llm-1"
        plan.step = 1
        plan.text = "Revenue by region per quarter lives in sales.orders (amount, region, ordered_at). I will sum amount per region for Q2 and Q3 and compare."
        events.append((900, plan, firstCall))
        events.append((1_150, llmResponse("llm-1", input: 812, output: 96, latency: 1_110, tool: "sql_query",
                                          sql: "SELECT region, SUM(amount) FILTER (WHERE ordered_at >= '2026-07-01') AS q3, SUM(amount) FILTER (WHERE ordered_at < '2026-07-01') AS q2 FROM sales.orders WHERE ordered_at >= '2026-04-01' GROUP BY region"),
                       firstCall))

        let query = root.newChild()
        events.append((1_160, toolRequest("call-1", sql: "SELECT region, SUM(amount) … FROM sales.orders GROUP BY region"), query))
        var authorized = Glassbox_V1_ToolAuthorized()
        authorized.callID = "call-1"
        authorized.tool = "sql_query"
        authorized.principal = "user:demo"
        authorized.action = "sql:read"
        authorized.resource = "warehouse.sales.orders"
        authorized.rule = "analysts-read-sales"
        events.append((1_165, authorized, query))
        var toolStarted = Glassbox_V1_ToolStarted()
        toolStarted.callID = "call-1"
        toolStarted.tool = "sql_query"
        toolStarted.executingAs = "role:demo_readonly"
        events.append((1_170, toolStarted, query))
        var completed = Glassbox_V1_ToolCompleted()
        completed.callID = "call-1"
        completed.tool = "sql_query"
        completed.rows = 4
        completed.durationMs = 184
        completed.outputBytes = 212
        completed.output = Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: [
            row("EMEA", 1_240_000, 1_388_800), row("AMER", 2_010_000, 2_090_400),
            row("APAC", 870_000, 843_900), row("LATAM", 310_000, 334_800),
        ]))
        events.append((1_354, completed, query))

        let secondCall = root.newChild()
        events.append((1_360, llmRequest("llm-2", messages: 4), secondCall))
        var reflect = Glassbox_V1_AgentThought()
        reflect.callID = "llm-2"
        reflect.step = 2
        reflect.text = "EMEA grew 12.0%, LATAM 8.0%, AMER 4.0%, APAC fell 3.0%. Headcount per region would explain it; hr.employees might have it."
        events.append((2_300, reflect, secondCall))
        events.append((2_480, llmResponse("llm-2", input: 1_204, output: 71, latency: 1_120, tool: "sql_query",
                                          sql: "SELECT region, COUNT(*) FROM hr.employees GROUP BY region"), secondCall))

        let denied = root.newChild()
        events.append((2_490, toolRequest("call-2", sql: "SELECT region, COUNT(*) FROM hr.employees GROUP BY region"), denied))
        var refusal = Glassbox_V1_ToolDenied()
        refusal.callID = "call-2"
        refusal.tool = "sql_query"
        refusal.principal = "user:demo"
        refusal.action = "sql:read"
        refusal.resource = "warehouse.hr.employees"
        refusal.rule = "deny-by-default"
        refusal.reason = "no grant of user:demo allows sql:read on warehouse.hr.*"
        refusal.stage = "authorization"
        events.append((2_494, refusal, denied))

        let thirdCall = root.newChild()
        events.append((2_500, llmRequest("llm-3", messages: 6), thirdCall))
        var answer = llmResponse("llm-3", input: 1_377, output: 64, latency: 980, tool: nil, sql: nil)
        answer.finishReasons = ["stop"]
        events.append((3_480, answer, thirdCall))

        var done = Glassbox_V1_RunCompleted()
        done.runID = runID
        done.steps = 3
        done.output = "EMEA grew fastest last quarter: revenue up 12.0% (1.24 M → 1.39 M). I could not check headcount: hr.employees is not readable for user:demo."
        events.append((3_490, done, root))

        let start = endingAt - 3_490 * 1_000_000
        return try events.map { offset, payload, trace in
            try EventDraft(payload, actor: actor, trace: trace, time: start + offset * 1_000_000)
        }
    }

    private func llmRequest(_ callID: String, messages: UInt32) -> Glassbox_V1_LlmRequested {
        var request = Glassbox_V1_LlmRequested()
        request.callID = callID
        request.provider = "scripted"
        request.model = model
        request.messageCount = messages
        request.toolCount = 2
        request.attempt = 1
        return request
    }

    private func llmResponse(_ callID: String, input: UInt32, output: UInt32, latency: UInt32,
                             tool: String?, sql: String?) -> Glassbox_V1_LlmResponded {
        var response = Glassbox_V1_LlmResponded()
        response.callID = callID
        response.provider = "scripted"
        response.model = model
        response.inputTokens = input
        response.outputTokens = output
        response.latencyMs = latency
        response.finishReasons = ["tool_calls"]
        if let tool, let sql {
            var call = Glassbox_V1_ToolCallRequest()
            call.id = callID.replacingOccurrences(of: "llm", with: "call")
            call.name = tool
            call.arguments.fields["sql"] = Google_Protobuf_Value(stringValue: sql)
            response.toolCalls = [call]
        }
        return response
    }

    private func toolRequest(_ callID: String, sql: String) -> Glassbox_V1_ToolRequested {
        var request = Glassbox_V1_ToolRequested()
        request.callID = callID
        request.tool = "sql_query"
        request.risk = "read"
        request.principal = "user:demo"
        request.llmCallID = callID.replacingOccurrences(of: "call", with: "llm")
        request.input.fields["sql"] = Google_Protobuf_Value(stringValue: sql)
        return request
    }

    private func row(_ region: String, _ q2: Double, _ q3: Double) -> Google_Protobuf_Value {
        Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: [
            "region": Google_Protobuf_Value(stringValue: region),
            "q2": Google_Protobuf_Value(numberValue: q2),
            "q3": Google_Protobuf_Value(numberValue: q3),
        ]))
    }
}
