import Foundation
import UsherJSON

extension User {
    /// The `app_metadata` flag of Auth0's invitation recipe: the user has not chosen a password yet, so the reset
    /// email and page word themselves as an invitation.
    public static let needsInvitationKey = "needsInvitation"

    /// Whether the user was invited and has not set a password since.
    public var needsInvitation: Bool { appMetadata[Self.needsInvitationKey]?.boolValue == true }
}

extension UsherError {
    /// Auth0's answer for an unknown invitation id.
    public static let invitationNotFound = UsherError(.notFound, "The invitation does not exist.", errorCode: "inexistent_invitation")
}
