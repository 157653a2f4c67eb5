/// A template that cannot be parsed. Thrown by ``LiquidTemplate/parse(_:environment:name:)``.
///
/// `description` reads `line 3, column 14: unknown tag 'endfi'; did you mean 'endif'?` so it can be
/// shown to a template author as it is (prefixed with the template name for partials).
public struct LiquidSyntaxError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based line of the offending token.
    public let line: Int
    /// 1-based column (in characters) of the offending token.
    public let column: Int
    /// What is wrong, phrased for a template author.
    public let message: String
    /// The partial or layout the error is in; `nil` for the template being parsed.
    public let templateName: String?

    public init(line: Int, column: Int, message: String, templateName: String? = nil) {
        self.line = line
        self.column = column
        self.message = message
        self.templateName = templateName
    }

    public var description: String {
        let location = "line \(line), column \(column): \(message)"
        if let templateName { return "in '\(templateName)', \(location)" }
        return location
    }
}

/// A failure while rendering: a filter given unusable input, a strict-mode undefined variable, a
/// missing partial, a resource limit, or an error thrown by a host drop, filter or tag.
///
/// Rendering never traps on any template or data; everything ends up here instead.
public struct LiquidRenderError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A filter or tag argument of the wrong kind or count (Ruby Liquid's ArgumentError).
        case argument
        case zeroDivision
        /// Strict variables: a variable or property that does not exist.
        case undefinedVariable
        /// Strict filters: a filter that is not registered.
        case undefinedFilter
        /// `include`/`render`/`layout` named a template the template source does not have.
        case templateNotFound
        /// A partial or layout failed to parse; see `underlyingSyntaxError`.
        case partialSyntax
        /// A resource limit was hit (see ``LiquidLimits``); the render was stopped.
        case limitExceeded(LiquidLimits.Limit)
        /// `include` inside a template rendered with `render` (not allowed, as in Ruby Liquid).
        case disallowedTag
        /// An error thrown by host code (a drop, custom filter or custom tag).
        case host
    }

    public let kind: Kind
    public let message: String
    /// 1-based line of the tag or output that failed, when known.
    public internal(set) var line: Int?
    /// The partial or layout that failed; `nil` for the template being rendered.
    public internal(set) var templateName: String?
    /// For `.partialSyntax`: the parse error in the partial.
    public internal(set) var underlyingSyntaxError: LiquidSyntaxError?

    public init(_ kind: Kind, _ message: String, line: Int? = nil, templateName: String? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.templateName = templateName
    }

    public var description: String {
        var location = ""
        if let templateName { location += "in '\(templateName)'" }
        if let line { location += (location.isEmpty ? "" : ", ") + "line \(line)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }

    /// Wraps any error thrown by host code so callers only ever see `LiquidRenderError`.
    static func wrapping(_ error: any Error) -> LiquidRenderError {
        if let e = error as? LiquidRenderError { return e }
        return LiquidRenderError(.host, String(describing: error))
    }
}
