#!/usr/bin/env python3
"""Zone writer, recipient list writer and load generator for bench/checks/run.sh.

The senders and client addresses are bench/spf's (spf_load.py): sender index i of block k is
user<i>@d<g>.spf.bench.test, g = k * A + i (A = --addresses), its SPF record one of the shapes
real senders publish (include of a shared provider, ip4, a mx; one in ten forged, SPF fail), and
the client the address that record authorises (forged: one in 127.26.0.0/16). The two DNS block
lists list some of those same client addresses by index, as bench/dnsbl (dnsbl_load.py) does:

  i % E == 3  bl1 answers 127.0.0.2    noto:RBL.bl1.dnsbl.test                -> 550 at RCPT
  i % E == 7  bl2 answers 127.0.0.3    deny:RBL.bl2.dnsbl.test=127.0.0.[2..3] -> 550, then 421
  i % E == 8  bl2 answers 127.0.0.9    outside that filter                    -> on to SPF and grey
(E = --every, a multiple of 10, so no listed client is also a forged sender (i % 10 == 9).)

Everyone else passes the SPF rule and reaches the grey line: keyed by its SPF domain (the
sender's own, so every accepted sender is a triplet of its own), its first try is deferred (450)
and its retry after -GreylistDelay passes to the allow line and recipient verification.

  zone  ZONE --list spf|bl1|bl2 --blocks B --addresses A [--every E] [--ttl T]
        prints bench.test (spf: spf_load.py's zone) or a block list zone for blocks 0..B-1, with
        the RFC 5782 test point 2.0.0.127 -> 127.0.0.2 so the proxy's health guard passes.
  send  (bench/smtpload.py's options) --addresses A [--every E] [--first-tries]
        sends N messages; the first N*(1-F) from distinct senders, the rest repeat some of them
        (sender and client address; each at most twice), shuffled with a fixed seed.
        --first-tries sends each distinct sender of that same plan once (with --expect grey:
        the first tries a grey line defers, so that the run itself finds every triplet waiting).
  recipients COUNT
        prints a recipient list (-RecipientListPath) of COUNT mailboxes of example.test, a few
        wildcard, domain and "!" entries, and the one recipient the load writes to.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("..", "../spf", "../dnsbl"):
    sys.path.insert(0, os.path.join(HERE, d))
import smtpload    # noqa: E402  (bench/smtpload.py: connections, verdicts, timing)
import spf_load    # noqa: E402  (bench/spf: senders, their records, their client addresses)
import dnsbl_load  # noqa: E402  (bench/dnsbl: which index each list lists)


def sender(i, g):
    return "user%d@%s" % (i, spf_load.domain(g))


def refused(i):
    """Refused at RCPT by the rules: forged (SPF fail) or listed where the rules refuse it."""
    return spf_load.shape(i)[1] or dnsbl_load.refused_by_rules(i)


def questions(i):
    """DNS questions the rules ask for a sender, cache or not: bl1, bl2 unless bl1 decided, and the
    SPF check (it starts at MAIL, so a client the lists refuse at RCPT was asked about too)."""
    return dnsbl_load.dnsbl_questions(i) + spf_load.questions(i)


def write_list_zone(args):
    out = sys.stdout
    smtpload.zone_head(out, args.zone, args.ttl)
    out.write("2.0.0.127 A 127.0.0.2\n")   # RFC 5782 section 5 test point; 127.0.0.1 is absent
    for block in range(args.blocks):
        for i in range(args.addresses):
            a = dnsbl_load.listing(args.list, i)
            if a:
                o = spf_load.client(i, block * args.addresses + i).split(".")
                out.write("%s.%s.%s.127 A %s\n" % (o[3], o[2], o[1], a))


def write_recipients(count):
    out = sys.stdout
    out.write("# bench/checks: the mailboxes of example.test\n")
    for n in range(count):
        out.write("user%d@example.test\n" % n)
        if n % 1000 == 999:
            out.write("sales-%d-*@example.test\n!user%d@example.test\n" % (n, n - 1))
    out.write("@lists.example.test\n")
    out.write(smtpload.RCPT.decode("ascii") + "\n")


def send(args):
    indexes = smtpload.reuse_indexes(args.messages, args.reuse, 2000 + args.block)
    if max(indexes) >= args.addresses:
        sys.exit("not enough senders in a block (--addresses %d) for %d distinct ones" % (args.addresses, max(indexes) + 1))
    if args.first_tries:
        indexes = list(dict.fromkeys(indexes))
    plan = []
    for i in indexes:
        g = args.block * args.addresses + i
        plan.append(smtpload.Message(spf_load.client(i, g), sender(i, g), refused(i)))
    return smtpload.send(args, plan, sum(questions(i) for i in indexes))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "recipients":
        write_recipients(int(sys.argv[2]))
        return 0
    p, z, s = smtpload.arguments(__doc__)
    z.add_argument("--list", choices=("spf", "bl1", "bl2"), required=True)
    for q in (z, s):
        q.add_argument("--addresses", type=int, required=True, help="distinct senders per block")
        q.add_argument("--every", type=int, default=20, help="each list lists one client in EVERY per kind (a multiple of 10)")
    s.add_argument("--first-tries", action="store_true", help="each distinct sender of the plan once")
    args = p.parse_args()
    if args.every < 10 or args.every % 10:
        sys.exit("--every must be a multiple of 10")
    dnsbl_load.EVERY = args.every
    if args.command == "zone":
        if args.blocks * args.addresses > spf_load.MAX_G:
            sys.exit("--blocks x --addresses must be at most %d" % spf_load.MAX_G)
        if args.list == "spf":
            spf_load.write_zone(args)
        else:
            write_list_zone(args)
        return 0
    return send(args)


if __name__ == "__main__":
    sys.exit(main())
