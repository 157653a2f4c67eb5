// ActionsBench: cost of one post-login Action execution (Auth0's invitation recipe), in-process and
// through the worker pool (a full round trip: encode, pipe, worker, pipe, decode).
//
//   swift build -c release --product usher && swift build -c release --package-path bench/swift --product ActionsBench
//   bench/swift/.build/release/ActionsBench --binary .build/release/usher [--iterations 5000] [--workers 2] [--pace-ms N]
//
// --pace-ms N sleeps N ms before each timed execution, as a server does between logins: what an execution costs
// when its worker's memory has gone cold (on this machine's shared caches a few ms of idleness makes an execution
// two to three times slower than back to back).
//
// The pool part needs the `usher` executable (--binary or USHER_BINARY; else one next to this executable).
import Foundation
import UsherActions
import UsherJSON

let seedAction = """
    exports.onExecutePostLogin = async (event, api) => {
        if (event.user.app_metadata.needsInvitation) {
            api.user.setAppMetadata("needsInvitation", false);
        }
    };
    """

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

// Same JavaScriptCore configuration as the workers (see WorkerProcess), before JavaScriptCore initializes.
setenv("JSC_usePollingTraps", "true", 0)

let iterations = option("--iterations").flatMap(Int.init) ?? 5000
let workerCount = option("--workers").flatMap(Int.init) ?? 2
let paceMilliseconds = option("--pace-ms").flatMap(Int.init) ?? 0
/// The idle time between two executions (`--pace-ms`); nothing by default.
func pace() {
    if paceMilliseconds > 0 { usleep(UInt32(paceMilliseconds * 1000)) }
}

func request(_ index: Int) -> PostLoginExecutionRequest {
    let event: JSONValue = [
        "user": [
            "user_id": .string("auth0|\(index)"), "email": .string("user\(index)@example.com"), "email_verified": true,
            "app_metadata": ["needsInvitation": .bool(index % 2 == 0)], "user_metadata": [:],
        ],
        "stats": ["logins_count": .int(Int64(index))],
        "client": ["client_id": "client-1", "name": "Dashboard"],
        "connection": ["id": "con_1", "name": "Username-Password-Authentication", "strategy": "auth0"],
        "request": ["ip": "127.0.0.1", "hostname": "login.example.com"],
        "tenant": ["id": "usher"],
    ]
    return PostLoginExecutionRequest(
        event: event, actions: [ActionDefinition(actionID: "act_seed", name: "seed", code: seedAction)])
}

func check(_ result: PostLoginExecutionResult, _ index: Int) {
    let expected: JSONObject = index % 2 == 0 ? ["needsInvitation": false] : [:]
    guard result.failure == nil, result.appMetadataChanges == expected else {
        print("unexpected result at \(index): \(result)")
        exit(1)
    }
}

struct Summary {
    var samples: [Double]  // microseconds

    func line(_ label: String) -> String {
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let mean = samples.reduce(0, +) / Double(samples.count)
        return String(
            format: "%@  n=%d  p50 %.1f µs  p90 %.1f µs  p99 %.1f µs  max %.1f µs  mean %.1f µs", label, samples.count,
            percentile(0.5), percentile(0.9), percentile(0.99), sorted.last ?? 0, mean)
    }
}

let clock = ContinuousClock()
func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) * 1e-12
}

func residentMiB() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
        let pages = Int(statm.split(separator: " ")[1])
    else { return 0 }
    return (pages * Int(sysconf(Int32(_SC_PAGESIZE)))) >> 20
}

/// CPU seconds (user + system) used so far by process `pid` (`/proc/PID/stat`, clock ticks).
func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
print("ActionsBench: \(iterations) executions of the seed action per measurement; \(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average \(load)")
print("(wall-clock latencies depend on what else runs; 'CPU/execution' adds up this process and the workers)")
if paceMilliseconds > 0 { print("paced: \(paceMilliseconds) ms idle before each timed execution (the throughput runs are not paced)") }

// 1. In-process, a fresh context created on the clock for every execution.
do {
    let engine = JavaScriptActionEngine()
    for index in 0..<200 { check(engine.execute(request(index)), index) }  // warm-up
    var samples: [Double] = []
    samples.reserveCapacity(iterations)
    let cpuBefore = cpuSeconds(pid: getpid())
    for index in 0..<iterations {
        pace()
        let start = clock.now
        let result = engine.execute(request(index))
        samples.append(microseconds(clock.now - start))
        check(result, index)
    }
    print(Summary(samples: samples).line("in-process, fresh context on the clock   "))
    print(String(format: "  CPU/execution %.0f µs", (cpuSeconds(pid: getpid()) - cpuBefore) * 1e6 / Double(iterations)))

    // 2. In-process, the next context prepared off the clock (what an idle worker does between requests).
    samples.removeAll(keepingCapacity: true)
    for index in 0..<iterations {
        engine.prewarm()
        pace()
        let start = clock.now
        let result = engine.execute(request(index))
        samples.append(microseconds(clock.now - start))
        check(result, index)
    }
    print(Summary(samples: samples).line("in-process, context prewarmed off clock  "))
    print("  bench process RSS after in-process runs: \(residentMiB()) MiB")
}

// 3. Through the pool.
let binary =
    option("--binary") ?? ProcessInfo.processInfo.environment["USHER_BINARY"]
    ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("usher").path
guard FileManager.default.isExecutableFile(atPath: binary) else {
    print("pool: skipped, no usher executable at \(binary) (build it, or pass --binary / USHER_BINARY)")
    exit(0)
}
let pool = ActionWorkerPool(
    configuration: .init(command: WorkerCommand(executablePath: binary), workerCount: workerCount))
await pool.start()
for index in 0..<200 { check(await pool.execute(request(index)), index) }  // warm-up

/// CPU seconds of (this process, the workers).
func poolCPUSeconds() async -> (Double, Double) {
    var workers = 0.0
    for pid in await pool.statistics().workerPIDs { workers += cpuSeconds(pid: pid) }
    return (cpuSeconds(pid: getpid()), workers)
}

func cpuLine(since before: (Double, Double), executions: Int) async -> String {
    let after = await poolCPUSeconds()
    let host = (after.0 - before.0) * 1e6 / Double(executions)
    let workers = (after.1 - before.1) * 1e6 / Double(executions)
    return String(format: "CPU/execution %.0f µs (this process %.0f, workers %.0f)", host + workers, host, workers)
}

var samples: [Double] = []
samples.reserveCapacity(iterations)
let cpuBefore = await poolCPUSeconds()
for index in 0..<iterations {
    pace()
    let start = clock.now
    let result = await pool.execute(request(index))
    samples.append(microseconds(clock.now - start))
    check(result, index)
}
print(Summary(samples: samples).line("pool round trip, 1 in flight (\(workerCount) workers)"))
print("  " + (await cpuLine(since: cpuBefore, executions: iterations)))

// 4. Throughput with as many executions in flight as workers (and twice as many).
for inFlight in [workerCount, workerCount * 2] {
    let start = clock.now
    let cpuBefore = await poolCPUSeconds()
    let perTask = iterations / inFlight
    let latencies = await withTaskGroup(of: [Double].self) { group in
        for task in 0..<inFlight {
            group.addTask {
                var local: [Double] = []
                for step in 0..<perTask {
                    let index = task * perTask + step
                    let begin = clock.now
                    let result = await pool.execute(request(index))
                    local.append(microseconds(clock.now - begin))
                    check(result, index)
                }
                return local
            }
        }
        var all: [Double] = []
        for await part in group { all += part }
        return all
    }
    let elapsed = clock.now - start
    let rate = Double(latencies.count) / (microseconds(elapsed) / 1e6)
    print(Summary(samples: latencies).line("pool, \(inFlight) in flight                      "))
    print(String(format: "  throughput %.0f executions/s, ", rate) + (await cpuLine(since: cpuBefore, executions: latencies.count)))
}
let stats = await pool.statistics()
print("  pool: \(stats.completedExecutions) executions, \(stats.restarts) worker restarts, \(stats.kills) kills")
for pid in stats.workerPIDs {
    if let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8),
        let pages = Int(statm.split(separator: " ")[1])
    {
        print("  worker \(pid) RSS \((pages * Int(sysconf(Int32(_SC_PAGESIZE)))) >> 20) MiB")
    }
}
await pool.shutdown()
