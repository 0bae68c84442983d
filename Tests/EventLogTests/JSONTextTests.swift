import EventLog
import Foundation
import Testing

struct JSONTextTests {
    @Test(arguments: ["", "plain ascii", "quote \" and backslash \\", "line\nbreak\r\ttab", "\u{01}\u{1F}control",
                      "é ü 漢字 🙂", "js \u{2028} line \u{2029} separators", "\u{E2}\u{80} lookalike ₂ ⁂"])
    func stringLiteralsReadBackAsTheSameText(text: String) throws {
        let literal = JSONText.string(text)
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
        #expect(decoded == [text])
        #expect(!literal.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 || $0.value == 0x2028 || $0.value == 0x2029 })
    }

    @Test func escapesAreTheShortForms() {
        #expect(JSONText.string("a\"b\\c\nd\u{01}\u{2028}") == #""a\"b\\c\nd\u0001\u2028""#)
    }
}
