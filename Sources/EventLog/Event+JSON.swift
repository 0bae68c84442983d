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
    /// A JSON string literal. Works on the UTF-8 bytes: most text needs no escape at all, and
    /// every event payload, API response and model request passes through here.
    public static func string(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.contains(where: needsCare) else { return "\"" + String(decoding: bytes, as: UTF8.self) + "\"" }
            var out: [UInt8] = [0x22]
            out.reserveCapacity(bytes.count + 16)
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 0x22: out += [0x5C, 0x22]
                case 0x5C: out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, 0x6E]
                case 0x0D: out += [0x5C, 0x72]
                case 0x09: out += [0x5C, 0x74]
                case ..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
                // U+2028 and U+2029 (E2 80 A8/A9) are valid JSON but end lines in JavaScript.
                case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    out += Array((bytes[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    i += 2
                default: out.append(byte)
                }
                i += 1
            }
            out.append(0x22)
            return String(decoding: out, as: UTF8.self)
        }
    }

    private static func needsCare(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0xE2
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
