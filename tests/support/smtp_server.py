#!/usr/bin/python3
"""Test SMTP server for UsherMail's integration tests (aiosmtpd, Debian's python3-aiosmtpd).

Run it with /usr/bin/python3: the pyenv python3 on PATH cannot see Debian's aiosmtpd.

It listens on two loopback ports (both chosen by the kernel unless given):
  * a submission port that offers STARTTLS and AUTH PLAIN/LOGIN (AUTH only after TLS,
    and required before MAIL), and
  * an implicit-TLS port (TLS from the first byte, like port 465) with the same rules.
Each accepted message is stored as one file in a Maildir (MAILDIR/new/), with the
envelope prepended as X-Usher-Mail-From / X-Usher-Rcpt-To / X-Usher-Mail-Options /
X-Usher-TLS headers, so tests can check both the envelope and the content.

Fault injection is chosen per message by special recipient local parts, so tests that
run in parallel against the same server cannot disturb each other:
  reject@...                 RCPT answers 550 5.1.1 (permanent, per recipient)
  rcptdefer-N-TOKEN@...      RCPT answers 451 4.2.0 for the first N attempts with TOKEN
  defer-N-TOKEN@...          end of DATA answers 451 4.3.0 for the first N transactions
                             with TOKEN (nothing stored), then 250
  datareject-TOKEN@...       end of DATA answers 554 5.6.0 (permanent)
  slow-MS-TOKEN@...          end of DATA is answered after MS milliseconds
  close-TOKEN@...            the server drops the connection at end of DATA, without reply
Counters live in memory for the life of the process.
"""

import argparse
import asyncio
import mailbox
import os
import re
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

_counters: dict = {}


def _attempt(kind: str, token: str) -> int:
    """Counts attempts for (kind, token) and returns the number of this attempt (1-based)."""
    key = (kind, token)
    _counters[key] = _counters.get(key, 0) + 1
    return _counters[key]


def _local(address: str) -> str:
    return address.rsplit("@", 1)[0].lower()


class MaildirHandler:
    def __init__(self, maildir: str):
        self.maildir = mailbox.Maildir(maildir, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = _local(address)
        if local == "reject":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        m = re.fullmatch(r"rcptdefer-(\d+)-([a-z0-9]+)", local)
        if m and _attempt("rcpt", m.group(2)) <= int(m.group(1)):
            return f"451 4.2.0 <{address}>: Recipient temporarily unavailable, try again"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            local = _local(rcpt)
            m = re.fullmatch(r"defer-(\d+)-([a-z0-9]+)", local)
            if m and _attempt("data", m.group(2)) <= int(m.group(1)):
                return "451 4.3.0 Temporary failure (injected), try again later"
            if re.fullmatch(r"datareject-[a-z0-9]+", local):
                return "554 5.6.0 Message rejected (injected)"
            m = re.fullmatch(r"slow-(\d+)-[a-z0-9]+", local)
            if m:
                await asyncio.sleep(int(m.group(1)) / 1000.0)
            if re.fullmatch(r"close-[a-z0-9]+", local):
                server.transport.close()
                return "421 4.4.2 closing (injected)"  # not seen by the client: transport is gone
        tls = "yes" if session.ssl else "no"
        prefix = (
            f"X-Usher-Mail-From: <{envelope.mail_from}>\r\n"
            f"X-Usher-Rcpt-To: {', '.join('<' + r + '>' for r in envelope.rcpt_tos)}\r\n"
            f"X-Usher-Mail-Options: {' '.join(envelope.mail_options)}\r\n"
            f"X-Usher-TLS: {tls}\r\n"
        ).encode("utf-8")
        content = envelope.original_content
        if isinstance(content, str):
            content = content.encode("utf-8")
        key = self.maildir.add(prefix + content)
        return f"250 2.0.0 OK queued as {key}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="STARTTLS submission port (0: pick a free one)")
    p.add_argument("--implicit-port", type=int, default=0, help="implicit TLS port (0: pick a free one)")
    p.add_argument("--port-file", required=True, help="write 'STARTTLS_PORT IMPLICIT_PORT' here once listening")
    p.add_argument("--maildir", required=True)
    p.add_argument("--tlscert", required=True)
    p.add_argument("--tlskey", required=True)
    p.add_argument("--user", default="usher")
    p.add_argument("--password", default="s3cret pässword")
    p.add_argument("--size-limit", type=int, default=10 * 1024 * 1024)
    args = p.parse_args()

    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(args.maildir, sub), exist_ok=True)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.tlscert, args.tlskey)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == args.user.encode("utf-8")
            and auth_data.password == args.password.encode("utf-8")
        )
        # handled=False makes aiosmtpd answer "535 5.7.8" itself (with handled=True it stays silent).
        return AuthResult(success=ok, handled=False)

    handler = MaildirHandler(args.maildir)

    def factory():
        return SMTP(
            handler,
            hostname="usher-test-smtp",
            data_size_limit=args.size_limit,
            enable_SMTPUTF8=True,
            tls_context=tls,
            require_starttls=False,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticator,
        )

    def implicit_factory():
        # Already inside TLS: no STARTTLS offered, AUTH allowed at once.
        return SMTP(
            handler,
            hostname="usher-test-smtp-implicit",
            data_size_limit=args.size_limit,
            enable_SMTPUTF8=True,
            tls_context=None,
            auth_required=True,
            auth_require_tls=False,
            authenticator=authenticator,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, args.host, args.port))
    implicit = loop.run_until_complete(loop.create_server(implicit_factory, args.host, args.implicit_port, ssl=tls))
    port = server.sockets[0].getsockname()[1]
    implicit_port = implicit.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port} {implicit_port}\n")
    os.replace(tmp, args.port_file)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        implicit.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
