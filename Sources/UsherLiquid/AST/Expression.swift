/// A parsed expression: a literal, a variable lookup or a range. Resolved at parse time as far as
/// possible (literals are values, ranges of literals are `.range` values) so rendering only does lookups.
indirect enum Expr: Sendable {
    case literal(LiquidValue)
    case lookup(VariableLookup)
    case range(Expr, Expr)

    @inline(__always)
    func evaluate(_ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        switch self {
        case .literal(let v): return v
        case .lookup(let l): return try l.evaluate(&ctx)
        case .range(let a, let b):
            let lo = try Expr.rangeBound(a.evaluate(&ctx))
            let hi = try Expr.rangeBound(b.evaluate(&ctx))
            return .range(lo, hi)
        }
    }

    /// Ruby Liquid's `RangeLookup#to_integer`: integers as they are, nil and strings via `to_i`,
    /// anything else through `Utils.to_integer` (so a float variable is an error, as in Ruby).
    static func rangeBound(_ v: LiquidValue) throws -> Int {
        switch v {
        case .int(let i): return i
        case .nil: return 0
        case .string(let s), .safe(let s): return rubyStringToI(s)
        default: return try v.rubyToInteger()
        }
    }

    /// Folds a range of two literals into a value, as Ruby does at parse time (`(1.4..5)` → 1..5).
    static func literalRangeBound(_ v: LiquidValue) -> Int {
        switch v {
        case .int(let i): return i
        case .float(let f):
            guard f.isFinite else { return 0 }
            return Int(exactly: f.rounded(.towardZero)) ?? (f < 0 ? .min : .max)
        case .string(let s), .safe(let s): return rubyStringToI(s)
        default: return 0
        }
    }
}

/// `name.key[0][expr]`: a root variable and a path of lookups.
final class VariableLookup: Sendable {
    enum Root: Sendable {
        case name(String)
        /// `[expr]` at the start: the variable whose name is the value of `expr`.
        case dynamic(Expr)
    }

    enum Segment: Sendable {
        /// `.key` (or `["key"]`). `command` marks `.size`, `.first`, `.last` written with a dot,
        /// which fall back to the collection's size/first/last when there is no such key.
        case key(String, command: Bool)
        case index(Int)
        case dynamic(Expr)
    }

    let root: Root
    let path: [Segment]
    /// Offset of the expression in the template (for error messages).
    let position: Int
    /// The expression as written, normalised (Ruby Liquid uses it in `forloop.name`).
    let text: String

    init(root: Root, path: [Segment], position: Int, text: String) {
        self.root = root
        self.path = path
        self.position = position
        self.text = text
    }

    func evaluate(_ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        var object: LiquidValue
        switch root {
        case .name(let name):
            guard let v = try ctx.variable(name) else { return try undefined(name, &ctx) }
            object = v
        case .dynamic(let e):
            let key = try e.evaluate(&ctx)
            guard let name = key.stringValue, let v = try ctx.variable(name) else {
                return try undefined(LiquidValue.toS(key), &ctx)
            }
            object = v
        }
        for segment in path {
            switch segment {
            case .key(let key, let command):
                guard let v = try VariableLookup.property(of: object, key: key, command: command) else {
                    return try undefined(key, &ctx)
                }
                object = v
            case .index(let i):
                guard let v = try VariableLookup.element(of: object, index: i) else {
                    return try undefined(String(i), &ctx)
                }
                object = v
            case .dynamic(let e):
                let key = try e.evaluate(&ctx)
                let found: LiquidValue?
                switch key {
                case .int(let i): found = try VariableLookup.element(of: object, index: i)
                case .string(let s), .safe(let s): found = try VariableLookup.property(of: object, key: s, command: false)
                default: found = nil
                }
                guard let v = found else { return try undefined(LiquidValue.toS(key), &ctx) }
                object = v
            }
        }
        return object
    }

    private func undefined(_ name: String, _ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        if ctx.environment.strictVariables {
            var error = LiquidRenderError(.undefinedVariable, "undefined variable '\(name)' in '\(text)'")
            if let index = ctx.currentSource { error.line = index.line(at: position) }
            error.templateName = ctx.templateName
            throw error
        }
        return .nil
    }

    /// Ruby Liquid's `VariableLookup#evaluate` step for a string key: hash key first, then the
    /// `size`/`first`/`last` commands. `nil` means "not found".
    static func property(of object: LiquidValue, key: String, command: Bool) throws -> LiquidValue? {
        switch object {
        case .hash(let h):
            if let v = h[key] { return v }
            guard command else { return nil }
            switch key {
            case "size": return .int(h.count)
            case "first":
                guard !h.isEmpty else { return .nil }
                return .array([.string(h.keys[0]), h.values[0]])
            default: return nil
            }
        case .drop(let d):
            let v: LiquidValue?
            do { v = try d.liquidValue(forKey: key) } catch { throw LiquidRenderError.wrapping(error) }
            if let v { return v }
            guard command, let m = try materialize(d) else { return nil }
            return try property(of: m, key: key, command: true)
        case .nil: return nil
        default: break
        }
        guard command else { return nil }
        switch (object, key) {
        case (.array(let a), "size"): return .int(a.count)
        case (.array(let a), "first"): return a.first ?? .nil
        case (.array(let a), "last"): return a.last ?? .nil
        case (.string(let s), "size"), (.safe(let s), "size"): return .int(s.unicodeScalars.count)
        case (.string(let s), "first"), (.safe(let s), "first"):
            return .string(s.unicodeScalars.first.map { String($0) } ?? "")
        case (.string(let s), "last"), (.safe(let s), "last"):
            return .string(s.unicodeScalars.last.map { String($0) } ?? "")
        case (.range(let a, let b), "size"): return .int(rangeCount(a, b))
        case (.range(let a, _), "first"): return .int(a)
        case (.range(_, let b), "last"): return .int(b)
        case (.int, "size"): return .int(8)  // Ruby's Integer#size (bytes in a machine word)
        default: return nil
        }
    }

    static func element(of object: LiquidValue, index: Int) throws -> LiquidValue? {
        switch object {
        case .array(let a):
            let i = index < 0 ? index &+ a.count : index
            return (i >= 0 && i < a.count) ? a[i] : .nil
        case .hash:
            return .nil
        case .drop(let d):
            do { return try d.liquidValue(forKey: String(index)) } catch { throw LiquidRenderError.wrapping(error) }
        default: return nil
        }
    }

    static func materialize(_ d: any LiquidDrop) throws -> LiquidValue? {
        do { return try d.liquidMaterialized() } catch { throw LiquidRenderError.wrapping(error) }
    }
}

/// Number of integers in `a...b` (0 when empty), saturating instead of overflowing.
@inline(__always)
func rangeCount(_ a: Int, _ b: Int) -> Int {
    guard b >= a else { return 0 }
    let (d, o) = b.subtractingReportingOverflow(a)
    if o || d == .max { return .max }
    return d + 1
}
