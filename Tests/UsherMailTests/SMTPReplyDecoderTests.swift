import NIOCore
import NIOEmbedded
import Testing

@testable import UsherMail

/// Collects what reaches the end of the pipeline: replies, errors and user events.
final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = SMTPReply
    var replies: [SMTPReply] = []
    var errors: [any Error] = []
    var events: [Any] = []
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { replies.append(unwrapInboundIn(data)) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { errors.append(error) }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) { events.append(event) }
}

@Suite struct SMTPReplyDecoderTests {
    func makeChannel(maxLine: Int = 4096) throws -> (EmbeddedChannel, ReplyCollector) {
        let collector = ReplyCollector()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([SMTPReplyDecoder(maximumLineLength: maxLine, maximumReplyLines: 5), collector])
        return (channel, collector)
    }

    @Test func decodesSingleAndMultiLineReplies() throws {
        let (channel, collector) = try makeChannel()
        try channel.writeInbound(
            ByteBuffer(string: "220 mail.example.com ESMTP ready\r\n250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"))
        #expect(
            collector.replies == [
                SMTPReply(code: 220, lines: ["mail.example.com ESMTP ready"]),
                SMTPReply(code: 250, lines: ["mail.example.com", "PIPELINING", "SIZE 10240000", "8BITMIME"]),
            ])
        let caps = SMTPCapabilities(ehloReply: collector.replies[1])
        #expect(caps.pipelining && caps.eightBitMIME && !caps.startTLS)
        #expect(caps.maximumMessageSize == 10_240_000)
    }

    @Test func reassemblesRepliesSplitAcrossReads() throws {
        let (channel, collector) = try makeChannel()
        for byte in "250-first\r\n250 second\r\n354 go\n".utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(collector.replies == [SMTPReply(code: 250, lines: ["first", "second"]), SMTPReply(code: 354, lines: ["go"])])
    }

    @Test func acceptsCodeOnlyLinesAndParsesEnhancedStatus() throws {
        let (channel, collector) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "250\r\n550 5.1.1 <x@example.com>: User unknown\r\n451 4.7.1 Greylisted, see\r\n"))
        #expect(collector.replies.count == 3)
        #expect(collector.replies[0] == SMTPReply(code: 250, lines: [""]))
        #expect(collector.replies[1].enhancedStatusCode == SMTPEnhancedStatusCode(statusClass: 5, subject: 1, detail: 1))
        #expect(collector.replies[1].text == "<x@example.com>: User unknown")
        #expect(collector.replies[2].isTransientFailure)
        #expect(collector.replies[2].enhancedStatusCode?.description == "4.7.1")
    }

    @Test(arguments: [
        "HTTP/1.1 400 Bad Request\r\n", "25O ok\r\n", "250x\r\n", "99 ok\r\n", "650 nope\r\n", "\r\n",
        "250-a\r\n251 b\r\n", "250-1\r\n250-2\r\n250-3\r\n250-4\r\n250-5\r\n250 6\r\n",
    ])
    func reportsMalformedReplies(_ input: String) throws {
        let (channel, collector) = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: input))
        #expect(collector.errors.count == 1)
        let error = try #require(collector.errors.first as? SMTPError)
        #expect(error.kind == .malformedReply)
        // Everything after a protocol violation is ignored.
        let before = collector.replies.count
        try channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(collector.replies.count == before)
        #expect(collector.errors.count == 1)
    }

    @Test func refusesOverlongLines() throws {
        let (channel, collector) = try makeChannel(maxLine: 100)
        try channel.writeInbound(ByteBuffer(string: "250 " + String(repeating: "x", count: 200)))
        #expect((collector.errors.first as? SMTPError)?.kind == .malformedReply)
        #expect(collector.replies.isEmpty)
    }

    @Test func discardDropsBufferedInputAndStopsDelivering() throws {
        let (channel, collector) = try makeChannel()
        // A handler that asks for a discard as soon as it sees the 220 (what the client does after STARTTLS).
        final class Discarder: ChannelInboundHandler {
            typealias InboundIn = SMTPReply
            typealias InboundOut = SMTPReply
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                if unwrapInboundIn(data).code == 220 {
                    context.triggerUserOutboundEvent(SMTPReplyDecoder.DiscardBufferedInput(), promise: nil)
                }
                context.fireChannelRead(data)
            }
        }
        try channel.pipeline.syncOperations.addHandler(Discarder(), position: .before(collector))
        try channel.writeInbound(ByteBuffer(string: "220 go ahead\r\n250-INJECTED\r\n250 AUTH PLAIN\r\n250-partial"))
        #expect(collector.replies == [SMTPReply(code: 220, lines: ["go ahead"])])
        let event = try #require(collector.events.first as? SMTPReplyDecoder.DiscardedInput)
        #expect(event.byteCount == "250-INJECTED\r\n250 AUTH PLAIN\r\n250-partial".utf8.count)
        // Later input is decoded from a clean state.
        try channel.writeInbound(ByteBuffer(string: "250 fresh\r\n"))
        #expect(collector.replies.last == SMTPReply(code: 250, lines: ["fresh"]))
    }
}
