import EventLog
import Foundation

/// Replies in the OpenAI Chat Completions wire format.
enum OpenAIWireFormat {
    static func response(to reply: FakeLLMServer.Reply, context: ReplyContext) -> FakeResponse {
        let requestID = [("x-request-id", "req_fake_\(context.index)")]
        switch reply {
        case .answer(let text, let toolCalls, let inputTokens, let outputTokens, let chunks, let interval):
            let usage = Usage(input: inputTokens, output: outputTokens)
            guard context.stream else {
                return FakeResponse(
                    status: 200, headers: [("Content-Type", "application/json")] + requestID,
                    body: .complete(completion(text: text, toolCalls: toolCalls, usage: usage, context: context)))
            }
            let stream = Stream(context: context)
            var events = [FakeResponse.StreamEvent(pause: .zero, text: stream.roleChunk(toolCallsOnly: text.isEmpty && !toolCalls.isEmpty))]
            for piece in TextPieces.split(text, into: chunks) {
                events.append(.init(pause: interval, text: stream.contentChunk(piece)))
            }
            for (index, call) in toolCalls.enumerated() {
                events.append(.init(pause: interval, text: stream.toolCallStart(index: index, call: call)))
                for piece in TextPieces.split(call.arguments, into: chunks) {
                    events.append(.init(pause: interval, text: stream.toolCallArguments(index: index, piece: piece)))
                }
            }
            events.append(.init(pause: .zero, text: stream.finishChunk(toolCalls.isEmpty ? "stop" : "tool_calls")))
            if context.includeUsage {
                events.append(.init(pause: .zero, text: stream.usageChunk(usage)))
            }
            events.append(.init(pause: .zero, text: "data: [DONE]\n\n"))
            return FakeResponse(status: 200, headers: FakeResponse.eventStreamHeaders + requestID, body: .events(events, endsEarly: false))

        case .error(let status, let message, let headers):
            let (type, code) = errorType(status: status)
            let body = #"{"error":{"message":\#(JSONText.string(message)),"type":\#(JSONText.string(type)),"#
                + #""param":null,"code":\#(JSONText.optional(code))}}"#
            return FakeResponse(
                status: status, headers: [("Content-Type", "application/json")] + requestID + headers, body: .complete(body))

        case .raw(let status, let contentType, let body):
            return FakeResponse(status: status, headers: [("Content-Type", contentType)] + requestID, body: .complete(body))

        case .truncated(let text, let chunks):
            guard context.stream else {
                let body = completion(text: text, toolCalls: [], usage: Usage(input: 10, output: 5), context: context)
                return FakeResponse(status: 200, headers: [("Content-Type", "application/json")] + requestID, body: .cutOff(body))
            }
            let stream = Stream(context: context)
            let events = [stream.roleChunk(toolCallsOnly: false)] + TextPieces.split(text, into: chunks).map(stream.contentChunk)
            return FakeResponse(
                status: 200, headers: FakeResponse.eventStreamHeaders + requestID,
                body: .events(events.map { .init(pause: .zero, text: $0) }, endsEarly: true))

        case .slowStream(let text, let interval):
            guard context.stream else {
                return FakeResponse(status: 200, headers: [("Content-Type", "application/json")] + requestID, body: .silence)
            }
            let stream = Stream(context: context)
            let words = TextPieces.words(text)
            return FakeResponse(
                status: 200, headers: FakeResponse.eventStreamHeaders + requestID,
                body: .endless(
                    opening: [stream.roleChunk(toolCallsOnly: false)],
                    repeating: { n in stream.contentChunk(words[n % words.count]) }, interval: interval))
        }
    }

    struct Usage {
        var input: Int
        var output: Int

        var json: String {
            #"{"prompt_tokens":\#(input),"completion_tokens":\#(output),"total_tokens":\#(input + output)}"#
        }
    }

    /// The non-streamed `chat.completion` object.
    static func completion(text: String, toolCalls: [FakeLLMServer.FakeToolCall], usage: Usage, context: ReplyContext) -> String {
        let content = text.isEmpty && !toolCalls.isEmpty ? "null" : JSONText.string(text)
        var message = #"{"role":"assistant","content":\#(content),"refusal":null"#
        if !toolCalls.isEmpty {
            let calls = toolCalls.map { call in
                #"{"id":\#(JSONText.string(call.id)),"type":"function","function":{"name":\#(JSONText.string(call.name)),"#
                    + #""arguments":\#(JSONText.string(call.arguments))}}"#
            }
            message += #","tool_calls":[\#(calls.joined(separator: ","))]"#
        }
        message += "}"
        let finish = toolCalls.isEmpty ? "stop" : "tool_calls"
        return #"{"id":"chatcmpl-fake-\#(context.index)","object":"chat.completion","created":\#(created),"#
            + #""model":\#(JSONText.string(context.model)),"choices":[{"index":0,"message":\#(message),"#
            + #""logprobs":null,"finish_reason":"\#(finish)"}],"usage":\#(usage.json)}"#
    }

    /// The `chat.completion.chunk` events of one streamed answer.
    struct Stream: Sendable {
        let context: ReplyContext
        let created = OpenAIWireFormat.created

        /// One `data:` event; with include_usage every chunk but the last carries `"usage":null`, as OpenAI's do.
        private func event(choices: String, usage: String? = nil) -> String {
            var chunk = #"{"id":"chatcmpl-fake-\#(context.index)","object":"chat.completion.chunk","created":\#(created),"#
                + #""model":\#(JSONText.string(context.model)),"choices":\#(choices)"#
            if context.includeUsage { chunk += #","usage":\#(usage ?? "null")"# }
            return "data: \(chunk)}\n\n"
        }

        private func delta(_ delta: String, finish: String? = nil) -> String {
            event(choices: #"[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(JSONText.optional(finish))}]"#)
        }

        func roleChunk(toolCallsOnly: Bool) -> String {
            delta(#"{"role":"assistant","content":\#(toolCallsOnly ? "null" : "\"\"")}"#)
        }

        func contentChunk(_ piece: String) -> String {
            delta(#"{"content":\#(JSONText.string(piece))}"#)
        }

        /// The first delta of a tool call: its index, id and name, and no arguments yet.
        func toolCallStart(index: Int, call: FakeLLMServer.FakeToolCall) -> String {
            delta(
                #"{"tool_calls":[{"index":\#(index),"id":\#(JSONText.string(call.id)),"type":"function","#
                    + #""function":{"name":\#(JSONText.string(call.name)),"arguments":""}}]}"#)
        }

        func toolCallArguments(index: Int, piece: String) -> String {
            delta(#"{"tool_calls":[{"index":\#(index),"function":{"arguments":\#(JSONText.string(piece))}}]}"#)
        }

        func finishChunk(_ reason: String) -> String {
            delta("{}", finish: reason)
        }

        func usageChunk(_ usage: Usage) -> String {
            event(choices: "[]", usage: usage.json)
        }
    }

    /// OpenAI's error `type` and `code` for an HTTP status.
    static func errorType(status: Int) -> (type: String, code: String?) {
        switch status {
        case 401: ("invalid_request_error", "invalid_api_key")
        case 429: ("requests", "rate_limit_exceeded")
        case 500...: ("server_error", nil)
        default: ("invalid_request_error", nil)
        }
    }

    static var created: Int { Int(Date().timeIntervalSince1970) }
}
