import UsherJSON

/// Input rules for user fields, shared by create, update and (later) bulk import.
public enum UserValidation {
    /// Auth0 forbids these keys in `app_metadata` because they shadow profile attributes.
    public static let reservedAppMetadataKeys: Set<String> = [
        "__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email", "globalClientID",
        "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount", "metadata",
        "multifactor_last_modified", "multifactor", "updated_at", "user_id",
    ]

    /// Largest serialized metadata object accepted (Auth0's soft profile limit is 10 KB; a little headroom).
    public static let maximumMetadataBytes = 16 * 1024

    /// Returns the normalized (lower-cased) address or throws Auth0's format error naming `property`.
    public static func normalizedEmail(_ raw: String, property: String = "email") throws(UsherError) -> String {
        let email = raw.lowercased()
        guard isPlausibleEmail(email) else {
            throw .invalidBody("'Object didn't pass validation for format email: \(raw)' on property \(property).")
        }
        return email
    }

    /// A deliberately plain check (one `@`, sane lengths, a dotted domain, no spaces or control characters):
    /// the real proof of an address is the link we mail to it.
    public static func isPlausibleEmail(_ email: String) -> Bool {
        guard email.utf8.count <= 254 else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty else { return false }
        // Byte by byte (this runs on every reset request): multi-byte UTF-8 characters are all above 0x7F and pass.
        for byte in email.utf8 {
            switch byte {
            case ...0x20, 0x7F: return false
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"),
                UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\""):
                return false
            default: break
            }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else { return false }
        guard domain.utf8.first != UInt8(ascii: "-"), local.utf8.first != UInt8(ascii: "."), local.utf8.last != UInt8(ascii: ".") else { return false }
        // Two dots in a row in the local part.
        var lastWasDot = false
        for byte in local.utf8 {
            let isDot = byte == UInt8(ascii: ".")
            if isDot && lastWasDot { return false }
            lastWasDot = isDot
        }
        return true
    }

    /// Checks a metadata object: key characters, reserved names, size.
    public static func validateMetadata(_ metadata: JSONObject, property: String) throws(UsherError) {
        try validateKeys(.object(metadata), property: property, depth: 0)
        if property == "app_metadata" {
            for key in metadata.keys where reservedAppMetadataKeys.contains(key) {
                throw .invalidBody("'\(key)' is a reserved key and cannot be used in app_metadata.")
            }
        }
        if metadata.jsonString.utf8.count > maximumMetadataBytes {
            throw .invalidBody("'Metadata is larger than \(maximumMetadataBytes) bytes' on property \(property).")
        }
    }

    private static func validateKeys(_ value: JSONValue, property: String, depth: Int) throws(UsherError) {
        switch value {
        case .object(let object):
            for (key, member) in object {
                if key.contains(".") || key.contains("$") {
                    throw .invalidBody("'Metadata keys cannot contain \".\" or \"$\": \(key)' on property \(property).")
                }
                try validateKeys(member, property: property, depth: depth + 1)
            }
        case .array(let items):
            for item in items { try validateKeys(item, property: property, depth: depth + 1) }
        default:
            break
        }
    }

    /// Merges a PATCH's metadata into the stored one, one level deep: each top-level key replaces the stored key,
    /// `null` deletes it, and an empty object wipes everything (all as Auth0 documents).
    public static func merge(_ patch: JSONObject, into stored: JSONObject) -> JSONObject {
        if patch.isEmpty { return [:] }
        var merged = stored
        for (key, value) in patch {
            merged[key] = value.isNull ? nil : value
        }
        return merged
    }

    /// E.164 phone numbers: `+` then 1–15 digits.
    public static func isE164(_ phone: String) -> Bool {
        guard phone.hasPrefix("+") else { return false }
        let digits = phone.dropFirst()
        return (1...15).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
