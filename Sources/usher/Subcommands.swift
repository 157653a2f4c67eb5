import ArgumentParser

extension Usher {
    /// Every `usher` subcommand, in help order.
    static let allSubcommands: [any ParsableCommand.Type] = [
        ServeCommand.self, MigrateCommand.self, ClientsCommand.self, UsersCommand.self, InviteCommand.self, InvitationsCommand.self,
        MailCommand.self, TemplateCommand.self, AdminCommand.self, ActionsWorkerCommand.self,
    ]
}
