import ArgumentParser
import Foundation
import UsherApp
import UsherCore

/// `usher admin …`: dashboard administrators.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage dashboard administrators.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a dashboard administrator.",
            discussion: "The password is read from standard input (one line), so it never appears in the process list or shell history.")
        @Argument(help: "E-mail address.") var email: String
        @Flag(name: .customLong("read-only"), help: "Sees everything, changes nothing (every read: scope but applications' secrets).")
        var readOnly = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            if isatty(STDIN_FILENO) == 1 { FileHandle.standardError.write(Data("Password (at least \(AdminService.minimumPasswordLength) characters): ".utf8)) }
            let password = readPassword()
            try await options.withServer { server in
                do {
                    let admin = try await server.services.admins.create(email: email, password: password, rights: readOnly ? .readOnly : .full)
                    print("Created \(readOnly ? "read-only " : "")administrator \(admin.email); sign in at \(server.configuration.publicURL)/admin")
                } catch { throw cliFailure(error) }
            }
        }

        /// One line from standard input, without echo on a terminal.
        func readPassword() -> String {
            guard isatty(STDIN_FILENO) == 1 else { return readLine(strippingNewline: true) ?? "" }
            var settings = termios()
            tcgetattr(STDIN_FILENO, &settings)
            var silent = settings
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &silent)
            defer {
                tcsetattr(STDIN_FILENO, TCSANOW, &settings)
                FileHandle.standardError.write(Data("\n".utf8))
            }
            return readLine(strippingNewline: true) ?? ""
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dashboard administrators.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                for admin in try await server.services.admins.list() {
                    let rights = admin.may("create:invitations") ? "full" : "read-only"
                    print("\(admin.id)  \(rights)  \(admin.email)  last sign-in: \(admin.lastLoginAt.map(Timestamp.iso8601) ?? "never")")
                }
            }
        }
    }
}
