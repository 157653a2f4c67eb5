import Foundation

/// An email to send: addresses, subject, an HTML and/or a text body, optional extra headers.
///
/// A value type that is cheap to build and to persist field by field (an outbox row can hold it).
/// ``render()`` turns it into RFC 5322/MIME bytes that are safe by construction:
/// - every header line is 7-bit ASCII and at most 78 characters (folded), non-ASCII text is RFC 2047
///   encoded; the only exception is an address whose *local part* is UTF-8, which has no ASCII form and
///   is written as UTF-8 per RFC 6532 (the message then reports ``RenderedMessage/requiresSMTPUTF8``);
/// - bodies are UTF-8 in quoted-printable (default) or base64, so the message is 7-bit clean and
///   needs no `8BITMIME`;
/// - with both bodies (or only HTML, in which case the text is derived with ``HTMLText``) the message
///   is `multipart/alternative`, text first, HTML last (the preferred one);
/// - CR, LF and other control characters in any header value are refused with a
///   ``MailMessageError``: header injection through a subject, a display name or an extra header is
///   impossible rather than filtered.
public struct MailMessage: Sendable {
    /// The author (`From`). Also the envelope sender unless ``envelopeFrom`` is set.
    public var from: EmailAddress
    /// Where replies should go (`Reply-To`), if not to ``from``.
    public var replyTo: [EmailAddress]
    /// Primary recipients (`To`).
    public var to: [EmailAddress]
    /// Copy recipients (`Cc`).
    public var cc: [EmailAddress]
    /// Blind-copy recipients: in the envelope only, never in a header.
    public var bcc: [EmailAddress]
    /// The subject; any Unicode text without line breaks or control characters.
    public var subject: String
    /// The HTML body.
    public var html: String?
    /// The plain-text body; derived from ``html`` when nil.
    public var text: String?
    /// Extra headers (`List-Unsubscribe`, `X-Usher-Invitation`, …) in order. Names that the message
    /// writes itself (From, To, Subject, Date, Message-ID, MIME and content headers, …) are refused.
    public var headers: [(name: String, value: String)]
    /// The `Message-ID`, with or without angle brackets (`abc@example.com`). Set it when the message is
    /// queued (see ``makeMessageID(domain:)``) so every retry carries the same id and receivers can
    /// de-duplicate; when nil a fresh id is generated at each render.
    public var messageID: String?
    /// The `Date` header; when nil, the time of rendering.
    public var date: Date?
    /// The envelope sender (`MAIL FROM`, where bounces go), if it differs from ``from``.
    public var envelopeFrom: EmailAddress?
    /// How the text bodies are encoded.
    public var bodyEncoding: BodyTransferEncoding

    /// Body transfer encodings.
    public enum BodyTransferEncoding: Sendable, Equatable {
        /// Quoted-printable: readable for mostly-Latin text, 7-bit safe. The default.
        case quotedPrintable
        /// Base64: compact for non-Latin scripts, 7-bit safe.
        case base64
        /// Raw UTF-8 (`8bit`) when the server offers `8BITMIME`; quoted-printable otherwise.
        case eightBitIfSupported
    }

    public init(
        from: EmailAddress,
        to: [EmailAddress],
        subject: String,
        html: String? = nil,
        text: String? = nil,
        replyTo: [EmailAddress] = [],
        cc: [EmailAddress] = [],
        bcc: [EmailAddress] = [],
        headers: [(name: String, value: String)] = [],
        messageID: String? = nil,
        date: Date? = nil,
        envelopeFrom: EmailAddress? = nil,
        bodyEncoding: BodyTransferEncoding = .quotedPrintable
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.html = html
        self.text = text
        self.replyTo = replyTo
        self.cc = cc
        self.bcc = bcc
        self.headers = headers
        self.messageID = messageID
        self.date = date
        self.envelopeFrom = envelopeFrom
        self.bodyEncoding = bodyEncoding
    }

    /// Every envelope recipient: To, Cc and Bcc, without duplicates (compared by wire address), in order.
    public var recipients: [EmailAddress] {
        var seen = Set<String>()
        var result: [EmailAddress] = []
        for address in to + cc + bcc where seen.insert(address.wireAddress.lowercased()).inserted {
            result.append(address)
        }
        return result
    }

    /// A new globally unique Message-ID (`<random@domain>`, 128 random bits) for `domain`.
    public static func makeMessageID(domain: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let a = generator.next() as UInt64
        let b = generator.next() as UInt64
        return "<\(hex64(a))\(hex64(b))@\(domain)>"
    }

    private static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Renders the message as 7-bit-safe RFC 5322 bytes with CRLF line endings (not dot-stuffed).
    public func render() throws(MailMessageError) -> [UInt8] {
        try renderForDelivery(allow8BitMIME: false).bytes
    }

    /// Renders the message with what an SMTP transaction needs besides the bytes: envelope addresses,
    /// the Message-ID used, and which extensions the server must offer.
    /// - Parameter allow8BitMIME: whether ``BodyTransferEncoding/eightBitIfSupported`` may use raw 8-bit
    ///   bodies (the server offers `8BITMIME`).
    public func renderForDelivery(allow8BitMIME: Bool = false) throws(MailMessageError) -> RenderedMessage {
        guard !recipients.isEmpty else {
            throw MailMessageError(.invalidMessage, field: "To", reason: "the message has no recipients")
        }
        guard html != nil || text != nil else {
            throw MailMessageError(.invalidMessage, field: nil, reason: "the message has neither an HTML nor a text body")
        }
        try HeaderText.validateUnstructured(subject, field: "Subject")

        let id = try resolvedMessageID()
        var out: [UInt8] = []
        out.reserveCapacity(((html?.utf8.count ?? 0) + (text?.utf8.count ?? 0)) * 11 / 10 + 1024)

        HeaderText.appendFolded(name: "Date", atoms: HeaderText.split(RFC5322Date.format(date ?? Date()), on: 0x20).map(String.init), to: &out)
        Self.appendAddressHeader("From", [from], to: &out)
        if !replyTo.isEmpty { Self.appendAddressHeader("Reply-To", replyTo, to: &out) }
        if !to.isEmpty { Self.appendAddressHeader("To", to, to: &out) }
        if !cc.isEmpty { Self.appendAddressHeader("Cc", cc, to: &out) }
        HeaderText.appendFolded(
            name: "Subject", atoms: HeaderText.unstructuredAtoms(subject, headerName: "Subject", encodeLongWords: true), to: &out)
        HeaderText.appendFolded(name: "Message-ID", atoms: [id], to: &out)
        for header in headers {
            try Self.validateExtraHeader(name: header.name, value: header.value)
            HeaderText.appendFolded(
                name: header.name,
                atoms: HeaderText.unstructuredAtoms(header.value, headerName: header.name, encodeLongWords: false), to: &out)
        }
        out.append(contentsOf: Array("MIME-Version: 1.0\r\n".utf8))

        let textBody = text ?? HTMLText.plainText(fromHTML: html ?? "")
        var uses8Bit = false
        if let html {
            let boundary = Self.makeBoundary()
            out.append(contentsOf: Array("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n\r\n".utf8))
            let boundaryLine = Array("--\(boundary)\r\n".utf8)
            out.append(contentsOf: boundaryLine)
            uses8Bit = appendPart(contentType: "text/plain", body: textBody, allow8Bit: allow8BitMIME, to: &out) || uses8Bit
            out.append(contentsOf: boundaryLine)
            uses8Bit = appendPart(contentType: "text/html", body: html, allow8Bit: allow8BitMIME, to: &out) || uses8Bit
            out.append(contentsOf: Array("--\(boundary)--\r\n".utf8))
            if uses8Bit && Self.occurrences(of: Array("--\(boundary)".utf8), in: out) != 3 {
                // A raw 8-bit body contained our boundary (astronomically unlikely); fall back to QP.
                return try renderForDelivery(allow8BitMIME: false)
            }
        } else {
            uses8Bit = appendPart(contentType: "text/plain", body: textBody, allow8Bit: allow8BitMIME, to: &out)
        }

        let sender = envelopeFrom ?? from
        let everyone = [sender] + recipients + replyTo
        return RenderedMessage(
            bytes: out,
            messageID: id,
            envelopeFrom: sender,
            recipients: recipients,
            requiresSMTPUTF8: everyone.contains { $0.requiresSMTPUTF8 },
            requires8BitMIME: uses8Bit
        )
    }

    /// Appends the part's own headers, a blank line and the encoded body; returns whether it used 8bit.
    private func appendPart(contentType: String, body: String, allow8Bit: Bool, to out: inout [UInt8]) -> Bool {
        let bytes = Array(body.utf8)
        var encoding = bodyEncoding
        if encoding == .eightBitIfSupported {
            let normalized = BodyEncoding.normalizedLines(bytes)
            if allow8Bit && normalized.maxLine <= 998 && !normalized.bytes.contains(0) {
                out.append(
                    contentsOf: Array(
                        "Content-Type: \(contentType); charset=utf-8\r\nContent-Transfer-Encoding: \(normalized.sevenBit ? "7bit" : "8bit")\r\n\r\n".utf8))
                out.append(contentsOf: normalized.bytes)
                if normalized.bytes.last != 0x0A { out.append(contentsOf: [0x0D, 0x0A]) }
                return !normalized.sevenBit
            }
            encoding = .quotedPrintable
        }
        switch encoding {
        case .base64:
            out.append(contentsOf: Array("Content-Type: \(contentType); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n".utf8))
            BodyEncoding.base64(bytes, into: &out)
        default:
            out.append(contentsOf: Array("Content-Type: \(contentType); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".utf8))
            BodyEncoding.quotedPrintable(bytes, into: &out)
            if out.last != 0x0A { out.append(contentsOf: [0x0D, 0x0A]) }
        }
        return false
    }

    /// Counts occurrences of `needle` (the boundary delimiter: exactly 3 means no collision).
    private static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        var found = 0
        var i = 0
        while i + needle.count <= haystack.count {
            // No copy per candidate: quoted-printable output has an "=" (the delimiter's first byte) on every line.
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                found += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }

    private static func makeBoundary() -> String {
        // "=_" can never occur in quoted-printable or base64 output, so the boundary cannot collide
        // with an encoded body.
        var generator = SystemRandomNumberGenerator()
        return "=_usher_" + hex64(generator.next()) + hex64(generator.next())
    }

    private func resolvedMessageID() throws(MailMessageError) -> String {
        guard let given = messageID else {
            let domain = from.asciiDomain.hasPrefix("[") ? "usher.invalid" : from.asciiDomain
            return Self.makeMessageID(domain: domain)
        }
        var id = HeaderText.trimmed(given)
        if id.hasPrefix("<") && id.hasSuffix(">") && id.count >= 2 { id = String(id.dropFirst().dropLast()) }
        let parts = HeaderText.split(id, on: UInt8(ascii: "@"))
        let valid =
            parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && id.utf8.count <= 250
            && id.unicodeScalars.allSatisfy { $0 == "@" || $0 == "." || ($0.isASCII && EmailAddress.isAtext($0)) }
            && !HeaderText.hasDoubleDot(id) && !id.hasPrefix(".")
        guard valid else {
            throw MailMessageError(
                .invalidMessage, field: "Message-ID",
                reason: "\(HeaderText.excerpt(given)) is not of the form <left@right> with letters, digits and !#$%&'*+-/=?^_`{|}~. only")
        }
        return "<\(id)>"
    }

    /// Header names the message writes itself; an extra header with one of these names would either
    /// duplicate or override a structured header, so it is refused.
    static let reservedHeaderNames: Set<String> = [
        "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "content-disposition", "return-path",
    ]

    static func validateExtraHeader(name: String, value: String) throws(MailMessageError) {
        guard !name.isEmpty, name.utf8.count <= 64,
            name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") })
        else {
            throw MailMessageError(
                .invalidHeader, field: HeaderText.excerpt(name),
                reason: "a header name must be 1–64 printable ASCII characters without ':' or spaces")
        }
        guard !reservedHeaderNames.contains(name.lowercased()) else {
            throw MailMessageError(
                .invalidHeader, field: name,
                reason: "is written by the message itself; set the corresponding MailMessage property instead")
        }
        try HeaderText.validateUnstructured(value, field: name)
    }

    /// `Name: mailbox, mailbox` with each mailbox as `phrase <addr>`, folded between mailboxes and words.
    private static func appendAddressHeader(_ name: String, _ addresses: [EmailAddress], to out: inout [UInt8]) {
        var atoms: [String] = []
        for (index, address) in addresses.enumerated() {
            let separator = index < addresses.count - 1 ? "," : ""
            if let displayName = address.displayName {
                atoms.append(contentsOf: HeaderText.phraseAtoms(displayName))
                atoms.append("<\(address.wireAddress)>" + separator)
            } else {
                atoms.append(address.wireAddress + separator)
            }
        }
        HeaderText.appendFolded(name: name, atoms: atoms, to: &out)
    }
}

/// A message rendered for delivery: the bytes plus what the SMTP envelope needs.
public struct RenderedMessage: Sendable {
    /// The RFC 5322 message with CRLF line endings, not dot-stuffed.
    public let bytes: [UInt8]
    /// The Message-ID in the `Message-ID` header, with angle brackets.
    public let messageID: String
    /// The envelope sender (`MAIL FROM`).
    public let envelopeFrom: EmailAddress
    /// The envelope recipients (`RCPT TO`), To + Cc + Bcc without duplicates.
    public let recipients: [EmailAddress]
    /// Whether an address has a UTF-8 local part, so the server must offer `SMTPUTF8`.
    public let requiresSMTPUTF8: Bool
    /// Whether a body is raw 8-bit, so the server must offer `8BITMIME` (only with
    /// ``MailMessage/BodyTransferEncoding/eightBitIfSupported``).
    public let requires8BitMIME: Bool
}

/// RFC 5322 §3.3 date-time, always in UTC: `Tue, 25 Nov 2025 09:30:00 +0000`.
enum RFC5322Date {
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var dayNumber = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            dayNumber -= 1
        }
        let weekday = days[Int(((dayNumber % 7) + 7) % 7)]
        // Howard Hinnant's civil_from_days.
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekday), \(day) \(months[Int(month - 1)]) \(year) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000"
    }
}
