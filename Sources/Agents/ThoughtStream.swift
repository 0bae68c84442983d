import Foundation
import EventLog
import GlassboxProto

/// Collects a streaming answer's text and records it as `agent.thought` events at a readable pace:
/// at most one event per `interval` (or per 4 KB), not one per token.
actor ThoughtStream {
    let log: any EventStore
    let stream: String
    let actor: String
    let trace: TraceContext
    let callID: String
    let step: Int
    let interval: Duration
    private var buffer = ""
    private var lastFlush = ContinuousClock.now

    init(log: any EventStore, stream: String, actor: String, trace: TraceContext, callID: String, step: Int, interval: Duration) {
        self.log = log
        self.stream = stream
        self.actor = actor
        self.trace = trace
        self.callID = callID
        self.step = step
        self.interval = interval
    }

    func add(_ text: String) async {
        buffer += text
        if buffer.utf8.count >= 4096 || lastFlush.duration(to: .now) >= interval { await flush() }
    }

    /// Records what is left; `fallback` is the whole text of an answer that was not streamed.
    func finish(fallback: String?) async {
        if let fallback, buffer.isEmpty { buffer = fallback }
        await flush()
    }

    private func flush() async {
        lastFlush = .now
        guard !buffer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        var payload = Glassbox_V1_AgentThought()
        payload.text = buffer
        payload.callID = callID
        payload.step = UInt32(step)
        buffer = ""
        // A thought that cannot be recorded is not worth failing the run for: the answer is recorded whole in llm.responded.
        if let draft = try? EventDraft(payload, actor: actor, trace: trace) {
            _ = try? await log.append([draft], to: stream, expectedVersion: .any)
        }
    }
}
