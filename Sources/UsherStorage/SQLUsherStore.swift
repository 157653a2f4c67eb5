import Foundation
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization
import UsherCore
import UsherJSON

/// `UsherStore` on any SQLKit database (SQLite or PostgreSQL), one code path for both.
public struct SQLUsherStore: UsherStore {
    let db: any SQLDatabase
    /// True inside `transaction`: the session is already pinned and nested calls must not BEGIN again.
    let inTransaction: Bool
    /// Serialises writers on SQLite (see `WriteGate`); nil on PostgreSQL.
    let writeGate: WriteGate?
    /// Synchronous point reads on a SQLite file (see `SQLiteReader`); nil on PostgreSQL.
    let reader: SQLiteReader?
    /// Synchronous commits of accepted requests on a SQLite file (see `SQLiteIntakeWriter`); nil on PostgreSQL.
    let intakeWriter: SQLiteIntakeWriter?
    /// Encrypts outbox bodies on their way in and opens them on their way out (the key is not in the database).
    let outboxSeal: OutboxBodySeal

    /// A store on `database`; `reader` and `intakeWriter`, for a SQLite file, serve the hottest lookups and the
    /// accepted requests' commits without the pool.
    public init(database: any SQLDatabase, reader: SQLiteReader? = nil, intakeWriter: SQLiteIntakeWriter? = nil, outboxSeal: OutboxBodySeal) {
        self.db = database
        self.inTransaction = false
        self.writeGate = database.dialect.name == "sqlite" ? WriteGate() : nil
        self.reader = database.dialect.name == "sqlite" ? reader : nil
        self.intakeWriter = database.dialect.name == "sqlite" ? intakeWriter : nil
        self.outboxSeal = outboxSeal
    }

    /// A store on the provider's database and, for SQLite, its synchronous reader and intake writer.
    public init(provider: SQLDatabaseProvider, outboxSeal: OutboxBodySeal) {
        self.init(database: provider.database, reader: provider.reader, intakeWriter: provider.intakeWriter, outboxSeal: outboxSeal)
    }

    private init(session: any SQLDatabase, outboxSeal: OutboxBodySeal) {
        self.db = session
        self.inTransaction = true
        self.writeGate = nil
        self.reader = nil
        self.intakeWriter = nil
        self.outboxSeal = outboxSeal
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any UsherStore) async throws -> T) async throws -> T {
        if inTransaction { return try await body(self) }
        let (db, seal) = (self.db, outboxSeal)
        return try await exclusive {
            try await db.withSession { session in
                try await Migrator.transaction(session) { tx in try await body(SQLUsherStore(session: tx, outboxSeal: seal)) }
            }
        }
    }

    /// Runs a write with the SQLite write gate held (a no-op inside a transaction, which already holds it).
    func exclusive<T>(_ body: () async throws -> T) async throws -> T {
        guard let writeGate, !inTransaction else { return try await body() }
        return try await writeGate.withLock(body)
    }

    public func ping() async throws {
        try await db.raw("SELECT 1 AS one").run()
    }

    // MARK: errors

    /// Whether `error` is a unique-key violation, on either driver.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        if let sqlite = error as? SQLiteError {
            return [.constraint, .constraintUniqueFailed, .constraintPrimaryKeyFailed].contains(sqlite.reason)
        }
        if let postgres = error as? PSQLError {
            return postgres.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw
        }
        return false
    }

    /// Runs a write under the write gate, turning a unique-key violation into `conflict`.
    func write<T>(conflict: UsherError? = nil, _ body: () async throws -> T) async throws -> T {
        do { return try await exclusive(body) } catch {
            if let conflict, Self.isUniqueViolation(error) { throw conflict }
            throw error
        }
    }

    // MARK: text search

    /// `expression LIKE … ESCAPE '\'` matching the lower-cased `text` as written (its `%`, `_` and `\` are
    /// characters, not patterns): at the start of the value, or `anywhere` in it. Same SQL on both databases.
    static func like(_ expression: some SQLExpression, _ text: String, anywhere: Bool) -> SQLQueryString {
        let escaped = text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return SQLQueryString("\(expression) LIKE \(bind: (anywhere ? "%" : "") + escaped + "%") ESCAPE '\\'")
    }

    // MARK: JSON columns

    static func encode(_ object: JSONObject) -> String { object.jsonString }
    static func encode(_ strings: [String]) -> String { JSONValue.array(strings.map(JSONValue.string)).jsonString }

    static func decodeObject(_ text: String) -> JSONObject {
        (try? JSONParser.parse(text))?.objectValue ?? [:]
    }

    static func decodeStrings(_ text: String) -> [String] {
        guard case .array(let items)? = try? JSONParser.parse(text) else { return [] }
        return items.compactMap(\.stringValue)
    }

    static func millis(_ date: Date?) -> Int64? { date.map(Timestamp.milliseconds) }
    static func date(_ millis: Int64?) -> Date? { millis.map { Timestamp.date(milliseconds: $0) } }

    // MARK: users

    static let userColumns = [
        "user_id", "connection", "email", "email_verified", "username", "phone_number", "phone_verified", "name",
        "given_name", "family_name", "nickname", "picture", "app_metadata", "user_metadata", "blocked",
        "password_hash", "created_at", "updated_at", "last_login", "last_ip", "logins_count", "last_password_reset",
    ]

    /// The column list as one pre-quoted fragment: building it from 22 `SQLColumn`s re-escaped every identifier
    /// on every query (a tenth of a user read in the profile). Double quotes quote identifiers on both databases.
    static let userColumnList = quotedColumns(userColumns)

    /// `columns` as one pre-quoted fragment (see `userColumnList`).
    static func quotedColumns(_ columns: [String]) -> SQLRaw {
        SQLRaw(columns.map { "\"\($0)\"" }.joined(separator: ", "))
    }

    static func userValues(_ u: User) -> [any SQLExpression] {
        [
            SQLBind(u.userID), SQLBind(u.connection), SQLBind(u.email), SQLBind(u.emailVerified), SQLBind(u.username),
            SQLBind(u.phoneNumber), SQLBind(u.phoneVerified), SQLBind(u.name), SQLBind(u.givenName),
            SQLBind(u.familyName), SQLBind(u.nickname), SQLBind(u.picture), SQLBind(encode(u.appMetadata)),
            SQLBind(encode(u.userMetadata)), SQLBind(u.blocked), SQLBind(u.passwordHash),
            SQLBind(Timestamp.milliseconds(u.createdAt)), SQLBind(Timestamp.milliseconds(u.updatedAt)),
            SQLBind(millis(u.lastLogin)), SQLBind(u.lastIP), SQLBind(Int64(u.loginsCount)),
            SQLBind(millis(u.lastPasswordReset)),
        ]
    }

    static func user(from row: any SQLRow) throws -> User {
        if let row = row as? SQLiteRow, let user = user(sqlite: row) { return user }
        return try userDecoding(row)
    }

    /// SQLite rows read by hand: going through `Decodable` for each of 22 columns was a tenth of a user read. Nil
    /// when a column holds an unexpected type; the decoding path then reports it. Columns are addressed by their
    /// position in `userColumns` (the synchronous reader) or by name (SQLiteNIO rows).
    static func user(sqlite row: some SQLiteColumnValues) -> User? {
        func text(_ index: Int) throws -> String {
            guard case .text(let value)? = row.value(index, named: userColumns[index]) else { throw UnexpectedColumnType() }
            return value
        }
        func optionalText(_ index: Int) throws -> String? {
            switch row.value(index, named: userColumns[index]) {
            case .text(let value)?: return value
            case .null?: return nil
            default: throw UnexpectedColumnType()
            }
        }
        func integer(_ index: Int) throws -> Int64 {
            guard case .integer(let value)? = row.value(index, named: userColumns[index]) else { throw UnexpectedColumnType() }
            return Int64(value)
        }
        func optionalInteger(_ index: Int) throws -> Int64? {
            switch row.value(index, named: userColumns[index]) {
            case .integer(let value)?: return Int64(value)
            case .null?: return nil
            default: throw UnexpectedColumnType()
            }
        }
        func bool(_ index: Int) throws -> Bool {
            switch try integer(index) {
            case 0: return false
            case 1: return true
            default: throw UnexpectedColumnType()
            }
        }
        return try? User(
            userID: text(0), connection: text(1), email: optionalText(2), emailVerified: bool(3),
            username: optionalText(4), phoneNumber: optionalText(5), phoneVerified: bool(6),
            name: optionalText(7), givenName: optionalText(8), familyName: optionalText(9),
            nickname: optionalText(10), picture: optionalText(11),
            appMetadata: decodeObject(text(12)), userMetadata: decodeObject(text(13)),
            blocked: bool(14), passwordHash: optionalText(15),
            createdAt: Timestamp.date(milliseconds: integer(16)), updatedAt: Timestamp.date(milliseconds: integer(17)),
            lastLogin: date(optionalInteger(18)), lastIP: optionalText(19), loginsCount: Int(integer(20)),
            lastPasswordReset: date(optionalInteger(21)))
    }

    private struct UnexpectedColumnType: Error {}

    static func userDecoding(_ row: any SQLRow) throws -> User {
        User(
            userID: try row.decode(column: "user_id", as: String.self),
            connection: try row.decode(column: "connection", as: String.self),
            email: try row.decode(column: "email", as: String?.self),
            emailVerified: try row.decode(column: "email_verified", as: Bool.self),
            username: try row.decode(column: "username", as: String?.self),
            phoneNumber: try row.decode(column: "phone_number", as: String?.self),
            phoneVerified: try row.decode(column: "phone_verified", as: Bool.self),
            name: try row.decode(column: "name", as: String?.self),
            givenName: try row.decode(column: "given_name", as: String?.self),
            familyName: try row.decode(column: "family_name", as: String?.self),
            nickname: try row.decode(column: "nickname", as: String?.self),
            picture: try row.decode(column: "picture", as: String?.self),
            appMetadata: decodeObject(try row.decode(column: "app_metadata", as: String.self)),
            userMetadata: decodeObject(try row.decode(column: "user_metadata", as: String.self)),
            blocked: try row.decode(column: "blocked", as: Bool.self),
            passwordHash: try row.decode(column: "password_hash", as: String?.self),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Timestamp.date(milliseconds: try row.decode(column: "updated_at", as: Int64.self)),
            lastLogin: date(try row.decode(column: "last_login", as: Int64?.self)),
            lastIP: try row.decode(column: "last_ip", as: String?.self),
            loginsCount: Int(try row.decode(column: "logins_count", as: Int64.self)),
            lastPasswordReset: date(try row.decode(column: "last_password_reset", as: Int64?.self)))
    }

    public func insertUser(_ user: User) async throws {
        try await write(conflict: .userExists) {
            try await db.insert(into: "users").columns(Self.userColumns).values(Self.userValues(user)).run()
        }
    }

    public func user(id: String) async throws -> User? {
        if let users = try readUsers(Self.userByIDSQL, [id]) { return users.first }
        return try await db.select().column(Self.userColumnList).from("users")
            .where("user_id", .equal, SQLBind(id)).first().map(Self.user(from:))
    }

    public func users(email: String) async throws -> [User] {
        if let users = try readUsers(Self.usersByEmailSQL, [email]) { return users }
        return try await db.select().column(Self.userColumnList).from("users")
            .where("email", .equal, SQLBind(email)).orderBy("created_at").all().map(Self.user(from:))
    }

    public func user(connection: String, email: String) async throws -> User? {
        if let users = try readUsers(Self.userByConnectionAndEmailSQL, [connection, email]) { return users.first }
        return try await db.select().column(Self.userColumnList).from("users")
            .where("connection", .equal, SQLBind(connection)).where("email", .equal, SQLBind(email))
            .first().map(Self.user(from:))
    }

    // The same three lookups for the synchronous SQLite reader, which takes SQL text (SQLite's dialect only).
    static let userByIDSQL = "SELECT \(userColumnList.sql) FROM \"users\" WHERE \"user_id\" = ?1 LIMIT 1"
    static let usersByEmailSQL = "SELECT \(userColumnList.sql) FROM \"users\" WHERE \"email\" = ?1 ORDER BY \"created_at\""
    static let userByConnectionAndEmailSQL =
        "SELECT \(userColumnList.sql) FROM \"users\" WHERE \"connection\" = ?1 AND \"email\" = ?2 LIMIT 1"

    /// Users through the synchronous SQLite reader; nil when there is none (PostgreSQL, inside a transaction) or
    /// it could not read right away, and the caller takes the pool. A row with an unexpected column type also
    /// goes to the pool, whose `Decodable` path names the column in its error.
    func readUsers(_ sql: String, _ binds: [String]) throws -> [User]? {
        guard let reader, !inTransaction else { return nil }
        let users = try reader.rows(sql, binds) { row in Self.user(sqlite: row) }
        guard let users, !users.contains(where: { $0 == nil }) else { return nil }
        return users.compactMap { $0 }
    }

    public func updateUser(_ user: User) async throws {
        let values = Self.userValues(user)
        var update = db.update("users")
        for (column, value) in zip(Self.userColumns, values) where column != "user_id" {
            update = update.set(SQLColumn(column), to: value)
        }
        let query = update.where("user_id", .equal, SQLBind(user.userID)).returning("user_id")
        let found = try await write(conflict: UsherError(.invalidInput, "The specified new email already exists", errorCode: "email_exists")) {
            !(try await query.all()).isEmpty
        }
        if !found { throw UsherError.userNotFound }
    }

    public func deleteUser(id: String) async throws -> Bool {
        // The user's role assignments go with them: a user id can come back (`user_id` on create).
        let (roles, user) = (
            db.delete(from: "user_roles").where("user_id", .equal, SQLBind(id)).query,
            db.delete(from: "users").where("user_id", .equal, SQLBind(id)).returning("user_id").query
        )
        return try await withWriteTransaction { tx in
            try await tx.execute(sql: roles) { _ in }
            let deleted = Mutex(false)
            try await tx.execute(sql: user) { _ in deleted.withLock { $0 = true } }
            return deleted.withLock { $0 }
        }
    }

    public func listUsers(_ page: UserPageRequest) async throws -> (users: [User], total: Int) {
        let total =
            try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("users")
            .first(decodingColumn: "n", as: Int.self) ?? 0
        let direction: SQLDirection = page.ascending ? .ascending : .descending
        let users = try await db.select().column(Self.userColumnList).from("users")
            .orderBy(SQLColumn(page.sortField.rawValue), direction)
            .orderBy(SQLColumn("user_id"), direction)
            .offset(page.offset).limit(page.limit)
            .all().map(Self.user(from:))
        return (users, total)
    }

    public func allUsers() async throws -> [User] {
        try await db.select().column(Self.userColumnList).from("users")
            .orderBy("created_at").all().map(Self.user(from:))
    }

    // MARK: clients

    static let clientColumns = [
        "client_id", "name", "description", "app_type", "secret_hash", "callbacks", "allowed_logout_urls",
        "allowed_origins", "web_origins", "initiate_login_uri", "grant_types", "token_endpoint_auth_method",
        "is_first_party", "client_metadata", "created_at", "updated_at",
    ]

    static func clientValues(_ c: Client) -> [any SQLExpression] {
        [
            SQLBind(c.clientID), SQLBind(c.name), SQLBind(c.description), SQLBind(c.appType), SQLBind(c.secretHash),
            SQLBind(encode(c.callbacks)), SQLBind(encode(c.allowedLogoutURLs)), SQLBind(encode(c.allowedOrigins)),
            SQLBind(encode(c.webOrigins)), SQLBind(c.initiateLoginURI), SQLBind(encode(c.grantTypes)),
            SQLBind(c.tokenEndpointAuthMethod), SQLBind(c.isFirstParty), SQLBind(encode(c.clientMetadata)),
            SQLBind(Timestamp.milliseconds(c.createdAt)), SQLBind(Timestamp.milliseconds(c.updatedAt)),
        ]
    }

    static func client(from row: any SQLRow) throws -> Client {
        Client(
            clientID: try row.decode(column: "client_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            description: try row.decode(column: "description", as: String?.self),
            appType: try row.decode(column: "app_type", as: String?.self),
            secretHash: try row.decode(column: "secret_hash", as: String?.self),
            callbacks: decodeStrings(try row.decode(column: "callbacks", as: String.self)),
            allowedLogoutURLs: decodeStrings(try row.decode(column: "allowed_logout_urls", as: String.self)),
            allowedOrigins: decodeStrings(try row.decode(column: "allowed_origins", as: String.self)),
            webOrigins: decodeStrings(try row.decode(column: "web_origins", as: String.self)),
            initiateLoginURI: try row.decode(column: "initiate_login_uri", as: String?.self),
            grantTypes: decodeStrings(try row.decode(column: "grant_types", as: String.self)),
            tokenEndpointAuthMethod: try row.decode(column: "token_endpoint_auth_method", as: String.self),
            isFirstParty: try row.decode(column: "is_first_party", as: Bool.self),
            clientMetadata: decodeObject(try row.decode(column: "client_metadata", as: String.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Timestamp.date(milliseconds: try row.decode(column: "updated_at", as: Int64.self)))
    }

    public func insertClient(_ client: Client) async throws {
        try await write(conflict: UsherError(.conflict, "A client with this id already exists", errorCode: "conflict")) {
            try await db.insert(into: "clients").columns(Self.clientColumns).values(Self.clientValues(client)).run()
        }
    }

    public func client(id: String) async throws -> Client? {
        try await db.select().columns(Self.clientColumns.map { SQLColumn($0) }).from("clients")
            .where("client_id", .equal, SQLBind(id)).first().map(Self.client(from:))
    }

    public func updateClient(_ client: Client) async throws {
        var update = db.update("clients")
        for (column, value) in zip(Self.clientColumns, Self.clientValues(client)) where column != "client_id" {
            update = update.set(SQLColumn(column), to: value)
        }
        let query = update.where("client_id", .equal, SQLBind(client.clientID)).returning("client_id")
        let found = try await write { !(try await query.all()).isEmpty }
        if !found { throw UsherError.clientNotFound }
    }

    public func deleteClient(id: String) async throws -> Bool {
        let db = self.db
        return try await write { !(try await db.delete(from: "clients").where("client_id", .equal, SQLBind(id)).returning("client_id").all()).isEmpty }
    }

    public func listClients() async throws -> [Client] {
        try await db.select().columns(Self.clientColumns.map { SQLColumn($0) }).from("clients")
            .orderBy("created_at").orderBy("client_id").all().map(Self.client(from:))
    }

    static func grant(from row: any SQLRow) throws -> ClientGrant {
        ClientGrant(
            id: try row.decode(column: "id", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self),
            audience: try row.decode(column: "audience", as: String.self),
            scope: decodeStrings(try row.decode(column: "scope", as: String.self)))
    }

    public func insertClientGrant(_ grant: ClientGrant) async throws {
        try await write(conflict: UsherError(.conflict, "A client grant for this client and audience already exists", errorCode: "conflict")) {
            try await db.insert(into: "client_grants").columns("id", "client_id", "audience", "scope")
                .values(SQLBind(grant.id), SQLBind(grant.clientID), SQLBind(grant.audience), SQLBind(Self.encode(grant.scope)))
                .run()
        }
    }

    public func clientGrants(clientID: String?) async throws -> [ClientGrant] {
        var query = db.select().columns("id", "client_id", "audience", "scope").from("client_grants")
        if let clientID { query = query.where("client_id", .equal, SQLBind(clientID)) }
        return try await query.orderBy("id").all().map(Self.grant(from:))
    }

    public func clientGrant(clientID: String, audience: String) async throws -> ClientGrant? {
        try await db.select().columns("id", "client_id", "audience", "scope").from("client_grants")
            .where("client_id", .equal, SQLBind(clientID)).where("audience", .equal, SQLBind(audience))
            .first().map(Self.grant(from:))
    }

    public func updateClientGrant(_ grant: ClientGrant) async throws {
        let db = self.db
        try await write {
            try await db.update("client_grants").set("scope", to: SQLBind(Self.encode(grant.scope)))
                .where("id", .equal, SQLBind(grant.id)).run()
        }
    }

    public func deleteClientGrant(id: String) async throws -> Bool {
        let db = self.db
        return try await write { !(try await db.delete(from: "client_grants").where("id", .equal, SQLBind(id)).returning("id").all()).isEmpty }
    }

    // MARK: connections

    static func connection(from row: any SQLRow) throws -> Connection {
        Connection(
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            strategy: try row.decode(column: "strategy", as: String.self),
            options: decodeObject(try row.decode(column: "options", as: String.self)),
            enabledClients: decodeStrings(try row.decode(column: "enabled_clients", as: String.self)),
            createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)))
    }

    static let connectionColumns = ["id", "name", "strategy", "options", "enabled_clients", "created_at"]

    public func insertConnection(_ c: Connection) async throws {
        try await write(conflict: UsherError(.conflict, "A connection with the same name already exists", errorCode: "connection_conflict")) {
            try await db.insert(into: "connections").columns(Self.connectionColumns)
                .values(
                    SQLBind(c.id), SQLBind(c.name), SQLBind(c.strategy), SQLBind(Self.encode(c.options)),
                    SQLBind(Self.encode(c.enabledClients)), SQLBind(Timestamp.milliseconds(c.createdAt))
                )
                .run()
        }
    }

    public func connection(id: String) async throws -> Connection? {
        try await db.select().columns(Self.connectionColumns.map { SQLColumn($0) }).from("connections")
            .where("id", .equal, SQLBind(id)).first().map(Self.connection(from:))
    }

    public func connection(name: String) async throws -> Connection? {
        try await db.select().columns(Self.connectionColumns.map { SQLColumn($0) }).from("connections")
            .where("name", .equal, SQLBind(name)).first().map(Self.connection(from:))
    }

    public func updateConnection(_ c: Connection) async throws {
        let query = db.update("connections")
            .set("options", to: SQLBind(Self.encode(c.options)))
            .set("enabled_clients", to: SQLBind(Self.encode(c.enabledClients)))
            .where("id", .equal, SQLBind(c.id)).returning("id")
        let found = try await write { !(try await query.all()).isEmpty }
        if !found { throw UsherError.connectionNotFound }
    }

    public func listConnections() async throws -> [Connection] {
        try await db.select().columns(Self.connectionColumns.map { SQLColumn($0) }).from("connections")
            .orderBy("created_at").orderBy("id").all().map(Self.connection(from:))
    }

    // MARK: signing keys

    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await db.select().columns("kid", "private_key_pem", "created_at").from("signing_keys").orderBy("created_at").all().map { row in
            SigningKeyRecord(
                kid: try row.decode(column: "kid", as: String.self),
                privateKeyPEM: try row.decode(column: "private_key_pem", as: String.self),
                createdAt: Timestamp.date(milliseconds: try row.decode(column: "created_at", as: Int64.self)))
        }
    }

    public func insertSigningKey(_ key: SigningKeyRecord) async throws {
        let db = self.db
        try await write {
            try await db.insert(into: "signing_keys").columns("kid", "private_key_pem", "created_at")
                .values(SQLBind(key.kid), SQLBind(key.privateKeyPEM), SQLBind(Timestamp.milliseconds(key.createdAt)))
                .run()
        }
    }
}
