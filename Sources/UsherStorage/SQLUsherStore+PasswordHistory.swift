import Foundation
import SQLKit
import UsherCore

/// Password history (`PasswordHistoryStore`) on SQLite and PostgreSQL, one code path.
extension SQLUsherStore {
    public func appendPasswordHistory(userID: String, hash: String, at: Date) async throws {
        let keep = PasswordPolicy.HistorySettings.maxSize
        try await withWriteTransaction { tx in
            try await tx.insert(into: "password_history").columns("user_id", "hash", "created_at")
                .values(SQLBind(userID), SQLBind(hash), SQLBind(Timestamp.milliseconds(at))).run()
            // Keep the newest `keep` rows: delete those older than the keep-th newest.
            if let cutoff = try await tx.select().column("created_at").from("password_history").where("user_id", .equal, SQLBind(userID))
                .orderBy("created_at", .descending).offset(keep - 1).limit(1).first(decodingColumn: "created_at", as: Int64.self)
            {
                try await tx.delete(from: "password_history").where("user_id", .equal, SQLBind(userID))
                    .where("created_at", .lessThan, SQLBind(cutoff)).run()
            }
        }
    }

    public func passwordHistory(userID: String, limit: Int) async throws -> [String] {
        try await db.select().column("hash").from("password_history").where("user_id", .equal, SQLBind(userID))
            .orderBy("created_at", .descending).limit(max(0, limit)).all(decodingColumn: "hash", as: String.self)
    }
}
