/// `{% assign name = expression | filters %}`: sets a variable in the outermost scope.
final class AssignTag: LiquidNode {
    let name: String
    let value: OutputNode

    init(name: String, value: OutputNode) {
        self.name = name
        self.value = value
    }

    var isBlank: Bool { true }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        context.assign(name, try value.evaluate(&context))
    }

    static let definition = LiquidTag("assign") { p throws(LiquidSyntaxError) in
        let bytes = p.parser.bytes
        var i = p.markupStart
        let e = p.markupEnd
        while i < e, isRubySpaceByte(bytes[i]) { i += 1 }
        let nameStart = i
        while i < e, isVariableSignatureByte(bytes[i]) { i += 1 }
        guard i > nameStart else {
            throw p.error("assign needs a variable name: {% assign name = value %}")
        }
        let name = p.parser.text(nameStart, i)
        while i < e, isRubySpaceByte(bytes[i]) { i += 1 }
        guard i < e, bytes[i] == UInt8(ascii: "=") else {
            let found = i < e ? MarkupParser.characterDescription(bytes, i) : "nothing"
            throw p.parser.error("expected '=' after '\(name)' in assign but found \(found)", at: i)
        }
        var m = try MarkupParser(parser: p.parser, start: i + 1, end: e)
        let (expr, filters) = try m.parseFilteredExpression()
        guard let expr else { throw p.parser.error("assign needs a value after '='", at: i) }
        return AssignTag(name: name, value: OutputNode(expression: expr, filters: filters, position: p.position))
    }
}

/// Ruby's `VariableSignature` characters: `[\w\-.\[\]]`.
@inline(__always)
func isVariableSignatureByte(_ b: UInt8) -> Bool {
    ExpressionLexer.isWordByte(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
        || b == UInt8(ascii: "[") || b == UInt8(ascii: "]")
}

/// `{% capture name %}…{% endcapture %}`: renders the body into a variable.
final class CaptureTag: LiquidNode {
    let name: String
    let body: LiquidBlockBody

    init(name: String, body: LiquidBlockBody) {
        self.name = name
        self.body = body
    }

    var isBlank: Bool { true }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        var captured = ""
        try body.renderNested(&context, into: &captured)
        try context.chargeAllocation(captured.utf8.count)
        // In auto-escape mode the captured text is rendered template output, already escaped.
        context.assign(name, context.environment.autoEscape ? .safe(captured) : .string(captured))
    }

    static let definition = LiquidTag("capture") { p throws(LiquidSyntaxError) in
        // Ruby: the first run of variable-signature characters anywhere in the markup.
        let bytes = p.parser.bytes
        var i = p.markupStart
        while i < p.markupEnd, !isVariableSignatureByte(bytes[i]) { i += 1 }
        let start = i
        while i < p.markupEnd, isVariableSignatureByte(bytes[i]) { i += 1 }
        guard i > start else { throw p.error("capture needs a variable name: {% capture name %}…{% endcapture %}") }
        let name = p.parser.text(start, i)
        let (body, _) = try p.parser.parseBlock(
            opener: "capture", endTag: "endcapture", delimiters: [], openPosition: p.position)
        return CaptureTag(name: name, body: body.build())
    }
}

/// `{% echo expression | filters %}`: `{{ }}` as a tag (useful inside `{% liquid %}`).
final class EchoTag: LiquidNode {
    let output: OutputNode

    init(output: OutputNode) {
        self.output = output
    }

    func render(_ context: inout LiquidRenderContext, into out: inout String) throws {
        try output.render(&context, into: &out)
    }

    static let definition = LiquidTag("echo") { p throws(LiquidSyntaxError) in
        var m = try p.markupParser()
        let (expr, filters) = try m.parseFilteredExpression()
        return EchoTag(output: OutputNode(expression: expr ?? .literal(.nil), filters: filters, position: p.position))
    }
}

/// `{% increment name %}` / `{% decrement name %}`: counters separate from assigned variables.
final class CounterTag: LiquidNode {
    let name: String
    let step: Int

    init(name: String, step: Int) {
        self.name = name
        self.step = step
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        // Ruby keeps counters in the first environment (the render's data), so a counter starts
        // from a numeric global of the same name.
        let current: Int
        if let c = context.counters[name] {
            current = c
        } else if case .int(let i)? = context.globals[name] {
            current = i
        } else {
            current = 0
        }
        let (next, overflow) = current.addingReportingOverflow(step)
        let stored = overflow ? current : next
        context.counters[name] = stored
        output.append(String(step > 0 ? current : stored))
    }

    static func make(_ name: String, step: Int) -> LiquidTag {
        LiquidTag(name) { p throws(LiquidSyntaxError) in
            let variable = p.markup.trimmingRubySpace
            guard !variable.isEmpty else { throw p.error("\(name) needs a counter name: {% \(name) counter %}") }
            return CounterTag(name: variable, step: step)
        }
    }

    static let incrementDefinition = make("increment", step: 1)
    static let decrementDefinition = make("decrement", step: -1)
}

/// `{% cycle 'a', 'b' %}` and `{% cycle name: 'a', 'b' %}`.
final class CycleTag: LiquidNode {
    enum Key: Sendable {
        case fixed(String)
        case named(Expr)
        /// Unnamed with variables among the values: Ruby's key then includes object ids, i.e. one per tag.
        case perTag
    }

    let key: Key
    let values: [Expr]

    init(key: Key, values: [Expr]) {
        self.key = key
        self.values = values
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        let registerKey: String
        switch key {
        case .fixed(let k): registerKey = k
        case .named(let e): registerKey = "named:" + LiquidValue.inspect(try e.evaluate(&context))
        case .perTag: registerKey = "tag:\(ObjectIdentifier(self))"
        }
        var iteration = context.cycles[registerKey] ?? 0
        let value = iteration >= 0 && iteration < values.count ? try values[iteration].evaluate(&context) : .nil
        let text: LiquidValue
        switch value {
        case .array(let items): text = .string(items.map { LiquidValue.rubyJoinString($0) }.joined())
        case .string, .safe: text = value
        default: text = .string(LiquidValue.toS(value))
        }
        OutputNode.write(text, autoEscape: context.environment.autoEscape, into: &output)
        iteration += 1
        if iteration >= values.count { iteration = 0 }
        context.cycles[registerKey] = iteration
    }

    static let definition = LiquidTag("cycle") { p throws(LiquidSyntaxError) in
        var m = try p.markupParser()
        if m.atEnd { throw p.error("cycle needs values: {% cycle 'odd', 'even' %}") }
        let (first, firstText) = try m.parseExpression()
        var values: [(Expr, String)] = []
        var named: Expr?
        if m.consumeIf(.colon) != nil {
            named = first
            values.append(try m.parseExpression())
        } else {
            values.append((first, firstText))
        }
        while m.consumeIf(.comma) != nil {
            if m.atEnd { break }
            values.append(try m.parseExpression())
        }
        try m.expectEnd("cycle")
        let exprs = values.map(\.0)
        if let named { return CycleTag(key: .named(named), values: exprs) }
        let allLiteral = exprs.allSatisfy { if case .literal = $0 { return true } else { return false } }
        if allLiteral {
            // Ruby keys unnamed cycles by the printed list of their values: `["1", "2"]`.
            let printed = exprs.map { e -> String in
                if case .literal(let v) = e { return LiquidValue.inspect(v) }
                return ""
            }
            return CycleTag(key: .fixed("[" + printed.joined(separator: ", ") + "]"), values: exprs)
        }
        return CycleTag(key: .perTag, values: exprs)
    }
}

extension LiquidValue {
    /// Ruby `Array#join` element text: nested arrays joined recursively, everything else `to_s`.
    static func rubyJoinString(_ v: LiquidValue, depth: Int = 0) -> String {
        if case .array(let items) = v, depth < maxNestingForDisplay {
            return items.map { rubyJoinString($0, depth: depth + 1) }.joined()
        }
        return toS(v)
    }
}
