import Crypto
import Foundation
import UsherJSON

/// A person's account in a database connection: Auth0's user profile plus the password hash.
public struct User: Sendable, Equatable {
    /// `auth0|` + the provider-side id (24 hex digits when Usher generates it).
    public var userID: String
    /// Name of the database connection the user belongs to.
    public var connection: String
    /// Lower-cased e-mail address (Auth0 stores database users' e-mails lower-case).
    public var email: String?
    public var emailVerified: Bool
    public var username: String?
    public var phoneNumber: String?
    public var phoneVerified: Bool
    public var name: String?
    public var givenName: String?
    public var familyName: String?
    public var nickname: String?
    public var picture: String?
    public var appMetadata: JSONObject
    public var userMetadata: JSONObject
    public var blocked: Bool
    /// bcrypt hash; `nil` for an invited user who has not chosen a password yet.
    public var passwordHash: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var lastLogin: Date?
    public var lastIP: String?
    public var loginsCount: Int
    public var lastPasswordReset: Date?

    public init(
        userID: String, connection: String, email: String?, emailVerified: Bool = false, username: String? = nil,
        phoneNumber: String? = nil, phoneVerified: Bool = false, name: String? = nil, givenName: String? = nil,
        familyName: String? = nil, nickname: String? = nil, picture: String? = nil, appMetadata: JSONObject = [:],
        userMetadata: JSONObject = [:], blocked: Bool = false, passwordHash: String? = nil, createdAt: Date,
        updatedAt: Date, lastLogin: Date? = nil, lastIP: String? = nil, loginsCount: Int = 0,
        lastPasswordReset: Date? = nil
    ) {
        self.userID = userID
        self.connection = connection
        self.email = email
        self.emailVerified = emailVerified
        self.username = username
        self.phoneNumber = phoneNumber
        self.phoneVerified = phoneVerified
        self.name = name
        self.givenName = givenName
        self.familyName = familyName
        self.nickname = nickname
        self.picture = picture
        self.appMetadata = appMetadata
        self.userMetadata = userMetadata
        self.blocked = blocked
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLogin = lastLogin
        self.lastIP = lastIP
        self.loginsCount = loginsCount
        self.lastPasswordReset = lastPasswordReset
    }

    /// The id without the `auth0|` provider prefix, as `identities[].user_id` shows it.
    public var providerUserID: String {
        guard let bar = userID.firstIndex(of: "|") else { return userID }
        return String(userID[userID.index(after: bar)...])
    }

    /// A new Auth0-style user id: `auth0|` + 24 lower-case hex digits.
    public static func generateID() -> String { "auth0|" + SecureRandom.hex(byteCount: 12) }

    /// The profile as Auth0's Management API returns it (absent values omitted, as Auth0 does).
    public var managementJSON: JSONObject {
        var json = JSONObject()
        json["created_at"] = .string(Timestamp.iso8601(createdAt))
        if let email { json["email"] = .string(email) }
        json["email_verified"] = .bool(emailVerified)
        if let username { json["username"] = .string(username) }
        if let phoneNumber {
            json["phone_number"] = .string(phoneNumber)
            json["phone_verified"] = .bool(phoneVerified)
        }
        if let familyName { json["family_name"] = .string(familyName) }
        if let givenName { json["given_name"] = .string(givenName) }
        json["identities"] = .array([
            .object([
                "connection": .string(connection),
                "user_id": .string(providerUserID),
                "provider": "auth0",
                "isSocial": false,
            ])
        ])
        if let name { json["name"] = .string(name) }
        if let nickname { json["nickname"] = .string(nickname) }
        if let picture { json["picture"] = .string(picture) }
        json["updated_at"] = .string(Timestamp.iso8601(updatedAt))
        json["user_id"] = .string(userID)
        json["app_metadata"] = .object(appMetadata)
        json["user_metadata"] = .object(userMetadata)
        if blocked { json["blocked"] = true }
        if let lastIP { json["last_ip"] = .string(lastIP) }
        if let lastLogin { json["last_login"] = .string(Timestamp.iso8601(lastLogin)) }
        if let lastPasswordReset { json["last_password_reset"] = .string(Timestamp.iso8601(lastPasswordReset)) }
        json["logins_count"] = .int(Int64(loginsCount))
        return json
    }

    /// Auth0's default picture for a database user: a Gravatar URL for the e-mail (no request is made by Usher).
    static func defaultPicture(email: String) -> String {
        let digest = Insecure.MD5.hash(data: Data(email.utf8))
        return "https://s.gravatar.com/avatar/\(Hex.encode(Array(digest)))?s=480&r=pg&d=identicon"
    }
}

extension JSONObject {
    /// Keeps only `fields` (or drops them when `include` is false), as the `fields`/`include_fields` parameters ask.
    public func selecting(fields: [String]?, include: Bool) -> JSONObject {
        guard let fields, !fields.isEmpty else { return self }
        let wanted = Set(fields)
        var result = JSONObject()
        for (key, value) in self where wanted.contains(key) == include {
            result[key] = value
        }
        return result
    }
}
