import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import UsherApp
import UsherCore
import UsherJSON
import UsherTesting

/// Invitations and hosted pages in the invitee's language, over HTTP.
@Suite("Languages of invitation emails and pages")
struct LanguagePagesTests {
    /// Invites `email` with `userMetadata` and returns the link of its queued email and that email.
    func invite(_ server: TestServer, _ client: any TestClientProtocol, token: String, email: String, userMetadata: JSONObject, locale: String? = nil)
        async throws -> (link: String, mail: OutboxMessage)
    {
        var body: JSONObject = ["invitee": ["email": .string(email)], "user_metadata": .object(userMetadata)]
        if let locale { body["locale"] = .string(locale) }
        let created = try await client.call(.post, "/api/v2/invitations", token: token, json: .object(body))
        #expect(created.status == .created || created.status == .ok, "\(String(buffer: created.body))")
        let mail = try #require(try await server.server.store.listOutbox(status: nil, offset: 0, limit: 100).messages.first { $0.to == email })
        return (try #require(TestServer.link(in: mail.html)), mail)
    }

    /// Invites `email` and opens its link in a fresh browser: the email, the page and that browser.
    func openInvitation(_ server: TestServer, _ client: any TestClientProtocol, token: String, email: String, userMetadata: JSONObject)
        async throws -> (mail: OutboxMessage, page: String, browser: PageSession)
    {
        let (link, mail) = try await invite(server, client, token: token, email: email, userMetadata: userMetadata)
        var browser = PageSession()
        let page = String(buffer: try await browser.get(client, requestPath(link)).body)
        return (mail, page, browser)
    }

    @Test func aFrenchInviteeGetsTheFrenchEmailAndPageAndOthersTheTenantsDefault() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let (frenchMail, page, browser) = try await openInvitation(server, client, token: token, email: "lea@example.com", userMetadata: ["lang": "fr"])
            #expect(frenchMail.subject.hasPrefix("Vous êtes invité"))
            #expect(page.contains("<html lang=\"fr\">"))
            #expect(PageSession.title(page) == "Bienvenue — choisissez un mot de passe pour activer votre compte")
            #expect(page.contains("Confirmez le nouveau mot de passe") && page.contains("Au moins 8 caractères"))

            // A refused password is explained in French too.
            let refused = try await browser.post(
                client, "/lo/reset",
                [
                    "_csrf": try #require(PageSession.field("_csrf", in: page)), "ticket": try #require(PageSession.field("ticket", in: page)),
                    "newPassword": "Une-Phrase-Longue-42", "confirmNewPassword": "Autre-Phrase-Longue-42",
                ])
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("Les mots de passe ne correspondent pas"))

            // No German texts: the tenant's default language, English.
            let (germanMail, englishPage, _) = try await openInvitation(
                server, client, token: token, email: "jonas@example.com", userMetadata: ["lang": "de"])
            #expect(germanMail.subject.hasPrefix("You're invited"))
            #expect(englishPage.contains("<html lang=\"en\">"))
            #expect(PageSession.title(englishPage) == "Welcome — choose a password to activate your account")

            // The invitation's own locale comes first.
            let chosen = try await invite(server, client, token: token, email: "kai@example.com", userMetadata: ["lang": "en"], locale: "fr")
            #expect(chosen.mail.subject.hasPrefix("Vous êtes invité"))
        }
    }

    @Test func customTextsAddALanguageAndReplaceBuiltInTexts() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let put = try await client.call(
                .put, "/api/v2/prompts/reset-password/custom-text/de", token: token,
                json: ["reset-password": ["inviteTitle": "Willkommen — wählen Sie ein Passwort", "buttonText": "Passwort ändern"]])
            #expect(put.status == .ok, "\(String(buffer: put.body))")
            let got = try await client.call(.get, "/api/v2/prompts/reset-password/custom-text/de", token: token)
            #expect(got.json["reset-password"]?.objectValue?["buttonText"] == "Passwort ändern")
            #expect(try await client.call(.get, "/api/v2/prompts/reset-password/custom-text/it", token: token).json == [:])
            expectAuth0Error(
                try await client.call(.put, "/api/v2/prompts/nope/custom-text/de", token: token, json: [:]), .badRequest, messageContains: "on property prompt")
            let reader = try await server.token(scopes: ["read:prompts"], client: client)
            expectAuth0Error(
                try await client.call(.put, "/api/v2/prompts/reset-password/custom-text/de", token: reader, json: [:]), .forbidden,
                messageContains: "update:prompts")

            let (_, page, _) = try await openInvitation(server, client, token: token, email: "jonas@example.com", userMetadata: ["lang": "de"])
            #expect(page.contains("<html lang=\"de\">") && PageSession.title(page) == "Willkommen — wählen Sie ein Passwort")
            // Keys the administrator did not give are English.
            #expect(page.contains("Confirm new password"))

            // A page for nobody in particular follows the browser.
            let request = try await client.execute(uri: "/lo/reset/request", method: .get, headers: [.acceptLanguage: "fr-CA, en;q=0.5"], body: nil)
            let html = String(buffer: request.body)
            #expect(html.contains("<html lang=\"fr\">") && PageSession.title(html) == "Mot de passe oublié ?" && html.contains("Envoyez-moi un nouveau lien"))
            // The tenant's enabled locales bound the choice.
            let patched = try await client.call(.patch, "/api/v2/tenants/settings", token: token, json: ["enabled_locales": ["en"]])
            #expect(patched.status == .ok)
            let english = try await client.execute(uri: "/lo/reset/request", method: .get, headers: [.acceptLanguage: "fr"], body: nil)
            #expect(String(buffer: english.body).contains("<html lang=\"en\">"))
            expectAuth0Error(
                try await client.call(.patch, "/api/v2/tenants/settings", token: token, json: ["enabled_locales": ["<b>"]]), .badRequest,
                messageContains: "enabled_locales")
        }
    }
}
