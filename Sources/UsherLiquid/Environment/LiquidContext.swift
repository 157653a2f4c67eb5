/// The data one render sees: global variables, an optional lazy fallback, and page slots.
///
/// Globals are visible everywhere, including inside partials rendered with `render` (which
/// otherwise start from a clean scope, as in Shopify Liquid). Usher puts `user`, `application`,
/// `tenant`, … here, typically as drops so that unused data is never computed.
public struct LiquidContext: Sendable {
    /// Variables by name.
    public var globals: [String: LiquidValue]
    /// Consulted for names missing from `globals`, e.g. a drop that resolves anything lazily.
    public var fallback: (any LiquidDrop)?
    /// Trusted HTML for page tags, keyed by tag name: `{%- auth0:head -%}` writes `slots["auth0:head"]`,
    /// `{%- auth0:widget -%}` writes `slots["auth0:widget"]`. Host-registered slot tags use their own names.
    public var slots: [String: String]

    /// No variables.
    public init() {
        self.init([String: LiquidValue]())
    }

    public init(
        _ globals: [String: LiquidValue],
        fallback: (any LiquidDrop)? = nil,
        slots: [String: String] = [:]
    ) {
        self.globals = globals
        self.fallback = fallback
        self.slots = slots
    }

    /// Uses the keys of a hash value as globals (keeps nothing if `value` is not a hash).
    public init(hash value: LiquidValue, slots: [String: String] = [:]) {
        var globals: [String: LiquidValue] = [:]
        if case .hash(let h) = value {
            globals.reserveCapacity(h.count)
            for i in 0..<h.count { globals[h.keys[i]] = h.values[i] }
        }
        self.init(globals, slots: slots)
    }
}

extension LiquidContext: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, LiquidValue)...) {
        var globals: [String: LiquidValue] = [:]
        for (k, v) in elements { globals[k] = v }
        self.init(globals)
    }
}
