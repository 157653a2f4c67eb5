import ArgumentParser
import Foundation
import Hummingbird
import Logging
import UsherApp
import UsherCore

/// `usher serve`: migrate, bootstrap and serve HTTP until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Usher server.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let configuration = try options.load()
        let logger = options.logger(configuration)
        let server = try await UsherServer.open(configuration, logger: logger, actions: .workerPool())
        do {
            switch try await server.bootstrap() {
            case .generated(let clientID, let clientSecret):
                // Printed once, to the console only (not the log stream): the operator's first credentials.
                // Written straight to fd 1: print() is block-buffered when stdout is a file or pipe.
                FileHandle.standardOutput.write(
                    Data(
                        """

                        ================================================================
                         Usher generated Management API credentials (shown only once):
                           client_id:     \(clientID)
                           client_secret: \(clientSecret)
                         Get a token:
                           curl -s \(configuration.publicURL)/oauth/token -d grant_type=client_credentials \\
                             -d client_id=\(clientID) -d client_secret=... -d audience=\(server.services.machineTokens.managementAudience)
                        ================================================================

                        """.utf8))
            case .configuredClient(let clientID, let created):
                logger.info("Bootstrap application ready", metadata: ["client_id": "\(clientID)", "created": "\(created)"])
            case .alreadyInitialised:
                break
            }
            logger.info(
                "Usher listening",
                metadata: [
                    "address": "\(configuration.host):\(configuration.port)", "public_url": "\(configuration.publicURL)",
                    "database": "\(configuration.database)",
                ])
            let app = try server.makeApplication()
            try await app.runService()
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }
}

/// `usher migrate`: apply pending database migrations and exit.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations and exit.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let configuration = try options.load()
        try await options.withServer { _ in () }  // opening migrates
        print("Database is up to date (\(configuration.database)).")
    }
}
