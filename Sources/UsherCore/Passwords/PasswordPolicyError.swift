/// A password refused by a connection's policy, with Auth0's error `name` and `message`.
///
/// `description` is `"<name>: <message>"`, the exact text Auth0's Management API puts in a 400 body's `message`
/// (e.g. `PasswordStrengthError: Password is too weak`). The Authentication API (sign-up) returns `name` and
/// `message` as separate fields, with `code: "invalid_password"`; `failedRules` and `PasswordPolicy.policyText` fill
/// its `description` and `policy`.
public struct PasswordPolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A strength rule failed (length, character classes, identical characters).
        case tooWeak
        /// More than 72 UTF-8 bytes. Auth0's legacy policy silently truncates to bcrypt's 72 bytes; Usher refuses.
        case tooLong
        /// One of the last N passwords (`password_history`).
        case reused
        /// In the built-in or custom dictionary (`password_dictionary`).
        case tooCommon
        /// Contains the user's name, username, nickname or email local part (`password_no_personal_info`).
        case containsUserInfo
    }

    public let kind: Kind
    /// The rules that failed (all of them for `tooWeak`; the one rule otherwise).
    public let failedRules: [PasswordRuleResult]

    public init(_ kind: Kind, failedRules: [PasswordRuleResult] = []) {
        self.kind = kind
        self.failedRules = failedRules
    }

    /// Auth0's error name. `tooLong` uses `PasswordStrengthError` so clients that switch on the name treat it as a
    /// strength failure.
    public var name: String {
        switch kind {
        case .tooWeak, .tooLong: return "PasswordStrengthError"
        case .reused: return "PasswordHistoryError"
        case .tooCommon: return "PasswordDictionaryError"
        case .containsUserInfo: return "PasswordNoUserInfoError"
        }
    }

    public var message: String {
        switch kind {
        case .tooWeak: return "Password is too weak"
        case .tooLong: return "Password is too long (at most \(PasswordPolicy.maxPasswordBytes) bytes)"
        case .reused: return "Password has previously been used"
        case .tooCommon: return "Password is too common"
        case .containsUserInfo: return "Password contains user information"
        }
    }

    /// Auth0's Authentication API `code` for every password-policy failure.
    public static let authenticationErrorCode = "invalid_password"

    public var description: String { "\(name): \(message)" }
}
