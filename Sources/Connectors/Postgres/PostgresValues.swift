import NIOCore
import PostgresNIO

/// PostgreSQL's binary wire format (postgres-nio asks for binary results) to ``SQLValue``.
/// Types without a Swift counterpart become text in PostgreSQL's own notation.
enum PostgresValues {
    static func value(_ cell: PostgresCell) -> SQLValue {
        guard var buffer = cell.bytes else { return .null }
        return value(&buffer, type: cell.dataType.rawValue)
    }

    static func value(_ buffer: inout ByteBuffer, type oid: UInt32) -> SQLValue {
        let type = PostgresDataType(oid)
        switch type {
        case .bool:
            return buffer.readInteger(as: UInt8.self).map { .bool($0 != 0) } ?? .null
        case .int2:
            return buffer.readInteger(as: Int16.self).map { .integer(Int64($0)) } ?? .null
        case .int4:
            return buffer.readInteger(as: Int32.self).map { .integer(Int64($0)) } ?? .null
        case .int8:
            return buffer.readInteger(as: Int64.self).map { .integer($0) } ?? .null
        case .oid, .xid, .cid, .regproc, .regclass, .regtype, .regprocedure, .regoper, .regoperator:
            return buffer.readInteger(as: UInt32.self).map { .integer(Int64($0)) } ?? .null
        case .float4:
            return buffer.readInteger(as: UInt32.self).map { .real(Double(Float(bitPattern: $0))) } ?? .null
        case .float8:
            return buffer.readInteger(as: UInt64.self).map { .real(Double(bitPattern: $0)) } ?? .null
        case .numeric:
            return numeric(&buffer).map { .text($0) } ?? .null
        case .bytea:
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .jsonb:
            buffer.moveReaderIndex(forwardBy: min(1, buffer.readableBytes))  // the format version byte
            return .text(buffer.readString(length: buffer.readableBytes) ?? "")
        case .uuid:
            guard let bytes = buffer.readBytes(length: 16) else { return .null }
            let groups = [bytes[0..<4], bytes[4..<6], bytes[6..<8], bytes[8..<10], bytes[10..<16]]
            return .text(groups.map { String(hex: $0) }.joined(separator: "-"))
        case .date:
            return buffer.readInteger(as: Int32.self).map { .text(date($0)) } ?? .null
        case .timestamp:
            return buffer.readInteger(as: Int64.self).map { .text(timestamp($0, zone: false)) } ?? .null
        case .timestamptz:
            return buffer.readInteger(as: Int64.self).map { .text(timestamp($0, zone: true)) } ?? .null
        case .time:
            return buffer.readInteger(as: Int64.self).map { .text(time($0)) } ?? .null
        case .timetz:
            guard let micros = buffer.readInteger(as: Int64.self), let west = buffer.readInteger(as: Int32.self) else { return .null }
            return .text(time(micros) + zone(eastSeconds: -Int(west)))
        case .interval:
            guard let micros = buffer.readInteger(as: Int64.self), let days = buffer.readInteger(as: Int32.self),
                  let months = buffer.readInteger(as: Int32.self) else { return .null }
            return .text(interval(micros: micros, days: days, months: months))
        case .inet, .cidr:
            return inet(&buffer).map { .text($0) } ?? .null
        default:
            if arrayTypes.contains(oid) {
                let start = buffer.readerIndex
                if let text = array(&buffer) { return .text(text) }
                buffer.moveReaderIndex(to: start)
            }
            // text, varchar, name, json, xml, enums, citext, …: their binary form is their text,
            // which never holds a NUL byte. Anything else stays bytes (see `decodeArrays`).
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) { return .text(text) }
            return .blob(bytes)
        }
    }

    /// Built-in array types (bool[] … jsonb[]); other arrays are found by their type name (see `decodeArrays`).
    static let arrayTypes: Set<UInt32> = [
        199, 651, 1000, 1001, 1002, 1003, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1028, 1041, 1115,
        1182, 1183, 1185, 1187, 1231, 1270, 2951, 3807,
    ]

    /// A value of a user-defined array type (e.g. an enum's), read as bytes, in array notation.
    static func decodeArray(_ value: SQLValue) -> SQLValue {
        guard case .blob(let bytes) = value else { return value }
        var buffer = ByteBuffer(bytes: bytes)
        return array(&buffer).map { .text($0) } ?? value
    }

    /// The SQL name of a type postgres-nio knows, lowercased (`bigint`, `timestamptz`); nil otherwise.
    static func knownTypeName(_ oid: UInt32) -> String? {
        PostgresDataType(oid).knownSQLName?.lowercased()
    }

    // MARK: numeric

    /// Base-10000 digits with a weight and a display scale, printed exactly.
    static func numeric(_ buffer: inout ByteBuffer) -> String? {
        guard let count = buffer.readInteger(as: Int16.self), let weight = buffer.readInteger(as: Int16.self),
              let sign = buffer.readInteger(as: UInt16.self), let scale = buffer.readInteger(as: Int16.self) else { return nil }
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        var digits: [Int16] = []
        for _ in 0..<max(0, Int(count)) {
            guard let digit = buffer.readInteger(as: Int16.self) else { return nil }
            digits.append(digit)
        }
        func group(_ index: Int) -> Int16 { index >= 0 && index < digits.count ? digits[index] : 0 }
        var integer = ""
        if weight < 0 {
            integer = "0"
        } else {
            for index in 0...Int(weight) {
                let text = String(group(index))
                integer += index == 0 ? text : String(repeating: "0", count: 4 - text.count) + text
            }
        }
        var text = (sign == 0x4000 ? "-" : "") + integer
        if scale > 0 {
            var fraction = ""
            var index = Int(weight) + 1
            while fraction.count < Int(scale) {
                let part = String(group(index))
                fraction += String(repeating: "0", count: 4 - part.count) + part
                index += 1
            }
            text += "." + fraction.prefix(Int(scale))
        }
        return text
    }

    // MARK: dates and times (microseconds and days since 2000-01-01)

    static func date(_ days: Int32) -> String {
        if days == Int32.max { return "infinity" }
        if days == Int32.min { return "-infinity" }
        let (year, month, day) = civil(fromDaysSince1970: Int64(days) + 10_957)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    static func timestamp(_ micros: Int64, zone: Bool) -> String {
        if micros == Int64.max { return "infinity" }
        if micros == Int64.min { return "-infinity" }
        let perDay: Int64 = 86_400_000_000
        let days = micros >= 0 ? micros / perDay : (micros - perDay + 1) / perDay
        let rest = micros - days * perDay
        let (year, month, day) = civil(fromDaysSince1970: days + 10_957)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) " + time(rest) + (zone ? "+00" : "")
    }

    static func time(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        var text = "\(pad(seconds / 3_600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if fraction > 0 {
            var digits = pad(fraction, 6)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    static func zone(eastSeconds: Int) -> String {
        let sign = eastSeconds < 0 ? "-" : "+"
        let magnitude = abs(eastSeconds)
        var text = sign + pad(Int64(magnitude / 3_600), 2)
        if magnitude % 3_600 != 0 { text += ":" + pad(Int64(magnitude / 60 % 60), 2) }
        return text
    }

    /// PostgreSQL's default interval style: `1 year 2 mons 3 days 04:05:06`.
    static func interval(micros: Int64, days: Int32, months: Int32) -> String {
        var parts: [String] = []
        let years = months / 12, restMonths = months % 12
        if years != 0 { parts.append("\(years) year" + (abs(years) == 1 ? "" : "s")) }
        if restMonths != 0 { parts.append("\(restMonths) mon" + (abs(restMonths) == 1 ? "" : "s")) }
        if days != 0 { parts.append("\(days) day" + (abs(days) == 1 ? "" : "s")) }
        if micros != 0 || parts.isEmpty {
            parts.append((micros < 0 ? "-" : "") + time(micros.magnitude > UInt64(Int64.max) ? Int64.max : abs(micros)))
        }
        return parts.joined(separator: " ")
    }

    /// Howard Hinnant's days-to-civil algorithm.
    static func civil(fromDaysSince1970 days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value.magnitude)
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
    }

    // MARK: network addresses

    static func inet(_ buffer: inout ByteBuffer) -> String? {
        guard let family = buffer.readInteger(as: UInt8.self), let bits = buffer.readInteger(as: UInt8.self),
              let isCIDR = buffer.readInteger(as: UInt8.self), let length = buffer.readInteger(as: UInt8.self),
              let bytes = buffer.readBytes(length: Int(length)) else { return nil }
        let address: String
        let fullBits: Int
        if family == 2 {
            address = bytes.map(String.init).joined(separator: ".")
            fullBits = 32
        } else {
            address = stride(from: 0, to: bytes.count, by: 2).map { index in
                String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16)
            }.joined(separator: ":")
            fullBits = 128
        }
        return isCIDR != 0 || Int(bits) != fullBits ? "\(address)/\(bits)" : address
    }

    // MARK: arrays

    /// A binary array in PostgreSQL's text notation: `{1,2,NULL}`, `{{a,b},{c,d}}`.
    static func array(_ buffer: inout ByteBuffer) -> String? {
        guard let dimensions = buffer.readInteger(as: Int32.self), dimensions >= 0, dimensions <= 6,
              buffer.readInteger(as: Int32.self) != nil, let elementType = buffer.readInteger(as: UInt32.self) else { return nil }
        if dimensions == 0 { return "{}" }
        var sizes: [Int] = []
        for _ in 0..<dimensions {
            guard let size = buffer.readInteger(as: Int32.self), buffer.readInteger(as: Int32.self) != nil, size >= 0 else { return nil }
            sizes.append(Int(size))
        }
        func elements(_ level: Int) -> String? {
            var items: [String] = []
            for _ in 0..<sizes[level] {
                if level + 1 < sizes.count {
                    guard let nested = elements(level + 1) else { return nil }
                    items.append(nested)
                    continue
                }
                guard let length = buffer.readInteger(as: Int32.self) else { return nil }
                if length < 0 {
                    items.append("NULL")
                    continue
                }
                guard var element = buffer.readSlice(length: Int(length)) else { return nil }
                items.append(arrayElement(value(&element, type: elementType)))
            }
            return "{" + items.joined(separator: ",") + "}"
        }
        return elements(0)
    }

    private static func arrayElement(_ value: SQLValue) -> String {
        switch value {
        case .null: return "NULL"
        case .integer, .real, .bool: return value.description
        case .blob(let bytes): return "\"\\\\x" + String(hex: bytes) + "\""
        case .text(let text):
            let plain = !text.isEmpty && text.lowercased() != "null"
                && !text.contains(where: { "{},\"\\ \t\n".contains($0) })
            if plain { return text }
            var quoted = "\""
            for character in text {
                if character == "\"" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            return quoted + "\""
        }
    }
}
