import Foundation
import GRDB
import Synchronization

/// The last `seq` known to be in the log, and the readers waiting for it to move.
///
/// It moves when this process commits (at once) and when a poll of the file sees
/// events appended by another process (within one poll interval).
final class LogHead: Sendable {
    private struct State {
        var seq: Int64
        var waiters: [Int: (after: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiterID = 0
        var poller: Task<Void, Never>?
    }

    private let state: Mutex<State>

    init(seq: Int64) {
        state = Mutex(State(seq: seq))
    }

    var seq: Int64 { state.withLock { $0.seq } }

    /// Records that the log reaches at least `seq` and wakes the readers waiting for it.
    func advance(to seq: Int64) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard seq > state.seq else { return [] }
            state.seq = seq
            let ready = state.waiters.filter { $0.value.after < seq }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once the log holds an event after `after`, or when the task is cancelled.
    func wait(after: Int64) async {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.seq > after || Task.isCancelled { return true }
                    state.waiters[id] = (after, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id)?.continuation }
            continuation?.resume()
        }
    }

    /// Starts watching the file for events appended by other processes.
    func startPolling(reader: DatabasePool, interval: Duration) {
        let task = Task.detached { [weak self, weak reader] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, let reader else { return }
                guard self.state.withLock({ !$0.waiters.isEmpty }) else { continue }
                if let last = try? await reader.read({ db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }) {
                    self.advance(to: last)
                }
            }
        }
        state.withLock { $0.poller = task }
    }

    func stopPolling() {
        state.withLock { $0.poller?.cancel() }
    }
}
