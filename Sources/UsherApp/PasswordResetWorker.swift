import Foundation
import ServiceLifecycle
import UsherCore

/// Runs beside the HTTP server: processes accepted `change_password` requests (those this instance wrote, and every
/// `recoveryInterval` those a stopped instance left behind), and every `sweepInterval` deletes
/// tickets that expired more than `ticketRetention` ago (kept that long so an expired link still gets its
/// "expired" page). `ServiceGraph` sets both from the configuration.
public struct PasswordResetWorker: Service {
    let resets: PasswordResetService
    let store: any TicketStore
    let clock: any UsherClock
    let ticketRetention: TimeInterval
    let sweepInterval: Duration
    let recoveryInterval: Duration

    public init(
        resets: PasswordResetService, store: any TicketStore, clock: any UsherClock, ticketRetention: TimeInterval, sweepInterval: Duration,
        recoveryInterval: Duration = .seconds(2)
    ) {
        self.resets = resets
        self.store = store
        self.clock = clock
        self.ticketRetention = ticketRetention
        self.sweepInterval = sweepInterval
        self.recoveryInterval = recoveryInterval
    }

    public func run() async throws {
        let resets = self.resets
        let store = self.store
        let clock = self.clock
        let ticketRetention = self.ticketRetention
        let sweepInterval = self.sweepInterval
        let recoveryInterval = self.recoveryInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Graceful shutdown finishes the queue, so requests already accepted here are still processed; any
                // left in the database (a crash) are claimed by the next instance to run.
                await withGracefulShutdownHandler {
                    await resets.run()
                } onGracefulShutdown: {
                    resets.queue.finish()
                }
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await resets.recoverRequests(every: recoveryInterval) }
            }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        _ = try? await store.deleteExpiredTickets(before: clock.now.addingTimeInterval(-ticketRetention))
                        try? await Task.sleep(for: sweepInterval)
                    }
                }
            }
        }
    }
}
