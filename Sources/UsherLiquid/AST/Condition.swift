/// A condition of `if`/`elsif`/`unless`/`when`: comparisons joined by `and`/`or`.
///
/// As in Ruby Liquid, `and`/`or` have equal precedence and group to the right:
/// `a and b or c` means `a and (b or c)`. Evaluated iteratively, so long chains cost no stack.
struct Condition: Sendable {
    enum Operator: Sendable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual, contains
    }

    struct Comparison: Sendable {
        let left: Expr
        let op: Operator?
        let right: Expr?
    }

    enum Relation: Sendable { case and, or }

    let comparisons: [Comparison]
    /// `relations[i]` joins `comparisons[i]` and `comparisons[i + 1]`.
    let relations: [Relation]

    /// The value of the condition (Ruby returns the last evaluated operand, which may be any value).
    func evaluate(_ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        var i = 0
        var result: LiquidValue = .nil
        while i < comparisons.count {
            result = try Condition.interpret(comparisons[i], &ctx)
            if i == relations.count { break }
            switch relations[i] {
            case .or: if result.isTruthy { return result }
            case .and: if !result.isTruthy { return result }
            }
            i += 1
        }
        return result
    }

    static func interpret(_ c: Comparison, _ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        let left = try c.left.evaluate(&ctx)
        guard let op = c.op, let rightExpr = c.right else { return left }
        let right = try rightExpr.evaluate(&ctx)
        return .bool(try compare(left, op, right))
    }

    static func compare(_ left: LiquidValue, _ op: Operator, _ right: LiquidValue) throws -> Bool {
        switch op {
        case .equal: return equalVariables(left, right)
        case .notEqual: return !equalVariables(left, right)
        case .contains: return contains(left, right)
        case .less: return (try rubyRelational(left, right)).map { $0 < 0 } ?? false
        case .lessOrEqual: return (try rubyRelational(left, right)).map { $0 <= 0 } ?? false
        case .greater: return (try rubyRelational(left, right)).map { $0 > 0 } ?? false
        case .greaterOrEqual: return (try rubyRelational(left, right)).map { $0 >= 0 } ?? false
        }
    }

    /// Ruby Liquid's `Condition#equal_variables`: `blank`/`empty` on either side ask the other side
    /// whether it is blank/empty; otherwise Ruby `==`.
    static func equalVariables(_ left: LiquidValue, _ right: LiquidValue) -> Bool {
        if case .special(let s) = left { return matchesSpecial(s, right) }
        if case .special(let s) = right { return matchesSpecial(s, left) }
        return liquidEquals(left, right)
    }

    static func matchesSpecial(_ special: LiquidSpecialLiteral, _ value: LiquidValue) -> Bool {
        switch special {
        case .blank: return isBlank(value)
        case .empty: return isEmpty(value)
        }
    }

    /// ActiveSupport's `blank?`, which Liquid emulates: nil, false, whitespace-only strings and empty collections.
    static func isBlank(_ value: LiquidValue) -> Bool {
        switch value {
        case .nil: return true
        case .bool(let b): return !b
        case .string(let s), .safe(let s): return s.utf8.allSatisfy(isRubySpaceByte)
        case .array(let a): return a.isEmpty
        case .hash(let h): return h.isEmpty
        default: return false
        }
    }

    /// Ruby's `empty?`: strings and collections with nothing in them (`nil` is not empty).
    static func isEmpty(_ value: LiquidValue) -> Bool {
        switch value {
        case .string(let s), .safe(let s): return s.isEmpty
        case .array(let a): return a.isEmpty
        case .hash(let h): return h.isEmpty
        default: return false
        }
    }

    /// Ruby Liquid's `contains`: substring for strings (the right side is stringified), membership
    /// for arrays, key presence for hashes; false when either side is nil or false.
    static func contains(_ left: LiquidValue, _ right: LiquidValue) -> Bool {
        guard left.isTruthy, right.isTruthy else { return false }
        switch left {
        case .string(let s), .safe(let s):
            let needle = LiquidValue.toS(right)
            if needle.isEmpty { return true }
            return s.utf8.count >= needle.utf8.count && rubyIndex(of: needle, in: s) != nil
        case .array(let a): return a.contains { liquidEquals($0, right) }
        case .hash(let h):
            guard let k = right.stringValue else { return false }
            return h.hasKey(k)
        case .range(let lo, let hi):
            switch right {
            case .int(let i): return i >= lo && i <= hi
            case .float(let f): return f >= Double(lo) && f <= Double(hi)
            default: return false
            }
        default: return false
        }
    }
}

/// Byte offset of the first occurrence of `needle` in `haystack` (Ruby `String#index`), byte-wise.
func rubyIndex(of needle: String, in haystack: String, from: Int = 0) -> Int? {
    let h = Array(haystack.utf8)
    let n = Array(needle.utf8)
    return byteIndex(of: n, in: h, from: from)
}

/// Byte offset of `n` in `h` at or after `from`. Short needles use a plain scan; long ones use
/// Knuth–Morris–Pratt so a hostile needle/haystack pair cannot make the search quadratic.
func byteIndex(of n: [UInt8], in h: [UInt8], from: Int = 0) -> Int? {
    if n.isEmpty { return from <= h.count ? from : nil }
    guard h.count >= n.count, from >= 0, from <= h.count - n.count else { return nil }
    if n.count > 8 { return kmpIndex(of: n, in: h, from: from) }
    let first = n[0]
    var i = from
    let last = h.count - n.count
    while i <= last {
        if h[i] == first {
            var k = 1
            while k < n.count && h[i + k] == n[k] { k += 1 }
            if k == n.count { return i }
        }
        i += 1
    }
    return nil
}

private func kmpIndex(of n: [UInt8], in h: [UInt8], from: Int) -> Int? {
    var failure = [Int](repeating: 0, count: n.count)
    var k = 0
    for i in 1..<n.count {
        while k > 0 && n[i] != n[k] { k = failure[k - 1] }
        if n[i] == n[k] { k += 1 }
        failure[i] = k
    }
    k = 0
    var i = from
    while i < h.count {
        while k > 0 && h[i] != n[k] { k = failure[k - 1] }
        if h[i] == n[k] { k += 1 }
        if k == n.count { return i - n.count + 1 }
        i += 1
    }
    return nil
}
