import Foundation
import Synchronization

/// Everything a template is parsed and rendered against: tags, filters, where partials come from,
/// the clock and time zone for `date`, resource limits and mode flags.
///
/// A value type: derive variants cheaply (`var env = base; env.timeZone = tenantZone`). Tags and
/// filters are resolved when a template is parsed; the rest is read when it is rendered, so one
/// parsed template can be rendered under different time zones, clocks or template sources.
public struct LiquidEnvironment: Sendable {
    /// Registered tags by name (standard tags plus Auth0's `layout`, `block`, `auth0:head`, `auth0:widget`).
    public private(set) var tags: [String: LiquidTag]
    /// Registered filters by name.
    public private(set) var filters: [String: LiquidFilter]

    /// Where `include`, `render` and `layout` load templates from. `nil`: those tags fail at render time.
    public var templateSource: (any LiquidTemplateSource)?
    /// Optional cache of parsed partials shared by renders (keyed by name and source text).
    public var partialCache: LiquidPartialCache?
    public var limits: LiquidLimits
    /// Undefined variables and missing properties are render errors instead of rendering as nothing.
    public var strictVariables: Bool
    /// Unknown filters are parse errors (with a suggestion) instead of passing their input through.
    public var strictFilters: Bool
    /// Reject markup that Shopify Liquid's default parser silently ignores: anything after the
    /// values of `when` other than `,`/`or` separated values, anything after the `case` subject, and
    /// arguments to `else`. Matches Shopify's newer "strict2" parse mode; useful when checking templates.
    public var rigidSyntax: Bool
    /// Hosted-page mode: `{{ }}` output is HTML-escaped unless the value is marked safe (see
    /// ``LiquidValue/safe(_:)`` and the `safe`/`raw` filters). Off by default, as in Liquid, where
    /// escaping is explicit with `| escape`.
    public var autoEscape: Bool
    /// Time zone for `date`: how timestamps are shown and how zone-less date strings are read.
    public var timeZone: TimeZone
    /// The clock behind `'now'` and `'today'` in `date`. Injected so tests and previews are deterministic.
    public var now: @Sendable () -> Date

    /// The standard environment: all standard tags and filters, Auth0 page tags, UTC, the system clock.
    public init() {
        tags = StandardTags.all
        filters = StandardFilters.all
        templateSource = nil
        partialCache = nil
        limits = LiquidLimits()
        strictVariables = false
        strictFilters = false
        rigidSyntax = false
        autoEscape = false
        timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current
        now = { Date() }
    }

    /// Adds or replaces a tag.
    public mutating func register(tag: LiquidTag) {
        tags[tag.name] = tag
    }

    /// Adds or replaces a filter.
    public mutating func register(filter: LiquidFilter) {
        filters[filter.name] = filter
    }

    /// Removes a tag or filter (e.g. to forbid `include` in some context).
    public mutating func unregister(tag name: String) { tags[name] = nil }
    public mutating func unregister(filter name: String) { filters[name] = nil }

    /// Parses `source` with this environment's tags and filters.
    public func parse(_ source: String, name: String? = nil) throws(LiquidSyntaxError) -> LiquidTemplate {
        try LiquidTemplate.parse(source, environment: self, name: name)
    }
}

/// A thread-safe cache of parsed partials, for hosts that render the same partials often.
/// Entries are keyed by name and exact source text, so a changed partial is parsed again.
/// Share one cache only among environments with the same tags and filters.
public final class LiquidPartialCache: Sendable {
    private let storage = Mutex<[String: (source: String, template: LiquidTemplate)]>([:])
    private let capacity: Int

    public init(capacity: Int = 512) {
        self.capacity = capacity
    }

    func template(named name: String, source: String) -> LiquidTemplate? {
        storage.withLock { entries in
            guard let e = entries[name], e.source == source else { return nil }
            return e.template
        }
    }

    func store(_ template: LiquidTemplate, named name: String, source: String) {
        storage.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[name] = (source, template)
        }
    }

    public func removeAll() {
        storage.withLock { $0.removeAll() }
    }
}
