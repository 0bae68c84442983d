import EventLog

/// Reads single top-level fields of an event's JSON payload without decoding the
/// whole message.
///
/// Folds run over millions of events during a rebuild and need two or three
/// fields of some of them; building a full protobuf message for each would cost
/// more than everything else in the fold together. Payloads are stored in
/// canonical proto3 JSON, but the scanner accepts any valid JSON (whitespace,
/// escapes, nested values) and answers nil for what it cannot read.
struct PayloadFields {
    private let data: String

    init(_ event: Event) {
        data = event.data
    }

    init(json: String) {
        data = json
    }

    func string(_ name: String) -> String? {
        guard case .string(let value)? = scalar(name) else { return nil }
        return value
    }

    func int(_ name: String) -> Int64? {
        switch scalar(name) {
        case .number(let text)?: return Int64(text) ?? Double(text).flatMap { Int64(exactly: $0) }
        case .string(let text)?: return Int64(text)  // proto3 JSON writes 64-bit integers as strings
        default: return nil
        }
    }

    func double(_ name: String) -> Double? {
        switch scalar(name) {
        case .number(let text)?: return Double(text)
        case .string(let text)?: return Double(text)
        default: return nil
        }
    }

    func bool(_ name: String) -> Bool? {
        guard case .bool(let value)? = scalar(name) else { return nil }
        return value
    }

    enum Scalar: Equatable {
        case string(String)
        case number(String)
        case bool(Bool)
        case null
        case nested
    }

    /// The value of top-level field `name`, or nil when absent or unreadable.
    func scalar(_ name: String) -> Scalar? {
        var copy = data
        return copy.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes)
            return scanner.field(named: Array(name.utf8))
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func field(named name: [UInt8]) -> Scalar? {
            skipWhitespace()
            guard consume(UInt8(ascii: "{")) else { return nil }
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return nil }
            while index < bytes.count {
                skipWhitespace()
                guard let keyRange = stringRange() else { return nil }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                if matches(keyRange, name) {
                    return value()
                }
                guard skipValue() else { return nil }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return nil  // "}" or malformed: the field is not there
            }
            return nil
        }

        private mutating func value() -> Scalar? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let range = stringRange() else { return nil }
                return .string(unescape(range))
            case UInt8(ascii: "t"):
                return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return skipValue() ? .nested : nil
            default:
                let start = index
                while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
                guard index > start else { return nil }
                return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            }
        }

        /// Skips one value of any kind; false when malformed.
        private mutating func skipValue() -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return stringRange() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard stringRange() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default:
                        break
                    }
                    index += 1
                }
                return false
            default:
                let start = index
                while index < bytes.count, Self.isNumberByte(bytes[index]) || Self.isLetter(bytes[index]) { index += 1 }
                return index > start
            }
        }

        /// Consumes a string and returns the range of its contents (escapes included, quotes excluded).
        private mutating func stringRange() -> Range<Int>? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\\"):
                    index += 2
                case UInt8(ascii: "\""):
                    let range = start..<index
                    index += 1
                    return range
                default:
                    index += 1
                }
            }
            return nil
        }

        private func matches(_ range: Range<Int>, _ name: [UInt8]) -> Bool {
            guard range.count == name.count else { return false }
            var offset = range.lowerBound
            for byte in name {
                if bytes[offset] != byte { return false }
                offset += 1
            }
            return true
        }

        private func unescape(_ range: Range<Int>) -> String {
            let raw = UnsafeBufferPointer(rebasing: bytes[range])
            guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
            // Rare: let a real JSON parser handle escapes.
            let quoted = "\"" + String(decoding: raw, as: UTF8.self) + "\""
            return (try? JSONStringDecoder.decode(quoted)) ?? String(decoding: raw, as: UTF8.self)
        }

        private mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
            index += count
            return true
        }

        private mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipWhitespace() {
            while index < bytes.count,
                  bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        private static func isNumberByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }

        private static func isLetter(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A)
        }
    }
}

import Foundation

enum JSONStringDecoder {
    struct NotAString: Error {}

    static func decode(_ quoted: String) throws -> String {
        let value = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: [.fragmentsAllowed])
        guard let string = value as? String else { throw NotAString() }
        return string
    }
}
