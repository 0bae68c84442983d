@testable import EventLog
import Foundation
import Testing

@Suite struct ChainTests {
    /// Two events whose hashes were computed independently (Python's hashlib over the documented encoding).
    @Test func theCanonicalEncodingMatchesTheFixedVector() throws {
        let first = Event(
            seq: 1, id: UUID(uuidString: "0190f3a2-7c4e-7d1a-8b2c-3d4e5f607182")!, time: 1_764_000_000_123_456_789,
            stream: "run/r1", streamVersion: 1, type: "agent.thought", actor: "agent:analyst@user:alice",
            traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7", parentSpanID: nil,
            data: #"{"text":"hello"}"#, prevHash: .genesis, hash: .genesis)
        let firstHash = ChainHash.compute(previous: .genesis, event: first)
        #expect(firstHash.hex == "8006b3a41395b7dd250efaca02655d91fb1cb69036942ee8ccef9a4c1c6ca662")
        let second = Event(
            seq: 2, id: UUID(uuidString: "0190f3a2-7c4e-7d1a-8b2c-3d4e5f607183")!, time: 1_764_000_000_223_456_789,
            stream: "run/r1", streamVersion: 2, type: "run.completed", actor: "agent:analyst@user:alice",
            traceID: nil, spanID: nil, parentSpanID: nil,
            data: #"{"runId":"r1","output":"done — ✓"}"#, prevHash: firstHash, hash: .genesis)
        #expect(ChainHash.compute(previous: firstHash, event: second).hex
                == "dc500f2667bdcf6cf268757f23044f9e307645893e6e9269ddc40d6fd48c2bb3")
    }

    @Test func hexRoundTrips() throws {
        let hash = try #require(ChainHash(hex: "8006b3a41395b7dd250efaca02655d91fb1cb69036942ee8ccef9a4c1c6ca662"))
        #expect(hash.hex == "8006b3a41395b7dd250efaca02655d91fb1cb69036942ee8ccef9a4c1c6ca662")
        #expect(ChainHash(bytes: hash.bytes) == hash)
        #expect(ChainHash(hex: "zz") == nil)
    }

    // The verifier on rows in memory: each kind of tampering, at the right seq.

    private func chain(_ count: Int) -> [StoredEvent] {
        var rows: [StoredEvent] = []
        var previous = ChainHash.genesis
        var scratch: [UInt8] = []
        for seq in 1...Int64(count) {
            let id = UUID.version7()
            var row = StoredEvent(
                idText: id.lowercasedString,
                fields: HashedFields(
                    seq: seq, id: id, time: 1_000 + seq, stream: "run/r", streamVersion: seq, type: "agent.thought",
                    actor: "agent:a@user:b", traceID: nil, spanID: nil, parentSpanID: nil,
                    data: #"{"text":"step \#(seq)"}"#),
                prevHash: previous, hash: nil)
            row.hash = row.computedHash(atSeq: seq, scratch: &scratch)
            previous = row.hash!
            rows.append(row)
        }
        return rows
    }

    private func firstBreak(_ rows: [StoredEvent]) -> ChainBreak? {
        var verifier = ChainVerifier()
        for (index, row) in rows.enumerated() {
            let next = index + 1 < rows.count ? rows[index + 1] : nil
            if let found = verifier.check(row, next: next, rowWithHash: { hash in rows.first { $0.hash == hash } }) {
                return found
            }
        }
        return nil
    }

    @Test func anIntactChainHasNoBreak() {
        #expect(firstBreak(chain(10)) == nil)
    }

    @Test func anEditedPayloadIsFoundAtItsSeq() {
        var rows = chain(10)
        rows[4].fields.data = #"{"text":"rewritten"}"#
        #expect(firstBreak(rows).map { [$0.seq: $0.kind] } == [5: .edited])
        var last = chain(10)
        last[9].fields.actor = "user:mallory"
        #expect(firstBreak(last).map { [$0.seq: $0.kind] } == [10: .edited])
    }

    @Test func aDeletedRowIsFoundWithOrWithoutRenumbering() {
        var gap = chain(10)
        gap.remove(at: 3)
        #expect(firstBreak(gap).map { [$0.seq: $0.kind] } == [4: .deleted])
        var renumbered = chain(10)
        renumbered.remove(at: 3)
        for index in 3..<renumbered.count { renumbered[index].seq -= 1 }
        #expect(firstBreak(renumbered).map { [$0.seq: $0.kind] } == [4: .deleted])
        var first = chain(5)
        first.removeFirst()
        #expect(firstBreak(first).map { [$0.seq: $0.kind] } == [1: .deleted])
    }

    @Test func swappedRowsAreFoundAsReordered() {
        var adjacent = chain(10)
        (adjacent[2].seq, adjacent[3].seq) = (adjacent[3].seq, adjacent[2].seq)
        adjacent.swapAt(2, 3)
        #expect(firstBreak(adjacent).map { [$0.seq: $0.kind] } == [3: .reordered])
        var distant = chain(200)
        (distant[10].seq, distant[150].seq) = (distant[150].seq, distant[10].seq)
        distant.swapAt(10, 150)
        #expect(firstBreak(distant).map { [$0.seq: $0.kind] } == [11: .reordered])
    }

    @Test func anInsertedRowIsFoundWhetherItsHashIsForgedOrNot() {
        var scratch: [UInt8] = []
        let rows = chain(10)
        // A row with a made-up hash, later rows renumbered to make room.
        var bogus = rows[4]
        bogus.fields.id = UUID.version7()
        bogus.idText = bogus.fields.id.lowercasedString
        bogus.fields.data = #"{"text":"forged"}"#
        var withBogus = rows
        withBogus.insert(bogus, at: 5)
        for index in 6..<withBogus.count { withBogus[index].seq += 1 }
        withBogus[5].seq = 6
        #expect(firstBreak(withBogus).map { [$0.seq: $0.kind] } == [6: .inserted])
        // A row whose hash was computed correctly by someone who knows the algorithm.
        var forged = bogus
        forged.seq = 6
        forged.prevHash = rows[4].hash
        forged.hash = forged.computedHash(atSeq: 6, scratch: &scratch)
        var withForged = rows
        withForged.insert(forged, at: 5)
        for index in 6..<withForged.count { withForged[index].seq += 1 }
        #expect(firstBreak(withForged).map { [$0.seq: $0.kind] } == [6: .inserted])
    }
}
