import Foundation
import UsherJSON

/// An invitation sent: the user created for it and the queued `reset_email`.
public typealias InvitationOutcome = (user: User, message: OutboxMessage)

extension User {
    /// The `app_metadata` flag of Auth0's invitation recipe: the user has not chosen a password yet, so the reset
    /// email and page word themselves as an invitation.
    public static let needsInvitationKey = "needsInvitation"

    /// Whether the user was invited and has not set a password since.
    public var needsInvitation: Bool { appMetadata[Self.needsInvitationKey]?.boolValue == true }
}

extension UsherError {
    /// The user exists but the email did not go out; the reason is in the tenant log (`fcpr`).
    static let invitationNotSent = UsherError(
        .unavailable,
        "The user was created, but no invitation was sent: the reset_email template is disabled or its Redirect To is not allowed (see GET /api/v2/logs).",
        errorCode: "invitation_not_sent")
}
