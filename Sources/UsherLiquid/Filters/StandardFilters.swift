/// The standard filter set (Shopify Liquid 5.12) plus Usher's `json`, `safe` and `raw`.
enum StandardFilters {
    static let all: [String: LiquidFilter] = {
        var filters: [String: LiquidFilter] = [:]
        for f in StringFilters.all + MathFilters.all + ArrayFilters.all + HTMLFilters.all + MiscFilters.all {
            filters[f.name] = f
        }
        return filters
    }()
}

/// Helpers shared by filter implementations.
enum FilterSupport {
    /// Ruby `Utils.to_s`.
    @inline(__always)
    static func str(_ v: LiquidValue) -> String { LiquidValue.toS(v) }

    /// Argument `i` (Ruby calling convention), defaulting to `nil`.
    @inline(__always)
    static func arg(_ a: LiquidFilterArguments, _ i: Int) -> LiquidValue { a[ruby: i] ?? .nil }

    /// Ruby Liquid's `InputIterator`: arrays flattened, a hash as one item, ranges expanded,
    /// `nil` as nothing, anything else as a one-item list.
    static func items(_ v: LiquidValue, _ ctx: inout LiquidRenderContext) throws -> [LiquidValue] {
        switch v {
        case .array(let a):
            if !a.contains(where: { if case .array = $0 { return true } else { return false } }) { return a }
            var out: [LiquidValue] = []
            try flatten(a, into: &out, depth: 0, &ctx)
            return out
        case .nil: return []
        case .range(let lo, let hi):
            let n = rangeCount(lo, hi)
            try ctx.checkCollectionSize(n)
            try ctx.chargeAllocation(n &* 16)
            var out: [LiquidValue] = []
            out.reserveCapacity(n)
            var i = 0
            while i < n {
                out.append(.int(lo &+ i))
                i += 1
            }
            return out
        case .drop(let d):
            if let m = try VariableLookup.materialize(d), m.isCollectionLike { return try items(m, &ctx) }
            return [v]
        default: return [v]
        }
    }

    static func flatten(_ a: [LiquidValue], into out: inout [LiquidValue], depth: Int, _ ctx: inout LiquidRenderContext) throws {
        guard depth < LiquidValue.maxNestingForDisplay else { return }
        for item in a {
            if case .array(let inner) = item {
                try flatten(inner, into: &out, depth: depth + 1, &ctx)
            } else {
                out.append(item)
            }
        }
        try ctx.checkCollectionSize(out.count)
    }

    /// The outcome of Ruby's `item[property]`.
    enum Property {
        case value(LiquidValue)
        /// The item has no `[]` (nil, numbers other than Integer, booleans, ranges).
        case noMethod
        /// `[]` exists but rejects this key type (Ruby TypeError), e.g. `5["title"]`.
        case typeError
    }

    static func property(_ item: LiquidValue, _ key: LiquidValue) throws -> Property {
        switch item {
        case .hash(let h):
            if let k = key.stringValue { return .value(h[k] ?? .nil) }
            return .value(.nil)
        case .drop(let d):
            let k: String
            switch key {
            case .nil: return .value(.nil)
            case .int(let i): k = String(i)
            default: k = LiquidValue.toS(key)
            }
            do { return .value(try d.liquidValue(forKey: k) ?? .nil) } catch { throw LiquidRenderError.wrapping(error) }
        case .array(let a):
            switch key {
            case .int(let i):
                let j = i < 0 ? i &+ a.count : i
                return .value(j >= 0 && j < a.count ? a[j] : .nil)
            case .float(let f):
                guard f.isFinite, let i = Int(exactly: f.rounded(.towardZero)) else { return .typeError }
                let j = i < 0 ? i &+ a.count : i
                return .value(j >= 0 && j < a.count ? a[j] : .nil)
            default: return .typeError
            }
        case .string(let s), .safe(let s):
            switch key {
            case .string(let k), .safe(let k):
                return .value(k.isEmpty || rubyIndex(of: k, in: s) != nil ? .string(k) : .nil)
            case .int(let i):
                let scalars = Array(s.unicodeScalars)
                let j = i < 0 ? i &+ scalars.count : i
                return .value(j >= 0 && j < scalars.count ? .string(String(scalars[j])) : .nil)
            default: return .typeError
            }
        case .int(let n):
            // Integer#[] reads a bit.
            guard case .int(let bit) = key else { return .typeError }
            if bit < 0 { return .value(.int(0)) }
            if bit >= 63 { return .value(.int(n < 0 ? 1 : 0)) }
            return .value(.int((n >> bit) & 1))
        default:
            return .noMethod
        }
    }

    static func propertyError(_ key: LiquidValue) -> LiquidRenderError {
        LiquidRenderError(.argument, "cannot select the property '\(LiquidValue.toS(key))'")
    }

    /// Stable merge sort with a throwing comparator that may be inconsistent (Ruby's `<=>` rules
    /// are): unlike the standard library's sort it can never trap, whatever the comparator says.
    static func mergeSort(_ items: [LiquidValue], _ compare: (LiquidValue, LiquidValue) throws -> Int) rethrows
        -> [LiquidValue]
    {
        if items.count < 2 { return items }
        var src = items
        var dst = items
        var width = 1
        let n = items.count
        while width < n {
            var lo = 0
            while lo < n {
                let mid = min(lo + width, n)
                let hi = min(lo + 2 * width, n)
                var i = lo
                var j = mid
                var k = lo
                while i < mid && j < hi {
                    if try compare(src[j], src[i]) < 0 {
                        dst[k] = src[j]
                        j += 1
                    } else {
                        dst[k] = src[i]
                        i += 1
                    }
                    k += 1
                }
                while i < mid {
                    dst[k] = src[i]
                    i += 1
                    k += 1
                }
                while j < hi {
                    dst[k] = src[j]
                    j += 1
                    k += 1
                }
                lo = hi
            }
            swap(&src, &dst)
            width *= 2
        }
        return src
    }
}

extension LiquidValue {
    var isCollectionLike: Bool {
        switch self {
        case .array, .hash, .range: return true
        default: return false
        }
    }
}
