import EventLog
import Foundation
import Security

extension ToolCallGuard {
    /// Replays the `tool.authorized` events of the last refill period into the token buckets.
    /// A call takes a token right after its authorization, so replaying authorizations in order
    /// reproduces the buckets exactly as they were before the restart.
    func restoreRateLimits() async throws {
        var longest: Duration = .zero
        for tool in registry.tools {
            if let limit = policy.toolPolicy(tool.name).rateLimit ?? tool.rateLimit, limit.period > longest { longest = limit.period }
        }
        guard longest > .zero else { return }
        let cutoff = Int64((now() - Double(longest.components.seconds) - 1) * 1_000_000_000)
        var recent: [Event] = []
        var before: Int64? = nil
        paging: while true {
            let page = try await log.events(EventQuery(
                filter: EventFilter(types: ["tool.authorized"]), after: 0, through: before.map { $0 - 1 }, limit: 2_000, newestFirst: true))
            for event in page {
                if event.time < cutoff { break paging }
                recent.append(event)
            }
            guard page.count == 2_000, let oldest = page.last else { break }
            before = oldest.seq
        }
        for event in recent.reversed() {
            guard let data = try? JSONValue(parsing: event.data), let principal = data["principal"]?.string,
                  let toolName = data["tool"]?.string, let tool = registry[toolName],
                  let limit = policy.toolPolicy(toolName).rateLimit ?? tool.rateLimit else { continue }
            _ = limiter.take(key: Self.rateKey(principal, toolName), limit: limit, now: Double(event.time) / 1_000_000_000)
        }
    }
}
