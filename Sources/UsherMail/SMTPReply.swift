/// One complete SMTP reply: a three-digit code and one or more text lines (RFC 5321 §4.2).
///
/// A multi-line reply (`250-first`, `250-second`, `250 last`) arrives as one value with all its lines.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    /// The reply code, 200–599.
    public let code: Int
    /// The text of each line, after the code and the separator.
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// 2xx: the requested action was completed.
    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
    /// 3xx: the server waits for more (354 after DATA, 334 during AUTH).
    public var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: a temporary failure; the same command may succeed later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5xx: a permanent failure; repeating the same command will fail again.
    public var isPermanentFailure: Bool { code >= 500 }

    /// The RFC 3463 enhanced status code at the start of the first line (`5.1.1`), if present and
    /// consistent with the reply code's class.
    public var enhancedStatusCode: SMTPEnhancedStatusCode? {
        guard let first = lines.first, let status = SMTPEnhancedStatusCode(prefixOf: first),
            status.statusClass == code / 100
        else { return nil }
        return status
    }

    /// The server's text, lines joined with a space, without the enhanced status code.
    public var text: String {
        var joined = lines.joined(separator: " ")
        if let status = enhancedStatusCode {
            joined.removeFirst(status.description.count)
            while joined.first == " " { joined.removeFirst() }
        }
        return joined
    }

    /// `550 5.1.1 User unknown` (all lines joined).
    public var description: String { "\(code) \(lines.joined(separator: " "))" }
}

/// An RFC 3463 enhanced mail system status code, `class.subject.detail` (e.g. `4.2.2` mailbox full).
public struct SMTPEnhancedStatusCode: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 2 success, 4 persistent transient failure, 5 permanent failure.
    public let statusClass: Int
    /// The subject (1 addressing, 2 mailbox, 3 mail system, 4 network, 5 protocol, 6 content, 7 security).
    public let subject: Int
    /// The detail within the subject.
    public let detail: Int

    public init(statusClass: Int, subject: Int, detail: Int) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// Parses a code at the start of `text` followed by a space or the end.
    init?(prefixOf text: String) {
        let token = text.prefix { $0 != " " }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let c = Int(parts[0]), let s = Int(parts[1]), let d = Int(parts[2]), [2, 4, 5].contains(c), parts[0].count == 1
        else { return nil }
        self.init(statusClass: c, subject: s, detail: d)
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }
}

/// What the server offers, from its EHLO reply (RFC 5321 §4.1.1.1 and the extensions' RFCs).
public struct SMTPCapabilities: Sendable, Equatable {
    /// Every keyword, upper-cased, with its parameters: `["SIZE": ["10240000"], "AUTH": ["PLAIN", "LOGIN"]]`.
    public let keywords: [String: [String]]

    /// Capabilities of a server that only answered HELO: none.
    public static let none = SMTPCapabilities(keywords: [:])

    public init(keywords: [String: [String]]) {
        self.keywords = keywords
    }

    /// Parses an EHLO reply; the first line is the server's greeting, the others are extensions.
    public init(ehloReply: SMTPReply) {
        var keywords: [String: [String]] = [:]
        for line in ehloReply.lines.dropFirst() {
            var parts = line.split(separator: " ").map(String.init)
            guard !parts.isEmpty else { continue }
            var keyword = parts.removeFirst().uppercased()
            // Old servers say "AUTH=LOGIN PLAIN".
            if keyword.hasPrefix("AUTH=") {
                parts.insert(String(keyword.dropFirst(5)), at: 0)
                keyword = "AUTH"
            }
            if keyword == "AUTH" {
                keywords["AUTH", default: []].append(contentsOf: parts.map { $0.uppercased() })
            } else {
                keywords[keyword] = parts
            }
        }
        self.keywords = keywords
    }

    /// Whether `keyword` (case-insensitive) was offered.
    public func supports(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    public var startTLS: Bool { supports("STARTTLS") }
    public var pipelining: Bool { supports("PIPELINING") }
    public var eightBitMIME: Bool { supports("8BITMIME") }
    public var smtpUTF8: Bool { supports("SMTPUTF8") }
    public var enhancedStatusCodes: Bool { supports("ENHANCEDSTATUSCODES") }

    /// The SASL mechanisms offered with AUTH, upper-cased.
    public var authMechanisms: Set<String> { Set(keywords["AUTH"] ?? []) }

    /// The SIZE limit in octets if the server declared one (RFC 1870); nil if SIZE was not offered or
    /// offered without a limit (or with 0, meaning no fixed limit).
    public var maximumMessageSize: Int? {
        guard let parameters = keywords["SIZE"], let first = parameters.first, let size = Int(first), size > 0 else {
            return nil
        }
        return size
    }
}
