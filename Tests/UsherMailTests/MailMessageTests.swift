import Foundation
import Testing

@testable import UsherMail

@Suite struct MailMessageTests {
    static let unicodeSubject = "Привет, Zoë — 👋 invitation"

    static func invitation(subject: String = unicodeSubject, html: String? = nil, text: String? = nil) -> MailMessage {
        MailMessage(
            from: address("noreply@usher.example", "Usher — Équipe"),
            to: [address("zoe@example.com", "Zoë Martin"), address("bob@example.com", "Smith, Bob \"The Builder\"")],
            subject: subject,
            html: html ?? """
                <html><head><title>x</title><style>p{color:red}</style></head><body>
                <h1>Welcome, Zoë!</h1><p>You&#39;ve been invited to <b>Acme</b> &amp; friends.</p>
                <p><a href="https://usher.example/invite?ticket=abc&amp;x=1">Accept the invitation</a></p>
                <ul><li>First</li><li>Second</li></ul>
                <p>.leading dot line</p>
                </body></html>
                """,
            text: text,
            replyTo: [address("support@usher.example", "Support")],
            headers: [("X-Usher-Invitation", "inv_123"), ("List-Unsubscribe", "<https://usher.example/unsubscribe/abc>")],
            messageID: "<fixed-id-1@usher.example>",
            date: Date(timeIntervalSince1970: 1_764_063_000)
        )
    }

    static func headerBlock(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text[..<text.range(of: "\r\n\r\n")!.lowerBound])
    }

    @Test func rendersSevenBitFoldedHeaders() throws {
        let bytes = try Self.invitation().render()
        #expect(bytes.allSatisfy { $0 < 0x80 }, "7-bit clean message")
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "line too long: \(line)")
            #expect(!line.contains("\r") && !line.contains("\n"))
        }
        // Only CRLF line endings.
        for (i, b) in bytes.enumerated() where b == 0x0A { #expect(i > 0 && bytes[i - 1] == 0x0D) }
        for (i, b) in bytes.enumerated() where b == 0x0D { #expect(i + 1 < bytes.count && bytes[i + 1] == 0x0A) }
        let headers = Self.headerBlock(bytes)
        #expect(headers.hasPrefix("Date: Tue, 25 Nov 2025 09:30:00 +0000\r\n"))
        #expect(headers.contains("Message-ID: <fixed-id-1@usher.example>"))
        #expect(headers.contains("MIME-Version: 1.0"))
        #expect(headers.contains("Content-Type: multipart/alternative;"))
        #expect(headers.contains("X-Usher-Invitation: inv_123"))
        #expect(headers.contains("List-Unsubscribe: <https://usher.example/unsubscribe/abc>"))
        #expect(headers.contains("=?UTF-8?"))
        for line in headers.components(separatedBy: "\r\n") {
            // Encoded-words are at most 75 characters.
            for word in line.split(separator: " ") where word.hasPrefix("=?") { #expect(word.count <= 75) }
        }
    }

    @Test func pythonEmailParsesEverythingBack() throws {
        guard PythonEmailChecker.isAvailable else { return }
        let summary = try PythonEmailChecker.summary(of: try Self.invitation().render())
        #expect(summary.string("subject") == Self.unicodeSubject)
        #expect(summary.strings("defects") == [])
        #expect(summary.string("content_type") == "multipart/alternative")
        let from = summary.list("from")
        #expect(from.first?.string("name") == "Usher — Équipe")
        #expect(from.first?.string("address") == "noreply@usher.example")
        let to = summary.list("to")
        #expect(to.map { $0.string("name") } == ["Zoë Martin", "Smith, Bob \"The Builder\""])
        #expect(to.map { $0.string("address") } == ["zoe@example.com", "bob@example.com"])
        #expect(summary.list("reply_to").first?.string("address") == "support@usher.example")
        let text = try #require(summary.string("text")).replacingOccurrences(of: "\r\n", with: "\n")
        let html = try #require(summary.string("html"))
        #expect(html.contains("<h1>Welcome, Zoë!</h1>"))
        #expect(text.contains("Welcome, Zoë!"))
        #expect(text.contains("You've been invited to Acme & friends."))
        #expect(text.contains("Accept the invitation (https://usher.example/invite?ticket=abc&x=1)"))
        #expect(text.contains("- First\n- Second"))
        #expect(!text.contains("color:red"))
        #expect(summary.string("message_id") == "<fixed-id-1@usher.example>")
    }

    @Test(arguments: [
        "Hello\r\nBcc: victim@example.com", "Hello\nBcc: victim@example.com", "Hello\rX", "Hi\u{0}there",
        "Line\u{2028}separator", "Next\u{85}line", "Tab\u{0B}vertical", "Esc\u{1B}[31m",
    ])
    func subjectWithControlCharactersIsRefused(_ subject: String) {
        #expect {
            try Self.invitation(subject: subject).render()
        } throws: { error in
            (error as? MailMessageError)?.kind == .invalidHeader && (error as? MailMessageError)?.field == "Subject"
        }
    }

    @Test func extraHeadersCannotInjectOrOverride() {
        func render(_ name: String, _ value: String) throws {
            var message = Self.invitation()
            message.headers = [(name, value)]
            _ = try message.render()
        }
        #expect(throws: MailMessageError.self) { try render("X-Test", "a\r\nBcc: x@evil.test") }
        #expect(throws: MailMessageError.self) { try render("X-Test", "a\nb") }
        #expect(throws: MailMessageError.self) { try render("X-Test\r\nBcc", "x@evil.test") }
        #expect(throws: MailMessageError.self) { try render("X Test", "v") }
        #expect(throws: MailMessageError.self) { try render("X-Test:", "v") }
        #expect(throws: MailMessageError.self) { try render("", "v") }
        #expect(throws: MailMessageError.self) { try render("Bcc", "x@evil.test") }
        #expect(throws: MailMessageError.self) { try render("content-type", "text/plain") }
        #expect(throws: MailMessageError.self) { try render("From", "x@evil.test") }
        #expect(throws: Never.self) { try render("X-Tab", "a\tb") }
    }

    @Test func messageIDMustBeSafe() {
        func render(_ id: String) throws -> [UInt8] {
            var message = Self.invitation()
            message.messageID = id
            return try message.render()
        }
        #expect(throws: MailMessageError.self) { try render("<a@b>\r\nBcc: x@evil.test") }
        #expect(throws: MailMessageError.self) { try render("no-at-sign") }
        #expect(throws: MailMessageError.self) { try render("<a b@c>") }
        #expect(throws: Never.self) { try render("abc@example.com") }
        let bytes = (try? render("abc@example.com")) ?? []
        #expect(Self.headerBlock(bytes).contains("Message-ID: <abc@example.com>"))
    }

    @Test func generatedMessageIDsAreUniqueAndWellFormed() throws {
        let a = MailMessage.makeMessageID(domain: "usher.example")
        let b = MailMessage.makeMessageID(domain: "usher.example")
        #expect(a != b)
        #expect(a.hasPrefix("<") && a.hasSuffix("@usher.example>"))
        var message = Self.invitation()
        message.messageID = nil
        let rendered = try message.renderForDelivery()
        #expect(rendered.messageID.hasSuffix("@usher.example>"))
        #expect(Self.headerBlock(rendered.bytes).contains("Message-ID: \(rendered.messageID)"))
    }

    @Test func hostileDisplayNamesAreEncodedNotPassedThrough() throws {
        guard PythonEmailChecker.isAvailable else { return }
        let names = [
            "Eve <eve@evil.test>, Mallory", "\"Quoted\" Name", "Back\\slash", "Comma, Person", "Semi;colon",
            "=?UTF-8?B?SGFja2Vk?=", "A very long display name that keeps going and going past the folding limit of the header line",
            "Zoë 👋 Ünïcödé — with a very long name that will need several encoded words to fit",
        ]
        for name in names {
            let message = MailMessage(
                from: address("noreply@usher.example", name), to: [address("zoe@example.com", name)], subject: name,
                text: "hi", messageID: "<n@usher.example>")
            let bytes = try message.render()
            #expect(bytes.allSatisfy { $0 < 0x80 })
            let headers = Self.headerBlock(bytes)
            for line in headers.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
            // RFC 2047 decoding (white space between adjacent encoded-words is dropped) gives the name back.
            #expect(RFC2047.displayName(inHeader: "To", of: headers) == name)
            let summary = try PythonEmailChecker.summary(of: bytes)
            #expect(summary.list("to").count == 1, "\(name) produced \(summary.list("to"))")
            #expect(summary.list("to").first?.string("address") == "zoe@example.com")
            // Python's phrase parser keeps the space between adjacent encoded-words (a CPython quirk), so
            // compare without spaces; it must still be one mailbox with the right characters.
            let noSpaces = { (s: String?) in s?.replacingOccurrences(of: " ", with: "") }
            #expect(noSpaces(summary.list("to").first?.string("name")) == noSpaces(name))
            #expect(noSpaces(summary.list("from").first?.string("name")) == noSpaces(name))
            #expect(summary.string("subject") == name)
            #expect(summary.strings("defects") == [], "\(name): \(summary.strings("defects"))")
        }
    }

    @Test func longSubjectsFoldAndSurvive() throws {
        guard PythonEmailChecker.isAvailable else { return }
        let subjects = [
            String(repeating: "word ", count: 40).trimmingCharacters(in: .whitespaces),
            String(repeating: "x", count: 150),
            String(repeating: "Привет мир ", count: 12).trimmingCharacters(in: .whitespaces),
            String(repeating: "👋", count: 50),
            "double  spaced   subject with = signs and ?question? marks_and_underscores",
            "contains =? but is ascii",
        ]
        for subject in subjects {
            let message = MailMessage(from: address("a@usher.example"), to: [address("b@example.com")], subject: subject, text: "x")
            let bytes = try message.render()
            for line in Self.headerBlock(bytes).components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
            let summary = try PythonEmailChecker.summary(of: bytes)
            #expect(summary.string("subject") == subject)
        }
    }

    @Test func quotedPrintableKeepsLinesShortAndDecodesExactly() throws {
        let body =
            "Line with trailing space \nTab\tend\t\n" + String(repeating: "é", count: 100) + "\n"
            + String(repeating: "a=b ", count: 60) + "\n.starts with a dot\nFrom the start\n\u{0}nul"
        var out: [UInt8] = []
        BodyEncoding.quotedPrintable(Array(body.utf8), into: &out)
        let encoded = String(decoding: out, as: UTF8.self)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
        }
        #expect(out.allSatisfy { $0 < 0x80 })
        #expect(Self.decodeQP(out) == Array(body.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        // A UTF-8 character is never split by a soft line break.
        for line in encoded.components(separatedBy: "=\r\n") {
            let decoded = Self.decodeQP(Array(line.utf8))
            #expect(String(validating: decoded, as: UTF8.self) != nil)
        }
    }

    static func decodeQP(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "=") {
                if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A {
                    i += 3
                    continue
                }
                out.append(UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    @Test func textOnlyMessageIsSinglePart() throws {
        let message = MailMessage(from: address("a@usher.example"), to: [address("b@example.com")], subject: "Hi", text: "Hello")
        let headers = Self.headerBlock(try message.render())
        #expect(headers.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(!headers.contains("multipart"))
    }

    @Test func base64BodiesAndEightBitOption() throws {
        var message = Self.invitation()
        message.bodyEncoding = .base64
        let b64 = try message.render()
        #expect(String(decoding: b64, as: UTF8.self).contains("Content-Transfer-Encoding: base64"))
        message.bodyEncoding = .eightBitIfSupported
        let sevenBit = try message.renderForDelivery(allow8BitMIME: false)
        #expect(!sevenBit.requires8BitMIME)
        #expect(sevenBit.bytes.allSatisfy { $0 < 0x80 })
        let eightBit = try message.renderForDelivery(allow8BitMIME: true)
        #expect(eightBit.requires8BitMIME)
        #expect(String(decoding: eightBit.bytes, as: UTF8.self).contains("Content-Transfer-Encoding: 8bit"))
        if PythonEmailChecker.isAvailable {
            for bytes in [b64, eightBit.bytes] {
                let summary = try PythonEmailChecker.summary(of: bytes)
                #expect(summary.string("html")?.contains("Welcome, Zoë!") == true)
                #expect(summary.string("subject") == Self.unicodeSubject)
            }
        }
    }

    @Test func utf8LocalPartsNeedSMTPUTF8() throws {
        let message = MailMessage(from: address("noreply@usher.example"), to: [address("zoë@exämple.com", "Zoë")], subject: "Hi", text: "x")
        let rendered = try message.renderForDelivery()
        #expect(rendered.requiresSMTPUTF8)
        #expect(rendered.recipients.first?.wireAddress == "zoë@xn--exmple-cua.com")
        let ascii = MailMessage(from: address("noreply@usher.example"), to: [address("zoe@exämple.com")], subject: "Hi", text: "x")
        #expect(try ascii.renderForDelivery().requiresSMTPUTF8 == false)
    }

    @Test func refusesEmptyMessages() {
        #expect(throws: MailMessageError.self) {
            try MailMessage(from: address("a@usher.example"), to: [], subject: "x", text: "y").render()
        }
        #expect(throws: MailMessageError.self) {
            try MailMessage(from: address("a@usher.example"), to: [address("b@example.com")], subject: "x").render()
        }
    }

    @Test func bccIsEnvelopeOnly() throws {
        let message = MailMessage(
            from: address("a@usher.example"), to: [address("b@example.com")], subject: "x", text: "y",
            cc: [address("c@example.com")], bcc: [address("secret@example.com"), address("B@example.com")])
        let rendered = try message.renderForDelivery()
        #expect(rendered.recipients.map(\.wireAddress) == ["b@example.com", "c@example.com", "secret@example.com"])
        #expect(!String(decoding: rendered.bytes, as: UTF8.self).contains("secret"))
    }

    @Test func datesAreRFC5322() {
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 0)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 951_782_400)) == "Tue, 29 Feb 2000 00:00:00 +0000")
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 1_764_063_000)) == "Tue, 25 Nov 2025 09:30:00 +0000")
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 4_102_444_799)) == "Thu, 31 Dec 2099 23:59:59 +0000")
    }
}

@Suite struct HTMLTextTests {
    @Test func convertsTypicalEmailMarkup() {
        let html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Ignored</title>
            <style>.x { display:none }</style><script>alert(1)</script></head>
            <body><!-- a comment -->
            <table><tr><td>Hello&nbsp;<strong>Zoë</strong>,</td></tr></table>
            <p>Click   <a href="https://example.com/accept?a=1&amp;b=2">here</a> to   accept.<br>Thanks!</p>
            <p><a href="https://example.com">https://example.com/</a> · <a href="mailto:help@example.com">help@example.com</a></p>
            <p><a href="https://example.com/logo"><img src="logo.png" alt="Acme logo"></a></p>
            <ol><li>One</li><li>Two</li></ol>
            <p>&lt;tag&gt; &euro;5 &#x1F44B; &#8212; &unknown; 5 &lt 6</p>
            <pre>  keep
              this</pre>
            </body></html>
            """
        let text = HTMLText.plainText(fromHTML: html)
        #expect(!text.contains("Ignored"))
        #expect(!text.contains("display"))
        #expect(!text.contains("alert"))
        #expect(!text.contains("comment"))
        #expect(text.contains("Hello Zoë,"))
        #expect(text.contains("Click here (https://example.com/accept?a=1&b=2) to accept.\nThanks!"))
        #expect(text.contains("https://example.com/ · help@example.com"))
        #expect(text.contains("Acme logo (https://example.com/logo)"))
        #expect(text.contains("1. One\n2. Two"))
        #expect(text.contains("<tag> €5 👋 — &unknown; 5 &lt 6"))
        #expect(text.contains("  keep\n  this") || text.contains("  keep\n              this"))
        #expect(!text.contains("\n\n\n"))
        #expect(text == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func plainTextPassesThrough() {
        #expect(HTMLText.plainText(fromHTML: "just text") == "just text")
        #expect(HTMLText.plainText(fromHTML: "a < b and c > d") == "a < b and c > d")
        #expect(HTMLText.plainText(fromHTML: "") == "")
    }
}

/// A minimal RFC 2047 decoder for display names, as mail clients do it: encoded-words are decoded and
/// the white space between two adjacent encoded-words is dropped.
enum RFC2047 {
    static func displayName(inHeader name: String, of headers: String) -> String? {
        // Unfold, find the header, take what precedes the last '<'.
        let unfolded = headers.replacingOccurrences(of: "\r\n ", with: " ")
        guard let line = unfolded.components(separatedBy: "\r\n").first(where: { $0.hasPrefix(name + ": ") }) else { return nil }
        var value = String(line.dropFirst(name.count + 2))
        guard let lt = value.lastIndex(of: "<") else { return nil }
        value = String(value[..<lt]).trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("\""), value.hasSuffix("\"") {
            var out = ""
            var escaped = false
            for ch in value.dropFirst().dropLast() {
                if escaped {
                    out.append(ch)
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else {
                    out.append(ch)
                }
            }
            return out
        }
        var result = ""
        var previousWasEncoded = false
        for (i, token) in value.split(separator: " ").enumerated() {
            if let decoded = decodeWord(String(token)) {
                if i > 0 && !previousWasEncoded { result += " " }
                result += decoded
                previousWasEncoded = true
            } else {
                if i > 0 { result += " " }
                result += token
                previousWasEncoded = false
            }
        }
        return result
    }

    static func decodeWord(_ word: String) -> String? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.count > 4 else { return nil }
        let parts = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].uppercased() == "UTF-8" else { return nil }
        if parts[1].uppercased() == "B" {
            guard let data = Data(base64Encoded: String(parts[2])) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        var bytes: [UInt8] = []
        let text = Array(parts[2].utf8)
        var i = 0
        while i < text.count {
            if text[i] == UInt8(ascii: "_") {
                bytes.append(0x20)
                i += 1
            } else if text[i] == UInt8(ascii: "="), i + 2 < text.count,
                let v = UInt8(String(decoding: text[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i += 3
            } else {
                bytes.append(text[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
