import Foundation
import UsherJSON

/// Which language a person is addressed in, emails and pages alike: the first of, in order, the invitation's
/// `locale`, the user's `user_metadata.locale` (or `lang`), the browser's `Accept-Language` (pages; for emails the
/// request's, when a person asked for the link), the application's `client_metadata.locale`, and the tenant's
/// default (the first of `enabled_locales`, else English) — taking only a language that has texts (and, when the
/// tenant lists `enabled_locales`, one of those).
///
/// Tags compare case-insensitively with `_` read as `-`; a regional tag (`fr-CA`) falls back to its language
/// (`fr`), and a bare language accepts its first regional variant (`fr` takes `fr-FR` when only that exists).
public struct LocaleChoice: Sendable, Equatable {
    /// Candidate tags, most specific first; empty and malformed ones are already dropped.
    public var candidates: [String]

    public init(candidates: [String]) { self.candidates = candidates }

    /// The candidates for `user`, in the order above. `invitationLocale` is the pending invitation's locale, if any.
    public init(
        invitationLocale: String? = nil, user: User? = nil, acceptLanguage: String? = nil, client: Client? = nil, tenant: TenantSettings
    ) {
        var tags: [String?] = [invitationLocale, user?.userMetadata["locale"]?.stringValue, user?.userMetadata["lang"]?.stringValue]
        tags += Self.acceptLanguage(acceptLanguage ?? "").map(Optional.some)
        tags.append(client?.clientMetadata["locale"]?.stringValue)
        tags += tenant.enabledLocales.map(Optional.some)
        self.candidates = tags.compactMap { $0.flatMap(Self.normalized) }
        self.enabled = tenant.enabledLocales.compactMap(Self.normalized)
    }

    /// The tenant's `enabled_locales`: when not empty, only these are chosen, and the first is the default.
    public var enabled: [String] = []

    /// The tenant's default language: the first enabled locale, else English.
    public var defaultLanguage: String { enabled.first ?? "en" }

    /// The first candidate that `available` has (matching as the type explains), else the default language.
    public func pick(from available: some Collection<String>) -> String {
        let offered = available.compactMap(Self.normalized).filter { tag in enabled.isEmpty || enabled.contains { Self.matches(tag, $0) } }
        for candidate in candidates {
            if let exact = offered.first(where: { $0 == candidate }) { return exact }
            let language = Self.primary(candidate)
            if let general = offered.first(where: { $0 == language }) { return general }
            if let regional = offered.first(where: { Self.primary($0) == language }) { return regional }
        }
        return defaultLanguage
    }

    /// `fr_ca` → `fr-CA`-style lower-case `fr-ca`; nil for anything that is not a language tag (letters, digits, `-`, at most 35).
    public static func normalized(_ tag: String) -> String? {
        let tag = tag.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-").lowercased()
        guard !tag.isEmpty, tag.count <= 35, tag.first?.isLetter == true,
            tag.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { return nil }
        return tag
    }

    static func primary(_ tag: String) -> String { String(tag.prefix { $0 != "-" }) }

    static func matches(_ a: String, _ b: String) -> Bool { a == b || primary(a) == primary(b) }

    /// The tags of an `Accept-Language` header by preference (q-values, then order); `*` and `q=0` are left out.
    public static func acceptLanguage(_ header: String) -> [String] {
        var weighted: [(tag: String, q: Double, index: Int)] = []
        for (index, part) in header.split(separator: ",").prefix(32).enumerated() {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first, !tag.isEmpty, tag != "*" else { continue }
            var q = 1.0
            for parameter in pieces.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            if q > 0 { weighted.append((tag, q, index)) }
        }
        return weighted.sorted { ($0.q, -$0.index) > ($1.q, -$1.index) }.map(\.tag)
    }
}

extension TenantSettings {
    /// `enabled_locales`, in the order the tenant gave them.
    public var enabledLocales: [String] {
        object["enabled_locales"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
