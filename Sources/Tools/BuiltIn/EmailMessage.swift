import Foundation

/// The pure parts of a mail: checked addresses and the header lines (RFC 5322), so that they can be
/// tested without a server. libcurl builds the MIME body from them.
enum EmailMessage {
    /// A bare address (`name@example.com`): a dot-atom local part and a domain of letters, digits,
    /// hyphens and dots. Display names, comments and quoted local parts are not accepted.
    static func isValidAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, address.utf8.count <= 254 else { return false }
        let local = parts[0], domain = parts[1]
        let localCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-")
        guard !local.isEmpty, local.count <= 64, local.allSatisfy(localCharacters.contains),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 1 && labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Whether `text` would end a header line early (CR, LF or NUL): header injection.
    static func breaksHeader(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "\r" || $0 == "\n" || $0 == "\0" || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{85}" }
    }

    /// The address inside a From setting: `Reports <reports@example.com>` or a bare address.
    static func envelopeAddress(_ from: String) -> String? {
        let trimmed = from.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let inner = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            return isValidAddress(inner) ? inner : nil
        }
        return isValidAddress(trimmed) ? trimmed : nil
    }

    /// `Tue, 01 Jul 2025 12:00:00 +0000`.
    static func dateHeader(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// `<uuid@domain-of-the-sender>`.
    static func messageID(sender: String, id: UUID = UUID()) -> String {
        let domain = sender.split(separator: "@").last.map(String.init) ?? "localhost"
        return "<\(id.uuidString.lowercased())@\(domain)>"
    }

    /// The subject as is when it is printable ASCII, else RFC 2047 encoded words (UTF-8, base64) of
    /// at most 75 characters each, on folded lines.
    static func encodedSubject(_ subject: String) -> String {
        if subject.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) { return subject }
        var words: [String] = []
        var chunk = Data()
        for character in subject {
            let bytes = Data(String(character).utf8)
            // 45 bytes of UTF-8 are 60 base64 characters: with `=?UTF-8?B?` and `?=`, 72 in all.
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// The header lines of a message (without MIME headers, which libcurl writes).
    static func headers(from: String, to: [String], cc: [String], subject: String, date: Date, messageID: String) -> [String] {
        var lines = ["Date: \(dateHeader(date))", "From: \(from)", "To: \(to.joined(separator: ", "))"]
        if !cc.isEmpty { lines.append("Cc: \(cc.joined(separator: ", "))") }
        lines.append("Message-ID: \(messageID)")
        lines.append("Subject: \(encodedSubject(subject))")
        return lines
    }

    /// The media type of an attachment, from its file name.
    static func mediaType(forFileName name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "pdf": "application/pdf"
        case "csv": "text/csv; charset=utf-8"
        case "txt", "log": "text/plain; charset=utf-8"
        case "md": "text/markdown; charset=utf-8"
        case "html", "htm": "text/html; charset=utf-8"
        case "json": "application/json"
        case "sql": "application/sql"
        case "yml", "yaml": "application/yaml"
        default: "application/octet-stream"
        }
    }
}
