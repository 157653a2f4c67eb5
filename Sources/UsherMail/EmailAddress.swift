import Foundation

/// A validated mailbox: `local-part@domain`, with an optional display name.
///
/// Construction validates the address against RFC 5321's `Mailbox` grammar (dot-atom or quoted
/// local part, at most 64 octets; LDH domain labels or an address literal; at most 254 octets in
/// all), extended by RFC 6531 so the local part may contain UTF-8. An internationalized domain
/// (`bücher.example`) is accepted and converted to its ASCII form (`xn--bcher-kva.example`) for the
/// wire, so only a non-ASCII *local part* needs the server's `SMTPUTF8` extension
/// (``requiresSMTPUTF8``). Anything that could break out of a header or an SMTP command (CR, LF,
/// other control characters, `<`, `>`, spaces outside quotes) is rejected, which is one half of
/// header-injection safety; the MIME writer encoding display names is the other.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The local part as given (a quoted local part keeps its quotes), e.g. `zoë` or `"john doe"`.
    public let localPart: String
    /// The domain as given, e.g. `bücher.example` or `[192.0.2.1]`.
    public let domain: String
    /// The domain in ASCII form (IDNA A-labels, lower-cased), used in SMTP commands and headers.
    public let asciiDomain: String
    /// The human-readable name shown by mail clients (`Zoë Martin` in `Zoë Martin <zoe@example.com>`).
    public let displayName: String?

    /// Creates a validated address.
    /// - Parameters:
    ///   - address: the bare address, `local@domain` (no angle brackets, no display name).
    ///   - displayName: optional name; any Unicode text without control characters or line breaks.
    /// - Throws: ``MailMessageError`` with kind `.invalidAddress` naming what is wrong.
    public init(_ address: String, displayName: String? = nil) throws(MailMessageError) {
        let parsed = try EmailAddress.parseAddress(address)
        self.localPart = parsed.local
        self.domain = parsed.domain
        self.asciiDomain = parsed.asciiDomain
        if let displayName {
            try HeaderText.validateUnstructured(displayName, field: "display name")
            let trimmed = HeaderText.trimmed(displayName)
            self.displayName = trimmed.isEmpty ? nil : trimmed
        } else {
            self.displayName = nil
        }
    }

    /// Parses `Display Name <local@domain>`, `"Quoted, Name" <local@domain>` or a bare `local@domain`.
    ///
    /// Convenient for configuration values such as a `from` setting; the display name is unquoted.
    public init(parsing text: String) throws(MailMessageError) {
        let trimmed = HeaderText.trimmed(text)
        guard trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") else {
            try self.init(trimmed)
            return
        }
        let inner = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        var name = HeaderText.trimmed(String(trimmed[..<open]))
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            var unquoted = ""
            var escaped = false
            for ch in name.dropFirst().dropLast() {
                if escaped {
                    unquoted.append(ch)
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else {
                    unquoted.append(ch)
                }
            }
            name = unquoted
        }
        try self.init(inner, displayName: name.isEmpty ? nil : name)
    }

    /// The address as given: `local@domain` (domain in its Unicode form if it was given so).
    public var address: String { "\(localPart)@\(domain)" }

    /// The address as sent in `MAIL FROM`/`RCPT TO` and in headers: `local@ascii-domain`.
    public var wireAddress: String { "\(localPart)@\(asciiDomain)" }

    /// Whether delivering to or from this address needs the server's `SMTPUTF8` extension
    /// (RFC 6531): true exactly when the local part contains non-ASCII characters.
    public var requiresSMTPUTF8: Bool { localPart.utf8.contains { $0 >= 0x80 } }

    /// The same address with another display name.
    public func withDisplayName(_ name: String?) throws(MailMessageError) -> EmailAddress {
        try EmailAddress(address, displayName: name)
    }

    public var description: String {
        if let displayName { return "\(displayName) <\(address)>" }
        return address
    }

    // MARK: - validation

    private static func invalid(_ address: String, _ reason: String) -> MailMessageError {
        MailMessageError(.invalidAddress, field: nil, reason: "\(HeaderText.excerpt(address)): \(reason)")
    }

    private static func parseAddress(_ raw: String) throws(MailMessageError) -> (
        local: String, domain: String, asciiDomain: String
    ) {
        let address = HeaderText.trimmed(raw)
        guard !address.isEmpty else { throw invalid(raw, "the address is empty") }
        for scalar in address.unicodeScalars where HeaderText.isForbiddenControl(scalar) {
            throw invalid(raw, "contains a control character or line break (U+\(HeaderText.hex(scalar)))")
        }
        guard let at = address.lastIndex(of: "@") else { throw invalid(raw, "has no '@'") }
        let local = String(address[..<at])
        let domain = String(address[address.index(after: at)...])
        guard !local.isEmpty else { throw invalid(raw, "the local part (before '@') is empty") }
        guard !domain.isEmpty else { throw invalid(raw, "the domain (after '@') is empty") }
        guard local.utf8.count <= 64 else {
            throw invalid(raw, "the local part is longer than 64 octets (RFC 5321 §4.5.3.1.1)")
        }
        if local.hasPrefix("\"") {
            try validateQuotedLocal(local, raw: raw)
        } else {
            try validateDotAtomLocal(local, raw: raw)
        }
        let asciiDomain: String
        if domain.hasPrefix("[") {
            try validateAddressLiteral(domain, raw: raw)
            asciiDomain = domain
        } else {
            asciiDomain = try toASCIIDomain(domain, raw: raw)
        }
        guard local.utf8.count + 1 + asciiDomain.utf8.count <= 254 else {
            throw invalid(raw, "the address is longer than 254 octets")
        }
        return (local, domain, asciiDomain)
    }

    /// RFC 5322 `atext`, extended by RFC 6531 with any non-ASCII character.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~":
            return true
        default:
            return scalar.value >= 0x80 && !HeaderText.isForbiddenControl(scalar) && !scalar.properties.isWhitespace
        }
    }

    private static func validateDotAtomLocal(_ local: String, raw: String) throws(MailMessageError) {
        if local.hasPrefix(".") || local.hasSuffix(".") {
            throw invalid(raw, "the local part may not start or end with '.' (quote it if it must)")
        }
        if HeaderText.hasDoubleDot(local) { throw invalid(raw, "the local part contains '..' (quote it if it must)") }
        for scalar in local.unicodeScalars where scalar != "." && !isAtext(scalar) {
            throw invalid(raw, "the local part contains '\(scalar)', which is only allowed inside quotes")
        }
    }

    private static func validateQuotedLocal(_ local: String, raw: String) throws(MailMessageError) {
        let scalars = Array(local.unicodeScalars)
        guard scalars.count >= 2, scalars.last == "\"" else {
            throw invalid(raw, "the quoted local part is not closed by '\"'")
        }
        var i = 1
        while i < scalars.count - 1 {
            let s = scalars[i]
            if s == "\\" {
                guard i + 1 < scalars.count - 1, (0x20...0x7E).contains(scalars[i + 1].value) else {
                    throw invalid(raw, "the quoted local part has a bad escape")
                }
                i += 2
                continue
            }
            if s == "\"" { throw invalid(raw, "the quoted local part contains an unescaped '\"'") }
            guard s.value >= 0x20 else { throw invalid(raw, "the quoted local part contains a control character") }
            i += 1
        }
    }

    private static func validateAddressLiteral(_ domain: String, raw: String) throws(MailMessageError) {
        guard domain.hasSuffix("]"), domain.count > 2 else { throw invalid(raw, "the address literal is not closed by ']'") }
        let inner = domain.dropFirst().dropLast()
        if inner.lowercased().hasPrefix("ipv6:") {
            let body = inner.dropFirst(5)
            guard !body.isEmpty, body.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), body.contains(":") else {
                throw invalid(raw, "the IPv6 address literal is malformed")
            }
            return
        }
        let parts = inner.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ p in p.count >= 1 && p.count <= 3 && p.allSatisfy(\.isASCII) && Int(p).map { $0 <= 255 } == true }) else {
            throw invalid(raw, "the address literal is not an IPv4 address (or IPv6:…)")
        }
    }

    /// Converts a domain to its ASCII form: each label lower-cased, NFC-normalised and, if it is not
    /// ASCII, Punycode-encoded with the `xn--` prefix (IDNA's ToASCII, without the full UTS #46 mapping
    /// table; enough for the domains people type).
    static func toASCIIDomain(_ domain: String, raw: String) throws(MailMessageError) -> String {
        var name = domain
        if name.hasSuffix(".") { name.removeLast() }  // a fully-qualified trailing dot
        guard !name.isEmpty else { throw invalid(raw, "the domain is empty") }
        var labels: [String] = []
        for label in HeaderText.split(name, on: UInt8(ascii: ".")) {
            guard !label.isEmpty else { throw invalid(raw, "the domain has an empty label ('..' or a leading '.')") }
            // NFC only matters (and only costs) for non-ASCII labels.
            let normalized =
                label.utf8.allSatisfy { $0 < 0x80 }
                ? label.lowercased() : String(label).precomposedStringWithCanonicalMapping.lowercased()
            let ascii: String
            if normalized.unicodeScalars.allSatisfy(\.isASCII) {
                ascii = normalized
            } else {
                for scalar in normalized.unicodeScalars where !scalar.isASCII {
                    let props = scalar.properties
                    guard
                        props.isAlphabetic || props.numericType != nil || props.generalCategory == .nonspacingMark
                            || props.generalCategory == .spacingMark
                    else {
                        throw invalid(raw, "the domain contains '\(scalar)', which is not a letter or digit")
                    }
                }
                guard let encoded = Punycode.encode(normalized) else {
                    throw invalid(raw, "the domain label '\(label)' cannot be converted to ASCII")
                }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else { throw invalid(raw, "the domain label '\(label)' is longer than 63 octets") }
            for byte in ascii.utf8 {
                let ok =
                    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
                    || (byte >= 0x41 && byte <= 0x5A)
                guard ok else {
                    throw invalid(raw, "the domain contains '\(Unicode.Scalar(byte))'; only letters, digits and '-' are allowed")
                }
            }
            guard !ascii.hasPrefix("-"), !ascii.hasSuffix("-") else {
                throw invalid(raw, "the domain label '\(label)' starts or ends with '-'")
            }
            labels.append(ascii)
        }
        let result = labels.joined(separator: ".")
        guard result.utf8.count <= 253 else { throw invalid(raw, "the domain is longer than 253 octets") }
        return result
    }
}

/// Punycode (RFC 3492) encoder for internationalized domain labels.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    private static func adapt(_ delta: Int, _ numPoints: Int, _ firstTime: Bool) -> Int {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
    }

    /// Encodes one label (without the `xn--` prefix); nil on overflow.
    static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = ""
        for s in scalars where s < 0x80 { output.append(Character(Unicode.Scalar(UInt8(s)))) }
        let basicCount = output.unicodeScalars.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
