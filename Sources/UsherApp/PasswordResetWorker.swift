import Foundation
import ServiceLifecycle
import UsherCore

/// Runs beside the HTTP server: processes queued `change_password` requests, and once an hour deletes tickets
/// that expired more than a week ago (kept that long so an expired link still gets its "expired" page).
public struct PasswordResetWorker: Service {
    let resets: PasswordResetService
    let store: any UsherStore
    let clock: any UsherClock

    public init(resets: PasswordResetService, store: any UsherStore, clock: any UsherClock) {
        self.resets = resets
        self.store = store
        self.clock = clock
    }

    public func run() async throws {
        let resets = self.resets
        let store = self.store
        let clock = self.clock
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
                        _ = try? await store.deleteExpiredTickets(before: clock.now.addingTimeInterval(-7 * 86_400))
                        try? await Task.sleep(for: .seconds(3_600))
                    }
                }
            }
        }
    }
}
