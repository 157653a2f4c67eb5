/// Recursive-descent parser for Auth0's Lucene subset; see `UserSearchQuery` for the accepted syntax.
///
/// Grammar (juxtaposition binds loosest, then `OR`, `AND`, and the unary operators):
/// ```
/// query    := sequence?                      — blank means match all
/// sequence := clause+                        — Lucene clause semantics (must / should / must-not)
/// clause   := and (('OR' | '||') and)*
/// and      := unary (('AND' | '&&') unary)*
/// unary    := ('NOT' | '!' | '-' | '+') unary | primary
/// primary  := '(' sequence ')' | '"phrase"' | field ':' value | word
/// value    := '(' sequence ')' | '"phrase"' | range | word      — bare words inside the group use `field`
/// range    := ('[' | '{') bound 'TO' bound (']' | '}')
/// ```
/// It works on Unicode scalars, never indexes past the end, and counts nesting so recursion stays bounded.
struct UserSearchQueryParser {
    typealias Expression = UserSearchQuery.Expression
    typealias FieldPath = UserSearchQuery.FieldPath
    typealias Literal = UserSearchQuery.Literal
    typealias E = UserSearchQueryError

    private let s: [Unicode.Scalar]
    private let options: UserSearchQuery.Options
    private var i = 0
    private var depth = 0

    init(_ text: String, options: UserSearchQuery.Options) {
        self.s = Array(text.unicodeScalars)
        self.options = options
    }

    // MARK: clauses

    private struct Clause {
        enum Occur { case should, must, mustNot }
        var expression: Expression
        var occur: Occur

        /// The clause as a boolean expression (used under explicit operators).
        var asExpression: Expression { occur == .mustNot ? .negation(expression) : expression }
    }

    mutating func parseQuery() throws(E) -> Expression {
        skipWhitespace()
        if atEnd { return .matchAll }
        guard let expression = try parseSequence(fields: nil), atEnd else {
            throw E(.unbalancedParenthesis, at: i)  // only a ')' stops a top-level sequence early
        }
        return expression
    }

    /// Clauses up to `)` or the end; nil when there are none.
    private mutating func parseSequence(fields: [FieldPath]?) throws(E) -> Expression? {
        var clauses: [Clause] = []
        while true {
            skipWhitespace()
            guard let c = current, c != ")" else { break }
            clauses.append(try parseOr(fields))
        }
        return clauses.isEmpty ? nil : lower(clauses)
    }

    /// Lucene semantics for juxtaposed clauses (see `UserSearchQuery`, "Implicit operator").
    private func lower(_ clauses: [Clause]) -> Expression {
        if clauses.count == 1, let only = clauses.first { return only.asExpression }
        var must: [Expression] = []
        var mustNot: [Expression] = []
        var should: [Expression] = []
        for clause in clauses {
            switch clause.occur {
            case .must: must.append(clause.expression)
            case .mustNot: mustNot.append(clause.expression)
            case .should: should.append(clause.expression)
            }
        }
        if must.isEmpty && mustNot.isEmpty { return .anyOf(should) }
        var parts = must
        if must.isEmpty && !should.isEmpty { parts.append(.anyOf(should)) }
        parts.append(contentsOf: mustNot.map(Expression.negation))
        return .allOf(parts)
    }

    private mutating func parseOr(_ fields: [FieldPath]?) throws(E) -> Clause {
        let first = try parseAnd(fields)
        var operands: [Expression] = []
        while let op = nextBinaryOperator(keyword: "OR", symbol: "|") {
            let (name, length) = op
            let opStart = i
            i += length
            skipWhitespace()
            guard operandFollows else { throw E(.missingOperand(after: name), at: opStart) }
            operands.append(try parseAnd(fields).asExpression)
        }
        if operands.isEmpty { return first }
        return Clause(expression: .anyOf([first.asExpression] + operands), occur: .should)
    }

    private mutating func parseAnd(_ fields: [FieldPath]?) throws(E) -> Clause {
        let first = try parseUnary(fields)
        var operands: [Expression] = []
        while let op = nextBinaryOperator(keyword: "AND", symbol: "&") {
            let (name, length) = op
            let opStart = i
            i += length
            skipWhitespace()
            guard operandFollows else { throw E(.missingOperand(after: name), at: opStart) }
            operands.append(try parseUnary(fields).asExpression)
        }
        if operands.isEmpty { return first }
        return Clause(expression: .allOf([first.asExpression] + operands), occur: .should)
    }

    /// After optional whitespace: `KEYWORD` or a doubled symbol (`||`, `&&`). Leaves `i` on the operator when found,
    /// and where it was otherwise.
    private mutating func nextBinaryOperator(keyword: String, symbol: Unicode.Scalar) -> (String, Int)? {
        let save = i
        skipWhitespace()
        if keywordAt(i, keyword) { return (keyword, keyword.unicodeScalars.count) }
        if scalar(at: i) == symbol, scalar(at: i + 1) == symbol {
            return (String(symbol) + String(symbol), 2)
        }
        i = save
        return nil
    }

    private mutating func parseUnary(_ fields: [FieldPath]?) throws(E) -> Clause {
        skipWhitespace()
        let start = i
        let op: (name: String, length: Int, occur: Clause.Occur)?
        if keywordAt(i, "NOT") {
            op = ("NOT", 3, .mustNot)
        } else if let c = current, c == "!" || c == "-" || c == "+" {
            op = (String(c), 1, c == "+" ? .must : .mustNot)
        } else {
            op = nil
        }
        guard let op else { return Clause(expression: try parsePrimary(fields), occur: .should) }

        i += op.length
        try enter(at: start)
        defer { depth -= 1 }
        skipWhitespace()
        guard operandFollows else { throw E(.missingOperand(after: op.name), at: start) }
        let inner = try parseUnary(fields).asExpression
        return Clause(expression: inner, occur: op.occur)
    }

    // MARK: primaries

    private mutating func parsePrimary(_ fields: [FieldPath]?) throws(E) -> Expression {
        skipWhitespace()
        let start = i
        guard let c = current else { throw E(.unexpected("end of query"), at: start) }
        switch c {
        case "(":
            let group = try parseGroup(fields: fields)
            try parseSuffix()
            return group
        case "\"":
            let text = try readPhrase()
            try parseSuffix()
            return Self.term(fields ?? UserSearchQuery.defaultFields, .phrase(text))
        case "[", "{":
            throw E(.rangeWithoutField, at: start)
        case ")", "]", "}", "^":
            throw E(.unexpected(String(c)), at: start)
        case "~":
            throw E(.unsupported("fuzzy and proximity searches (~)"), at: start)
        case "/":
            throw E(.unsupported("regular expressions (/…/)"), at: start)
        default:
            break
        }
        if keywordAt(i, "AND") { throw E(.unexpected("AND"), at: start) }
        if keywordAt(i, "OR") { throw E(.unexpected("OR"), at: start) }
        if c == "&" || c == "|", scalar(at: i + 1) == c { throw E(.unexpected(String(c) + String(c)), at: start) }

        let word = try readWord(stopAtColon: true)
        if word.endedAtColon {
            return try parseFieldValue(fieldWord: word)
        }
        guard !word.chars.isEmpty else { throw E(.unexpected(String(c)), at: start) }
        try parseSuffix()
        return try valueExpression(word, fields: fields)
    }

    private mutating func parseGroup(fields: [FieldPath]?) throws(E) -> Expression {
        let open = i
        try enter(at: open)
        defer { depth -= 1 }
        i += 1
        guard let inner = try parseSequence(fields: fields) else {
            throw E(atEnd ? .unbalancedParenthesis : .emptyGroup, at: open)
        }
        guard current == ")" else { throw E(.unbalancedParenthesis, at: open) }
        i += 1
        return inner
    }

    private mutating func parseFieldValue(fieldWord: Word) throws(E) -> Expression {
        guard !fieldWord.chars.isEmpty else { throw E(.missingFieldName, at: fieldWord.start) }
        let fieldText = fieldWord.source(in: s)
        skipWhitespace()
        guard let c = current, c != ")" else { throw E(.missingValue(field: fieldText), at: i) }

        // `*:*` (match all) — the only place a wildcard may stand for a field.
        if fieldWord.isLoneStar {
            let valueWord = try readWord(stopAtColon: false)
            guard valueWord.isLoneStar else { throw E(.unsupported("wildcards in field names"), at: fieldWord.start) }
            try parseSuffix()
            return .matchAll
        }
        let field = try fieldPath(fieldWord)

        if field.components == ["_exists_"] {
            let valueStart = i
            guard !UserSearchSyntax.isTerminator(c) else { throw E(.missingValue(field: fieldText), at: valueStart) }
            let valueWord = try readWord(stopAtColon: false)
            guard !valueWord.chars.isEmpty else { throw E(.missingValue(field: fieldText), at: valueStart) }
            let target = try fieldPath(valueWord)
            try parseSuffix()
            return .exists(target)
        }

        switch c {
        case "(":
            let group = try parseGroup(fields: [field])
            try parseSuffix()
            return group
        case "\"":
            let text = try readPhrase()
            try parseSuffix()
            return .term(field: field, match: .phrase(text))
        case "[", "{":
            return try parseRange(field: field, fieldStart: fieldWord.start)
        case "~":
            throw E(.unsupported("fuzzy and proximity searches (~)"), at: i)
        case "/":
            throw E(.unsupported("regular expressions (/…/)"), at: i)
        default:
            let valueStart = i
            let valueWord = try readWord(stopAtColon: false)
            guard !valueWord.chars.isEmpty else { throw E(.unexpected(String(c)), at: valueStart) }
            try parseSuffix()
            return try valueExpression(valueWord, fields: [field])
        }
    }

    private mutating func parseRange(field: FieldPath, fieldStart: Int) throws(E) -> Expression {
        let open = i
        let lowerInclusive = current == "["
        if field.isUserMetadata && !options.allowsUserMetadataRangesAndWildcards {
            throw E(.notAvailableOnUserMetadata("range searches"), at: fieldStart)
        }
        i += 1
        skipWhitespace()
        let lower = try readRangeBound(open: open, side: "lower")
        skipWhitespace()
        guard !atEnd else { throw E(.unterminatedRange, at: open) }
        guard scalar(at: i) == "T", scalar(at: i + 1) == "O", isRangeBoundary(i + 2) else {
            throw E(.expectedTo, at: i)
        }
        i += 2
        skipWhitespace()
        let upper = try readRangeBound(open: open, side: "upper")
        skipWhitespace()
        guard let close = current else { throw E(.unterminatedRange, at: open) }
        guard close == "]" || close == "}" else { throw E(.unexpected(String(close)), at: i) }
        i += 1
        try parseSuffix()
        if lower == nil && upper == nil { return .exists(field) }
        return .range(
            field: field,
            lower: lower.map { UserSearchQuery.RangeBound($0, inclusive: lowerInclusive) },
            upper: upper.map { UserSearchQuery.RangeBound($0, inclusive: close == "]") })
    }

    private func isRangeBoundary(_ k: Int) -> Bool {
        guard let c = scalar(at: k) else { return true }
        return c.properties.isWhitespace || c == "\"" || c == "]" || c == "}"
    }

    /// A bound's literal, or nil for an unquoted `*` (unbounded).
    private mutating func readRangeBound(open: Int, side: String) throws(E) -> Literal? {
        guard let c = current else { throw E(.unterminatedRange, at: open) }
        if c == "\"" { return Literal(try readPhrase()) }
        let start = i
        let word = try readWord(stopAtColon: false)
        if word.chars.isEmpty {
            if c == "]" || c == "}" { throw E(.invalidRangeBound("missing \(side) bound"), at: start) }
            throw E(.unexpected(String(c)), at: start)
        }
        if word.isUnescaped("TO") { throw E(.invalidRangeBound("missing \(side) bound"), at: start) }
        if word.isLoneStar { return nil }
        if word.hasWildcard {
            throw E(.invalidRangeBound("wildcards are only allowed as a lone '*'"), at: start)
        }
        return Literal(word.text)
    }

    /// `^2` (boost) is accepted and ignored; `~` (fuzzy/proximity) is rejected.
    private mutating func parseSuffix() throws(E) {
        if current == "^" {
            let start = i
            i += 1
            var digits = 0
            while let d = current, ("0"..."9").contains(d) || d == "." {
                i += 1
                digits += 1
            }
            guard digits > 0 else { throw E(.unexpected("^"), at: start) }
        }
        if current == "~" { throw E(.unsupported("fuzzy and proximity searches (~)"), at: i) }
    }

    // MARK: values

    private static func term(_ fields: [FieldPath], _ match: UserSearchQuery.ValueMatch) -> Expression {
        .anyOf(fields.map { .term(field: $0, match: match) })
    }

    /// An unquoted value for `fields` (nil: the default fields): exact, wildcard, or `*` (any value).
    private func valueExpression(_ word: Word, fields: [FieldPath]?) throws(E) -> Expression {
        if !word.hasWildcard {
            return Self.term(fields ?? UserSearchQuery.defaultFields, .exact(word.text))
        }
        var elements: [UserSearchQuery.WildcardPattern.Element] = []
        for (scalar, escaped) in zip(word.chars, word.escaped) {
            if !escaped && scalar == "*" {
                elements.append(.anyCharacters)
            } else if !escaped && scalar == "?" {
                elements.append(.anyCharacter)
            } else {
                elements.append(.literal(String(Character(scalar))))
            }
        }
        let pattern = UserSearchQuery.WildcardPattern(elements)
        if pattern.elements == [.anyCharacters] {
            guard let fields else { return .matchAll }
            return .anyOf(fields.map { .exists($0) })
        }
        let targets = fields ?? UserSearchQuery.defaultFields
        if !options.allowsUserMetadataRangesAndWildcards && targets.contains(where: \.isUserMetadata) {
            throw E(.notAvailableOnUserMetadata("wildcard searches"), at: word.start)
        }
        if pattern.startsWithWildcard && pattern.literalCharacterCount < 3 {
            throw E(.wildcardTooShort(word.source(in: s)), at: word.start)
        }
        return Self.term(targets, .wildcard(pattern))
    }

    /// Splits a field word on unescaped dots.
    private func fieldPath(_ word: Word) throws(E) -> FieldPath {
        var components: [String] = []
        var currentComponent = String.UnicodeScalarView()
        for (scalar, escaped) in zip(word.chars, word.escaped) {
            if !escaped && (scalar == "*" || scalar == "?") {
                throw E(.unsupported("wildcards in field names"), at: word.start)
            }
            if !escaped && scalar == "." {
                components.append(String(currentComponent))
                currentComponent = String.UnicodeScalarView()
            } else {
                currentComponent.append(scalar)
            }
        }
        components.append(String(currentComponent))
        if components.contains(where: \.isEmpty) {
            throw E(.invalidFieldName(word.source(in: s)), at: word.start)
        }
        return FieldPath(components)
    }

    // MARK: lexing

    private struct Word {
        var start: Int
        var end: Int = 0
        var chars: [Unicode.Scalar] = []
        var escaped: [Bool] = []
        var endedAtColon = false

        var text: String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: chars)
            return String(view)
        }

        var hasWildcard: Bool {
            zip(chars, escaped).contains { !$1 && ($0 == "*" || $0 == "?") }
        }

        var isLoneStar: Bool { chars.count == 1 && chars.first == "*" && escaped.first == false }

        func isUnescaped(_ literal: String) -> Bool {
            !escaped.contains(true) && chars.elementsEqual(literal.unicodeScalars)
        }

        /// The word as written in the query (escapes kept), for messages.
        func source(in s: [Unicode.Scalar]) -> String {
            var view = String.UnicodeScalarView()
            if start < end, end <= s.count { view.append(contentsOf: s[start..<end]) }
            return String(view)
        }
    }

    /// Reads up to whitespace or a structural character; with `stopAtColon`, an unescaped `:` ends the word and is
    /// consumed (the word is then a field name).
    private mutating func readWord(stopAtColon: Bool) throws(E) -> Word {
        var word = Word(start: i)
        while let c = current {
            if c == "\\" {
                guard let next = scalar(at: i + 1) else { throw E(.danglingEscape, at: i) }
                word.chars.append(next)
                word.escaped.append(true)
                i += 2
                continue
            }
            if UserSearchSyntax.isTerminator(c) { break }
            if stopAtColon && c == ":" {
                word.end = i
                word.endedAtColon = true
                i += 1
                return word
            }
            word.chars.append(c)
            word.escaped.append(false)
            i += 1
        }
        word.end = i
        return word
    }

    private mutating func readPhrase() throws(E) -> String {
        let open = i
        i += 1
        var out = String.UnicodeScalarView()
        while let c = current {
            if c == "\\" {
                guard let next = scalar(at: i + 1) else { throw E(.unterminatedPhrase, at: open) }
                out.append(next)
                i += 2
                continue
            }
            i += 1
            if c == "\"" { return String(out) }
            out.append(c)
        }
        throw E(.unterminatedPhrase, at: open)
    }

    // MARK: helpers

    private var atEnd: Bool { i >= s.count }
    private var current: Unicode.Scalar? { scalar(at: i) }
    private var operandFollows: Bool {
        guard let c = current else { return false }
        return c != ")"
    }

    private func scalar(at k: Int) -> Unicode.Scalar? {
        k >= 0 && k < s.count ? s[k] : nil
    }

    private mutating func skipWhitespace() {
        while let c = current, c.properties.isWhitespace { i += 1 }
    }

    /// `keyword` spelled exactly at `k` and followed by the end, whitespace, `(`, `)` or `"`.
    private func keywordAt(_ k: Int, _ keyword: String) -> Bool {
        var index = k
        for expected in keyword.unicodeScalars {
            guard scalar(at: index) == expected else { return false }
            index += 1
        }
        guard let after = scalar(at: index) else { return true }
        return after.properties.isWhitespace || after == "(" || after == ")" || after == "\""
    }

    private mutating func enter(at position: Int) throws(E) {
        depth += 1
        if depth > options.maxDepth {
            depth -= 1
            throw E(.nestingTooDeep(limit: options.maxDepth), at: position)
        }
    }
}
