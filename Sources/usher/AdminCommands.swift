import ArgumentParser
import Foundation
import UsherApp
import UsherCore
import UsherJSON

/// `usher clients …`: manage applications directly in the database.
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients", abstract: "Manage applications.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an application and print its credentials.")

        @Option(help: "Application name.") var name: String
        @Option(name: .customLong("app-type"), help: "native, spa, regular_web or non_interactive.") var appType = "regular_web"
        @Option(parsing: .upToNextOption, help: "Allowed callback URLs.") var callbacks: [String] = []
        @Option(name: .customLong("logout-urls"), parsing: .upToNextOption, help: "Allowed logout URLs.") var logoutURLs: [String] = []
        @Flag(name: .customLong("management"), help: "Grant every Management API scope (a machine-to-machine admin client).") var management = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do {
                    let body: JSONObject = [
                        "name": .string(name), "app_type": .string(appType),
                        "callbacks": .array(callbacks.map(JSONValue.string)),
                        "allowed_logout_urls": .array(logoutURLs.map(JSONValue.string)),
                    ]
                    let (client, secret) = try await server.services.clients.createClient(body)
                    if management {
                        _ = try await server.services.clients.createGrant(
                            [
                                "client_id": .string(client.clientID), "audience": .string(server.services.machineTokens.managementAudience),
                                "scope": .array(ManagementScope.all.map(JSONValue.string)),
                            ],
                            managementAudience: server.services.machineTokens.managementAudience)
                    }
                    if json {
                        printJSON(.object(client.managementJSON(secret: secret)))
                    } else {
                        print("Created application \(client.name)")
                        print("  client_id:     \(client.clientID)")
                        if let secret { print("  client_secret: \(secret)   (shown only now)") }
                        if management { print("  granted every Management API scope for \(server.services.machineTokens.managementAudience)") }
                    }
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applications.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                let clients = try await server.services.clients.listClients()
                if json { return printJSON(.array(clients.map { .object($0.managementJSON()) })) }
                for client in clients { print("\(client.clientID)  \(client.appType ?? "-")  \(client.name)") }
            }
        }
    }
}

/// `usher users …`: manage users directly in the database.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage users.", subcommands: [Create.self, List.self, Get.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "Password (omit for an invited user who sets one through a link).") var password: String?
        @Option(name: .customLong("app-metadata"), help: "app_metadata as a JSON object.") var appMetadata: String?
        @Option(help: "Connection name.") var connection = Connection.defaultDatabaseName
        @Flag(name: .customLong("email-verified"), help: "Mark the e-mail address verified.") var emailVerified = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            var body: JSONObject = ["email": .string(email), "connection": .string(connection), "email_verified": .bool(emailVerified)]
            if let name { body["name"] = .string(name) }
            if let password { body["password"] = .string(password) }
            if let appMetadata {
                guard case .object(let object)? = try? JSONParser.parse(appMetadata) else {
                    throw ValidationError("--app-metadata must be a JSON object")
                }
                body["app_metadata"] = .object(object)
            }
            try await options.withServer { server in
                do {
                    let user = try await server.services.users.createUser(body)
                    if json { printJSON(.object(user.managementJSON)) } else { print("Created \(user.userID)  \(user.email ?? "")") }
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List or search users (Lucene query syntax as in Auth0).")
        @Option(name: .shortAndLong, help: "Search query, e.g. 'app_metadata.needsInvitation:true'.") var query: String?
        @Option(help: "Page (0-based).") var page = 0
        @Option(name: .customLong("per-page"), help: "Users per page (max 100).") var perPage = 50
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            var parameters = ["page": String(page), "per_page": String(perPage)]
            parameters["q"] = query
            try await options.withServer { server in
                do {
                    let result = try await server.services.users.search(try UserSearchRequest(parameters: parameters))
                    if json { return printJSON(.array(result.users.map { .object($0.managementJSON) })) }
                    for user in result.users {
                        print("\(user.userID)  \(user.email ?? "-")  verified=\(user.emailVerified)  logins=\(user.loginsCount)")
                    }
                    print("\(result.users.count) of \(result.total) users")
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user by id or e-mail.")
        @Argument(help: "User id (auth0|…) or e-mail address.") var idOrEmail: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do {
                    let users =
                        idOrEmail.contains("@") && !idOrEmail.contains("|")
                        ? try await server.services.users.users(email: idOrEmail)
                        : [try await server.services.users.user(id: idOrEmail)]
                    guard !users.isEmpty else { throw ValidationError("No user with e-mail \(idOrEmail)") }
                    if json { return printJSON(users.count == 1 ? .object(users[0].managementJSON) : .array(users.map { .object($0.managementJSON) })) }
                    for user in users {
                        for (key, value) in user.managementJSON { print("\(key): \(value.jsonString)") }
                    }
                } catch { throw cliFailure(error) }
            }
        }
    }
}
