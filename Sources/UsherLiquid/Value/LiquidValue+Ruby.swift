// Ruby semantics that Shopify Liquid inherits and templates can observe: how values print,
// compare and coerce. Each function names the Ruby method it reproduces so deviations can be
// checked against the reference.

extension LiquidValue {
    /// What `{{ value }}` writes: Ruby Liquid's `render_obj_to_output` (arrays are concatenated
    /// element by element, `nil` writes nothing, everything else uses `to_s`).
    static func renderString(_ value: LiquidValue) -> String {
        switch value {
        case .string(let s), .safe(let s): return s
        case .array:
            var out = ""
            appendRendered(value, to: &out, depth: 0)
            return out
        default: return toS(value)
        }
    }

    /// Appends the rendering of `value` to `out` without building intermediate strings.
    static func appendRendered(_ value: LiquidValue, to out: inout String, depth: Int = 0) {
        switch value {
        case .nil, .special: return
        case .string(let s), .safe(let s): out.append(s)
        case .int(let i): out.append(String(i))
        case .bool(let b): out.append(b ? "true" : "false")
        case .array(let items):
            guard depth < maxNestingForDisplay else { return }
            for item in items { appendRendered(item, to: &out, depth: depth + 1) }
        default: out.append(toS(value))
        }
    }

    /// Deeper structures than this print as `...`; host data can be deep, a trap must not be possible.
    static let maxNestingForDisplay = 256

    /// Ruby Liquid's `Utils.to_s`: strings as they are, hashes and arrays in Ruby `inspect` form.
    static func toS(_ value: LiquidValue) -> String {
        switch value {
        case .nil, .special: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return rubyFloatString(d)
        case .string(let s), .safe(let s): return s
        case .array, .hash:
            var out = ""
            appendInspect(value, to: &out, depth: 0)
            return out
        case .range(let a, let b): return "\(a)..\(b)"
        case .drop(let d): return d.liquidDescription
        }
    }

    /// Ruby's `inspect`, as Liquid 5's `Utils.inspect` prints nested values (`{"a"=>1, "b"=>[1, 2]}`).
    static func appendInspect(_ value: LiquidValue, to out: inout String, depth: Int) {
        if depth > maxNestingForDisplay {
            out.append("...")
            return
        }
        switch value {
        case .nil: out.append("nil")
        case .string(let s), .safe(let s): appendRubyStringInspect(s, to: &out)
        case .array(let items):
            out.append("[")
            var first = true
            for item in items {
                if !first { out.append(", ") }
                first = false
                appendInspect(item, to: &out, depth: depth + 1)
            }
            out.append("]")
        case .hash(let h):
            out.append("{")
            for i in 0..<h.count {
                if i > 0 { out.append(", ") }
                appendRubyStringInspect(h.keys[i], to: &out)
                out.append("=>")
                appendInspect(h.values[i], to: &out, depth: depth + 1)
            }
            out.append("}")
        case .drop(let d): out.append(d.liquidDescription)
        default: out.append(toS(value))
        }
    }

    static func appendRubyStringInspect(_ s: String, to out: inout String) {
        out.append("\"")
        var previousWasHash = false
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\t": out.append("\\t")
            case "\r": out.append("\\r")
            case "\u{1B}": out.append("\\e")
            case "\u{07}": out.append("\\a")
            case "\u{08}": out.append("\\b")
            case "\u{0B}": out.append("\\v")
            case "\u{0C}": out.append("\\f")
            case "{", "$", "@":
                // Ruby escapes "#" when it would start an interpolation: "#{", "#$", "#@".
                if previousWasHash {
                    out.unicodeScalars.removeLast()
                    out.append("\\#")
                }
                out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out.append(scalar.value < 0x10 ? "\\x0" : "\\x")
                    out.append(String(scalar.value, radix: 16, uppercase: true))
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            previousWasHash = scalar == "#"
        }
        out.append("\"")
    }
}

/// Ruby's `Float#to_s`: shortest round-trip digits, `.0` on integral values, and scientific
/// notation (`1.0e+16`, `1.5e-05`) outside 1e-4 ..< 1e16.
func rubyFloatString(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description is also the shortest round-trip representation; only the layout differs,
    // and only when Swift chose exponent notation (its fixed-notation range lies inside Ruby's).
    let text = d.description
    if !text.utf8.contains(UInt8(ascii: "e")) { return text }
    var negative = false
    var digits: [UInt8] = []
    var exponent = 0
    var pointSeen = false
    var fractionDigits = 0
    var iter = text.utf8.makeIterator()
    var expText: [UInt8] = []
    var inExponent = false
    while let c = iter.next() {
        if inExponent {
            expText.append(c)
            continue
        }
        switch c {
        case UInt8(ascii: "-"): negative = true
        case UInt8(ascii: "."): pointSeen = true
        case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            digits.append(c)
            if pointSeen { fractionDigits += 1 }
        default: break
        }
    }
    if !expText.isEmpty, let e = Int(String(decoding: expText, as: UTF8.self)) { exponent = e }
    // value = 0.D × 10^decpt once leading zeros are removed.
    var decpt = digits.count - fractionDigits + exponent
    while let first = digits.first, first == UInt8(ascii: "0") {
        digits.removeFirst()
        decpt -= 1
    }
    while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
    if digits.isEmpty { return negative ? "-0.0" : "0.0" }
    var out = negative ? "-" : ""
    let ds = String(decoding: digits, as: UTF8.self)
    if decpt > -4 && decpt < 16 {
        if decpt <= 0 {
            out += "0." + String(repeating: "0", count: -decpt) + ds
        } else if digits.count <= decpt {
            out += ds + String(repeating: "0", count: decpt - digits.count) + ".0"
        } else {
            let idx = ds.index(ds.startIndex, offsetBy: decpt)
            out += ds[..<idx] + "." + ds[idx...]
        }
    } else {
        let first = ds.prefix(1)
        let rest = ds.dropFirst()
        let e = decpt - 1
        let eText = String(abs(e))
        out +=
            first + "." + (rest.isEmpty ? "0" : rest) + "e" + (e < 0 ? "-" : "+")
            + (eText.count < 2 ? "0" + eText : eText)
    }
    return out
}

// MARK: - Equality and ordering

/// Ruby `==` between Liquid values.
func liquidEquals(_ lhs: LiquidValue, _ rhs: LiquidValue, depth: Int = 0) -> Bool {
    switch (lhs, rhs) {
    case (.nil, .nil): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.int(let a), .float(let b)), (.float(let b), .int(let a)): return Int(exactly: b) == a
    case (.float(let a), .float(let b)): return a == b
    case (.string(let a), .string(let b)), (.string(let a), .safe(let b)), (.safe(let a), .string(let b)),
        (.safe(let a), .safe(let b)):
        return rubyStringEquals(a, b)
    case (.array(let a), .array(let b)):
        guard a.count == b.count, depth < LiquidValue.maxNestingForDisplay else { return false }
        for i in 0..<a.count where !liquidEquals(a[i], b[i], depth: depth + 1) { return false }
        return true
    case (.hash(let a), .hash(let b)):
        if a === b { return true }
        guard a.count == b.count, depth < LiquidValue.maxNestingForDisplay else { return false }
        for i in 0..<a.count {
            guard let other = b[a.keys[i]], liquidEquals(a.values[i], other, depth: depth + 1) else { return false }
        }
        return true
    case (.range(let a1, let b1), .range(let a2, let b2)): return a1 == a2 && b1 == b2
    case (.drop(let a), .drop(let b)): return a === b
    case (.special(let a), .special(let b)): return a == b
    default: return false
    }
}

/// Ruby compares strings byte by byte; Swift's `==` would also equate canonically equivalent forms.
@inline(__always)
func rubyStringEquals(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
}

/// Byte-wise ordering of strings (Ruby `String#<=>`); with `foldingASCIICase`, A–Z compare as a–z (Ruby's
/// `casecmp`, which folds ASCII letters only).
func rubyStringCompare(_ a: String, _ b: String, foldingASCIICase: Bool = false) -> Int {
    var ia = a.utf8.makeIterator()
    var ib = b.utf8.makeIterator()
    while true {
        switch (ia.next(), ib.next()) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case (var x?, var y?):
            if foldingASCIICase {
                if x >= 65 && x <= 90 { x += 32 }
                if y >= 65 && y <= 90 { y += 32 }
            }
            if x != y { return x < y ? -1 : 1 }
        }
    }
}

/// Ruby's `eql?` (used by `uniq`): like `==` but `1` and `1.0` differ.
func liquidStrictEquals(_ lhs: LiquidValue, _ rhs: LiquidValue, depth: Int = 0) -> Bool {
    switch (lhs, rhs) {
    case (.int, .float), (.float, .int): return false
    case (.array(let a), .array(let b)):
        guard a.count == b.count, depth < LiquidValue.maxNestingForDisplay else { return false }
        for i in 0..<a.count where !liquidStrictEquals(a[i], b[i], depth: depth + 1) { return false }
        return true
    case (.hash(let a), .hash(let b)):
        guard a.count == b.count, depth < LiquidValue.maxNestingForDisplay else { return false }
        for i in 0..<a.count {
            guard let other = b[a.keys[i]], liquidStrictEquals(a.values[i], other, depth: depth + 1) else {
                return false
            }
        }
        return true
    default: return liquidEquals(lhs, rhs, depth: depth)
    }
}

/// Numeric view used by comparisons; `nil` for non-numbers.
@inline(__always)
private func numericPair(_ lhs: LiquidValue, _ rhs: LiquidValue) -> Int? {
    switch (lhs, rhs) {
    case (.int(let a), .int(let b)): return a < b ? -1 : (a == b ? 0 : 1)
    case (.int(let a), .float(let b)): return compareDoubles(Double(a), b)
    case (.float(let a), .int(let b)): return compareDoubles(a, Double(b))
    case (.float(let a), .float(let b)): return compareDoubles(a, b)
    default: return nil
    }
}

@inline(__always)
private func compareDoubles(_ a: Double, _ b: Double) -> Int? {
    if a.isNaN || b.isNaN { return nil }
    return a < b ? -1 : (a == b ? 0 : 1)
}

/// Ruby `<=>` as the `sort` filter sees it: `nil` when the two values are not comparable.
func rubySpaceship(_ lhs: LiquidValue, _ rhs: LiquidValue, depth: Int = 0) -> Int? {
    if let n = numericPair(lhs, rhs) { return n }
    switch (lhs, rhs) {
    case (.string(let a), .string(let b)), (.string(let a), .safe(let b)), (.safe(let a), .string(let b)),
        (.safe(let a), .safe(let b)):
        return rubyStringCompare(a, b)
    case (.array(let a), .array(let b)):
        guard depth < LiquidValue.maxNestingForDisplay else { return nil }
        for i in 0..<min(a.count, b.count) {
            guard let c = rubySpaceship(a[i], b[i], depth: depth + 1) else { return nil }
            if c != 0 { return c }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    default:
        // Object#<=>: 0 for equal objects, otherwise not comparable.
        return liquidEquals(lhs, rhs) ? 0 : nil
    }
}

/// The outcome of a relational operator (`<`, `<=`, `>`, `>=`) in a condition: Ruby calls the
/// operator only when both sides define it, and raises when a string meets a number.
func rubyRelational(_ lhs: LiquidValue, _ rhs: LiquidValue) throws(LiquidRenderError) -> Int? {
    if let n = numericPair(lhs, rhs) { return n }
    switch (lhs, rhs) {
    case (.string(let a), .string(let b)), (.string(let a), .safe(let b)), (.safe(let a), .string(let b)),
        (.safe(let a), .safe(let b)):
        return rubyStringCompare(a, b)
    case (.string, .int), (.string, .float), (.safe, .int), (.safe, .float),
        (.int, .string), (.float, .string), (.int, .safe), (.float, .safe):
        throw LiquidRenderError(
            .argument,
            "cannot compare \(lhs.rubyClassName) with \(rhs.rubyClassName) (\(LiquidValue.inspect(lhs)) and \(LiquidValue.inspect(rhs)))"
        )
    default: return nil
    }
}

extension LiquidValue {
    static func inspect(_ value: LiquidValue) -> String {
        var out = ""
        appendInspect(value, to: &out, depth: 0)
        return out
    }

    /// The Ruby class name of the value, for error messages a template author can relate to.
    var rubyClassName: String {
        switch self {
        case .nil: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int: return "Integer"
        case .float: return "Float"
        case .string, .safe: return "String"
        case .array: return "Array"
        case .hash: return "Hash"
        case .range: return "Range"
        case .drop: return "Drop"
        case .special(let s): return s == .blank ? "blank" : "empty"
        }
    }
}

// MARK: - Ruby string helpers

/// Ruby's whitespace for `strip`/`lstrip`/`rstrip` and Liquid's whitespace control: space, \t, \n, \v, \f, \r and NUL.
@inline(__always)
func isRubyStripByte(_ b: UInt8) -> Bool {
    b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0
}

/// `\s` in Ruby regular expressions: space, \t, \n, \v, \f, \r (no NUL).
@inline(__always)
func isRubySpaceByte(_ b: UInt8) -> Bool {
    b == 0x20 || (b >= 0x09 && b <= 0x0D)
}

func rubyLstrip(_ s: String) -> String {
    let u = s.utf8
    var i = u.startIndex
    while i < u.endIndex, isRubyStripByte(u[i]) { i = u.index(after: i) }
    if i == u.startIndex { return s }
    return String(decoding: u[i...], as: UTF8.self)
}

func rubyRstrip(_ s: String) -> String {
    let u = s.utf8
    var j = u.endIndex
    while j > u.startIndex {
        let p = u.index(before: j)
        if isRubyStripByte(u[p]) { j = p } else { break }
    }
    if j == u.endIndex { return s }
    return String(decoding: u[..<j], as: UTF8.self)
}

func rubyStrip(_ s: String) -> String { rubyLstrip(rubyRstrip(s)) }
