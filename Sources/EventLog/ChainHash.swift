import Foundation
import Crypto

/// A SHA-256 digest linking an event to everything before it.
///
/// Each event's hash covers the previous event's hash and the event's own
/// canonical encoding, so changing, removing, inserting or reordering any stored
/// row breaks the chain from that row on. `glassbox verify` recomputes it.
///
/// ## Canonical encoding (version 1)
///
/// The bytes hashed for an event are, in this order:
///
/// | field | encoding |
/// |---|---|
/// | `prev_hash` | 32 bytes; the first event uses 32 zero bytes |
/// | `seq` | 8 bytes, big-endian two's complement |
/// | `id` | 16 bytes, the UUID in RFC 9562 byte order |
/// | `time` | 8 bytes, big-endian two's complement (Unix nanoseconds) |
/// | `stream` | 4-byte big-endian length, then UTF-8 |
/// | `stream_version` | 8 bytes, big-endian |
/// | `type` | 4-byte big-endian length, then UTF-8 |
/// | `actor` | 4-byte big-endian length, then UTF-8 |
/// | `trace_id` | 4-byte big-endian length, then UTF-8 (length 0 when absent) |
/// | `span_id` | likewise |
/// | `parent_span_id` | likewise |
/// | `data` | 4-byte big-endian length, then the payload's exact stored UTF-8 bytes |
///
/// Fixed-size fields carry no length; every variable field does, so no two
/// different events encode to the same bytes. `hash = SHA-256(encoding)`.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    // Four big-endian words: comparing and copying a hash never allocates.
    private let w0, w1, w2, w3: UInt64

    /// 32 zero bytes: the `prev_hash` of the first event.
    public static let genesis = ChainHash(w0: 0, w1: 0, w2: 0, w3: 0)

    private init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// A hash from exactly 32 bytes, or nil.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words = [UInt64](repeating: 0, count: 4)
        for (index, byte) in bytes.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// A hash from 32 bytes at `pointer` (e.g. an SQLite blob).
    init(unsafeBytes pointer: UnsafeRawPointer) {
        func word(_ offset: Int) -> UInt64 {
            UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        self.init(w0: word(0), w1: word(8), w2: word(16), w3: word(24))
    }

    /// A hash from 64 hex digits, or nil.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: bytes)
    }

    /// The 32 bytes of the digest.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// 64 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    /// Calls `body` with the 32 bytes, without allocating.
    func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        let words = (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)
        return Swift.withUnsafeBytes(of: words) { body($0) }
    }

    func append(to buffer: inout [UInt8]) {
        withUnsafeBytes { buffer.append(contentsOf: $0) }
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case 48...57: character - 48
        case 97...102: character - 87
        case 65...70: character - 55
        default: nil
        }
    }
}

/// The fields of an event that the chain hash covers.
struct HashedFields: Sendable {
    var seq: Int64
    var id: UUID
    var time: Int64
    var stream: String
    var streamVersion: Int64
    var type: String
    var actor: String
    var traceID: String?
    var spanID: String?
    var parentSpanID: String?
    var data: String
}

extension ChainHash {
    /// Computes the hash of one event given its predecessor's hash.
    /// `scratch` is reused between calls to avoid an allocation per event.
    static func compute(previous: ChainHash, _ fields: HashedFields, scratch: inout [UInt8]) -> ChainHash {
        scratch.removeAll(keepingCapacity: true)
        previous.append(to: &scratch)
        appendBigEndian(UInt64(bitPattern: fields.seq), to: &scratch)
        Swift.withUnsafeBytes(of: fields.id.uuid) { scratch.append(contentsOf: $0) }
        appendBigEndian(UInt64(bitPattern: fields.time), to: &scratch)
        appendField(fields.stream, to: &scratch)
        appendBigEndian(UInt64(bitPattern: fields.streamVersion), to: &scratch)
        appendField(fields.type, to: &scratch)
        appendField(fields.actor, to: &scratch)
        appendField(fields.traceID ?? "", to: &scratch)
        appendField(fields.spanID ?? "", to: &scratch)
        appendField(fields.parentSpanID ?? "", to: &scratch)
        appendField(fields.data, to: &scratch)
        var hasher = SHA256()
        scratch.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().withUnsafeBytes { ChainHash(unsafeBytes: $0.baseAddress!) }
    }

    /// Computes the hash of one event given its predecessor's hash.
    public static func compute(previous: ChainHash, event: Event) -> ChainHash {
        var scratch = [UInt8]()
        return compute(previous: previous, HashedFields(event), scratch: &scratch)
    }

    private static func appendField(_ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            appendBigEndian(UInt32(utf8.count), to: &buffer)
            buffer.append(contentsOf: utf8)
        }
    }

    fileprivate static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        Swift.withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }
}

extension HashedFields {
    init(_ event: Event) {
        self.init(
            seq: event.seq, id: event.id, time: event.time, stream: event.stream,
            streamVersion: event.streamVersion, type: event.type, actor: event.actor,
            traceID: event.traceID, spanID: event.spanID, parentSpanID: event.parentSpanID, data: event.data)
    }
}
