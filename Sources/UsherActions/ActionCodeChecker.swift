import CJavaScriptCore

/// Syntax check of an Action's code without running it, for the Management API on save.
///
/// The code is checked exactly as the engine will compile it (wrapped as a CommonJS module function), so
/// what passes here compiles at login time. Nothing is executed: `JSCheckScriptSyntax` only parses, so
/// this is safe to call in the server process itself.
public enum ActionCodeChecker {
    /// The syntax errors in `code` (JavaScriptCore stops at the first, so at most one), empty when it parses.
    public static func check(_ code: String) -> [ActionCompileError] {
        guard let group = JSContextGroupCreate() else {
            return [ActionCompileError(line: 1, column: 1, message: "JavaScriptCore is unavailable")]
        }
        defer { JSContextGroupRelease(group) }
        guard let ctx = JSGlobalContextCreateInGroup(group, nil) else {
            return [ActionCompileError(line: 1, column: 1, message: "JavaScriptCore is unavailable")]
        }
        defer { JSGlobalContextRelease(ctx) }
        return SyntaxErrorLocator.locate(ctx, code: code).map { [$0] } ?? []
    }
}

/// Finds where a syntax error is.
///
/// JavaScriptCore's C API reports a SyntaxError's line but not its column. The column is recovered by
/// re-checking prefixes of the error's line: the shortest prefix that reproduces the same message on the
/// same line ends with the offending token (the parser works left to right, so a shorter prefix ends in
/// "Unexpected end of script" or parses). That is a binary search, about log2(line length) parses, and only
/// happens when there is an error.
enum SyntaxErrorLocator {
    private static let prefixUnits = Array(ActionGlue.modulePrefix.utf16)
    private static let suffixUnits = Array(ActionGlue.moduleSuffix.utf16)

    /// The first syntax error of `code` wrapped as the engine wraps it, or `nil` when it parses.
    static func locate(_ ctx: JSContextRef, code: String) -> ActionCompileError? {
        let units = Array(code.utf16)
        guard let (message, reportedLine) = syntaxError(ctx, prefixUnits + units + suffixUnits) else { return nil }
        return position(ctx, units: units, message: message, reportedLine: reportedLine)
    }

    /// Positions an error already reported (by `JSEvaluateScript` at login time) with its message and line.
    static func position(_ ctx: JSContextRef, code: String, message: String, reportedLine: Int) -> ActionCompileError {
        position(ctx, units: Array(code.utf16), message: message, reportedLine: reportedLine)
    }

    private static func position(_ ctx: JSContextRef, units: [UInt16], message: String, reportedLine: Int)
        -> ActionCompileError
    {
        let lines = lineStarts(units)
        // The suffix adds one line; an error reported there (an unclosed block) belongs to the code's end.
        let line = min(max(reportedLine, 1), lines.count)
        let lineStart = lines[line - 1]
        let lineEnd = line < lines.count ? lines[line] : units.count
        let lineLength = lineText(units, lineStart, lineEnd).count
        if reportedLine > lines.count || message.hasPrefix("Unexpected end of script") || message == "Unexpected EOF" {
            return ActionCompileError(line: line, column: lineLength + 1, message: message)
        }
        // Smallest end offset in (lineStart, lineEnd] whose prefix reproduces the error on this line.
        var low = lineStart + 1
        var high = lineEnd
        guard reproduces(ctx, units, end: high, message: message, line: reportedLine) else {
            return ActionCompileError(line: line, column: 1, message: message)
        }
        while low < high {
            let mid = (low + high) / 2
            if reproduces(ctx, units, end: mid, message: message, line: reportedLine) {
                high = mid
            } else {
                low = mid + 1
            }
        }
        // `high` ends the offending token; when the message quotes it ('…'), step back to its start.
        var tokenStart = high - 1
        if let token = quotedToken(message) {
            let tokenUnits = Array(token.utf16)
            let start = high - tokenUnits.count
            if start >= lineStart, Array(units[start..<high]) == tokenUnits { tokenStart = start }
        }
        return ActionCompileError(line: line, column: max(1, tokenStart - lineStart + 1), message: message)
    }

    private static func reproduces(_ ctx: JSContextRef, _ units: [UInt16], end: Int, message: String, line: Int) -> Bool {
        guard let (otherMessage, otherLine) = syntaxError(ctx, prefixUnits + units[0..<end]) else { return false }
        return otherMessage == message && otherLine == line
    }

    /// The message and line of the first syntax error, or `nil` when the source parses.
    private static func syntaxError(_ ctx: JSContextRef, _ source: [UInt16]) -> (String, Int)? {
        let script = JSStrings.make(utf16: source[...])
        defer { JSStringRelease(script) }
        var exception: JSValueRef?
        let ok = JSStrings.with(ActionGlue.sourceURL) { url in
            JSCheckScriptSyntax(ctx, script, url, 1, &exception)
        }
        if ok { return nil }
        let message = JSStrings.string(ctx, JSStrings.property(ctx, exception, "message")) ?? "Syntax error"
        let line = JSStrings.intProperty(ctx, exception, "line") ?? 1
        return (message, line)
    }

    /// Offsets where each line starts, with JavaScript's line terminators (LF, CR, CRLF, LS, PS).
    static func lineStarts(_ units: [UInt16]) -> [Int] {
        var starts = [0]
        var index = 0
        while index < units.count {
            let unit = units[index]
            if unit == 0x0D, index + 1 < units.count, units[index + 1] == 0x0A {
                index += 2
                starts.append(index)
                continue
            }
            index += 1
            if unit == 0x0A || unit == 0x0D || unit == 0x2028 || unit == 0x2029 { starts.append(index) }
        }
        return starts
    }

    private static func lineText(_ units: [UInt16], _ start: Int, _ end: Int) -> ArraySlice<UInt16> {
        var end = end
        while end > start, [0x0A, 0x0D, 0x2028, 0x2029].contains(units[end - 1]) { end -= 1 }
        return units[start..<end]
    }

    /// The first '…'-quoted text in a JavaScriptCore message ("Unexpected identifier 'bar'").
    private static func quotedToken(_ message: String) -> String? {
        guard let open = message.firstIndex(of: "'") else { return nil }
        let rest = message[message.index(after: open)...]
        guard let close = rest.firstIndex(of: "'"), close > rest.startIndex else { return nil }
        return String(rest[..<close])
    }
}
