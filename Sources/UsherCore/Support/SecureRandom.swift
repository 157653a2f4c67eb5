import Crypto
import Foundation

/// Random identifiers and secrets, and the one-way hash under which secrets are stored.
///
/// All randomness comes from the system CSPRNG (`SystemRandomNumberGenerator` reads getrandom(2) on Linux).
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<max(0, count)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Lower-case hex of `byteCount` random bytes (Auth0 user ids use 12 bytes = 24 hex digits).
    public static func hex(byteCount: Int) -> String {
        Hex.encode(bytes(byteCount))
    }

    /// URL-safe base64 (no padding) of `byteCount` random bytes; 32 bytes give a 256-bit token of 43 characters.
    public static func token(byteCount: Int = 32) -> String {
        Base64URL.encode(bytes(byteCount))
    }

    /// Alphanumeric string of `length` characters, for identifiers shaped like Auth0's (`con_` + 16, client ids).
    public static func alphanumeric(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<max(0, length)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// SHA-256 of a high-entropy secret, hex encoded. Secrets (client secrets, tickets, refresh tokens) are stored
    /// only in this form; a plain hash is enough because the inputs are 256-bit random values, not passwords.
    public static func secretHash(_ secret: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Data(secret.utf8))))
    }

    /// Compares two strings in time independent of where they differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}

/// Lower-case hexadecimal encoding.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs and JWKS use it.
public enum Base64URL {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base64.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base64 += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}
