import Foundation
import GRDB

/// What `verify` found.
public struct VerificationReport: Sendable {
    /// Events whose hash and link were checked and found intact.
    public var eventsChecked: Int64
    /// The last `seq` in the log.
    public var lastSeq: Int64
    /// The hash of the last intact event: record it elsewhere to detect a later rewrite of the whole tail.
    public var headHash: ChainHash
    /// The first break in the chain, if any.
    public var chainBreak: ChainBreak?
    /// What SQLite's `quick_check` reported, when the storage itself is damaged.
    public var storageProblems: [String]
    /// Consumers whose checkpoint lies beyond the end of the log: events were removed from the end.
    public var truncation: String?
    public var duration: Duration

    public var isIntact: Bool { chainBreak == nil && storageProblems.isEmpty && truncation == nil }
}

extension SQLiteEventLog {
    /// Recomputes the hash chain from the first event and reports the first break.
    ///
    /// - Parameters:
    ///   - checkStorage: also run SQLite's `PRAGMA quick_check` for damaged pages.
    ///   - progress: called now and then with the number of events checked so far.
    public func verify(
        checkStorage: Bool = true, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> VerificationReport {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            var report = try await pool.read { db -> VerificationReport in
                var report = VerificationReport(
                    eventsChecked: 0, lastSeq: 0, headHash: .genesis, chainBreak: nil, storageProblems: [],
                    truncation: nil, duration: .zero)
                if checkStorage {
                    let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
                    if problems != ["ok"] { report.storageProblems = problems }
                }
                report.lastSeq = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0
                do {
                    try Self.walkChain(db, into: &report, progress: progress)
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
                    // Report damage found while reading, with how far the chain was intact.
                    report.storageProblems.append(
                        "reading the events after seq \(report.eventsChecked) failed: \(error.message ?? "malformed")")
                }
                let furthest = try Row.fetchOne(
                    db, sql: "SELECT consumer, seq FROM consumer_checkpoints ORDER BY seq DESC LIMIT 1")
                if let furthest, let seq = Int64.fromDatabaseValue(furthest[1] as DatabaseValue), seq > report.lastSeq {
                    let consumer: String = furthest[0] ?? "?"
                    report.truncation = "consumer '\(consumer)' has processed up to seq \(seq) but the log ends at seq \(report.lastSeq): events were removed from the end"
                }
                return report
            }
            report.duration = clock.now - start
            return report
        } catch {
            throw SQLiteEventLog.translate(error, path: path)
        }
    }

    private static func walkChain(
        _ db: Database, into report: inout VerificationReport, progress: (@Sendable (Int64) -> Void)?
    ) throws {
        var verifier = ChainVerifier()
        let pageSize = 20_000
        var cursor: Int64 = 0
        var pending: StoredEvent?
        let lookup: (ChainHash) -> StoredEvent? = { hash in
            var found: StoredEvent?
            hash.withUnsafeBytes { bytes in
                found = try? storedEvents(db, sql: "SELECT \(EventRows.columns) FROM events WHERE hash = ?",
                                          arguments: [Data(bytes)]).first
            }
            return found
        }
        while true {
            let page = try storedEvents(
                db, sql: "SELECT \(EventRows.columns) FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [cursor, pageSize])
            var rows = page
            if let pending { rows.insert(pending, at: 0) }
            let isLastPage = page.count < pageSize
            // Keep the last row for the next page: checking a row needs the row after it.
            let checkCount = isLastPage ? rows.count : rows.count - 1
            for index in 0..<checkCount {
                let next = index + 1 < rows.count ? rows[index + 1] : nil
                if let chainBreak = verifier.check(rows[index], next: next, rowWithHash: lookup) {
                    report.chainBreak = chainBreak
                    report.eventsChecked = verifier.checked
                    report.headHash = verifier.headHash
                    return
                }
            }
            report.eventsChecked = verifier.checked
            report.headHash = verifier.headHash
            progress?(verifier.checked)
            if isLastPage { return }
            pending = rows.last
            cursor = page.last!.seq
        }
    }

    /// Rows exactly as stored, with the id as text, so that an id edited into another spelling is caught.
    private static func storedEvents(_ db: Database, sql: String, arguments: StatementArguments) throws -> [StoredEvent] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let row = RawStatement(statement, db)
        defer { row.reset() }
        var rows: [StoredEvent] = []
        while try row.step() {
            let event = EventRows.decode(row)
            rows.append(StoredEvent(
                idText: row.text(1) ?? "", fields: HashedFields(event), prevHash: row.hash(11), hash: row.hash(12)))
        }
        return rows
    }
}
