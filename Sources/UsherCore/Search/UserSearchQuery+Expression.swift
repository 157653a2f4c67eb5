extension UserSearchQuery {
    /// The query tree. Every node is a plain value; translate it to SQL by walking it recursively.
    ///
    /// Guarantees from the parser: `.and` and `.or` have at least two children and never directly contain a node of
    /// their own kind (they are flattened); `.not` never directly contains `.not`; `FieldPath`s have at least one
    /// non-empty component. Bare terms are already expanded to an `.or` over `UserSearchQuery.defaultFields`.
    /// Field components are arbitrary user input: bind them as parameters, never splice them into SQL.
    public indirect enum Expression: Sendable, Hashable, CustomStringConvertible {
        /// Every user (blank query, `*`, `*:*`).
        case matchAll
        /// The value at `field` matches `match` (any element, when arrays are on the path).
        case term(field: FieldPath, match: ValueMatch)
        /// `field` holds an indexed value: not null, not an empty array or object.
        case exists(FieldPath)
        /// The value at `field` lies between the bounds; `nil` means unbounded (`*`). At least one bound is set.
        case range(field: FieldPath, lower: RangeBound?, upper: RangeBound?)
        /// All children match.
        case and([Expression])
        /// At least one child matches.
        case or([Expression])
        /// The child does not match.
        case not(Expression)

        /// `.and` that flattens nested `.and`s and unwraps a single child.
        public static func allOf(_ children: [Expression]) -> Expression {
            var flat: [Expression] = []
            for child in children {
                if case .and(let grand) = child { flat.append(contentsOf: grand) } else { flat.append(child) }
            }
            return flat.count == 1 ? flat[0] : .and(flat)
        }

        /// `.or` that flattens nested `.or`s and unwraps a single child.
        public static func anyOf(_ children: [Expression]) -> Expression {
            var flat: [Expression] = []
            for child in children {
                if case .or(let grand) = child { flat.append(contentsOf: grand) } else { flat.append(child) }
            }
            return flat.count == 1 ? flat[0] : .or(flat)
        }

        /// `.not` that removes a double negation.
        public static func negation(_ child: Expression) -> Expression {
            if case .not(let inner) = child { return inner }
            return .not(child)
        }

        /// Every field path the expression reads, in first-use order, without duplicates.
        public var referencedFields: [FieldPath] {
            var seen = Set<FieldPath>()
            var result: [FieldPath] = []
            func visit(_ e: Expression) {
                switch e {
                case .matchAll: return
                case .term(let f, _), .exists(let f), .range(let f, _, _):
                    if seen.insert(f).inserted { result.append(f) }
                case .and(let children), .or(let children): children.forEach(visit)
                case .not(let child): visit(child)
                }
            }
            visit(self)
            return result
        }

        public var description: String { render(nested: false) }

        func render(nested: Bool) -> String {
            switch self {
            case .matchAll:
                return "*:*"
            case .term(let field, let match):
                return "\(field):\(match)"
            case .exists(let field):
                return "_exists_:\(field)"
            case .range(let field, let lower, let upper):
                let open = (lower?.inclusive ?? true) ? "[" : "{"
                let close = (upper?.inclusive ?? true) ? "]" : "}"
                let lo = lower.map { UserSearchSyntax.renderRangeBound($0.value.text) } ?? "*"
                let hi = upper.map { UserSearchSyntax.renderRangeBound($0.value.text) } ?? "*"
                return "\(field):\(open)\(lo) TO \(hi)\(close)"
            case .and(let children):
                let text = children.map { $0.render(nested: true) }.joined(separator: " AND ")
                return nested ? "(\(text))" : text
            case .or(let children):
                let text = children.map { $0.render(nested: true) }.joined(separator: " OR ")
                return nested ? "(\(text))" : text
            case .not(let child):
                return "NOT \(child.render(nested: true))"
            }
        }
    }

    /// A dotted field path: `["app_metadata", "plan", "tier"]` for `app_metadata.plan.tier`.
    public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let components: [String]

        public init(_ components: [String]) {
            self.components = components
        }

        /// Splits on every `.` (use `init(_:)` for components that contain dots).
        public init(dotted: String) {
            self.components = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }

        public init(stringLiteral value: String) {
            self.init(dotted: value)
        }

        /// `email`, `name`, `given_name`, `family_name`, `nickname` and `email.domain` compare case-insensitively.
        public var isCaseInsensitive: Bool {
            if components.count == 1, let first = components.first {
                return UserSearchQuery.caseInsensitiveFields.contains(first)
            }
            return isEmailDomain
        }

        /// `email.domain`: derived from `email` (the part after the last `@`).
        public var isEmailDomain: Bool { components == ["email", "domain"] }

        /// Paths under `user_metadata` (where Auth0 allows neither ranges nor wildcards).
        public var isUserMetadata: Bool { components.first == "user_metadata" }

        /// The path as written in a query, with special characters escaped.
        public var description: String {
            components.map(UserSearchSyntax.escapeFieldComponent).joined(separator: ".")
        }
    }

    /// How a term compares with a value.
    public enum ValueMatch: Sendable, Hashable, CustomStringConvertible {
        /// Unquoted value without wildcards: whole-value equality, interpreted by `literal` against typed values.
        case exact(String)
        /// Quoted value: whole-value equality (v3 does not tokenize), no wildcard characters.
        case phrase(String)
        /// Unquoted value with `*` (any run) or `?` (one character).
        case wildcard(WildcardPattern)

        /// The value's typed interpretations (nil for wildcards).
        public var literal: Literal? {
            switch self {
            case .exact(let text), .phrase(let text): return Literal(text)
            case .wildcard: return nil
            }
        }

        public var description: String {
            switch self {
            case .exact(let text): return text.isEmpty ? "\"\"" : UserSearchSyntax.escapeValue(text)
            case .phrase(let text): return UserSearchSyntax.quote(text)
            case .wildcard(let pattern): return pattern.description
            }
        }
    }

    /// One side of a range. A `nil` bound (written `*`) is unbounded.
    public struct RangeBound: Sendable, Hashable {
        public let value: Literal
        /// `[`/`]` is inclusive, `{`/`}` exclusive.
        public let inclusive: Bool

        public init(_ value: Literal, inclusive: Bool) {
            self.value = value
            self.inclusive = inclusive
        }
    }

    /// A query value with every typed reading it allows. The evaluator picks the reading that fits the document's
    /// JSON type: `true` is a boolean for a boolean field and the text "true" for a string field.
    public struct Literal: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The value as written (escapes removed).
        public let text: String

        public init(_ text: String) {
            self.text = text
        }

        public init(stringLiteral value: String) {
            self.init(value)
        }

        /// The most specific reading, for translators that want one.
        public enum Kind: Sendable, Hashable {
            case bool, integer, number, date, string
        }

        public var kind: Kind {
            if bool != nil { return .bool }
            if integer != nil { return .integer }
            if number != nil { return .number }
            if date != nil { return .date }
            return .string
        }

        /// `true` or `false` (lower case, as JSON writes them).
        public var bool: Bool? {
            switch text {
            case "true": return true
            case "false": return false
            default: return nil
            }
        }

        /// A decimal integer that fits in 64 bits.
        public var integer: Int64? {
            guard UserSearchSyntax.isDecimalInteger(text) else { return nil }
            return Int64(text)
        }

        /// A finite decimal number (integers included).
        public var number: Double? {
            guard UserSearchSyntax.isDecimalNumber(text), let value = Double(text), value.isFinite else { return nil }
            return value
        }

        /// An ISO-8601 date or date-time (`2024`, `2024-01`, `2024-01-15`, `2024-01-15T10:20:30.123Z`, …).
        public var date: SearchDate? { SearchDate(iso8601: text) }

        public var description: String { text }
    }

    /// A wildcard pattern: literal runs, `*` (zero or more characters) and `?` (exactly one character).
    public struct WildcardPattern: Sendable, Hashable, CustomStringConvertible {
        public enum Element: Sendable, Hashable {
            case literal(String)
            case anyCharacters
            case anyCharacter
        }

        /// Adjacent literals are merged and runs of `*` collapsed.
        public let elements: [Element]

        public init(_ elements: [Element]) {
            var normalized: [Element] = []
            for element in elements {
                switch (normalized.last, element) {
                case (.literal(let a)?, .literal(let b)):
                    normalized[normalized.count - 1] = .literal(a + b)
                case (.anyCharacters?, .anyCharacters):
                    continue
                case (_, .literal(let s)) where s.isEmpty:
                    continue
                default:
                    normalized.append(element)
                }
            }
            self.elements = normalized
        }

        /// Number of literal characters (Auth0 requires ≥ 3 when the pattern starts with a wildcard).
        public var literalCharacterCount: Int {
            elements.reduce(0) { count, element in
                if case .literal(let s) = element { return count + s.count }
                return count
            }
        }

        /// True when the pattern starts with `*` or `?` (suffix or infix match).
        public var startsWithWildcard: Bool {
            switch elements.first {
            case .literal?, nil: return false
            default: return true
            }
        }

        /// `literal*`: translatable to an index-friendly prefix comparison.
        public var prefix: String? {
            if elements.count == 2, case .literal(let s) = elements[0], case .anyCharacters = elements[1] { return s }
            return nil
        }

        /// Whole-string match, optionally ignoring case.
        public func matches(_ value: String, caseInsensitive: Bool) -> Bool {
            let text = Array(caseInsensitive ? value.lowercased() : value)
            var tokens: [Character?] = []  // nil = '?', handled with `star` flags below
            var stars: [Bool] = []
            for element in elements {
                switch element {
                case .literal(let s):
                    for ch in (caseInsensitive ? s.lowercased() : s) {
                        tokens.append(ch)
                        stars.append(false)
                    }
                case .anyCharacter:
                    tokens.append(nil)
                    stars.append(false)
                case .anyCharacters:
                    tokens.append(nil)
                    stars.append(true)
                }
            }
            // Iterative glob matching with single-star backtracking: O(text × pattern) worst case, no recursion.
            var t = 0
            var p = 0
            var starP = -1
            var starT = 0
            while t < text.count {
                if p < tokens.count, !stars[p], tokens[p] == nil || tokens[p] == text[t] {
                    t += 1
                    p += 1
                } else if p < tokens.count, stars[p] {
                    starP = p
                    starT = t
                    p += 1
                } else if starP >= 0 {
                    p = starP + 1
                    starT += 1
                    t = starT
                } else {
                    return false
                }
            }
            while p < tokens.count, stars[p] { p += 1 }
            return p == tokens.count
        }

        /// A SQL `LIKE` pattern (`%` for `*`, `_` for `?`) with `%`, `_` and the escape character escaped.
        /// Use with `LIKE ? ESCAPE '\'` (or the escape you pass).
        public func sqlLikePattern(escape: Character = "\\") -> String {
            var result = ""
            for element in elements {
                switch element {
                case .literal(let s):
                    for ch in s {
                        if ch == "%" || ch == "_" || ch == escape { result.append(escape) }
                        result.append(ch)
                    }
                case .anyCharacters: result.append("%")
                case .anyCharacter: result.append("_")
                }
            }
            return result
        }

        public var description: String {
            elements.enumerated().map { index, element in
                switch element {
                case .literal(let s): return UserSearchSyntax.escapeValue(s, atStart: index == 0)
                case .anyCharacters: return "*"
                case .anyCharacter: return "?"
                }
            }.joined()
        }
    }
}

/// Character classes and escaping shared by the parser and the printer.
enum UserSearchSyntax {
    /// End a word anywhere (unless escaped).
    static func isTerminator(_ s: Unicode.Scalar) -> Bool {
        if s.properties.isWhitespace { return true }
        switch s {
        case "(", ")", "\"", "[", "]", "{", "}", "^", "~": return true
        default: return false
        }
    }

    static func isWildcard(_ s: Unicode.Scalar) -> Bool { s == "*" || s == "?" }

    static func escapeValue(_ text: String) -> String { escapeValue(text, atStart: true) }

    /// Escapes what would end or change a value word; `/` only where it would start a regular expression.
    static func escapeValue(_ text: String, atStart: Bool) -> String {
        var out = ""
        var first = atStart
        for scalar in text.unicodeScalars {
            if isTerminator(scalar) || isWildcard(scalar) || scalar == "\\" || (first && scalar == "/") {
                out.unicodeScalars.append("\\")
            }
            out.unicodeScalars.append(scalar)
            first = false
        }
        return out
    }

    static func escapeFieldComponent(_ text: String) -> String {
        var out = ""
        var first = true
        for scalar in text.unicodeScalars {
            let special: Bool
            switch scalar {
            case ".", ":", "\\", "*", "?", "/": special = true
            case "+", "-", "!", "&", "|": special = first
            default: special = isTerminator(scalar)
            }
            if special { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(scalar)
            first = false
        }
        return out
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        out += "\""
        return out
    }

    /// A bound prints bare when that reads back the same, otherwise quoted (so `*` and `TO` stay literal).
    static func renderRangeBound(_ text: String) -> String {
        if text.isEmpty || text == "TO" { return quote(text) }
        for scalar in text.unicodeScalars where isTerminator(scalar) || isWildcard(scalar) || scalar == "\\" {
            return quote(text)
        }
        return text
    }

    static func isDecimalInteger(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `[+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?`, so Swift's `Double("nan")`/hex forms are never used.
    static func isDecimalNumber(_ text: String) -> Bool {
        let chars = Array(text.utf8)
        var i = 0
        func digitsRun() -> Int {
            let start = i
            while i < chars.count, chars[i] >= 48, chars[i] <= 57 { i += 1 }
            return i - start
        }
        if i < chars.count, chars[i] == 43 || chars[i] == 45 { i += 1 }
        let intDigits = digitsRun()
        var fracDigits = 0
        if i < chars.count, chars[i] == 46 {
            i += 1
            fracDigits = digitsRun()
        }
        guard intDigits + fracDigits > 0 else { return false }
        if i < chars.count, chars[i] == 101 || chars[i] == 69 {
            i += 1
            if i < chars.count, chars[i] == 43 || chars[i] == 45 { i += 1 }
            guard digitsRun() > 0 else { return false }
        }
        return i == chars.count
    }
}
