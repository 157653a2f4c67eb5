/// Resource limits that keep a hostile or careless template from taking the server down.
///
/// Every limit is checked while parsing or rendering; hitting one stops the work with a
/// ``LiquidRenderError`` of kind `.limitExceeded` (or a ``LiquidSyntaxError`` at parse time) instead
/// of exhausting memory, CPU or the stack. Defaults suit emails and hosted pages (Auth0 caps page
/// templates at 100 KB); raise them per environment when a template legitimately needs more.
public struct LiquidLimits: Sendable, Equatable {
    /// Which limit was hit.
    public enum Limit: String, Sendable, Equatable {
        case templateSize
        case parseDepth
        case outputSize
        case loopIterations
        case partialDepth
        case renderNesting
        case renderTime
        case collectionSize
        case allocatedBytes
    }

    /// Largest template source accepted by the parser, in UTF-8 bytes.
    public var maxTemplateBytes: Int = 1 << 20
    /// Deepest nesting of blocks (`if` in `for` in …) and of brackets in one expression, at parse time.
    /// Keeps the recursive parser and renderer far from the end of the stack.
    public var maxParseDepth: Int = 64
    /// Largest output of one render (and of any single `capture`), in UTF-8 bytes.
    public var maxOutputBytes: Int = 4 << 20
    /// Total `for`/`tablerow`/`render … for` iterations in one render, across all loops.
    public var maxLoopIterations: Int = 1_000_000
    /// Deepest chain of `include`/`render`/`layout` (a partial that includes itself stops here).
    public var maxPartialDepth: Int = 16
    /// Deepest nesting of blocks at render time, counted across partials (protects the stack).
    public var maxRenderNesting: Int = 256
    /// Wall-clock budget for one render.
    public var maxRenderTime: Duration = .seconds(2)
    /// Largest array a filter may build (e.g. from a range such as `(1..999999999) | join`).
    public var maxCollectionSize: Int = 100_000
    /// Total bytes of strings built by filters and captures during one render (bounds memory
    /// growth from things like `assign s = s | append: s` in a loop).
    public var maxAllocatedBytes: Int = 64 << 20

    public init() {}

    /// No practical limits; for trusted templates in tests and benchmarks only.
    public static var unlimited: LiquidLimits {
        var l = LiquidLimits()
        l.maxTemplateBytes = .max
        l.maxOutputBytes = .max
        l.maxLoopIterations = .max
        l.maxPartialDepth = 64
        l.maxRenderTime = .seconds(3600)
        l.maxCollectionSize = .max
        l.maxAllocatedBytes = .max
        return l
    }
}
