import Foundation

/// Reading the tenant log (`GET /api/v2/logs`), with Auth0's parameters.
public struct LogService: Sendable {
    /// What the service reads and writes: only the tenant log.
    public typealias Store = any LogStore

    let store: Store

    public init(store: Store) { self.store = store }

    /// Parses Auth0's query parameters: `page`, `per_page` (≤100), `include_totals`, `sort` (`date:1|-1`), `q`
    /// (`field:value` terms joined by AND; `field:(a OR b)`), or checkpoint paging with `from` and `take`.
    public static func query(parameters: [String: String]) throws(UsherError) -> (query: LogQuery, includeTotals: Bool, checkpoint: Bool) {
        var query = LogQuery()
        let input = QueryParameters(parameters)
        let page = try input.integer("page", default: 0, range: 0...Int.max)
        query.limit = try input.integer("per_page", default: query.limit, range: 0...100)
        if let raw = parameters["sort"], !raw.isEmpty {
            switch raw {
            case "date:1": query.ascending = true
            case "date:-1": query.ascending = false
            default: throw .invalidQuery("Query validation error: 'sort' must be date:1 or date:-1")
            }
        }
        let includeTotals = parameters["include_totals"] == "true"
        let checkpoint = parameters["from"] != nil || parameters["take"] != nil
        if checkpoint {
            if let from = parameters["from"], !from.isEmpty { query.fromLogID = from }
            query.limit = try input.integer("take", default: query.limit, range: 1...100)
            // Checkpoint paging walks forward in time from `from`.
            query.ascending = true
        } else {
            query.offset = QueryParameters.offset(page: page, perPage: query.limit)
        }
        if let q = parameters["q"], !q.trimmingCharacters(in: .whitespaces).isEmpty {
            query.conditions = try parseConditions(q)
        }
        return (query, includeTotals, checkpoint)
    }

    static func parseConditions(_ q: String) throws(UsherError) -> [(field: String, values: [String])] {
        var conditions: [(field: String, values: [String])] = []
        var rest = Substring(q)
        func fail(_ why: String) -> UsherError { .invalidQuery("Query validation error: invalid q: \(why)") }
        while true {
            rest = rest.drop { $0 == " " }
            if rest.isEmpty { break }
            if rest.hasPrefix("AND ") {
                rest = rest.dropFirst(4)
                continue
            }
            guard let colon = rest.firstIndex(of: ":") else { throw fail("expected field:value") }
            let field = String(rest[..<colon])
            guard LogQuery.searchableFields.contains(field) else {
                throw fail("unknown field '\(field.prefix(40))' (searchable: \(LogQuery.searchableFields.sorted().joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: colon)...]
            var values: [String] = []
            if rest.hasPrefix("(") {
                guard let close = rest.firstIndex(of: ")") else { throw fail("unclosed (") }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                values = inner.components(separatedBy: " OR ").map { Self.unquote($0.trimmingCharacters(in: .whitespaces)) }
                rest = rest[rest.index(after: close)...]
            } else if rest.hasPrefix("\"") {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else { throw fail("unclosed quote") }
                values = [String(body[..<close])]
                rest = body[body.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                values = [String(rest[..<end])]
                rest = rest[end...]
            }
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else { throw fail("empty value for \(field)") }
            conditions.append((field, values))
        }
        return conditions
    }

    static func unquote(_ value: String) -> String {
        value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") ? String(value.dropFirst().dropLast()) : value
    }

    public func list(_ query: LogQuery) async throws -> (events: [LogEvent], total: Int) {
        try await store.logs(query)
    }

    public func event(id: String) async throws -> LogEvent {
        guard let event = try await store.log(id: id) else { throw UsherError(.notFound, "Log event not found", errorCode: "inexistent_log") }
        return event
    }
}
