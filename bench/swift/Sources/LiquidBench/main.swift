// LiquidBench: parse and render throughput of UsherLiquid on the templates in bench/liquid.
//
//   LiquidBench [--dir bench/liquid] [--seconds 2] [--out DIR] [name ...]
//
// For each benchmark NAME it reads NAME.liquid and NAME.json, measures the average parse time and
// the render rate over about --seconds of wall time, and prints one line per benchmark:
//   swift NAME parse_us=<µs per parse> renders_per_s=<renders per second> bytes=<output size>
// With --out, the rendered output is written to DIR/NAME.swift.html so run.sh can compare it with
// the Ruby and Python renderings.
import Foundation
import UsherLiquid

struct Options {
    var dir = "bench/liquid"
    var seconds = 2.0
    var out: String?
    var names: [String] = []
    /// Exactly this many renders and no timing (for instruction counting under callgrind).
    var renders: Int?
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--dir": o.dir = args.next() ?? o.dir
        case "--seconds": o.seconds = Double(args.next() ?? "") ?? o.seconds
        case "--out": o.out = args.next()
        case "--renders": o.renders = Int(args.next() ?? "")
        default: o.names.append(a)
        }
    }
    if o.names.isEmpty { o.names = ["invitation", "table"] }
    return o
}

func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
}

let options = parseOptions()
var environment = LiquidEnvironment()
environment.limits = .unlimited
// A fixed clock keeps `'now' | date` stable between runs and implementations' outputs comparable by year.
let clock = ContinuousClock()

for name in options.names {
    let base = URL(fileURLWithPath: options.dir).appendingPathComponent(name)
    guard let source = try? String(contentsOf: base.appendingPathExtension("liquid"), encoding: .utf8),
        let json = try? String(contentsOf: base.appendingPathExtension("json"), encoding: .utf8)
    else {
        print("missing \(base.path).liquid or .json")
        exit(1)
    }
    let context: LiquidContext
    do {
        context = LiquidContext(hash: try LiquidValue(json: json))
    } catch {
        print("\(name): bad data: \(error)")
        exit(1)
    }
    if let count = options.renders {
        do {
            let template = try LiquidTemplate.parse(source, environment: environment)
            var bytes = 0
            for _ in 0..<count { bytes &+= try template.render(context).utf8.count }
            print("swift \(name) renders=\(count) bytes=\(bytes)")
        } catch {
            print("\(name): \(error)")
            exit(1)
        }
        continue
    }
    do {
        // Parse: average over enough iterations to take ~0.3 s.
        var parses = 0
        var template = try LiquidTemplate.parse(source, environment: environment)
        let parseStart = clock.now
        while seconds(clock.now - parseStart) < min(0.3, options.seconds / 4) || parses < 10 {
            template = try LiquidTemplate.parse(source, environment: environment)
            parses += 1
        }
        let parseMicros = seconds(clock.now - parseStart) / Double(parses) * 1e6

        // Render: warm up, then count renders for the requested time.
        var output = ""
        for _ in 0..<20 { output = try template.render(context) }
        var renders = 0
        let renderStart = clock.now
        var elapsed = 0.0
        while elapsed < options.seconds {
            for _ in 0..<16 { output = try template.render(context) }
            renders += 16
            elapsed = seconds(clock.now - renderStart)
        }
        let rate = Double(renders) / elapsed
        print(String(format: "swift %@ parse_us=%.1f renders_per_s=%.0f bytes=%d", name, parseMicros, rate, output.utf8.count))
        if let out = options.out {
            let file = URL(fileURLWithPath: out).appendingPathComponent("\(name).swift.html")
            try output.write(to: file, atomically: true, encoding: .utf8)
        }
    } catch {
        print("\(name): \(error)")
        exit(1)
    }
}
