/// Recursive-descent parser for tag and output markup (Liquid 5's strict `Parser`): expressions,
/// filter chains, conditions and the small grammars of individual tags.
struct MarkupParser {
    let parser: Parser
    let tokens: [ExprToken]
    private(set) var index = 0
    private var depth = 0
    let start: Int
    let end: Int

    init(parser: Parser, start: Int, end: Int) throws(LiquidSyntaxError) {
        self.parser = parser
        self.start = start
        self.end = end
        do {
            self.tokens = try ExpressionLexer.tokenize(parser.bytes, start: start, end: end)
        } catch {
            if error.unterminatedString {
                throw parser.error("string literal is not closed", at: error.position)
            }
            let shown = MarkupParser.characterDescription(parser.bytes, error.position)
            throw parser.error("unexpected character \(shown)", at: error.position)
        }
    }

    static func characterDescription(_ bytes: [UInt8], _ position: Int) -> String {
        var e = position + 1
        while e < bytes.count && bytes[e] & 0xC0 == 0x80 { e += 1 }
        let s = String(decoding: bytes[position..<min(e, bytes.count)], as: UTF8.self)
        return "'\(s)'"
    }

    // MARK: - Token access

    @inline(__always)
    func peek(_ ahead: Int = 0) -> ExprToken {
        let i = index + ahead
        return i < tokens.count ? tokens[i] : tokens[tokens.count - 1]
    }

    func look(_ kind: ExprToken.Kind, _ ahead: Int = 0) -> Bool { peek(ahead).kind == kind }

    var atEnd: Bool { peek().kind == .end }

    func text(_ t: ExprToken) -> String { parser.text(t.start, t.end) }

    func describe(_ t: ExprToken) -> String {
        switch t.kind {
        case .end: return "the end of the tag"
        case .string: return "'\"\(text(t))\"'"
        default: return "'\(text(t))'"
        }
    }

    mutating func advance() -> ExprToken {
        let t = peek()
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    mutating func consume(_ kind: ExprToken.Kind, _ what: String) throws(LiquidSyntaxError) -> ExprToken {
        let t = peek()
        guard t.kind == kind else { throw parser.error("expected \(what) but found \(describe(t))", at: t.start) }
        return advance()
    }

    mutating func consumeIf(_ kind: ExprToken.Kind) -> ExprToken? {
        guard peek().kind == kind else { return nil }
        return advance()
    }

    /// Ruby's `id?(word)`: consumes the identifier `word` if it is next.
    mutating func keyword(_ word: String) -> Bool {
        let t = peek()
        guard t.kind == .identifier, parser.text(t.start, t.end) == word else { return false }
        index += 1
        return true
    }

    mutating func expectEnd(_ context: String) throws(LiquidSyntaxError) {
        let t = peek()
        guard t.kind == .end else {
            throw parser.error("unexpected \(describe(t)) in \(context)", at: t.start)
        }
    }

    // MARK: - Expressions

    static let commandNames: Set<String> = ["size", "first", "last"]

    /// Ruby's `Parser#expression` (and `Expression.parse` of its result). Returns the expression and
    /// its normalised text (`(1..3)`, `product.tags`), which Ruby uses for `forloop.name` and `cycle`.
    mutating func parseExpression() throws(LiquidSyntaxError) -> (Expr, String) {
        depth += 1
        defer { depth -= 1 }
        let t = peek()
        if depth > parser.environment.limits.maxParseDepth {
            throw parser.error("expression is nested too deeply", at: t.start)
        }
        switch t.kind {
        case .identifier:
            _ = advance()
            let name = text(t)
            var textOut = name
            let path = try parseLookups(&textOut)
            if path.isEmpty, let literal = MarkupParser.literal(name) {
                return (.literal(literal), textOut)
            }
            return (.lookup(VariableLookup(root: .name(name), path: path, position: t.start, text: textOut)), textOut)
        case .openSquare:
            _ = advance()
            let (inner, innerText) = try parseExpression()
            _ = try consume(.closeSquare, "']'")
            var textOut = "[" + innerText + "]"
            let path = try parseLookups(&textOut)
            let root: VariableLookup.Root
            if case .literal(let v) = inner, let s = v.stringValue { root = .name(s) } else { root = .dynamic(inner) }
            return (.lookup(VariableLookup(root: root, path: path, position: t.start, text: textOut)), textOut)
        case .string:
            _ = advance()
            let s = text(t)
            let quote = t.start > 0 ? parser.text(t.start - 1, t.start) : "'"
            return (.literal(.string(s)), quote + s + quote)
        case .number:
            _ = advance()
            let s = text(t)
            return (.literal(MarkupParser.number(s)), s)
        case .openRound:
            _ = advance()
            let (a, at) = try parseExpression()
            _ = try consume(.dotdot, "'..' in a range")
            let (b, bt) = try parseExpression()
            _ = try consume(.closeRound, "')' to close the range")
            let textOut = "(\(at)..\(bt))"
            if case .literal(let x) = a, case .literal(let y) = b {
                return (.literal(.range(Expr.literalRangeBound(x), Expr.literalRangeBound(y))), textOut)
            }
            return (.range(a, b), textOut)
        default:
            throw parser.error("expected a value but found \(describe(t))", at: t.start)
        }
    }

    /// `.name` and `[expr]` after a variable.
    private mutating func parseLookups(_ textOut: inout String) throws(LiquidSyntaxError) -> [VariableLookup.Segment] {
        var path: [VariableLookup.Segment] = []
        while true {
            if look(.openSquare) {
                _ = advance()
                let (inner, innerText) = try parseExpression()
                _ = try consume(.closeSquare, "']'")
                textOut += "[" + innerText + "]"
                switch inner {
                case .literal(.string(let s)): path.append(.key(s, command: false))
                case .literal(.int(let i)): path.append(.index(i))
                case .literal(let v): path.append(.dynamic(.literal(v)))
                default: path.append(.dynamic(inner))
                }
            } else if look(.dot) {
                _ = advance()
                let t = peek()
                guard t.kind == .identifier else {
                    throw parser.error("expected a property name after '.' but found \(describe(t))", at: t.start)
                }
                _ = advance()
                let name = text(t)
                textOut += "." + name
                path.append(.key(name, command: MarkupParser.commandNames.contains(name)))
            } else {
                return path
            }
        }
    }

    static func literal(_ word: String) -> LiquidValue? {
        switch word {
        case "nil", "null": return .nil
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "blank": return .special(.blank)
        case "empty": return .special(.empty)
        default: return nil
        }
    }

    /// `-?\d+` is an Integer (a Float if it does not fit, where Ruby would make a bignum);
    /// `-?\d+\.\d+` is a Float.
    static func number(_ s: String) -> LiquidValue {
        if !s.contains(".") {
            if let i = Int(s) { return .int(i) }
            return .float(Double(s) ?? 0)
        }
        return .float(Double(s) ?? 0)
    }

    // MARK: - Filters

    /// Ruby's `Variable#strict_parse`: `expression (| filter (: arg (, arg)*)?)*`, nothing after.
    mutating func parseFilteredExpression() throws(LiquidSyntaxError) -> (Expr?, [FilterCall]) {
        if atEnd { return (nil, []) }
        let (expr, _) = try parseExpression()
        let filters = try parseFilters()
        try expectEnd("this expression")
        return (expr, filters)
    }

    mutating func parseFilters() throws(LiquidSyntaxError) -> [FilterCall] {
        var filters: [FilterCall] = []
        while consumeIf(.pipe) != nil {
            let nameToken = peek()
            guard nameToken.kind == .identifier else {
                throw parser.error("expected a filter name after '|' but found \(describe(nameToken))", at: nameToken.start)
            }
            _ = advance()
            let name = text(nameToken)
            var positional: [Expr] = []
            var keywords: [(String, Expr)] = []
            if consumeIf(.colon) != nil {
                repeat {
                    if look(.identifier), look(.colon, 1) {
                        let key = text(advance())
                        _ = advance()
                        keywords.append((key, try parseExpression().0))
                    } else {
                        positional.append(try parseExpression().0)
                    }
                } while consumeIf(.comma) != nil
            }
            let filter = parser.environment.filters[name]
            if filter == nil && parser.environment.strictFilters {
                throw parser.error(
                    "unknown filter '\(name)'"
                        + Suggestions.hint(for: name, in: parser.environment.filters.keys.sorted()),
                    at: nameToken.start)
            }
            filters.append(
                FilterCall(name: name, filter: filter, positional: positional, keywords: keywords, position: nameToken.start))
        }
        return filters
    }

    // MARK: - Conditions

    /// Ruby's `If#strict_parse`: comparisons joined by `and`/`or`, nothing after.
    mutating func parseCondition() throws(LiquidSyntaxError) -> Condition {
        var comparisons: [Condition.Comparison] = []
        var relations: [Condition.Relation] = []
        while true {
            if atEnd {
                throw parser.error("expected a condition but found the end of the tag", at: peek().start)
            }
            if peek().kind == .identifier, text(peek()) == "not", peek(1).kind != .end, peek(1).kind != .comparison,
                !(peek(1).kind == .identifier && ["and", "or"].contains(text(peek(1))))
            {
                throw parser.error("'not' is not a Liquid operator; use 'unless' or '!='", at: peek().start)
            }
            let (left, _) = try parseExpression()
            if let opToken = consumeIf(.comparison) {
                let op = MarkupParser.comparisonOperator(text(opToken))
                let (right, _) = try parseExpression()
                comparisons.append(Condition.Comparison(left: left, op: op, right: right))
            } else {
                comparisons.append(Condition.Comparison(left: left, op: nil, right: nil))
            }
            if keyword("and") {
                relations.append(.and)
            } else if keyword("or") {
                relations.append(.or)
            } else {
                break
            }
        }
        let t = peek()
        if t.kind != .end {
            let word = text(t)
            if t.kind == .identifier, ["not", "in", "startswith", "endswith", "haskey"].contains(word) {
                throw parser.error(
                    "'\(word)' is not a Liquid operator (use ==, !=, <, >, <=, >=, contains, and, or)", at: t.start)
            }
            throw parser.error("unexpected \(describe(t)) in condition", at: t.start)
        }
        return Condition(comparisons: comparisons, relations: relations)
    }

    static func comparisonOperator(_ s: String) -> Condition.Operator {
        switch s {
        case "==": return .equal
        case "!=", "<>": return .notEqual
        case "<": return .less
        case "<=": return .lessOrEqual
        case ">": return .greater
        case ">=": return .greaterOrEqual
        default: return .contains
        }
    }

    // MARK: - Keyword arguments (`include`, `render`, `layout`)

    /// `key: expr` pairs separated by optional commas, up to the end.
    mutating func parseKeywordArguments(_ context: String) throws(LiquidSyntaxError) -> [(String, Expr)] {
        var out: [(String, Expr)] = []
        while true {
            _ = consumeIf(.comma)
            if atEnd { return out }
            let t = peek()
            guard t.kind == .identifier, look(.colon, 1) else {
                throw parser.error("expected 'name: value' in \(context) but found \(describe(t))", at: t.start)
            }
            _ = advance()
            _ = advance()
            out.append((text(t), try parseExpression().0))
        }
    }
}
