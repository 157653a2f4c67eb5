/// Turns an HTML email body into the plain-text alternative that goes beside it.
///
/// Not an HTML renderer: a tolerant single pass over the markup that does what a reader of the text
/// part needs. Invisible content (`<head>`, `<style>`, `<script>`, comments) is dropped; block elements
/// become line breaks and paragraphs become blank lines; list items get a `- ` bullet; a link keeps its
/// target as `text (url)` (just `url` when the text is the URL), because in an invitation the link *is*
/// the message; images keep their `alt` text; entities (named and numeric) are decoded; runs of white
/// space collapse to one space (except inside `<pre>`); at most one blank line in a row.
public enum HTMLText {
    /// The plain-text rendering of `html`.
    public static func plainText(fromHTML html: String) -> String {
        var converter = Converter(Array(html.utf8))
        converter.run()
        return converter.finish()
    }

    private struct Converter {
        let input: [UInt8]
        var i = 0
        var out: [UInt8] = []
        var pendingBreaks = 0
        var pendingSpace = false
        var preDepth = 0
        var links: [(href: String?, textStart: Int)] = []
        var lists: [(ordered: Bool, counter: Int)] = []

        init(_ input: [UInt8]) {
            self.input = input
            out.reserveCapacity(input.count / 2)
        }

        // MARK: output

        mutating func requestBreak(_ n: Int) {
            if !out.isEmpty { pendingBreaks = max(pendingBreaks, n) }
            pendingSpace = false
        }

        mutating func emit(_ bytes: some Collection<UInt8>) {
            guard !bytes.isEmpty else { return }
            beginWord()
            out.append(contentsOf: bytes)
        }

        /// Starts a word: applies pending line breaks or the pending space before its first byte.
        @inline(__always)
        mutating func beginWord() {
            if pendingBreaks > 0 {
                while out.last == 0x20 { out.removeLast() }
                for _ in 0..<min(pendingBreaks, 2) { out.append(0x0A) }
                pendingBreaks = 0
            } else if pendingSpace, let last = out.last, last != 0x0A, last != 0x20 {
                out.append(0x20)
            }
            pendingSpace = false
        }

        mutating func text(_ raw: ArraySlice<UInt8>) {
            if raw.contains(UInt8(ascii: "&")) {
                appendText(Self.decodeEntities(raw)[...])
            } else {
                appendText(raw)
            }
        }

        private mutating func appendText(_ decoded: ArraySlice<UInt8>) {
            if preDepth > 0 {
                var atLineStart = true
                for b in decoded where b != 0x0D {
                    if b == 0x0A {
                        out.append(0x0A)
                        atLineStart = true
                    } else {
                        if atLineStart {
                            beginWord()
                            atLineStart = false
                        }
                        out.append(b)
                    }
                }
                return
            }
            var inWord = false
            for b in decoded {
                if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C {
                    inWord = false
                    pendingSpace = true
                } else {
                    if !inWord {
                        beginWord()
                        inWord = true
                    }
                    out.append(b)
                }
            }
        }

        mutating func finish() -> String {
            // One pass: drop trailing spaces on each line, leading/trailing blank lines, and keep at
            // most one blank line in a row.
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            var newlines = 0
            var spaces = 0
            for b in out {
                switch b {
                case 0x0A:
                    newlines += 1
                    spaces = 0
                case 0x20:
                    spaces += 1
                default:
                    if newlines > 0 {
                        if !result.isEmpty { result.append(contentsOf: repeatElement(0x0A, count: min(newlines, 2))) }
                        newlines = 0
                    }
                    if spaces > 0 && !result.isEmpty {
                        result.append(contentsOf: repeatElement(0x20, count: spaces))  // kept inside lines and as <pre> indentation
                    }
                    spaces = 0
                    result.append(b)
                }
            }
            return String(decoding: result, as: UTF8.self)
        }

        // MARK: parsing

        mutating func run() {
            var textStart = 0
            while i < input.count {
                guard input[i] == UInt8(ascii: "<") else {
                    // Jump to the next '<'.
                    i = input[i...].firstIndex(of: UInt8(ascii: "<")) ?? input.count
                    continue
                }
                if i > textStart { text(input[textStart..<i]) }
                if startsWith("<!--") {
                    i = find("-->", from: i + 4).map { $0 + 3 } ?? input.count
                } else if i + 1 < input.count, input[i + 1] == UInt8(ascii: "!") || input[i + 1] == UInt8(ascii: "?") {
                    i = find(">", from: i).map { $0 + 1 } ?? input.count
                } else if let tag = parseTag() {
                    handle(tag)
                } else {
                    // A lone '<' that is not a tag: keep it as text.
                    text(input[i..<(i + 1)])
                    i += 1
                }
                textStart = i
            }
            if textStart < input.count { text(input[textStart..<input.count]) }
        }

        struct Tag {
            var name: String
            var closing: Bool
            var attributes: [String: String]
        }

        func startsWith(_ s: String) -> Bool {
            let bytes = Array(s.utf8)
            guard i + bytes.count <= input.count else { return false }
            for (k, b) in bytes.enumerated() where Self.lower(input[i + k]) != b { return false }
            return true
        }

        func find(_ s: String, from start: Int) -> Int? {
            let bytes = Array(s.utf8)
            var j = start
            while j + bytes.count <= input.count {
                var match = true
                for (k, b) in bytes.enumerated() where Self.lower(input[j + k]) != b {
                    match = false
                    break
                }
                if match { return j }
                j += 1
            }
            return nil
        }

        static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b + 32 : b }
        static func isNameByte(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x3A || b == 0x5F
        }
        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C }

        /// Parses `<name attr="v" …>` at `i`; on success moves `i` past the `>`.
        mutating func parseTag() -> Tag? {
            var j = i + 1
            var closing = false
            if j < input.count, input[j] == UInt8(ascii: "/") {
                closing = true
                j += 1
            }
            let nameStart = j
            while j < input.count, Self.isNameByte(input[j]) { j += 1 }
            guard j > nameStart, Self.lower(input[nameStart]) >= 0x61 && Self.lower(input[nameStart]) <= 0x7A else { return nil }
            let nameBytes = input[nameStart..<j]
            let name =
                nameBytes.allSatisfy({ $0 < 0x41 || $0 > 0x5A })
                ? String(decoding: nameBytes, as: UTF8.self) : String(decoding: nameBytes.map(Self.lower), as: UTF8.self)
            // Only links and images have attributes we use; others are skipped without building strings.
            let wantsAttributes = name == "a" || name == "img"
            var attributes: [String: String] = [:]
            while j < input.count {
                while j < input.count, Self.isSpace(input[j]) || input[j] == UInt8(ascii: "/") { j += 1 }
                guard j < input.count else { break }
                if input[j] == UInt8(ascii: ">") {
                    j += 1
                    i = j
                    return Tag(name: name, closing: closing, attributes: attributes)
                }
                let attrStart = j
                while j < input.count, !Self.isSpace(input[j]), input[j] != UInt8(ascii: "="), input[j] != UInt8(ascii: ">") { j += 1 }
                let attrName = wantsAttributes ? String(decoding: input[attrStart..<j].map(Self.lower), as: UTF8.self) : ""
                while j < input.count, Self.isSpace(input[j]) { j += 1 }
                var value = ""
                if j < input.count, input[j] == UInt8(ascii: "=") {
                    j += 1
                    while j < input.count, Self.isSpace(input[j]) { j += 1 }
                    if j < input.count, input[j] == UInt8(ascii: "\"") || input[j] == UInt8(ascii: "'") {
                        let quote = input[j]
                        let valueStart = j + 1
                        j = valueStart
                        while j < input.count, input[j] != quote { j += 1 }
                        if wantsAttributes {
                            value = String(decoding: Self.decodeEntities(input[valueStart..<min(j, input.count)]), as: UTF8.self)
                        }
                        j += 1
                    } else {
                        let valueStart = j
                        while j < input.count, !Self.isSpace(input[j]), input[j] != UInt8(ascii: ">") { j += 1 }
                        if wantsAttributes { value = String(decoding: Self.decodeEntities(input[valueStart..<j]), as: UTF8.self) }
                    }
                }
                if attrName == "href" || attrName == "alt" { attributes[attrName] = value }
            }
            i = input.count
            return Tag(name: name, closing: closing, attributes: attributes)
        }

        mutating func skipUntilClosing(_ name: String) {
            i = find("</" + name, from: i).flatMap { find(">", from: $0) }.map { $0 + 1 } ?? input.count
        }

        enum TagKind {
            case invisible, lineBreak, paragraph, block, listItem, cell, link, image
        }

        static let tagKinds: [String: TagKind] = {
            var kinds: [String: TagKind] = ["br": .lineBreak, "li": .listItem, "td": .cell, "th": .cell, "a": .link, "img": .image]
            for name in ["head", "style", "script", "title", "noscript", "template", "svg", "object"] { kinds[name] = .invisible }
            for name in ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "pre", "ul", "ol", "dl", "figure", "address", "center", "hr"] {
                kinds[name] = .paragraph
            }
            for name in [
                "div", "tr", "dt", "dd", "section", "article", "header", "footer", "main", "nav", "aside", "form", "tbody", "thead", "tfoot", "caption", "body",
            ] {
                kinds[name] = .block
            }
            return kinds
        }()

        mutating func handle(_ tag: Tag) {
            guard let kind = Self.tagKinds[tag.name] else { return }
            switch kind {
            case .invisible:
                if !tag.closing { skipUntilClosing(tag.name) }
            case .lineBreak:
                emitLineBreak()
            case .paragraph:
                requestBreak(2)
                if tag.name == "pre" { preDepth = max(0, preDepth + (tag.closing ? -1 : 1)) }
                if tag.name == "ul" || tag.name == "ol" {
                    if tag.closing {
                        if !lists.isEmpty { lists.removeLast() }
                    } else {
                        lists.append((tag.name == "ol", 0))
                    }
                }
                if tag.name == "hr" && !tag.closing {
                    emit(Array("----------".utf8))
                    requestBreak(2)
                }
            case .block:
                requestBreak(1)
            case .listItem:
                requestBreak(1)
                if !tag.closing {
                    if lists.isEmpty {
                        emit(Array("- ".utf8))
                    } else {
                        lists[lists.count - 1].counter += 1
                        let item = lists[lists.count - 1]
                        emit(Array((item.ordered ? "\(item.counter). " : "- ").utf8))
                    }
                    pendingSpace = false
                }
            case .cell:
                pendingSpace = true
            case .link:
                if tag.closing {
                    closeLink()
                } else {
                    links.append((tag.attributes["href"], out.count))
                }
            case .image:
                if let alt = tag.attributes["alt"]?.trimmingSpaces(), !alt.isEmpty {
                    pendingSpace = true
                    emit(Array(alt.utf8))
                    pendingSpace = true
                }
            }
        }

        mutating func emitLineBreak() {
            while out.last == 0x20 { out.removeLast() }
            if pendingBreaks > 0 {
                pendingBreaks += 1
            } else {
                out.append(0x0A)
            }
            pendingSpace = false
        }

        mutating func closeLink() {
            guard let link = links.popLast(), let rawHref = link.href?.trimmingSpaces(), !rawHref.isEmpty else { return }
            let lowered = rawHref.lowercased()
            guard !lowered.hasPrefix("#"), !lowered.hasPrefix("javascript:") else { return }
            let linkText = String(decoding: out[min(link.textStart, out.count)...], as: UTF8.self).trimmingSpaces()
            var shown = rawHref
            if lowered.hasPrefix("mailto:") { shown = String(rawHref.dropFirst(7)) }
            func normalized(_ s: String) -> String {
                var s = s.lowercased()
                for prefix in ["https://", "http://", "mailto:"] where s.hasPrefix(prefix) { s.removeFirst(prefix.count) }
                while s.hasSuffix("/") { s.removeLast() }
                return s
            }
            if linkText.isEmpty {
                pendingSpace = true
                emit(Array(shown.utf8))
            } else if normalized(linkText) != normalized(rawHref) {
                pendingSpace = true
                emit(Array("(\(shown))".utf8))
            }
            pendingSpace = true
        }

        // MARK: entities

        static func decodeEntities(_ raw: ArraySlice<UInt8>) -> [UInt8] {
            guard raw.contains(UInt8(ascii: "&")) else { return Array(raw) }
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var j = raw.startIndex
            while j < raw.endIndex {
                let b = raw[j]
                guard b == UInt8(ascii: "&") else {
                    out.append(b)
                    j += 1
                    continue
                }
                var k = j + 1
                while k < raw.endIndex, k - j <= 32, raw[k] != UInt8(ascii: ";"), !isSpace(raw[k]), raw[k] != UInt8(ascii: "&") { k += 1 }
                if k < raw.endIndex, raw[k] == UInt8(ascii: ";"), let scalar = entity(raw[(j + 1)..<k]) {
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    j = k + 1
                } else {
                    out.append(b)
                    j += 1
                }
            }
            return out
        }

        static func entity(_ name: ArraySlice<UInt8>) -> Unicode.Scalar? {
            guard let first = name.first else { return nil }
            if first == UInt8(ascii: "#") {
                let digits = name.dropFirst()
                var value: UInt32?
                if let x = digits.first, x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
                    value = UInt32(String(decoding: digits.dropFirst(), as: UTF8.self), radix: 16)
                } else {
                    value = UInt32(String(decoding: digits, as: UTF8.self), radix: 10)
                }
                guard let value, value != 0 else { return nil }
                guard let scalar = Unicode.Scalar(value), !HeaderText.isForbiddenControl(scalar) || value == 0x0A else {
                    return "\u{FFFD}"
                }
                return scalar
            }
            return namedEntities[String(decoding: name, as: UTF8.self)]
        }

        static let namedEntities: [String: Unicode.Scalar] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
            "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "sbquo": "‚",
            "ldquo": "“", "rdquo": "”", "bdquo": "„", "laquo": "«", "raquo": "»", "lsaquo": "‹", "rsaquo": "›",
            "bull": "•", "middot": "·", "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "sect": "§",
            "para": "¶", "deg": "°", "plusmn": "±", "times": "×", "divide": "÷", "frac12": "½", "frac14": "¼",
            "frac34": "¾", "iexcl": "¡", "iquest": "¿", "shy": "\u{00AD}", "zwnj": "\u{200C}", "zwj": "\u{200D}",
            "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}", "larr": "←", "rarr": "→", "uarr": "↑",
            "darr": "↓", "harr": "↔", "check": "✓", "hearts": "♥", "dagger": "†", "Dagger": "‡", "permil": "‰",
            "prime": "′", "Prime": "″", "oline": "‾", "frasl": "⁄", "aacute": "á", "eacute": "é", "iacute": "í",
            "oacute": "ó", "uacute": "ú", "Aacute": "Á", "Eacute": "É", "Iacute": "Í", "Oacute": "Ó", "Uacute": "Ú",
            "agrave": "à", "egrave": "è", "ugrave": "ù", "Agrave": "À", "Egrave": "È", "auml": "ä", "euml": "ë",
            "iuml": "ï", "ouml": "ö", "uuml": "ü", "yuml": "ÿ", "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "szlig": "ß",
            "acirc": "â", "ecirc": "ê", "icirc": "î", "ocirc": "ô", "ucirc": "û", "ccedil": "ç", "Ccedil": "Ç",
            "ntilde": "ñ", "Ntilde": "Ñ", "aring": "å", "Aring": "Å", "aelig": "æ", "AElig": "Æ", "oslash": "ø",
            "Oslash": "Ø", "atilde": "ã", "otilde": "õ",
        ]
    }
}

extension String {
    /// Without leading and trailing ASCII white space (byte-based: cheaper than Character.isWhitespace).
    fileprivate func trimmingSpaces() -> String {
        let utf8 = self.utf8
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isSpace($0) })!
        if first == utf8.startIndex && utf8.index(after: last) == utf8.endIndex { return self }
        return String(self[first..<utf8.index(after: last)])
    }
}
