/// `default`, `date`, and Usher's `json`, `safe`/`raw`.
enum MiscFilters {
    typealias S = FilterSupport

    static let all: [LiquidFilter] = [
        // default(input, default_value = '', options = {}): replaces nil, false and empty
        // strings/collections; `allow_false: true` keeps `false`.
        LiquidFilter("default", arity: 0...2) { input, a, _ in
            let fallback = a.positional.first ?? .string("")
            let allowFalse = a.keyword("allow_false")?.isTruthy ?? false
            let missing = allowFalse ? input.isNil : !input.isTruthy
            if missing || isEmptyForDefault(input) { return fallback }
            return input
        },
        LiquidFilter("date", arity: 1...1) { input, a, ctx in try RubyTime.dateFilter(input, S.arg(a, 0), &ctx) },
        // json: the value as JSON (Auth0/LiquidJS `json`); an optional integer argument indents.
        LiquidFilter("json", arity: 0...1) { input, a, ctx in
            let indent = try a[ruby: 0].map { try $0.rubyToInteger() } ?? 0
            var out = ""
            try LiquidJSON.write(input, to: &out, indent: max(0, min(indent, 16)), depth: 0)
            try ctx.chargeAllocation(out.utf8.count)
            return .string(out)
        },
        // safe / raw: mark a value as trusted HTML so auto-escape mode does not escape it.
        LiquidFilter("safe", arity: 0...0) { input, _, _ in .safe(LiquidValue.renderString(input)) },
        LiquidFilter("raw", arity: 0...0) { input, _, _ in .safe(LiquidValue.renderString(input)) },
    ]

    /// `input.respond_to?(:empty?) && input.empty?`.
    private static func isEmptyForDefault(_ v: LiquidValue) -> Bool {
        switch v {
        case .string(let s), .safe(let s): return s.isEmpty
        case .array(let a): return a.isEmpty
        case .hash(let h): return h.isEmpty
        default: return false
        }
    }
}
