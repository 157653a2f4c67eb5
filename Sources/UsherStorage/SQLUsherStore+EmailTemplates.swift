import Foundation
import SQLKit
import UsherCore
import UsherJSON

/// Email templates (`EmailTemplateStore`) on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    static let templateColumns = [
        "name", "body", "sender", "subject", "syntax", "result_url", "url_lifetime", "include_email", "enabled", "updated_at", "translations",
    ]

    static func templateValues(_ t: EmailTemplate) -> [any SQLExpression] {
        [
            SQLBind(t.template), SQLBind(t.body), SQLBind(t.from), SQLBind(t.subject), SQLBind(t.syntax), SQLBind(t.resultURL),
            SQLBind(t.urlLifetimeInSeconds.map(Int64.init)), SQLBind(t.includeEmailInRedirect), SQLBind(t.enabled),
            SQLBind(Timestamp.milliseconds(t.updatedAt)), SQLBind(t.translationsJSON.map(Self.encode)),
        ]
    }

    public func emailTemplate(name: String) async throws -> EmailTemplate? {
        try await db.select().columns(Self.templateColumns.map { SQLColumn($0) }).from("email_templates").where("name", .equal, SQLBind(name)).first()
            .map { row in
                EmailTemplate(
                    template: try row.decode(column: "name", as: String.self), body: try row.decode(column: "body", as: String?.self),
                    from: try row.decode(column: "sender", as: String?.self), subject: try row.decode(column: "subject", as: String?.self),
                    syntax: try row.decode(column: "syntax", as: String.self), resultURL: try row.decode(column: "result_url", as: String?.self),
                    urlLifetimeInSeconds: try row.decode(column: "url_lifetime", as: Int64?.self).map { Int($0) },
                    includeEmailInRedirect: try row.decode(column: "include_email", as: Bool.self), enabled: try row.decode(column: "enabled", as: Bool.self),
                    updatedAt: Timestamp.date(milliseconds: try row.decode(column: "updated_at", as: Int64.self)),
                    translations: EmailTemplate.translations(from: try row.decode(column: "translations", as: String?.self).map(Self.decodeObject)))
            }
    }

    public func insertEmailTemplate(_ template: EmailTemplate) async throws {
        try await write(conflict: UsherError(.conflict, "Template (\(template.template)) already exists.", errorCode: "email_template_conflict")) {
            try await db.insert(into: "email_templates").columns(Self.templateColumns).values(Self.templateValues(template)).run()
        }
    }

    public func updateEmailTemplate(_ template: EmailTemplate) async throws {
        let values = Self.templateValues(template)
        let query = zip(Self.templateColumns, values).dropFirst().reduce(db.update("email_templates")) { $0.set(SQLColumn($1.0), to: $1.1) }
            .where("name", .equal, SQLBind(template.template)).returning("name")
        let updated = try await write { try await query.all() }
        if updated.isEmpty { throw UsherError(.notFound, "Template not found.", errorCode: "inexistent_email_template") }
    }
}
