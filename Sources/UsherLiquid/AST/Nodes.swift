/// A node of a parsed template that renders itself: every tag, built-in or custom, is one.
///
/// Nodes are immutable after parsing (hence `Sendable`); all render-time state lives in the
/// ``LiquidRenderContext`` passed in.
public protocol LiquidNode: AnyObject, Sendable {
    /// Appends this node's output to `output`.
    func render(_ context: inout LiquidRenderContext, into output: inout String) throws

    /// Whether the node can only produce whitespace (like `assign` or `comment`). A block whose
    /// contents are all blank drops its whitespace-only text, as Ruby Liquid does (so a loop of
    /// assigns does not spill newlines). Defaults to `false`.
    var isBlank: Bool { get }
}

extension LiquidNode {
    public var isBlank: Bool { false }
}

/// What a block body holds. Text and output are cases of their own because they are most of every
/// template and a switch on them is cheaper than a protocol call.
enum BodyNode: Sendable {
    case text(String)
    case output(OutputNode)
    case tag(any LiquidNode, position: Int)
}

/// The contents of a template or of a block tag.
public final class LiquidBlockBody: Sendable {
    let nodes: [BodyNode]
    /// Only whitespace text and blank tags.
    public let isBlank: Bool

    init(nodes: [BodyNode], isBlank: Bool) {
        self.nodes = nodes
        self.isBlank = isBlank
    }

    static let empty = LiquidBlockBody(nodes: [], isBlank: true)

    /// The same body without its text nodes (Ruby's `remove_blank_strings`, applied to blank blocks).
    func removingBlankStrings() -> LiquidBlockBody {
        LiquidBlockBody(nodes: nodes.filter { if case .text = $0 { return false } else { return true } }, isBlank: isBlank)
    }

    /// Renders the nodes in order. Stops early when `break`/`continue` is pending, which is how an
    /// interrupt inside nested blocks reaches its loop.
    public func render(_ ctx: inout LiquidRenderContext, into out: inout String) throws {
        for node in nodes {
            switch node {
            case .text(let s):
                out.append(s)
            case .output(let o):
                try o.render(&ctx, into: &out)
            case .tag(let t, let position):
                try ctx.tick()
                do {
                    try t.render(&ctx, into: &out)
                } catch let error as LiquidRenderError {
                    throw ctx.located(error, at: position)
                } catch {
                    throw ctx.located(LiquidRenderError.wrapping(error), at: position)
                }
                if case .none = ctx.interrupt {
                } else {
                    try ctx.checkOutput(out)
                    return
                }
            }
        }
        try ctx.checkOutput(out)
    }

    /// Renders inside a nested block, counting nesting depth against the stack-protecting limit.
    func renderNested(_ ctx: inout LiquidRenderContext, into out: inout String) throws {
        try ctx.enterNesting()
        defer { ctx.nesting -= 1 }
        try render(&ctx, into: &out)
    }
}

extension LiquidRenderContext {
    /// Adds the line (and template name) of the node that failed, unless an inner node already did.
    func located(_ error: LiquidRenderError, at position: Int) -> LiquidRenderError {
        guard error.line == nil else { return error }
        var e = error
        if let currentSource { e.line = currentSource.line(at: position) }
        e.templateName = templateName
        return e
    }
}

/// `{{ expression | filter: args … }}` (also the body of `echo`).
final class OutputNode: Sendable {
    let expression: Expr
    let filters: [FilterCall]
    let position: Int

    init(expression: Expr, filters: [FilterCall], position: Int) {
        self.expression = expression
        self.filters = filters
        self.position = position
    }

    @inline(__always)
    func evaluate(_ ctx: inout LiquidRenderContext) throws -> LiquidValue {
        var value = try expression.evaluate(&ctx)
        for f in filters { value = try f.apply(value, &ctx) }
        return value
    }

    func render(_ ctx: inout LiquidRenderContext, into out: inout String) throws {
        let value: LiquidValue
        do {
            value = try evaluate(&ctx)
        } catch let error as LiquidRenderError {
            throw ctx.located(error, at: position)
        } catch {
            throw ctx.located(LiquidRenderError.wrapping(error), at: position)
        }
        OutputNode.write(value, autoEscape: ctx.environment.autoEscape, into: &out)
        if out.utf8.count > ctx.limits.maxOutputBytes { try ctx.checkOutput(out) }
    }

    /// Writes a value as `{{ }}` does; with auto-escape on, everything but `.safe` is HTML-escaped.
    @inline(__always)
    static func write(_ value: LiquidValue, autoEscape: Bool, into out: inout String) {
        switch value {
        case .string(let s):
            if autoEscape { HTMLFilters.appendEscaped(s, to: &out) } else { out.append(s) }
        case .safe(let s):
            out.append(s)
        case .int(let i):
            out.append(String(i))
        case .nil:
            return
        default:
            if autoEscape {
                HTMLFilters.appendEscaped(LiquidValue.renderString(value), to: &out)
            } else {
                LiquidValue.appendRendered(value, to: &out)
            }
        }
    }
}
