/// `{% comment %}…{% endcomment %}`: skipped without parsing tags inside, except that nested
/// `comment` blocks must balance and a nested `raw` is consumed whole (Liquid 5 behaviour).
enum CommentTag {
    static let definition = LiquidTag("comment") { p throws(LiquidSyntaxError) in
        let parser = p.parser
        var depth = 1
        while let token = parser.nextRawToken() {
            guard let name = parser.tagName(of: token) else { continue }
            switch name {
            case "raw": try RawTag.consumeBody(parser, openPosition: token.start)
            case "comment": depth += 1
            case "endcomment": depth -= 1
            default: break
            }
            if depth == 0 {
                if token.kind == .tag { parser.trimNextText = parser.bytes[token.end - 3] == UInt8(ascii: "-") }
                return BlankNode.shared
            }
        }
        throw p.error("'comment' tag was never closed; expected '{% endcomment %}'")
    }
}

/// `{% raw %}…{% endraw %}`: the body is output exactly as written.
final class RawTag: LiquidNode {
    let text: String

    init(text: String) {
        self.text = text
    }

    var isBlank: Bool { text.isEmpty }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        output.append(text)
    }

    /// Reads tokens up to `{% endraw %}` (found as Ruby does, even inside a token that starts
    /// earlier, e.g. `{{ {% endraw %}`) and returns the text before it.
    @discardableResult
    static func consumeBody(_ parser: Parser, openPosition: Int) throws(LiquidSyntaxError) -> String {
        var body = ""
        while let token = parser.nextRawToken() {
            if token.kind != .line, let last = parser.lastTagInToken(token), last.name == "endraw" {
                parser.trimNextText = last.rightTrim
                body += parser.text(token.start, last.prefixEnd)
                return body
            }
            body += parser.text(token.start, token.end)
        }
        throw parser.error("'raw' tag was never closed; expected '{% endraw %}'", at: openPosition)
    }

    static let definition = LiquidTag("raw") { p throws(LiquidSyntaxError) in
        try p.requireNoMarkup("{% raw %}…{% endraw %}")
        return RawTag(text: try consumeBody(p.parser, openPosition: p.position))
    }
}

/// `{% doc %}…{% enddoc %}`: documentation, not parsed and not rendered; cannot be nested.
enum DocTag {
    static let definition = LiquidTag("doc") { p throws(LiquidSyntaxError) in
        try p.requireNoMarkup("{% doc %}…{% enddoc %}")
        let parser = p.parser
        while let token = parser.nextRawToken() {
            guard token.kind != .line, let last = parser.lastTagInToken(token) else { continue }
            if last.name == "doc" {
                throw parser.error("'doc' tags cannot be nested", at: last.prefixEnd)
            }
            if last.name == "enddoc" {
                parser.trimNextText = last.rightTrim
                return BlankNode.shared
            }
        }
        throw p.error("'doc' tag was never closed; expected '{% enddoc %}'")
    }
}

/// `{% # comment %}`: an inline comment. Every line of a multi-line one must start with `#`.
enum InlineCommentTag {
    static let definition = LiquidTag("#") { p throws(LiquidSyntaxError) in
        let bytes = p.parser.bytes
        var i = p.markupStart
        while i < p.markupEnd {
            if bytes[i] == UInt8(ascii: "\n") {
                var j = i + 1
                while j < p.markupEnd, isRubySpaceByte(bytes[j]) { j += 1 }
                if j < p.markupEnd, bytes[j] != UInt8(ascii: "#") {
                    throw p.parser.error("every line of an inline comment must start with '#'", at: j)
                }
                i = j
                continue
            }
            i += 1
        }
        return BlankNode.shared
    }
}
