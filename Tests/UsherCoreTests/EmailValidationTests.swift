import Testing
import UsherCore

/// The plain address check behind every email field and `/dbconnections/change_password`.
@Suite("Email plausibility")
struct EmailValidationTests {
    @Test(arguments: ["ana@example.com", "a.b+tag@sub.example.co.uk", "zoë@exämple.de", "o'brien@example.org", "x@a.b"])
    func accepts(_ address: String) {
        #expect(UserValidation.isPlausibleEmail(address))
    }

    @Test(arguments: [
        "", "ana", "ana@", "@example.com", "a@b@example.com", "ana@example", "ana@.example.com", "ana@example..com",
        "ana@-example.com", ".ana@example.com", "ana.@example.com", "a..na@example.com", "an a@example.com", "ana@exa\tmple.com",
        "ana\r\n@example.com", "<ana>@example.com", "ana@example.com>", "ana,bob@example.com", "ana;@example.com",
        "\"ana\"@example.com", "ana\\@example.com", "a\u{7F}@example.com",
    ])
    func refuses(_ address: String) {
        #expect(!UserValidation.isPlausibleEmail(address))
    }

    @Test func refusesOverlongParts() throws {
        #expect(!UserValidation.isPlausibleEmail(String(repeating: "a", count: 65) + "@example.com"))
        #expect(!UserValidation.isPlausibleEmail("a@" + String(repeating: "b", count: 64) + ".com"))
        #expect(!UserValidation.isPlausibleEmail("a@" + String(repeating: "b.", count: 130) + "com"))
        #expect(try UserValidation.normalizedEmail("Ana@Example.COM") == "ana@example.com")
    }
}
