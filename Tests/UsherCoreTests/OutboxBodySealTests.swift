import Foundation
import Testing

@testable import UsherCore

/// The seal is what keeps a database copy from holding live links: these pin its format, its key handling and its
/// refusal of anything it did not seal itself.
@Suite("Outbox body seal")
struct OutboxBodySealTests {
    static let keyA = Data(repeating: 0xA1, count: 32)
    static let keyB = Data(repeating: 0xB2, count: 32)

    @Test func aSealedBodyOpensAndDoesNotContainItsPlaintext() throws {
        let seal = try OutboxBodySeal(currentKey: Self.keyA)
        let body = "<a href=\"https://id.example.com/reset?ticket=SECRET-TICKET-123\">Reset</a>"
        let sealed = seal.seal(body)
        #expect(sealed.hasPrefix("usher-sealed:v1:\(OutboxBodySeal.keyID(Self.keyA)):"))
        #expect(!sealed.contains("SECRET-TICKET-123"))
        #expect(try seal.open(sealed) == body)
    }

    @Test func sealingTwiceGivesDifferentCiphertexts() throws {
        let seal = try OutboxBodySeal(currentKey: Self.keyA)
        #expect(seal.seal("same") != seal.seal("same"))
    }

    @Test func aRotatedKeyStillOpensWhatItSealedWhileListedAsPrevious() throws {
        let old = try OutboxBodySeal(currentKey: Self.keyA)
        let sealedByOld = old.seal("before rotation")
        let rotated = try OutboxBodySeal(currentKey: Self.keyB, previousKeys: [Self.keyA])
        #expect(try rotated.open(sealedByOld) == "before rotation")
        #expect(rotated.seal("after").contains(OutboxBodySeal.keyID(Self.keyB)))
    }

    @Test func aBodySealedWithAnUnknownKeyIsUnreadableAndSaysWhichKeyIsMissing() throws {
        let sealed = try OutboxBodySeal(currentKey: Self.keyA).seal("x")
        let other = try OutboxBodySeal(currentKey: Self.keyB)
        let error = #expect(throws: UsherError.self) { try other.open(sealed) }
        #expect(error?.errorCode == "outbox_body_unreadable")
        #expect(error?.message.contains(OutboxBodySeal.keyID(Self.keyA)) == true)
    }

    @Test func anAlteredCiphertextIsRejected() throws {
        let seal = try OutboxBodySeal(currentKey: Self.keyA)
        var sealed = Array(seal.seal("pay attention to this"))
        // A character well inside the base64 (the last ones may be padding bits the decoder ignores).
        let inside = sealed.count - 10
        sealed[inside] = sealed[inside] == "A" ? "B" : "A"
        #expect(throws: UsherError.self) { try seal.open(String(sealed)) }
    }

    @Test func aBodyWrittenBeforeSealingIsReturnedAsItIs() throws {
        let seal = try OutboxBodySeal(currentKey: Self.keyA)
        #expect(try seal.open("<p>legacy clear body</p>") == "<p>legacy clear body</p>")
    }

    @Test(arguments: [0, 16, 31, 33])
    func aKeyOfTheWrongLengthIsRefusedWithItsLength(_ length: Int) {
        let error = #expect(throws: UsherError.self) { try OutboxBodySeal(currentKey: Data(count: length)) }
        #expect(error?.message.contains("\(length) bytes") == true)
    }
}
