import UsherCore
import UsherJSON

/// Auth0's three shapes for a list endpoint, chosen by the query string:
/// - `from`/`take` present: checkpoint pagination, `{"<key>": [...], "next": "<opaque>"}`;
/// - `include_totals=true`: offset pagination with totals, `{"start", "limit", "total", "<key>": [...]}`;
/// - otherwise a plain array (a page of it when `page`/`per_page` are given).
enum ListPagination {
    static func respond(_ items: [JSONValue], key: String, parameters: [String: String]) throws -> JSONValue {
        if parameters["from"] != nil || parameters["take"] != nil {
            let take = try integer(parameters["take"], name: "take", default: 50, range: 1...100)
            let start = try integer(parameters["from"], name: "from", default: 0, range: 0...Int.max)
            let page = start < items.count ? Array(items[start..<min(items.count, start + take)]) : []
            var body: JSONObject = [key: .array(page)]
            if start + take < items.count { body["next"] = .string(String(start + take)) }
            return .object(body)
        }
        let perPage = try integer(parameters["per_page"], name: "per_page", default: 50, range: 0...100)
        let pageNumber = try integer(parameters["page"], name: "page", default: 0, range: 0...Int.max)
        let paged = parameters["page"] != nil || parameters["per_page"] != nil
        let start = paged ? min(pageNumber.multipliedReportingOverflow(by: perPage).overflow ? Int.max : pageNumber * perPage, items.count) : 0
        let slice = paged ? Array(items[start..<min(items.count, start + perPage)]) : items
        guard parameters["include_totals"] == "true" else { return .array(slice) }
        return .object([
            "start": .int(Int64(start)), "limit": .int(Int64(paged ? perPage : items.count)),
            "total": .int(Int64(items.count)), key: .array(slice),
        ])
    }

    private static func integer(_ raw: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let number = Int(raw), range.contains(number) else {
            throw UsherError.invalidQuery("Query validation error: '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound == Int.max ? "∞" : String(range.upperBound))")
        }
        return number
    }
}
