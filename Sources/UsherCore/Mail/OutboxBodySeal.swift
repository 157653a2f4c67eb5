import Crypto
import Foundation

/// Encrypts outbox bodies at rest, with a key kept outside the database.
///
/// An invitation or reset email carries a live single-use link; a copy of the database (a backup, a replica, a
/// stolen SQLite file) must not be enough to redeem it. Bodies are sealed with AES-256-GCM before they are written
/// and opened when read. A sealed value names its key (`usher-sealed:v1:<key id>:<base64 nonce‖ciphertext‖tag>`),
/// so a rotated key keeps opening what it sealed while it is listed among the previous keys.
public struct OutboxBodySeal: Sendable {
    static let prefix = "usher-sealed:v1:"

    private let current: (id: String, key: SymmetricKey)
    private let keys: [String: SymmetricKey]

    /// `currentKey` seals; it and `previousKeys` open. Every key is 32 bytes.
    public init(currentKey: Data, previousKeys: [Data] = []) throws(UsherError) {
        for key in [currentKey] + previousKeys where key.count != 32 {
            throw UsherError(.invalidInput, "An outbox key must be 32 bytes (44 characters of base64); this one is \(key.count) bytes.")
        }
        let current = (Self.keyID(currentKey), SymmetricKey(data: currentKey))
        self.current = current
        var keys = [current.0: current.1]
        for key in previousKeys { keys[Self.keyID(key)] = SymmetricKey(data: key) }
        self.keys = keys
    }

    /// A seal with a fresh random key, for stores whose contents die with the process (tests).
    public static func ephemeral() -> OutboxBodySeal {
        // 32 random bytes always make a valid key.
        try! OutboxBodySeal(currentKey: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    /// A new random key as base64, the form `USHER_OUTBOX_KEY` and the key file hold.
    public static func newKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// The first 8 hex digits of the key's SHA-256: names the key without revealing it.
    public static func keyID(_ key: Data) -> String {
        SHA256.hash(data: key).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// The id of the key that seals.
    public var currentKeyID: String { current.id }

    public func seal(_ plaintext: String) -> String {
        // AES-GCM with a fresh random nonce cannot fail for a valid key and message.
        let box = try! AES.GCM.seal(Data(plaintext.utf8), using: current.key)
        return Self.prefix + current.id + ":" + box.combined!.base64EncodedString()
    }

    public func seal(_ plaintext: String?) -> String? { plaintext.map(seal) }

    /// The plaintext of a sealed value. A value without the prefix was written before bodies were sealed and is
    /// returned as it is.
    public func open(_ stored: String) throws(UsherError) -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        let rest = stored.dropFirst(Self.prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { throw Self.unreadable("it is not in the sealed format") }
        let id = String(rest[..<colon])
        guard let key = keys[id] else {
            throw Self.unreadable(
                "it was sealed with key \(id), which this instance does not have (give it as USHER_OUTBOX_KEY or in USHER_OUTBOX_PREVIOUS_KEYS)")
        }
        guard let combined = Data(base64Encoded: String(rest[rest.index(after: colon)...])),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let plain = try? AES.GCM.open(box, using: key),
            let text = String(data: plain, encoding: .utf8)
        else { throw Self.unreadable("it does not decrypt with key \(id) (damaged or altered)") }
        return text
    }

    public func open(_ stored: String?) throws(UsherError) -> String? {
        guard let stored else { return nil }
        return try open(stored)
    }

    static func unreadable(_ why: String) -> UsherError {
        UsherError(.internalFailure, "The stored email body cannot be read: \(why).", errorCode: "outbox_body_unreadable")
    }
}
