// agent-bench: the agent loop's own cost per step (one model call and one tool call), with a model
// that answers at once over loopback HTTP (GlassboxTesting's FakeLLMServer, OpenAI wire format) and
// a tool whose body does nothing. Everything else is real: the OpenAI client, the loop, the guard,
// every event appended to a SQLite log.
//
//   scripts/bench-agent            # with LangGraph's ReAct agent measured in the same run
//   agent-bench [--steps N] [--runs N] [--durability normal|full] [--samples N]
//
// Prints one JSON line: median and p99 µs per step of single runs (run time ÷ steps), and steps/s
// with `--runs` runs at once.
import Agents
import EventLog
import Foundation
import GlassboxTesting
import Security
import Tools

struct NoOpTool: Tool {
    let name = "bench.noop"
    let description = "Does nothing."
    let inputSchema = try! JSONSchema(["type": "object", "properties": ["table": ["type": "string"]], "additionalProperties": false])
    let risk = RiskClass.read

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        ToolPlan(permissions: [Permission("sql:read", on: "warehouse.sales." + (input["table"]?.string ?? "orders"))], risk: .read)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput { ToolOutput("ok") }
}

var steps = 20, concurrent = 50, samples = 30
var durability = SQLiteEventLog.Durability.normal
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--steps": steps = Int(arguments.next() ?? "") ?? steps
    case "--runs": concurrent = Int(arguments.next() ?? "") ?? concurrent
    case "--samples": samples = Int(arguments.next() ?? "") ?? samples
    case "--durability": durability = SQLiteEventLog.Durability(rawValue: arguments.next() ?? "") ?? durability
    default:
        print("usage: agent-bench [--steps N] [--runs N] [--durability normal|full] [--samples N]")
        exit(64)
    }
}

/// How often `needle` occurs in `text`: a plain byte scan, so the stand-in model costs little.
func occurrences(of needle: String, in text: String) -> Int {
    let pattern = Array(needle.utf8), bytes = Array(text.utf8)
    guard bytes.count >= pattern.count else { return 0 }
    var count = 0, i = 0
    while i <= bytes.count - pattern.count {
        if bytes[i] == pattern[0] && bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
            count += 1
            i += pattern.count
        } else {
            i += 1
        }
    }
    return count
}

let directory = try TemporaryDirectory(prefix: "glassbox-agent-bench")
defer { directory.remove() }
let log = try SQLiteEventLog(path: directory.path("bench.db"), options: .init(durability: durability))
let server = try await FakeLLMServer.start(wire: .openAI)
// Each run's answer follows from its own conversation: a tool call until it holds `steps` results, then the answer.
let wanted = steps
server.setResponder { request in
    let results = occurrences(of: #""role":"tool""#, in: request.body)
    guard results < wanted else { return .answer(text: "done", chunks: 1) }
    return .answer(toolCalls: [.init(id: "call_\(results)", name: "bench.noop", arguments: #"{"table":"orders"}"#)], chunks: 1)
}
let agent = AgentDefinition(name: "bench", instructions: "Call bench.noop until told otherwise.", tools: ["bench.noop"],
                            grants: [AgentGrant(actions: ["sql:read"], resources: ["warehouse.sales.*"])])
let policy = try Policy(yaml: """
    version: 1
    roles:
      analyst:
        grants:
          - {id: read-sales, action: "sql:read", resource: "warehouse.sales.*"}
    principals:
      user:alice: {roles: [analyst]}
    """, source: "bench").givingUnlisted(agent: agent.principalID, grants: agent.grants)
let toolGuard = try await ToolCallGuard(registry: try ToolRegistry([NoOpTool()]), policy: policy, environment: ToolEnvironment(), log: log)
let models = ModelSettings(provider: "openai", model: "bench-model", baseURL: server.baseURL, stream: false,
                           environment: ["OPENAI_API_KEY": "sk-bench"])
let runtime = AgentRuntime(log: log, toolGuard: toolGuard, catalog: AgentCatalog([agent]), models: models)

func run() async throws {
    let started = try await runtime.start(agent: "bench", task: "go", caller: "user:alice")
    let outcome = await runtime.outcome(of: started.runID)
    precondition(outcome == .completed(output: "done"), "the benchmark run did not complete: \(String(describing: outcome))")
}

// Warm up, then single runs one after another.
for _ in 0..<3 { try await run() }
var perStep: [Double] = []
for _ in 0..<samples {
    let start = DispatchTime.now().uptimeNanoseconds
    try await run()
    perStep.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000 / Double(steps))
}
perStep.sort()
// Many runs at once.
let start = DispatchTime.now().uptimeNanoseconds
try await withThrowingTaskGroup(of: Void.self) { group in
    for _ in 0..<concurrent { group.addTask { try await run() } }
    try await group.waitForAll()
}
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
// Each run of `steps` steps makes steps + 1 model calls (the last one answers) and `steps` tool calls.
let calls = server.requests.count
precondition(calls == (3 + samples + concurrent) * (steps + 1), "expected \((3 + samples + concurrent) * (steps + 1)) model calls, got \(calls)")
try await server.shutdown()
await runtime.shutdown()
try log.close()
let median = perStep[perStep.count / 2], p99 = perStep[min(perStep.count - 1, Int(Double(perStep.count) * 0.99))]
print(#"{"durability":"\#(durability.rawValue)","steps":\#(steps),"us_per_step_median":\#(median),"us_per_step_p99":\#(p99),"steps_per_s_50_runs":\#(Double(concurrent * steps) / seconds)}"#)
