import Foundation
import Hummingbird
import NIOCore
import UsherCore
import UsherJSON

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
        try jsonObject(bytes: try await bytes(of: request))
    }

    static func jsonObject(bytes: [UInt8]) throws -> JSONObject {
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
        try fields(bytes: try await bytes(of: request), contentType: request.headers[.contentType])
    }

    static func fields(bytes: [UInt8], contentType: String?) throws -> [String: String] {
        if (contentType?.lowercased() ?? "").hasPrefix("application/json") {
            var result: [String: String] = [:]
            for (key, value) in try jsonObject(bytes: bytes) {
                switch value {
                case .string(let s): result[key] = s
                case .null: break
                default: result[key] = value.jsonString
                }
            }
            return result
        }
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

    /// A form component: `+` is a space, `%XX` a byte; a broken escape is kept as it came (with `+` as space).
    static func decodeComponent(_ raw: Substring) -> String {
        percentDecoded(raw, plusIsSpace: true) ?? raw.replacingOccurrences(of: "+", with: " ")
    }

    /// Percent-decodes UTF-8 text; nil for an escape that is not `%` and two hex digits, or bytes that are not
    /// UTF-8. Written out because Foundation's `removingPercentEncoding` bridged through NSString and was a
    /// twentieth of a user read.
    static func percentDecoded(_ raw: Substring, plusIsSpace: Bool) -> String? {
        let utf8 = raw.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else { return String(raw) }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            utf8.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "%"):
                guard index != utf8.endIndex, let high = hexValue(utf8[index]) else { return nil }
                utf8.formIndex(after: &index)
                guard index != utf8.endIndex, let low = hexValue(utf8[index]) else { return nil }
                utf8.formIndex(after: &index)
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Query-string parameters, form-decoded (clients such as Python's requests encode spaces as `+`).
    static func query(_ request: Request) -> [String: String] {
        formDecode(request.uri.query ?? "")
    }

    /// The query string as `QueryParameters`: the one reader of integers and flags from a query string.
    static func queryParameters(_ request: Request) -> QueryParameters {
        QueryParameters(query(request))
    }

    /// A path parameter, percent-decoded (user ids arrive as `auth0%7C…`).
    static func pathParameter(_ name: String, _ context: UsherRequestContext) throws -> String {
        guard let raw = context.parameters.get(name) else {
            throw UsherError(.invalidInput, "Missing path parameter \(name)", errorCode: "invalid_uri")
        }
        return percentDecoded(raw[...], plusIsSpace: false) ?? raw
    }
}
