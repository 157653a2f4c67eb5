import Foundation

/// Checks and encodings for header text (RFC 5322 / RFC 2047). Everything that ends up in a header
/// goes through here, so this is where header injection is stopped: values with line breaks or other
/// control characters are refused (never stripped silently, never passed through), and everything
/// that is not plain printable ASCII is emitted as RFC 2047 encoded-words, which cannot contain CR/LF.
enum HeaderText {
    /// The longest line we produce, RFC 5322 §2.1.1's "SHOULD" limit (the "MUST" limit is 998).
    static let maxLineLength = 78
    /// RFC 2047 §2: an encoded-word is at most 75 characters.
    static let maxEncodedWordLength = 75

    /// Control characters that must never reach a header: C0 (except TAB), DEL, C1 (including NEL
    /// U+0085) and the Unicode line/paragraph separators, any of which some software treats as a line break.
    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: return false
        case 0x00...0x1F, 0x7F, 0x80...0x9F, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// Throws if `value` contains a line break or another forbidden control character.
    static func validateUnstructured(_ value: String, field: String) throws(MailMessageError) {
        for scalar in value.unicodeScalars where isForbiddenControl(scalar) {
            let what =
                (scalar == "\r" || scalar == "\n" || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0x85)
                ? "a line break" : "a control character"
            throw MailMessageError(
                .invalidHeader, field: field,
                reason: "contains \(what) (U+\(hex(scalar))); refused to prevent header injection"
            )
        }
    }

    static func hex(_ scalar: Unicode.Scalar) -> String {
        let s = String(scalar.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// A short, log-safe rendering of untrusted text for error messages (controls shown escaped).
    static func excerpt(_ text: String, limit: Int = 60) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if out.count >= limit {
                out += "…"
                break
            }
            if isForbiddenControl(scalar) || scalar == "\t" {
                out += "\\u{\(hex(scalar))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return "'\(out)'"
    }

    /// `text` without leading and trailing spaces and tabs (Foundation's trimming bridges to NSString
    /// on Linux, which is slow on the rendering hot path).
    static func trimmed(_ text: some StringProtocol) -> String {
        let string = String(text)
        let utf8 = string.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        if first == utf8.startIndex && utf8.index(after: last) == utf8.endIndex { return string }
        return String(string[first..<utf8.index(after: last)])
    }

    /// Whether `text` contains `=?`, which a decoder could take for the start of an encoded-word.
    static func hasEncodedWordMarker<S: StringProtocol>(_ text: S) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?") { return true }
            previous = byte
        }
        return false
    }

    /// Splits on an ASCII byte without grapheme breaking (String.split walks Characters, which is slow
    /// for non-ASCII text). Empty pieces are kept. The byte must be ASCII so the pieces' bounds are valid
    /// String indices.
    static func split(_ text: String, on separator: UInt8) -> [Substring] {
        var pieces: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            if utf8[index] == separator {
                pieces.append(text[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        pieces.append(text[start..<utf8.endIndex])
        return pieces
    }

    /// Whether `text` contains "..".
    static func hasDoubleDot(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == UInt8(ascii: ".") && byte == UInt8(ascii: ".") { return true }
            previous = byte
        }
        return false
    }

    static func isPrintableASCII(_ s: Substring.UTF8View) -> Bool {
        s.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }

    // MARK: RFC 2047 encoded-words

    /// Characters that may stay literal in a Q-encoded word in any position, including phrases
    /// (RFC 2047 §5 (3)): letters, digits and `! * + - /`.
    private static func isQLiteral(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x21, 0x2A, 0x2B, 0x2D, 0x2F: return true
        default: return false
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes `text` as a sequence of UTF-8 encoded-words, each at most `limit` characters (the first
    /// at most `firstLimit`), split only at character boundaries, so each word decodes on its own.
    /// Chooses Q or B, whichever is shorter. Adjacent encoded-words separated by folding white space
    /// decode to the concatenation of their texts (RFC 2047 §6.2), so the words can be folded freely.
    static func encodedWords(_ text: String, firstLimit: Int, limit: Int = maxEncodedWordLength) -> [String] {
        let bytes = Array(text.utf8)
        @inline(__always) func qCost(_ b: UInt8) -> Int { isQLiteral(b) || b == 0x20 ? 1 : 3 }
        let qLength = bytes.reduce(0) { $0 + qCost($1) }
        let bLength = (bytes.count + 2) / 3 * 4
        let useQ = qLength <= bLength
        let overhead = 12  // "=?UTF-8?Q?" + "?="
        var words: [String] = []
        var start = 0  // first byte of the current word
        var currentLength = 0  // encoded length of bytes[start..<i] (Q only)
        func flush(upTo end: Int) {
            guard end > start else { return }
            var word: [UInt8] = []
            word.reserveCapacity(limit + 2)
            word.append(contentsOf: useQ ? qPrefix : bPrefix)
            if useQ {
                for b in bytes[start..<end] {
                    if b == 0x20 {
                        word.append(UInt8(ascii: "_"))
                    } else if isQLiteral(b) {
                        word.append(b)
                    } else {
                        word.append(UInt8(ascii: "="))
                        word.append(hexDigits[Int(b >> 4)])
                        word.append(hexDigits[Int(b & 0x0F)])
                    }
                }
            } else {
                word.append(contentsOf: Data(bytes[start..<end]).base64EncodedData())
            }
            word.append(UInt8(ascii: "?"))
            word.append(UInt8(ascii: "="))
            words.append(String(decoding: word, as: UTF8.self))
            start = end
            currentLength = 0
        }
        var i = 0
        while i < bytes.count {
            // One scalar: a lead byte and its continuation bytes.
            var next = i + 1
            while next < bytes.count && bytes[next] & 0xC0 == 0x80 { next += 1 }
            let max = (words.isEmpty ? Swift.max(firstLimit, 24) : limit) - overhead
            var scalarCost = 0
            if useQ { for k in i..<next { scalarCost += qCost(bytes[k]) } }
            let newLength = useQ ? currentLength + scalarCost : (next - start + 2) / 3 * 4
            if newLength > max && i > start {
                flush(upTo: i)
                currentLength = scalarCost
            } else {
                currentLength = newLength
            }
            i = next
        }
        flush(upTo: bytes.count)
        return words
    }

    private static let qPrefix: [UInt8] = Array("=?UTF-8?Q?".utf8)
    private static let bPrefix: [UInt8] = Array("=?UTF-8?B?".utf8)

    // MARK: folding

    /// Appends `Name: atom atom …` CRLF, folding (CRLF SP) between atoms so lines stay within 78
    /// characters where the atoms allow it. Atoms never contain CR or LF (callers guarantee it).
    static func appendFolded(name: String, atoms: [String], to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ":"))
        var lineLength = name.utf8.count + 1
        var atomsOnLine = 0
        for atom in atoms {
            let length = atom.utf8.count
            if lineLength + 1 + length > maxLineLength && length > 0 && (atomsOnLine > 0 || lineLength > 1) {
                out.append(contentsOf: [0x0D, 0x0A])
                lineLength = 0
                atomsOnLine = 0
            }
            out.append(0x20)
            out.append(contentsOf: atom.utf8)
            lineLength += 1 + length
            atomsOnLine += 1
        }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// Atoms for an unstructured value (Subject, extra headers): the words themselves when the value is
    /// printable ASCII (and, with `encodeLongWords`, has no word too long to fold), else encoded-words.
    static func unstructuredAtoms(_ value: String, headerName: String, encodeLongWords: Bool) -> [String] {
        let trimmed = HeaderText.trimmed(value)
        if trimmed.isEmpty { return [] }
        let words = split(trimmed, on: 0x20)
        let plain =
            words.allSatisfy { word in
                isPrintableASCII(word.utf8) && !(encodeLongWords && word.utf8.count > 70)
            } && !HeaderText.hasEncodedWordMarker(trimmed)
        if plain { return words.map(String.init) }
        let firstLimit = min(maxEncodedWordLength, maxLineLength - headerName.utf8.count - 2)
        return encodedWords(trimmed, firstLimit: firstLimit)
    }

    /// Atoms for a display name (an RFC 5322 `phrase`): bare words when they are all `atext`, a quoted
    /// string for other short printable-ASCII names, and otherwise plain `atext` words mixed with
    /// encoded-words for the runs of words that need encoding (`=?UTF-8?Q?Zo=C3=AB?= Martin`). Keeping
    /// plain words plain means fewer adjacent encoded-words, whose separating white space some parsers
    /// (Python's `email` among them) wrongly keep.
    static func phraseAtoms(_ name: String) -> [String] {
        func isPlainWord(_ word: Substring) -> Bool {
            !word.isEmpty && word.utf8.count <= 70 && !HeaderText.hasEncodedWordMarker(word)
                && word.unicodeScalars.allSatisfy { $0.isASCII && EmailAddress.isAtext($0) }
        }
        let words = split(name, on: 0x20)
        let singleSpaced = !words.contains { $0.isEmpty }
        if singleSpaced && words.allSatisfy(isPlainWord) {
            return words.map(String.init)
        }
        if isPrintableASCII(name[...].utf8) && name.utf8.count <= 60 && !HeaderText.hasEncodedWordMarker(name) {
            var quoted = "\""
            for ch in name {
                if ch == "\"" || ch == "\\" { quoted.append("\\") }
                quoted.append(ch)
            }
            quoted.append("\"")
            return [quoted]
        }
        guard singleSpaced else { return encodedWords(name, firstLimit: maxEncodedWordLength) }
        var atoms: [String] = []
        var run: [Substring] = []
        func flushRun() {
            guard !run.isEmpty else { return }
            atoms.append(contentsOf: encodedWords(run.joined(separator: " "), firstLimit: maxEncodedWordLength))
            run = []
        }
        for word in words {
            if isPlainWord(word) {
                flushRun()
                atoms.append(String(word))
            } else {
                run.append(word)
            }
        }
        flushRun()
        return atoms
    }
}

/// Body transfer encodings (RFC 2045 §6.7 quoted-printable, §6.8 base64), working on UTF-8 bytes.
enum BodyEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Quoted-printable with CRLF hard line breaks (any of CRLF, LF or CR in the input counts as a line
    /// break), soft breaks keeping every line within 76 characters, and never splitting a UTF-8
    /// character's bytes across a soft break. Trailing spaces and tabs are encoded so transports that
    /// strip trailing white space cannot change the text.
    static func quotedPrintable(_ input: [UInt8], into out: inout [UInt8]) {
        let count = input.count
        // Worst case: every byte as "=XX", plus a soft break ("=" CRLF) every 25 encoded bytes.
        let capacity = count * 3 + (count / 25 + 2) * 3 + 2
        let encoded = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, written in
            input.withUnsafeBufferPointer { input in
                var o = 0
                var lineLength = 0
                var i = 0
                @inline(__always) func isLineEnd(_ j: Int) -> Bool {
                    j >= count || input[j] == 0x0D || input[j] == 0x0A
                }
                @inline(__always) func put(_ b: UInt8) {
                    buffer[o] = b
                    o += 1
                }
                while i < count {
                    // Fast path: plain printable ASCII (not '=') is copied while the line has room.
                    while i < count && lineLength < 75 {
                        let p = input[i]
                        guard p >= 0x21 && p <= 0x7E && p != 0x3D else { break }
                        put(p)
                        lineLength += 1
                        i += 1
                    }
                    guard i < count else { break }
                    let b = input[i]
                    if b == 0x0D || b == 0x0A {
                        put(0x0D)
                        put(0x0A)
                        lineLength = 0
                        i += (b == 0x0D && i + 1 < count && input[i + 1] == 0x0A) ? 2 : 1
                        continue
                    }
                    // One "character": a whole UTF-8 sequence for non-ASCII lead bytes.
                    var length = 1
                    if b >= 0xC0 {
                        length = b >= 0xF0 ? 4 : (b >= 0xE0 ? 3 : 2)
                        if i + length > count { length = count - i }
                        var j = 1
                        while j < length {
                            if input[i + j] & 0xC0 != 0x80 {
                                length = j
                                break
                            }
                            j += 1
                        }
                    }
                    let literal: Bool
                    if length == 1 {
                        if b == 0x20 || b == 0x09 {
                            literal = !isLineEnd(i + 1)
                        } else {
                            literal = b >= 0x21 && b <= 0x7E && b != 0x3D
                        }
                    } else {
                        literal = false
                    }
                    let width = literal ? 1 : 3 * length
                    // A soft break is "=" CRLF; the "=" counts toward the 76 characters.
                    if lineLength + width > 75 && (lineLength + width > 76 || !isLineEnd(i + length)) {
                        put(0x3D)
                        put(0x0D)
                        put(0x0A)
                        lineLength = 0
                    }
                    if literal {
                        put(b)
                    } else {
                        for k in 0..<length {
                            let v = input[i + k]
                            put(0x3D)
                            put(hexDigits[Int(v >> 4)])
                            put(hexDigits[Int(v & 0x0F)])
                        }
                    }
                    lineLength += width
                    i += length
                }
                written = o
            }
        }
        out.append(contentsOf: encoded)
    }

    /// Base64 in lines of 76 characters separated by CRLF, ending with CRLF.
    static func base64(_ input: [UInt8], into out: inout [UInt8]) {
        let encoded = Array(Data(input).base64EncodedData())
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            out.append(contentsOf: encoded[start..<end])
            out.append(contentsOf: [0x0D, 0x0A])
            start = end
        }
    }

    /// Normalises line breaks to CRLF and reports whether the text is 7-bit and every line fits in 998
    /// octets (so it could be sent unencoded).
    static func normalizedLines(_ input: [UInt8]) -> (bytes: [UInt8], sevenBit: Bool, maxLine: Int) {
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 32)
        var sevenBit = true
        var maxLine = 0
        var line = 0
        var i = 0
        while i < input.count {
            let b = input[i]
            if b == 0x0D || b == 0x0A {
                out.append(0x0D)
                out.append(0x0A)
                maxLine = max(maxLine, line)
                line = 0
                i += (b == 0x0D && i + 1 < input.count && input[i + 1] == 0x0A) ? 2 : 1
                continue
            }
            if b >= 0x80 || b == 0 { sevenBit = false }
            out.append(b)
            line += 1
            i += 1
        }
        maxLine = max(maxLine, line)
        return (out, sevenBit, maxLine)
    }
}
