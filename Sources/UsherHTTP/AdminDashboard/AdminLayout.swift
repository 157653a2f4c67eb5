import Foundation
import UsherCore

/// The frame every dashboard page shares (header, navigation, sign-out) and the small pieces pages are made of.
enum AdminLayout {
    /// The sections in the navigation.
    enum Section: String, CaseIterable {
        case invitations

        var title: String {
            switch self {
            case .invitations: "Invitations"
            }
        }
        var path: String { "/admin/" + rawValue }
    }

    static func page(title: String, body: HTML, section: Section?, admin: AdminAccount?, csrfToken: String) -> HTML {
        var header: HTML = ""
        if let admin {
            let links = Section.allCases.map { item -> HTML in
                let current: HTML = item == section ? " aria-current=\"page\"" : ""
                return "<li><a href=\"\(item.path)\"\(current)>\(item.title)</a></li>"
            }
            header = """
                <header class="top">
                <a class="brand" href="/admin">Usher</a>
                <nav aria-label="Sections"><ul>\(links)</ul></nav>
                <div class="who"><span>\(admin.email)\(admin.may("create:invitations") ? "" : " (read-only)")</span>
                <form method="post" action="/admin/logout">\(csrfField(csrfToken))<button type="submit" id="sign-out">Sign out</button></form></div>
                </header>
                """
        }
        let mainClass: HTML = admin == nil ? " class=\"narrow\"" : ""
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>\(title) · Usher</title>
            <link rel="stylesheet" href="/admin/assets/admin.css">
            <script src="/admin/assets/admin.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#content">Skip to content</a>
            \(header)
            <main id="content"\(mainClass)>
            \(body)
            </main>
            </body>
            </html>
            """
    }

    static func csrfField(_ token: String) -> HTML { "<input type=\"hidden\" name=\"_csrf\" value=\"\(token)\">" }

    /// A message above a page's content: `ok` after an action, otherwise an error (announced to screen readers).
    static func notice(_ text: String?, ok: Bool) -> HTML {
        guard let text, !text.isEmpty else { return "" }
        return ok ? "<div class=\"notice ok\" role=\"status\"><p>\(text)</p></div>" : "<div class=\"notice error\" role=\"alert\"><p>\(text)</p></div>"
    }

    static func notices(_ errors: [String]) -> HTML {
        guard !errors.isEmpty else { return "" }
        return "<div class=\"notice error\" role=\"alert\">\(errors.map { "<p>\($0)</p>" as HTML })</div>"
    }

    static func badge(_ text: String) -> HTML { "<span class=\"badge \(text)\">\(text)</span>" }

    /// A date as people read it, in UTC, machine-readable in the `<time>` element.
    static func time(_ date: Date?) -> HTML {
        guard let date else { return "<span class=\"muted\">—</span>" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return "<time datetime=\"\(Timestamp.iso8601(date))\">\(formatter.string(from: date))</time>"
    }

    /// A read-only field with its value selected for copying; the script adds a "Copy" button.
    static func copyField(id: String, label: String, value: String) -> HTML {
        """
        <label for="\(id)">\(label)</label>
        <div class="copy-row"><input type="text" id="\(id)" value="\(value)" readonly>
        <button type="button" class="secondary" data-copy="\(id)" hidden>Copy</button></div>
        """
    }

    static func option(_ value: String, _ label: String, selected: String?) -> HTML {
        let isSelected: HTML = value == (selected ?? "") ? " selected" : ""
        return "<option value=\"\(value)\"\(isSelected)>\(label)</option>"
    }
}
