import Foundation
import Logging
import ServiceLifecycle
import UsherCore

/// Runs beside the HTTP server: every `interval`, queues the reminders that are due and logs invitations that
/// lapsed. Safe on any number of instances: each reminder and each lapse is claimed by one conditional UPDATE.
public struct InvitationWorker: Service {
    let invitations: InvitationService
    let interval: Duration
    /// Seconds before expiry; nil sends no reminders.
    let reminderWindow: TimeInterval?
    let logger: Logger

    public init(invitations: InvitationService, interval: Duration, reminderWindow: TimeInterval?, logger: Logger) {
        self.invitations = invitations
        self.interval = interval
        self.reminderWindow = reminderWindow
        self.logger = logger
    }

    public func run() async throws {
        let (invitations, interval, reminderWindow, logger) = (self.invitations, self.interval, self.reminderWindow, self.logger)
        await cancelWhenGracefulShutdown { await invitations.runClock(every: interval, reminderWindow: reminderWindow, logger: logger) }
    }
}
