// MailBench: delivers N realistic invitation emails through UsherMail's pooled SMTP client and reports
// messages per second and memory. Driven by bench/mail/run.sh, which starts postfix's smtp-sink and
// compares with postfix's smtp-source on the same sink.
//
// usage: MailBench --port PORT [--host 127.0.0.1] [--count 10000] [--senders 4] [--connections 4]
//                  [--max-per-connection 100] [--pre-rendered]
//        MailBench --write-message FILE      (writes the rendered message, for smtp-source -F)
import Foundation
import UsherMail

struct Options {
    var host = "127.0.0.1"
    var port = 0
    var count = 10_000
    var senders = 4
    var connections = 4
    var maxPerConnection = 100
    var preRendered = false
    var writeMessage: String?
    var renderOnly = false

    init(_ arguments: [String]) {
        var it = arguments.dropFirst().makeIterator()
        while let arg = it.next() {
            func value() -> String {
                guard let v = it.next() else { fatalError("\(arg) needs a value") }
                return v
            }
            switch arg {
            case "--host": host = value()
            case "--port": port = Int(value())!
            case "--count": count = Int(value())!
            case "--senders": senders = Int(value())!
            case "--connections": connections = Int(value())!
            case "--max-per-connection": maxPerConnection = Int(value())!
            case "--pre-rendered": preRendered = true
            case "--write-message": writeMessage = value()
            case "--render-only": renderOnly = true
            default: fatalError("unknown argument \(arg)")
            }
        }
    }
}

/// A realistic invitation: branded HTML (inline styles, a button, a footer) of about 3 KB, the text
/// part derived from it, a UTF-8 subject and display names. Rendered it is about 4 KB.
func invitation(number: Int) throws -> MailMessage {
    let name = "Zoë Martin \(number)"
    let link = "https://id.usher.example/invitations/accept?ticket=inv_\(String(number, radix: 16))_8f2c1d9e7b6a5f4e3d2c1b0a9f8e7d6c&organization=org_acme"
    let html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>You're invited to Acme</title>
        <style>body{margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif}
        .card{max-width:560px;margin:32px auto;background:#ffffff;border-radius:8px;padding:32px}
        .button{display:inline-block;padding:12px 24px;background:#4f46e5;color:#ffffff;text-decoration:none;border-radius:6px}
        .footer{color:#6b7280;font-size:12px;line-height:18px}</style></head>
        <body><table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td>
        <div class="card">
        <img src="https://cdn.usher.example/acme/logo.png" alt="Acme Corporation" width="120" height="40">
        <h1 style="font-size:22px;color:#111827">Hi \(name),</h1>
        <p style="font-size:15px;line-height:24px;color:#374151">Jean-Luc Picard (jl.picard@acme.example) has invited you to join
        <strong>Acme Corporation</strong> on Usher. Accept the invitation to set your password and sign in for the first time.
        Your account will have the roles <em>Engineering</em> and <em>On-call</em>.</p>
        <p style="text-align:center;margin:32px 0"><a class="button" href="\(link)">Accept invitation</a></p>
        <p style="font-size:14px;line-height:22px;color:#374151">If the button does not work, copy this link into your browser:<br>
        <a href="\(link)">\(link)</a></p>
        <p style="font-size:14px;line-height:22px;color:#374151">This invitation expires in 7 days, on Tuesday 2 December 2025
        at 09:30 UTC. If it expires you can ask for a new one from the sign-in page &mdash; no need to contact an administrator.</p>
        <hr style="border:none;border-top:1px solid #e5e7eb;margin:24px 0">
        <p class="footer">You received this email because an administrator of Acme Corporation invited
        zoe.martin\(number)@example.com. If you were not expecting it, you can
        ignore it: no account is created until you accept. &copy; 2025 Acme Corporation, 1 Infinite Loop, Springfield.
        <a href="https://id.usher.example/privacy">Privacy</a> &middot; <a href="https://id.usher.example/help">Help</a></p>
        </div></td></tr></table></body></html>
        """
    return MailMessage(
        from: try EmailAddress("noreply@usher.example", displayName: "Acme via Usher"),
        to: [try EmailAddress("zoe.martin\(number)@example.com", displayName: name)],
        subject: "Привет, Zoë — 👋 you're invited to join Acme Corporation",
        html: html,
        replyTo: [try EmailAddress("support@acme.example", displayName: "Acme Support")],
        headers: [("X-Usher-Invitation", "inv_\(number)")],
        messageID: MailMessage.makeMessageID(domain: "usher.example"))
}

func residentKB(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let limit: Int
    private(set) var rssSamples: [Int] = []
    init(limit: Int) { self.limit = limit }
    func take() -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            next += 1
            if next % max(1, limit / 10) == 0 { rssSamples.append(residentKB("VmRSS")) }
            return next
        }
    }
}

@main
struct MailBench {
    static func main() async throws {
        let options = Options(CommandLine.arguments)
        if let path = options.writeMessage {
            let bytes = try invitation(number: 1).render()
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            print("wrote \(bytes.count) bytes to \(path)")
            return
        }
        if options.renderOnly {
            // Rendering cost alone (HTML to text, MIME, encodings), no network.
            let start = ContinuousClock.now
            var bytes = 0
            for n in 0..<options.count { bytes += try invitation(number: n).render().count }
            let elapsed = ContinuousClock.now - start
            print("rendered \(options.count) messages (\(bytes) bytes) in \(elapsed)")
            return
        }
        guard options.port > 0 else {
            print("usage: MailBench --port PORT [--count N] [--senders N] [--connections N] | --write-message FILE")
            exit(2)
        }
        try await run(options)
    }

    static func run(_ options: Options) async throws {
        let configuration = SMTPConfiguration(
            host: options.host, port: options.port, tls: .off, heloName: "mailbench.usher.example",
            pool: .init(maximumConnections: options.connections, maximumMessagesPerConnection: options.maxPerConnection))
        let client = try SMTPClient(configuration: configuration)
        let sample = try invitation(number: 1).render()
        let preRendered = options.preRendered ? try invitation(number: 1).renderForDelivery() : nil
        print(
            "message size: \(sample.count) bytes; \(options.count) messages, \(options.senders) senders, \(options.connections) connections, max \(options.maxPerConnection) per connection\(options.preRendered ? ", pre-rendered" : "")"
        )

        // Warm up (connections, code paths) outside the measurement.
        _ = try await client.send(try invitation(number: 0))
        let rssBefore = residentKB("VmRSS")
        let counter = Counter(limit: options.count)
        let start = ContinuousClock.now
        var failures = 0
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<options.senders {
                group.addTask {
                    var failed = 0
                    while let n = counter.take() {
                        do {
                            if let preRendered {
                                _ = try await client.send(preRendered)
                            } else {
                                _ = try await client.send(try invitation(number: n))
                            }
                        } catch {
                            failed += 1
                            if failed < 5 { print("send failed: \(error)") }
                        }
                    }
                    return failed
                }
            }
            for await failed in group { failures += failed }
        }
        let elapsed = ContinuousClock.now - start
        await client.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(options.count) / seconds
        print("rss samples (KB, every 10%): \(counter.rssSamples.map(String.init).joined(separator: " "))")
        print(
            String(
                format: "usher-mail: messages=%d failed=%d seconds=%.3f rate=%.0f msg/s rss_before_kb=%d rss_end_kb=%d peak_rss_kb=%d",
                options.count, failures, seconds, rate, rssBefore, residentKB("VmRSS"), residentKB("VmHWM")))
    }
}
