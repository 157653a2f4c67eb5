/// A JSON object that keeps its members in insertion order (Auth0 returns metadata in the order it was written).
///
/// Members live in one array; small objects (most of them: a user profile has about twenty keys) are searched
/// linearly, which beat a dictionary plus a key array when building and writing responses. Past
/// `indexThreshold` members a key → position index keeps lookups constant-time for large metadata.
public struct JSONObject: Sendable, Hashable, Sequence {
    private var members: [Member] = []
    private var index: [String: Int]?

    fileprivate struct Member: Sendable {
        let key: String
        var value: JSONValue
    }

    static let indexThreshold = 16

    public init() {}

    public init(_ pairs: [(String, JSONValue)]) {
        members.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let newValue {
                if let position = position(of: key) {
                    members[position].value = newValue
                } else {
                    append(key, newValue)
                }
            } else if let position = position(of: key) {
                members.remove(at: position)
                if index != nil { buildIndex() }
            }
        }
    }

    /// Adds a member known to be new (the parser has just looked the key up).
    mutating func append(_ key: String, _ value: JSONValue) {
        members.append(Member(key: key, value: value))
        if index != nil {
            index![key] = members.count - 1
        } else if members.count > Self.indexThreshold {
            buildIndex()
        }
    }

    /// Sets every member of `other` here, in `other`'s order: existing keys keep their position and take the new
    /// value (later wins, as a dictionary merge does), new keys are appended.
    public mutating func merge(_ other: JSONObject) {
        for member in other.members { self[member.key] = member.value }
    }

    private mutating func buildIndex() {
        var index: [String: Int] = [:]
        index.reserveCapacity(members.count)
        for (position, member) in members.enumerated() { index[member.key] = position }
        self.index = index
    }

    public struct Iterator: IteratorProtocol {
        fileprivate var base: IndexingIterator<[Member]>
        public mutating func next() -> (key: String, value: JSONValue)? {
            base.next().map { ($0.key, $0.value) }
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: members.makeIterator()) }

    /// Equal when the members are equal, in any order (JSON objects are unordered).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }

    /// Order-independent, to agree with `==`: the members' own hashes are summed.
    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for member in members {
            var memberHasher = Hasher()
            memberHasher.combine(member.key)
            memberHasher.combine(member.value)
            sum &+= memberHasher.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(sum)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
