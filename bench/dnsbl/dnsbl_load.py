#!/usr/bin/env python3
"""Load generator and zone writer for bench/dnsbl/run.sh.

Every message comes on its own connection from its own loopback source address (all of
127.0.0.0/8 is local on Linux), so a DNSBL sees many clients. The addresses of one run form a
"block": address index i of block k is 127.(16+k).(i // 250).(i % 250 + 1). Which indexes the two
test lists list is fixed here, so the zone files and the expected verdicts agree:

  i % E == 3  bl1 answers 127.0.0.2    noto:RBL.bl1.bench.test                -> 550 at RCPT
  i % E == 7  bl2 answers 127.0.0.3    deny:RBL.bl2.bench.test=127.0.0.[2..3] -> 550, then 421
  i % E == 8  bl2 answers 127.0.0.9    outside that filter                    -> accepted
  otherwise   NXDOMAIN in both                                            -> accepted
(E = --every, 10 by default: 20 % of clients are refused.)

  zone  ZONE LIST --blocks B --addresses A [--ttl T]
        prints the zone file of bl1 or bl2 for blocks 0..B-1 (and the RFC 5782 test point
        2.0.0.127 -> 127.0.0.2; 1.0.0.127 stays NXDOMAIN), so the proxy's health guard passes.
  send  --port P --block K --addresses A --messages N --concurrency C [--size BYTES]
        [--reuse F] [--expect dnsbl|none] [--timeout S]
        sends N messages; the first N*(1-F) use distinct addresses, the rest reuse some of them
        (each address at most twice), shuffled with a fixed seed. Prints one JSON line: wall
        seconds, accepted, refused, mismatches against the expected verdicts, transaction
        latency median and p90 (ms), the generator's own CPU ms. Exits 1 on any error or
        mismatch. Every read has a timeout.
"""
import argparse
import asyncio
import json
import random
import resource
import sys
import time

BASE_SECOND_OCTET = 16
PER_THIRD_OCTET = 250


def address(block, i):
    return "127.%d.%d.%d" % (BASE_SECOND_OCTET + block, i // PER_THIRD_OCTET, i % PER_THIRD_OCTET + 1)


# Every EVERY-th address is listed per kind (--every; 10 by default: 20 % of clients refused).
EVERY = 10


def listing(which, i):
    """The A answer list `which` gives for address index i, or None (NXDOMAIN)."""
    if which == "bl1":
        return "127.0.0.2" if i % EVERY == 3 else None
    if i % EVERY == 7:
        return "127.0.0.3"
    if i % EVERY == 8:
        return "127.0.0.9"
    return None


def refused_by_rules(i):
    return i % EVERY in (3, 7)


def dnsbl_questions(i):
    """Questions the rules ask for a client: bl1, then bl2 unless bl1's noto already decided."""
    return 1 if i % EVERY == 3 else 2


def write_zone(args):
    out = sys.stdout
    ttl = args.ttl
    out.write("$ORIGIN %s.\n$TTL %d\n" % (args.zone, ttl))
    # The last SOA field is the negative TTL (RFC 2308 section 4): NXDOMAIN is cached as long.
    out.write("@ SOA ns.%s. hostmaster.%s. 1 3600 900 604800 %d\n" % (args.zone, args.zone, ttl))
    out.write("@ NS ns.%s.\nns A 127.0.0.53\n" % args.zone)
    out.write("2.0.0.127 A 127.0.0.2\n")   # RFC 5782 section 5 test point; 127.0.0.1 is absent
    for block in range(args.blocks):
        for i in range(args.addresses):
            a = listing(args.list, i)
            if a:
                o = address(block, i).split(".")
                out.write("%s.%s.%s.127 A %s\n" % (o[3], o[2], o[1], a))


def plan(args):
    distinct = max(1, round(args.messages * (1 - args.reuse)))
    if args.messages - distinct > distinct:
        sys.exit("--reuse above 0.5 would use an address more than twice")
    if distinct > 256 * PER_THIRD_OCTET or distinct > args.addresses:
        sys.exit("not enough addresses in a block (--addresses %d) for %d distinct clients" % (args.addresses, distinct))
    rng = random.Random(1000 + args.block)
    indexes = list(range(distinct)) + rng.sample(range(distinct), args.messages - distinct)
    rng.shuffle(indexes)
    return indexes


def body(size):
    head = (b"From: <sender@bench-client.example>\r\nTo: <rcpt@example.test>\r\n"
            b"Subject: dnsbl bench\r\nMessage-ID: <%d@bench-client.example>\r\n\r\n")
    line = b"x" * 70 + b"\r\n"
    text = head % 0
    lines = max(0, (size - len(text)) // len(line))
    return head, line * lines


async def reply(reader):
    """One SMTP reply (all its lines); returns the code as text, or '' on EOF."""
    code = ""
    while True:
        line = await reader.readline()
        if not line:
            return ""
        code = line[:3].decode("ascii", "replace")
        if line[3:4] != b"-":
            return code


async def transaction(port, source, message_no, head, filler):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        async def step(command, want):
            if command is not None:
                writer.write(command)
            code = await reply(reader)
            if not code.startswith(want):
                raise RuntimeError("%s from %s: %r after %r" % (code or "EOF", source, code, command))
            return code

        await step(None, "220")
        await step(b"EHLO bench-client.example\r\n", "250")
        await step(b"MAIL FROM:<sender@bench-client.example>\r\n", "250")
        writer.write(b"RCPT TO:<rcpt@example.test>\r\n")
        code = await reply(reader)
        if code.startswith("5"):
            # noto: the session goes on; deny: a 421 follows and the proxy hangs up. Either way we
            # leave; QUIT may meet a closed socket.
            try:
                writer.write(b"QUIT\r\n")
                await writer.drain()
            except ConnectionError:
                pass
            return "refused"
        if not code.startswith("250"):
            raise RuntimeError("RCPT from %s: %r" % (source, code or "EOF"))
        await step(b"DATA\r\n", "354")
        writer.write(head % message_no + filler + b".\r\n")
        await step(None, "250")
        await step(b"QUIT\r\n", "221")
        return "accepted"
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def run(args, indexes):
    head, filler = body(args.size)
    results = {"accepted": 0, "refused": 0, "mismatches": 0, "errors": 0}
    latencies = []
    errors = []
    next_no = iter(range(len(indexes)))

    async def worker():
        for n in next_no:
            i = indexes[n]
            start = time.perf_counter()
            try:
                fate = await asyncio.wait_for(transaction(args.port, address(args.block, i), n, head, filler), args.timeout)
            except (OSError, RuntimeError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                results["errors"] += 1
                if len(errors) < 5:
                    errors.append("%s: %s" % (address(args.block, i), e or type(e).__name__))
                continue
            latencies.append((time.perf_counter() - start) * 1000)
            results[fate] += 1
            expected = "refused" if args.expect == "dnsbl" and refused_by_rules(i) else "accepted"
            if fate != expected:
                results["mismatches"] += 1
                if len(errors) < 5:
                    errors.append("%s (index %d): %s, expected %s" % (address(args.block, i), i, fate, expected))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else None
    results.update(seconds=round(seconds, 3), median_ms=pick(0.5), p90_ms=pick(0.9), problems=errors)
    return results


def send(args):
    indexes = plan(args)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    results = asyncio.run(run(args, indexes))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    results["client_cpu_ms"] = round((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000, 1)
    results["distinct_addresses"] = len(set(indexes))
    results["expected_refused"] = sum(1 for i in indexes if args.expect == "dnsbl" and refused_by_rules(i))
    results["dnsbl_questions"] = sum(dnsbl_questions(i) for i in indexes) if args.expect == "dnsbl" else 0
    print(json.dumps(results))
    return 0 if results["errors"] == 0 and results["mismatches"] == 0 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    z = sub.add_parser("zone")
    z.add_argument("zone")
    z.add_argument("list", choices=("bl1", "bl2"))
    z.add_argument("--blocks", type=int, required=True)
    z.add_argument("--addresses", type=int, required=True)
    z.add_argument("--ttl", type=int, default=300)
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--block", type=int, required=True)
    s.add_argument("--addresses", type=int, required=True)
    s.add_argument("--messages", type=int, required=True)
    s.add_argument("--concurrency", type=int, required=True)
    s.add_argument("--size", type=int, default=1024)
    s.add_argument("--reuse", type=float, default=0.2)
    s.add_argument("--expect", choices=("dnsbl", "none"), default="none")
    s.add_argument("--timeout", type=float, default=30, help="seconds one transaction may take")
    for q in (z, s):
        q.add_argument("--every", type=int, default=10, help="list one address in EVERY per kind (at least 10)")
    args = p.parse_args()
    global EVERY
    if args.every < 10:
        sys.exit("--every must be at least 10")
    EVERY = args.every
    if args.command == "zone":
        if not 0 <= args.blocks <= 200:
            sys.exit("--blocks must be 0..200 (second octets %d..%d)" % (BASE_SECOND_OCTET, BASE_SECOND_OCTET + 199))
        write_zone(args)
        return 0
    if not 0 <= args.block < 200:
        sys.exit("--block must be 0..199")
    return send(args)


if __name__ == "__main__":
    sys.exit(main())
