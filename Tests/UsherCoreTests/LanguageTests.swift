import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherTesting

@Suite struct LocaleChoiceTests {
    func user(metadata: JSONObject) -> User {
        User(
            userID: "auth0|1", connection: "Username-Password-Authentication", email: "a@example.com", userMetadata: metadata, createdAt: Date(),
            updatedAt: Date())
    }

    @Test func candidatesFollowTheDocumentedOrder() {
        let client = Client(clientID: "c", name: "C", secretHash: nil, grantTypes: [], clientMetadata: ["locale": "it"], createdAt: Date(), updatedAt: Date())
        let choice = LocaleChoice(
            invitationLocale: "pt_BR", user: user(metadata: ["locale": "de", "lang": "es"]), acceptLanguage: "nl;q=0.5, sv", client: client,
            tenant: TenantSettings(["enabled_locales": ["ja", "ko"]]))
        #expect(choice.candidates == ["pt-br", "de", "es", "sv", "nl", "it", "ja", "ko"])
        #expect(choice.defaultLanguage == "ja")
    }

    @Test func pickTakesTheFirstAvailableCandidateWithRegionalFallbacks() {
        let tenant = TenantSettings()
        #expect(LocaleChoice(user: user(metadata: ["lang": "fr"]), tenant: tenant).pick(from: ["en", "fr"]) == "fr")
        #expect(LocaleChoice(user: user(metadata: ["lang": "fr-CA"]), tenant: tenant).pick(from: ["en", "fr"]) == "fr")
        #expect(LocaleChoice(user: user(metadata: ["lang": "fr"]), tenant: tenant).pick(from: ["en", "fr-FR"]) == "fr-fr")
        // No variant for German: the next candidate (the browser's), then the tenant's default.
        #expect(LocaleChoice(user: user(metadata: ["lang": "de"]), acceptLanguage: "fr", tenant: tenant).pick(from: ["en", "fr"]) == "fr")
        #expect(LocaleChoice(user: user(metadata: ["lang": "de"]), tenant: tenant).pick(from: ["en", "fr"]) == "en")
        // The invitation's locale comes before the profile's.
        #expect(LocaleChoice(invitationLocale: "fr", user: user(metadata: ["lang": "en"]), tenant: tenant).pick(from: ["en", "fr"]) == "fr")
    }

    @Test func enabledLocalesBoundTheChoiceAndNameTheDefault() {
        let tenant = TenantSettings(["enabled_locales": ["fr", "en"]])
        #expect(LocaleChoice(user: user(metadata: ["lang": "de"]), tenant: tenant).pick(from: ["en", "fr", "de"]) == "fr")
        let englishOnly = TenantSettings(["enabled_locales": ["en"]])
        #expect(LocaleChoice(user: user(metadata: ["lang": "fr"]), tenant: englishOnly).pick(from: ["en", "fr"]) == "en")
    }

    @Test func acceptLanguageIsOrderedByQualityAndDropsWildcardsAndZero() {
        #expect(LocaleChoice.acceptLanguage("da, en-GB;q=0.8, en;q=0.7") == ["da", "en-GB", "en"])
        #expect(LocaleChoice.acceptLanguage("fr;q=0.2, *;q=0.9, de;q=0, es") == ["es", "fr"])
        #expect(LocaleChoice.acceptLanguage("") == [])
        #expect(LocaleChoice.normalized("fr_CA") == "fr-ca")
        #expect(LocaleChoice.normalized("<script>") == nil && LocaleChoice.normalized("") == nil && LocaleChoice.normalized("-x") == nil)
    }
}

@Suite struct LocalizedEmailTests {
    func invitee(_ f: LinkFixture, metadata: JSONObject) async throws -> User {
        var user = f.user
        user.userMetadata = metadata
        try await f.store.updateUser(user)
        return user
    }

    func subject(_ f: LinkFixture, user: User, locale: String? = nil, acceptLanguage: String? = nil) async throws -> String {
        var batch = LinkEmailBatch()
        let email = LinkEmail(
            kind: .passwordChange, user: user, template: "reset_email", client: nil, purpose: "user_invitation", requestLanguage: acceptLanguage,
            locale: locale)
        return try #require(try await f.links.prepare(email, batch: &batch).get().message).subject
    }

    @Test func theDefaultInvitationIsSentInFrenchToAFrenchSpeakerAndInEnglishOtherwise() async throws {
        let f = try await LinkFixture()
        #expect(try await subject(f, user: try await invitee(f, metadata: ["lang": "fr"])) == "Vous êtes invité à rejoindre usher")
        #expect(try await subject(f, user: try await invitee(f, metadata: ["lang": "de"])) == "You're invited to usher")
        #expect(try await subject(f, user: try await invitee(f, metadata: ["locale": "en"]), locale: "fr") == "Vous êtes invité à rejoindre usher")
        #expect(try await subject(f, user: try await invitee(f, metadata: [:]), acceptLanguage: "fr-CA,en;q=0.5") == "Vous êtes invité à rejoindre usher")
        // The French body has the French button and the link.
        var batch = LinkEmailBatch()
        let french = try await invitee(f, metadata: ["lang": "fr"])
        let message = try #require(
            try await f.links.prepare(
                LinkEmail(kind: .passwordChange, user: french, template: "reset_email", client: nil, purpose: "user_invitation"), batch: &batch
            ).get().message)
        #expect(message.html.contains("Accepter l'invitation") && message.html.contains("lang=\"fr\""))
        #expect(message.text?.contains("Un compte a été créé pour vous") == true)
    }

    @Test func anAdministratorsTranslationIsUsedAndATemplateWithoutOneIsTheTenantsDefault() async throws {
        let f = try await LinkFixture()
        let templates = EmailTemplateService(store: f.store, clock: f.clock)
        _ = try await templates.create([
            "template": "reset_email", "body": "<p>Welcome {{ url }}</p>", "from": "a@example.com", "subject": "Welcome", "syntax": "liquid",
            "enabled": true,
        ])
        let french = try await invitee(f, metadata: ["lang": "fr"])
        #expect(try await subject(f, user: french) == "Welcome")
        let updated = try await templates.update(
            name: "reset_email", ["translations": ["fr": ["subject": "Bienvenue {{ user.email }}", "body": "<p>Bienvenue {{ url }}</p>"]]],
            replace: false)
        #expect(updated.managementJSON["translations"]?.objectValue?["fr"]?.objectValue?["subject"] == "Bienvenue {{ user.email }}")
        #expect(try await subject(f, user: french) == "Bienvenue ada@example.com")
        #expect(try await subject(f, user: try await invitee(f, metadata: ["lang": "de"])) == "Welcome")
        // null removes one language; the tenant can make French its default.
        _ = try await templates.update(name: "reset_email", ["translations": ["fr": .null]], replace: false)
        #expect(try await subject(f, user: french) == "Welcome")
    }

    @Test func aBrokenTranslationIsRefusedWithItsPropertyLineAndColumn() async throws {
        let f = try await LinkFixture()
        let templates = EmailTemplateService(store: f.store, clock: f.clock)
        _ = try await templates.create([
            "template": "reset_email", "body": "<p>{{ url }}</p>", "from": "a@example.com", "subject": "s", "syntax": "liquid", "enabled": true,
        ])
        let error = await #expect(throws: UsherError.self) {
            _ = try await templates.update(name: "reset_email", ["translations": ["fr": ["body": "<p>\n{% if %}</p>"]]], replace: false)
        }
        #expect(error?.message.contains("on property translations.fr.body") == true)
        #expect(error?.message.contains("line 2") == true)
        let tag = await #expect(throws: UsherError.self) {
            _ = try await templates.update(name: "reset_email", ["translations": ["<b>": ["body": "x"]]], replace: false)
        }
        #expect(tag?.message.contains("Invalid language tag") == true)
        let field = await #expect(throws: UsherError.self) {
            _ = try await templates.update(name: "reset_email", ["translations": ["fr": ["text": "x"]]], replace: false)
        }
        #expect(field?.message.contains("Additional properties not allowed: text") == true)
    }
}

@Suite struct PromptTextTests {
    @Test func customTextsReplaceBuiltInOnesKeyByKeyAndAddLanguages() async throws {
        let store = InMemoryUsherStore()
        let service = PromptTextService(store: store)
        #expect(try await service.customText(prompt: "reset-password", language: "fr") == [:])
        _ = try await service.setCustomText(prompt: "reset-password", language: "fr", body: ["reset-password": ["title": "Nouveau mot de passe"]])
        _ = try await service.setCustomText(prompt: "reset-password", language: "de", body: ["reset-password": ["title": "Passwort ändern"]])
        #expect(try await service.customText(prompt: "reset-password", language: "fr")["reset-password"]?.objectValue?["title"] == "Nouveau mot de passe")

        let french = try await service.texts(prompt: "reset-password", choice: LocaleChoice(candidates: ["fr"]))
        #expect(french.language == "fr")
        let screen = french.screen("reset-password", "reset-password")
        #expect(screen["title"] == "Nouveau mot de passe" && screen["buttonText"] == "Réinitialiser le mot de passe")
        // German has only the administrator's title: every other key falls back to English.
        let german = try await service.texts(prompt: "reset-password", choice: LocaleChoice(candidates: ["de-AT"]))
        #expect(german.language == "de")
        #expect(german.screen("reset-password", "reset-password")["title"] == "Passwort ändern")
        #expect(german.screen("reset-password", "reset-password")["buttonText"] == "Reset password")
        // Japanese has nothing: the default language.
        #expect(try await service.texts(prompt: "reset-password", choice: LocaleChoice(candidates: ["ja"])).language == "en")
        // `{}` clears a language.
        _ = try await service.setCustomText(prompt: "reset-password", language: "de", body: [:])
        #expect(try await service.texts(prompt: "reset-password", choice: LocaleChoice(candidates: ["de"])).language == "en")
    }

    @Test func badPathsAndBodiesAreRefused() async throws {
        let service = PromptTextService(store: InMemoryUsherStore())
        let prompt = await #expect(throws: UsherError.self) { _ = try await service.customText(prompt: "nope", language: "en") }
        #expect(prompt?.message.contains("on property prompt") == true)
        await #expect(throws: UsherError.self) { _ = try await service.customText(prompt: "login", language: "../x") }
        let screen = await #expect(throws: UsherError.self) {
            _ = try await service.setCustomText(prompt: "login", language: "en", body: ["login": "text"])
        }
        #expect(screen?.message.contains("Expected type object") == true)
        let text = await #expect(throws: UsherError.self) {
            _ = try await service.setCustomText(prompt: "login", language: "en", body: ["login": ["title": 3]])
        }
        #expect(text?.message.contains("on property login.title") == true)
    }

    @Test func ruleSummariesTranslateTheirTemplatesAndKeepTheArguments() {
        let policy = PasswordPolicy(level: .good)
        let french = BuiltInPromptTexts.texts(prompt: "reset-password", screen: "reset-password", language: "fr")
        let summaries = policy.rules.map { $0.summary(templates: french) }
        #expect(summaries.contains("Au moins 8 caractères"))
        #expect(summaries.contains { $0.hasPrefix("Au moins 3 des 4 types de caractères suivants : lettres minuscules (a-z)") })
        // English is each rule's own wording.
        let english = BuiltInPromptTexts.texts(prompt: "reset-password", screen: "reset-password", language: "en")
        #expect(policy.rules.map { $0.summary(templates: english) } == policy.describe())
    }
}
