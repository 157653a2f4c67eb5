import Foundation
import SQLKit
import UsherCore
import UsherJSON

/// The hosted pages' custom texts (`PromptTextStore`) on SQLite and PostgreSQL, one code path: a JSON document per
/// prompt and language.
extension SQLUsherStore {
    public func promptCustomTexts(prompt: String) async throws -> [String: JSONObject] {
        let rows = try await db.select().columns("language", "body").from("prompt_custom_texts").where("prompt", .equal, SQLBind(prompt)).all()
        var texts: [String: JSONObject] = [:]
        for row in rows {
            texts[try row.decode(column: "language", as: String.self)] = Self.decodeObject(try row.decode(column: "body", as: String.self))
        }
        return texts
    }

    public func savePromptCustomText(prompt: String, language: String, body: JSONObject) async throws {
        let encoded = Self.encode(body)
        try await withWriteTransaction { tx in
            try await tx.delete(from: "prompt_custom_texts").where("prompt", .equal, SQLBind(prompt)).where("language", .equal, SQLBind(language)).run()
            if !body.isEmpty {
                try await tx.insert(into: "prompt_custom_texts").columns("prompt", "language", "body")
                    .values(SQLBind(prompt), SQLBind(language), SQLBind(encoded)).run()
            }
        }
    }
}
