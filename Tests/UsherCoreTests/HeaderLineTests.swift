import Foundation
import Testing
import UsherCore

/// A user's data reaches email headers through templates; it must neither inject a header nor stop the email.
@Suite("Header lines")
struct HeaderLineTests {
    @Test(arguments: [
        ("Hello Ada\r\nBcc: victim@example.com", "Hello Ada Bcc: victim@example.com"),
        ("Hello Ada\nBcc: victim@example.com", "Hello Ada Bcc: victim@example.com"),
        ("Hello\rAda", "Hello Ada"),
        ("A\u{0085}B\u{2028}C\u{2029}D", "A B C D"),
        ("Null\u{0000}and\u{001B}[31mescape\u{007F}", "Null and [31mescape"),
        ("\r\n  Leading and trailing \r\n", "Leading and trailing"),
        ("Ünïcödé ✓ stays\u{000B}", "Ünïcödé ✓ stays"),
    ])
    func controlCharactersBecomeOneSpace(input: String, expected: String) {
        let line = HeaderLine.neutralized(input)
        #expect(line == expected)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }

    @Test func safeTextIsLeftExactlyAsItWas() {
        for text in ["Welcome to Acme", "Two  spaces\tand a tab", "", "Émile <e@example.com>"] {
            #expect(HeaderLine.neutralized(text) == text)
        }
    }

    @Test func everyOutboxMessageCarriesSafeHeaders() {
        let message = OutboxMessage.new(
            to: "ada@example.com", from: "Acme\r\nBcc: x@example.com <no-reply@example.com>",
            replyTo: "Support\n<help@example.com>", subject: "Hello Ada\r\nBcc: victim@example.com",
            html: "<p>line one\r\nline two</p>", purpose: "test", messageIDDomain: "example.com", now: Date())
        #expect(message.subject == "Hello Ada Bcc: victim@example.com")
        #expect(message.from == "Acme Bcc: x@example.com <no-reply@example.com>")
        #expect(message.replyTo == "Support <help@example.com>")
        #expect(message.to == "ada@example.com")
        // Bodies are not headers: their line breaks are content.
        #expect(message.html == "<p>line one\r\nline two</p>")
    }
}
