import Foundation
import UsherJSON

/// The profile values `options.password_no_personal_info` keeps out of passwords: `name`, `username`, `nickname`,
/// `user_metadata.name`, `user_metadata.first`, `user_metadata.last`, and the part of the email before the `@`.
public struct PasswordUserInfo: Sendable, Hashable {
    public var email: String?
    public var name: String?
    public var username: String?
    public var nickname: String?
    /// `user_metadata.name`
    public var metadataName: String?
    /// `user_metadata.first`
    public var metadataFirst: String?
    /// `user_metadata.last`
    public var metadataLast: String?

    /// Values shorter than this are ignored, so that a two-letter nickname does not forbid every password containing
    /// those two letters (Auth0 does not document a minimum; this is Usher's choice).
    public static let minimumValueLength = 3

    public init(
        email: String? = nil, name: String? = nil, username: String? = nil, nickname: String? = nil,
        metadataName: String? = nil, metadataFirst: String? = nil, metadataLast: String? = nil
    ) {
        self.email = email
        self.name = name
        self.username = username
        self.nickname = nickname
        self.metadataName = metadataName
        self.metadataFirst = metadataFirst
        self.metadataLast = metadataLast
    }

    /// Reads the fields from a user in Auth0's JSON shape (non-string values are ignored).
    public init(userJSON user: JSONObject) {
        let metadata = user["user_metadata"]?.objectValue
        self.init(
            email: user["email"]?.stringValue, name: user["name"]?.stringValue,
            username: user["username"]?.stringValue, nickname: user["nickname"]?.stringValue,
            metadataName: metadata?["name"]?.stringValue, metadataFirst: metadata?["first"]?.stringValue,
            metadataLast: metadata?["last"]?.stringValue)
    }

    /// The email's local part: everything before the last `@` (the whole value when there is none).
    public var emailLocalPart: String? {
        guard let email else { return nil }
        guard let at = email.lastIndex(of: "@") else { return email }
        return String(email[..<at])
    }

    /// The values a password may not contain, trimmed, each at least `minimumValueLength` characters.
    public var blockedValues: [String] {
        [name, username, nickname, metadataName, metadataFirst, metadataLast, emailLocalPart]
            .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { $0.count >= Self.minimumValueLength }
    }

    /// Whether `password` contains any blocked value, ignoring case.
    public func isContained(in password: String) -> Bool {
        let folded = password.lowercased()
        return blockedValues.contains { folded.range(of: $0.lowercased()) != nil }
    }
}
