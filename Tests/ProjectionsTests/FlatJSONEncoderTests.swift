import Foundation
@testable import Projections
import Testing

@Suite struct FlatJSONEncoderTests {
    private func randomText(_ generator: inout SystemRandomNumberGenerator) -> String? {
        let pieces = ["analyst", "user:alice", "quote \" and \\ backslash", "line\nbreak\ttab", "émoji 🧪", "\u{01}control", ""]
        return Bool.random(using: &generator) ? pieces.randomElement(using: &generator) : nil
    }

    @Test func runSummariesRoundTripThroughJSONDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var run = RunSummary(
                runId: randomText(&generator) ?? "r1", status: RunStatus.allCases.randomElement(using: &generator)!,
                startedAt: Int64.random(in: 0...Int64.max, using: &generator),
                firstSeq: Int64.random(in: 1...1_000_000, using: &generator), lastSeq: 5, lastEventAt: -7)
            run.agent = randomText(&generator)
            run.task = randomText(&generator)
            run.error = randomText(&generator)
            run.durationMs = Bool.random(using: &generator) ? Int64.random(in: 0...1_000_000, using: &generator) : nil
            run.costUsd = [0, 0.0123, 1e-9, 12_345.678, 3].randomElement(using: &generator)!
            run.inputTokens = Int64.random(in: 0...Int64(UInt32.max), using: &generator)
            let json = try FlatJSONEncoder.encode(run)
            let decoded = try JSONDecoder().decode(RunSummary.self, from: Data(json.utf8))
            #expect(decoded == run, "\(json)")
            #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
        }
    }

    @Test func toolCallSummariesRoundTrip() throws {
        var call = ToolCallSummary(callId: "c-1", status: .denied, requestedAt: 1, firstSeq: 1, lastSeq: 2)
        call.truncated = true
        call.reason = "no grant allows \"sql:read\""
        let json = try FlatJSONEncoder.encode(call)
        #expect(try JSONDecoder().decode(ToolCallSummary.self, from: Data(json.utf8)) == call)
    }

    private struct Nested: Codable, Equatable {
        struct Inner: Codable, Equatable { var name: String }
        var inner: Inner
        var list: [Int]
        var value: Double
    }

    @Test func nestedValuesFallBackToJSONEncoder() throws {
        let value = Nested(inner: .init(name: "x"), list: [1, 2], value: 0.5)
        let json = try FlatJSONEncoder.encode(value)
        #expect(try JSONDecoder().decode(Nested.self, from: Data(json.utf8)) == value)
        let infinite = Nested(inner: .init(name: "y"), list: [], value: .infinity)
        #expect(throws: (any Error).self) { try FlatJSONEncoder.encode(infinite) }
    }
}
