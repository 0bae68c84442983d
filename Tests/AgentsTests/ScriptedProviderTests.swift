import Agents
import Foundation
import GlassboxTesting
import Synchronization
import Testing
import Tools

@Suite struct ScriptedProviderTests {
    static let script = """
        # Replies in order, one per model call. A reply either calls tools or answers.
        replies:
          - text: "Let me count the customers by region."
            tool_calls:
              - name: sql.query
                arguments: {connection: warehouse, sql: "SELECT region, count(*) FROM customers GROUP BY region"}
              - name: catalog.search
                arguments: {query: customers, limit: 5, exact: false, score: 0.5, note: null, tags: [a, "1"]}
          - text: "There are 3 regions; EMEA has the most customers."
        delay_ms: 0
        """

    let request = ChatRequest(model: "demo-model", messages: [ChatMessage(role: .user, content: "How many customers per region?")])

    @Test func repliesComeInOrderWithDeterministicToolCalls() async throws {
        let provider = try ScriptedProvider(yaml: Self.script)
        #expect(provider.name == "scripted")
        #expect(provider.replies.count == 2)

        let first = try await provider.complete(request) { _ in }
        #expect(first.content == "Let me count the customers by region.")
        #expect(first.finishReason == "tool_calls")
        #expect(first.model == "demo-model")
        #expect(first.toolCalls.map(\.id) == ["scripted-0-0", "scripted-0-1"])
        #expect(first.toolCalls.map(\.name) == ["sql.query", "catalog.search"])
        #expect(try JSONValue(parsing: first.toolCalls[0].arguments)
            == ["connection": "warehouse", "sql": "SELECT region, count(*) FROM customers GROUP BY region"])
        #expect(first.toolCalls[1].arguments
            == #"{"exact":false,"limit":5,"note":null,"query":"customers","score":0.5,"tags":["a","1"]}"#)

        var followUp = request
        followUp.messages.append(ChatMessage(role: .assistant, content: first.content, toolCalls: first.toolCalls))
        let second = try await provider.complete(followUp) { _ in }
        #expect(second.content == "There are 3 regions; EMEA has the most customers.")
        #expect(second.toolCalls.isEmpty)
        #expect(second.finishReason == "stop")
        // The reply follows from the conversation: the same request gets the same reply again.
        #expect(try await provider.complete(request) { _ in } == first)
    }

    @Test func twoProvidersFromOneScriptGiveTheSameAnswers() async throws {
        let a = try await ScriptedProvider(yaml: Self.script).complete(request) { _ in }
        let b = try await ScriptedProvider(yaml: Self.script).complete(request) { _ in }
        #expect(a == b)
    }

    @Test func streamsTextInWordSizedPieces() async throws {
        let provider = try ScriptedProvider(yaml: Self.script)
        var streaming = request
        streaming.stream = true
        let first = try await provider.complete(streaming) { _ in }
        streaming.messages.append(ChatMessage(role: .assistant, content: first.content, toolCalls: first.toolCalls))
        let pieces = Mutex<[String]>([])
        let answer = try await provider.complete(streaming) { piece in pieces.withLock { $0.append(piece) } }
        let received = pieces.withLock { $0 }
        #expect(received.joined() == answer.content)
        #expect(received == ["There ", "are ", "3 ", "regions; ", "EMEA ", "has ", "the ", "most ", "customers."])
    }

    @Test func doesNotStreamWhenTheRequestDoesNot() async throws {
        let provider = try ScriptedProvider(yaml: Self.script)
        let calls = Mutex(0)
        _ = try await provider.complete(request) { _ in calls.withLock { $0 += 1 } }
        #expect(calls.withLock { $0 } == 0)
    }

    @Test func usageCountsAboutFourCharactersPerToken() async throws {
        let provider = ScriptedProvider(replies: [.init(text: "12345678")])
        let response = try await provider.complete(
            ChatRequest(model: "m", messages: [ChatMessage(role: .system, content: "abcd"), ChatMessage(role: .user, content: "efghi")])) { _ in }
        #expect(response.usage.output == 2)
        #expect(response.usage.input == 3)
    }

    @Test func runningOutOfRepliesThrowsScriptExhausted() async throws {
        let provider = try ScriptedProvider(yaml: "replies:\n  - text: only one\n")
        let first = try await provider.complete(request) { _ in }
        var followUp = request
        followUp.messages.append(ChatMessage(role: .assistant, content: first.content))
        do {
            _ = try await provider.complete(followUp) { _ in }
            Issue.record("a second call must fail")
        } catch let error as ProviderError {
            #expect(error.kind == "script_exhausted")
            #expect(error.message.contains("the script has 1 reply and reply 2 was asked for"))
            #expect(!error.retryable)
        }
    }

    @Test func cancellationDuringTheDelayThrowsAndLeavesTheReply() async throws {
        let provider = try ScriptedProvider(yaml: "replies: [{text: slow}]\ndelay_ms: 60000\n")
        #expect(provider.delay == .seconds(60))
        let call = Task { try await provider.complete(request) { _ in } }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
    }

    @Test func aReplyMayBePlainText() throws {
        let provider = try ScriptedProvider(yaml: "replies:\n  - Done.\n  - text: Also done.\n")
        #expect(provider.replies == [.init(text: "Done."), .init(text: "Also done.")])
    }

    @Test func readsAScriptFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("script.yaml")
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        let provider = try ScriptedProvider(path: path)
        #expect(provider.replies.count == 2)

        let missing = directory.path("missing.yaml")
        let error = #expect(throws: ScriptedProviderError.self) { try ScriptedProvider(path: missing) }
        #expect(error?.source == missing)
        #expect(error?.description.contains("cannot read the script") == true)
    }

    @Test func syntaxErrorsCarryLineAndColumn() {
        let error = #expect(throws: ScriptedProviderError.self) {
            try ScriptedProvider(yaml: "replies:\n  - text: \"unterminated\n  - text: next\n")
        }
        #expect(error?.line != nil)
        #expect(error?.column != nil)
        #expect(error?.description.contains("YAML syntax") == true)
        #expect(error?.description.contains("the script, line") == true)
    }

    @Test(arguments: [
        ("replies:\n  - txt: hello\n", "unknown key `txt` in reply 1", 2),
        ("replies:\n  - text: a\n  - text: b\n    tool_calls:\n      - name: sql.query\n        args: {}\n",
         "unknown key `args` in tool call 1 of reply 2", 6),
        ("replies: []\ndelay: 5\n", "unknown key `delay` in the script", 2),
        ("delay_ms: 5\n", "no `replies` list", 1),
        ("replies:\n  - tool_calls:\n      - arguments: {a: 1}\n", "has no `name`", 3),
        ("replies:\n  - text: a\ndelay_ms: -3\n", "`delay_ms` must be a whole number", 3),
        ("replies:\n  - tool_calls:\n      - name: x\n        arguments: [1, 2]\n", "`arguments` in tool call 1 of reply 1 must be a mapping", 4),
        ("replies:\n  - {}\n", "reply 1 has neither `text` nor `tool_calls`", 2),
        ("replies: hello\n", "`replies` must be a list", 1),
    ])
    func shapeErrorsNameTheKeyAndLine(yaml: String, expected: String, line: Int) {
        let error = #expect(throws: ScriptedProviderError.self) { try ScriptedProvider(yaml: yaml) }
        #expect(error?.message.contains(expected) == true, "\(error?.description ?? "no error")")
        #expect(error?.line == line)
    }
}
