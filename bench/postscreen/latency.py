#!/usr/bin/env python3
"""Times whole smtplib transactions (connect, greeting, EHLO, MAIL, RCPT, DATA, QUIT) against a
proxy, per client address: the first connection from each address, then later ones.

Usage: latency.py PORT SOURCES LATER
  SOURCES  comma-separated loopback addresses to send from (127.0.0.2,127.0.0.3,...)
  LATER    how many later connections each address makes after its first

Prints JSON: {"first_ms": [...], "later_ms": [...], "first_greeting_ms": [...], "later_greeting_ms": [...]}
"""
import json
import smtplib
import sys
import time

MESSAGE = b"From: <a@example.org>\r\nTo: <b@example.test>\r\nSubject: bench\r\n\r\nhello\r\n"


def one(port, source):
    start = time.perf_counter()
    s = smtplib.SMTP(timeout=30, local_hostname="bench.example.test", source_address=(source, 0))
    s.connect("127.0.0.1", port)   # returns after the whole greeting (teaser and final line)
    greeted = time.perf_counter()
    s.sendmail("a@example.org", ["b@example.test"], MESSAGE)
    s.quit()
    end = time.perf_counter()
    return (end - start) * 1000, (greeted - start) * 1000


def main():
    port, sources, later = int(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3])
    out = {"first_ms": [], "later_ms": [], "first_greeting_ms": [], "later_greeting_ms": []}
    for source in sources:
        total, greet = one(port, source)
        out["first_ms"].append(round(total, 2))
        out["first_greeting_ms"].append(round(greet, 2))
        for _ in range(later):
            total, greet = one(port, source)
            out["later_ms"].append(round(total, 2))
            out["later_greeting_ms"].append(round(greet, 2))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
