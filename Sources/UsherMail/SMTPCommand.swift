import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A command the client sends (RFC 5321 §4.1 and extensions).
enum SMTPCommand: Sendable, Equatable {
    case ehlo(String)
    case helo(String)
    case startTLS
    /// `AUTH <mechanism> [initial-response]`; the response is secret.
    case auth(mechanism: String, initialResponse: String?)
    /// A base64 line answering a 334 challenge; secret.
    case authResponse(String)
    case mailFrom(String, parameters: [String])
    case rcptTo(String, parameters: [String])
    case data
    case reset
    case noop
    case quit

    /// Writes the command line, CRLF-terminated.
    func write(to buffer: inout ByteBuffer) {
        switch self {
        case .ehlo(let name): buffer.writeString("EHLO \(name)\r\n")
        case .helo(let name): buffer.writeString("HELO \(name)\r\n")
        case .startTLS: buffer.writeString("STARTTLS\r\n")
        case .auth(let mechanism, let initial):
            buffer.writeString(initial.map { "AUTH \(mechanism) \($0)\r\n" } ?? "AUTH \(mechanism)\r\n")
        case .authResponse(let line): buffer.writeString("\(line)\r\n")
        case .mailFrom(let address, let parameters):
            buffer.writeString("MAIL FROM:<\(address)>")
            for p in parameters { buffer.writeString(" \(p)") }
            buffer.writeString("\r\n")
        case .rcptTo(let address, let parameters):
            buffer.writeString("RCPT TO:<\(address)>")
            for p in parameters { buffer.writeString(" \(p)") }
            buffer.writeString("\r\n")
        case .data: buffer.writeString("DATA\r\n")
        case .reset: buffer.writeString("RSET\r\n")
        case .noop: buffer.writeString("NOOP\r\n")
        case .quit: buffer.writeString("QUIT\r\n")
        }
    }

    /// The command as it may appear in logs: credentials are never shown.
    var logDescription: String {
        switch self {
        case .ehlo(let name): return "EHLO \(name)"
        case .helo(let name): return "HELO \(name)"
        case .startTLS: return "STARTTLS"
        case .auth(let mechanism, let initial): return initial == nil ? "AUTH \(mechanism)" : "AUTH \(mechanism) <redacted>"
        case .authResponse: return "<redacted>"
        case .mailFrom(_, let parameters): return (["MAIL FROM:<…>"] + parameters).joined(separator: " ")
        case .rcptTo: return "RCPT TO:<…>"
        case .data: return "DATA"
        case .reset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        }
    }
}

/// The DATA payload encoding of RFC 5321 §4.5.2: "dot-stuffing" plus the `CRLF . CRLF` terminator.
public enum SMTPDataEncoding {
    /// Returns `message` with an extra `.` before every line that starts with `.`, bare CR or LF line
    /// endings normalised to CRLF (a lone LF inside DATA is not allowed by RFC 5321 and some servers
    /// treat `LF . LF` as the end of data, CVE-2023-51766 "SMTP smuggling"), a final CRLF if missing, and the
    /// `.` CRLF terminator.
    public static func encode(_ message: [UInt8], allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var out = allocator.buffer(capacity: message.count + message.count / 64 + 8)
        if encodeCleanCRLF(message, into: &out) { return out }
        out.clear()
        message.withUnsafeBufferPointer { input in
            let count = input.count
            var lineStart = true
            var runStart = 0
            var i = 0
            while i < count {
                let b = input[i]
                if lineStart && b == UInt8(ascii: ".") {
                    out.writeBytes(UnsafeBufferPointer(rebasing: input[runStart..<i]))
                    out.writeInteger(UInt8(ascii: "."))
                    runStart = i
                }
                if b == 0x0D || b == 0x0A {
                    if b == 0x0D && i + 1 < count && input[i + 1] == 0x0A {
                        // CRLF stays in the run
                        i += 2
                    } else {
                        // bare CR or bare LF: write what came before, then CRLF
                        out.writeBytes(UnsafeBufferPointer(rebasing: input[runStart..<i]))
                        out.writeInteger(UInt16(0x0D0A))
                        i += 1
                        runStart = i
                    }
                    lineStart = true
                    continue
                }
                lineStart = false
                i += 1
            }
            out.writeBytes(UnsafeBufferPointer(rebasing: input[runStart..<count]))
            if !lineStart || count == 0 {
                // message did not end with a line break
                if count > 0 { out.writeInteger(UInt16(0x0D0A)) }
            }
        }
        out.writeString(".\r\n")
        return out
    }

    /// Fast path for the common case, a message whose line endings are all CRLF (what ``MailMessage``
    /// renders): copies whole lines with `memchr` and only stops at lines starting with ".". Returns
    /// false, leaving `out` partly written, when it meets a bare CR or LF (the caller then runs the
    /// general byte-by-byte encoder).
    static func encodeCleanCRLF(_ message: [UInt8], into out: inout ByteBuffer) -> Bool {
        message.withUnsafeBufferPointer { input in
            guard let base = input.baseAddress else {
                out.writeString(".\r\n")
                return true
            }
            let count = input.count
            var lineStart = 0
            while lineStart < count {
                let remaining = count - lineStart
                let lf = memchr(base + lineStart, 0x0A, remaining).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base }
                let lineEnd = lf ?? count  // index of LF, or end of message
                let contentEnd = lf != nil ? lineEnd - 1 : count  // index of the CR, if any
                if lf != nil {
                    guard lineEnd > lineStart, base[lineEnd - 1] == 0x0D else { return false }  // bare LF
                }
                if contentEnd > lineStart, memchr(base + lineStart, 0x0D, contentEnd - lineStart) != nil { return false }  // bare CR
                if base[lineStart] == UInt8(ascii: ".") { out.writeInteger(UInt8(ascii: ".")) }
                let next = lf.map { $0 + 1 } ?? count
                out.writeBytes(UnsafeRawBufferPointer(start: base + lineStart, count: next - lineStart))
                if lf == nil { out.writeString("\r\n") }
                lineStart = next
            }
            out.writeString(".\r\n")
            return true
        }
    }
}
