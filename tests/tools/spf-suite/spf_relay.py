#!/usr/bin/env python3
"""A DNS relay in front of knotd for one scenario of the RFC 7208 suite.

knotd serves the scenario's data as a zone, but a zone cannot say "never answer": this relay
takes every question (UDP and TCP, on one port of 127.0.0.1) and, as spf_suite.decide() says,
  - swallows it: the suite's TIMEOUT entries and the "error.*" names outside the data;
  - answers SERVFAIL itself: a CNAME loop, which knotd answers NOERROR with the CNAMEs it
    followed (a recursive resolver, which the suite's drivers stand for, gives SERVFAIL);
  - passes it on to knotd and knotd's answer back: everything else.

Usage: spf_relay.py --upstream PORT --suite SUITE --scenario N [--log FILE]
Prints {"port": N} on one line once it listens, and runs until its standard input closes (so it
ends with the test that started it). --log gets one line per question: name, type, decision.
"""
import argparse
import json
import os
import socket
import socketserver
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spf_suite  # noqa: E402

UPSTREAM_WAIT = 5.0   # seconds knotd may take to answer one relayed question


def question(message):
    """(name, qtype, end of the question) of the first question (RFC 1035 4.1.2), or None. Names
    are bytes read as Latin-1, as spf_suite reads the suite's data."""
    if len(message) < 17:
        return None
    labels, i = [], 12
    while i < len(message) and message[i] != 0:
        n = message[i]
        if n & 0xC0 or i + 1 + n > len(message):
            return None
        labels.append(message[i + 1:i + 1 + n].decode("latin-1"))
        i += 1 + n
    if i + 5 > len(message):
        return None
    qtype = struct.unpack("!H", message[i + 1:i + 3])[0]
    return ".".join(labels), spf_suite.TYPES.get(qtype, str(qtype)), i + 5


def servfail(message, end):
    """SERVFAIL to the query: its id, opcode and RD, its question, nothing else."""
    flags = 0x8000 | (message[2] & 0x79) << 8 | 0x02   # QR, opcode and RD from the query, RCODE 2
    return message[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + message[12:end]


class Relay:
    def __init__(self, zone, upstream, log):
        self.zone = zone
        self.upstream = upstream
        self.log = log
        self.lock = threading.Lock()

    def decide(self, message):
        """("forward" | "drop" | "servfail", question end); unreadable questions go to knotd."""
        q = question(message)
        if q is None:
            return "forward", 0
        name, qtype, end = q
        decision = spf_suite.decide(self.zone, name, qtype)
        if self.log:
            with self.lock:
                self.log.write("%s %s %s\n" % (name.encode("latin-1").decode("ascii", "backslashreplace"),
                                               qtype, decision))
                self.log.flush()
        return decision, end

    def udp_answer(self, message):
        """knotd's answer over UDP, or None when it gives none in time."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(UPSTREAM_WAIT)
            s.sendto(message, self.upstream)
            try:
                return s.recv(65535)
            except OSError:
                return None

    def tcp_answer(self, message):
        with socket.create_connection(self.upstream, timeout=UPSTREAM_WAIT) as s:
            s.sendall(struct.pack("!H", len(message)) + message)
            length = struct.unpack("!H", read_exactly(s, 2))[0]
            return read_exactly(s, length)


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def serve_udp(relay, udp):
    def handle(message, client):
        decision, end = relay.decide(message)
        if decision == "drop":
            return
        reply = servfail(message, end) if decision == "servfail" else relay.udp_answer(message)
        if reply is not None:
            udp.sendto(reply, client)

    while True:
        message, client = udp.recvfrom(65535)
        # A thread per question: a slow one never holds up the next.
        threading.Thread(target=handle, args=(message, client), daemon=True).start()


def tcp_handler(relay):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                while True:
                    length = struct.unpack("!H", read_exactly(self.request, 2))[0]
                    message = read_exactly(self.request, length)
                    decision, end = relay.decide(message)
                    if decision == "drop":
                        continue   # no answer: the client gives up on its own
                    reply = servfail(message, end) if decision == "servfail" else relay.tcp_answer(message)
                    self.request.sendall(struct.pack("!H", len(reply)) + reply)
            except (ConnectionError, OSError, struct.error):
                pass
    return Handler


class TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False


def bind():
    """A UDP socket and a TCP server on the same free port of 127.0.0.1."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        try:
            return udp, port, TcpServer(("127.0.0.1", port), None)
        except OSError:
            udp.close()   # the TCP port is taken: try another
    raise OSError("no port of 127.0.0.1 was free for both UDP and TCP")


def main():
    parser = argparse.ArgumentParser(description="DNS relay for the RFC 7208 suite")
    parser.add_argument("--upstream", type=int, required=True, help="knotd's port on 127.0.0.1")
    parser.add_argument("--suite", required=True)
    parser.add_argument("--scenario", type=int, required=True)
    parser.add_argument("--log")
    args = parser.parse_args()

    zone = spf_suite.entries(spf_suite.load(args.suite)[args.scenario])
    log = open(args.log, "a", encoding="ascii") if args.log else None
    relay = Relay(zone, ("127.0.0.1", args.upstream), log)

    udp, port, tcp = bind()
    tcp.RequestHandlerClass = tcp_handler(relay)
    threading.Thread(target=serve_udp, args=(relay, udp), daemon=True).start()
    threading.Thread(target=tcp.serve_forever, daemon=True).start()

    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()   # until the starter closes our standard input (or dies)
    os._exit(0)


if __name__ == "__main__":
    main()
