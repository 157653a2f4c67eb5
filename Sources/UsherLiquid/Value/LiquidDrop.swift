import Synchronization

/// A host object exposed to templates whose properties are resolved only when a template reads them.
///
/// Usher exposes `user`, `application`, `tenant`, … as drops so that an email template that never
/// mentions `user.app_metadata` never pays for loading or converting it. Drops are classes because
/// a drop's identity is what `==` compares (as in Ruby Liquid) and because that keeps ``LiquidValue``
/// small. Rendering is synchronous, so a drop answers from data it already has or can compute.
public protocol LiquidDrop: AnyObject, Sendable {
    /// The value of property `key`, or `nil` when the drop has no such property (renders as nothing,
    /// or is an error with strict variables). Throwing aborts the render with a ``LiquidRenderError``.
    func liquidValue(forKey key: String) throws -> LiquidValue?

    /// What `{{ drop }}` renders. Defaults to the empty string.
    var liquidDescription: String { get }

    /// A concrete value (usually a hash or an array) used when the drop is iterated with `for`,
    /// passed to collection filters (`map`, `where`, `size`, `json`…) or compared. Defaults to `nil`,
    /// which makes the drop opaque: it iterates as nothing and has no size.
    func liquidMaterialized() throws -> LiquidValue?
}

extension LiquidDrop {
    public var liquidDescription: String { "" }
    public func liquidMaterialized() throws -> LiquidValue? { nil }
}

/// A drop backed by a closure, for hosts that already have a lookup function.
public final class LiquidDynamicDrop: LiquidDrop {
    private let resolve: @Sendable (String) throws -> LiquidValue?
    private let description: String

    public init(description: String = "", _ resolve: @escaping @Sendable (String) throws -> LiquidValue?) {
        self.resolve = resolve
        self.description = description
    }

    public func liquidValue(forKey key: String) throws -> LiquidValue? { try resolve(key) }
    public var liquidDescription: String { description }
}

/// A drop whose properties are computed lazily, at most once each, and then cached.
///
/// Safe to share between concurrent renders: the cache is guarded by a mutex, and a property's
/// closure may run twice only if two renders ask for it at the same moment (both results are equal).
public final class LiquidLazyDrop: LiquidDrop {
    private let resolvers: [String: @Sendable () throws -> LiquidValue]
    private let cache = Mutex<[String: LiquidValue]>([:])
    private let order: [String]

    /// - Parameter properties: property name → closure producing its value. Order is kept for iteration.
    public init(_ properties: KeyValuePairs<String, @Sendable () throws -> LiquidValue>) {
        var resolvers: [String: @Sendable () throws -> LiquidValue] = [:]
        var order: [String] = []
        for (k, v) in properties where resolvers[k] == nil {
            resolvers[k] = v
            order.append(k)
        }
        self.resolvers = resolvers
        self.order = order
    }

    public func liquidValue(forKey key: String) throws -> LiquidValue? {
        if let cached = cache.withLock({ $0[key] }) { return cached }
        guard let resolver = resolvers[key] else { return nil }
        let value = try resolver()
        cache.withLock { $0[key] = value }
        return value
    }

    /// Iterating or serialising the drop resolves every property.
    public func liquidMaterialized() throws -> LiquidValue? {
        var pairs: [(String, LiquidValue)] = []
        for key in order {
            pairs.append((key, try liquidValue(forKey: key) ?? .nil))
        }
        return .hash(LiquidHash(pairs))
    }
}

/// `forloop` inside `for` and `render … for`. One object per loop, mutated as the loop advances
/// (Ruby Liquid does the same), so a loop allocates nothing per iteration.
final class ForloopDrop: LiquidDrop, @unchecked Sendable {
    // Confined to one render; never shared across threads.
    let name: String
    let length: Int
    var index0 = 0
    let parent: ForloopDrop?

    init(name: String, length: Int, parent: ForloopDrop?) {
        self.name = name
        self.length = length
        self.parent = parent
    }

    func liquidValue(forKey key: String) -> LiquidValue? {
        // Dispatch on length first: this runs for every `forloop.*` in every iteration.
        switch key.utf8.count {
        case 4:
            if key == "last" { return .bool(index0 == length - 1) }
            if key == "name" { return .string(name) }
        case 5:
            if key == "index" { return .int(index0 + 1) }
            if key == "first" { return .bool(index0 == 0) }
        case 6:
            if key == "index0" { return .int(index0) }
            if key == "rindex" { return .int(length - index0) }
            if key == "length" { return .int(length) }
        case 7:
            if key == "rindex0" { return .int(length - index0 - 1) }
        case 10:
            if key == "parentloop" { return parent.map { .drop($0) } ?? .nil }
        default: break
        }
        return nil
    }

    var liquidDescription: String { "ForloopDrop" }
}

/// `tablerowloop` inside `tablerow`: forloop's counters plus the row/column position.
final class TablerowloopDrop: LiquidDrop, @unchecked Sendable {
    // Confined to one render; never shared across threads.
    let length: Int
    let cols: Int
    var index0 = 0
    var row = 1
    var col = 1

    init(length: Int, cols: Int) {
        self.length = length
        self.cols = cols
    }

    func advance() {
        index0 += 1
        if col == cols {
            col = 1
            row += 1
        } else {
            col += 1
        }
    }

    var colLast: Bool { col == cols }
    var isLast: Bool { index0 == length - 1 }

    func liquidValue(forKey key: String) -> LiquidValue? {
        switch key {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "rindex": return .int(length - index0)
        case "rindex0": return .int(length - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(isLast)
        case "length": return .int(length)
        case "col": return .int(col)
        case "col0": return .int(col - 1)
        case "col_first": return .bool(col == 1)
        case "col_last": return .bool(colLast)
        case "row": return .int(row)
        default: return nil
        }
    }

    var liquidDescription: String { "TablerowloopDrop" }
}
