import Foundation

/// Markup built in Swift with one escaping path: text interpolated into an `HTML` literal is escaped, and only
/// another `HTML` value goes in as it is. Markup can only come from literals written in this code base, so a
/// name, an email, metadata or a template body always reaches the page as text.
///
/// ```swift
/// let row: HTML = "<td>\(user.name)</td>"   // user.name is escaped
/// ```
struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    private(set) var markup: String

    init(stringLiteral literal: String) { markup = literal }
    init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    /// `text`, escaped.
    init(text: String) { markup = Self.escape(text) }

    /// Many fragments in a row.
    init(joining parts: some Sequence<HTML>) { markup = parts.map(\.markup).joined() }

    var description: String { markup }

    struct Interpolation: StringInterpolationProtocol {
        var markup = ""
        init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity + 16 * interpolationCount) }
        mutating func appendLiteral(_ literal: String) { markup += literal }
        mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }
        /// Nothing for nil.
        mutating func appendInterpolation(_ text: String?) { if let text { markup += HTML.escape(text) } }
        mutating func appendInterpolation(_ number: Int) { markup += String(number) }
        mutating func appendInterpolation(_ html: HTML) { markup += html.markup }
        mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { markup += part.markup } }
    }

    /// Escapes the five characters that end text or an attribute value (quoted with `"` or `'`).
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A path with a query string, each value percent-encoded (still escaped when interpolated as an attribute).
    static func path(_ path: String, query: [(String, String?)]) -> String {
        let pairs = query.compactMap { name, value in
            value.flatMap { $0.isEmpty ? nil : $0 }.map { name + "=" + percentEncoded($0) }
        }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
