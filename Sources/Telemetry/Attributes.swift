public import GlassboxProto

typealias OTLPKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias OTLPAnyValue = Opentelemetry_Proto_Common_V1_AnyValue
typealias OTLPLogRecord = Opentelemetry_Proto_Logs_V1_LogRecord

/// One attribute of a span or span event, kept in Glassbox's own small form until it is
/// written: building OTLP's nested messages for every attribute cost more than the rest of
/// the export.
public struct SpanAttribute: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case string(String)
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case strings([String])
    }

    public let key: String
    public let value: Value

    /// The attribute as an OTLP `KeyValue`.
    public var otlp: Opentelemetry_Proto_Common_V1_KeyValue {
        var item = OTLPKeyValue()
        item.key = key
        switch value {
        case .string(let text): item.value.value = .stringValue(text)
        case .int(let number): item.value.value = .intValue(number)
        case .double(let number): item.value.value = .doubleValue(number)
        case .bool(let flag): item.value.value = .boolValue(flag)
        case .strings(let texts):
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = texts.map { text in
                var value = OTLPAnyValue()
                value.value = .stringValue(text)
                return value
            }
            item.value.value = .arrayValue(array)
        }
        return item
    }
}

/// Builds an attribute list, skipping empty values: proto3 cannot tell "unset" from
/// "empty", and an attribute that says nothing only costs bytes.
struct AttributeList {
    var items: [SpanAttribute] = []

    init() { items.reserveCapacity(16) }

    var otlp: [OTLPKeyValue] { items.map(\.otlp) }

    mutating func add(_ key: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        items.append(SpanAttribute(key: key, value: .string(value)))
    }

    mutating func add(_ key: String, _ value: Int64?) {
        guard let value else { return }
        items.append(SpanAttribute(key: key, value: .int(value)))
    }

    mutating func add(_ key: String, _ value: Double?) {
        guard let value else { return }
        items.append(SpanAttribute(key: key, value: .double(value)))
    }

    mutating func add(_ key: String, _ value: Bool?) {
        guard let value else { return }
        items.append(SpanAttribute(key: key, value: .bool(value)))
    }

    mutating func add(_ key: String, strings: [String]) {
        guard !strings.isEmpty else { return }
        items.append(SpanAttribute(key: key, value: .strings(strings)))
    }
}

extension PayloadJSON {
    /// The value as an OTLP `AnyValue`: objects become key-value lists, arrays arrays.
    var anyValue: OTLPAnyValue {
        var result = OTLPAnyValue()
        switch self {
        case .string(let value): result.value = .stringValue(value)
        case .integer(let value): result.value = .intValue(value)
        case .number(let value): result.value = .doubleValue(value)
        case .bool(let value): result.value = .boolValue(value)
        case .null: break
        case .array(let values):
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = values.map(\.anyValue)
            result.value = .arrayValue(array)
        case .object(let members):
            var list = Opentelemetry_Proto_Common_V1_KeyValueList()
            list.values = members.map { member in
                var item = OTLPKeyValue()
                item.key = member.key
                item.value = member.value.anyValue
                return item
            }
            result.value = .kvlistValue(list)
        }
        return result
    }
}

/// W3C ids are stored as lowercase hex; OTLP carries their bytes.
enum HexID {
    static func bytes(_ hex: String?) -> [UInt8] {
        guard let hex, !hex.isEmpty else { return [] }
        var result: [UInt8] = []
        result.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for byte in hex.utf8 {
            guard let nibble = nibble(byte) else { return [] }
            if let first = high {
                result.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? result : []
    }

    /// The value of one hex digit, or nil.
    @inline(__always)
    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 97...102: byte - 87
        case 65...70: byte - 55
        default: nil
        }
    }

    static func hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
