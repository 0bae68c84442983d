/// One lexical unit of SQL text. Whitespace and comments are not tokens.
struct SQLToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// An unquoted identifier or keyword.
        case word
        /// `"…"` (both dialects), `` `…` `` and `[…]` (SQLite), `U&"…"` (PostgreSQL).
        case quotedIdentifier
        /// `'…'`, `E'…'`, `U&'…'`, `X'…'`, `$tag$…$tag$`.
        case string
        case number
        /// `$1` (PostgreSQL); `?`, `?1`, `:name`, `@name`, `$name` (SQLite).
        case parameter
        /// Punctuation and operators: `(`, `)`, `,`, `;`, `.`, `=`, `<>`, `::` …
        case symbol
    }

    var kind: Kind
    /// A word as written; an identifier or string with its quotes removed and escapes resolved;
    /// anything else as written.
    var text: String
    /// `text` with ASCII letters in lower case for words and quoted identifiers (what keywords
    /// and function names are compared with); `text` otherwise.
    var key: String
    /// Where the token starts, in UTF-8 bytes from the start of the SQL text.
    var offset: Int
    /// A `U&` literal or identifier whose `\XXXX` escapes are resolved once its optional
    /// `UESCAPE 'c'` clause is known.
    var unicodeEscaped = false

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol && text == symbol }
    func isWord(_ word: String) -> Bool { kind == .word && key == word }
    /// A word or a quoted identifier: something that can name a table or a function.
    var isName: Bool { kind == .word || kind == .quotedIdentifier }
}

/// Splits SQL text into tokens in one pass over its UTF-8 bytes, the way the database's own
/// lexer does, so that keywords inside strings, comments and quoted identifiers never count.
///
/// PostgreSQL: nested `/* */` comments, `E'…'` backslash escapes, `U&'…'`/`U&"…"` with `UESCAPE`,
/// dollar quoting (`$$…$$`, `$tag$…$tag$`; `$1` is a parameter), `standard_conforming_strings`
/// on (the default since 9.1; `SET` is refused, so it cannot be turned off).
/// SQLite: non-nesting comments, identifiers in `"…"`, `` `…` `` and `[…]`, `?`/`:`/`@`/`$` parameters.
struct SQLLexer: Sendable {
    let dialect: SQLDialect

    func tokens(of sql: String) throws(SQLGuardrailViolation) -> [SQLToken] {
        var text = sql
        let result: Result<[SQLToken], SQLGuardrailViolation> = text.withUTF8 { bytes in
            var scanner = SQLScanner(bytes: bytes, dialect: dialect)
            do throws(SQLGuardrailViolation) {
                return .success(try scanner.scan())
            } catch {
                return .failure(error)
            }
        }
        return try Self.resolveUnicodeEscapes(result.get())
    }

    /// Decodes `U&` tokens, consuming a following `UESCAPE 'c'`.
    static func resolveUnicodeEscapes(_ tokens: [SQLToken]) throws(SQLGuardrailViolation) -> [SQLToken] {
        guard tokens.contains(where: \.unicodeEscaped) else { return tokens }
        var output: [SQLToken] = []
        output.reserveCapacity(tokens.count)
        var index = 0
        while index < tokens.count {
            var token = tokens[index]
            index += 1
            guard token.unicodeEscaped else {
                output.append(token)
                continue
            }
            var escape: Unicode.Scalar = "\\"
            if index + 1 < tokens.count, tokens[index].isWord("uescape"), tokens[index + 1].kind == .string {
                let scalars = Array(tokens[index + 1].text.unicodeScalars)
                guard scalars.count == 1, !isHexDigit(scalars[0]), !" \t\n\r\u{0C}+'\"".unicodeScalars.contains(scalars[0]) else {
                    throw .parse("UESCAPE needs one character that is not a hex digit, '+', a quote or white space",
                                 offset: tokens[index + 1].offset)
                }
                escape = scalars[0]
                index += 2
            }
            guard let decoded = decodeUnicodeEscapes(token.text, escape: escape) else {
                throw .parse("the U& literal or identifier has an invalid Unicode escape (write \(escape)XXXX or \(escape)+XXXXXX with hex digits)",
                             offset: token.offset)
            }
            token.text = decoded
            if token.kind == .quotedIdentifier { token.key = SQLLexer.lowercasedASCII(decoded) }
            token.unicodeEscaped = false
            output.append(token)
        }
        return output
    }

    static func decodeUnicodeEscapes(_ text: String, escape: Unicode.Scalar) -> String? {
        var scalars = text.unicodeScalars.makeIterator()
        var result = String.UnicodeScalarView()
        var pendingHighSurrogate: UInt32?
        while let scalar = scalars.next() {
            guard scalar == escape else {
                guard pendingHighSurrogate == nil else { return nil }
                result.append(scalar)
                continue
            }
            guard let next = scalars.next() else { return nil }
            if next == escape {
                guard pendingHighSurrogate == nil else { return nil }
                result.append(escape)
                continue
            }
            var digits: [Unicode.Scalar] = []
            let count: Int
            if next == "+" {
                count = 6
            } else {
                count = 4
                digits.append(next)
            }
            while digits.count < count, let digit = scalars.next() { digits.append(digit) }
            guard digits.count == count, digits.allSatisfy(isHexDigit),
                  let value = UInt32(String(String.UnicodeScalarView(digits)), radix: 16) else { return nil }
            if let high = pendingHighSurrogate {
                guard (0xDC00...0xDFFF).contains(value),
                      let combined = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)) else { return nil }
                result.append(combined)
                pendingHighSurrogate = nil
            } else if (0xD800...0xDBFF).contains(value) {
                pendingHighSurrogate = value
            } else {
                guard value != 0, let decoded = Unicode.Scalar(value) else { return nil }
                result.append(decoded)
            }
        }
        guard pendingHighSurrogate == nil else { return nil }
        return String(result)
    }

    static func isHexDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "0"..."9", "a"..."f", "A"..."F": true
        default: false
        }
    }
}

extension SQLLexer {
    /// Lower-cases ASCII letters only, as PostgreSQL folds unquoted identifiers and as both
    /// engines compare keywords.
    static func lowercasedASCII(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return text }
        return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

extension SQLGuardrailViolation {
    static func parse(_ problem: String, offset: Int) -> SQLGuardrailViolation {
        SQLGuardrailViolation(rule: SQLGuardrail.Rule.parse,
                              reason: "The SQL could not be read at offset \(offset) (in UTF-8 bytes): \(problem). Fix the statement and send it again.",
                              detail: "offset=\(offset)")
    }
}

// MARK: - The scanner

private struct SQLScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let dialect: SQLDialect
    var index = 0
    var tokens: [SQLToken] = []

    init(bytes: UnsafeBufferPointer<UInt8>, dialect: SQLDialect) {
        self.bytes = bytes
        self.dialect = dialect
        tokens.reserveCapacity(bytes.count / 4)
    }

    private var postgres: Bool { dialect == .postgresql }

    private func byte(_ at: Int) -> UInt8? { at < bytes.count ? bytes[at] : nil }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private mutating func emit(_ kind: SQLToken.Kind, _ text: String, at offset: Int, key: String? = nil, unicode: Bool = false) {
        tokens.append(SQLToken(kind: kind, text: text, key: key ?? text, offset: offset, unicodeEscaped: unicode))
    }

    mutating func scan() throws(SQLGuardrailViolation) -> [SQLToken] {
        while index < bytes.count {
            let start = index
            let c = bytes[index]
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B:
                index += 1
            case 0:
                throw .parse("the text contains a NUL byte, which engines treat as the end of the SQL", offset: start)
            case UInt8(ascii: "-") where byte(index + 1) == UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] != 0x0A { index += 1 }
            case UInt8(ascii: "/") where byte(index + 1) == UInt8(ascii: "*"):
                try skipBlockComment()
            case UInt8(ascii: "'"):
                let value = try quoted(closing: UInt8(ascii: "'"), what: "string literal", backslashEscapes: false)
                emit(.string, value, at: start)
            case UInt8(ascii: "\""):
                let value = try quoted(closing: UInt8(ascii: "\""), what: "quoted identifier", backslashEscapes: false)
                emit(.quotedIdentifier, value, at: start, key: SQLLexer.lowercasedASCII(value))
            case UInt8(ascii: "`") where !postgres:
                let value = try quoted(closing: UInt8(ascii: "`"), what: "quoted identifier", backslashEscapes: false)
                emit(.quotedIdentifier, value, at: start, key: SQLLexer.lowercasedASCII(value))
            case UInt8(ascii: "[") where !postgres:
                guard let close = bytes[(index + 1)...].firstIndex(of: UInt8(ascii: "]")) else {
                    throw .parse("the [bracketed] identifier is never closed with ]", offset: start)
                }
                let value = text((index + 1)..<close)
                index = close + 1
                emit(.quotedIdentifier, value, at: start, key: SQLLexer.lowercasedASCII(value))
            case UInt8(ascii: "$"):
                try dollar()
            case UInt8(ascii: "?") where !postgres:
                index += 1
                while let d = byte(index), isDigit(d) { index += 1 }
                emit(.parameter, text(start..<index), at: start)
            case UInt8(ascii: ":") where !postgres && byte(index + 1).map(isIdentifierPart) == true,
                 UInt8(ascii: "@") where !postgres && byte(index + 1).map(isIdentifierPart) == true:
                index += 1
                while let d = byte(index), isIdentifierPart(d) { index += 1 }
                emit(.parameter, text(start..<index), at: start)
            case UInt8(ascii: ":"):
                index += 1
                if postgres, let next = byte(index), next == UInt8(ascii: ":") || next == UInt8(ascii: "=") { index += 1 }
                emit(.symbol, text(start..<index), at: start)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                number()
            case UInt8(ascii: ".") where byte(index + 1).map(isDigit) == true:
                number()
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "."),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                index += 1
                emit(.symbol, text(start..<index), at: start)
            default:
                if isIdentifierStart(c) {
                    try word()
                } else if isOperator(c) {
                    operatorRun()
                } else {
                    index += 1
                    emit(.symbol, text(start..<index), at: start)
                }
            }
        }
        return tokens
    }

    private mutating func skipBlockComment() throws(SQLGuardrailViolation) {
        let start = index
        var depth = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "/"), byte(index + 1) == UInt8(ascii: "*"), depth == 0 || postgres {
                depth += 1
                index += 2
            } else if bytes[index] == UInt8(ascii: "*"), byte(index + 1) == UInt8(ascii: "/") {
                depth -= 1
                index += 2
                if depth == 0 { return }
            } else {
                index += 1
            }
        }
        throw .parse("the /* comment is never closed with */", offset: start)
    }

    /// A `'…'`, `"…"` or `` `…` `` item starting at `index`, where a doubled quote stands for itself;
    /// with `backslashEscapes` (PostgreSQL `E'…'`), a backslash escapes the next character.
    /// Errors point at `start`: the quote, or the prefix before it (`E`, `U&`).
    private mutating func quoted(closing quote: UInt8, what: String, backslashEscapes: Bool, start: Int? = nil) throws(SQLGuardrailViolation) -> String {
        let start = start ?? index
        index += 1
        var value: [UInt8] = []
        while index < bytes.count {
            let c = bytes[index]
            if c == quote {
                if byte(index + 1) == quote {
                    value.append(quote)
                    index += 2
                    continue
                }
                index += 1
                return String(decoding: value, as: UTF8.self)
            }
            if backslashEscapes, c == UInt8(ascii: "\\"), index + 1 < bytes.count {
                index += 1
                escapeSequence(into: &value)
                continue
            }
            value.append(c)
            index += 1
        }
        let quoteText = String(UnicodeScalar(quote))
        throw .parse("the \(what) is never closed with \(quoteText) (write \(quoteText)\(quoteText) for a \(quoteText) inside it)",
                     offset: start)
    }

    /// The character after a backslash in `E'…'` (`index` is on it).
    private mutating func escapeSequence(into value: inout [UInt8]) {
        let c = bytes[index]
        index += 1
        func hex(_ maxDigits: Int) -> UInt32? {
            var result: UInt32 = 0
            var digits = 0
            while digits < maxDigits, let d = byte(index), let v = hexValue(d) {
                result = result * 16 + UInt32(v)
                index += 1
                digits += 1
            }
            return digits > 0 ? result : nil
        }
        switch c {
        case UInt8(ascii: "n"): value.append(0x0A)
        case UInt8(ascii: "t"): value.append(0x09)
        case UInt8(ascii: "r"): value.append(0x0D)
        case UInt8(ascii: "b"): value.append(0x08)
        case UInt8(ascii: "f"): value.append(0x0C)
        case UInt8(ascii: "x"):
            if let v = hex(2) { value.append(UInt8(v)) } else { value.append(c) }
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            if let v = hex(c == UInt8(ascii: "u") ? 4 : 8), let scalar = Unicode.Scalar(v) {
                value.append(contentsOf: Array(String(Character(scalar)).utf8))
            } else {
                value.append(c)
            }
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var v = UInt32(c - UInt8(ascii: "0"))
            var digits = 1
            while digits < 3, let d = byte(index), d >= UInt8(ascii: "0"), d <= UInt8(ascii: "7") {
                v = v * 8 + UInt32(d - UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            value.append(UInt8(truncatingIfNeeded: v))
        default:
            value.append(c)
        }
    }

    private mutating func dollar() throws(SQLGuardrailViolation) {
        let start = index
        guard postgres else {
            // SQLite: `$name` is a parameter (letters, digits, `_`, `$`).
            index += 1
            while let d = byte(index), isIdentifierPart(d) { index += 1 }
            emit(index - start > 1 ? .parameter : .symbol, text(start..<index), at: start)
            return
        }
        if let d = byte(index + 1), isDigit(d) {
            index += 1
            while let d = byte(index), isDigit(d) { index += 1 }
            emit(.parameter, text(start..<index), at: start)
            return
        }
        // `$tag$`: the tag is empty or an identifier without `$`.
        var end = index + 1
        if let first = byte(end), isIdentifierStart(first) {
            end += 1
            while let d = byte(end), isIdentifierStart(d) || isDigit(d) { end += 1 }
        }
        guard byte(end) == UInt8(ascii: "$") else {
            index += 1
            emit(.symbol, "$", at: start)
            return
        }
        let delimiter = Array(bytes[start...end])
        let contentStart = end + 1
        var probe = contentStart
        while probe + delimiter.count <= bytes.count {
            if bytes[probe] == UInt8(ascii: "$"), delimiter.indices.allSatisfy({ bytes[probe + $0] == delimiter[$0] }) {
                index = probe + delimiter.count
                emit(.string, text(contentStart..<probe), at: start)
                return
            }
            probe += 1
        }
        throw .parse("the dollar-quoted string opened by \(String(decoding: delimiter, as: UTF8.self)) is never closed by the same delimiter",
                     offset: start)
    }

    private mutating func number() {
        let start = index
        if bytes[index] == UInt8(ascii: "0"), let x = byte(index + 1),
           [UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "b"), UInt8(ascii: "B")].contains(x),
           let d = byte(index + 2), hexValue(d) != nil {
            index += 2
            while let d = byte(index), hexValue(d) != nil || d == UInt8(ascii: "_") { index += 1 }
            emit(.number, text(start..<index), at: start)
            return
        }
        func digits() {
            while let d = byte(index), isDigit(d) || d == UInt8(ascii: "_") { index += 1 }
        }
        digits()
        if byte(index) == UInt8(ascii: "."), byte(index + 1) != UInt8(ascii: ".") {
            index += 1
            digits()
        }
        if let e = byte(index), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var next = index + 1
            if let sign = byte(next), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { next += 1 }
            if let d = byte(next), isDigit(d) {
                index = next
                digits()
            }
        }
        emit(.number, text(start..<index), at: start)
    }

    private mutating func word() throws(SQLGuardrailViolation) {
        let start = index
        index += 1
        while let d = byte(index), isIdentifierPart(d) { index += 1 }
        let length = index - start
        if length == 1, let next = byte(index) {
            let letter = bytes[start] | 0x20
            if next == UInt8(ascii: "'") {
                if postgres, letter == UInt8(ascii: "e") {
                    let value = try quoted(closing: next, what: "E'…' string literal", backslashEscapes: true, start: start)
                    emit(.string, value, at: start)
                    return
                }
                if letter == UInt8(ascii: "x") || (postgres && (letter == UInt8(ascii: "b") || letter == UInt8(ascii: "n"))) {
                    let value = try quoted(closing: next, what: "string literal", backslashEscapes: false, start: start)
                    emit(.string, value, at: start)
                    return
                }
            }
            if postgres, letter == UInt8(ascii: "u"), next == UInt8(ascii: "&"),
               let quote = byte(index + 1), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") {
                index += 1
                let identifier = quote == UInt8(ascii: "\"")
                let value = try quoted(closing: quote, what: identifier ? "U&\"…\" identifier" : "U&'…' string literal",
                                       backslashEscapes: false, start: start)
                emit(identifier ? .quotedIdentifier : .string, value, at: start, key: value, unicode: true)
                return
            }
        }
        let value = text(start..<index)
        emit(.word, value, at: start, key: SQLLexer.lowercasedASCII(value))
    }

    /// A run of operator characters; `--` and `/*` always start comments, and (as in PostgreSQL)
    /// a trailing `+`/`-` is split off unless the operator holds one of `~!@#%^&|`?`.
    private mutating func operatorRun() {
        let start = index
        var special = false
        while let c = byte(index), isOperator(c) {
            if let next = byte(index + 1),
               (c == UInt8(ascii: "-") && next == UInt8(ascii: "-")) || (c == UInt8(ascii: "/") && next == UInt8(ascii: "*")) { break }
            if "~!@#%^&|`?".utf8.contains(c) { special = true }
            index += 1
        }
        if index == start { index += 1 }
        if !special {
            while index - start > 1, bytes[index - 1] == UInt8(ascii: "+") || bytes[index - 1] == UInt8(ascii: "-") { index -= 1 }
        }
        emit(.symbol, text(start..<index), at: start)
    }
}

private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Letters, `_` and every byte of a non-ASCII character: both engines accept those in identifiers.
private func isIdentifierStart(_ c: UInt8) -> Bool {
    ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")) || c == UInt8(ascii: "_") || c >= 0x80
}

private func isIdentifierPart(_ c: UInt8) -> Bool {
    isIdentifierStart(c) || isDigit(c) || c == UInt8(ascii: "$")
}

private func isOperator(_ c: UInt8) -> Bool {
    "+-*/<>=~!@#%^&|`?".utf8.contains(c)
}
