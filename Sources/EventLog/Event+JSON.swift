import Foundation

extension Event {
    /// The whole envelope as one line of JSON, the payload embedded as stored. This is the
    /// shape of an event everywhere outside the process: `log tail --json`, the API, the streams.
    public var jsonLine: String {
        """
        {"seq":\(seq),"id":"\(id.uuidString.lowercased())","time":"\(EventTimeFormat.rfc3339(time))",\
        "timeUnixNano":\(time),"stream":\(JSONText.string(stream)),"streamVersion":\(streamVersion),\
        "type":\(JSONText.string(type)),"actor":\(JSONText.string(actor)),"traceId":\(JSONText.optional(traceID)),\
        "spanId":\(JSONText.optional(spanID)),"parentSpanId":\(JSONText.optional(parentSpanID)),\
        "data":\(data.isEmpty ? "null" : data),"prevHash":"\(prevHash.hex)","hash":"\(hash.hex)"}
        """
    }
}

/// JSON literals written by hand where building a dictionary would be slower.
public enum JSONText {
    /// A JSON string literal.
    public static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    public static func optional(_ text: String?) -> String {
        text.map(string) ?? "null"
    }
}

/// Times as RFC 3339 in UTC with nanoseconds, e.g. `2026-11-25T03:14:01.123456789Z`.
public enum EventTimeFormat {
    /// Written digit by digit: every event rendered for the API and the streams has one, and
    /// `String(format:)` was the largest part of rendering an event.
    public static func rfc3339(_ unixNanos: Int64) -> String {
        let seconds = unixNanos.quotientAndRemainder(dividingBy: 1_000_000_000)
        var whole = seconds.quotient
        var nanos = seconds.remainder
        if nanos < 0 {
            whole -= 1
            nanos += 1_000_000_000
        }
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(30)
        func digits(_ value: Int, _ count: Int) {
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
            var value = value
            for index in stride(from: start + count - 1, through: start, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        bytes.append(UInt8(ascii: "."))
        digits(Int(nanos), 9)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
