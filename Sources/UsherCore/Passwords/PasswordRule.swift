import UsherJSON

/// One rule of a password policy, described the way Auth0's password-sheriff explains it: a stable `id` (sheriff's
/// `code`), a `printf`-style `template` (sheriff's `message`), its `arguments` (sheriff's `format`) and sub-items
/// (the character classes of `shouldContain` / `containsAtLeast`).
///
/// Ids: `nonEmpty`, `lengthAtLeast`, `shouldContain`, `containsAtLeast`, `lowerCase`, `upperCase`, `numbers`,
/// `specialCharacters`, `identicalChars`, `maxLength` (bcrypt's 72 bytes), `dictionary`, `noPersonalInfo`, `history`.
/// The wording of the first nine is Auth0's; `maxLength`, `dictionary`, `noPersonalInfo` and `history` are Usher's
/// (Auth0 shows no live text for them).
public struct PasswordRule: Sendable, Hashable {
    public let id: String
    /// With `%d` / `%s` placeholders, for translation.
    public let template: String
    /// `.int` or `.string` values for the placeholders, in order.
    public let arguments: [JSONValue]
    public let items: [PasswordRule]

    public init(id: String, template: String, arguments: [JSONValue] = [], items: [PasswordRule] = []) {
        self.id = id
        self.template = template
        self.arguments = arguments
        self.items = items
    }

    /// The template with its arguments filled in (`At least 8 characters in length`).
    public var message: String { Self.format(template, arguments) }

    /// The message followed by the items' messages, comma-separated (one line per rule).
    public var summary: String {
        items.isEmpty ? message : message + " " + items.map(\.message).joined(separator: ", ")
    }

    /// The summary in another language: each rule's template replaced by `templates["rule-" + id]` when there is
    /// one (translations keep the `%d` / `%s` placeholders, so the arguments still fit).
    public func summary(templates: [String: String]) -> String {
        func message(_ rule: PasswordRule) -> String { Self.format(templates["rule-" + rule.id] ?? rule.template, rule.arguments) }
        return items.isEmpty ? message(self) : message(self) + " " + items.map(message).joined(separator: ", ")
    }

    /// `{"code", "message", "format"?, "items"?}` — the shape of password-sheriff's `explain()` entries.
    public var json: JSONValue { json(verified: nil, items: items.map { $0.json }) }

    func json(verified: Bool?, items itemsJSON: [JSONValue]) -> JSONValue {
        var object = JSONObject()
        object["code"] = .string(id)
        object["message"] = .string(template)
        if !arguments.isEmpty { object["format"] = .array(arguments) }
        if !itemsJSON.isEmpty { object["items"] = .array(itemsJSON) }
        if let verified { object["verified"] = .bool(verified) }
        return .object(object)
    }

    /// Replaces `%d` and `%s` in order (`%%` is a literal percent sign), as Node's `util.format` does for these.
    static func format(_ template: String, _ arguments: [JSONValue]) -> String {
        var out = ""
        var remaining = arguments[...]
        var iterator = template.makeIterator()
        while let ch = iterator.next() {
            guard ch == "%" else {
                out.append(ch)
                continue
            }
            guard let spec = iterator.next() else {
                out.append("%")
                break
            }
            switch spec {
            case "d", "s":
                if let argument = remaining.popFirst() {
                    switch argument {
                    case .int(let n): out += String(n)
                    case .string(let s): out += s
                    case .double(let d): out += String(d)
                    case .bool(let b): out += String(b)
                    default: out += "null"
                    }
                } else {
                    out += "%" + String(spec)
                }
            case "%":
                out.append("%")
            default:
                out += "%" + String(spec)
            }
        }
        return out
    }
}

/// A rule checked against one password.
public struct PasswordRuleResult: Sendable, Hashable {
    public let rule: PasswordRule
    public let passed: Bool
    /// Per-item results for the character-class rules (each item passes when the password has that class).
    public let items: [PasswordRuleResult]

    public init(rule: PasswordRule, passed: Bool, items: [PasswordRuleResult] = []) {
        self.rule = rule
        self.passed = passed
        self.items = items
    }

    public var id: String { rule.id }
    public var message: String { rule.message }

    /// password-sheriff's `missing()` entry shape: `{"code", "message", "format"?, "items"?, "verified"}`.
    public var json: JSONValue { rule.json(verified: passed, items: items.map { $0.json }) }
}
