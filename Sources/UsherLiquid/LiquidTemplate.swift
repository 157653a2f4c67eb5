/// A parsed Liquid template: parse once, render many times, from any number of tasks at once.
///
/// ```swift
/// let template = try LiquidTemplate.parse("Hi {{ user.name | escape }}!")
/// let html = try template.render(["user": ["name": "Ana"]])
/// ```
///
/// Immutable after parsing (`Sendable`): all render state lives in a ``LiquidRenderContext`` that
/// exists only for the duration of one ``render(_:environment:)`` call.
public final class LiquidTemplate: Sendable {
    /// The template's name when it was loaded as a partial or layout (used in error messages).
    public let name: String?
    /// The environment it was parsed with; used for rendering unless another is passed.
    public let environment: LiquidEnvironment
    /// Names of the tags the template uses (e.g. to check a page template contains `auth0:widget`).
    public let usedTags: Set<String>
    let root: LiquidBlockBody
    let lineIndex: LineIndex

    init(name: String?, environment: LiquidEnvironment, usedTags: Set<String>, root: LiquidBlockBody, lineIndex: LineIndex) {
        self.name = name
        self.environment = environment
        self.usedTags = usedTags
        self.root = root
        self.lineIndex = lineIndex
    }

    /// Parses `source`. Syntax errors carry the line and column of the offending token and a
    /// message meant for the template's author.
    public static func parse(
        _ source: String,
        environment: LiquidEnvironment = LiquidEnvironment(),
        name: String? = nil
    ) throws(LiquidSyntaxError) -> LiquidTemplate {
        let parser = Parser(source: source, environment: environment, templateName: name)
        let root = try parser.parseDocument()
        return LiquidTemplate(
            name: name, environment: environment, usedTags: parser.usedTags, root: root, lineIndex: parser.lineIndex)
    }

    /// Renders with `context`. Pass `environment` to override the parse environment's template
    /// source, clock, time zone, limits or flags for this render (tags and filters stay those the
    /// template was parsed with).
    ///
    /// Never traps: invalid input, host errors and exceeded limits all surface as ``LiquidRenderError``.
    public func render(_ context: LiquidContext = LiquidContext(), environment: LiquidEnvironment? = nil)
        throws(LiquidRenderError) -> String
    {
        let env = environment ?? self.environment
        var ctx = LiquidRenderContext(environment: env, context: context)
        ctx.templateName = name
        ctx.currentSource = lineIndex
        var output = ""
        output.reserveCapacity(min(lineIndex.bytes.count + lineIndex.bytes.count / 2 + 64, 1 << 16))
        do {
            try root.render(&ctx, into: &output)
        } catch let error as LiquidRenderError {
            throw error
        } catch {
            throw LiquidRenderError.wrapping(error)
        }
        return output
    }

    /// Renders with a dictionary of globals.
    public func render(_ globals: [String: LiquidValue], environment: LiquidEnvironment? = nil)
        throws(LiquidRenderError) -> String
    {
        try render(LiquidContext(globals), environment: environment)
    }
}
