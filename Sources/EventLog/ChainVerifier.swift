import Foundation

/// Where and how the hash chain is broken.
public struct ChainBreak: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A row's payload or envelope no longer matches its hash.
        case edited
        /// Rows are missing: a gap in `seq`, or later rows renumbered to hide it.
        case deleted
        /// A row was added that the chain does not account for.
        case inserted
        /// A row sits at a different position from the one it was appended at.
        case reordered
    }

    /// The first `seq` at which the log differs from what was appended.
    public let seq: Int64
    public let kind: Kind
    /// What exactly was found, in words.
    public let detail: String

    public var description: String { "seq \(seq): \(kind.rawValue): \(detail)" }
}

/// One row as stored: the hashed fields, the id's exact text and the two hashes.
struct StoredEvent: Sendable {
    /// The id as stored; `fields.id` is its value (all zeros when it does not parse).
    var idText: String
    var fields: HashedFields
    var prevHash: ChainHash?
    var hash: ChainHash?

    var seq: Int64 {
        get { fields.seq }
        set { fields.seq = newValue }
    }

    /// The hash this row would have if it had been appended at `seq` after `prevHash`.
    func computedHash(atSeq seq: Int64, scratch: inout [UInt8]) -> ChainHash? {
        // The id must be stored in its canonical lowercase spelling: another spelling is an edit.
        var text = idText
        guard let prevHash,
              fields.id.withLowercasedText({ canonical in text.withUTF8 { canonical.elementsEqual($0) } })
        else { return nil }
        var atSeq = fields
        atSeq.seq = seq
        return ChainHash.compute(previous: prevHash, atSeq, scratch: &scratch)
    }
}

/// Walks the stored rows in `seq` order and finds the first break in the chain,
/// then works out what kind of tampering explains it. Pure: no I/O.
///
/// Feed rows with ``check(_:next:)``; the caller supplies the following row (for
/// telling an edited row from an inserted one) and a lookup of rows by hash
/// (for telling a moved row from a deleted one).
struct ChainVerifier {
    /// How far around a row's position a moved row's original `seq` is searched for.
    static let searchRadius: Int64 = 64

    private(set) var previous: StoredEvent?
    private(set) var checked: Int64 = 0
    private var scratch: [UInt8] = []

    var headHash: ChainHash { previous?.hash ?? .genesis }

    /// Checks `row` against the chain so far. Returns the break it reveals, or nil.
    mutating func check(
        _ row: StoredEvent, next: StoredEvent?, rowWithHash: (ChainHash) -> StoredEvent?
    ) -> ChainBreak? {
        let expectedSeq = (previous?.seq ?? 0) + 1
        let expectedPrev = previous?.hash ?? .genesis
        if row.seq > expectedSeq {
            let missing = row.seq - 1 == expectedSeq ? "\(expectedSeq)" : "\(expectedSeq)–\(row.seq - 1)"
            return ChainBreak(seq: expectedSeq, kind: .deleted, detail: "seq \(missing) is missing from the log")
        }
        let linked = row.prevHash == expectedPrev
        let computed = row.computedHash(atSeq: row.seq, scratch: &scratch)
        let intact = computed != nil && computed == row.hash
        if intact && linked {
            previous = row
            checked += 1
            return nil
        }
        if intact {
            // The row is whole where it is, but its predecessor is not the row it was appended after.
            if let prevHash = row.prevHash, let original = rowWithHash(prevHash), let previous,
               original.seq == previous.seq - 1 {
                return ChainBreak(seq: previous.seq, kind: .inserted,
                                  detail: "the event at seq \(previous.seq) is not part of the chain; seq \(row.seq) was appended right after seq \(original.seq)")
            }
            return ChainBreak(seq: row.seq, kind: .edited, detail: "its prev_hash was changed: it does not link to seq \(expectedSeq - 1)")
        }
        // The row does not hash to its stored hash at this position. Was it appended elsewhere?
        if let originalSeq = originalPosition(of: row, rowWithHash: rowWithHash) {
            let predecessor = row.prevHash.flatMap(rowWithHash)
            if originalSeq > row.seq && predecessor == nil {
                return ChainBreak(seq: row.seq, kind: .deleted,
                                  detail: "the event appended at seq \(row.seq) was deleted and later events renumbered (this one was appended at seq \(originalSeq))")
            }
            if originalSeq < row.seq, let predecessor, let previous, predecessor.seq == originalSeq - 1,
               previous.seq > predecessor.seq {
                return ChainBreak(seq: predecessor.seq + 1, kind: .inserted,
                                  detail: "the event at seq \(predecessor.seq + 1) is not part of the chain; later events were renumbered to make room for it")
            }
            return ChainBreak(seq: row.seq, kind: .reordered,
                              detail: "the event now at seq \(row.seq) was appended at seq \(originalSeq)")
        }
        if let next, let previous, next.prevHash == previous.hash {
            return ChainBreak(seq: row.seq, kind: .inserted,
                              detail: "the event at seq \(row.seq) is not part of the chain: seq \(next.seq) was appended right after seq \(previous.seq)")
        }
        if previous == nil, let next, next.prevHash == .genesis {
            return ChainBreak(seq: row.seq, kind: .inserted,
                              detail: "the event at seq \(row.seq) is not part of the chain: seq \(next.seq) was appended first")
        }
        let what = linked ? "its payload or envelope was edited" : "its payload, envelope or prev_hash was edited"
        let last = next == nil ? " (or it was forged and appended at the end)" : ""
        return ChainBreak(seq: row.seq, kind: .edited, detail: "\(what): it no longer matches its hash\(last)")
    }

    /// The `seq` at which `row` hashes to its stored hash, if any other than its current one.
    private mutating func originalPosition(
        of row: StoredEvent, rowWithHash: (ChainHash) -> StoredEvent?
    ) -> Int64? {
        guard let hash = row.hash else { return nil }
        var candidates: [Int64] = []
        if let prevHash = row.prevHash {
            if prevHash == .genesis {
                candidates.append(1)
            } else if let predecessor = rowWithHash(prevHash) {
                candidates.append(predecessor.seq + 1)
            }
        }
        for offset in 1...Self.searchRadius {
            candidates.append(row.seq + offset)
            if row.seq - offset >= 1 { candidates.append(row.seq - offset) }
        }
        for seq in candidates where seq != row.seq {
            if row.computedHash(atSeq: seq, scratch: &scratch) == hash { return seq }
        }
        return nil
    }
}
