import EventLog
import Foundation

/// Writing to the terminal: lines flushed at once, colour only for people.
enum Terminal {
    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1
    static let useColor = stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    /// Writes a line to stdout unbuffered, so that a reader (or a test) sees it at once.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A progress line on stderr that overwrites itself; shown only on a terminal.
    static func progress(_ text: String) {
        guard stderrIsTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
    }

    static func endProgress() {
        guard stderrIsTTY else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// The terminal's width in columns, or nil when stdout is not a terminal.
    static var width: Int? {
        guard stdoutIsTTY else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    static func paint(_ text: String, _ code: String) -> String {
        useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

enum Format {
    /// 1234567 → "1,234,567".
    static func count<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// A duration in human units: 850 ms, 12.4 s, 3 min 5 s, 2 h 10 min.
    static func duration(milliseconds: Int64) -> String {
        switch milliseconds {
        case ..<1_000: return "\(milliseconds) ms"
        case ..<60_000: return String(format: "%.1f s", Double(milliseconds) / 1_000)
        case ..<3_600_000: return "\(milliseconds / 60_000) min \(milliseconds % 60_000 / 1_000) s"
        default: return "\(milliseconds / 3_600_000) h \(milliseconds % 3_600_000 / 60_000) min"
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Unix nanoseconds as RFC 3339 UTC with milliseconds: 2026-11-25T10:04:05.123Z.
    static func time(_ nanoseconds: Int64) -> String {
        // The log's own format has nine fraction digits; people need three.
        String(EventTimeFormat.rfc3339(nanoseconds).dropLast(7)) + "Z"
    }

    /// One event as a line for people: seq, time, stream and version, type, actor, payload.
    /// Unless `full`, the payload is cut to fit the terminal (or 120 characters when not on one).
    static func eventLine(_ event: Event, full: Bool, width: Int? = Terminal.width) -> String {
        let seq = String(repeating: " ", count: max(0, 6 - String(event.seq).count)) + String(event.seq)
        let position = "\(event.stream)#\(event.streamVersion)"
        let fields = [
            seq, time(event.time), position.padding(toLength: max(26, position.count), withPad: " ", startingAt: 0),
            event.type.padding(toLength: max(18, event.type.count), withPad: " ", startingAt: 0), event.actor,
        ]
        let used = fields.map(\.count).reduce(0, +) + 2 * fields.count
        let room = max(40, (width ?? (used + 120)) - used)
        let data = full || event.data.count <= room ? event.data : String(event.data.prefix(room - 1)) + "…"
        return [
            Terminal.paint(fields[0], "2"), Terminal.paint(fields[1], "2"), fields[2],
            Terminal.paint(fields[3], color(of: event.type)), fields[4], data,
        ].joined(separator: "  ")
    }

    private static func color(of type: String) -> String {
        if type.hasSuffix(".failed") || type.hasSuffix(".denied") || type == "guardrail.blocked"
            || type == "auth.failed" || type.hasSuffix(".rejected") || type.hasSuffix(".cancelled") {
            return "31"  // red
        }
        if type.hasSuffix(".completed") || type.hasSuffix(".granted") || type.hasSuffix(".authorized") { return "32" }
        if type.hasPrefix("approval.") || type.hasSuffix(".stop_requested") { return "33" }
        if type.hasPrefix("llm.") || type == "agent.thought" { return "36" }
        return "1"
    }

    /// Rows as an aligned text table; long cells are cut at `maxWidth`.
    static func table(columns: [String], rows: [[String]], maxWidth: Int = 60) -> String {
        let cut = rows.map { $0.map { cell -> String in
            let flat = cell.replacingOccurrences(of: "\n", with: "⏎")
            return flat.count > maxWidth ? String(flat.prefix(maxWidth - 1)) + "…" : flat
        } }
        var widths = columns.map(\.count)
        for row in cut {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var lines = [render(columns), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
        lines.append(contentsOf: cut.map(render))
        return lines.joined(separator: "\n")
    }

    /// One CSV record (RFC 4180).
    static func csv(_ cells: [String]) -> String {
        cells.map { cell in
            cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                : cell
        }.joined(separator: ",")
    }
}
