import ArgumentParser
import Foundation
import UsherApp
import UsherCore
import UsherJSON

/// `usher mail …`: read the outbox and put failed mail back in the queue, straight on the database.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail", abstract: "Inspect and retry outgoing mail (the outbox).", subcommands: [List.self, Show.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List outbox messages, newest first.")
        @Option(help: "queued, sending, sent, failed or abandoned.") var status: String?
        @Option(help: "Page number (from 0).") var page = 0
        @Option(name: .customLong("per-page"), help: "Messages per page (1-100).") var perPage = 50
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: ServerOptions

        func run() async throws {
            guard (1...100).contains(perPage), page >= 0 else { throw ValidationError("--per-page must be 1-100 and --page at least 0") }
            try await options.withServer { server in
                do {
                    let result = try await server.services.mail.listOutbox(status: status, page: page, perPage: perPage)
                    if json { return printJSON(.array(result.messages.map { .object($0.managementJSON()) })) }
                    for m in result.messages {
                        print("\(m.id)  \(m.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(m.attempts)  \(m.to)  \(m.subject)")
                        if let error = m.lastError, m.status == .failed || m.status == .abandoned { print("    last error: \(error)") }
                    }
                    print("\(result.messages.count) of \(result.total) message(s)")
                } catch { throw cliFailure(error) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one outbox message with its bodies, as JSON.")
        @Argument(help: "Outbox message id (msg_…).") var id: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do { printJSON(.object(try await server.services.mail.outboxMessage(id: id).managementJSON(includeBodies: true))) } catch {
                    throw cliFailure(error)
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a failed or abandoned message again, due now.")
        @Argument(help: "Outbox message id (msg_…).") var id: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            try await options.withServer { server in
                do {
                    let message = try await server.services.mail.retry(id: id)
                    print("Queued \(message.id) to \(message.to) again; a running usher serve will deliver it.")
                } catch { throw cliFailure(error) }
            }
        }
    }
}
