import NIOCore

/// The first stage of the client pipeline: frames the server's bytes into lines and lines into
/// ``SMTPReply`` values (multi-line `250-…`/`250 …` replies become one value).
///
/// Malformed input (a line that does not start with a valid three-digit code and a space or hyphen,
/// a continuation line with another code, an over-long line or reply) is reported as an
/// ``SMTPError`` of kind ``SMTPError/Kind/malformedReply`` through `errorCaught`, after which all
/// further input is ignored: a peer that does not speak SMTP gets no benefit of the doubt.
///
/// It also implements the STARTTLS injection defence: on the outbound user event
/// ``DiscardBufferedInput`` it drops every byte it has buffered but not yet delivered and stops the
/// delivery loop it may be in. The client sends that event when it reads the `220` to `STARTTLS`,
/// before it adds the TLS handler, so plaintext an attacker appended after the `220` can never be
/// read as if it came through the encrypted channel (CVE-2011-0411 and friends).
public final class SMTPReplyDecoder: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = SMTPReply
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Outbound user event: drop all buffered, undelivered input now.
    public struct DiscardBufferedInput: Sendable, Equatable {
        public init() {}
    }

    /// Inbound user event fired after a discard that dropped something, for logging.
    public struct DiscardedInput: Sendable, Equatable {
        /// Bytes (including parts of an unfinished reply) that were dropped.
        public let byteCount: Int
    }

    /// The longest line accepted. RFC 5321 allows 512 octets; real servers send longer text.
    public let maximumLineLength: Int
    /// The most lines in one reply (an EHLO reply has a few dozen at most).
    public let maximumReplyLines: Int

    private var buffer: ByteBuffer?
    private var pendingCode: Int?
    private var pendingLines: [String] = []
    private var pendingBytes = 0
    private var discardGeneration = 0
    private var failed = false

    public init(maximumLineLength: Int = 4096, maximumReplyLines: Int = 256) {
        self.maximumLineLength = maximumLineLength
        self.maximumReplyLines = maximumReplyLines
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        if var existing = buffer, existing.readableBytes > 0 {
            existing.writeBuffer(&incoming)
            buffer = existing
        } else {
            buffer = incoming
        }
        let generation = discardGeneration
        while var current = buffer {
            let view = current.readableBytesView
            guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else { break }
            var length = newline - view.startIndex
            var line = current.readSlice(length: length + 1)!
            if length > 0, line.getInteger(at: line.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                length -= 1
            }
            buffer = current
            guard length <= maximumLineLength else {
                fail(context: context, "a reply line is longer than \(maximumLineLength) octets")
                return
            }
            let bytes = line.readBytes(length: length) ?? []
            process(context: context, line: bytes)
            if failed || generation != discardGeneration { return }
        }
        if let current = buffer, current.readableBytes > maximumLineLength {
            fail(context: context, "a reply line is longer than \(maximumLineLength) octets")
            return
        }
        if var current = buffer, current.readerIndex > 8192 {
            current.discardReadBytes()
            buffer = current
        }
    }

    private func process(context: ChannelHandlerContext, line: [UInt8]) {
        func digit(_ b: UInt8) -> Int? { (0x30...0x39).contains(b) ? Int(b - 0x30) : nil }
        guard line.count >= 3, let d1 = digit(line[0]), let d2 = digit(line[1]), let d3 = digit(line[2]),
            (2...5).contains(d1)
        else {
            fail(context: context, "expected a three-digit reply code, got \(Self.show(line))")
            return
        }
        let code = d1 * 100 + d2 * 10 + d3
        var isLast = true
        if line.count > 3 {
            switch line[3] {
            case UInt8(ascii: " "): isLast = true
            case UInt8(ascii: "-"): isLast = false
            default:
                fail(context: context, "expected ' ' or '-' after the reply code, got \(Self.show(line))")
                return
            }
        }
        if let pendingCode, pendingCode != code {
            fail(context: context, "a multi-line reply changed its code from \(pendingCode) to \(code)")
            return
        }
        pendingCode = code
        pendingLines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        pendingBytes += line.count + 2
        guard pendingLines.count <= maximumReplyLines else {
            fail(context: context, "a reply has more than \(maximumReplyLines) lines")
            return
        }
        if isLast {
            let reply = SMTPReply(code: code, lines: pendingLines)
            self.pendingCode = nil
            pendingLines = []
            pendingBytes = 0
            context.fireChannelRead(wrapInboundOut(reply))
        }
    }

    private static func show(_ line: [UInt8]) -> String {
        HeaderText.excerpt(String(decoding: line.prefix(60), as: UTF8.self))
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        failed = true
        buffer = nil
        pendingLines = []
        pendingCode = nil
        context.fireErrorCaught(SMTPError(.malformedReply, detail: "malformed reply from server: \(reason)"))
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is DiscardBufferedInput else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        let dropped = (buffer?.readableBytes ?? 0) + pendingBytes
        buffer = nil
        pendingCode = nil
        pendingLines = []
        pendingBytes = 0
        discardGeneration &+= 1
        promise?.succeed(())
        if dropped > 0 { context.fireUserInboundEventTriggered(DiscardedInput(byteCount: dropped)) }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension SMTPReplyDecoder: Sendable {}
