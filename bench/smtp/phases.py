#!/usr/bin/env python3
"""Times each step of an SMTP transaction, one session at a time, for bench/smtp/run.sh.

For every message: connect and read the 220, HELO, MAIL FROM, RCPT TO, DATA (354), the body
with its final dot (the 250 that follows is the spool commit), QUIT. The same conversation
smtp-source has (no pipelining, one message per connection). Prints one line per step with the
median and 90th percentile in microseconds, so two servers can be compared step by step.
Loopback only.
"""
import argparse
import ipaddress
import socket
import statistics
import sys
import time

STEPS = ["connect+220", "HELO", "MAIL", "RCPT", "DATA", "body+250", "QUIT"]


def reply(sock, buf):
    """Reads one complete reply; returns (code, rest of the buffer)."""
    while True:
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if len(line) >= 4 and line[3:4] == b" ":
                return int(line[:3]), buf
            if len(line) < 4:
                return int(line[:3]), buf
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by server")
        buf += chunk


def one(host, port, body, expect_rcpt):
    t = [time.perf_counter()]
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""

    def step(data, want):
        nonlocal buf
        if data:
            s.sendall(data)
        code, buf = reply(s, buf)
        if code != want:
            raise RuntimeError(f"expected {want}, got {code} after {data[:20]!r}")
        t.append(time.perf_counter())

    step(None, 220)
    step(b"HELO phases.bench.invalid\r\n", 250)
    step(b"MAIL FROM:<sender@bench-client.invalid>\r\n", 250)
    step(b"RCPT TO:<" + expect_rcpt + b">\r\n", 250)
    step(b"DATA\r\n", 354)
    step(body, 250)
    step(b"QUIT\r\n", 221)
    s.close()
    return [(t[i + 1] - t[i]) * 1e6 for i in range(len(STEPS))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--messages", type=int, default=500)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--label", default="")
    a = p.parse_args()
    if not ipaddress.ip_address(a.host).is_loopback:
        sys.exit("phases.py: only loopback addresses are allowed")
    if not 1 <= a.messages <= 100000:
        sys.exit("phases.py: messages must be 1..100000")
    line = b"X" * 78 + b"\r\n"
    text = b"From: <sender@bench-client.invalid>\r\nTo: <rcpt@example.test>\r\nSubject: phases\r\n\r\n"
    text += line * max(1, a.size // len(line))
    body = text + b".\r\n"

    samples = [[] for _ in STEPS]
    deadline = time.monotonic() + 300
    for _ in range(a.messages):
        for i, v in enumerate(one(a.host, a.port, body, b"rcpt@example.test")):
            samples[i].append(v)
        if time.monotonic() > deadline:
            break
    n = len(samples[0])
    total = [sum(x) for x in zip(*samples)]
    for name, xs in zip(STEPS + ["total"], samples + [total]):
        xs = sorted(xs)
        print(f"{a.label}\t{name}\t{statistics.median(xs):.0f}\t{xs[int(0.9 * (n - 1))]:.0f}")


if __name__ == "__main__":
    main()
