import Foundation

/// Encodes flat values (structs of strings, numbers, booleans, optionals and string-backed
/// enums) as compact JSON, about ten times faster than Foundation's `JSONEncoder`, which
/// builds a tree of values first. Read-model rows are flat and a rebuild writes every one
/// of them, so this is where a rebuild spends its time otherwise.
///
/// Anything it does not handle (nested containers, non-finite numbers) throws
/// ``Unsupported``; ``encode(_:)`` then falls back to `JSONEncoder`.
public enum FlatJSONEncoder {
    struct Unsupported: Error {}

    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = FlatEncoder()
        do {
            try value.encode(to: encoder)
            guard !encoder.unsupported else { throw Unsupported() }
            return encoder.finish()
        } catch is Unsupported {
            let fallback = JSONEncoder()
            fallback.outputFormatting = [.sortedKeys]
            return String(decoding: try fallback.encode(value), as: UTF8.self)
        }
    }
}

private final class FlatEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    /// The JSON being written, as UTF-8 bytes (appending to a String cost more than the rest together).
    @exclusivity(unchecked) var output: [UInt8] = {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        bytes.append(UInt8(ascii: "{"))
        return bytes
    }()
    var isFirst = true
    var openedObject = false
    /// Set while a value encodes itself through `singleValueContainer()` under a key.
    var pendingKey: String?
    /// Set when the value asked for something this encoder does not write (a nested container).
    var unsupported = false

    func finish() -> String {
        if openedObject { output.append(UInt8(ascii: "}")) }
        return String(decoding: output, as: UTF8.self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if pendingKey != nil || openedObject {
            // A nested object: not flat.
            unsupported = true
            return KeyedEncodingContainer(FailingKeyed<Key>())
        }
        openedObject = true
        return KeyedEncodingContainer(FlatKeyed<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        unsupported = true
        return FailingUnkeyed()
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        FlatSingle(encoder: self)
    }

    func writeKey(_ key: String) {
        if !isFirst { output.append(UInt8(ascii: ",")) }
        isFirst = false
        writeString(key)
        output.append(UInt8(ascii: ":"))
    }

    func writeLiteral(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            output.append(contentsOf: text.utf8)  // nothing to escape: the common case
        } else {
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): writeLiteral("\\\"")
                case UInt8(ascii: "\\"): writeLiteral("\\\\")
                case UInt8(ascii: "\n"): writeLiteral("\\n")
                case UInt8(ascii: "\r"): writeLiteral("\\r")
                case UInt8(ascii: "\t"): writeLiteral("\\t")
                case 0..<0x20:
                    writeLiteral("\\u00")
                    output.append(Self.hexDigits[Int(byte >> 4)])
                    output.append(Self.hexDigits[Int(byte & 0x0F)])
                default: output.append(byte)  // UTF-8 passes through unchanged
                }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    func writeInteger(_ value: Int64) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        writeInteger(value.magnitude)
    }

    func writeInteger(_ value: UInt64) {
        var magnitude = value
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[count] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { output.append(digits[index]) }
        }
    }

    func writeNumber(_ value: Double) throws {
        guard value.isFinite else { throw FlatJSONEncoder.Unsupported() }
        if value == value.rounded(), abs(value) < 1e15 {
            writeInteger(Int64(value))
        } else {
            output.append(contentsOf: "\(value)".utf8)
        }
    }
}

private struct FlatKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: FlatEncoder
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        encoder.writeLiteral("null")
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        value ? encoder.writeLiteral("true") : encoder.writeLiteral("false")
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        encoder.writeString(value)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        encoder.writeKey(key.stringValue)
        try encoder.writeNumber(value)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { integer(Int64(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { integer(Int64(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { integer(Int64(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { integer(Int64(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { integer(UInt64(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { integer(UInt64(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { integer(UInt64(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { integer(UInt64(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { integer(value, key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        // String-backed enums and other single values encode through singleValueContainer().
        encoder.writeKey(key.stringValue)
        encoder.pendingKey = key.stringValue
        defer { encoder.pendingKey = nil }
        try value.encode(to: encoder)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        encoder.unsupported = true
        return KeyedEncodingContainer(FailingKeyed<NestedKey>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.unsupported = true
        return FailingUnkeyed()
    }
    mutating func superEncoder() -> any Encoder {
        encoder.unsupported = true
        return FailingEncoder()
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.unsupported = true
        return FailingEncoder()
    }

    private func integer(_ value: Int64, _ key: Key) {
        encoder.writeKey(key.stringValue)
        encoder.writeInteger(value)
    }

    private func integer(_ value: UInt64, _ key: Key) {
        encoder.writeKey(key.stringValue)
        encoder.writeInteger(value)
    }
}

private struct FlatSingle: SingleValueEncodingContainer {
    let encoder: FlatEncoder
    var codingPath: [any CodingKey] { [] }

    /// Only a value under a key may write itself; a bare top-level value is not a flat object.
    private func check() throws {
        guard encoder.pendingKey != nil else { throw FlatJSONEncoder.Unsupported() }
    }

    mutating func encodeNil() throws { try check(); encoder.writeLiteral("null") }
    mutating func encode(_ value: Bool) throws { try check(); value ? encoder.writeLiteral("true") : encoder.writeLiteral("false") }
    mutating func encode(_ value: String) throws { try check(); encoder.writeString(value) }
    mutating func encode(_ value: Double) throws { try check(); try encoder.writeNumber(value) }
    mutating func encode(_ value: Float) throws { try check(); try encoder.writeNumber(Double(value)) }
    mutating func encode(_ value: Int) throws { try check(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try check(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try check(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try check(); encoder.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try check(); encoder.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { try check(); encoder.writeInteger(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try check(); encoder.writeInteger(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try check(); encoder.writeInteger(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try check(); encoder.writeInteger(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try check(); encoder.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { throw FlatJSONEncoder.Unsupported() }
}

/// Containers that make encoding fail as soon as something is not flat.
private struct FailingKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil(forKey key: Key) throws { throw FlatJSONEncoder.Unsupported() }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { throw FlatJSONEncoder.Unsupported() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(FailingKeyed<NestedKey>())
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { FailingUnkeyed() }
    mutating func superEncoder() -> any Encoder { FailingEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { FailingEncoder() }
}

private struct FailingUnkeyed: UnkeyedEncodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int { 0 }
    mutating func encodeNil() throws { throw FlatJSONEncoder.Unsupported() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw FlatJSONEncoder.Unsupported() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(FailingKeyed<NestedKey>())
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { FailingUnkeyed() }
    mutating func superEncoder() -> any Encoder { FailingEncoder() }
}

private struct FailingEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { KeyedEncodingContainer(FailingKeyed<Key>()) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { FailingUnkeyed() }
    func singleValueContainer() -> any SingleValueEncodingContainer { FailingSingle() }
}

private struct FailingSingle: SingleValueEncodingContainer {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil() throws { throw FlatJSONEncoder.Unsupported() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw FlatJSONEncoder.Unsupported() }
}
