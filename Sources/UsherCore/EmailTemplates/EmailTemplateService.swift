import Foundation
import Synchronization
import UsherJSON
import UsherLiquid

/// A rendered email, ready for the outbox.
public struct RenderedEmail: Sendable, Equatable {
    public var subject: String
    public var html: String
    /// nil when the template has no text version (the MIME builder then derives one from the HTML).
    public var text: String?
    /// nil means the provider's default sender.
    public var from: String?
    /// The template's "Redirect To", rendered (not yet checked against the application's URLs).
    public var resultURL: String?
}

/// What a template is rendered with: Auth0's email template variables.
public struct EmailTemplateContext: Sendable {
    public var user: User
    public var url: String?
    public var client: Client?
    public var connection: String
    public var tenant: TenantSettings
    public var tenantName: String
    public var requestLanguage: String?
    /// `user.source_ip` in the blocked-account email.
    public var sourceIP: String?

    public init(user: User, url: String?, client: Client?, connection: String, tenant: TenantSettings, tenantName: String, requestLanguage: String?) {
        self.user = user
        self.url = url
        self.client = client
        self.connection = connection
        self.tenant = tenant
        self.tenantName = tenantName
        self.requestLanguage = requestLanguage
    }

    /// The Liquid globals, named as Auth0 names them.
    var globals: [String: LiquidValue] {
        var user = self.user.managementJSON
        // The password hash never reaches a template; managementJSON does not carry it, this keeps it that way.
        user["password"] = nil
        if let sourceIP { user["source_ip"] = .string(sourceIP) }
        var application: JSONObject = [:]
        if let client {
            application["name"] = .string(client.name)
            application["clientID"] = .string(client.clientID)
            application["client_id"] = .string(client.clientID)
            application["client_metadata"] = .object(client.clientMetadata)
            if let first = client.callbacks.first, let origin = Self.origin(of: first) { application["callback_domain"] = .string(origin) }
        }
        var globals: [String: LiquidValue] = [
            "user": user.liquidValue,
            "application": application.liquidValue,
            "client": application.liquidValue,
            "connection": .hash(LiquidHash([("name", .string(connection))])),
            "tenant": .string(tenantName),
            "friendly_name": tenant.friendlyName.map(LiquidValue.string) ?? .nil,
            "support_email": tenant.supportEmail.map(LiquidValue.string) ?? .nil,
            "support_url": tenant.supportURL.map(LiquidValue.string) ?? .nil,
            "request_language": requestLanguage.map(LiquidValue.string) ?? .nil,
        ]
        if let url { globals["url"] = .string(url) }
        return globals
    }

    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

/// Email templates: the Management API operations with Auth0's rules, and rendering for sending.
///
/// A template that does not parse is refused when it is saved, with the Liquid error's line and column, so a
/// broken template is never discovered by the first person who should have received it.
public struct EmailTemplateService: Sendable {
    /// What the service reads and writes: only the stored templates.
    public typealias Store = any EmailTemplateStore

    let store: Store
    let clock: any UsherClock
    let cache: ParsedTemplateCache

    public init(store: Store, clock: any UsherClock) {
        self.store = store
        self.clock = clock
        self.cache = ParsedTemplateCache()
    }

    static let fields: Set<String> = [
        "template", "body", "from", "subject", "syntax", "resultUrl", "urlLifetimeInSeconds", "includeEmailInRedirect", "enabled",
        "translations",
    ]
    static let requiredOnCreate = ["template", "body", "from", "subject", "syntax", "enabled"]

    // MARK: Management API

    public func template(name: String) async throws -> EmailTemplate {
        try Self.checkName(name, property: "templateName")
        guard let template = try await store.emailTemplate(name: name) else {
            throw UsherError(.notFound, "Template not found.", errorCode: "inexistent_email_template")
        }
        return template
    }

    /// `POST /api/v2/email-templates`.
    public func create(_ body: JSONObject) async throws -> EmailTemplate {
        let reader = try PayloadReader(body, allowed: Self.fields)
        for key in Self.requiredOnCreate where !reader.has(key) {
            throw UsherError.invalidBody("'Missing required property: \(key)'.")
        }
        guard let name = try reader.string("template").value else { throw UsherError.invalidBody("'Missing required property: template'.") }
        try Self.checkName(name, property: "template")
        var template = EmailTemplate(template: name, body: nil, from: nil, subject: nil, updatedAt: clock.now)
        try apply(reader, to: &template)
        if try await store.emailTemplate(name: name) != nil {
            throw UsherError(.conflict, "Template (\(name)) already exists.", errorCode: "email_template_conflict")
        }
        try await store.insertEmailTemplate(template)
        return template
    }

    /// `PATCH` (only the given fields change) or `PUT` (`replace`: the required fields must all be given).
    public func update(name: String, _ body: JSONObject, replace: Bool) async throws -> EmailTemplate {
        try Self.checkName(name, property: "templateName")
        let reader = try PayloadReader(body, allowed: Self.fields)
        if replace {
            for key in Self.requiredOnCreate where !reader.has(key) {
                throw UsherError.invalidBody("'Missing required property: \(key)'.")
            }
        }
        if let given = try reader.string("template").value, given != name {
            throw UsherError.invalidBody("'template must match the template name in the path (\(name))' on property template.")
        }
        guard var template = try await store.emailTemplate(name: name) else {
            throw UsherError(
                .notFound, replace ? "Template not found." : "Template not found and cannot be updated.",
                errorCode: "inexistent_email_template")
        }
        if replace {
            template = EmailTemplate(template: name, body: nil, from: nil, subject: nil, updatedAt: clock.now)
        }
        try apply(reader, to: &template)
        template.updatedAt = clock.now
        try await store.updateEmailTemplate(template)
        return template
    }

    private func apply(_ reader: PayloadReader, to template: inout EmailTemplate) throws {
        func liquid(_ key: String, maxLength: Int) throws -> PatchField<String> {
            let field = try reader.string(key, maxLength: maxLength, nullable: true)
            if case .value(let source) = field { try Self.checkLiquid(source, property: key) }
            return field
        }
        switch try liquid("body", maxLength: 102_400) {
        case .absent: break
        case .null: template.body = nil
        case .value(let v): template.body = v
        }
        switch try liquid("subject", maxLength: 1_000) {
        case .absent: break
        case .null: template.subject = nil
        case .value(let v): template.subject = v.isEmpty ? nil : v
        }
        switch try liquid("from", maxLength: 1_000) {
        case .absent: break
        case .null: template.from = nil
        case .value(let v):
            if !v.isEmpty && !v.contains("{{") && !v.contains("{%") {
                try Self.checkFrom(v)
            }
            template.from = v.isEmpty ? nil : v
        }
        switch try liquid("resultUrl", maxLength: 2_048) {
        case .absent: break
        case .null: template.resultURL = nil
        case .value(let v):
            if !v.isEmpty && !v.contains("{{") && !v.contains("{%") {
                guard let scheme = URLComponents(string: v)?.scheme?.lowercased(), ["http", "https"].contains(scheme),
                    URLComponents(string: v)?.host?.isEmpty == false
                else {
                    throw UsherError.invalidBody(
                        "'Object didn't pass validation for format absolute-https-uri-or-empty: \(v.prefix(100))' on property resultUrl.")
                }
            }
            template.resultURL = v.isEmpty ? nil : v
        }
        switch try reader.string("syntax", nullable: true) {
        case .absent, .null: break
        case .value(let v):
            guard v == "liquid" else { throw UsherError.invalidBody("'No enum match for: \"\(v.prefix(40))\"' on property syntax.") }
            template.syntax = v
        }
        if reader.has("urlLifetimeInSeconds") {
            if reader.body["urlLifetimeInSeconds"] == .null {
                template.urlLifetimeInSeconds = nil
            } else {
                guard let seconds = try reader.integer("urlLifetimeInSeconds", range: 0...31_536_000).value else { return }
                template.urlLifetimeInSeconds = Int(seconds)
            }
        }
        if let include = try reader.bool("includeEmailInRedirect").value { template.includeEmailInRedirect = include }
        try applyTranslations(reader.body["translations"], to: &template)
        switch try reader.bool("enabled", nullable: true) {
        case .absent: break
        case .null: template.enabled = true
        case .value(let v): template.enabled = v
        }
    }

    /// Most languages one template carries.
    static let maxTranslations = 50

    /// `translations`: each language named is replaced by the given `{subject, body, from}` (`null` removes it);
    /// `translations: null` removes them all. Every field is checked as the template's own are.
    private func applyTranslations(_ value: JSONValue?, to template: inout EmailTemplate) throws {
        guard let value else { return }
        guard value != .null else {
            template.translations = [:]
            return
        }
        guard case .object(let given) = value else { throw PayloadReader.typeError("translations", expected: "object", found: value) }
        for (tag, fields) in given {
            guard let language = LocaleChoice.normalized(tag) else {
                throw UsherError.invalidBody("'Invalid language tag: \(tag.prefix(40))' on property translations.")
            }
            let property = "translations.\(language)"
            if fields == .null {
                template.translations[language] = nil
                continue
            }
            guard case .object(let object) = fields else { throw PayloadReader.typeError(property, expected: "object", found: fields) }
            if let unknown = object.keys.first(where: { !["subject", "body", "from"].contains($0) }) {
                throw UsherError.invalidBody("'Additional properties not allowed: \(unknown.prefix(40))' on property \(property).")
            }
            func field(_ key: String, maxLength: Int) throws -> String? {
                guard let raw = object[key], raw != .null else { return nil }
                guard let text = raw.stringValue else { throw PayloadReader.typeError("\(property).\(key)", expected: "string", found: raw) }
                guard text.count <= maxLength else {
                    throw UsherError.invalidBody("'String is too long (max \(maxLength))' on property \(property).\(key).")
                }
                try Self.checkLiquid(text, property: "\(property).\(key)")
                return text.isEmpty ? nil : text
            }
            let translation = EmailTemplate.Translation(
                subject: try field("subject", maxLength: 1_000), body: try field("body", maxLength: 102_400), from: try field("from", maxLength: 1_000))
            if let from = translation.from, !from.contains("{{"), !from.contains("{%") { try Self.checkFrom(from) }
            template.translations[language] = translation
        }
        guard template.translations.count <= Self.maxTranslations else {
            throw UsherError.invalidBody("'Too many translations (max \(Self.maxTranslations))' on property translations.")
        }
    }

    static func checkName(_ name: String, property: String) throws(UsherError) {
        guard EmailTemplate.knownNames.contains(name) else {
            throw UsherError.invalidBody("'No enum match for: \"\(name.prefix(60))\"' on property \(property).")
        }
    }

    /// Parses `source`; a syntax error becomes a 400 naming the property, line and column.
    static func checkLiquid(_ source: String, property: String) throws(UsherError) {
        do {
            _ = try LiquidTemplate.parse(source)
        } catch {
            throw UsherError.invalidBody("'Invalid Liquid template: \(error.description)' on property \(property).")
        }
    }

    static func checkFrom(_ from: String) throws(UsherError) {
        // `Name <address>` or a bare address.
        var address = from
        if let open = from.lastIndex(of: "<"), from.hasSuffix(">") {
            address = String(from[from.index(after: open)..<from.index(before: from.endIndex)])
        }
        if from.contains(where: \.isNewline) { throw UsherError.invalidBody("'from must not contain line breaks' on property from.") }
        do { try MailService.validateAddress(address, field: "from") } catch {
            throw UsherError.invalidBody("'Object didn't pass validation for format email: \(from.prefix(100))' on property from.")
        }
    }

    // MARK: sending

    /// The template to send for `name`: the stored one, or Usher's default. nil when the stored one is disabled
    /// (Auth0 sends nothing then) or when there is neither.
    public func sendable(name: String, in store: (any EmailTemplateStore)? = nil) async throws -> (template: EmailTemplate, defaultText: String?)? {
        let source: any EmailTemplateStore = store ?? self.store
        if let stored = try await source.emailTemplate(name: name) {
            guard stored.enabled else { return nil }
            var template = stored
            let defaults = DefaultEmailTemplates.content(for: name)
            // An enabled template without a body or subject falls back to the default's, as Auth0's do (in every
            // language Usher ships it in, where the administrator gave no translation).
            if template.body == nil {
                template.body = defaults?.html
                template.translations = DefaultEmailTemplates.translations(for: name).merging(template.translations) { _, given in given }
            }
            if template.subject == nil { template.subject = defaults?.subject }
            return (template, stored.body == nil ? defaults?.text : nil)
        }
        guard let defaults = DefaultEmailTemplates.content(for: name) else { return nil }
        let template = EmailTemplate(
            template: name, body: defaults.html, from: nil, subject: defaults.subject, updatedAt: Date(timeIntervalSince1970: 0),
            translations: DefaultEmailTemplates.translations(for: name))
        return (template, defaults.text)
    }

    /// `template` in the language `choice` picks among its translations (the template itself is the tenant's
    /// default language), with the built-in plain-text version in that language when the body is Usher's default.
    public func localized(_ template: EmailTemplate, defaultText: String?, choice: LocaleChoice) -> (
        template: EmailTemplate, defaultText: String?, language: String
    ) {
        let language = choice.pick(from: Array(template.translations.keys) + [choice.defaultLanguage])
        let localized = template.localized(to: language)
        var text = defaultText
        if defaultText != nil, template.translations[language] != nil {
            // The built-in text only goes with the built-in body; an administrator's translation gets one derived from its HTML.
            let builtIn = DefaultEmailTemplates.content(for: template.template, language: language)
            text = builtIn?.html == localized.body ? builtIn?.text : nil
        }
        return (localized, text, language)
    }

    /// Renders the template's subject, body (and text), from and resultUrl.
    public func render(_ template: EmailTemplate, defaultText: String?, context: EmailTemplateContext) throws -> RenderedEmail {
        let globals = context.globals
        func run(_ source: String?, _ part: String) throws -> String? {
            guard let source, !source.isEmpty else { return nil }
            do {
                return try cache.template(source).render(globals)
            } catch let error as LiquidRenderError {
                throw UsherError(
                    .internalFailure, "The \(template.template) template's \(part) failed to render: \(error.description)",
                    errorCode: "template_render_failed")
            }
        }
        let subject = try run(template.subject, "subject")?.trimmingCharacters(in: .whitespacesAndNewlines)
        let from = try run(template.from, "from")?.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try run(template.resultURL, "resultUrl")?.trimmingCharacters(in: .whitespacesAndNewlines)
        return RenderedEmail(
            subject: (subject?.isEmpty == false ? subject : nil) ?? "Message from \(context.tenant.friendlyName ?? context.tenantName)",
            html: try run(template.body, "body") ?? "",
            text: try run(defaultText, "text body"),
            from: from?.isEmpty == false ? from : nil,
            resultURL: result?.isEmpty == false ? result : nil)
    }
}

/// Parsed templates by source text, so a template is parsed once, not at every send.
final class ParsedTemplateCache: Sendable {
    private let entries = Mutex<[String: LiquidTemplate]>([:])
    static let capacity = 128

    func template(_ source: String) throws -> LiquidTemplate {
        if let cached = entries.withLock({ $0[source] }) { return cached }
        let parsed: LiquidTemplate
        do { parsed = try LiquidTemplate.parse(source) } catch {
            throw UsherError(.internalFailure, "A stored template does not parse: \(error.description)", errorCode: "template_parse_failed")
        }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[source] = parsed
        }
        return parsed
    }
}
