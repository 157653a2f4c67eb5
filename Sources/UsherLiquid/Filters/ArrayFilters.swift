/// Array filters. Like Ruby Liquid they accept any input through `InputIterator` (nested arrays
/// flattened, a hash is one item, a scalar is a one-item list) and read properties with Ruby's `[]`.
enum ArrayFilters {
    typealias S = FilterSupport

    static let all: [LiquidFilter] = [
        LiquidFilter("join", arity: 0...1) { input, a, ctx in
            let glue = a[ruby: 0].map { S.str($0) } ?? " "
            let items = try S.items(input, &ctx)
            var out = ""
            var first = true
            var total = 0
            for item in items {
                if !first { out.append(glue) }
                first = false
                let text = S.str(item)
                total &+= text.utf8.count &+ glue.utf8.count
                if total > 1 << 16 {
                    try ctx.chargeAllocation(total)
                    total = 0
                }
                out.append(text)
            }
            return .string(out)
        },
        LiquidFilter("first", arity: 0...0) { input, _, _ in
            switch input {
            case .array(let items): return items.first ?? .nil
            case .hash(let h): return h.isEmpty ? .nil : .array([.string(h.keys[0]), h.values[0]])
            case .range(let lo, _): return .int(lo)
            default: return .nil
            }
        },
        LiquidFilter("last", arity: 0...0) { input, _, _ in
            switch input {
            case .array(let items): return items.last ?? .nil
            case .range(_, let hi): return .int(hi)
            default: return .nil
            }
        },
        LiquidFilter("concat", arity: 1...1) { input, a, ctx in
            guard case .array(let other) = S.arg(a, 0) else {
                throw LiquidRenderError(.argument, "concat requires an array argument")
            }
            let items = try S.items(input, &ctx)
            try ctx.checkCollectionSize(items.count + other.count)
            try ctx.chargeAllocation((items.count + other.count) &* 16)
            return .array(items + other)
        },
        LiquidFilter("reverse", arity: 0...0) { input, _, ctx in .array(try S.items(input, &ctx).reversed()) },
        LiquidFilter("compact", arity: 0...1) { input, a, ctx in
            let items = try S.items(input, &ctx)
            guard let key = a[ruby: 0], !key.isNil else { return .array(items.filter { !$0.isNil }) }
            var out: [LiquidValue] = []
            for item in items {
                switch try S.property(item, key) {
                case .value(let v): if !v.isNil { out.append(item) }
                case .noMethod: if !item.isNil { out.append(item) }
                case .typeError: throw S.propertyError(key)
                }
            }
            return .array(out)
        },
        LiquidFilter("map", arity: 1...1) { input, a, ctx in
            let key = S.arg(a, 0)
            let items = try S.items(input, &ctx)
            var out: [LiquidValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                switch try S.property(item, key) {
                case .value(let v): out.append(v)
                case .noMethod: out.append(.nil)
                case .typeError: throw S.propertyError(key)
                }
            }
            return .array(out)
        },
        LiquidFilter("sort", arity: 0...1) { input, a, ctx in
            let items = try S.items(input, &ctx)
            if items.isEmpty { return .array([]) }
            guard let key = a[ruby: 0], !key.isNil else {
                return .array(try S.mergeSort(items, nilSafeCompare))
            }
            guard let keyed = try propertiesForSort(items, key) else { return .nil }
            return .array(try sortByKeys(items, keyed, nilSafeCompare))
        },
        LiquidFilter("sort_natural", arity: 0...1) { input, a, ctx in
            let items = try S.items(input, &ctx)
            if items.isEmpty { return .array([]) }
            guard let key = a[ruby: 0], !key.isNil else {
                return .array(S.mergeSort(items, nilSafeCasecmp))
            }
            guard let keyed = try propertiesForSort(items, key) else { return .nil }
            return .array(try sortByKeys(items, keyed, nilSafeCasecmp))
        },
        LiquidFilter("uniq", arity: 0...1) { input, a, ctx in
            let items = try S.items(input, &ctx)
            guard let key = a[ruby: 0], !key.isNil else { return .array(uniq(items, keys: items)) }
            if items.isEmpty { return .array([]) }
            var keys: [LiquidValue] = []
            for item in items {
                switch try S.property(item, key) {
                case .value(let v): keys.append(v)
                case .noMethod:
                    guard case .int = key else { return .nil }
                    throw S.propertyError(key)
                case .typeError: throw S.propertyError(key)
                }
            }
            return .array(uniq(items, keys: keys))
        },
        LiquidFilter("where", arity: 1...2) { input, a, ctx in
            try filterArray(input, a, &ctx, empty: .array([])) { items, matches in
                .array(zip(items, matches).filter { $0.1 }.map(\.0))
            }
        },
        LiquidFilter("reject", arity: 1...2) { input, a, ctx in
            if S.arg(a, 0).isNil { return .array([]) }
            return try filterArray(input, a, &ctx, empty: .array([])) { items, matches in
                .array(zip(items, matches).filter { !$0.1 }.map(\.0))
            }
        },
        LiquidFilter("has", arity: 1...2) { input, a, ctx in
            try filterArray(input, a, &ctx, empty: .bool(false), stopAtFirst: true) { _, matches in
                .bool(matches.contains(true))
            }
        },
        LiquidFilter("find", arity: 1...2) { input, a, ctx in
            try filterArray(input, a, &ctx, empty: .nil, stopAtFirst: true) { items, matches in
                matches.firstIndex(of: true).map { items[$0] } ?? .nil
            }
        },
        LiquidFilter("find_index", arity: 1...2) { input, a, ctx in
            try filterArray(input, a, &ctx, empty: .nil, stopAtFirst: true) { _, matches in
                matches.firstIndex(of: true).map { .int($0) } ?? .nil
            }
        },
        LiquidFilter("sum", arity: 0...1) { input, a, ctx in
            let items = try S.items(input, &ctx)
            let key = a[ruby: 0] ?? .nil
            var values: [LiquidValue] = []
            values.reserveCapacity(items.count)
            for item in items {
                if key.isNil {
                    values.append(item)
                    continue
                }
                switch try S.property(item, key) {
                case .value(let v): values.append(v)
                case .noMethod: values.append(.int(0))
                case .typeError: throw S.propertyError(key)
                }
            }
            var total: RubyNumber = .int(0)
            for v in try S.items(.array(values), &ctx) {
                total = try MathFilters.apply(total, v.rubyNumber, .add)
            }
            return total.asValue
        },
    ]

    /// Ruby Liquid's `nil_safe_compare` for `sort`: `<=>`, nils last, incomparable values an error.
    static func nilSafeCompare(_ a: LiquidValue, _ b: LiquidValue) throws -> Int {
        if let c = rubySpaceship(a, b) { return c }
        if a.isNil { return 1 }
        if b.isNil { return -1 }
        throw LiquidRenderError(
            .argument, "cannot sort values of incompatible types (\(a.rubyClassName) and \(b.rubyClassName))")
    }

    /// Ruby Liquid's `nil_safe_casecmp` for `sort_natural`: ASCII case-insensitive on `to_s`, nils last.
    static func nilSafeCasecmp(_ a: LiquidValue, _ b: LiquidValue) -> Int {
        if !a.isNil && !b.isNil { return asciiCasecmp(LiquidValue.toS(a), LiquidValue.toS(b)) }
        return a.isNil ? 1 : -1
    }

    static func asciiCasecmp(_ a: String, _ b: String) -> Int { rubyStringCompare(a, b, foldingASCIICase: true) }

    /// `item[key]` for every item, or `nil` when some item has no `[]` (Ruby returns nil then).
    /// With fewer than two items Ruby never calls the comparison block, so `[]` is never called.
    static func propertiesForSort(_ items: [LiquidValue], _ key: LiquidValue) throws -> [LiquidValue]? {
        for item in items {
            if case .noMethod = try FilterSupport.property(item, .nil) { return nil }
        }
        if items.count < 2 { return items }
        var keys: [LiquidValue] = []
        keys.reserveCapacity(items.count)
        for item in items {
            switch try FilterSupport.property(item, key) {
            case .value(let v): keys.append(v)
            case .noMethod: return nil
            case .typeError: throw FilterSupport.propertyError(key)
            }
        }
        return keys
    }

    static func sortByKeys(
        _ items: [LiquidValue], _ keys: [LiquidValue], _ compare: (LiquidValue, LiquidValue) throws -> Int
    ) throws -> [LiquidValue] {
        let indices = (0..<items.count).map { LiquidValue.int($0) }
        let sorted = try FilterSupport.mergeSort(indices) { x, y in
            guard case .int(let i) = x, case .int(let j) = y else { return 0 }
            return try compare(keys[i], keys[j])
        }
        return sorted.map { v in
            if case .int(let i) = v { return items[i] }
            return .nil
        }
    }

    /// Keeps the first item for each distinct key (Ruby `uniq` uses `eql?`, so 1 and 1.0 differ).
    static func uniq(_ items: [LiquidValue], keys: [LiquidValue]) -> [LiquidValue] {
        var seen: [LiquidValue] = []
        var out: [LiquidValue] = []
        var seenStrings = Set<String>()
        for (item, key) in zip(items, keys) {
            if case .string(let s) = key {
                if seenStrings.insert(s).inserted { out.append(item) }
                continue
            }
            if seen.contains(where: { liquidStrictEquals($0, key) }) { continue }
            seen.append(key)
            out.append(item)
        }
        return out
    }

    /// Ruby Liquid's `filter_array` behind where/reject/has/find/find_index: an item matches when
    /// `item[property]` is truthy (no target) or equals the target. An item without `[]` makes the
    /// whole filter return nil; a key `[]` rejects is an error.
    static func filterArray(
        _ input: LiquidValue, _ a: LiquidFilterArguments, _ ctx: inout LiquidRenderContext, empty: LiquidValue,
        stopAtFirst: Bool = false, _ finish: ([LiquidValue], [Bool]) -> LiquidValue
    ) throws -> LiquidValue {
        let key = FilterSupport.arg(a, 0)
        let target = FilterSupport.arg(a, 1)
        let items = try FilterSupport.items(input, &ctx)
        if items.isEmpty { return empty }
        var matches: [Bool] = []
        matches.reserveCapacity(items.count)
        for item in items {
            let value: LiquidValue
            switch try FilterSupport.property(item, key) {
            case .value(let v): value = v
            case .noMethod: return .nil
            case .typeError:
                // `"x"[nil]`: Ruby raises; golden-liquid (Liquid 5.12) treats an undefined property as no match.
                if key.isNil { return .nil }
                throw FilterSupport.propertyError(key)
            }
            let matched = target.isNil ? value.isTruthy : liquidEquals(value, target)
            matches.append(matched)
            if stopAtFirst && matched { break }
        }
        return finish(Array(items.prefix(matches.count)), matches)
    }
}
