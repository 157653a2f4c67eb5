import Foundation
import UsherJSON

/// Auth0's invitation recipe in one call: create the user unverified with `app_metadata.needsInvitation: true`
/// and no password, then send the `reset_email`, whose default template words it as an invitation.
public struct InvitationService: Sendable {
    let users: UserService
    let resets: PasswordResetService

    public init(users: UserService, resets: PasswordResetService) {
        self.users = users
        self.resets = resets
    }

    /// The created user and the queued email.
    public func invite(
        email: String, name: String?, appMetadata: JSONObject, userMetadata: JSONObject = [:], connection: String,
        clientID: String?
    ) async throws -> InvitationOutcome {
        var metadata = appMetadata
        metadata[User.needsInvitationKey] = true
        var body: JSONObject = [
            "email": .string(email), "connection": .string(connection), "email_verified": false, "app_metadata": .object(metadata),
        ]
        if let name { body["name"] = .string(name) }
        if !userMetadata.isEmpty { body["user_metadata"] = .object(userMetadata) }
        let user = try await users.createUser(body)
        guard let message = try await resets.sendResetEmail(to: user, clientID: clientID, ip: nil, userAgent: "usher invite", language: nil) else {
            throw UsherError.invitationNotSent
        }
        return (user, message)
    }
}
