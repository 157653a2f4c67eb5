// Ruby Liquid's math: `Utils.to_number` turns floats into BigDecimal (from their shortest decimal
// text), so `10.1 | plus: 2.2` is exactly `12.3`, and integers are exact. We reproduce that with an
// exact decimal (Int128 mantissa, base-10 exponent) and checked Int arithmetic. Anything that would
// overflow falls back to Double instead of trapping: Ruby would use a bignum, which we do not have.

/// A number as Liquid's math filters see it.
enum RubyNumber {
    case int(Int)
    case decimal(RubyDecimal)
    /// Non-finite values and overflow fallbacks.
    case float(Double)

    var asValue: LiquidValue {
        switch self {
        case .int(let i): return .int(i)
        case .decimal(let d): return .float(d.doubleValue)
        case .float(let f): return .float(f)
        }
    }

    var doubleValue: Double {
        switch self {
        case .int(let i): return Double(i)
        case .decimal(let d): return d.doubleValue
        case .float(let f): return f
        }
    }

    var decimal: RubyDecimal? {
        switch self {
        case .int(let i): return RubyDecimal(mantissa: Int128(i), exponent: 0)
        case .decimal(let d): return d
        case .float(let f): return RubyDecimal(f)
        }
    }

    var isInt: Bool {
        if case .int = self { return true }
        return false
    }

    /// Ruby `<=>` between numbers.
    static func compare(_ a: RubyNumber, _ b: RubyNumber) -> Int {
        if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : (x == y ? 0 : 1) }
        if let x = a.decimal, let y = b.decimal, let c = x.compare(y) { return c }
        let x = a.doubleValue
        let y = b.doubleValue
        return x < y ? -1 : (x == y ? 0 : 1)
    }
}

extension LiquidValue {
    /// Ruby Liquid's `Utils.to_number`.
    var rubyNumber: RubyNumber {
        switch self {
        case .int(let i): return .int(i)
        case .float(let f):
            if let d = RubyDecimal(f) { return .decimal(d) }
            return .float(f)
        case .string(let s), .safe(let s): return rubyNumberFromString(s)
        default: return .int(0)
        }
    }

    /// Ruby Liquid's `Utils.to_integer`: integers as they are, anything else through `Integer(to_s)`.
    func rubyToInteger() throws(LiquidRenderError) -> Int {
        if case .int(let i) = self { return i }
        guard let i = rubyStrictInteger(LiquidValue.toS(self)) else {
            throw LiquidRenderError(.argument, "invalid integer: \(LiquidValue.inspect(self))")
        }
        return i
    }

    /// Ruby's `to_i` as the `tablerow` tag uses it (floats truncate, strings parse a leading integer).
    func rubyToI() throws(LiquidRenderError) -> Int {
        switch self {
        case .int(let i): return i
        case .float(let f):
            guard f.isFinite else { throw LiquidRenderError(.argument, "invalid integer: \(rubyFloatString(f))") }
            return Int(exactly: f.rounded(.towardZero)) ?? (f < 0 ? Int.min : Int.max)
        case .string(let s), .safe(let s): return rubyStringToI(s)
        case .nil, .special: return 0
        default: throw LiquidRenderError(.argument, "invalid integer: \(LiquidValue.inspect(self))")
        }
    }
}

/// `/\A-?\d+\.\d+\z/` on the stripped string → decimal, otherwise `String#to_i`.
func rubyNumberFromString(_ s: String) -> RubyNumber {
    let t = rubyStrip(s)
    let u = Array(t.utf8)
    var i = 0
    if i < u.count, u[i] == UInt8(ascii: "-") { i += 1 }
    let intStart = i
    while i < u.count, isDigit(u[i]) { i += 1 }
    if i > intStart, i < u.count, u[i] == UInt8(ascii: ".") {
        let fracStart = i + 1
        var j = fracStart
        while j < u.count, isDigit(u[j]) { j += 1 }
        if j > fracStart, j == u.count, let d = RubyDecimal(parsing: t) {
            return .decimal(d)
        }
    }
    return .int(rubyStringToI(s))
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

/// Ruby `String#to_i`: optional leading whitespace and sign, then digits (single underscores allowed
/// between digits); stops at the first other character; 0 when there are no digits. Saturates.
func rubyStringToI(_ s: String) -> Int {
    var it = s.utf8.makeIterator()
    var c = it.next()
    while let b = c, isRubySpaceByte(b) { c = it.next() }
    var negative = false
    if let b = c, b == UInt8(ascii: "-") || b == UInt8(ascii: "+") {
        negative = b == UInt8(ascii: "-")
        c = it.next()
    }
    var value = 0
    var overflow = false
    var lastWasDigit = false
    while let b = c {
        if isDigit(b) {
            let d = Int(b - UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (r, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { overflow = true } else { value = r }
            lastWasDigit = true
        } else if b == UInt8(ascii: "_") && lastWasDigit {
            lastWasDigit = false
        } else {
            break
        }
        c = it.next()
    }
    if overflow { return negative ? Int.min : Int.max }
    return negative ? -value : value
}

/// Ruby `Integer(string)`: the whole string must be an integer literal (surrounding whitespace,
/// sign, `0x`/`0b`/`0o`/leading-`0` octal prefixes and `_` separators allowed). Saturates on overflow.
func rubyStrictInteger(_ s: String) -> Int? {
    let u = Array(rubyStrip(s).utf8)
    guard !u.isEmpty else { return nil }
    var i = 0
    var negative = false
    if u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") {
        negative = u[i] == UInt8(ascii: "-")
        i += 1
    }
    var radix = 10
    if i + 1 < u.count, u[i] == UInt8(ascii: "0") {
        switch u[i + 1] | 0x20 {
        case UInt8(ascii: "x"):
            radix = 16
            i += 2
        case UInt8(ascii: "b"):
            radix = 2
            i += 2
        case UInt8(ascii: "o"):
            radix = 8
            i += 2
        case UInt8(ascii: "d"):
            radix = 10
            i += 2
        default:
            radix = 8
            i += 1
        }
    }
    guard i < u.count else { return radix == 8 ? 0 : nil }
    var value = 0
    var overflow = false
    var lastWasDigit = false
    while i < u.count {
        let b = u[i]
        let digit: Int
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(b - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(b - UInt8(ascii: "A")) + 10
        case UInt8(ascii: "_"):
            guard lastWasDigit, i + 1 < u.count else { return nil }
            lastWasDigit = false
            i += 1
            continue
        default: return nil
        }
        guard digit < radix else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: radix)
        let (r, o2) = m.addingReportingOverflow(digit)
        if o1 || o2 { overflow = true } else { value = r }
        lastWasDigit = true
        i += 1
    }
    guard lastWasDigit else { return nil }
    if overflow { return negative ? Int.min : Int.max }
    return negative ? -value : value
}

/// An exact decimal `mantissa × 10^exponent`, standing in for Ruby's BigDecimal in the math filters.
struct RubyDecimal {
    var mantissa: Int128
    var exponent: Int

    init(mantissa: Int128, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// `BigDecimal(float.to_s)`: the shortest decimal that reads back as `d`. `nil` for NaN/infinity.
    init?(_ d: Double) {
        guard d.isFinite else { return nil }
        // Integral values that fit exactly need no text round trip.
        if d == d.rounded(.towardZero), abs(d) < 9.0e15 {
            self.init(mantissa: Int128(Int(d)), exponent: 0)
            return
        }
        self.init(parsing: d.description)
    }

    /// Parses `-?digits(.digits)?(e[+-]digits)?`.
    init?(parsing text: String) {
        var negative = false
        var mantissa: Int128 = 0
        var exponent = 0
        var sawDigit = false
        var inFraction = false
        var it = text.utf8.makeIterator()
        var c = it.next()
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
            negative = c == UInt8(ascii: "-")
            c = it.next()
        }
        while let b = c {
            if isDigit(b) {
                sawDigit = true
                let (m, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (r, o2) = m.addingReportingOverflow(Int128(b - UInt8(ascii: "0")))
                if o1 || o2 {
                    // Too many digits: drop the rest (they are below double precision anyway).
                    if !inFraction { exponent += 1 }
                } else {
                    mantissa = r
                    if inFraction { exponent -= 1 }
                }
            } else if b == UInt8(ascii: ".") && !inFraction {
                inFraction = true
            } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                var rest: [UInt8] = []
                while let x = it.next() { rest.append(x) }
                guard let e = Int(String(decoding: rest, as: UTF8.self)), e > -100_000, e < 100_000 else { return nil }
                exponent += e
                break
            } else {
                return nil
            }
            c = it.next()
        }
        guard sawDigit else { return nil }
        self.mantissa = negative ? -mantissa : mantissa
        self.exponent = exponent
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { e in
        var r = 1.0
        for _ in 0..<e { r *= 10 }
        return r
    }

    var doubleValue: Double {
        if mantissa == 0 { return 0 }
        // Exact operands give a correctly rounded result in one IEEE operation.
        if safeAbs(mantissa) < (1 << 53), abs(exponent) <= 22 {
            let m = Double(Int64(mantissa))
            return exponent >= 0 ? m * RubyDecimal.exactPowersOfTen[exponent] : m / RubyDecimal.exactPowersOfTen[-exponent]
        }
        return Double("\(mantissa)e\(exponent)") ?? Double(mantissa) * pow10(exponent)
    }

    private func pow10(_ e: Int) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<min(e, 400) { r *= 10 } } else { for _ in 0..<min(-e, 400) { r /= 10 } }
        return r
    }

    private static let maxScale = 38

    private static func scale(_ m: Int128, by places: Int) -> Int128? {
        guard places >= 0, places <= maxScale else { return nil }
        var r = m
        for _ in 0..<places {
            let (x, o) = r.multipliedReportingOverflow(by: 10)
            if o { return nil }
            r = x
        }
        return r
    }

    /// Both mantissas at the smaller exponent, or `nil` when that would overflow.
    private static func aligned(_ a: RubyDecimal, _ b: RubyDecimal) -> (Int128, Int128, Int)? {
        if a.exponent == b.exponent { return (a.mantissa, b.mantissa, a.exponent) }
        if a.exponent > b.exponent {
            guard let am = scale(a.mantissa, by: a.exponent - b.exponent) else { return nil }
            return (am, b.mantissa, b.exponent)
        }
        guard let bm = scale(b.mantissa, by: b.exponent - a.exponent) else { return nil }
        return (a.mantissa, bm, a.exponent)
    }

    func compare(_ other: RubyDecimal) -> Int? {
        guard let (a, b, _) = RubyDecimal.aligned(self, other) else { return nil }
        return a < b ? -1 : (a == b ? 0 : 1)
    }

    static func + (a: RubyDecimal, b: RubyDecimal) -> RubyNumber {
        guard let (x, y, e) = aligned(a, b) else { return .float(a.doubleValue + b.doubleValue) }
        let (r, o) = x.addingReportingOverflow(y)
        return o ? .float(a.doubleValue + b.doubleValue) : .decimal(RubyDecimal(mantissa: r, exponent: e))
    }

    static func - (a: RubyDecimal, b: RubyDecimal) -> RubyNumber {
        guard let (x, y, e) = aligned(a, b) else { return .float(a.doubleValue - b.doubleValue) }
        let (r, o) = x.subtractingReportingOverflow(y)
        return o ? .float(a.doubleValue - b.doubleValue) : .decimal(RubyDecimal(mantissa: r, exponent: e))
    }

    static func * (a: RubyDecimal, b: RubyDecimal) -> RubyNumber {
        let (r, o) = a.mantissa.multipliedReportingOverflow(by: b.mantissa)
        if o { return .float(a.doubleValue * b.doubleValue) }
        // BigDecimal keeps the sign of a zero product: 0 * -2.5 is -0.0.
        if r == 0 && ((a.mantissa < 0) != (b.mantissa < 0)) { return .float(-0.0) }
        return .decimal(RubyDecimal(mantissa: r, exponent: a.exponent + b.exponent))
    }

    /// Division to ~20 significant digits, then rounded to a double (what `BigDecimal#/` then `to_f` gives).
    /// Dividing by zero gives ±Infinity (NaN for 0/0), as BigDecimal does; only Integer division raises.
    static func divide(_ a: RubyDecimal, _ b: RubyDecimal) -> RubyNumber {
        guard b.mantissa != 0 else {
            if a.mantissa == 0 { return .float(.nan) }
            return .float(a.mantissa < 0 ? -.infinity : .infinity)
        }
        if a.mantissa == 0 {
            if b.mantissa < 0 { return .float(-0.0) }
            return .decimal(RubyDecimal(mantissa: 0, exponent: 0))
        }
        // Scale the numerator as far as Int128 allows so the integer quotient keeps plenty of digits.
        var num = a.mantissa
        var extra = 0
        while extra < maxScale {
            let (x, o) = num.multipliedReportingOverflow(by: 10)
            if o { break }
            num = x
            extra += 1
        }
        let (q, o) = num.dividedReportingOverflow(by: b.mantissa)
        if o { return .float(a.doubleValue / b.doubleValue) }
        return .decimal(RubyDecimal(mantissa: q, exponent: a.exponent - b.exponent - extra))
    }

    /// Ruby `BigDecimal#%`: the result has the sign of the divisor.
    static func modulo(_ a: RubyDecimal, _ b: RubyDecimal) throws(LiquidRenderError) -> RubyNumber {
        guard b.mantissa != 0 else { throw LiquidRenderError(.zeroDivision, "divided by 0") }
        guard let (x, y, e) = aligned(a, b) else {
            let fa = a.doubleValue
            let fb = b.doubleValue
            let r = fa - fb * (fa / fb).rounded(.down)
            return .float(r)
        }
        var (r, o) = x.remainderReportingOverflow(dividingBy: y)
        if o { r = 0 }
        if r != 0 && ((r < 0) != (y < 0)) { r += y }
        return .decimal(RubyDecimal(mantissa: r, exponent: e))
    }

    var magnitude: RubyDecimal { RubyDecimal(mantissa: safeAbs(mantissa), exponent: exponent) }

    /// Integer part rounded toward -infinity (`floor`) or +infinity (`ceil`); `nil` when out of Int range.
    func rounded(_ rule: FloatingPointRoundingRule) -> Int? {
        if exponent >= 0 {
            guard let m = RubyDecimal.scale(mantissa, by: exponent) else { return nil }
            return Int(exactly: m)
        }
        guard -exponent <= RubyDecimal.maxScale, let divisor = RubyDecimal.scale(1, by: -exponent) else {
            // |value| < 1 with a huge negative exponent.
            switch rule {
            case .down: return mantissa < 0 ? -1 : 0
            case .up: return mantissa > 0 ? 1 : 0
            default: return 0
            }
        }
        var q = mantissa / divisor
        let r = mantissa % divisor
        switch rule {
        case .down: if r < 0 { q -= 1 }
        case .up: if r > 0 { q += 1 }
        case .toNearestOrAwayFromZero:
            let ar = safeAbs(r)
            if ar >= divisor - ar { q += mantissa < 0 ? -1 : 1 }
        default: break
        }
        return Int(exactly: q)
    }

    /// `BigDecimal#round(places)` with ROUND_HALF_UP, for `places >= 1`.
    func rounded(places: Int) -> RubyDecimal {
        if -exponent <= places { return self }
        let drop = -exponent - places
        guard drop <= RubyDecimal.maxScale, let divisor = RubyDecimal.scale(1, by: drop) else {
            return RubyDecimal(mantissa: 0, exponent: -places)
        }
        var q = mantissa / divisor
        let r = mantissa % divisor
        let ar = safeAbs(r)
        if ar >= divisor - ar { q += mantissa < 0 ? -1 : 1 }
        return RubyDecimal(mantissa: q, exponent: -places)
    }
}

/// `abs` that cannot trap (Int128.min has no positive counterpart; it saturates).
@inline(__always)
func safeAbs(_ x: Int128) -> Int128 { x < 0 ? (x == .min ? .max : -x) : x }
