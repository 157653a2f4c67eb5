// The reference for `bench/http`: a bare Hummingbird server answering a fixed JSON body the size of a user.
// Usher's own routes are measured against it in the same run, so the ratio shows what Usher adds.
import Hummingbird
import Logging

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8099
let body =
    #"{"created_at":"2026-11-25T00:00:00.000Z","email":"bench@example.com","email_verified":false,"identities":[{"connection":"Username-Password-Authentication","user_id":"0123456789abcdef01234567","provider":"auth0","isSocial":false}],"name":"bench@example.com","nickname":"bench","picture":"https://s.gravatar.com/avatar/0?s=480&r=pg&d=identicon","updated_at":"2026-11-25T00:00:00.000Z","user_id":"auth0|0123456789abcdef01234567","app_metadata":{"needsInvitation":true},"user_metadata":{},"logins_count":0}"#

var logger = Logger(label: "bare")
logger.logLevel = .warning
let router = Router()
router.get("api/v2/users/:id") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
