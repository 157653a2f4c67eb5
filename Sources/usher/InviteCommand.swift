import ArgumentParser
import Foundation
import UsherApp
import UsherCore
import UsherJSON

/// `usher invite EMAIL`: the invitation guide's step 4 in one command.
struct InviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Create a user with app_metadata.needsInvitation=true and queue the invitation (reset_email) email.",
        discussion: "A running `usher serve` on the same database delivers the email.")

    @Argument(help: "The person's email address.") var email: String
    @Option(help: "Display name.") var name: String?
    @Option(name: .customLong("app-metadata"), help: "JSON object merged into app_metadata (needsInvitation is always set).") var appMetadata: String?
    @Option(help: "Database connection.") var connection = Connection.defaultDatabaseName
    @Option(name: .customLong("client-id"), help: "Application the invitation is for (its name and URLs are used).") var clientID: String?
    @OptionGroup var options: ServerOptions

    func run() async throws {
        var metadata: JSONObject = [:]
        if let appMetadata {
            guard case .object(let object)? = try? JSONParser.parse(Array(appMetadata.utf8)) else {
                throw ValidationError("--app-metadata must be a JSON object, e.g. '{\"plan\":\"team\"}'")
            }
            metadata = object
        }
        try await options.withServer { server in
            do {
                let (user, message) = try await server.services.invitations.invite(
                    email: email, name: name, appMetadata: metadata, connection: connection, clientID: clientID)
                printJSON(["user_id": .string(user.userID), "email": .string(user.email ?? email), "outbox_message_id": .string(message.id)])
            } catch { throw cliFailure(error) }
        }
    }
}
