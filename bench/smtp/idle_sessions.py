#!/usr/bin/env python3
"""Holds N idle SMTP sessions open for bench/smtp/run.sh.

Each session connects to HOST:PORT, reads the 220 greeting, sends EHLO and reads the whole
250 reply; then it says nothing more. Once all N are open the script prints "ready N" and
waits until a line arrives on stdin (or --hold seconds pass), then closes every socket with
QUIT. Loopback only: the host must be 127.0.0.0/8 or ::1.
"""
import argparse
import ipaddress
import socket
import sys
import time


def read_reply(sock, deadline):
    """Reads one complete (possibly multi-line) SMTP reply; returns its code."""
    data = b""
    while True:
        lines = data.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return int(line[:3])
        if time.monotonic() > deadline:
            raise TimeoutError("no complete reply")
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by server")
        data += chunk


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--hold", type=float, default=120.0, help="close after this many seconds at most")
    p.add_argument("--timeout", type=float, default=10.0, help="per-socket deadline while opening")
    a = p.parse_args()
    if not ipaddress.ip_address(a.host).is_loopback:
        sys.exit("idle_sessions.py: only loopback addresses are allowed")
    if not 1 <= a.count <= 10000:
        sys.exit("idle_sessions.py: count must be 1..10000")

    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    socks = []
    started = time.monotonic()
    try:
        for i in range(a.count):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(a.timeout)
            s.connect((a.host, a.port))
            deadline = time.monotonic() + a.timeout
            code = read_reply(s, deadline)
            if code != 220:
                sys.exit(f"idle_sessions.py: session {i}: greeting {code}")
            s.sendall(b"EHLO idle.bench.invalid\r\n")
            code = read_reply(s, deadline)
            if code != 250:
                sys.exit(f"idle_sessions.py: session {i}: EHLO answered {code}")
            socks.append(s)
        print(f"ready {len(socks)} {time.monotonic() - started:.2f}s", flush=True)

        # Wait for run.sh to read the memory figures; bounded by --hold.
        import select
        select.select([sys.stdin], [], [], a.hold)
    finally:
        for s in socks:
            try:
                s.settimeout(1.0)
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
        for s in socks:
            try:
                s.close()
            except OSError:
                pass


if __name__ == "__main__":
    main()
