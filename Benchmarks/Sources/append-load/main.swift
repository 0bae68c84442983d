// Appends agent.thought events to a log at a steady rate, as an agent process would, for
// scripts/bench-server. Each event's time is taken just before its append, so a stream
// client's "now − timeUnixNano" is the append-to-client latency.
//
//   append-load DB RATE SECONDS [full|normal]   prints how many events it appended
import EventLog
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 4, let rate = Double(arguments[2]), let seconds = Double(arguments[3]), rate > 0,
      let durability = SQLiteEventLog.Durability(rawValue: arguments.count > 4 ? arguments[4] : "full")
else {
    FileHandle.standardError.write(Data("usage: append-load DB RATE SECONDS [full|normal]\n".utf8))
    exit(64)
}
let log = try SQLiteEventLog(path: arguments[1], options: .init(durability: durability))
let text = String(repeating: "Revenue per region is in sales.orders; sum Q2 and Q3 per region and compare. ", count: 4)
let payload = #"{"callId":"llm-1","step":1,"text":"\#(text)"}"#
// Appends every 5 ms the events that are due by then: steady, and batched like group commit would.
let tick = Duration.milliseconds(5)
let clock = ContinuousClock()
let start = clock.now
var appended = 0
while true {
    let elapsed = clock.now - start
    if elapsed >= .seconds(seconds) { break }
    let due = Int(rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    if due > appended {
        let now = EventClock.now()
        let drafts = try (appended..<due).map { _ in
            try EventDraft(type: "agent.thought", json: payload, actor: "agent:analyst@user:bench", time: now)
        }
        _ = try await log.append(drafts, to: "run/bench", expectedVersion: .any)
        appended = due
    }
    try await Task.sleep(until: start + tick * (Int((clock.now - start) / tick) + 1), clock: clock)
}
try log.close()
print(appended)
