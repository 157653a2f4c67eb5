import Foundation
import HTTPTypes
import Hummingbird
import UsherCore

/// `/dev/mail`: the development mailbox, for reading mail Usher "sent" while no provider was configured.
///
/// Registered only when the development mailbox is the transport, which production start-up refuses, so these
/// unauthenticated pages never exist on a production server. Every stored value is HTML-escaped; the message's
/// HTML is shown in a sandboxed `<iframe srcdoc>` (escaped into the attribute) under a policy that runs no script.
public struct DevMailboxController: Sendable {
    let mail: MailService

    public init(mail: MailService) { self.mail = mail }

    /// No scripts anywhere (the srcdoc frame inherits this policy), inline styles and images allowed for previews.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    public func register(on router: Router<UsherRequestContext>) {
        let mail = self.mail
        router.get("dev/mail") { _, _ -> Response in
            Self.page(title: "Development mailbox", body: Self.listBody(try await mail.devMails()))
        }
        router.group().add(middleware: APIErrorMiddleware(style: .devMailbox)).get("dev/mail/:id") { _, context -> Response in
            let id = try HTTPInput.pathParameter("id", context)
            guard let message = try await mail.devMail(id: id) else { throw UsherError(.notFound, "No such message") }
            return Self.page(title: message.subject, body: Self.messageBody(message))
        }
    }

    static func listBody(_ messages: [DevMailboxMessage]) -> String {
        var html = """
            <h1>Development mailbox</h1>
            <p class="note">No email provider is configured, so Usher stores mail here instead of sending it. \
            Configure one with <code>USHER_SMTP_URL</code> or <code>POST /api/v2/emails/provider</code>.</p>
            """
        if messages.isEmpty { return html + "<p>No messages yet.</p>" }
        html += "<table><thead><tr><th>Received</th><th>To</th><th>Subject</th></tr></thead><tbody>"
        for m in messages {
            let link = "/dev/mail/" + (m.id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? m.id)
            html += "<tr><td>\(escape(Timestamp.iso8601(m.receivedAt)))</td><td>\(escape(m.to))</td>"
            html += "<td><a href=\"\(escape(link))\">\(escape(m.subject.isEmpty ? "(no subject)" : m.subject))</a></td></tr>"
        }
        return html + "</tbody></table>"
    }

    static func messageBody(_ m: DevMailboxMessage) -> String {
        var rows: [(String, String)] = [("From", m.from), ("To", m.to)]
        if let replyTo = m.replyTo { rows.append(("Reply-To", replyTo)) }
        rows += [("Subject", m.subject), ("Date", Timestamp.iso8601(m.receivedAt)), ("Message-ID", m.messageID)]
        if let outboxID = m.outboxID { rows.append(("Outbox id", outboxID)) }
        var html = "<p><a href=\"/dev/mail\">&larr; Mailbox</a></p><h1>\(escape(m.subject))</h1><table class=\"headers\">"
        for (name, value) in rows { html += "<tr><th>\(escape(name))</th><td>\(escape(value))</td></tr>" }
        html += "</table><h2>HTML part</h2>"
        // sandbox="" : no scripts, no forms, no top navigation, unique origin.
        html += "<iframe sandbox=\"\" referrerpolicy=\"no-referrer\" title=\"HTML part\" srcdoc=\"\(escape(m.html))\"></iframe>"
        html += "<h2>Text part</h2><pre>\(escape(m.text ?? "(none: clients derive it from the HTML)"))</pre>"
        return html
    }

    /// Escapes text for element content and double- or single-quoted attributes (the dashboard's `HTML.escape`).
    public static func escape(_ text: String) -> String { HTML.escape(text) }

    static func page(title: String, body: String, status: HTTPResponse.Status = .ok) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · Usher</title>
            <style>body{font:15px system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}table{border-collapse:collapse;width:100%}\
            td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}iframe{width:100%;height:32rem;border:1px solid #ccc}\
            pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}.note{color:#a40}</style></head><body>\(body)</body></html>
            """
        var response = HTTPOutput.text(html, status: status, contentType: "text/html; charset=utf-8")
        response.headers[.contentSecurityPolicy] = contentSecurityPolicy
        return response
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
}
