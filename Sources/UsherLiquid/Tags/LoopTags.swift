/// The items a loop visits, produced without copying ranges (a range loop is O(1) in memory).
enum LoopItems {
    case values([LiquidValue])
    case range(start: Int, count: Int, step: Int)

    var count: Int {
        switch self {
        case .values(let v): return v.count
        case .range(_, let count, _): return count
        }
    }

    @inline(__always)
    func item(_ i: Int) -> LiquidValue {
        switch self {
        case .values(let v): return v[i]
        case .range(let start, _, let step): return .int(start &+ i &* step)
        }
    }

    var reversed: LoopItems {
        switch self {
        case .values(let v): return .values(v.reversed())
        case .range(let start, let count, let step):
            guard count > 0 else { return self }
            return .range(start: start &+ (count - 1) &* step, count: count, step: -step)
        }
    }

    /// Ruby Liquid's `Utils.slice_collection`: items with `from <= index < to` of whatever the value
    /// iterates as (arrays, hash pairs, ranges; a non-empty string is one item; anything else nothing).
    static func slice(_ collection: LiquidValue, from: Int, to: Int?) throws -> LoopItems {
        switch collection {
        case .array(let a):
            let (lo, hi) = bounds(count: a.count, from: from, to: to)
            return lo == 0 && hi == a.count ? .values(a) : .values(Array(a[lo..<hi]))
        case .hash(let h):
            let (lo, hi) = bounds(count: h.count, from: from, to: to)
            var pairs: [LiquidValue] = []
            pairs.reserveCapacity(hi - lo)
            for i in lo..<hi { pairs.append(.array([.string(h.keys[i]), h.values[i]])) }
            return .values(pairs)
        case .range(let a, let b):
            let total = rangeCount(a, b)
            let (lo, hi) = bounds(count: total, from: from, to: to)
            return .range(start: a &+ lo, count: hi - lo, step: 1)
        case .string(let s), .safe(let s):
            return s.isEmpty ? .values([]) : .values([collection])
        case .drop(let d):
            guard let m = try VariableLookup.materialize(d) else { return .values([]) }
            if case .drop = m { return .values([]) }
            return try slice(m, from: from, to: to)
        default:
            return .values([])
        }
    }

    private static func bounds(count: Int, from: Int, to: Int?) -> (Int, Int) {
        let lo = min(max(from, 0), count)
        var hi = count
        if let to { hi = min(max(to, 0), count) }
        return (lo, max(lo, hi))
    }
}

/// `{% for item in collection limit: n offset: m reversed %}…{% else %}…{% endfor %}`.
final class ForTag: LiquidNode {
    let variable: String
    let collection: Expr
    /// `variable-collection` as written; Ruby's `forloop.name` and the key for `offset: continue`.
    let name: String
    let limit: Expr?
    let offset: Expr?
    let offsetContinue: Bool
    let reversed: Bool
    let body: LiquidBlockBody
    let elseBody: LiquidBlockBody?
    let isBlank: Bool

    init(
        variable: String, collection: Expr, name: String, limit: Expr?, offset: Expr?, offsetContinue: Bool,
        reversed: Bool, body: LiquidBlockBody, elseBody: LiquidBlockBody?, isBlank: Bool
    ) {
        self.variable = variable
        self.collection = collection
        self.name = name
        self.limit = limit
        self.offset = offset
        self.offsetContinue = offsetContinue
        self.reversed = reversed
        self.body = body
        self.elseBody = elseBody
        self.isBlank = isBlank
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        let from: Int
        if offsetContinue {
            from = context.forOffsets[name] ?? 0
        } else if let offset {
            let v = try offset.evaluate(&context)
            from = v.isNil ? 0 : try v.rubyToInteger()
        } else {
            from = 0
        }
        var to: Int?
        if let limit {
            let v = try limit.evaluate(&context)
            if !v.isNil {
                let (sum, overflow) = from.addingReportingOverflow(try v.rubyToInteger())
                to = overflow ? (from > 0 ? Int.max : Int.min) : sum
            }
        }
        var items = try LoopItems.slice(try collection.evaluate(&context), from: from, to: to)
        if reversed { items = items.reversed }
        let (next, overflow) = from.addingReportingOverflow(items.count)
        context.forOffsets[name] = overflow ? Int.max : next

        let count = items.count
        guard count > 0 else {
            if let elseBody { try elseBody.renderNested(&context, into: &output) }
            return
        }
        let mark = context.pushScope()
        let forloop = ForloopDrop(name: name, length: count, parent: context.forloops.last)
        context.forloops.append(forloop)
        defer {
            context.forloops.removeLast()
            context.popScope(mark)
        }
        context.bind("forloop", .drop(forloop))
        let slot = context.bind(variable, .nil)
        for i in 0..<count {
            try context.countLoopIteration()
            context.rebind(slot, items.item(i))
            try body.renderNested(&context, into: &output)
            forloop.index0 = i + 1
            switch context.interrupt {
            case .none: continue
            case .continueLoop: context.interrupt = .none
            case .breakLoop:
                context.interrupt = .none
                return
            }
        }
    }

    static let definition = LiquidTag("for") { p throws(LiquidSyntaxError) in
        var m = try p.markupParser()
        let variableToken = m.peek()
        guard variableToken.kind == .identifier else {
            throw p.error("for needs a loop variable: {% for item in collection %}")
        }
        _ = m.advance()
        let variable = m.text(variableToken)
        guard m.keyword("in") else {
            throw p.parser.error("expected 'in' after '\(variable)': {% for \(variable) in collection %}", at: m.peek().start)
        }
        let (collection, collectionText) = try m.parseExpression()
        var reversed = m.keyword("reversed")
        var limit: Expr?
        var offset: Expr?
        var offsetContinue = false
        while m.look(.comma) || m.look(.identifier) {
            _ = m.consumeIf(.comma)
            if m.keyword("limit") {
                _ = try m.consume(.colon, "':' after limit")
                limit = try m.parseExpression().0
            } else if m.keyword("offset") {
                _ = try m.consume(.colon, "':' after offset")
                let (e, t) = try m.parseExpression()
                if t == "continue" { offsetContinue = true } else { offset = e }
            } else if m.keyword("reversed") {
                reversed = true
            } else if m.look(.identifier) {
                let t = m.peek()
                throw p.parser.error(
                    "unknown for-loop option '\(m.text(t))' (expected limit, offset or reversed)", at: t.start)
            }
        }
        try m.expectEnd("for")
        let (body, terminator) = try p.parser.parseBlock(
            opener: "for", endTag: "endfor", delimiters: ["else"], openPosition: p.position)
        var elseBody: Parser.BodyBuilder?
        if terminator.name == "else" {
            elseBody = try p.parser.parseBlock(
                opener: "for", endTag: "endfor", delimiters: [], openPosition: p.position
            ).body
        }
        let blank = body.blank && (elseBody?.blank ?? true)
        let built = blank ? body.build().removingBlankStrings() : body.build()
        let builtElse = elseBody.map { blank ? $0.build().removingBlankStrings() : $0.build() }
        return ForTag(
            variable: variable, collection: collection, name: "\(variable)-\(collectionText)", limit: limit,
            offset: offset, offsetContinue: offsetContinue, reversed: reversed, body: built, elseBody: builtElse,
            isBlank: blank)
    }
}

/// `{% break %}` and `{% continue %}`: ask the innermost loop to stop or skip ahead.
final class LoopControlTag: LiquidNode {
    let interrupt: LiquidRenderContext.Interrupt

    init(interrupt: LiquidRenderContext.Interrupt) {
        self.interrupt = interrupt
    }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        context.interrupt = interrupt
    }

    static let breakNode = LoopControlTag(interrupt: .breakLoop)
    static let continueNode = LoopControlTag(interrupt: .continueLoop)
    static let breakDefinition = LiquidTag("break") { _ throws(LiquidSyntaxError) in breakNode }
    static let continueDefinition = LiquidTag("continue") { _ throws(LiquidSyntaxError) in continueNode }
}

/// `{% tablerow item in collection cols: n limit: n offset: n %}`: an HTML table body.
final class TablerowTag: LiquidNode {
    let variable: String
    let collection: Expr
    let cols: Expr?
    let limit: Expr?
    let offset: Expr?
    let body: LiquidBlockBody

    init(variable: String, collection: Expr, cols: Expr?, limit: Expr?, offset: Expr?, body: LiquidBlockBody) {
        self.variable = variable
        self.collection = collection
        self.cols = cols
        self.limit = limit
        self.offset = offset
        self.body = body
    }

    var isBlank: Bool { body.isBlank }

    func render(_ context: inout LiquidRenderContext, into output: inout String) throws {
        let value = try collection.evaluate(&context)
        if value.isNil { return }
        let from = try offset.map { try $0.evaluate(&context).rubyToI() } ?? 0
        var to: Int?
        if let limit {
            let (sum, overflow) = from.addingReportingOverflow(try limit.evaluate(&context).rubyToI())
            to = overflow ? Int.max : sum
        }
        let items = try LoopItems.slice(value, from: from, to: to)
        let length = items.count
        let columns = try cols.map { try $0.evaluate(&context).rubyToI() } ?? length
        output.append("<tr class=\"row1\">\n")
        let mark = context.pushScope()
        defer { context.popScope(mark) }
        let loop = TablerowloopDrop(length: length, cols: columns)
        context.bind("tablerowloop", .drop(loop))
        let slot = context.bind(variable, .nil)
        for i in 0..<length {
            try context.countLoopIteration()
            context.rebind(slot, items.item(i))
            output.append("<td class=\"col\(loop.col)\">")
            try body.renderNested(&context, into: &output)
            output.append("</td>")
            switch context.interrupt {
            case .none: break
            case .continueLoop: context.interrupt = .none
            case .breakLoop:
                context.interrupt = .none
                output.append("</tr>\n")
                return
            }
            if loop.colLast && !loop.isLast {
                output.append("</tr>\n<tr class=\"row\(loop.row + 1)\">")
            }
            loop.advance()
        }
        output.append("</tr>\n")
    }

    static let definition = LiquidTag("tablerow") { p throws(LiquidSyntaxError) in
        var m = try p.markupParser()
        let variableToken = m.peek()
        guard variableToken.kind == .identifier else {
            throw p.error("tablerow needs a loop variable: {% tablerow item in collection %}")
        }
        _ = m.advance()
        let variable = m.text(variableToken)
        guard m.keyword("in") else {
            throw p.parser.error("expected 'in' after '\(variable)' in tablerow", at: m.peek().start)
        }
        let (collection, _) = try m.parseExpression()
        var attributes: [String: Expr] = [:]
        for (k, e) in try m.parseKeywordArguments("tablerow") { attributes[k] = e }
        let (body, _) = try p.parser.parseBlock(
            opener: "tablerow", endTag: "endtablerow", delimiters: [], openPosition: p.position)
        return TablerowTag(
            variable: variable, collection: collection, cols: attributes["cols"], limit: attributes["limit"],
            offset: attributes["offset"], body: body.build())
    }
}
