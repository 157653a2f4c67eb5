import Foundation
import Testing
import UsherCore
import UsherJSON
import UsherStorage
import UsherTesting

/// Per-language texts on every store: hosted-page custom texts (`PromptTextStore`) and email template
/// translations (`EmailTemplateStore`), on SQLite, PostgreSQL (with `USHER_TEST_POSTGRES_URL`) and memory.
@Suite("Language store conformance")
struct LanguageStoreConformanceTests {
    @Test(arguments: StoreKind.available)
    func customTextsAreOneDocumentPerPromptAndLanguage(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.promptCustomTexts(prompt: "reset-password") == [:])
            let french: JSONObject = ["reset-password": ["title": "Réinitialiser", "description": "Pour ${email}"]]
            try await store.savePromptCustomText(prompt: "reset-password", language: "fr", body: french)
            try await store.savePromptCustomText(prompt: "reset-password", language: "de", body: ["reset-password": ["title": "Ändern"]])
            try await store.savePromptCustomText(prompt: "login", language: "fr", body: ["login": ["title": "Connexion"]])
            #expect(try await store.promptCustomTexts(prompt: "reset-password") == ["fr": french, "de": ["reset-password": ["title": "Ändern"]]])
            // Saving replaces the whole document; an empty one removes it.
            try await store.savePromptCustomText(prompt: "reset-password", language: "fr", body: ["reset-password-email": ["title": "E-mail"]])
            try await store.savePromptCustomText(prompt: "reset-password", language: "de", body: [:])
            #expect(try await store.promptCustomTexts(prompt: "reset-password") == ["fr": ["reset-password-email": ["title": "E-mail"]]])
            #expect(try await store.promptCustomTexts(prompt: "login") == ["fr": ["login": ["title": "Connexion"]]])
        }
    }

    @Test(arguments: StoreKind.available)
    func emailTemplateTranslationsRoundTrip(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var template = EmailTemplate(template: "reset_email", body: "<p>{{ url }}</p>", from: nil, subject: "Hi", updatedAt: epoch)
            try await store.insertEmailTemplate(template)
            #expect(try await store.emailTemplate(name: "reset_email")?.translations == [:])
            template.translations = [
                "fr": EmailTemplate.Translation(subject: "Salut", body: "<p>Bonjour {{ url }}</p>"),
                "pt-br": EmailTemplate.Translation(from: "Equipe <time@example.com>"),
            ]
            try await store.updateEmailTemplate(template)
            #expect(try await store.emailTemplate(name: "reset_email") == template)
            template.translations = [:]
            try await store.updateEmailTemplate(template)
            #expect(try await store.emailTemplate(name: "reset_email")?.translations == [:])
        }
    }
}
