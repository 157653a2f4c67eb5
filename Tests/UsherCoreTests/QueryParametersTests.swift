import Testing
import UsherCore

/// Integers from a query string are attacker-chosen: each must be refused with a 400 naming it, or bounded, before
/// any arithmetic, because an overflow traps the whole process.
@Suite("Query parameters")
struct QueryParametersTests {
    /// 2^31, 2^63−1, 2^63, 2^64, −2^63, −1, 1e30, and things that are not integers at all.
    static let extremes = [
        "2147483648", "9223372036854775807", "9223372036854775808", "18446744073709551616", "-9223372036854775808", "-1", "1e30",
        "1.5", "", " 1", "0x10", "∞",
    ]

    func refusal(_ body: () throws -> Void) -> UsherError? {
        do {
            try body()
            return nil
        } catch let error as UsherError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func integersOutsideTheirRangeAreThe400NamingTheParameter() throws {
        let query = QueryParameters(["per_page": "101", "page": "-1", "take": "abc", "ok": "7"])
        #expect(try query.integer("ok", default: 0, range: 0...10) == 7)
        #expect(try query.integer("absent", default: 42, range: 0...10) == 42)
        for name in ["per_page", "page", "take"] {
            let error = refusal { _ = try query.integer(name, default: 0, range: 0...100) }
            #expect(error?.kind == .invalidInput && error?.errorCode == "invalid_query_string")
            #expect(error?.message.contains("'\(name)'") == true)
        }
        #expect(
            refusal { _ = try query.integer("page", default: 0, range: 0...Int.max) }?.message
                == "Query validation error: 'page' must be an integer of at least 0")
    }

    @Test(arguments: extremes)
    func everyExtremeValueIsRefusedOrBounded(raw: String) {
        for range in [0...100, 1...100, 0...Int.max] {
            do {
                let value = try QueryParameters.integer(raw, name: "page", range: range)
                #expect(range.contains(value))
            } catch {
                #expect(error.errorCode == "invalid_query_string")
            }
        }
    }

    @Test func offsetsAndEndsSaturateInsteadOfTrapping() {
        #expect(QueryParameters.offset(page: 3, perPage: 50) == 150)
        #expect(QueryParameters.offset(page: 825_749_353_614_231_680, perPage: 83) == Int.max)
        #expect(QueryParameters.offset(page: Int.max, perPage: Int.max) == Int.max)
        #expect(QueryParameters.offset(page: -5, perPage: 10) == 0)
        #expect(QueryParameters.end(start: Int.max, count: 1) == Int.max)
        #expect(QueryParameters.end(start: 10, count: 5) == 15)
    }

    /// The request that used to end the process: `GET /api/v2/users?page=825749353614231680&per_page=83`.
    @Test(arguments: [
        ["page": "825749353614231680", "per_page": "83"], ["per_page": "9223372036854775807"], ["page": "9223372036854775807"],
        ["page": "9223372036854775807", "per_page": "100"], ["page": "-9223372036854775808"], ["page": "1e30"], ["per_page": "-1"],
        ["page": "10", "per_page": "100"],
    ])
    func userSearchRefusesPagesItCannotReach(parameters: [String: String]) {
        let error = refusal { _ = try UserSearchRequest(parameters: parameters) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.errorCode == "invalid_query_string")
    }

    @Test func userSearchKeepsItsValidPaging() throws {
        let request = try UserSearchRequest(parameters: ["page": "9", "per_page": "100", "include_totals": "true"])
        #expect(request.page == 9 && request.perPage == 100 && request.includeTotals)
        // per_page=0 asks for no users, so any page is harmless.
        let empty = try UserSearchRequest(parameters: ["page": "9223372036854775807", "per_page": "0"])
        #expect(empty.perPage == 0)
    }

    @Test(arguments: [
        ["page": "9223372036854775807", "per_page": "100"], ["page": "825749353614231680", "per_page": "83"], ["take": "9223372036854775808", "from": "x"],
        ["per_page": "101"],
    ])
    func logQueriesNeverOverflow(parameters: [String: String]) {
        do {
            let parsed = try LogService.query(parameters: parameters)
            #expect(parsed.query.offset >= 0)
        } catch {
            #expect(error.errorCode == "invalid_query_string")
        }
    }
}
