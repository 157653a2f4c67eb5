/// Text that will become one line of an email header (a subject, a display name), made safe to send.
///
/// Subjects and senders are rendered from templates, and templates print user data (`Hello {{ user.name }}`), and
/// user data is whatever the person or an API caller typed: Auth0 accepts control characters in profile fields, so
/// Usher does too. The MIME builder refuses a header value with a line break (that is how header injection is
/// stopped), which turned a user called "Ada\r\nBcc: victim@example.com" into an invitation that was never sent.
/// So text is neutralised where mail enters the outbox: every line break and control character becomes a space
/// (runs of them one space). The message still goes out, to its one recipient, and no header can be injected.
public enum HeaderLine {
    /// `text` on one line: CR, LF, the other C0 controls, DEL, the C1 controls (NEL among them) and the Unicode
    /// line and paragraph separators replaced by a space, runs of whitespace folded to one, ends trimmed. Text that
    /// is already safe is returned as it was.
    public static func neutralized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var result = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) || scalar == " " || scalar == "\t" {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace { result.append(" ") }
            pendingSpace = false
            result.append(scalar)
        }
        return String(result)
    }

    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x08, 0x0A...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}
