/// Math filters with Ruby Liquid's rules: numeric strings are numbers, anything else is 0;
/// integer math stays integer (division floors, `%` takes the divisor's sign); floats are computed
/// as exact decimals (`10.1 | plus: 2.2` is 12.3) and printed as Ruby floats.
enum MathFilters {
    typealias S = FilterSupport

    static let all: [LiquidFilter] = [
        LiquidFilter("plus", arity: 1...1) { input, a, _ in
            try apply(input.rubyNumber, S.arg(a, 0).rubyNumber, .add).asValue
        },
        LiquidFilter("minus", arity: 1...1) { input, a, _ in
            try apply(input.rubyNumber, S.arg(a, 0).rubyNumber, .subtract).asValue
        },
        LiquidFilter("times", arity: 1...1) { input, a, _ in
            try apply(input.rubyNumber, S.arg(a, 0).rubyNumber, .multiply).asValue
        },
        LiquidFilter("divided_by", arity: 1...1) { input, a, _ in
            try apply(input.rubyNumber, S.arg(a, 0).rubyNumber, .divide).asValue
        },
        LiquidFilter("modulo", arity: 1...1) { input, a, _ in
            try apply(input.rubyNumber, S.arg(a, 0).rubyNumber, .modulo).asValue
        },
        LiquidFilter("abs", arity: 0...0) { input, _, _ in
            switch input.rubyNumber {
            case .int(let i): return i == .min ? .float(-Double(i)) : .int(abs(i))
            case .decimal(let d): return .float(d.magnitude.doubleValue)
            case .float(let f): return .float(abs(f))
            }
        },
        LiquidFilter("ceil", arity: 0...0) { input, _, _ in try integral(input.rubyNumber, .up) },
        LiquidFilter("floor", arity: 0...0) { input, _, _ in try integral(input.rubyNumber, .down) },
        LiquidFilter("round", arity: 0...1) { input, a, _ in try round(input.rubyNumber, a[ruby: 0] ?? .int(0)) },
        LiquidFilter("at_least", arity: 1...1) { input, a, _ in
            let minimum = S.arg(a, 0).rubyNumber
            let value = input.rubyNumber
            return (RubyNumber.compare(minimum, value) > 0 ? minimum : value).asValue
        },
        LiquidFilter("at_most", arity: 1...1) { input, a, _ in
            let maximum = S.arg(a, 0).rubyNumber
            let value = input.rubyNumber
            return (RubyNumber.compare(maximum, value) < 0 ? maximum : value).asValue
        },
    ]

    enum Operation { case add, subtract, multiply, divide, modulo }

    static func apply(_ a: RubyNumber, _ b: RubyNumber, _ op: Operation) throws -> RubyNumber {
        if case .int(let x) = a, case .int(let y) = b {
            return try integerOperation(x, y, op)
        }
        if let x = a.decimal, let y = b.decimal, !isFloat(a), !isFloat(b) {
            switch op {
            case .add: return x + y
            case .subtract: return x - y
            case .multiply: return x * y
            case .divide: return RubyDecimal.divide(x, y)
            case .modulo: return try RubyDecimal.modulo(x, y)
            }
        }
        // Non-finite operands: plain floating point, as BigDecimal's special values behave.
        let x = a.doubleValue
        let y = b.doubleValue
        switch op {
        case .add: return .float(x + y)
        case .subtract: return .float(x - y)
        case .multiply: return .float(x * y)
        case .divide:
            return .float(x / y)
        case .modulo:
            if y == 0 { throw LiquidRenderError(.zeroDivision, "divided by 0") }
            return .float(x - y * (x / y).rounded(.down))
        }
    }

    private static func isFloat(_ n: RubyNumber) -> Bool {
        if case .float = n { return true }
        return false
    }

    /// Integer arithmetic that reports overflow and falls back to floats instead of trapping.
    static func integerOperation(_ x: Int, _ y: Int, _ op: Operation) throws -> RubyNumber {
        switch op {
        case .add:
            let (r, o) = x.addingReportingOverflow(y)
            return o ? .float(Double(x) + Double(y)) : .int(r)
        case .subtract:
            let (r, o) = x.subtractingReportingOverflow(y)
            return o ? .float(Double(x) - Double(y)) : .int(r)
        case .multiply:
            let (r, o) = x.multipliedReportingOverflow(by: y)
            return o ? .float(Double(x) * Double(y)) : .int(r)
        case .divide:
            guard y != 0 else { throw LiquidRenderError(.zeroDivision, "divided by 0") }
            let (q, o) = x.dividedReportingOverflow(by: y)
            if o { return .float(Double(x) / Double(y)) }
            // Ruby floors integer division.
            if (x % y != 0) && ((x < 0) != (y < 0)) { return .int(q - 1) }
            return .int(q)
        case .modulo:
            guard y != 0 else { throw LiquidRenderError(.zeroDivision, "divided by 0") }
            let (r, o) = x.remainderReportingOverflow(dividingBy: y)
            if o { return .int(0) }
            if r != 0 && ((r < 0) != (y < 0)) { return .int(r + y) }
            return .int(r)
        }
    }

    /// `ceil`/`floor`: always an Integer in Ruby Liquid.
    static func integral(_ n: RubyNumber, _ rule: FloatingPointRoundingRule) throws -> LiquidValue {
        switch n {
        case .int(let i): return .int(i)
        case .decimal(let d):
            if let i = d.rounded(rule) { return .int(i) }
            return .float(d.doubleValue.rounded(rule))
        case .float(let f):
            guard f.isFinite else { throw LiquidRenderError(.argument, "cannot round \(rubyFloatString(f))") }
            let r = f.rounded(rule)
            return Int(exactly: r).map(LiquidValue.int) ?? .float(r)
        }
    }

    /// Ruby Liquid's `round(n)`: Integer#round or BigDecimal#round (half away from zero). With
    /// fewer than one decimal place the result is an Integer, otherwise a Float.
    static func round(_ n: RubyNumber, _ placesArg: LiquidValue) throws -> LiquidValue {
        let places: Int
        switch placesArg.rubyNumber {
        case .int(let i): places = i
        case .decimal(let d): places = d.rounded(.towardZero) ?? 0
        case .float(let f): places = f.isFinite ? Int(exactly: f.rounded(.towardZero)) ?? 0 : 0
        }
        switch n {
        case .int(let i):
            // Integer#round(-n) rounds half away from zero to a multiple of 10^n.
            if places >= 0 { return .int(i) }
            if places < -19 { return .int(0) }
            let rounded = RubyDecimal(mantissa: Int128(i), exponent: 0).rounded(places: places)
            return rounded.rounded(.towardZero).map(LiquidValue.int) ?? .float(rounded.doubleValue)
        case .decimal(let d):
            let clamped = max(-400, min(places, 400))
            let r = d.rounded(places: clamped)
            if places < 1 {
                if let i = r.rounded(.towardZero) { return .int(i) }
                return .float(r.doubleValue)
            }
            return .float(r.doubleValue)
        case .float(let f):
            guard f.isFinite else { throw LiquidRenderError(.argument, "cannot round \(rubyFloatString(f))") }
            return .float(f.rounded())
        }
    }
}
