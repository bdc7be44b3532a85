"""SMTP load machinery shared by the benchmarks that compare the proxy with itself (bench/dnsbl,
bench/spf, bench/checks): one message per connection, each from the source address the caller's
plan gives, every verdict checked against the plan.

A plan is a list of Message(source, sender, refused): the loopback address the connection is
bound to (all of 127.0.0.0/8 is local on Linux), the MAIL FROM address, and whether the rules
under test must refuse the one RCPT with a 5xx. The caller's own script writes the matching DNS
zone (zone_head gives every zone file the same start). With --expect grey the plan is a first
try of greylisted triplets: whom it does not refuse must get 450 at RCPT (and sends no DATA).

send() runs a plan with C concurrent sessions and prints one JSON line: wall seconds, accepted,
refused, mismatches against the expected verdicts, errors, transaction latency median and p90
(ms), the generator's own CPU ms and the first problems. Exit status 1 on any error or mismatch.
Every read has a timeout.
"""
import argparse
import asyncio
import collections
import json
import random
import resource
import sys
import time

Message = collections.namedtuple("Message", "source sender refused")

HELO = b"bench-client.example"
RCPT = b"rcpt@example.test"


def reuse_indexes(messages, reuse, seed):
    """Indexes of the distinct senders of a run, in sending order: the first messages*(1-reuse)
    are distinct, the rest repeat some of them (each at most twice), shuffled with a fixed seed."""
    distinct = max(1, round(messages * (1 - reuse)))
    if messages - distinct > distinct:
        sys.exit("--reuse above 0.5 would use a sender more than twice")
    rng = random.Random(seed)
    indexes = list(range(distinct)) + rng.sample(range(distinct), messages - distinct)
    rng.shuffle(indexes)
    return indexes


def zone_head(out, zone, ttl):
    """$ORIGIN, $TTL, SOA and NS of a benchmark zone; the SOA's last field is the negative TTL
    (RFC 2308 section 4), so NXDOMAIN is cached as long as an answer."""
    out.write("$ORIGIN %s.\n$TTL %d\n" % (zone, ttl))
    out.write("@ SOA ns.%s. hostmaster.%s. 1 3600 900 604800 %d\n" % (zone, zone, ttl))
    out.write("@ NS ns.%s.\nns A 127.0.0.53\n" % zone)


def arguments(doc):
    """The command line every generator takes: `zone ZONE --blocks B [--ttl T]` and `send` with
    the options of a run; returns (parser, zone subparser, send subparser) for the caller's own."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    zone = sub.add_parser("zone")
    zone.add_argument("zone")
    zone.add_argument("--blocks", type=int, required=True)
    zone.add_argument("--ttl", type=int, default=300)
    send = sub.add_parser("send")
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--block", type=int, required=True, help="which run: its senders are its own")
    send.add_argument("--messages", type=int, required=True)
    send.add_argument("--concurrency", type=int, required=True)
    send.add_argument("--size", type=int, default=1024)
    send.add_argument("--reuse", type=float, default=0.2)
    send.add_argument("--expect", choices=("rules", "none", "grey"), default="none",
                      help="rules: the proxy runs the rules under test and refuses whom the plan says; "
                           "grey: as rules, and a grey line defers everyone else with 450 (first tries)")
    send.add_argument("--timeout", type=float, default=30, help="seconds one transaction may take")
    return parser, zone, send


def body(size):
    head = (b"From: <sender@bench-client.example>\r\nTo: <rcpt@example.test>\r\n"
            b"Subject: accept bench\r\nMessage-ID: <%d@bench-client.example>\r\n\r\n")
    line = b"x" * 70 + b"\r\n"
    lines = max(0, (size - len(head % 0)) // len(line))
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


async def transaction(port, message, message_no, head, filler):
    source = message.source
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
        await step(b"EHLO " + HELO + b"\r\n", "250")
        await step(b"MAIL FROM:<" + message.sender.encode("ascii") + b">\r\n", "250")
        writer.write(b"RCPT TO:<" + RCPT + b">\r\n")
        code = await reply(reader)
        if code == "550":
            # The rules' refusal (noto: the session goes on; deny: a 421 follows and the proxy
            # hangs up). Either way we leave; QUIT may meet a closed socket.
            try:
                writer.write(b"QUIT\r\n")
                await writer.drain()
            except ConnectionError:
                pass
            return "refused"
        if code == "450":
            # A grey line's first try: the session goes on; we leave as a retrying server would.
            await step(b"QUIT\r\n", "221")
            return "greylisted"
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


async def run(args, plan):
    head, filler = body(args.size)
    results = {"accepted": 0, "refused": 0, "greylisted": 0, "mismatches": 0, "errors": 0}
    latencies = []
    problems = []
    next_no = iter(range(len(plan)))

    async def worker():
        for n in next_no:
            m = plan[n]
            start = time.perf_counter()
            try:
                fate = await asyncio.wait_for(transaction(args.port, m, n, head, filler), args.timeout)
            except (OSError, RuntimeError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                results["errors"] += 1
                if len(problems) < 5:
                    problems.append("%s <%s>: %s" % (m.source, m.sender, e or type(e).__name__))
                continue
            latencies.append((time.perf_counter() - start) * 1000)
            results[fate] += 1
            expected = ("refused" if args.expect != "none" and m.refused
                        else "greylisted" if args.expect == "grey" else "accepted")
            if fate != expected:
                results["mismatches"] += 1
                if len(problems) < 5:
                    problems.append("%s <%s>: %s, expected %s" % (m.source, m.sender, fate, expected))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else None
    results.update(seconds=round(seconds, 3), median_ms=pick(0.5), p90_ms=pick(0.9), problems=problems)
    return results


def send(args, plan, questions):
    """Runs the plan; `questions` (the DNS questions the rules under test ask for it, cache or
    not) goes into the report so run.sh can say how many the proxy's cache answered."""
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    results = asyncio.run(run(args, plan))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    results["client_cpu_ms"] = round((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000, 1)
    results["distinct_senders"] = len(set(plan))
    results["expected_refused"] = sum(1 for m in plan if args.expect != "none" and m.refused)
    results["questions"] = questions if args.expect != "none" else 0
    print(json.dumps(results))
    return 0 if results["errors"] == 0 and results["mismatches"] == 0 else 1
