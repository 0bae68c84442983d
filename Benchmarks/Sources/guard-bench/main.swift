// guard-bench: the overhead of the tool guard per call, with a tool whose body does nothing:
// schema validation, authorization, rate limit, guardrails and the call's events appended.
//
//   scripts/bench-guard            # with LangGraph's ToolNode measured in the same run
//   guard-bench [--calls N] [--json]
//
// Prints median and p99 µs per call from one caller, and calls/s from 32 concurrent callers,
// with the log at synchronous=NORMAL and at FULL, beside the disk's fsync rate.
import EventLog
import Foundation
import GlassboxTesting
import Security
import Tools

struct NoOpTool: Tool {
    let name = "bench.noop"
    let description = "Does nothing."
    let inputSchema = try! JSONSchema([
        "type": "object",
        "properties": ["table": ["type": "string", "maxLength": 200], "limit": ["type": "integer", "minimum": 1, "maximum": 1000]],
        "required": ["table"],
        "additionalProperties": false,
    ])
    let risk = RiskClass.read
    // A limit high enough never to refuse, so the bucket is still checked on every call.
    let rateLimit: RateLimit? = RateLimit(capacity: 100_000_000, period: .seconds(1))

    func plan(_ input: JSONValue, for call: ToolCall) throws(ToolError) -> ToolPlan {
        ToolPlan(permissions: [Permission("sql:read", on: "warehouse.sales." + (input["table"]?.string ?? "orders"))], risk: .read)
    }

    func execute(_ input: JSONValue, context: ToolContext) async throws -> ToolOutput { ToolOutput(["ok": true]) }
}

let policyText = """
    version: 1
    roles:
      analyst:
        grants:
          - {id: read-sales, action: "sql:read", resource: "warehouse.sales.*", when: {principal.team: [data, finance]}}
      viewer:
        grants:
          - {action: "catalog:read", resource: "warehouse.*"}
    principals:
      user:alice: {roles: [viewer, analyst], attributes: {team: data}}
    agents:
      agent:analyst:
        roles: [viewer]
        grants:
          - {id: agent-read-sales, action: "sql:read", resource: "warehouse.sales.*"}
    deny:
      - {id: no-pii, action: "*", resource: "warehouse.*.pii_*"}
    """

var calls = 20_000
var json = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--calls": calls = Int(arguments.next() ?? "") ?? calls
    case "--json": json = true
    default:
        print("usage: guard-bench [--calls N] [--json]")
        exit(64)
    }
}

/// fsyncs per second of a small file in `directory`, over about one second.
func fsyncRate(in directory: String) -> Double {
    let path = directory + "/fsync-probe"
    let fd = open(path, O_CREAT | O_WRONLY, 0o644)
    defer { close(fd); unlink(path) }
    var count = 0
    let start = Date()
    var byte: UInt8 = 1
    while Date().timeIntervalSince(start) < 1 {
        _ = pwrite(fd, &byte, 1, 0)
        fsync(fd)
        count += 1
    }
    return Double(count) / Date().timeIntervalSince(start)
}

struct Figures {
    /// One-event appends to the log alone, one after another: the floor under each of a call's two commits.
    var appendMedian: Double
    var median: Double
    var p99: Double
    var concurrentRate: Double
}

func measure(durability: SQLiteEventLog.Durability, directory: TemporaryDirectory, calls: Int) async throws -> Figures {
    let log = try SQLiteEventLog(path: directory.path("bench-\(durability).db"), options: .init(durability: durability))
    defer { try? log.close() }
    let guardian = try await ToolCallGuard(registry: try ToolRegistry([NoOpTool()]), policy: try Policy(yaml: policyText, source: "bench"),
                                           environment: ToolEnvironment(), log: log)
    let policy = try Policy(yaml: policyText, source: "bench")
    let caller = policy.principal("user:alice")!
    let agent = policy.principal("agent:analyst")!
    let input: JSONValue = ["table": "orders", "limit": 10]
    // The log alone: one event per append, one after another (what each of a call's two commits costs).
    var appendSamples: [Double] = []
    for i in 0..<2_000 {
        let draft = try EventDraft(type: "tool.started", json: #"{"callId":"c\#(i)","tool":"bench.noop"}"#, actor: "user:alice")
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try await log.append([draft], to: "bench/\(i)", expectedVersion: .any)
        appendSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000)
    }
    appendSamples.sort()
    // Warm up, then time calls one after another.
    for _ in 0..<500 { _ = await guardian.call("bench.noop", input: input, caller: caller, agent: agent) }
    let sequential = durability == .full ? min(calls, 2_000) : calls
    var samples: [Double] = []
    samples.reserveCapacity(sequential)
    for _ in 0..<sequential {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = await guardian.call("bench.noop", input: input, caller: caller, agent: agent)
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000)
        precondition(result.status == .completed, "the benchmark call was refused: \(result.message ?? "")")
    }
    samples.sort()
    // 32 callers at once.
    let concurrentCalls = durability == .full ? min(calls, 4_000) : calls
    let start = DispatchTime.now().uptimeNanoseconds
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<32 {
            group.addTask {
                for _ in stride(from: worker, to: concurrentCalls, by: 32) {
                    _ = await guardian.call("bench.noop", input: input, caller: caller, agent: agent)
                }
            }
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return Figures(appendMedian: appendSamples[appendSamples.count / 2], median: samples[samples.count / 2], p99: samples[Int(Double(samples.count) * 0.99)],
                   concurrentRate: Double(concurrentCalls) / seconds)
}

let directory = try TemporaryDirectory(prefix: "glassbox-guard-bench")
defer { directory.remove() }
let fsyncs = fsyncRate(in: directory.url.path)
let normal = try await measure(durability: .normal, directory: directory, calls: calls)
let fsyncsBetween = fsyncRate(in: directory.url.path)
let full = try await measure(durability: .full, directory: directory, calls: calls)
let fsyncsAfter = fsyncRate(in: directory.url.path)
let fsyncMedian = [fsyncs, fsyncsBetween, fsyncsAfter].sorted()[1]

if json {
    print("""
        {"normal":{"append_median_us":\(normal.appendMedian),"median_us":\(normal.median),"p99_us":\(normal.p99),"calls_per_s_32":\(normal.concurrentRate)},\
        "full":{"append_median_us":\(full.appendMedian),"median_us":\(full.median),"p99_us":\(full.p99),"calls_per_s_32":\(full.concurrentRate)},"fsync_per_s":\(fsyncMedian)}
        """)
} else {
    func f(_ x: Double) -> String { String(format: "%.1f", x) }
    print("| log | median µs/call | p99 µs/call | calls/s, 32 callers | one-event append alone, median µs | disk fsync/s (same run) |")
    print("|---|---|---|---|---|---|")
    print("| synchronous=NORMAL | \(f(normal.median)) | \(f(normal.p99)) | \(Int(normal.concurrentRate)) | \(f(normal.appendMedian)) | \(Int(fsyncMedian)) |")
    print("| synchronous=FULL | \(f(full.median)) | \(f(full.p99)) | \(Int(full.concurrentRate)) | \(f(full.appendMedian)) | \(Int(fsyncMedian)) |")
    print("Goal: median ≤ 50 µs per call at NORMAL → \(normal.median <= 50 ? "met" : "NOT met") (\(f(normal.median)) µs)")
}
