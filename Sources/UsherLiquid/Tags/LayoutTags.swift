/// `{% layout 'name' [, key: value]* %}` — Auth0's (LiquidJS's) layout tag.
///
/// Semantics (see README "layout"):
/// 1. The tag takes the rest of the template as the child content; it must be used at the top
///    level (not inside a block or a `liquid` tag).
/// 2. The child is rendered first. Each `{% block name %}…{% endblock %}` in it is captured under
///    its name instead of being output; everything outside blocks becomes the anonymous block.
/// 3. The layout template (loaded from the template source) is then rendered in the same scope,
///    with the keyword arguments bound as variables. In it, `{% block name %}default{% endblock %}`
///    outputs the child's block of that name if there is one, else its own default content;
///    `{% block %}` (no name) outputs the child's content outside blocks.
/// 4. `{% layout none %}` renders the child as if there were no layout.
/// When layouts are nested, the innermost child's blocks win.
final class LayoutTag: LiquidNode {
    let layoutName: Expr?
    let keywords: [(String, Expr)]
    let child: LiquidBlockBody

    init(layoutName: Expr?, keywords: [(String, Expr)], child: LiquidBlockBody) {
        self.layoutName = layoutName
        self.keywords = keywords
        self.child = child
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        guard let layoutName else {
            try child.renderNested(&context, into: &output)
            return
        }
        let nameValue = try layoutName.evaluate(&context)
        guard let name = nameValue.stringValue else {
            throw LiquidRenderError(.argument, "layout needs a template name, got \(LiquidValue.inspect(nameValue))")
        }
        let layout = try context.loadPartial(name, tag: "layout")

        let savedCollecting = context.collectingLayoutBlocks
        if context.layoutBlocks == nil { context.layoutBlocks = [:] }
        context.collectingLayoutBlocks = true
        var childOutput = ""
        try child.renderNested(&context, into: &childOutput)
        context.collectingLayoutBlocks = savedCollecting
        if context.layoutBlocks?[""] == nil { context.layoutBlocks?[""] = childOutput }

        try context.enterPartial()
        let mark = context.pushScope()
        defer {
            context.popScope(mark)
            context.partialDepth -= 1
        }
        for (key, expr) in keywords { context.bind(key, try expr.evaluate(&context)) }
        try context.renderPartialBody(layout, into: &output)
    }

    static let definition = LiquidTag("layout") { p throws(LiquidSyntaxError) in
        if p.parser.nestingDepth > 0 || p.parser.inLiquidTag {
            throw p.error("layout must be used at the top level of a template, not inside a block")
        }
        var m = try p.markupParser()
        if m.atEnd { throw p.error("layout needs a template name: {% layout 'name' %} or {% layout none %}") }
        var name: Expr?
        if m.keyword("none") {
            name = nil
        } else {
            name = try m.parseExpression().0
        }
        let keywords = try m.parseKeywordArguments("layout")
        var body = Parser.BodyBuilder()
        if let stray = try p.parser.parseBody(&body) { throw p.parser.strayTagError(stray) }
        return LayoutTag(layoutName: name, keywords: keywords, child: body.build())
    }
}

/// `{% block name %}default{% endblock %}`: a named region for `layout` (see ``LayoutTag``).
/// Outside layouts it renders its content.
final class BlockTag: LiquidNode {
    let name: String
    let body: LiquidBlockBody

    init(name: String, body: LiquidBlockBody) {
        self.name = name
        self.body = body
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        if context.collectingLayoutBlocks {
            // Rendering a child of a layout: capture (the innermost child's version wins).
            if context.layoutBlocks?[name] == nil {
                var captured = ""
                try body.renderNested(&context, into: &captured)
                context.layoutBlocks?[name] = captured
            }
            return
        }
        if let stored = context.layoutBlocks?[name] {
            output.append(stored)
        } else {
            try body.renderNested(&context, into: &output)
        }
    }

    static let definition = LiquidTag("block") { p throws(LiquidSyntaxError) in
        var m = try p.markupParser()
        var name = ""
        if !m.atEnd {
            let t = m.advance()
            guard t.kind == .identifier || t.kind == .string else {
                throw p.error("block needs a plain name: {% block content %}")
            }
            name = m.text(t)
            try m.expectEnd("block")
        }
        let (body, _) = try p.parser.parseBlock(
            opener: "block", endTag: "endblock", delimiters: [], openPosition: p.position)
        return BlockTag(name: name, body: body.build())
    }
}

/// A tag that writes host-provided HTML from ``LiquidContext/slots`` (Auth0's `auth0:head`,
/// `auth0:widget`). Written as is, never escaped: the host produced it. Renders nothing when the
/// host gave no content for it; use ``LiquidTemplate/usedTags`` to require the tag in a template.
final class SlotTag: LiquidNode {
    let name: String

    init(name: String) {
        self.name = name
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        if let html = context.slot(name) { output.append(html) }
    }
}

extension LiquidTag {
    /// A page-slot tag such as `auth0:head`: `{%- name -%}` outputs `LiquidContext.slots[name]`.
    public static func slot(_ name: String) -> LiquidTag {
        LiquidTag(name) { p throws(LiquidSyntaxError) in
            try p.requireNoMarkup("{% \(name) %}")
            return SlotTag(name: name)
        }
    }
}
