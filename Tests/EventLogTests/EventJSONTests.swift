import EventLog
import Foundation
import Testing

@Suite struct EventJSONTests {
    /// The hand-written formatter against Foundation's, over dates from 1970 to 2100.
    @Test func rfc3339MatchesFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let seconds = Int64.random(in: 0...4_102_444_800, using: &generator)
            let nanos = Int64.random(in: 0..<1_000_000_000, using: &generator)
            let text = EventTimeFormat.rfc3339(seconds * 1_000_000_000 + nanos)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
            let fraction: String = String(nanos).leftPadded(to: 9)
            let wanted: String = String(expected.dropLast()) + "." + fraction + "Z"
            #expect(text == wanted)
        }
        #expect(EventTimeFormat.rfc3339(0) == "1970-01-01T00:00:00.000000000Z")
        #expect(EventTimeFormat.rfc3339(-1) == "1969-12-31T23:59:59.999999999Z")
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
