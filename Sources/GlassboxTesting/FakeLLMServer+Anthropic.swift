import EventLog

/// Replies in the Anthropic Messages wire format.
enum AnthropicWireFormat {
    static func response(to reply: FakeLLMServer.Reply, context: ReplyContext) -> FakeResponse {
        let requestID = [("request-id", "req_fake_\(context.index)")]
        let json = [("Content-Type", "application/json")] + requestID
        switch reply {
        case .answer(let text, let toolCalls, let inputTokens, let outputTokens, let chunks, let interval):
            guard context.stream else {
                return FakeResponse(
                    status: 200, headers: json,
                    body: .complete(message(text: text, toolCalls: toolCalls, input: inputTokens, output: outputTokens, context: context)))
            }
            var events = [FakeResponse.StreamEvent(pause: .zero, text: messageStart(input: inputTokens, context: context))]
            var block = 0
            if !text.isEmpty || toolCalls.isEmpty {
                events.append(.init(pause: .zero, text: textBlockStart(index: block)))
                events.append(.init(pause: .zero, text: event("ping", #"{"type":"ping"}"#)))
                for piece in TextPieces.split(text, into: chunks) {
                    events.append(.init(pause: interval, text: textDelta(index: block, piece)))
                }
                events.append(.init(pause: .zero, text: blockStop(index: block)))
                block += 1
            }
            for call in toolCalls {
                let start = #"{"type":"content_block_start","index":\#(block),"content_block":{"type":"tool_use","#
                    + #""id":\#(JSONText.string(call.id)),"name":\#(JSONText.string(call.name)),"input":{}}}"#
                events.append(.init(pause: interval, text: event("content_block_start", start)))
                for piece in TextPieces.split(call.arguments, into: chunks) {
                    let delta = #"{"type":"content_block_delta","index":\#(block),"#
                        + #""delta":{"type":"input_json_delta","partial_json":\#(JSONText.string(piece))}}"#
                    events.append(.init(pause: interval, text: event("content_block_delta", delta)))
                }
                events.append(.init(pause: .zero, text: blockStop(index: block)))
                block += 1
            }
            let stopReason = toolCalls.isEmpty ? "end_turn" : "tool_use"
            let messageDelta = #"{"type":"message_delta","delta":{"stop_reason":"\#(stopReason)","stop_sequence":null},"#
                + #""usage":{"output_tokens":\#(outputTokens)}}"#
            events.append(.init(pause: .zero, text: event("message_delta", messageDelta)))
            events.append(.init(pause: .zero, text: event("message_stop", #"{"type":"message_stop"}"#)))
            return FakeResponse(status: 200, headers: FakeResponse.eventStreamHeaders + requestID, body: .events(events, endsEarly: false))

        case .error(let status, let message, let headers):
            let body = #"{"type":"error","error":{"type":"\#(errorType(status: status))","message":\#(JSONText.string(message))}}"#
            return FakeResponse(status: status, headers: json + headers, body: .complete(body))

        case .raw(let status, let contentType, let body):
            return FakeResponse(status: status, headers: [("Content-Type", contentType)] + requestID, body: .complete(body))

        case .truncated(let text, let chunks):
            guard context.stream else {
                return FakeResponse(
                    status: 200, headers: json,
                    body: .cutOff(message(text: text, toolCalls: [], input: 10, output: 5, context: context)))
            }
            let events = [messageStart(input: 10, context: context), textBlockStart(index: 0)]
                + TextPieces.split(text, into: chunks).map { textDelta(index: 0, $0) }
            return FakeResponse(
                status: 200, headers: FakeResponse.eventStreamHeaders + requestID,
                body: .events(events.map { .init(pause: .zero, text: $0) }, endsEarly: true))

        case .slowStream(let text, let interval):
            guard context.stream else {
                return FakeResponse(status: 200, headers: json, body: .silence)
            }
            let words = TextPieces.words(text)
            return FakeResponse(
                status: 200, headers: FakeResponse.eventStreamHeaders + requestID,
                body: .endless(
                    opening: [messageStart(input: 10, context: context), textBlockStart(index: 0)],
                    repeating: { n in textDelta(index: 0, words[n % words.count]) }, interval: interval))
        }
    }

    /// The non-streamed `message` object; tool arguments become the `input` object as written.
    static func message(
        text: String, toolCalls: [FakeLLMServer.FakeToolCall], input: Int, output: Int, context: ReplyContext
    ) -> String {
        var content: [String] = []
        if !text.isEmpty || toolCalls.isEmpty {
            content.append(#"{"type":"text","text":\#(JSONText.string(text))}"#)
        }
        for call in toolCalls {
            let arguments = call.arguments.isEmpty ? "{}" : call.arguments
            content.append(
                #"{"type":"tool_use","id":\#(JSONText.string(call.id)),"name":\#(JSONText.string(call.name)),"input":\#(arguments)}"#)
        }
        let stopReason = toolCalls.isEmpty ? "end_turn" : "tool_use"
        return #"{"id":"msg_fake_\#(context.index)","type":"message","role":"assistant","model":\#(JSONText.string(context.model)),"#
            + #""content":[\#(content.joined(separator: ","))],"stop_reason":"\#(stopReason)","stop_sequence":null,"#
            + #""usage":{"input_tokens":\#(input),"output_tokens":\#(output)}}"#
    }

    /// One named server-sent event.
    static func event(_ name: String, _ data: String) -> String {
        "event: \(name)\ndata: \(data)\n\n"
    }

    static func messageStart(input: Int, context: ReplyContext) -> String {
        event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_fake_\#(context.index)","type":"message","role":"assistant","#
                + #""model":\#(JSONText.string(context.model)),"content":[],"stop_reason":null,"stop_sequence":null,"#
                + #""usage":{"input_tokens":\#(input),"output_tokens":1}}}"#)
    }

    static func textBlockStart(index: Int) -> String {
        event("content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"#)
    }

    static func textDelta(index: Int, _ piece: String) -> String {
        event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":\#(JSONText.string(piece))}}"#)
    }

    static func blockStop(index: Int) -> String {
        event("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#)
    }

    /// Anthropic's error `type` for an HTTP status.
    static func errorType(status: Int) -> String {
        switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }
}
