import Foundation
import JWTKit
import UsherJSON

/// A JWT payload made of arbitrary JSON claims: ID tokens and user access tokens, whose claims depend on the
/// requested scopes and on custom claims that post-login Actions add.
public struct ClaimSet: JWTPayload, Equatable {
    public var claims: JSONObject

    public init(_ claims: JSONObject) { self.claims = claims }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    public init(from decoder: any Decoder) throws {
        guard case .object(let object) = try JSONValue(from: decoder) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "claims must be an object"))
        }
        claims = object
    }

    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object(claims).encode(to: encoder)
    }

    public var subject: String? { claims["sub"]?.stringValue }
    public var issuer: String? { claims["iss"]?.stringValue }
    public var expiresAt: Int64? {
        if case .int(let n)? = claims["exp"] { return n }
        return nil
    }
    /// `aud` as a list (a single string counts as a list of one).
    public var audiences: [String] {
        switch claims["aud"] {
        case .string(let one)?: [one]
        case .array(let many)?: many.compactMap(\.stringValue)
        default: []
        }
    }
}
