import Foundation
import Synchronization
import Testing
import UsherActions
import UsherJSON

/// Through real `usher actions-worker` processes: what production runs.
///
/// Serialized: these tests measure wall-clock limits and RSS of worker processes, and the machine has two
/// cores; running them side by side would make them measure each other.
@Suite(.serialized) struct ActionWorkerPoolTests {
    @Test func seedActionThroughWorkers() async throws {
        let pool = try Fixtures.pool()
        await pool.start()
        let flipped = await pool.execute(Fixtures.request(Fixtures.seedAction, needsInvitation: true))
        #expect(flipped.failure == nil)
        #expect(flipped.appMetadataChanges == ["needsInvitation": false])
        let untouched = await pool.execute(Fixtures.request(Fixtures.seedAction, needsInvitation: false))
        #expect(untouched.failure == nil)
        #expect(untouched.appMetadataChanges.isEmpty)
        let stats = await pool.statistics()
        #expect(stats.workerPIDs.count == 2)
        #expect(stats.completedExecutions == 2)
        await pool.shutdown()
    }

    /// Every hostile Action fails only its own execution, within its limits, while a stream of normal logins
    /// on the same pool keeps succeeding.
    @Test func hostileActionsFailCleanlyWhileNormalLoginsSucceed() async throws {
        // A 3 s limit rather than 1 s: Swift Testing runs other suites (Liquid fuzzing, storage) beside this one on
        // two cores, and a starved worker must not turn a quick failure such as `require('fs')` into a timeout.
        // A 2 s grace: at a load average of 9 (parallel builds) the in-worker watchdog can be starved long enough
        // for the supervisor's backstop to kill the worker first, which reports a crash instead of a timeout.
        let pool = try Fixtures.pool(workers: 2, timeLimit: .seconds(3), grace: .seconds(2))
        await pool.start()
        let hostile: [(String, String, @Sendable (ActionFailure?) -> Bool)] = [
            // A busy loop ends by the time limit: the worker's watchdog, or (when the machine is so loaded that the
            // watchdog is starved past the grace) the supervisor killing the worker. Both stop it within the bound
            // checked below; JavaScriptActionEngineTests check the in-engine time limit alone.
            ("busy loop", "exports.onExecutePostLogin = async () => { while (true) {} };", { $0 == .timeout || $0 == .workerCrashed }),
            (
                "loop after await", "exports.onExecutePostLogin = async () => { await null; while (true) {} };",
                { $0 == .timeout || $0 == .workerCrashed }
            ),
            // Run beside eleven other hostile actions on a busy machine, a bomb may be starved of CPU and reach
            // the time limit before the memory budget; both end it cleanly. `memoryBombIsStoppedNearItsBudget`
            // checks the memory path alone.
            (
                "array bomb", "exports.onExecutePostLogin = async () => { const a = []; while (true) a.push(new Array(1e6).fill(1.5)); };",
                { $0 == .memoryLimit || $0 == .timeout }
            ),
            (
                "string doubling", "exports.onExecutePostLogin = async () => { let s = 'x'; while (true) s += s; };",
                { $0 == .memoryLimit || $0 == .timeout }
            ),
            (
                "flattened string doubling",
                "exports.onExecutePostLogin = async () => { let s = 'xy'; while (true) { s = s + s; s.charCodeAt(s.length - 1); } };",
                { $0 == .memoryLimit || $0 == .timeout }
            ),
            (
                "require fs", "const fs = require('fs'); exports.onExecutePostLogin = async () => {};",
                { if case .thrown(let m, _, _)? = $0 { m.contains("module 'fs' is not available") } else { false } }
            ),
            (
                "thrown", "exports.onExecutePostLogin = async () => { throw new Error('boom'); };",
                { if case .thrown(let m, _, _)? = $0 { m == "Error: boom" } else { false } }
            ),
            (
                "rejected", "exports.onExecutePostLogin = () => Promise.reject(new Error('rejected'));",
                { if case .thrown(let m, _, _)? = $0 { m == "Error: rejected" } else { false } }
            ),
            ("never settles", "exports.onExecutePostLogin = () => new Promise(() => {});", { $0 == .notSettled }),
            (
                "syntax error", "exports.onExecutePostLogin = async (event, api) => {\n  let = ;\n};",
                { if case .compile(let line, let column, _)? = $0 { line == 2 && column >= 1 } else { false } }
            ),
            (
                "process.exit", "exports.onExecutePostLogin = async () => { process.exit(1); };",
                { if case .thrown(let m, _, _)? = $0 { m.contains("process") } else { false } }
            ),
            (
                "globalThis tampering",
                "for (const k of Object.getOwnPropertyNames(globalThis)) { try { delete globalThis[k]; } catch (e) {} }\nexports.onExecutePostLogin = async () => { throw 'after tampering'; };",
                { $0 == .thrown(message: "after tampering", line: nil, column: nil) }
            ),
        ]

        // Normal logins keep flowing while the hostile ones run: the loop runs until every hostile execution has
        // ended, so on a slow machine it waits longer instead of counting fewer logins.
        let hostileDone = Mutex(false)
        let normal = Task {
            var failures: [String] = []
            var count = 0
            while !hostileDone.withLock({ $0 }) || count < 3 {
                let flag = count % 2 == 0
                let result = await pool.execute(Fixtures.request(Fixtures.seedAction, needsInvitation: flag))
                if result.failure != nil || result.appMetadataChanges != (flag ? ["needsInvitation": false] : [:]) {
                    failures.append("\(result)")
                }
                count += 1
                try? await Task.sleep(for: .milliseconds(20))
            }
            return (count, failures)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, code, check) in hostile {
                group.addTask {
                    let clock = ContinuousClock()
                    let start = clock.now
                    let result = await pool.execute(Fixtures.request(code))
                    let elapsed = clock.now - start
                    #expect(check(result.failureKind), "\(name): \(String(describing: result.failure))")
                    // Within the limit plus the pool's grace, plus queueing behind the other hostile actions
                    // (12 actions, at most ~6 of them running to the 3 s limit, on 2 workers).
                    #expect(elapsed < .seconds(25), "\(name) took \(elapsed)")
                }
            }
            try await group.waitForAll()
        }
        hostileDone.withLock { $0 = true }
        let (count, failures) = await normal.value
        #expect(failures.isEmpty, "normal logins failed: \(failures)")
        #expect(count >= 3)

        // And the pool is healthy afterwards.
        let after = await pool.execute(Fixtures.request(Fixtures.seedAction))
        #expect(after.appMetadataChanges == ["needsInvitation": false])
        await pool.shutdown()
    }

    @Test func memoryBombIsStoppedNearItsBudget() async throws {
        let pool = try Fixtures.pool(workers: 1, timeLimit: .seconds(5), memoryBudget: 128 << 20)
        await pool.start()
        let result = await pool.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = async () => { const a = []; while (true) a.push(new Array(1e6).fill(1.5)); };"))
        // The memory watchdog, not the 5 s time limit, stopped it (no wall-clock bound: timed tests flake on a
        // loaded machine).
        #expect(result.failureKind == .memoryLimit)
        // The worker recycles itself after a memory failure; the next login runs on a fresh one.
        let next = await pool.execute(Fixtures.request(Fixtures.seedAction))
        #expect(next.appMetadataChanges == ["needsInvitation": false])
        await pool.shutdown()
    }

    @Test func hugeNativeAllocationHitsTheWorkerBoundFromOutside() async throws {
        // A typed array fill is one native call: the in-worker watchdog cannot interrupt it, the pool's RSS
        // bound can.
        let pool = try Fixtures.pool(workers: 1, timeLimit: .seconds(5), memoryBudget: 2 << 30, workerMemoryLimit: 384 << 20)
        await pool.start()
        let result = await pool.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = async () => { for (let i = 0; i < 8; i++) new Float64Array(2 ** 28).fill(1); };"))
        #expect(result.failureKind == .memoryLimit)
        let next = await pool.execute(Fixtures.request(Fixtures.seedAction))
        #expect(next.appMetadataChanges == ["needsInvitation": false])
        await pool.shutdown()
    }

    @Test func killedWorkerFailsOnlyItsExecutionAndIsReplaced() async throws {
        let pool = try Fixtures.pool(workers: 2, timeLimit: .seconds(5))
        await pool.start()
        let before = await pool.statistics().workerPIDs
        let slow = Task {
            await pool.execute(
                Fixtures.request(
                    "exports.onExecutePostLogin = async () => { const end = Date.now() + 3000; while (Date.now() < end) {} };"))
        }
        // Wait until one worker is busy, then kill -9 it.
        var busy: Int32?
        for _ in 0..<200 where busy == nil {
            try await Task.sleep(for: .milliseconds(10))
            let stats = await pool.statistics()
            if stats.idleWorkers == 1 { busy = stats.busyWorkerPIDs.first }
        }
        let victim = try #require(busy)
        #expect(kill(victim, SIGKILL) == 0)
        let failed = await slow.value
        #expect(failed.failureKind == .workerCrashed)

        let next = await pool.execute(Fixtures.request(Fixtures.seedAction))
        #expect(next.failure == nil)
        #expect(next.appMetadataChanges == ["needsInvitation": false])
        for _ in 0..<200 {
            if await pool.statistics().workerPIDs.count == 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let after = await pool.statistics()
        #expect(after.workerPIDs.count == 2)
        #expect(!after.workerPIDs.contains(victim))
        #expect(after.restarts >= 1)
        #expect(Set(after.workerPIDs).intersection(before).count == 1)
        await pool.shutdown()
    }

    @Test func cleanGlobalScopeAcrossExecutionsOnOneWorker() async throws {
        let pool = try Fixtures.pool(workers: 1)
        let setter = await pool.execute(
            Fixtures.request(
                "globalThis.x = 'leak'; Object.prototype.y = 1; exports.onExecutePostLogin = async () => {};"))
        #expect(setter.failure == nil)
        let reader = await pool.execute(
            Fixtures.request(
                "exports.onExecutePostLogin = async (e, api) => { api.user.setAppMetadata('seen', [typeof x, ({}).y === undefined]); };"))
        #expect(reader.appMetadataChanges == ["seen": ["undefined", true]])
        await pool.shutdown()
    }

    @Test func shutdownTerminatesWorkersAndRefusesWork() async throws {
        let pool = try Fixtures.pool(workers: 2)
        await pool.start()
        let pids = await pool.statistics().workerPIDs
        #expect(pids.count == 2)
        await pool.shutdown()
        for pid in pids { #expect(!Fixtures.isAlive(pid)) }
        let refused = await pool.execute(Fixtures.request(Fixtures.seedAction))
        guard case .unavailable? = refused.failureKind else {
            Issue.record("expected unavailable, got \(String(describing: refused.failure))")
            return
        }
    }

    @Test func brokenWorkerCommandFailsCleanlyWithBackoff() async throws {
        let pool = ActionWorkerPool(
            configuration: .init(
                command: WorkerCommand(executablePath: "/bin/false", arguments: []), workerCount: 1,
                queueTimeout: .milliseconds(300), restartBackoff: .milliseconds(20)))
        let result = await pool.execute(Fixtures.request(Fixtures.seedAction))
        guard case .unavailable? = result.failureKind else {
            Issue.record("expected unavailable, got \(String(describing: result.failure))")
            return
        }
        let restarts = await pool.statistics().restarts
        #expect(restarts >= 1 && restarts < 10)  // backing off, not spinning
        await pool.shutdown()
    }
}
