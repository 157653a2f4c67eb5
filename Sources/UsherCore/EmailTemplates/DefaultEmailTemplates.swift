import Foundation

/// The templates Usher sends when an administrator has not configured one: HTML and text for each link email.
///
/// `reset_email` already follows Auth0's invitation recipe (it branches on `user.app_metadata.needsInvitation`
/// and marks the link `type=invite` or `type=reset`), so inviting people works before anyone edits a template.
public enum DefaultEmailTemplates {
    /// Subject, HTML body and plain-text body, all Liquid.
    public struct Content: Sendable {
        public var subject: String
        public var html: String
        public var text: String
    }

    /// Languages other than English the defaults are written in (where a template has that version).
    public static let translatedLanguages = ["fr"]

    /// The default in `language`: its translation where Usher has one, else nil (English is `content(for:)`).
    public static func content(for name: String, language: String) -> Content? {
        guard language != "en" else { return content(for: name) }
        guard language == "fr" else { return nil }
        switch name {
        case "reset_email", "change_password": return French.reset
        case "verify_email": return French.verify
        case "user_invitation_reminder": return French.invitationReminder
        default: return nil
        }
    }

    /// The default's translations, as a template carries them.
    public static func translations(for name: String) -> [String: EmailTemplate.Translation] {
        var translations: [String: EmailTemplate.Translation] = [:]
        for language in translatedLanguages {
            if let content = content(for: name, language: language) {
                translations[language] = EmailTemplate.Translation(subject: content.subject, body: content.html)
            }
        }
        return translations
    }

    public static func content(for name: String) -> Content? {
        switch name {
        case "reset_email", "change_password": reset
        case "verify_email": verify
        case "welcome_email": welcome
        case "blocked_account": blocked
        case "password_reset": passwordChanged
        case "user_invitation_reminder": invitationReminder
        default: nil
        }
    }

    static func page(_ inner: String, language: String = "en") -> String {
        let questions = language == "fr" ? "Des questions ? Écrivez à" : "Questions? Write to"
        let help = language == "fr" ? "Aide" : "Help"
        return """
            <!doctype html>
            <html lang="\(language)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
            <body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2430">
            <div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">
            \(inner)
            <p style="margin-top:32px;font-size:13px;color:#6b7280">{% if support_email %}\(questions) <a href="mailto:{{ support_email | escape }}">{{ support_email | escape }}</a>.{% endif %}
            {% if support_url %}<a href="{{ support_url | escape }}">\(help)</a>{% endif %}</p>
            </div></body></html>
            """
    }

    static func button(_ href: String, _ label: String, language: String = "en") -> String {
        let fallback =
            language == "fr"
            ? "Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :"
            : "If the button does not work, copy this address into your browser:"
        return """
            <p style="margin:28px 0"><a href="\(href)" style="background:#2f5bea;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600">\(label)</a></p>
            <p style="font-size:13px;color:#6b7280">\(fallback)<br>\(href)</p>
            """
    }

    static let sender = "{% if friendly_name %}{{ friendly_name }}{% else %}{{ tenant }}{% endif %}"

    /// The reminder an invitation sends before it lapses (Usher's `user_invitation_reminder`). `expires_at` is the
    /// invitation's expiry (ISO 8601).
    public static let invitationReminder = Content(
        subject: """
            Reminder: you're invited to {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %}
            """,
        html: page(
            """
            <h1 style="font-size:22px">Your invitation is waiting</h1>
            <p>Hello{% if user.name %} {{ user.name | escape }}{% endif %},</p>
            <p>You were invited to {% if application.name %}{{ application.name | escape }}{% else %}\(sender){% endif %} and have not \
            chosen a password yet. The invitation expires soon; this link replaces the one we sent before.</p>
            \(button("{{ url }}type=invite", "Accept invitation"))
            """),
        text: """
            Your invitation is waiting

            Hello{% if user.name %} {{ user.name }}{% endif %},

            You were invited to {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %} and have not chosen a password yet. The invitation expires soon; this link replaces the one we sent before:

            {{ url }}type=invite
            """)

    public static let reset = Content(
        subject: """
            {% if user.app_metadata.needsInvitation %}You're invited to \(sender){% else %}Reset your \(sender) password{% endif %}
            """,
        html: page(
            """
            {% if user.app_metadata.needsInvitation %}
            <h1 style="font-size:22px">You're invited to {% if application.name %}{{ application.name | escape }}{% else %}\(sender){% endif %}</h1>
            <p>Hello{% if user.name %} {{ user.name | escape }}{% endif %},</p>
            <p>An account has been created for you. Choose a password to activate it.</p>
            \(button("{{ url }}type=invite", "Accept invitation"))
            {% else %}
            <h1 style="font-size:22px">Reset your password</h1>
            <p>Hello{% if user.name %} {{ user.name | escape }}{% endif %},</p>
            <p>Someone asked to reset the password of your account {{ user.email | escape }}. If it was you, choose a new password:</p>
            \(button("{{ url }}type=reset", "Reset password"))
            <p>If you did not ask for this, you can ignore this email; your password stays unchanged.</p>
            {% endif %}
            """),
        text: """
            {% if user.app_metadata.needsInvitation %}You're invited to {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %}

            Hello{% if user.name %} {{ user.name }}{% endif %},

            An account has been created for you. Choose a password to activate it:

            {{ url }}type=invite
            {% else %}Reset your password

            Hello{% if user.name %} {{ user.name }}{% endif %},

            Someone asked to reset the password of your account {{ user.email }}. If it was you, choose a new password:

            {{ url }}type=reset

            If you did not ask for this, you can ignore this email; your password stays unchanged.
            {% endif %}
            """)

    public static let verify = Content(
        subject: "Verify your email address",
        html: page(
            """
            <h1 style="font-size:22px">Verify your email address</h1>
            <p>Hello{% if user.name %} {{ user.name | escape }}{% endif %}, please confirm that {{ user.email | escape }} is your address.</p>
            \(button("{{ url }}", "Verify email"))
            """),
        text: """
            Verify your email address

            Hello{% if user.name %} {{ user.name }}{% endif %}, please confirm that {{ user.email }} is your address:

            {{ url }}
            """)

    public static let welcome = Content(
        subject: "Welcome to {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %}",
        html: page(
            """
            <h1 style="font-size:22px">Welcome{% if user.name %}, {{ user.name | escape }}{% endif %}!</h1>
            <p>Your account {{ user.email | escape }} is ready.</p>
            """),
        text: """
            Welcome{% if user.name %}, {{ user.name }}{% endif %}!

            Your account {{ user.email }} is ready.
            """)

    public static let blocked = Content(
        subject: "Your account was blocked after failed sign-in attempts",
        html: page(
            """
            <h1 style="font-size:22px">We blocked sign-in attempts to your account</h1>
            <p>There were too many failed attempts to sign in to {{ user.email | escape }}{% if user.source_ip %} from {{ user.source_ip | escape }}{% endif %}.
            Sign-ins from that address are blocked. If it was you, unblock them:</p>
            \(button("{{ url }}", "Unblock my account"))
            """),
        text: """
            There were too many failed attempts to sign in to {{ user.email }}{% if user.source_ip %} from {{ user.source_ip }}{% endif %}.
            Sign-ins from that address are blocked. If it was you, unblock them:

            {{ url }}
            """)

    public static let passwordChanged = Content(
        subject: "Your password was changed",
        html: page(
            """
            <h1 style="font-size:22px">Your password was changed</h1>
            <p>The password of {{ user.email | escape }} was just changed. If you did not do this, reset your password at once.</p>
            """),
        text: """
            Your password was changed

            The password of {{ user.email }} was just changed. If you did not do this, reset your password at once.
            """)

    /// The French versions (`fr`) of the link emails.
    enum French {
        static let invitationReminder = Content(
            subject: """
                Rappel : vous êtes invité à rejoindre {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %}
                """,
            html: page(
                """
                <h1 style="font-size:22px">Votre invitation vous attend</h1>
                <p>Bonjour{% if user.name %} {{ user.name | escape }}{% endif %},</p>
                <p>Vous avez été invité à rejoindre {% if application.name %}{{ application.name | escape }}{% else %}\(sender){% endif %} et \
                n'avez pas encore choisi de mot de passe. L'invitation expire bientôt ; ce lien remplace celui envoyé précédemment.</p>
                \(button("{{ url }}type=invite", "Accepter l'invitation", language: "fr"))
                """, language: "fr"),
            text: """
                Votre invitation vous attend

                Bonjour{% if user.name %} {{ user.name }}{% endif %},

                Vous avez été invité à rejoindre {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %} et n'avez pas encore choisi de mot de passe. L'invitation expire bientôt ; ce lien remplace celui envoyé précédemment :

                {{ url }}type=invite
                """)

        static let reset = Content(
            subject: """
                {% if user.app_metadata.needsInvitation %}Vous êtes invité à rejoindre \(sender){% else %}Réinitialisez votre mot de passe \(sender){% endif %}
                """,
            html: page(
                """
                {% if user.app_metadata.needsInvitation %}
                <h1 style="font-size:22px">Vous êtes invité à rejoindre {% if application.name %}{{ application.name | escape }}{% else %}\(sender){% endif %}</h1>
                <p>Bonjour{% if user.name %} {{ user.name | escape }}{% endif %},</p>
                <p>Un compte a été créé pour vous. Choisissez un mot de passe pour l'activer.</p>
                \(button("{{ url }}type=invite", "Accepter l'invitation", language: "fr"))
                {% else %}
                <h1 style="font-size:22px">Réinitialisez votre mot de passe</h1>
                <p>Bonjour{% if user.name %} {{ user.name | escape }}{% endif %},</p>
                <p>Quelqu'un a demandé à réinitialiser le mot de passe de votre compte {{ user.email | escape }}. Si c'est vous, choisissez un nouveau mot de passe :</p>
                \(button("{{ url }}type=reset", "Réinitialiser le mot de passe", language: "fr"))
                <p>Si vous n'avez rien demandé, ignorez cet e-mail ; votre mot de passe reste inchangé.</p>
                {% endif %}
                """, language: "fr"),
            text: """
                {% if user.app_metadata.needsInvitation %}Vous êtes invité à rejoindre {% if application.name %}{{ application.name }}{% else %}\(sender){% endif %}

                Bonjour{% if user.name %} {{ user.name }}{% endif %},

                Un compte a été créé pour vous. Choisissez un mot de passe pour l'activer :

                {{ url }}type=invite
                {% else %}Réinitialisez votre mot de passe

                Bonjour{% if user.name %} {{ user.name }}{% endif %},

                Quelqu'un a demandé à réinitialiser le mot de passe de votre compte {{ user.email }}. Si c'est vous, choisissez un nouveau mot de passe :

                {{ url }}type=reset

                Si vous n'avez rien demandé, ignorez cet e-mail ; votre mot de passe reste inchangé.
                {% endif %}
                """)

        static let verify = Content(
            subject: "Confirmez votre adresse e-mail",
            html: page(
                """
                <h1 style="font-size:22px">Confirmez votre adresse e-mail</h1>
                <p>Bonjour{% if user.name %} {{ user.name | escape }}{% endif %}, merci de confirmer que {{ user.email | escape }} est bien votre adresse.</p>
                \(button("{{ url }}", "Confirmer l'adresse", language: "fr"))
                """, language: "fr"),
            text: """
                Confirmez votre adresse e-mail

                Bonjour{% if user.name %} {{ user.name }}{% endif %}, merci de confirmer que {{ user.email }} est bien votre adresse :

                {{ url }}
                """)
    }
}
