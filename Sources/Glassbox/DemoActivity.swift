public import EventLog
import Foundation

/// Scripted agent runs appended to the log as they "happen", at a human pace, so that a
/// new user of `glassbox serve --demo` watches a living dashboard without a model or a
/// warehouse. Every run is labelled `demo=true` and uses the provider `scripted`.
///
/// The scripts cover what a data team sees in a day: answered questions, a query the
/// policy denies, a write that waits for approval, a guardrail that blocks a `DROP`, a
/// tool that fails, and a run somebody stops. A demo run honours `run.stop_requested`
/// from anyone (the API, the dashboard's Stop button): it appends `run.cancelled` at its
/// next step, so stopping can be tried for real.
public struct DemoActivity: Sendable {
    private let store: any EventStore
    /// Multiplies every delay: 1 is a human pace, 0.01 runs a script in a blink (tests).
    private let pace: Double
    private let concurrentRuns: Int
    private let seed: UInt64

    public init(store: any EventStore, pace: Double = 1, concurrentRuns: Int = 3, seed: UInt64? = nil) {
        self.store = store
        self.pace = pace
        self.concurrentRuns = concurrentRuns
        self.seed = seed ?? UInt64(Date().timeIntervalSince1970)
    }

    /// Starts runs until the task is cancelled: a new one every few seconds, at most
    /// `concurrentRuns` at a time, cycling through the scripts.
    public func run() async {
        var random = SeededRandom(seed: seed)
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            var next = 0
            while !Task.isCancelled {
                if running >= concurrentRuns {
                    _ = await group.next()
                    running -= 1
                    continue
                }
                let script = DemoScript.all[next % DemoScript.all.count]
                let runID = "demo-" + String(UUID.version7().uuidString.lowercased().suffix(12))
                let runSeed = random.next()
                next += 1
                running += 1
                group.addTask { try? await play(script, runID: runID, seed: runSeed) }
                await sleep(seconds: 2.5 + random.unit() * 3)
            }
            group.cancelAll()
        }
    }

    /// Appends one scripted run, event by event with its delays; returns when it ended.
    public func play(_ script: DemoScript, runID: String, seed: UInt64 = 1) async throws {
        var random = SeededRandom(seed: seed)
        let stream = "run/\(runID)"
        let actor = "agent:\(script.agent)@\(script.caller)"
        let root = TraceContext.newTrace()
        var spans: [Int: TraceContext] = [:]
        var steps: UInt32 = 0
        // A script that ends without a terminal event waits for the stop it asked for.
        let ending = DemoStep(delay: 0.5, type: "run.completed", data: ["runId": runID, "output": "done"])
        for step in script.steps(runID) + [ending] {
            if step.delay > 0 {
                await sleep(seconds: step.delay * (0.7 + 0.6 * random.unit()))
            }
            if Task.isCancelled { return }
            if step.type != "run.started", let stop = try await stopRequest(in: stream) {
                let data = try stop.jsonObject()
                try await append(type: "run.cancelled", data: [
                    "runId": runID, "reason": data["reason"] as? String ?? "stop requested",
                    "requestedBy": data["requestedBy"] as? String ?? stop.actor, "steps": steps,
                ], actor: actor, trace: root, to: stream)
                return
            }
            let trace: TraceContext
            if let span = step.span {
                if spans[span] == nil { spans[span] = root.newChild() }
                trace = spans[span]!
            } else {
                trace = root
            }
            if step.type == "llm.responded" { steps += 1 }
            var data = step.data
            if ["run.completed", "run.failed", "run.cancelled"].contains(step.type) { data["steps"] = steps }
            try await append(type: step.type, data: data, actor: step.actor ?? actor, trace: trace, to: stream)
            if ["run.completed", "run.failed", "run.cancelled"].contains(step.type) { return }
        }
    }

    private func append(type: String, data: [String: Any], actor: String, trace: TraceContext, to stream: String) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys]), as: UTF8.self)
        let draft = try EventDraft(type: type, json: json, actor: actor, trace: trace)
        _ = try await store.append([draft], to: stream, expectedVersion: .any)
    }

    private func stopRequest(in stream: String) async throws -> Event? {
        try await store.events(EventQuery(filter: EventFilter(stream: stream, types: ["run.stop_requested"]), limit: 1)).first
    }

    private func sleep(seconds: Double) async {
        try? await Task.sleep(for: .milliseconds(Int(seconds * pace * 1_000)))
    }
}

extension Event {
    /// The payload as a dictionary, for code that reads a field or two.
    func jsonObject() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]) ?? [:]
    }
}

/// A small deterministic generator (SplitMix64), so a seed replays the same demo.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<1.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
