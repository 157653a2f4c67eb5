import Foundation
import ServiceLifecycle
import UsherCore

/// Runs beside the HTTP server: processes queued `change_password` requests, and every `sweepInterval` deletes
/// tickets that expired more than `ticketRetention` ago (kept that long so an expired link still gets its
/// "expired" page). `ServiceGraph` sets both from the configuration.
public struct PasswordResetWorker: Service {
    let resets: PasswordResetService
    let store: any TicketStore
    let clock: any UsherClock
    let ticketRetention: TimeInterval
    let sweepInterval: Duration

    public init(resets: PasswordResetService, store: any TicketStore, clock: any UsherClock, ticketRetention: TimeInterval, sweepInterval: Duration) {
        self.resets = resets
        self.store = store
        self.clock = clock
        self.ticketRetention = ticketRetention
        self.sweepInterval = sweepInterval
    }

    public func run() async throws {
        let resets = self.resets
        let store = self.store
        let clock = self.clock
        let ticketRetention = self.ticketRetention
        let sweepInterval = self.sweepInterval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Graceful shutdown finishes the queue, so accepted requests are still processed.
                await withGracefulShutdownHandler {
                    await resets.run()
                } onGracefulShutdown: {
                    resets.queue.finish()
                }
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
