import Testing

@testable import UsherHTTP

/// The dashboard's one escaping path and its redirect allow-list.
@Suite("Dashboard HTML and redirects")
struct AdminHTMLTests {
    @Test func interpolatedTextIsEscapedAndOnlyHTMLGoesInAsItIs() {
        let name = "<b>\"Ada\" & 'Grace'</b>"
        let cell: HTML = "<td title=\"\(name)\">\(name)</td>"
        let escaped = "&lt;b&gt;&quot;Ada&quot; &amp; &#39;Grace&#39;&lt;/b&gt;"
        #expect(cell.markup == "<td title=\"\(escaped)\">\(escaped)</td>")
        let bold: HTML = "<b>\(name)</b>"
        let nested: HTML = "<p>\(bold)</p>"
        #expect(nested.markup == "<p><b>\(escaped)</b></p>")
        let missing: String? = nil
        let optional: HTML = "<i>\(missing)</i>"
        #expect(optional.markup == "<i></i>")
    }

    @Test func queryValuesArePercentEncoded() {
        #expect(
            HTML.path("/admin/invitations", query: [("email", "a&b=c d"), ("status", nil), ("page", "2")]) == "/admin/invitations?email=a%26b%3Dc%20d&page=2")
    }

    @Test func aSignInOnlySendsTheBrowserToADashboardPath() {
        #expect(AdminDashboardController.safeNext("/admin/invitations/uinv_1") == "/admin/invitations/uinv_1")
        #expect(AdminDashboardController.safeNext(nil) == "/admin/invitations")
        for hostile in [
            "//evil.example/admin", "https://evil.example/admin", "/admin\\@evil.example", "/\\evil.example", "javascript:alert(1)", "/admin/\n",
            "/administrator",
        ] {
            #expect(AdminDashboardController.safeNext(hostile) == "/admin/invitations", "\(hostile)")
        }
    }
}
