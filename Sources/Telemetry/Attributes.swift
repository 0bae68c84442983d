import GlassboxProto

typealias OTLPKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias OTLPAnyValue = Opentelemetry_Proto_Common_V1_AnyValue
typealias OTLPSpan = Opentelemetry_Proto_Trace_V1_Span
typealias OTLPLogRecord = Opentelemetry_Proto_Logs_V1_LogRecord

/// Builds an attribute list, skipping empty values: proto3 cannot tell "unset" from
/// "empty", and an attribute that says nothing only costs bytes.
struct AttributeList {
    var items: [OTLPKeyValue] = []

    init() { items.reserveCapacity(16) }

    mutating func add(_ key: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        append(key, .stringValue(value))
    }

    mutating func add(_ key: String, _ value: Int64?) {
        guard let value else { return }
        append(key, .intValue(value))
    }

    mutating func add(_ key: String, _ value: Double?) {
        guard let value else { return }
        append(key, .doubleValue(value))
    }

    mutating func add(_ key: String, _ value: Bool?) {
        guard let value else { return }
        append(key, .boolValue(value))
    }

    mutating func add(_ key: String, strings: [String]) {
        guard !strings.isEmpty else { return }
        var array = Opentelemetry_Proto_Common_V1_ArrayValue()
        array.values = strings.map { string in
            var value = OTLPAnyValue()
            value.value = .stringValue(string)
            return value
        }
        append(key, .arrayValue(array))
    }

    mutating func append(_ key: String, _ value: OTLPAnyValue.OneOf_Value) {
        var item = OTLPKeyValue()
        item.key = key
        item.value.value = value
        items.append(item)
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
            let nibble: UInt8
            switch byte {
            case 48...57: nibble = byte - 48
            case 97...102: nibble = byte - 87
            case 65...70: nibble = byte - 55
            default: return []
            }
            if let first = high {
                result.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? result : []
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
