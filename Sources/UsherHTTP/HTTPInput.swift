import Foundation
import Hummingbird
import NIOCore
import UsherCore

/// Reading request bodies and query strings the way Auth0's APIs accept them.
public enum HTTPInput {
    /// Auth0: "max payload 1 MB for all endpoints".
    public static let maximumBodyBytes = 1_048_576

    /// Collects the body, refusing more than `maximumBodyBytes`.
    static func bytes(of request: Request) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= maximumBodyBytes else {
                throw UsherError(.payloadTooLarge, "Payload content length greater than maximum allowed: \(maximumBodyBytes)", errorCode: "payload_too_large")
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    /// A JSON object body (empty body = empty object, as PATCH clients sometimes send).
    static func jsonObject(_ request: Request) async throws -> JSONObject {
        let bytes = try await bytes(of: request)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw UsherError(.invalidInput, "Invalid request payload JSON format", errorCode: "invalid_body")
        }
        guard case .object(let object) = value else {
            throw UsherError.invalidBody("'Expected type object but found type \(value.typeName)'.")
        }
        return object
    }

    /// A JSON object, or a form body read as an object of strings (booleans and integers converted), for the
    /// Management endpoints Auth0 documents as accepting `application/x-www-form-urlencoded` too.
    static func jsonObjectOrForm(_ request: Request) async throws -> JSONObject {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else { return try await jsonObject(request) }
        let fields = formDecode(String(decoding: try await bytes(of: request), as: UTF8.self))
        var object = JSONObject()
        for key in fields.keys.sorted() {
            let value = fields[key] ?? ""
            if value == "true" || value == "false" {
                object[key] = .bool(value == "true")
            } else if let number = Int64(value), key.hasSuffix("_sec") {
                object[key] = .int(number)
            } else {
                object[key] = .string(value)
            }
        }
        return object
    }

    /// Fields of a JSON or `application/x-www-form-urlencoded` body as strings (OAuth endpoints take both).
    /// Non-string JSON values are kept in their JSON text so validation can name them.
    static func fields(_ request: Request) async throws -> [String: String] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if contentType.hasPrefix("application/json") {
            var result: [String: String] = [:]
            for (key, value) in try await jsonObject(request) {
                switch value {
                case .string(let s): result[key] = s
                case .null: break
                default: result[key] = value.jsonString
                }
            }
            return result
        }
        let bytes = try await bytes(of: request)
        return formDecode(String(decoding: bytes, as: UTF8.self))
    }

    /// Decodes `a=1&b=x+y%21` (the form encoding: `+` is a space). Later duplicates lose to the first.
    public static func formDecode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decodeComponent(parts[0])
            let value = parts.count > 1 ? decodeComponent(parts[1]) : ""
            if result[key] == nil { result[key] = value }
        }
        return result
    }

    static func decodeComponent(_ raw: Substring) -> String {
        let spaced = raw.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Query-string parameters, form-decoded (clients such as Python's requests encode spaces as `+`).
    static func query(_ request: Request) -> [String: String] {
        formDecode(request.uri.query ?? "")
    }

    /// A path parameter, percent-decoded (user ids arrive as `auth0%7C…`).
    static func pathParameter(_ name: String, _ context: UsherRequestContext) throws -> String {
        guard let raw = context.parameters.get(name) else {
            throw UsherError(.invalidInput, "Missing path parameter \(name)", errorCode: "invalid_uri")
        }
        return raw.removingPercentEncoding ?? raw
    }
}

extension JSONValue {
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// Building responses.
public enum HTTPOutput {
    static func jsonValue(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var text = ""
        text.reserveCapacity(512)
        value.write(to: &text)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ object: JSONObject, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        jsonValue(.object(object), status: status, headers: headers)
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}
