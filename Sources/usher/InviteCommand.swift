import ArgumentParser
import Foundation
import UsherApp
import UsherCore
import UsherJSON

/// `usher invite EMAIL`: the invitation guide's step 4 in one command, as an invitation object.
struct InviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Invite someone: create the user (app_metadata.needsInvitation=true, no password) and queue the invitation email.",
        discussion: "A running `usher serve` on the same database delivers the email. An address with a pending invitation gets it again.")

    @Argument(help: "The person's email address.") var email: String
    @Option(help: "Display name.") var name: String?
    @Option(name: .customLong("inviter"), help: "Who invites (inviter.name).") var inviter: String?
    @Option(name: .customLong("app-metadata"), help: "JSON object merged into app_metadata (needsInvitation is always set).") var appMetadata: String?
    @Option(help: "Database connection.") var connection = Connection.defaultDatabaseName
    @Option(name: .customLong("client-id"), help: "Application the invitation is for (its name and URLs are used).") var clientID: String?
    @Option(name: .customLong("ttl"), help: "Seconds the link works (default 7 days, at most 30 days).") var ttl: Int?
    @Option(help: "The invitee's language (e.g. fr).") var locale: String?
    @Flag(name: .customLong("no-email"), help: "Print the invitation link instead of sending it.") var noEmail = false
    @OptionGroup var options: ServerOptions

    func run() async throws {
        var body: JSONObject = ["invitee": ["email": .string(email)], "connection": .string(connection), "send_invitation_email": .bool(!noEmail)]
        if let name { body["invitee"] = ["email": .string(email), "name": .string(name)] }
        if let inviter { body["inviter"] = ["name": .string(inviter)] }
        if let clientID { body["client_id"] = .string(clientID) }
        if let ttl { body["ttl_sec"] = .int(Int64(ttl)) }
        if let locale { body["locale"] = .string(locale) }
        if let appMetadata {
            guard case .object(let object)? = try? JSONParser.parse(Array(appMetadata.utf8)) else {
                throw ValidationError("--app-metadata must be a JSON object, e.g. '{\"plan\":\"team\"}'")
            }
            body["app_metadata"] = .object(object)
        }
        try await options.withServer { server in
            do {
                let invitations = server.services.invitations
                let issued = try await invitations.create(try InvitationRequest(body: body))
                var printed = issued.invitation.managementJSON(now: invitations.now, invitationURL: noEmail ? issued.invitationURL : nil)
                printed["outcome"] = .string(issued.created ? "created" : "resend")
                printed["email"] = .string(issued.invitation.email)
                printed["outbox_message_id"] = issued.invitation.outboxID.map(JSONValue.string) ?? .null
                printJSON(.object(printed))
            } catch { throw cliFailure(error) }
        }
    }
}

/// `usher invitations …`: list, inspect, resend and revoke invitations, straight on the database.
struct InvitationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invitations", abstract: "List, show, resend and revoke invitations.", subcommands: [List.self, Show.self, Resend.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List invitations, newest first.")
        @Option(help: "pending, accepted, expired or revoked.") var status: String?
        @Option(help: "The latest email's state: queued, sent, deferred or abandoned.") var delivery: String?
        @Option(help: "Invitee addresses starting with this.") var email: String?
        @Option(help: "Page number (from 0).") var page = 0
        @Option(name: .customLong("per-page"), help: "Invitations per page (1-100).") var perPage = 50
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            guard (1...100).contains(perPage), (0...1_000_000).contains(page) else {
                throw ValidationError("--per-page must be 1-100 and --page 0-1000000")
            }
            var filter = InvitationFilter(emailPrefix: email)
            if let status {
                guard let value = InvitationStatus(rawValue: status) else { throw ValidationError("--status must be pending, accepted, expired or revoked") }
                filter.status = value
            }
            if let delivery {
                guard let value = InvitationDelivery.State(rawValue: delivery) else {
                    throw ValidationError("--delivery must be queued, sent, deferred or abandoned")
                }
                filter.delivery = value
            }
            try await options.withServer { server in
                do {
                    let invitations = server.services.invitations
                    let (items, total) = try await invitations.list(filter, offset: page * perPage, limit: perPage)
                    if json { return printJSON(.array(items.map { .object($0.managementJSON(now: invitations.now)) })) }
                    for i in items {
                        let state = i.status(at: invitations.now).rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                        let delivery = (i.delivery?.state.rawValue ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
                        print("\(i.id)  \(state)  \(delivery)  \(i.email)  expires \(Timestamp.iso8601(i.expiresAt))")
                        if let error = i.delivery?.lastError { print("    last error: \(error)") }
                    }
                    print("\(items.count) of \(total) invitation(s)")
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one invitation as JSON.")
        @Argument(help: "Invitation id (uinv_…).") var id: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do {
                    let invitations = server.services.invitations
                    printJSON(.object(try await invitations.invitation(id: id).managementJSON(now: invitations.now)))
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct Resend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a new link (the old one stops working) and restart the expiry.")
        @Argument(help: "Invitation id (uinv_…).") var id: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do {
                    let invitations = server.services.invitations
                    let issued = try await invitations.resend(id: id)
                    let invitation = issued.invitation
                    if json {
                        let url = invitation.sendInvitationEmail ? nil : issued.invitationURL
                        return printJSON(.object(invitation.managementJSON(now: invitations.now, invitationURL: url)))
                    }
                    if invitation.sendInvitationEmail {
                        print("Queued a new invitation to \(invitation.email); it expires \(Timestamp.iso8601(invitation.expiresAt)).")
                    } else {
                        print(issued.invitationURL)
                    }
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw an invitation: its link stops working.")
        @Argument(help: "Invitation id (uinv_…).") var id: String
        @Flag(name: .customLong("delete-user"), help: "Also delete the user created for it.") var deleteUser = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do {
                    let invitations = server.services.invitations
                    let revoked = try await invitations.revoke(id: id, deleteUser: deleteUser)
                    if json { return printJSON(.object(revoked.managementJSON(now: invitations.now))) }
                    print("Revoked \(revoked.id) for \(revoked.email)\(deleteUser ? "; the user was deleted" : "").")
                } catch { throw cliFailure(error) }
            }
        }
    }
}
