/// A list of passwords that may not be used (`options.password_dictionary`). Comparison is case-insensitive.
public protocol PasswordDictionary: Sendable {
    /// Whether `password` is in the list, ignoring case.
    func contains(_ password: String) -> Bool
}

/// Auth0 compares dictionary entries case-insensitively; both sides go through this.
func passwordDictionaryKey(_ text: String) -> String { text.lowercased() }

/// The 10,000 common passwords Usher ships (see `BuiltInPasswordDictionary+Words.swift` for source and licence).
public struct BuiltInPasswordDictionary: PasswordDictionary {
    /// Loaded once, on first use.
    public static let shared = BuiltInPasswordDictionary()

    /// Every entry, lower case.
    public let entries: Set<String>

    private init() {
        var words = Set<String>()
        for word in Self.source.split(whereSeparator: { $0.isWhitespace }) {
            words.insert(passwordDictionaryKey(String(word)))
        }
        self.entries = words
    }

    public func contains(_ password: String) -> Bool {
        entries.contains(passwordDictionaryKey(password))
    }
}

/// A tenant's own entries (`password_dictionary.dictionary`).
public struct CustomPasswordDictionary: PasswordDictionary, Hashable {
    public let entries: Set<String>

    public init(_ entries: [String]) {
        self.entries = Set(entries.map(passwordDictionaryKey))
    }

    public func contains(_ password: String) -> Bool {
        entries.contains(passwordDictionaryKey(password))
    }
}

/// Several dictionaries as one: a password is in it when any part contains it.
public struct CombinedPasswordDictionary: PasswordDictionary {
    public let parts: [any PasswordDictionary]

    public init(_ parts: [any PasswordDictionary]) {
        self.parts = parts
    }

    public func contains(_ password: String) -> Bool {
        parts.contains { $0.contains(password) }
    }
}
