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
@Suite("Management API: integers in query strings and bodies")
struct IntegerInputLimitsTests {
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

    /// The same values as JSON numbers in the request bodies that carry integers: ticket and link lifetimes, the
    /// SMTP port, the password policy's lengths and history size. Each is a 4xx naming the property (or, for the
    /// connection options Auth0 ignores when out of range, a stored policy that still works), never a 500.
    @Test func everyIntegerInABodyIsRangeCheckedOrIgnored() async throws {
        try await TestServer.run { server, client in
            let token = try await server.adminToken(client)
            let user = try await client.call(
                .post, "/api/v2/users", token: token,
                json: [
                    "connection": "Username-Password-Authentication", "email": "limits@example.com", "password": "Limits-are-fine-42",
                ])
            let userID = try #require(user.json["user_id"]?.stringValue)
            let connections = try await client.call(.get, "/api/v2/connections", token: token)
            let connectionID = try #require(connections.jsonValue?.arrayValue?.first?["id"]?.stringValue)
            let numbers = ["2147483648", "9223372036854775807", "18446744073709551616", "-9223372036854775808", "-1", "1e30", "0.5"]
            for number in numbers {
                let bodies: [(HTTPRequest.Method, String, String)] = [
                    (.post, "/api/v2/tickets/password-change", #"{"user_id": "\#(userID)", "ttl_sec": \#(number)}"#),
                    (.post, "/api/v2/tickets/email-verification", #"{"user_id": "\#(userID)", "ttl_sec": \#(number)}"#),
                    (
                        .post, "/api/v2/emails/provider",
                        #"{"name": "smtp", "credentials": {"smtp_host": "127.0.0.1", "smtp_port": \#(number), "smtp_user": "u", "smtp_pass": "p"}}"#
                    ),
                    (.patch, "/api/v2/email-templates/reset_email", #"{"urlLifetimeInSeconds": \#(number)}"#),
                    (
                        .patch, "/api/v2/connections/\(connectionID)",
                        #"{"options": {"password_complexity_options": {"min_length": \#(number)}, "password_history": {"enable": true, "size": \#(number)}}}"#
                    ),
                ]
                for (method, path, body) in bodies {
                    let response = try await client.call(method, path, token: token, rawBody: body)
                    #expect(response.status.code < 500, "\(method) \(path) \(body): \(response.status) \(String(buffer: response.body))")
                    if path.contains("tickets") || path.contains("provider") {
                        expectAuth0Error(response, .badRequest)
                    }
                }
            }
            // The policy stored with those values still lets a sign-in-able password be set.
            let patched = try await client.call(
                .patch, "/api/v2/users/\(userID.replacingOccurrences(of: "|", with: "%7C"))", token: token,
                json: [
                    "password": "Still-a-fine-password-7"
                ])
            #expect(patched.status == .ok, "\(String(buffer: patched.body))")
        }
    }
}
