#!/usr/bin/python3
"""Parses one stored email with Python's `email` package and prints a JSON summary.

usage: /usr/bin/python3 tests/support/check_message.py FILE

The summary is what UsherMail's integration tests assert on: decoded headers, the
address headers as (display name, address) pairs, the MIME structure, each leaf part's
decoded text, the parser's defects (anything the parser had to guess about), and the
longest raw line. It uses the strict `email.policy.default` parser, not the compat one.
"""

import email
import email.policy
import json
import sys


def addresses(msg, name):
    header = msg.get(name)
    if header is None:
        return None
    out = []
    for a in header.addresses:
        out.append({"name": a.display_name, "address": a.addr_spec})
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    lines = raw.split(b"\n")
    header_end = raw.find(b"\r\n\r\n")
    raw_headers = raw[:header_end] if header_end >= 0 else raw

    parts = []
    defects = [f"message: {type(d).__name__}: {d}" for d in msg.defects]
    for part in msg.walk():
        for d in part.defects:
            defects.append(f"{part.get_content_type()}: {type(d).__name__}: {d}")
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                defects.append(f"header {name}: {type(d).__name__}: {d}")
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })

    summary = {
        "headers": {k: str(v) for k, v in msg.items()},
        "header_names": list(msg.keys()),
        "subject": str(msg["Subject"]) if msg["Subject"] is not None else None,
        "from": addresses(msg, "From"),
        "to": addresses(msg, "To"),
        "reply_to": addresses(msg, "Reply-To"),
        "cc": addresses(msg, "Cc"),
        "message_id": msg.get("Message-ID"),
        "date": msg.get("Date"),
        "content_type": msg.get_content_type(),
        "is_multipart": msg.is_multipart(),
        "parts": parts,
        "text": next((p["content"] for p in parts if p["content_type"] == "text/plain"), None),
        "html": next((p["content"] for p in parts if p["content_type"] == "text/html"), None),
        "defects": defects,
        "max_line_length": max((len(l.rstrip(b"\r")) for l in lines), default=0),
        "max_header_line_length": max((len(l.rstrip(b"\r")) for l in raw_headers.split(b"\n")), default=0),
        "raw_headers_ascii": all(b < 128 for b in raw_headers),
    }
    json.dump(summary, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
