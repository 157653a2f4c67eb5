/// The hosted pages' own texts, by Auth0 prompt, screen and key, in the languages Usher ships (English and French).
///
/// Keys follow Auth0's text ids for the `reset-password` prompt where Auth0 has one (`title`, `description`,
/// `buttonText`, `passwordPlaceholder`, `reEnterpasswordPlaceholder`, `passwordSecurityText`, `password-mismatch`,
/// `eventTitle`…); Usher's own are the invitation wording (`invite…`), the link problems of `reset-password-error`
/// and the password rules (`rule-<rule id>`, printf-style like `PasswordRule.template`, whose English wording is the
/// rule's own), and the refusals (`error-<kind>` of `PasswordPolicyError`, English being its `message`). `${name}` is replaced
/// with the page's value (`email`, `clientName`). An administrator's texts (`PUT /api/v2/prompts/{prompt}/custom-text/{language}`)
/// replace these key by key; a key missing in a language falls back to English.
public enum BuiltInPromptTexts {
    /// Languages with a complete set of texts.
    public static let languages = ["en", "fr"]

    /// Prompts whose texts the hosted pages read (others are stored for Auth0 compatibility and not shown).
    public static let prompts = ["reset-password", "common"]

    /// The built-in texts of one screen in `language` (English for a language Usher does not ship).
    public static func texts(prompt: String, screen: String, language: String) -> [String: String] {
        let english = catalog["en"]?[prompt]?[screen] ?? [:]
        guard language != "en", let translated = catalog[language]?[prompt]?[screen] else { return english }
        return english.merging(translated) { _, new in new }
    }

    /// language → prompt → screen → key → text.
    static let catalog: [String: [String: [String: [String: String]]]] = [
        "en": [
            "common": ["common": ["helpText": "Need help?", "supportLinkText": "Support"]],
            "reset-password": [
                "reset-password": [
                    "title": "Reset your password",
                    "description": "Choose a new password for ${email}.",
                    "inviteTitle": "Welcome — choose a password to activate your account",
                    "inviteDescription": "Your account ${email} is ready. Choose a password to activate it.",
                    "inviteDescriptionWithClient": "Your account ${email} is ready. Choose a password to activate it and continue to ${clientName}.",
                    "passwordPlaceholder": "New password",
                    "reEnterpasswordPlaceholder": "Confirm new password",
                    "passwordSecurityText": "Password requirements",
                    "buttonText": "Reset password",
                    "inviteButtonText": "Set password",
                    "password-mismatch": "Passwords don't match",
                    "passwordsMatch": "Passwords match",
                    "no-password": "Enter a new password.",
                ],
                "reset-password-success": [
                    "eventTitle": "Your password has been set",
                    "description": "Your password has been changed successfully. You can now sign in with it.",
                    "buttonText": "Continue to ${clientName}",
                    "buttonTextWithoutClient": "Continue to the application",
                ],
                "reset-password-request": [
                    "title": "Forgot your password?",
                    "description": "Enter your email address and we will send you a link to choose a new password.",
                    "emailPlaceholder": "Email address",
                    "buttonText": "Send me a new link",
                    "eventTitleAskEmail": "This link is not valid",
                    "descriptionAskEmail": "Enter your email address and we will send you a new link.",
                    "no-email": "Enter your email address.",
                    "invalid-email": "That does not look like an email address.",
                    "eventTitleTooMany": "Too many requests",
                    "descriptionTooMany": "You have asked for too many emails. Wait a few minutes and try again.",
                ],
                "reset-password-email": [
                    "title": "Check your email",
                    "description":
                        "If an account exists for that address, we've sent a new link. It can take a minute to arrive; check your spam folder too.",
                ],
                "reset-password-error": [
                    "eventTitleInvalid": "This link is not valid",
                    "descriptionInvalid": "The link may be incomplete, or it was copied wrongly. Enter your email address and we will send you a new one.",
                    "eventTitleExpired": "This link has expired",
                    "descriptionExpired": "Links are valid for a limited time. We can send you a new one.",
                    "eventTitleUsed": "This link has already been used",
                    "descriptionUsed": "Each link works once. If you still need to set your password, we can send you a new link.",
                    "eventTitleSuperseded": "This link has been replaced by a newer one",
                    "descriptionSuperseded": "Only the most recent link we sent works. Use the newest email, or ask for a new link.",
                    "eventTitleRevoked": "This invitation has been withdrawn",
                    "descriptionRevoked":
                        "The invitation this link belonged to is no longer valid. If you think this is a mistake, contact the person who invited you.",
                    "eventTitleTryAgain": "Please try again",
                    "descriptionTryAgain": "This form has expired or was not sent from this page. Open the link from your email again and resubmit.",
                    "emailPlaceholder": "Email address",
                    "buttonText": "Send me a new link",
                ],
            ],
        ],
        "fr": [
            "common": ["common": ["helpText": "Besoin d'aide ?", "supportLinkText": "Assistance"]],
            "reset-password": [
                "reset-password": [
                    "title": "Réinitialisez votre mot de passe",
                    "description": "Choisissez un nouveau mot de passe pour ${email}.",
                    "inviteTitle": "Bienvenue — choisissez un mot de passe pour activer votre compte",
                    "inviteDescription": "Votre compte ${email} est prêt. Choisissez un mot de passe pour l'activer.",
                    "inviteDescriptionWithClient":
                        "Votre compte ${email} est prêt. Choisissez un mot de passe pour l'activer et accéder à ${clientName}.",
                    "passwordPlaceholder": "Nouveau mot de passe",
                    "reEnterpasswordPlaceholder": "Confirmez le nouveau mot de passe",
                    "passwordSecurityText": "Exigences du mot de passe",
                    "buttonText": "Réinitialiser le mot de passe",
                    "inviteButtonText": "Définir le mot de passe",
                    "password-mismatch": "Les mots de passe ne correspondent pas",
                    "passwordsMatch": "Les mots de passe correspondent",
                    "no-password": "Saisissez un nouveau mot de passe.",
                    "rule-nonEmpty": "Un mot de passe non vide est requis",
                    "rule-lengthAtLeast": "Au moins %d caractères",
                    "rule-shouldContain": "Doit contenir :",
                    "rule-containsAtLeast": "Au moins %d des %d types de caractères suivants :",
                    "rule-lowerCase": "lettres minuscules (a-z)",
                    "rule-upperCase": "lettres majuscules (A-Z)",
                    "rule-numbers": "chiffres (0-9)",
                    "rule-specialCharacters": "caractères spéciaux (p. ex. !@#$%^&*)",
                    "rule-identicalChars": "Pas plus de %d caractères identiques à la suite (p. ex. « %s » interdit)",
                    "rule-maxLength": "Au plus %d octets",
                    "rule-dictionary": "Pas un mot de passe courant",
                    "rule-noPersonalInfo": "Ne contient ni votre nom, ni votre identifiant, ni votre adresse e-mail",
                    "rule-history": "Différent de vos %d derniers mots de passe",
                    "error-tooWeak": "Le mot de passe est trop faible",
                    "error-tooLong": "Le mot de passe est trop long",
                    "error-reused": "Ce mot de passe a déjà été utilisé",
                    "error-tooCommon": "Ce mot de passe est trop courant",
                    "error-containsUserInfo": "Le mot de passe contient des informations personnelles",
                ],
                "reset-password-success": [
                    "eventTitle": "Votre mot de passe est défini",
                    "description": "Votre mot de passe a bien été modifié. Vous pouvez maintenant vous connecter avec.",
                    "buttonText": "Continuer vers ${clientName}",
                    "buttonTextWithoutClient": "Continuer vers l'application",
                ],
                "reset-password-request": [
                    "title": "Mot de passe oublié ?",
                    "description": "Saisissez votre adresse e-mail et nous vous enverrons un lien pour choisir un nouveau mot de passe.",
                    "emailPlaceholder": "Adresse e-mail",
                    "buttonText": "Envoyez-moi un nouveau lien",
                    "eventTitleAskEmail": "Ce lien n'est pas valide",
                    "descriptionAskEmail": "Saisissez votre adresse e-mail et nous vous enverrons un nouveau lien.",
                    "no-email": "Saisissez votre adresse e-mail.",
                    "invalid-email": "Cette adresse e-mail ne semble pas valide.",
                    "eventTitleTooMany": "Trop de demandes",
                    "descriptionTooMany": "Vous avez demandé trop d'e-mails. Patientez quelques minutes et réessayez.",
                ],
                "reset-password-email": [
                    "title": "Consultez vos e-mails",
                    "description":
                        "Si un compte existe pour cette adresse, nous venons d'envoyer un nouveau lien. Il peut mettre une minute à arriver ; pensez à vérifier vos indésirables.",
                ],
                "reset-password-error": [
                    "eventTitleInvalid": "Ce lien n'est pas valide",
                    "descriptionInvalid":
                        "Le lien est peut-être incomplet ou a été mal copié. Saisissez votre adresse e-mail et nous vous en enverrons un nouveau.",
                    "eventTitleExpired": "Ce lien a expiré",
                    "descriptionExpired": "Les liens sont valables pendant une durée limitée. Nous pouvons vous en envoyer un nouveau.",
                    "eventTitleUsed": "Ce lien a déjà été utilisé",
                    "descriptionUsed":
                        "Chaque lien ne fonctionne qu'une fois. Si vous devez encore définir votre mot de passe, nous pouvons vous envoyer un nouveau lien.",
                    "eventTitleSuperseded": "Ce lien a été remplacé par un plus récent",
                    "descriptionSuperseded": "Seul le dernier lien envoyé fonctionne. Utilisez l'e-mail le plus récent ou demandez un nouveau lien.",
                    "eventTitleRevoked": "Cette invitation a été retirée",
                    "descriptionRevoked":
                        "L'invitation liée à ce lien n'est plus valable. S'il s'agit d'une erreur, contactez la personne qui vous a invité.",
                    "eventTitleTryAgain": "Veuillez réessayer",
                    "descriptionTryAgain":
                        "Ce formulaire a expiré ou n'a pas été envoyé depuis cette page. Rouvrez le lien de votre e-mail et envoyez-le de nouveau.",
                    "emailPlaceholder": "Adresse e-mail",
                    "buttonText": "Envoyez-moi un nouveau lien",
                ],
            ],
        ],
    ]
}
