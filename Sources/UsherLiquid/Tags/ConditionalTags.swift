/// `{% if %}` / `{% unless %}` with `elsif` and `else`.
///
/// As in Ruby Liquid, `else` takes no condition (anything after it is ignored) and branches after
/// the first `else` are parsed but can never render.
final class IfTag: LiquidNode {
    struct Branch: Sendable {
        let condition: Condition?
        let body: LiquidBlockBody
    }

    let branches: [Branch]
    let negateFirst: Bool
    let isBlank: Bool

    init(branches: [Branch], negateFirst: Bool, isBlank: Bool) {
        self.branches = branches
        self.negateFirst = negateFirst
        self.isBlank = isBlank
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        for (i, branch) in branches.enumerated() {
            guard let condition = branch.condition else {
                return try branch.body.renderNested(&context, into: &output)
            }
            var truthy = try condition.evaluate(&context).isTruthy
            if i == 0 && negateFirst { truthy.toggle() }
            if truthy { return try branch.body.renderNested(&context, into: &output) }
        }
    }

    static func make(_ name: String, endTag: String, negateFirst: Bool) -> LiquidTag {
        LiquidTag(name) { p throws(LiquidSyntaxError) in
            var m = try p.markupParser()
            var condition: Condition? = try m.parseCondition()
            var collected: [(Condition?, Parser.BodyBuilder)] = []
            while true {
                let (body, terminator) = try p.parser.parseBlock(
                    opener: name, endTag: endTag, delimiters: ["elsif", "else"], openPosition: p.position)
                collected.append((condition, body))
                switch terminator.name {
                case endTag:
                    let blank = collected.allSatisfy { $0.1.blank }
                    let branches = collected.map { c, b -> Branch in
                        let built = b.build()
                        return Branch(condition: c, body: blank ? built.removingBlankStrings() : built)
                    }
                    return IfTag(branches: branches, negateFirst: negateFirst, isBlank: blank)
                case "elsif":
                    var cm = try MarkupParser(parser: p.parser, start: terminator.markupStart, end: terminator.markupEnd)
                    condition = try cm.parseCondition()
                default:
                    // Ruby ignores anything after `else`; rigid syntax does not.
                    if p.environment.rigidSyntax, terminator.markupStart < terminator.markupEnd,
                        !p.parser.text(terminator.markupStart, terminator.markupEnd).trimmingRubySpace.isEmpty
                    {
                        throw p.parser.error("'else' takes no condition (use 'elsif')", at: terminator.position)
                    }
                    condition = nil
                }
            }
        }
    }

    static let ifDefinition = make("if", endTag: "endif", negateFirst: false)
    static let unlessDefinition = make("unless", endTag: "endunless", negateFirst: true)
}

/// `{% case x %}{% when a, b or c %}…{% else %}…{% endcase %}`.
///
/// Ruby semantics, including the odd parts: every matching `when` renders (not just the first),
/// and an `else` renders if no `when` before it matched, wherever it appears.
final class CaseTag: LiquidNode {
    struct Branch: Sendable {
        /// `nil` for `else`.
        let value: Expr?
        let body: LiquidBlockBody
    }

    let subject: Expr
    let branches: [Branch]
    let isBlank: Bool

    init(subject: Expr, branches: [Branch], isBlank: Bool) {
        self.subject = subject
        self.branches = branches
        self.isBlank = isBlank
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        let left = try subject.evaluate(&context)
        var executeElse = true
        for branch in branches {
            if let value = branch.value {
                if Condition.equalVariables(left, try value.evaluate(&context)) {
                    executeElse = false
                    try branch.body.renderNested(&context, into: &output)
                }
            } else if executeElse {
                try branch.body.renderNested(&context, into: &output)
            }
            if case .none = context.interrupt {} else { return }
        }
    }

    static let definition = LiquidTag("case") { p throws(LiquidSyntaxError) in
        var m = try p.markupParser()
        if m.atEnd { throw p.error("case needs a value: {% case variable %}") }
        // Ruby reads the first fragment and ignores the rest.
        let (subject, _) = try m.parseExpression()
        if p.environment.rigidSyntax { try m.expectEnd("case") }
        // Whatever sits between `case` and the first `when` is parsed but never rendered.
        var (leading, terminator) = try p.parser.parseBlock(
            opener: "case", endTag: "endcase", delimiters: ["when", "else"], openPosition: p.position)
        var blank = leading.blank
        var pending: [(values: [Expr]?, body: Parser.BodyBuilder)] = []
        while terminator.name != "endcase" {
            var values: [Expr]?
            if terminator.name == "when" {
                var wm = try MarkupParser(parser: p.parser, start: terminator.markupStart, end: terminator.markupEnd)
                if wm.atEnd { throw p.parser.error("'when' needs a value to compare with", at: terminator.position) }
                var list: [Expr] = []
                repeat {
                    list.append(try wm.parseExpression().0)
                } while wm.consumeIf(.comma) != nil || wm.keyword("or")
                // Ruby's `when` syntax stops at the first thing that is not `or` or `,`.
                if p.environment.rigidSyntax { try wm.expectEnd("when (separate values with ',' or 'or')") }
                values = list
            }
            let (body, next) = try p.parser.parseBlock(
                opener: "case", endTag: "endcase", delimiters: ["when", "else"], openPosition: p.position)
            blank = blank && body.blank
            pending.append((values, body))
            terminator = next
        }
        leading = Parser.BodyBuilder()
        var branches: [Branch] = []
        for (values, builder) in pending {
            let built = blank ? builder.build().removingBlankStrings() : builder.build()
            if let values {
                for v in values { branches.append(Branch(value: v, body: built)) }
            } else {
                branches.append(Branch(value: nil, body: built))
            }
        }
        return CaseTag(subject: subject, branches: branches, isBlank: blank)
    }
}

/// `{% ifchanged %}…{% endifchanged %}`: renders the body only when its output differs from the last time.
final class IfchangedTag: LiquidNode {
    let body: LiquidBlockBody

    init(body: LiquidBlockBody) {
        self.body = body
    }

    var isBlank: Bool { body.isBlank }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        var rendered = ""
        try body.renderNested(&context, into: &rendered)
        if context.ifchangedLast != rendered {
            context.ifchangedLast = rendered
            output.append(rendered)
        }
    }

    static let definition = LiquidTag("ifchanged") { p throws(LiquidSyntaxError) in
        let (body, _) = try p.parser.parseBlock(
            opener: "ifchanged", endTag: "endifchanged", delimiters: [], openPosition: p.position)
        return IfchangedTag(body: body.build())
    }
}
