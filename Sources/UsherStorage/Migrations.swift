import Foundation
import Logging
import SQLKit
import UsherCore

/// One numbered schema change. Numbers only grow; a shipped migration is never edited.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (any SQLDatabase) async throws -> Void
}

/// Applies pending migrations in order, recording each in `usher_migrations`.
///
/// On PostgreSQL a session advisory lock serialises instances that start at the same moment;
/// on SQLite the file has one writer at a time anyway.
public enum Migrator {
    public static let all: [Migration] = [
        Migration(version: 1, name: "users, clients, grants, connections, signing keys", apply: Schema.v1),
        Migration(version: 2, name: "outbox, development mailbox, email provider", apply: Schema.v2),
        Migration(version: 3, name: "email templates, tickets, tenant log, tenant settings, password history", apply: Schema.v3),
        Migration(version: 4, name: "sessions, authorization codes, refresh tokens, login failures", apply: Schema.v4),
        Migration(version: 5, name: "actions, action versions, trigger bindings", apply: Schema.v5),
        Migration(version: 6, name: "outbox bodies in their own table", apply: Schema.v6),
        Migration(version: 7, name: "the user each outbox message is about", apply: Schema.v7),
        Migration(version: 8, name: "accepted requests waiting to be processed", apply: Schema.v8),
        Migration(version: 9, name: "sealed outbox bodies and their redacted copies", apply: Schema.v9),
        Migration(version: 10, name: "invitations", apply: Schema.v10),
        Migration(version: 11, name: "roles and their holders", apply: Schema.v11),
        Migration(version: 12, name: "invitation reminders and lapse logging", apply: Schema.v12),
        Migration(version: 13, name: "per-language email templates and hosted-page texts", apply: Schema.v13),
        Migration(version: 14, name: "dashboard administrators", apply: Schema.v14),
    ]

    /// Arbitrary constant naming Usher's migration lock among the database's advisory locks.
    static let advisoryLockKey: Int64 = 0x5553_4845_52  // "USHER"

    /// Returns the versions applied by this call. `through` stops after that version (tests use it to create
    /// rows in an older shape and check that a later migration carries them over).
    @discardableResult
    public static func migrate(_ database: any SQLDatabase, logger: Logger, through: Int? = nil) async throws -> [Int] {
        try await database.withSession { db in
            let isPostgres = db.dialect.name == "postgresql"
            if isPostgres { try await db.raw("SELECT pg_advisory_lock(\(bind: advisoryLockKey))").run() }
            do {
                let applied = try await run(db, logger: logger, through: through)
                if isPostgres { try await db.raw("SELECT pg_advisory_unlock(\(bind: advisoryLockKey))").run() }
                return applied
            } catch {
                if isPostgres { try? await db.raw("SELECT pg_advisory_unlock(\(bind: advisoryLockKey))").run() }
                throw error
            }
        }
    }

    private static func run(_ db: any SQLDatabase, logger: Logger, through: Int?) async throws -> [Int] {
        try await db.create(table: "usher_migrations").ifNotExists()
            .column("version", type: .bigint, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("applied_at", type: .bigint, .notNull)
            .run()
        let done = Set(try await db.select().column("version").from("usher_migrations").all(decodingColumn: "version", as: Int.self))
        var applied: [Int] = []
        for migration in all where !done.contains(migration.version) && migration.version <= (through ?? Int.max) {
            logger.info("Applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            try await transaction(db) { tx in
                try await migration.apply(tx)
                try await tx.insert(into: "usher_migrations").columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Timestamp.milliseconds(Date())))
                    .run()
            }
            applied.append(migration.version)
        }
        return applied
    }

    /// Runs `body` inside BEGIN/COMMIT on an already pinned session.
    /// SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so two writers queue on the busy timeout
    /// instead of failing when a read transaction tries to upgrade.
    static func transaction<T>(_ db: any SQLDatabase, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await db.raw(db.dialect.name == "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN").run()
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }
}

/// Table definitions, one function per migration.
enum Schema {
    static let boolean = SQLDataType.custom(SQLRaw("BOOLEAN"))

    static func v1(_ db: any SQLDatabase) async throws {
        try await db.create(table: "users")
            .column("user_id", type: .text, .primaryKey(autoIncrement: false))
            .column("connection", type: .text, .notNull)
            .column("email", type: .text)
            .column("email_verified", type: boolean, .notNull)
            .column("username", type: .text)
            .column("phone_number", type: .text)
            .column("phone_verified", type: boolean, .notNull)
            .column("name", type: .text)
            .column("given_name", type: .text)
            .column("family_name", type: .text)
            .column("nickname", type: .text)
            .column("picture", type: .text)
            .column("app_metadata", type: .text, .notNull)
            .column("user_metadata", type: .text, .notNull)
            .column("blocked", type: boolean, .notNull)
            .column("password_hash", type: .text)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .column("last_login", type: .bigint)
            .column("last_ip", type: .text)
            .column("logins_count", type: .bigint, .notNull)
            .column("last_password_reset", type: .bigint)
            .unique("connection", "email")
            .unique("connection", "username")
            .run()
        try await db.create(index: "users_email").on("users").column("email").run()
        try await db.create(index: "users_created_at").on("users").column("created_at").run()

        try await db.create(table: "clients")
            .column("client_id", type: .text, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("description", type: .text)
            .column("app_type", type: .text)
            .column("secret_hash", type: .text)
            .column("callbacks", type: .text, .notNull)
            .column("allowed_logout_urls", type: .text, .notNull)
            .column("allowed_origins", type: .text, .notNull)
            .column("web_origins", type: .text, .notNull)
            .column("initiate_login_uri", type: .text)
            .column("grant_types", type: .text, .notNull)
            .column("token_endpoint_auth_method", type: .text, .notNull)
            .column("is_first_party", type: boolean, .notNull)
            .column("client_metadata", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .run()

        try await db.create(table: "client_grants")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("client_id", type: .text, .notNull)
            .column("audience", type: .text, .notNull)
            .column("scope", type: .text, .notNull)
            .unique("client_id", "audience")
            .run()

        try await db.create(table: "connections")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull, .unique)
            .column("strategy", type: .text, .notNull)
            .column("options", type: .text, .notNull)
            .column("enabled_clients", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()

        try await db.create(table: "signing_keys")
            .column("kid", type: .text, .primaryKey(autoIncrement: false))
            .column("private_key_pem", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()
    }

    static func v2(_ db: any SQLDatabase) async throws {
        try await db.create(table: "outbox")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("recipient", type: .text, .notNull)
            .column("sender", type: .text)
            .column("reply_to", type: .text)
            .column("subject", type: .text, .notNull)
            .column("html", type: .text, .notNull)
            .column("text_body", type: .text)
            .column("message_id", type: .text, .notNull)
            .column("purpose", type: .text, .notNull)
            .column("status", type: .text, .notNull)
            .column("attempts", type: .bigint, .notNull)
            .column("last_error", type: .text)
            .column("next_attempt_at", type: .bigint, .notNull)
            .column("lease_owner", type: .text)
            .column("lease_expires_at", type: .bigint)
            .column("created_at", type: .bigint, .notNull)
            .column("sent_at", type: .bigint)
            .run()
        // Claiming scans due messages by status then time; lease recovery scans `sending` by expiry.
        try await db.create(index: "outbox_due").on("outbox").column("status").column("next_attempt_at").run()
        try await db.create(index: "outbox_lease").on("outbox").column("status").column("lease_expires_at").run()
        try await db.create(index: "outbox_created_at").on("outbox").column("created_at").run()

        try await db.create(table: "dev_mailbox")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("outbox_id", type: .text)
            .column("recipient", type: .text, .notNull)
            .column("sender", type: .text, .notNull)
            .column("reply_to", type: .text)
            .column("subject", type: .text, .notNull)
            .column("html", type: .text, .notNull)
            .column("text_body", type: .text)
            .column("message_id", type: .text, .notNull)
            .column("received_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "dev_mailbox_received_at").on("dev_mailbox").column("received_at").run()

        // One row at most: `id` is always 'default', so a second insert is a primary-key conflict (409).
        try await db.create(table: "email_provider")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("enabled", type: boolean, .notNull)
            .column("default_from_address", type: .text)
            .column("credentials", type: .text, .notNull)
            .column("settings", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .run()
    }

    static func v3(_ db: any SQLDatabase) async throws {
        try await db.create(table: "email_templates")
            .column("name", type: .text, .primaryKey(autoIncrement: false))
            .column("body", type: .text)
            .column("sender", type: .text)
            .column("subject", type: .text)
            .column("syntax", type: .text, .notNull)
            .column("result_url", type: .text)
            .column("url_lifetime", type: .bigint)
            .column("include_email", type: boolean, .notNull)
            .column("enabled", type: boolean, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .run()

        // Only the SHA-256 of a link's token is stored.
        try await db.create(table: "tickets")
            .column("token_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("kind", type: .text, .notNull)
            .column("user_id", type: .text, .notNull)
            .column("client_id", type: .text)
            .column("result_url", type: .text)
            .column("include_email", type: boolean, .notNull)
            .column("mark_email_verified", type: boolean, .notNull)
            .column("origin", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .column("used_at", type: .bigint)
            .column("voided_at", type: .bigint)
            .run()
        try await db.create(index: "tickets_user").on("tickets").column("user_id").column("kind").run()
        try await db.create(index: "tickets_expiry").on("tickets").column("expires_at").run()

        // Log ids sort by time (see LogEvent.generateID), so the primary key orders the log.
        try await db.create(table: "logs")
            .column("log_id", type: .text, .primaryKey(autoIncrement: false))
            .column("date", type: .bigint, .notNull)
            .column("type", type: .text, .notNull)
            .column("description", type: .text)
            .column("client_id", type: .text)
            .column("client_name", type: .text)
            .column("ip", type: .text)
            .column("user_agent", type: .text)
            .column("user_id", type: .text)
            .column("user_name", type: .text)
            .column("connection", type: .text)
            .column("connection_id", type: .text)
            .column("details", type: .text, .notNull)
            .run()
        try await db.create(index: "logs_type").on("logs").column("type").column("log_id").run()
        try await db.create(index: "logs_user").on("logs").column("user_id").column("log_id").run()

        try await db.create(table: "password_history")
            .column("user_id", type: .text, .notNull)
            .column("hash", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "password_history_user").on("password_history").column("user_id").column("created_at").run()

        try await db.create(table: "tenant_settings")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("settings", type: .text, .notNull)
            .run()
    }

    static func v4(_ db: any SQLDatabase) async throws {
        try await db.create(table: "sessions")
            .column("id_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("user_id", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("last_seen_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .column("ip", type: .text)
            .column("user_agent", type: .text)
            .column("revoked_at", type: .bigint)
            .run()
        try await db.create(index: "sessions_user").on("sessions").column("user_id").run()

        try await db.create(table: "authorization_codes")
            .column("code_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("client_id", type: .text, .notNull)
            .column("user_id", type: .text, .notNull)
            .column("redirect_uri", type: .text, .notNull)
            .column("scope", type: .text, .notNull)
            .column("audience", type: .text)
            .column("nonce", type: .text)
            .column("code_challenge", type: .text)
            .column("code_challenge_method", type: .text)
            .column("id_token_claims", type: .text, .notNull)
            .column("access_token_claims", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .column("used_at", type: .bigint)
            .run()

        try await db.create(table: "refresh_tokens")
            .column("token_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("family_id", type: .text, .notNull)
            .column("client_id", type: .text, .notNull)
            .column("user_id", type: .text, .notNull)
            .column("scope", type: .text, .notNull)
            .column("audience", type: .text)
            .column("code_hash", type: .text)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .column("rotated_at", type: .bigint)
            .column("revoked_at", type: .bigint)
            .run()
        try await db.create(index: "refresh_tokens_family").on("refresh_tokens").column("family_id").run()
        try await db.create(index: "refresh_tokens_user").on("refresh_tokens").column("user_id").run()
        try await db.create(index: "refresh_tokens_code").on("refresh_tokens").column("code_hash").run()

        // Brute-force counters: key = lower-cased identifier + "|" + client IP.
        try await db.create(table: "login_failures")
            .column("key", type: .text, .primaryKey(autoIncrement: false))
            .column("count", type: .bigint, .notNull)
            .column("last_at", type: .bigint, .notNull)
            .run()
    }

    static func v5(_ db: any SQLDatabase) async throws {
        // An Action's draft. Triggers, dependencies and secrets (with their values) are JSON text.
        try await db.create(table: "actions")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull, .unique)
            .column("supported_triggers", type: .text, .notNull)
            .column("code", type: .text, .notNull)
            .column("dependencies", type: .text, .notNull)
            .column("runtime", type: .text, .notNull)
            .column("secrets", type: .text, .notNull)
            .column("deployed_version_id", type: .text)
            .column("all_changes_deployed", type: boolean, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "actions_created_at").on("actions").column("created_at").run()

        // Immutable snapshots made by deploys, numbered per Action.
        try await db.create(table: "action_versions")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("action_id", type: .text, .notNull)
            .column("number", type: .bigint, .notNull)
            .column("code", type: .text, .notNull)
            .column("dependencies", type: .text, .notNull)
            .column("runtime", type: .text, .notNull)
            .column("secrets", type: .text, .notNull)
            .column("supported_triggers", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .unique("action_id", "number")
            .run()

        // A trigger's ordered list of Actions; `position` is the execution order.
        try await db.create(table: "trigger_bindings")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("trigger_id", type: .text, .notNull)
            .column("position", type: .bigint, .notNull)
            .column("action_id", type: .text, .notNull)
            .column("display_name", type: .text, .notNull)
            .column("secrets", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "trigger_bindings_order").on("trigger_bindings").column("trigger_id").column("position").run()
        try await db.create(index: "trigger_bindings_action").on("trigger_bindings").column("action_id").run()
    }

    static func v6(_ db: any SQLDatabase) async throws {
        // The bodies (kilobytes each) move out of `outbox`: every claim and every "sent" mark rewrites the whole
        // row, and on SQLite a row carrying the bodies spills onto overflow pages that each of those UPDATEs
        // wrote to the WAL again (and checkpointed later). Bodies never change after enqueue, so they live in a
        // table that is written once and only read.
        try await db.create(table: "outbox_body")
            .column("outbox_id", type: .text, .primaryKey(autoIncrement: false))
            .column("html", type: .text, .notNull)
            .column("text_body", type: .text)
            .run()
        try await db.raw("INSERT INTO outbox_body (outbox_id, html, text_body) SELECT id, html, text_body FROM outbox").run()
        // SQLite 3.35+ and PostgreSQL both drop columns; neither column is indexed or constrained beyond NOT NULL.
        try await db.raw("ALTER TABLE outbox DROP COLUMN html").run()
        try await db.raw("ALTER TABLE outbox DROP COLUMN text_body").run()
    }

    static func v7(_ db: any SQLDatabase) async throws {
        // Which user an email is about, so an administrator can see a user's undelivered invitation. Older rows
        // have none (their mail predates the column).
        try await db.alter(table: "outbox").column("user_id", type: .text).run()
        try await db.create(index: "outbox_user").on("outbox").column("user_id").run()
    }

    static func v8(_ db: any SQLDatabase) async throws {
        // Requests answered "we sent you an email" before their work is done (see `IntakeRequest`). An unleased
        // row has lease_expires_at 0, so "claimable now" is one range on the (kind, lease_expires_at) index.
        try await db.create(table: "intake")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("kind", type: .text, .notNull)
            .column("payload", type: .text, .notNull)
            .column("received_at", type: .bigint, .notNull)
            .column("lease_owner", type: .text)
            .column("lease_expires_at", type: .bigint, .notNull)
            .run()
        try await db.create(index: "intake_claimable").on("intake").column("kind").column("lease_expires_at").run()
    }

    static func v9(_ db: any SQLDatabase) async throws {
        // Sealed bodies and their redacted copies (see `OutboxBodySeal`, `SQLUsherStore.redactBodies`). Rows written
        // before are in clear: those of finished messages lose their bodies now (they may hold a live link and no
        // redacted copy exists); unfinished ones are sent as they are and then keep them, like mail without secrets.
        try await db.alter(table: "outbox_body").column("redacted_html", type: .text).run()
        try await db.alter(table: "outbox_body").column("redacted_text", type: .text).run()
        try await db.alter(table: "outbox_body").column("body_redacted", type: boolean, .notNull, .default(SQLLiteral.boolean(false))).run()
        try await db.raw(
            """
            UPDATE outbox_body SET html = '<p>(The body of this message was removed when Usher began sealing outbox bodies.)</p>', \
            text_body = NULL, body_redacted = \(bind: true) \
            WHERE outbox_id IN (SELECT id FROM outbox WHERE status IN ('sent', 'abandoned'))
            """
        ).run()
    }

    static func v10(_ db: any SQLDatabase) async throws {
        // Invitations as objects (see `Invitation`). No link is stored: `ticket_id` is a prefix of the ticket's hash.
        try await db.create(table: "invitations")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("user_id", type: .text, .notNull)
            .column("email", type: .text, .notNull)
            .column("connection", type: .text, .notNull)
            .column("connection_id", type: .text)
            .column("client_id", type: .text)
            .column("inviter_name", type: .text)
            .column("app_metadata", type: .text, .notNull)
            .column("user_metadata", type: .text, .notNull)
            .column("roles", type: .text, .notNull)
            .column("ttl_sec", type: .bigint, .notNull)
            .column("send_email", type: boolean, .notNull)
            .column("locale", type: .text)
            .column("result_url", type: .text)
            .column("status", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .column("accepted_at", type: .bigint)
            .column("revoked_at", type: .bigint)
            .column("resend_count", type: .bigint, .notNull)
            .column("ticket_id", type: .text)
            .column("outbox_id", type: .text)
            .run()
        // The list is newest first, usually narrowed by status; a user's open invitation is looked up on every
        // reset request for an invited user and at acceptance.
        try await db.create(index: "invitations_status_created").on("invitations").column("status").column("created_at").run()
        try await db.create(index: "invitations_created").on("invitations").column("created_at").run()
        try await db.create(index: "invitations_user").on("invitations").column("user_id").run()
        try await db.create(index: "invitations_email").on("invitations").column("email").run()
    }

    static func v11(_ db: any SQLDatabase) async throws {
        try await db.create(table: "roles")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull, .unique)
            .column("description", type: .text)
            .column("created_at", type: .bigint, .notNull)
            .run()
        // One row per (user, role); "who holds this role" reads by role.
        try await db.create(table: "user_roles")
            .column("user_id", type: .text, .notNull)
            .column("role_id", type: .text, .notNull)
            .primaryKey("user_id", "role_id")
            .run()
        try await db.create(index: "user_roles_role").on("user_roles").column("role_id").column("user_id").run()
    }

    static func v12(_ db: any SQLDatabase) async throws {
        // The reminder and the lapse log entry, each at most once per link; both scans read pending rows by expiry.
        try await db.alter(table: "invitations").column("reminded_at", type: .bigint).run()
        try await db.alter(table: "invitations").column("expiry_logged_at", type: .bigint).run()
        try await db.create(index: "invitations_status_expires").on("invitations").column("status").column("expires_at").run()
        // Lists read newest first with `id` as the tie-break: with it in the index a page is read in order, not
        // sorted out of every matching row.
        try await db.create(index: "invitations_status_created_id").on("invitations").column("status").column("created_at").column("id").run()
        try await db.create(index: "invitations_created_id").on("invitations").column("created_at").column("id").run()
    }

    static func v13(_ db: any SQLDatabase) async throws {
        // language → {subject, body, from}, JSON; null for a template with one language.
        try await db.alter(table: "email_templates").column("translations", type: .text).run()
        try await db.create(table: "prompt_custom_texts")
            .column("prompt", type: .text, .notNull)
            .column("language", type: .text, .notNull)
            .column("body", type: .text, .notNull)
            .primaryKey("prompt", "language")
            .run()
    }

    static func v14(_ db: any SQLDatabase) async throws {
        // Their sessions and failure counters are the login tables' (see `AdminStore`).
        try await db.create(table: "admin_accounts")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("email", type: .text, .notNull, .unique)
            .column("password_hash", type: .text, .notNull)
            .column("scopes", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("last_login_at", type: .bigint)
            .run()
    }
}
