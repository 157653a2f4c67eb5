/// The built-in tag set: Shopify Liquid's standard tags plus Auth0's `layout`/`block` and page tags.
enum StandardTags {
    static let all: [String: LiquidTag] = {
        var tags: [String: LiquidTag] = [:]
        for tag in [
            AssignTag.definition, CaptureTag.definition, EchoTag.definition,
            IfTag.ifDefinition, IfTag.unlessDefinition, CaseTag.definition,
            ForTag.definition, LoopControlTag.breakDefinition, LoopControlTag.continueDefinition,
            CycleTag.definition, CounterTag.incrementDefinition, CounterTag.decrementDefinition,
            TablerowTag.definition, IfchangedTag.definition,
            CommentTag.definition, RawTag.definition, DocTag.definition, InlineCommentTag.definition,
            IncludeTag.definition, RenderTag.definition,
            LayoutTag.definition, BlockTag.definition,
            LiquidTag.slot("auth0:head"), LiquidTag.slot("auth0:widget"),
        ] {
            tags[tag.name] = tag
        }
        return tags
    }()

    /// End tags of the standard blocks, for error messages about stray or mismatched end tags.
    static let openerForEndTag: [String: String] = [
        "endif": "if", "endunless": "unless", "endcase": "case", "endfor": "for", "endtablerow": "tablerow",
        "endcapture": "capture", "endcomment": "comment", "endraw": "raw", "enddoc": "doc",
        "endifchanged": "ifchanged", "endblock": "block",
    ]

    /// Tags that only make sense inside certain blocks.
    static let parentsOfIntermediate: [String: String] = [
        "else": "'if', 'unless', 'case' or 'for'",
        "elsif": "'if' or 'unless'",
        "when": "'case'",
    ]
}

/// A tag that renders nothing (comments and friends).
final class BlankNode: LiquidNode {
    var isBlank: Bool { true }
    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {}
    static let shared = BlankNode()
}

extension LiquidTagParser {
    /// Throws unless the markup is empty (tags such as `raw` and `doc` take no arguments).
    func requireNoMarkup(_ usage: String) throws(LiquidSyntaxError) {
        if !markupIsBlank {
            throw error("'\(tagName)' takes no arguments; use \(usage)")
        }
    }
}
