import Foundation
@testable import Projections
import Testing

@Suite struct PayloadFieldsTests {
    @Test func readsTopLevelScalarsOfCanonicalJSON() {
        let fields = PayloadFields(json: #"{"callId":"c-1","input":{"fields":{"callId":"nested"}},"rows":12,"costUsd":0.25,"truncated":true,"big":"9007199254740993"}"#)
        #expect(fields.string("callId") == "c-1")
        #expect(fields.int("rows") == 12)
        #expect(fields.double("costUsd") == 0.25)
        #expect(fields.bool("truncated") == true)
        #expect(fields.int("big") == 9_007_199_254_740_993)
        #expect(fields.scalar("input") == .nested)
        #expect(fields.string("missing") == nil)
    }

    @Test func handlesWhitespaceEscapesAndArrays() {
        let fields = PayloadFields(json: " {\n \"a\" : [1, {\"b\": \"]}\"}] ,\n \"text\": \"say \\\"hi\\\"\\n\\u00e9\", \"n\" : -3e2 } ")
        #expect(fields.string("text") == "say \"hi\"\né")
        #expect(fields.double("n") == -300)
        #expect(fields.scalar("a") == .nested)
    }

    @Test(arguments: ["", "[]", "{", #"{"a":}"#, #"{"a" 1}"#, #"{"text":"unterminated}"#, "null"])
    func malformedInputGivesNil(json: String) {
        #expect(PayloadFields(json: json).string("text") == nil)
        #expect(PayloadFields(json: json).int("a") == nil)
    }

    @Test func agreesWithFoundationOnGeneratedObjects() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["plain", "with \"quotes\"", "tab\there", "emoji 🧪", "back\\slash", "}{][,:"]
        for _ in 0..<200 {
            var object: [String: Any] = [:]
            for index in 0..<Int.random(in: 1...6, using: &generator) {
                switch Int.random(in: 0...3, using: &generator) {
                case 0: object["k\(index)"] = pieces.randomElement(using: &generator)!
                case 1: object["k\(index)"] = Int.random(in: -1_000_000...1_000_000, using: &generator)
                case 2: object["k\(index)"] = ["nested": pieces.randomElement(using: &generator)!, "list": [1, 2]]
                default: object["k\(index)"] = Bool.random(using: &generator)
                }
            }
            let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            let fields = PayloadFields(json: json)
            for (key, value) in object {
                switch value {
                case let text as String: #expect(fields.string(key) == text, "\(json)")
                case let flag as Bool where type(of: value) == type(of: true as NSNumber) || value is Bool:
                    #expect(fields.bool(key) == flag || fields.int(key) == (flag ? 1 : 0), "\(json)")
                case let number as Int: #expect(fields.int(key) == Int64(number), "\(json)")
                default: #expect(fields.scalar(key) == .nested, "\(json)")
                }
            }
        }
    }
}
