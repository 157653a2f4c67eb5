/// A strict RFC 8259 JSON reader producing `JSONValue`, with explicit limits.
///
/// Written here rather than using `JSONSerialization` because callers need what Foundation loses: object member
/// order, the difference between `true` and `1` and between `1` and `1.0`, limits that make hostile input
/// harmless, and an error that says where the input is wrong. It reads from a buffer of UTF-8 bytes without
/// copying it, and strings without escapes are made in one step, because the Action worker reads every login's
/// messages with it.
public struct JSONParser {
    /// The default deepest nesting: far more than any API body or metadata needs, little enough stack.
    public static let maximumDepth = 64
    /// The default largest input: above anything a caller reads today (API bodies are refused past 1 MB, Action
    /// worker lines past 256 MiB), so it only bounds inputs nothing else bounds.
    public static let maximumBytes = 1 << 30

    /// How much input is accepted before the parser gives up.
    public struct Limits: Sendable, Hashable {
        /// Containers (objects and arrays) nested deeper than this are refused instead of recursed into.
        public var maximumDepth: Int
        /// Longer input is refused before reading it.
        public var maximumBytes: Int

        public init(maximumDepth: Int = JSONParser.maximumDepth, maximumBytes: Int = JSONParser.maximumBytes) {
            self.maximumDepth = maximumDepth
            self.maximumBytes = maximumBytes
        }
    }

    /// What to do with text that is well-formed JSON but not well-formed Unicode: an unpaired surrogate escape
    /// (`"\ud83d"`) or bytes that are not UTF-8.
    public enum InvalidText: Sendable, Hashable {
        /// A syntax error: stored data must be text that writes back as it was read.
        case reject
        /// U+FFFD in its place, as UTF-16 decoding with repair does: JavaScript strings may hold lone surrogates,
        /// and `JSON.stringify` writes them as such escapes.
        case replace
    }

    /// What to do with an object that names the same member twice.
    public enum DuplicateKeys: Sendable, Hashable {
        /// A syntax error: which one was meant is ambiguous.
        case reject
        /// The last one stands (JavaScript's `JSON.parse` and most readers do this), in the first one's position.
        case keepLast
    }

    /// How strict the reader is and how much it accepts; the defaults are strict.
    public struct Options: Sendable, Hashable {
        public var limits: Limits
        public var invalidText: InvalidText
        public var duplicateKeys: DuplicateKeys

        public init(limits: Limits = Limits(), invalidText: InvalidText = .reject, duplicateKeys: DuplicateKeys = .reject) {
            self.limits = limits
            self.invalidText = invalidText
            self.duplicateKeys = duplicateKeys
        }
    }

    /// A syntax error (or a limit reached) with the byte offset where it was found.
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at position \(offset)" }

        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let options: Options
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, options: Options) {
        self.bytes = bytes
        self.options = options
    }

    // MARK: - Entry points

    /// Parses a whole document; surrounding whitespace is allowed, anything else after the value is an error.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, options: Options = Options()) throws(SyntaxError) -> JSONValue {
        var parser = try JSONParser(checking: bytes, options: options)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        try parser.expectEnd()
        return value
    }

    public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(SyntaxError) -> JSONValue {
        try withBuffer(bytes) { buffer throws(SyntaxError) in try parse(buffer, options: options) }
    }

    public static func parse(_ text: String, options: Options = Options()) throws(SyntaxError) -> JSONValue {
        var text = text
        return try withBuffer(&text) { buffer throws(SyntaxError) in try parse(buffer, options: options) }
    }

    /// Parses a document that must be an object, handing back the members named in `rawMembers` as the byte
    /// ranges of their values in `bytes` instead of decoded.
    ///
    /// Why: a reader that only passes a member on as text (the Action worker hands the login's event to
    /// JavaScript's `JSON.parse`) would otherwise decode it into values only to write the same text again.
    /// Raw members are still checked: brackets, literals, numbers, string escapes and control characters; not
    /// whether their strings are well-formed Unicode, which is for the reader of the text to decide.
    public static func parseObject(
        _ bytes: UnsafeBufferPointer<UInt8>, rawMembers: Set<String>, options: Options = Options()
    ) throws(SyntaxError) -> (members: JSONObject, raw: [String: Range<Int>]) {
        var parser = try JSONParser(checking: bytes, options: options)
        parser.skipWhitespace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else { throw parser.error("Expected an object") }
        var ranges: [String: Range<Int>] = [:]
        let members = try parser.parseMembers { parser, key throws(SyntaxError) in
            guard rawMembers.contains(key) else { return try parser.parseValue() }
            let start = parser.index
            try parser.skipValue()
            ranges[key] = start..<parser.index
            return nil
        }
        try parser.expectEnd()
        return (members, ranges)
    }

    private init(checking bytes: UnsafeBufferPointer<UInt8>, options: Options) throws(SyntaxError) {
        guard bytes.count <= options.limits.maximumBytes else {
            throw SyntaxError(offset: options.limits.maximumBytes, reason: "Input longer than \(options.limits.maximumBytes) bytes")
        }
        self.init(bytes, options: options)
    }

    /// `withUnsafeBufferPointer` with its typed error kept (the standard library's rethrows loses it).
    private static func withBuffer<R>(
        _ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> R
    ) throws(SyntaxError) -> R {
        let result: Result<R, SyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(SyntaxError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func withBuffer<R>(
        _ text: inout String, _ body: (UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> R
    ) throws(SyntaxError) -> R {
        let result: Result<R, SyntaxError> = text.withUTF8 { buffer in
            do throws(SyntaxError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: - Reading

    private func error(_ reason: String) -> SyntaxError { SyntaxError(offset: index, reason: reason) }

    private mutating func expectEnd() throws(SyntaxError) {
        skipWhitespace()
        guard index == bytes.count else { throw error("Unexpected data after the JSON value") }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(SyntaxError) -> JSONValue {
        guard index < bytes.count else { throw error("Unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseMembers { parser, _ throws(SyntaxError) in try parser.parseValue() })
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("Unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(SyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("Unexpected end of input") }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        guard bytes[index..<(index + count)].elementsEqual(expected) else { throw error("Invalid literal") }
        index += count
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        if depth > options.limits.maximumDepth { throw error("Nesting deeper than \(options.limits.maximumDepth) levels") }
    }

    /// An object starting at its `{`; `member` reads each value (at the value's first byte) and returns it, or nil
    /// for a member it kept out of the object.
    private mutating func parseMembers(
        _ member: (inout JSONParser, String) throws(SyntaxError) -> JSONValue?
    ) throws(SyntaxError) -> JSONObject {
        try enter()
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return object
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("Expected a property name") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("Expected ':'") }
            index += 1
            skipWhitespace()
            if let value = try member(&self, key) {
                if object[key] == nil {
                    object.append(key, value)
                } else if options.duplicateKeys == .keepLast {
                    object[key] = value
                } else {
                    throw error("Duplicate property '\(key)'")
                }
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("Unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                break
            }
            throw error("Expected ',' or '}'")
        }
        depth -= 1
        return object
    }

    private mutating func parseArray() throws(SyntaxError) -> JSONValue {
        try enter()
        index += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("Unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                break
            }
            throw error("Expected ',' or ']'")
        }
        depth -= 1
        return .array(array)
    }

    /// Moves past one value, checking it as `parseValue` would without building it.
    private mutating func skipValue() throws(SyntaxError) {
        guard index < bytes.count else { throw error("Unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = bytes[index] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            try enter()
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == close {
                index += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("Expected a property name") }
                    try skipString()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("Expected ':'") }
                    index += 1
                    skipWhitespace()
                }
                try skipValue()
                skipWhitespace()
                guard index < bytes.count else { throw error("Unexpected end of input") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == close {
                    index += 1
                    break
                }
                throw error(isObject ? "Expected ',' or '}'" : "Expected ',' or ']'")
            }
            depth -= 1
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: throw error("Unexpected character")
        }
    }

    // MARK: - Strings

    private static func endsPlainRun(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20
    }

    /// A string starting at its opening quote.
    private mutating func parseString() throws(SyntaxError) -> String {
        index += 1
        let start = index
        while index < bytes.count, !Self.endsPlainRun(bytes[index]) { index += 1 }
        guard index < bytes.count else { throw error("Unterminated string") }
        if bytes[index] == UInt8(ascii: "\"") {
            // No escapes (most strings): one step from the input to the string.
            let string = try makeString(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            index += 1
            return string
        }
        var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard index < bytes.count else { throw error("Unterminated string") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try utf8.withUnsafeBufferPointer { buffer throws(SyntaxError) in try makeString(buffer) }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("Unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(0x22)
                case UInt8(ascii: "\\"): utf8.append(0x5C)
                case UInt8(ascii: "/"): utf8.append(0x2F)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): UTF8.encode(try unicodeEscape()) { utf8.append($0) }
                default: throw error("Invalid escape")
                }
            case 0x00..<0x20:
                throw error("Control character in string")
            default:
                // A run of plain bytes up to the next quote, backslash or control character.
                let runStart = index
                while index < bytes.count, !Self.endsPlainRun(bytes[index]) { index += 1 }
                utf8.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            }
        }
    }

    private func makeString(_ utf8: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> String {
        switch options.invalidText {
        case .replace:
            return String(decoding: utf8, as: UTF8.self)
        case .reject:
            guard let string = String(validating: utf8, as: UTF8.self) else { throw error("Invalid UTF-8 in string") }
            return string
        }
    }

    /// The scalar of a `\u` escape whose hex digits start at `index`; a high surrogate combines with an escaped
    /// low one that follows.
    private mutating func unicodeEscape() throws(SyntaxError) -> Unicode.Scalar {
        let unit = try parseHex4()
        switch unit {
        case 0xD800...0xDBFF:
            if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let resume = index
                index += 2
                let low = try parseHex4()
                if (0xDC00...0xDFFF).contains(low) {
                    return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
                }
                index = resume  // not a pair: when replacing, the next escape is read on its own
            }
            return try unpairedSurrogate()
        case 0xDC00...0xDFFF:
            return try unpairedSurrogate()
        default:
            return Unicode.Scalar(unit) ?? "\u{FFFD}"
        }
    }

    private func unpairedSurrogate() throws(SyntaxError) -> Unicode.Scalar {
        guard options.invalidText == .replace else { throw error("Unpaired surrogate") }
        return "\u{FFFD}"
    }

    private mutating func parseHex4() throws(SyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("Invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("Invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Moves past a string starting at its opening quote, checking its escapes and that it has no control
    /// characters.
    private mutating func skipString() throws(SyntaxError) {
        index += 1
        while true {
            while index < bytes.count, !Self.endsPlainRun(bytes[index]) { index += 1 }
            guard index < bytes.count else { throw error("Unterminated string") }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("Unterminated escape") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    _ = try parseHex4()
                default: throw error("Invalid escape")
                }
            default:
                throw error("Control character in string")
            }
        }
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(SyntaxError) -> JSONValue {
        let start = index
        let (integer, isInteger) = try scanNumber()
        if isInteger, let integer { return .int(integer) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else { throw SyntaxError(offset: start, reason: "Number out of range") }
        return .double(double)
    }

    /// Moves past a number (RFC 8259 grammar: no leading zeros, `+`, bare `.` or missing digits). Integers are
    /// accumulated as they are read, nil when they do not fit an `Int64`.
    private mutating func scanNumber() throws(SyntaxError) -> (integer: Int64?, isInteger: Bool) {
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("Invalid number") }
        var magnitude: UInt64 = 0
        var overflow = false
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = sum
                index += 1
            }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("Invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("Invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        guard isInteger, !overflow else { return (nil, isInteger) }
        if negative {
            if magnitude <= UInt64(Int64.max) { return (-Int64(magnitude), true) }
            return (magnitude == UInt64(Int64.max) + 1 ? Int64.min : nil, true)
        }
        return (magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil, true)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
