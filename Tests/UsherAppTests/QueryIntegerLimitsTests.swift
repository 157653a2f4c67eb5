import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import UsherApp
import UsherCore
import UsherHTTP
import UsherJSON

/// Integers in query strings are attacker-chosen; a Swift overflow ends the process (and every request in it).
/// Walks every GET route of the Management API with extreme values for every paging parameter Auth0's lists take.
@Suite("Management API: integer query parameters")
struct QueryIntegerLimitsTests {
    /// 2^31, 2^63−1, 2^64, −2^63, −1, 1e30, and the page that used to trap `GET /api/v2/users`.
    static let extremes = ["2147483648", "9223372036854775807", "18446744073709551616", "-9223372036854775808", "-1", "1e30", "825749353614231680"]

    @Test func everyPagingParameterOfEveryListAnswers4xxOrAPage() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let routes = ManagementAPIController(services: server.server.services).routes.filter { $0.method == .get }
            #expect(routes.count >= 10)
            var requests = 0
            for route in routes {
                // Path parameters get a placeholder: a 404 for the resource is as good an answer as a 400.
                let path = "/api/v2/" + route.path.split(separator: "/").map { $0.hasPrefix(":") ? "x" : String($0) }.joined(separator: "/")
                for name in ["page", "per_page", "from", "take"] {
                    for value in Self.extremes {
                        for extra in ["", "&per_page=100", "&take=100", "&include_totals=true"] {
                            let response = try await client.call(.get, "\(path)?\(name)=\(value)\(extra)", token: token)
                            requests += 1
                            #expect(response.status.code < 500, "\(path)?\(name)=\(value)\(extra): \(response.status) \(String(buffer: response.body))")
                            if response.status.code >= 400 { #expect(response.json["statusCode"] == .int(Int64(response.status.code))) }
                        }
                    }
                }
            }
            #expect(requests >= routes.count * 4 * Self.extremes.count * 4)
            // Still serving.
            #expect(try await client.call(.get, "/api/v2/users", token: token).status == .ok)
            let trap = try await client.call(.get, "/api/v2/users?page=825749353614231680&per_page=83", token: token)
            expectAuth0Error(trap, .badRequest, errorCode: "invalid_query_string")
        }
    }
}
