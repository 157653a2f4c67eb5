import Testing

@testable import UsherMail

@Suite struct EmailAddressTests {
    @Test(arguments: [
        "user@example.com", "first.last@example.co.uk", "user+tag@example.com", "x@localhost",
        "o'brien@example.ie", "!#$%&'*+-/=?^_`{|}~@example.com", "\"john doe\"@example.com",
        "\"a\\\"b\"@example.com", "user@[192.0.2.1]", "user@[IPv6:2001:db8::1]", "zoë@example.com",
        "用户@例子.广告", "user@bücher.example", "a@b-c.d", "  padded@example.com  ",
    ])
    func acceptsValidAddresses(_ text: String) throws {
        _ = try EmailAddress(text)
    }

    @Test(arguments: [
        ("", "empty"), ("plainaddress", "no '@'"), ("@example.com", "local part"), ("user@", "domain"),
        ("a..b@example.com", "'..'"), (".a@example.com", "start or end"), ("a.@example.com", "start or end"),
        ("a b@example.com", "only allowed inside quotes"), ("a<b@example.com", "only allowed inside quotes"),
        ("a@exa mple.com", "only letters"), ("a@-example.com", "starts or ends with '-'"),
        ("a@example..com", "empty label"), ("user@example.com\r\nBcc: victim@example.com", "control character"),
        ("user\n@example.com", "control character"), ("us\u{0}er@example.com", "control character"),
        ("user@exa\u{2028}mple.com", "control character"), ("\"unterminated@example.com", "quoted"),
        ("a@[300.1.1.1]", "IPv4"), ("a@exam_ple.com", "only letters"),
        (String(repeating: "x", count: 65) + "@example.com", "64 octets"),
        ("a@" + String(repeating: "l", count: 64) + ".com", "63 octets"),
    ])
    func rejectsInvalidAddresses(_ text: String, _ reasonFragment: String) {
        #expect {
            try EmailAddress(text)
        } throws: { error in
            guard let error = error as? MailMessageError else { return false }
            return error.kind == .invalidAddress && error.reason.contains(reasonFragment)
        }
    }

    @Test func internationalizedDomainsBecomeALabels() throws {
        #expect(try EmailAddress("user@bücher.example").asciiDomain == "xn--bcher-kva.example")
        #expect(try EmailAddress("user@Bücher.Example").asciiDomain == "xn--bcher-kva.example")
        #expect(try EmailAddress("a@例子.广告").asciiDomain == "xn--fsqu00a.xn--4rr70v")
        #expect(try EmailAddress("a@münchen.de").wireAddress == "a@xn--mnchen-3ya.de")
        #expect(try EmailAddress("user@bücher.example").requiresSMTPUTF8 == false)
        #expect(try EmailAddress("zoë@example.com").requiresSMTPUTF8 == true)
    }

    @Test func punycodeMatchesRFC3492Samples() {
        #expect(Punycode.encode("bücher") == "bcher-kva")
        #expect(Punycode.encode("münchen") == "mnchen-3ya")
        #expect(Punycode.encode("他们为什么不说中文") == "ihqwcrb4cv8a8dqg056pqjye")
        #expect(Punycode.encode("ليهمابتكلموشعربي؟") == "egbpdaj6bu4bxfgehfvwxn")
    }

    @Test func displayNamesMayNotContainLineBreaks() {
        #expect(throws: MailMessageError.self) { try EmailAddress("a@example.com", displayName: "Eve\r\nBcc: x@evil.test") }
        #expect(throws: MailMessageError.self) { try EmailAddress("a@example.com", displayName: "Eve\u{85}") }
        #expect(throws: MailMessageError.self) { try EmailAddress("a@example.com", displayName: "Eve\u{7F}") }
    }

    @Test func parsesNameAndAddress() throws {
        let a = try EmailAddress(parsing: "Zoë Martin <zoe@example.com>")
        #expect(a.displayName == "Zoë Martin")
        #expect(a.address == "zoe@example.com")
        let b = try EmailAddress(parsing: "\"Martin, Zoë \\\"Z\\\"\" <zoe@example.com>")
        #expect(b.displayName == "Martin, Zoë \"Z\"")
        let c = try EmailAddress(parsing: "bare@example.com")
        #expect(c.displayName == nil)
        #expect(throws: MailMessageError.self) { try EmailAddress(parsing: "Name <bad address@example.com>") }
    }
}
