import UsherCore
import UsherJSON

/// Auth0's three shapes for a list endpoint, chosen by the query string:
/// - `from`/`take` present: checkpoint pagination, `{"<key>": [...], "next": "<opaque>"}`;
/// - `include_totals=true`: offset pagination with totals, `{"start", "limit", "total", "<key>": [...]}`;
/// - otherwise a plain array (a page of it when `page`/`per_page` are given).
///
/// Every number comes through `QueryParameters`, and offsets and ends saturate: `from=9223372036854775807` is an
/// empty page, never an overflow.
enum ListPagination {
    static func respond(_ items: [JSONValue], key: String, parameters: [String: String]) throws -> JSONValue {
        let query = QueryParameters(parameters)
        if query.has("from") || query.has("take") {
            let take = try query.integer("take", default: 50, range: 1...100)
            let start = try query.integer("from", default: 0, range: 0...Int.max)
            let end = QueryParameters.end(start: start, count: take)
            let page = start < items.count ? Array(items[start..<min(items.count, end)]) : []
            var body: JSONObject = [key: .array(page)]
            if end < items.count { body["next"] = .string(String(end)) }
            return .object(body)
        }
        let perPage = try query.integer("per_page", default: 50, range: 0...100)
        let pageNumber = try query.integer("page", default: 0, range: 0...Int.max)
        let paged = query.has("page") || query.has("per_page")
        let start = paged ? min(QueryParameters.offset(page: pageNumber, perPage: perPage), items.count) : 0
        let slice = paged ? Array(items[start..<min(items.count, QueryParameters.end(start: start, count: perPage))]) : items
        guard parameters["include_totals"] == "true" else { return .array(slice) }
        return .object([
            "start": .int(Int64(start)), "limit": .int(Int64(paged ? perPage : items.count)),
            "total": .int(Int64(items.count)), key: .array(slice),
        ])
    }

    /// The same shapes for a list the store pages itself. `fetch(offset, limit, counting)` reads one page, and its
    /// total when `counting` (only `include_totals` asks: counting every match costs more than a page). A
    /// checkpoint page reads one row more than asked, which says whether there is a next page without counting.
    /// `checkpoints: false` for endpoints where Auth0 has no `from`/`take`.
    static func respond(
        key: String, query: QueryParameters, checkpoints: Bool = true,
        fetch: (_ offset: Int, _ limit: Int, _ counting: Bool) async throws -> (items: [JSONValue], total: Int?)
    ) async throws -> JSONValue {
        if checkpoints, query.has("from") || query.has("take") {
            let take = try query.integer("take", default: 50, range: 1...100)
            let start = try query.integer("from", default: 0, range: 0...Int.max)
            let page = try await fetch(start, take + 1, false).items
            var body: JSONObject = [key: .array(Array(page.prefix(take)))]
            if page.count > take { body["next"] = .string(String(QueryParameters.end(start: start, count: take))) }
            return .object(body)
        }
        let perPage = try query.integer("per_page", default: 50, range: 1...100)
        let start = QueryParameters.offset(page: try query.integer("page", default: 0, range: 0...Int.max), perPage: perPage)
        guard try query.bool("include_totals", default: false) else { return .array(try await fetch(start, perPage, false).items) }
        let (items, total) = try await fetch(start, perPage, true)
        let count = total ?? items.count
        return .object(["start": .int(Int64(min(start, count))), "limit": .int(Int64(perPage)), "total": .int(Int64(count)), key: .array(items)])
    }
}
