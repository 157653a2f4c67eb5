/// The arguments a filter received: `{{ x | f: 1, 2, key: 3 }}` → positional `[1, 2]`, keywords `[("key", 3)]`.
public struct LiquidFilterArguments {
    public let positional: [LiquidValue]
    public let keywords: [(name: String, value: LiquidValue)]

    public init(positional: [LiquidValue] = [], keywords: [(name: String, value: LiquidValue)] = []) {
        self.positional = positional
        self.keywords = keywords
    }

    /// How Ruby Liquid passes arguments to a filter method: keyword arguments become one trailing hash.
    var rubyArguments: [LiquidValue] {
        if keywords.isEmpty { return positional }
        return positional + [.hash(LiquidHash(keywords.map { ($0.name, $0.value) }))]
    }

    var rubyCount: Int { positional.count + (keywords.isEmpty ? 0 : 1) }

    /// Argument `i` in Ruby's calling convention, or `nil` if not given.
    @inline(__always)
    subscript(ruby i: Int) -> LiquidValue? {
        if i < positional.count { return positional[i] }
        if i == positional.count, !keywords.isEmpty {
            return .hash(LiquidHash(keywords.map { ($0.name, $0.value) }))
        }
        return nil
    }

    public func keyword(_ name: String) -> LiquidValue? {
        keywords.first { $0.name == name }?.value
    }
}

/// The body of a filter: input value, arguments, render context → output value.
public typealias LiquidFilterFunction =
    @Sendable (_ input: LiquidValue, _ arguments: LiquidFilterArguments, _ context: inout LiquidRenderContext) throws
    -> LiquidValue

/// A named filter. Register custom ones with ``LiquidEnvironment/register(filter:)``; a filter with
/// a standard name replaces the standard one.
public struct LiquidFilter: Sendable {
    public let name: String
    /// Allowed argument counts (keyword arguments count as one, as in Ruby), checked before the call;
    /// `nil` accepts anything.
    public let arity: ClosedRange<Int>?
    public let function: LiquidFilterFunction

    public init(_ name: String, arity: ClosedRange<Int>? = nil, _ function: @escaping LiquidFilterFunction) {
        self.name = name
        self.arity = arity
        self.function = function
    }
}

/// `| name: args` in an output, `assign` or `echo`, resolved to its function when parsed.
/// A class so that running a filter chain retains one reference per filter, not each field.
final class FilterCall: Sendable {
    let name: String
    /// `nil` when the filter is unknown at parse time (rendered as a pass-through, or an error with strict filters).
    let filter: LiquidFilter?
    let function: LiquidFilterFunction?
    let arity: ClosedRange<Int>?
    let positional: [Expr]
    let keywords: [(String, Expr)]
    let position: Int

    init(name: String, filter: LiquidFilter?, positional: [Expr], keywords: [(String, Expr)], position: Int) {
        self.name = name
        self.filter = filter
        self.function = filter?.function
        self.arity = filter?.arity
        self.positional = positional
        self.keywords = keywords
        self.position = position
    }

    func apply(_ input: LiquidValue, _ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        guard let function else {
            if ctx.environment.strictFilters {
                throw LiquidRenderError(.undefinedFilter, "unknown filter '\(name)'")
            }
            return input
        }
        var args: [LiquidValue] = []
        if !positional.isEmpty {
            args.reserveCapacity(positional.count)
            for e in positional { args.append(try e.evaluate(&ctx)) }
        }
        var kw: [(name: String, value: LiquidValue)] = []
        if !keywords.isEmpty {
            for (k, e) in keywords { kw.append((k, try e.evaluate(&ctx))) }
        }
        let arguments = LiquidFilterArguments(positional: args, keywords: kw)
        if let arity, !arity.contains(arguments.rubyCount) {
            throw LiquidRenderError(.argument, FilterCall.arityMessage(name, arity, arguments.rubyCount))
        }
        return try function(input, arguments, &ctx)
    }

    static func arityMessage(_ name: String, _ arity: ClosedRange<Int>, _ given: Int) -> String {
        let expected: String
        if arity.lowerBound == arity.upperBound {
            expected = arity.lowerBound == 0 ? "no arguments" : "\(arity.lowerBound) argument\(arity.lowerBound == 1 ? "" : "s")"
        } else if arity.upperBound == Int.max {
            expected = "at least \(arity.lowerBound) argument\(arity.lowerBound == 1 ? "" : "s")"
        } else {
            expected = "\(arity.lowerBound) to \(arity.upperBound) arguments"
        }
        return "filter '\(name)' takes \(expected) (\(given) given)"
    }
}
