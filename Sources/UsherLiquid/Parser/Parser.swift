/// Turns a template into a tree of nodes. One instance per parse; not shared.
///
/// Follows Shopify Liquid 5's `BlockBody#parse`: tokens are read in order; a registered tag parses
/// itself (block tags parse their bodies recursively through ``parseBlock``); an unregistered tag
/// name ends the current body and is handed to the enclosing block, which either accepts it
/// (`endif`, `else`, `when` …) or reports it. Whitespace control (`{%-`, `-%}`, `{{-`, `-}}`) is
/// applied while parsing, and blocks that contain only whitespace and blank tags drop their text,
/// both exactly as Ruby Liquid does.
final class Parser {
    let bytes: [UInt8]
    let environment: LiquidEnvironment
    let templateName: String?
    let lineIndex: LineIndex
    private var tokenizer: TemplateTokenizer
    private var lineSources: [LiquidLineTokenizer] = []
    /// Ruby's `parse_context.trim_whitespace`: the next text token loses its leading whitespace.
    var trimNextText = false
    private var depth = 0
    private(set) var usedTags: Set<String> = []
    /// Open blocks, innermost last (for error messages).
    private var openBlocks: [(name: String, endTag: String, position: Int)] = []

    init(source: String, environment: LiquidEnvironment, templateName: String?) {
        self.bytes = Array(source.utf8)
        self.environment = environment
        self.templateName = templateName
        self.lineIndex = LineIndex(bytes: bytes)
        self.tokenizer = TemplateTokenizer(bytes: bytes)
    }

    var inLiquidTag: Bool { !lineSources.isEmpty }
    var nestingDepth: Int { depth }

    // MARK: - Entry point

    func parseDocument() throws(LiquidSyntaxError) -> LiquidBlockBody {
        if bytes.count > environment.limits.maxTemplateBytes {
            throw LiquidSyntaxError(
                line: 1, column: 1,
                message: "template is \(bytes.count) bytes; the limit is \(environment.limits.maxTemplateBytes)",
                templateName: templateName)
        }
        var body = BodyBuilder()
        if let stray = try parseBody(&body) {
            throw strayTagError(stray)
        }
        return body.build()
    }

    // MARK: - Tokens

    func nextToken() -> RawToken? {
        if !lineSources.isEmpty {
            return lineSources[lineSources.count - 1].next()
        }
        return tokenizer.next()
    }

    func text(_ start: Int, _ end: Int) -> String {
        guard start < end else { return "" }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    // MARK: - Errors

    func error(_ message: String, at offset: Int) -> LiquidSyntaxError {
        let loc = lineIndex.location(at: offset)
        return LiquidSyntaxError(line: loc.line, column: loc.column, message: message, templateName: templateName)
    }

    /// An end or intermediate tag that no open block accepts.
    func strayTagError(_ t: Terminator) -> LiquidSyntaxError {
        if t.isInvalidLine {
            return error("'\(t.name)' is not a tag (inside 'liquid', every line must start with a tag name)", at: t.position)
        }
        if let opener = StandardTags.openerForEndTag[t.name] {
            return error("unexpected '\(t.name)': there is no open '\(opener)' block", at: t.position)
        }
        if let parents = StandardTags.parentsOfIntermediate[t.name] {
            return error("unexpected '\(t.name)' outside of \(parents)", at: t.position)
        }
        return unknownTagError(t.name, at: t.position, preferred: [])
    }

    func unknownTagError(_ name: String, at position: Int, preferred: [String]) -> LiquidSyntaxError {
        var candidates = preferred
        candidates += openBlocks.reversed().map(\.endTag)
        candidates += environment.tags.keys.sorted()
        candidates += StandardTags.openerForEndTag.keys.sorted()
        return error("unknown tag '\(name)'" + Suggestions.hint(for: name, in: candidates), at: position)
    }

    // MARK: - Bodies

    /// A tag name that ended a body because no tag is registered under it (`endif`, `else`, a typo…).
    struct Terminator {
        let name: String
        let markupStart: Int
        let markupEnd: Int
        /// Offset of the tag name.
        let position: Int
        /// A line inside `{% liquid %}` that does not start with a tag name.
        var isInvalidLine = false
    }

    struct BodyBuilder {
        var nodes: [BodyNode] = []
        var blank = true

        func build() -> LiquidBlockBody {
            LiquidBlockBody(nodes: nodes, isBlank: blank)
        }
    }

    /// Parses nodes into `body` until an unregistered tag (returned) or the end of input (`nil`).
    func parseBody(_ body: inout BodyBuilder) throws(LiquidSyntaxError) -> Terminator? {
        while let token = nextToken() {
            switch token.kind {
            case .text:
                var start = token.start
                if trimNextText {
                    while start < token.end, isRubyStripByte(bytes[start]) { start += 1 }
                }
                trimNextText = false
                guard start < token.end else { continue }
                var whitespaceOnly = true
                for i in start..<token.end where !isRubySpaceByte(bytes[i]) {
                    whitespaceOnly = false
                    break
                }
                if !whitespaceOnly { body.blank = false }
                body.nodes.append(.text(text(start, token.end)))
            case .output:
                let node = try parseOutputToken(token, &body)
                body.nodes.append(.output(node))
                body.blank = false
            case .tag:
                let parsed = try splitTagToken(token)
                applyWhitespaceControl(leftTrim: parsed.leftTrim, rightTrim: parsed.rightTrim, &body)
                if parsed.name == "liquid" {
                    try parseLiquidTag(start: parsed.markupStart, end: parsed.markupEnd, into: &body)
                    continue
                }
                if let terminator = try dispatchTag(parsed, &body) { return terminator }
            case .line:
                guard let parsed = splitLine(token) else { continue }
                if parsed.isInvalidLine {
                    return Terminator(
                        name: text(token.start, token.end).trimmingRubySpace, markupStart: token.start,
                        markupEnd: token.end, position: parsed.position, isInvalidLine: true)
                }
                if parsed.name == "liquid" {
                    try parseLiquidTag(start: parsed.markupStart, end: parsed.markupEnd, into: &body)
                    continue
                }
                if let terminator = try dispatchTag(parsed, &body) { return terminator }
            }
        }
        return nil
    }

    private func dispatchTag(_ parsed: TagToken, _ body: inout BodyBuilder) throws(LiquidSyntaxError) -> Terminator? {
        guard let definition = environment.tags[parsed.name] else {
            return Terminator(
                name: parsed.name, markupStart: parsed.markupStart, markupEnd: parsed.markupEnd,
                position: parsed.position)
        }
        usedTags.insert(parsed.name)
        var tagParser = LiquidTagParser(
            parser: self, tagName: parsed.name, markupStart: parsed.markupStart, markupEnd: parsed.markupEnd,
            position: parsed.position)
        let node = try definition.parse(&tagParser)
        body.nodes.append(.tag(node, position: parsed.position))
        body.blank = body.blank && node.isBlank
        return nil
    }

    /// `{% liquid … %}`: each line is a tag; the nodes join the surrounding body. Tags inside it
    /// cannot close blocks opened outside it.
    func parseLiquidTag(start: Int, end: Int, into body: inout BodyBuilder) throws(LiquidSyntaxError) {
        usedTags.insert("liquid")
        // `liquid liquid liquid …` nests one level per word: bound it like block nesting.
        depth += 1
        defer { depth -= 1 }
        if depth > environment.limits.maxParseDepth {
            throw error("'liquid' tags are nested more than \(environment.limits.maxParseDepth) levels deep", at: start)
        }
        lineSources.append(LiquidLineTokenizer(bytes: bytes, start: start, end: end))
        defer { lineSources.removeLast() }
        if let stray = try parseBody(&body) {
            if stray.isInvalidLine { throw strayTagError(stray) }
            if StandardTags.openerForEndTag[stray.name] != nil || StandardTags.parentsOfIntermediate[stray.name] != nil {
                throw error(
                    "'\(stray.name)' inside a liquid tag cannot close a block opened outside it", at: stray.position)
            }
            throw unknownTagError(stray.name, at: stray.position, preferred: [])
        }
    }

    /// Ruby's `whitespace_handler`: `{%-`/`{{-` strip trailing whitespace of the preceding text in
    /// this body; `-%}`/`-}}` strip leading whitespace of the next text token.
    private func applyWhitespaceControl(leftTrim: Bool, rightTrim: Bool, _ body: inout BodyBuilder) {
        if inLiquidTag { return }
        if leftTrim, let last = body.nodes.last, case .text(let s) = last {
            let stripped = rubyRstrip(s)
            if stripped.isEmpty {
                body.nodes.removeLast()
            } else {
                body.nodes[body.nodes.count - 1] = .text(stripped)
            }
        }
        trimNextText = rightTrim
    }

    /// Parses the body of a block tag up to one of `delimiters` (its end tag, `else`, …).
    /// Throws if input ends first or another end tag appears.
    func parseBlock(
        opener: String, endTag: String, delimiters: Set<String>, openPosition: Int
    ) throws(LiquidSyntaxError) -> (body: BodyBuilder, terminator: Terminator) {
        depth += 1
        defer { depth -= 1 }
        if depth > environment.limits.maxParseDepth {
            throw error("blocks are nested more than \(environment.limits.maxParseDepth) levels deep", at: openPosition)
        }
        openBlocks.append((opener, endTag, openPosition))
        defer { openBlocks.removeLast() }
        var body = BodyBuilder()
        guard let terminator = try parseBody(&body) else {
            throw error("'\(opener)' tag was never closed; expected '{% \(endTag) %}'", at: openPosition)
        }
        if terminator.name == endTag || delimiters.contains(terminator.name) {
            return (body, terminator)
        }
        throw misplacedTagError(terminator, opener: opener, endTag: endTag, delimiters: delimiters)
    }

    func misplacedTagError(
        _ t: Terminator, opener: String, endTag: String, delimiters: Set<String>
    ) -> LiquidSyntaxError {
        if t.isInvalidLine { return strayTagError(t) }
        let openerLine = openBlocks.last.map { lineIndex.line(at: $0.position) }
        let openedAt = openerLine.map { " (opened on line \($0))" } ?? ""
        if StandardTags.openerForEndTag[t.name] != nil {
            return error(
                "'\(t.name)' does not close '\(opener)'\(openedAt); expected '{% \(endTag) %}'"
                    + Suggestions.hint(for: t.name, in: [endTag]),
                at: t.position)
        }
        if StandardTags.parentsOfIntermediate[t.name] != nil {
            return error("'\(t.name)' is not allowed inside '\(opener)'\(openedAt)", at: t.position)
        }
        return unknownTagError(t.name, at: t.position, preferred: [endTag] + delimiters.sorted())
    }

    // MARK: - Token anatomy

    struct TagToken {
        let name: String
        let markupStart: Int
        let markupEnd: Int
        let position: Int
        var leftTrim = false
        var rightTrim = false
        var isInvalidLine = false
    }

    /// Ruby's `FullToken`: `{%-? \s* (#|\w+) \s* markup -?%}`. Tags may also be namespaced
    /// (`auth0:head`) when a tag of that full name is registered.
    func splitTagToken(_ token: RawToken) throws(LiquidSyntaxError) -> TagToken {
        let s = token.start
        let e = token.end
        guard e - s >= 4, bytes[e - 2] == UInt8(ascii: "%"), bytes[e - 1] == UInt8(ascii: "}") else {
            throw error("tag '{%' was never closed with '%}'", at: s)
        }
        var i = s + 2
        let leftTrim = bytes[i] == UInt8(ascii: "-")
        if leftTrim { i += 1 }
        while i < e - 2, isRubySpaceByte(bytes[i]) { i += 1 }
        let nameStart = i
        if i < e - 2, bytes[i] == UInt8(ascii: "#") {
            i += 1
        } else {
            while i < e - 2, ExpressionLexer.isWordByte(bytes[i]) { i += 1 }
        }
        guard i > nameStart else {
            let shown = text(s, min(e, s + 40))
            throw error("tag '\(shown)' has no tag name", at: s)
        }
        var name = text(nameStart, i)
        // Namespaced extension tags: `{% auth0:head %}`.
        if i + 1 < e - 2, bytes[i] == UInt8(ascii: ":"), ExpressionLexer.isWordByte(bytes[i + 1]) {
            var j = i + 1
            while j < e - 2, ExpressionLexer.isWordByte(bytes[j]) || bytes[j] == UInt8(ascii: "-") { j += 1 }
            let candidate = name + ":" + text(i + 1, j)
            if environment.tags[candidate] != nil {
                name = candidate
                i = j
            }
        }
        while i < e - 2, isRubySpaceByte(bytes[i]) { i += 1 }
        let rightTrim = bytes[e - 3] == UInt8(ascii: "-")
        var markupEnd = e - 2
        if rightTrim && markupEnd - 1 >= i { markupEnd -= 1 }
        return TagToken(
            name: name, markupStart: i, markupEnd: max(i, markupEnd), position: nameStart,
            leftTrim: leftTrim, rightTrim: rightTrim)
    }

    /// Ruby's `LiquidTagToken`: `\s*(#|\w+)\s*(.*?)` on one line. `nil` for blank lines.
    private func splitLine(_ token: RawToken) -> TagToken? {
        var i = token.start
        let e = token.end
        while i < e, isRubySpaceByte(bytes[i]) { i += 1 }
        guard i < e else { return nil }
        let nameStart = i
        if bytes[i] == UInt8(ascii: "#") {
            i += 1
        } else {
            while i < e, ExpressionLexer.isWordByte(bytes[i]) { i += 1 }
        }
        guard i > nameStart else {
            return TagToken(name: "", markupStart: i, markupEnd: e, position: nameStart, isInvalidLine: true)
        }
        let name = text(nameStart, i)
        while i < e, isRubySpaceByte(bytes[i]) { i += 1 }
        return TagToken(name: name, markupStart: i, markupEnd: e, position: nameStart)
    }

    /// `{{ markup }}`.
    private func parseOutputToken(_ token: RawToken, _ body: inout BodyBuilder) throws(LiquidSyntaxError) -> OutputNode {
        let s = token.start
        let e = token.end
        guard e - s >= 4, bytes[e - 1] == UInt8(ascii: "}"), bytes[e - 2] == UInt8(ascii: "}") else {
            let shown = text(s, min(e, s + 40))
            throw error("output '\(shown)' was never closed with '}}'", at: s)
        }
        let leftTrim = bytes[s + 2] == UInt8(ascii: "-")
        let rightTrim = bytes[e - 3] == UInt8(ascii: "-")
        applyWhitespaceControl(leftTrim: leftTrim, rightTrim: rightTrim, &body)
        let markupStart = s + 2 + (leftTrim ? 1 : 0)
        var markupEnd = e - 2
        if rightTrim && markupEnd - 1 >= markupStart { markupEnd -= 1 }
        var markup = try MarkupParser(parser: self, start: markupStart, end: max(markupStart, markupEnd))
        let (expr, filters) = try markup.parseFilteredExpression()
        return OutputNode(expression: expr ?? .literal(.nil), filters: filters, position: s)
    }

    // MARK: - Raw token access for raw/comment/doc

    /// The next raw token (for tags that consume their body without parsing it).
    func nextRawToken() -> RawToken? { nextToken() }

    /// Ruby's `FullTokenPossiblyInvalid`: for a token ending in `%}`, the name of the last tag
    /// opened in it and the text before that tag. Used by `raw` and `doc` to find their end tag.
    func lastTagInToken(_ token: RawToken) -> (name: String, prefixEnd: Int, rightTrim: Bool)? {
        let s = token.start
        let e = token.end
        guard e - s >= 4, bytes[e - 2] == UInt8(ascii: "%"), bytes[e - 1] == UInt8(ascii: "}") else { return nil }
        var p = e - 4
        while p >= s {
            if bytes[p] == UInt8(ascii: "{"), bytes[p + 1] == UInt8(ascii: "%") {
                var i = p + 2
                if i < e - 2, bytes[i] == UInt8(ascii: "-") { i += 1 }
                while i < e - 2, isRubySpaceByte(bytes[i]) { i += 1 }
                let nameStart = i
                while i < e - 2, ExpressionLexer.isWordByte(bytes[i]) { i += 1 }
                if i > nameStart {
                    return (text(nameStart, i), p, bytes[e - 3] == UInt8(ascii: "-"))
                }
            }
            p -= 1
        }
        return nil
    }

    /// The tag name of a `{% … %}` token or a liquid line (Ruby's `FullToken` / `LiquidTagToken`).
    func tagName(of token: RawToken) -> String? {
        switch token.kind {
        case .tag:
            return try? splitTagToken(token).name
        case .line:
            guard let parsed = splitLine(token), !parsed.isInvalidLine else { return nil }
            return parsed.name
        default: return nil
        }
    }
}

extension String {
    var trimmingRubySpace: String { rubyStrip(self) }
}
