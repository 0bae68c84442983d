import Agents
import Testing

@Suite struct ServerSentEventsTests {
    private func parse(_ chunks: [String]) -> (events: [ServerSentEvent], parser: ServerSentEventParser) {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += parser.feed(Array(chunk.utf8)) }
        events += parser.finish()
        return (events, parser)
    }

    @Test func namedAndUnnamedEvents() {
        let (events, _) = parse(["event: ping\ndata: {}\n\ndata: hello\n\n"])
        #expect(events == [ServerSentEvent(event: "ping", data: "{}"), ServerSentEvent(event: "message", data: "hello")])
    }

    @Test func lineEndingsOfEveryKind() {
        let (events, _) = parse(["data: a\r\n\r\ndata: b\r\rdata: c\n\n"])
        #expect(events.map(\.data) == ["a", "b", "c"])
    }

    @Test func carriageReturnAndLineFeedSplitBetweenChunks() {
        // "\r" ends one chunk, "\n" starts the next: one line end, not two (which would dispatch early).
        let (events, _) = parse(["data: one\r", "\ndata: two\r", "\n\r", "\n"])
        #expect(events == [ServerSentEvent(data: "one\ntwo")])
    }

    @Test func everySplitPointGivesTheSameEvents() {
        let stream = "event: content_block_delta\ndata: {\"text\":\"héllo ✓\"}\n\n: keep-alive\n\ndata: x\ndata: y\n\n"
        let bytes = Array(stream.utf8)
        let whole = parse([stream]).events
        #expect(whole.count == 2)
        for split in 0...bytes.count {
            var parser = ServerSentEventParser()
            var events = parser.feed(bytes[..<split])
            events += parser.feed(bytes[split...])
            events += parser.finish()
            #expect(events == whole, "split at byte \(split)")
        }
    }

    @Test func multiLineDataIsJoinedWithNewlines() {
        let (events, _) = parse(["data: first\ndata:second\ndata\ndata:  indented\n\n"])
        #expect(events.first?.data == "first\nsecond\n\n indented")
    }

    @Test func commentsAndUnknownFieldsAreIgnored() {
        let (events, _) = parse([": this is a comment\nfoo: bar\n\n:another\ndata: real\n\n"])
        #expect(events == [ServerSentEvent(data: "real")])
    }

    @Test func retryTakesDigitsOnly() {
        #expect(parse(["retry: 2500\n\n"]).parser.retryMilliseconds == 2500)
        #expect(parse(["retry: soon\n\n"]).parser.retryMilliseconds == nil)
        #expect(parse(["retry: 3000\nretry: 1.5\n\n"]).parser.retryMilliseconds == 3000)
    }

    @Test func idIsRememberedAcrossEvents() {
        let (events, _) = parse(["id: 7\ndata: a\n\ndata: b\n\n"])
        #expect(events.map(\.id) == ["7", "7"])
    }

    @Test func eventWithoutDataIsNotDispatched() {
        let (events, _) = parse(["event: lonely\n\ndata: next\n\n"])
        #expect(events == [ServerSentEvent(data: "next")])
    }

    @Test func byteOrderMarkAtTheStartIsSkipped() {
        let (events, _) = parse(["\u{FEFF}data: x\n\n"])
        #expect(events == [ServerSentEvent(data: "x")])
    }

    @Test func lastCompleteLineWithoutBlankLineIsKeptButAPartialLineIsDropped() {
        #expect(parse(["data: [DONE]\n"]).events == [ServerSentEvent(data: "[DONE]")])
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: {\"cut".utf8)).isEmpty)
        #expect(parser.hasPartialLine)
        #expect(parser.finish().isEmpty)
    }
}
