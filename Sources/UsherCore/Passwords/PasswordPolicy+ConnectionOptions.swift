import UsherJSON

/// Reading and writing the policy in a connection's `options` object, in Auth0's JSON shape:
/// ```json
/// {
///   "passwordPolicy": "good",
///   "password_complexity_options": {"min_length": 8},
///   "password_history": {"enable": true, "size": 5},
///   "password_dictionary": {"enable": true, "dictionary": ["acme", "acme2024"]},
///   "password_no_personal_info": {"enable": true}
/// }
/// ```
extension PasswordPolicy {
    /// Reads the policy leniently (stored options are trusted to have passed `problems(inConnectionOptions:)`):
    /// an absent, `null` or unknown `passwordPolicy` is `none`; a `min_length` outside 1–128 or not an integer is
    /// ignored; a history size is clamped to 0–24 (5 when missing); dictionary entries longer than 50 characters
    /// and entries past the 200th are dropped; anything but `enable: true` leaves an option off.
    public init(connectionOptions options: JSONObject) {
        let level = options["passwordPolicy"]?.stringValue.flatMap(Level.init(rawValue:)) ?? .none

        var minLength: Int?
        if let value = options["password_complexity_options"]?["min_length"], let n = Self.integer(value),
            Self.minLengthRange.contains(n)
        {
            minLength = n
        }

        var history = HistorySettings.disabled
        if let object = options["password_history"]?.objectValue {
            history = HistorySettings(
                enabled: object["enable"]?.boolValue ?? false,
                size: object["size"].flatMap(Self.integer) ?? HistorySettings.defaultSize)
        }

        var dictionary = DictionarySettings.disabled
        if let object = options["password_dictionary"]?.objectValue {
            var entries: [String] = []
            if case .array(let items)? = object["dictionary"] { entries = items.compactMap(\.stringValue) }
            dictionary = DictionarySettings(enabled: object["enable"]?.boolValue ?? false, entries: entries)
        }

        let noPersonalInfo = options["password_no_personal_info"]?["enable"]?.boolValue ?? false
        self.init(level: level, minLength: minLength, history: history, dictionary: dictionary, noPersonalInfo: noPersonalInfo)
    }

    /// Writes the policy into `options`, keeping every other key (and unknown keys inside the password objects).
    /// `min_length` is removed when `minLength` is nil.
    public func apply(to options: inout JSONObject) {
        options["passwordPolicy"] = .string(level.rawValue)

        var complexity = options["password_complexity_options"]?.objectValue ?? JSONObject()
        complexity["min_length"] = minLength.map { .int(Int64(min(max($0, Self.minLengthRange.lowerBound), Self.minLengthRange.upperBound))) }
        options["password_complexity_options"] = complexity.isEmpty ? nil : .object(complexity)

        var historyObject = options["password_history"]?.objectValue ?? JSONObject()
        historyObject["enable"] = .bool(history.enabled)
        historyObject["size"] = .int(Int64(history.size))
        options["password_history"] = .object(historyObject)

        var dictionaryObject = options["password_dictionary"]?.objectValue ?? JSONObject()
        dictionaryObject["enable"] = .bool(dictionary.enabled)
        dictionaryObject["dictionary"] = .array(dictionary.entries.map(JSONValue.string))
        options["password_dictionary"] = .object(dictionaryObject)

        var personal = options["password_no_personal_info"]?.objectValue ?? JSONObject()
        personal["enable"] = .bool(noPersonalInfo)
        options["password_no_personal_info"] = .object(personal)
    }

    /// The policy as a fresh options object.
    public var connectionOptions: JSONObject {
        var options = JSONObject()
        apply(to: &options)
        return options
    }

    /// Problems with the password keys of a connection `options` body (Management API create/update), as Auth0's
    /// 400 `invalid_body` messages: `Payload validation error: '<detail>' on property options.<path>.`
    /// Empty when the keys are valid or absent. Absent keys mean "unchanged/default", `null` clears an option.
    public static func problems(inConnectionOptions options: JSONObject) -> [String] {
        var problems: [String] = []
        func report(_ detail: String, _ property: String) {
            problems.append("Payload validation error: '\(detail)' on property options.\(property).")
        }
        func checkObject(_ key: String, _ body: (JSONObject) -> Void) {
            guard let value = options[key], !value.isNull else { return }
            guard let object = value.objectValue else {
                report("Expected type object but found type \(typeName(value))", key)
                return
            }
            body(object)
        }
        func requireBool(_ object: JSONObject, _ key: String, _ property: String) {
            guard let value = object[key] else {
                report("Missing required property: \(key)", property)
                return
            }
            if value.boolValue == nil { report("Expected type boolean but found type \(typeName(value))", "\(property).\(key)") }
        }

        if let policy = options["passwordPolicy"], !policy.isNull {
            if let name = policy.stringValue {
                if Level(rawValue: name) == nil { report("No enum match for: \"\(name)\"", "passwordPolicy") }
            } else {
                report("Expected type string but found type \(typeName(policy))", "passwordPolicy")
            }
        }
        checkObject("password_complexity_options") { object in
            if let value = object["min_length"] {
                if let n = integer(value) {
                    if !minLengthRange.contains(n) {
                        report(
                            "Value \(n) is out of range \(minLengthRange.lowerBound)-\(minLengthRange.upperBound)",
                            "password_complexity_options.min_length")
                    }
                } else {
                    report("Expected type integer but found type \(typeName(value))", "password_complexity_options.min_length")
                }
            }
        }
        checkObject("password_history") { object in
            requireBool(object, "enable", "password_history")
            if let value = object["size"] {
                if let n = integer(value) {
                    if !(0...HistorySettings.maxSize).contains(n) {
                        report("Value \(n) is out of range 0-\(HistorySettings.maxSize)", "password_history.size")
                    }
                } else {
                    report("Expected type integer but found type \(typeName(value))", "password_history.size")
                }
            }
        }
        checkObject("password_dictionary") { object in
            requireBool(object, "enable", "password_dictionary")
            guard let value = object["dictionary"] else { return }
            guard case .array(let items) = value else {
                report("Expected type array but found type \(typeName(value))", "password_dictionary.dictionary")
                return
            }
            if items.count > DictionarySettings.maxEntries {
                report("Array is too long (\(items.count)), maximum \(DictionarySettings.maxEntries)", "password_dictionary.dictionary")
            }
            for (index, item) in items.enumerated() {
                guard let entry = item.stringValue else {
                    report("Expected type string but found type \(typeName(item))", "password_dictionary.dictionary[\(index)]")
                    continue
                }
                if entry.count > DictionarySettings.maxEntryLength {
                    report(
                        "String is too long (\(entry.count) chars), maximum \(DictionarySettings.maxEntryLength)",
                        "password_dictionary.dictionary[\(index)]")
                }
            }
        }
        checkObject("password_no_personal_info") { object in
            requireBool(object, "enable", "password_no_personal_info")
        }
        return problems
    }

    /// An integer JSON value (an integral double such as `8.0` counts).
    static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let n): return Int(exactly: n)
        case .double(let d):
            guard d.isFinite, d.rounded() == d, abs(d) < 1e15 else { return nil }
            return Int(d)
        default: return nil
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
