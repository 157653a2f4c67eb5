/// Maps byte offsets in a template to 1-based line and column numbers for error messages.
/// Built once per parsed template; only consulted when something goes wrong.
final class LineIndex: Sendable {
    let bytes: [UInt8]
    let lineStarts: [Int]

    init(bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    func line(at offset: Int) -> Int {
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo + 1
    }

    /// Column in characters (Unicode scalars), 1-based.
    func location(at offset: Int) -> (line: Int, column: Int) {
        let clamped = max(0, min(offset, bytes.count))
        let line = line(at: clamped)
        let start = lineStarts[line - 1]
        var column = 1
        var i = start
        while i < clamped {
            // Count only the first byte of each UTF-8 sequence.
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return (line, column)
    }
}
