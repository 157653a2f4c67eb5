/// A tag definition: a name and a function that parses one occurrence into a node.
///
/// Register custom tags with ``LiquidEnvironment/register(tag:)``. The built-in tags are defined the
/// same way, so a custom tag can do anything they do: read its markup as expressions, parse a body
/// up to an end tag, and render with full access to variables.
///
/// ```swift
/// env.register(tag: LiquidTag("shout") { parser in
///     let expression = try parser.parseFilteredExpression()
///     let (body, _) = try parser.parseBody(endTag: "endshout")
///     return ShoutNode(expression, body)
/// })
/// ```
public struct LiquidTag: Sendable {
    public let name: String
    public let parse: @Sendable (inout LiquidTagParser) throws(LiquidSyntaxError) -> any LiquidNode

    public init(
        _ name: String,
        parse: @escaping @Sendable (inout LiquidTagParser) throws(LiquidSyntaxError) -> any LiquidNode
    ) {
        self.name = name
        self.parse = parse
    }
}

/// What a tag's parse function gets: its markup, its position, and the means to parse expressions
/// and a body.
public struct LiquidTagParser {
    let parser: Parser
    public let tagName: String
    let markupStart: Int
    let markupEnd: Int
    /// Byte offset of the tag name in the template.
    let position: Int

    init(parser: Parser, tagName: String, markupStart: Int, markupEnd: Int, position: Int) {
        self.parser = parser
        self.tagName = tagName
        self.markupStart = markupStart
        self.markupEnd = markupEnd
        self.position = position
    }

    /// The text after the tag name, without whitespace control markers.
    public var markup: String { parser.text(markupStart, markupEnd) }

    /// 1-based line of the tag.
    public var line: Int { parser.lineIndex.line(at: position) }

    /// The environment the template is parsed with.
    public var environment: LiquidEnvironment { parser.environment }

    /// Whether the tag appears inside `{% liquid %}` (its body is then made of lines, not tokens).
    public var isInLiquidTag: Bool { parser.inLiquidTag }

    /// A syntax error located at this tag.
    public func error(_ message: String) -> LiquidSyntaxError {
        parser.error(message, at: position)
    }

    /// Parses the whole markup as `expression | filter: args …` (what `{{ }}` and `echo` accept).
    public func parseFilteredExpression() throws(LiquidSyntaxError) -> LiquidExpression {
        var m = try markupParser()
        let (expr, filters) = try m.parseFilteredExpression()
        return LiquidExpression(output: OutputNode(expression: expr ?? .literal(.nil), filters: filters, position: position))
    }

    /// Parses the body up to `endTag` (or one of `delimiters`, e.g. `else`), returning the body and
    /// the name of the tag that ended it.
    public func parseBody(endTag: String, delimiters: Set<String> = []) throws(LiquidSyntaxError) -> (
        body: LiquidBlockBody, terminator: String
    ) {
        let (body, t) = try parser.parseBlock(
            opener: tagName, endTag: endTag, delimiters: delimiters, openPosition: position)
        return (body.build(), t.name)
    }

    func markupParser() throws(LiquidSyntaxError) -> MarkupParser {
        try MarkupParser(parser: parser, start: markupStart, end: markupEnd)
    }

    var markupIsBlank: Bool {
        for i in markupStart..<max(markupStart, markupEnd) where !isRubySpaceByte(parser.bytes[i]) { return false }
        return true
    }
}

/// A parsed expression with filters, for custom tags: evaluate it while rendering.
public struct LiquidExpression: Sendable {
    let output: OutputNode

    public func evaluate(_ context: inout LiquidRenderContext) throws -> LiquidValue {
        try output.evaluate(&context)
    }
}
