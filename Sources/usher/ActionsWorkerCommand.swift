import ArgumentParser
import UsherActions

/// `usher actions-worker`: the process `ActionWorkerPool` spawns to run post-login Actions.
///
/// Internal plumbing, hidden from help: it speaks newline-delimited JSON on stdin/stdout and is only meant
/// to be started by the server itself (see `ActionsWorker`).
struct ActionsWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions-worker",
        abstract: "Run post-login Actions for the server (internal; JSON lines on stdin/stdout).",
        shouldDisplay: false
    )

    func run() throws {
        let status = ActionsWorker.run()
        if status != 0 { throw ExitCode(status) }
    }
}
