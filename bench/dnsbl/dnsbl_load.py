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
        [--reuse F] [--expect rules|none] [--timeout S]
        sends N messages; the first N*(1-F) use distinct addresses, the rest reuse some of them
        (each address at most twice), shuffled with a fixed seed, through bench/smtpload.py,
        which checks every verdict and prints the run's JSON line (see there).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import smtpload  # noqa: E402  (bench/smtpload.py: connections, verdicts, timing)

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
    smtpload.zone_head(out, args.zone, args.ttl)
    out.write("2.0.0.127 A 127.0.0.2\n")   # RFC 5782 section 5 test point; 127.0.0.1 is absent
    for block in range(args.blocks):
        for i in range(args.addresses):
            a = listing(args.list, i)
            if a:
                o = address(block, i).split(".")
                out.write("%s.%s.%s.127 A %s\n" % (o[3], o[2], o[1], a))


def send(args):
    indexes = smtpload.reuse_indexes(args.messages, args.reuse, 1000 + args.block)
    distinct = max(indexes) + 1
    if distinct > 256 * PER_THIRD_OCTET or distinct > args.addresses:
        sys.exit("not enough addresses in a block (--addresses %d) for %d distinct clients" % (args.addresses, distinct))
    plan = [smtpload.Message(address(args.block, i), "sender@bench-client.example", refused_by_rules(i))
            for i in indexes]
    return smtpload.send(args, plan, sum(dnsbl_questions(i) for i in indexes))


def main():
    p, z, s = smtpload.arguments(__doc__)
    z.add_argument("list", choices=("bl1", "bl2"))
    for q in (z, s):
        q.add_argument("--addresses", type=int, required=True)
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
