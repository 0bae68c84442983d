import EventLog
import Foundation
import Testing

@Suite struct SubscriptionTests {
    @Test func aSubscriptionStartedDuringAppendsSeesEverySeqOnceInOrder() async throws {
        let test = try TestLog()
        let total = 3_000
        // Some history first, so the subscription catches up before it goes live.
        for index in 0..<500 {
            _ = try await test.log.append([try thought("history \(index)")], to: "run/h", expectedVersion: .any)
        }
        let writer = Task {
            for index in 500..<total {
                if index % 3 == 0 {
                    _ = try await test.log.append([try thought("a \(index)"), try thought("b \(index)")], to: "run/w", expectedVersion: .any)
                } else {
                    _ = try await test.log.append([try thought("live \(index)")], to: "run/w", expectedVersion: .any)
                }
                if index % 50 == 0 { await Task.yield() }
            }
        }
        let expected = 500 + (500..<total).map { $0 % 3 == 0 ? 2 : 1 }.reduce(0, +)
        var seen: [Int64] = []
        for try await event in test.log.subscribe(after: 0) {
            seen.append(event.seq)
            if seen.count == expected { break }
        }
        try await writer.value
        #expect(seen == Array(1...Int64(seen.count)))
        #expect(Int64(seen.count) == (try await test.log.lastSeq()))
    }

    @Test func aSubscriptionResumesAfterAnySeqAndAppliesItsFilter() async throws {
        let test = try TestLog()
        for index in 0..<20 {
            _ = try await test.log.append([try thought("\(index)")], to: index % 2 == 0 ? "run/even" : "run/odd", expectedVersion: .any)
        }
        var iterator = test.log.subscribe(after: 10, filter: EventFilter(stream: "run/even")).makeAsyncIterator()
        var seqs: [Int64] = []
        for _ in 0..<5 { seqs.append(try #require(try await iterator.next()).seq) }
        #expect(seqs == [11, 13, 15, 17, 19])
        // Live: the next matching event arrives after non-matching ones.
        _ = try await test.log.append([try thought("odd")], to: "run/odd", expectedVersion: .any)
        _ = try await test.log.append([try thought("even")], to: "run/even", expectedVersion: .any)
        #expect(try await iterator.next()?.seq == 22)
    }

    @Test func anotherInstanceOnTheSameFileIsSeenWithoutAppendsInThisOne() async throws {
        let test = try TestLog()
        let other = try SQLiteEventLog(path: test.path)
        let reader = Task {
            var seqs: [Int64] = []
            for try await event in test.log.subscribe(after: 0) {
                seqs.append(event.seq)
                if seqs.count == 50 { break }
            }
            return seqs
        }
        for index in 0..<50 {
            _ = try await other.append([try thought("\(index)")], to: "run/other", expectedVersion: .any)
            if index % 10 == 0 { try await Task.sleep(for: .milliseconds(30)) }
        }
        #expect(try await reader.value == Array(1...50))
    }

    @Test func cancellingASubscriptionEndsItsWait() async throws {
        let test = try TestLog()
        let waiting = Task {
            for try await _ in test.log.subscribe(after: 0) {}
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
