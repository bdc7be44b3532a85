#!/usr/bin/env python3
"""Zone writer and load generator for bench/spf/run.sh.

Every message comes from its own sender domain and its own loopback source address, on its own
connection (bench/smtpload.py). The senders of one run form a "block" of fresh domains, so no run
finds another's answers in the proxy's DNS cache: sender index i of block k is
user<i>@d<g>.spf.bench.test, g = k * A + i (A = --addresses). Its SPF record has one of the shapes
real senders publish, chosen by i, so the zone and the expected verdicts agree:

  i % 10 in 0..5  v=spf1 include:_spf.mail<p>.bench.test -all    client in 127.(16+p).0.0/16
                  (p = i // 10 % PROVIDERS; the provider's record lists that range: shared by
                  many domains, so the proxy's cache mostly answers it)
  i % 10 == 6     v=spf1 ip4:198.51.100.0/24 ip4:<client> -all    client in 127.24.0.0/16
  i % 10 in 7, 8  v=spf1 a mx -all; A 192.0.2.x (not the client), MX mx.d<g>, whose A is the
                  client                                          client in 127.25.0.0/16
  i % 10 == 9     forged: a domain of one of the shapes above (by i // 10 % 3), but the client
                  is in 127.26.0.0/16, which nothing authorises: SPF fail -> 550 at RCPT
Client address of g in range R: 127.R.(g // 250).(g % 250 + 1).

DNS questions an SPF check asks for a sender, answered by cache or not: include 2 (the domain's
TXT, the provider's TXT), ip4 1, a mx 4 (TXT, A, MX, the MX host's A).

  zone  ZONE --blocks B --addresses A [--ttl T]    prints the zone (ZONE: bench.test)
  send  (bench/smtpload.py's options) --addresses A
        sends N messages; the first N*(1-F) from distinct senders, the rest repeat some of them
        (sender and client address; each at most twice), shuffled with a fixed seed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import smtpload  # noqa: E402  (bench/smtpload.py: connections, verdicts, timing)

PROVIDERS = 3
INCLUDE, IP4, AMX = "include", "ip4", "a mx"
RANGE = {IP4: 24, AMX: 25}
FORGED_RANGE = 26
PER_THIRD_OCTET = 250
MAX_G = 256 * PER_THIRD_OCTET


def shape(i):
    """(the domain's record shape, forged?) of sender index i."""
    r = i % 10
    if r == 9:
        return (INCLUDE, IP4, AMX)[i // 10 % 3], True
    if r <= 5:
        return INCLUDE, False
    return (IP4 if r == 6 else AMX), False


def provider(i):
    return i // 10 % PROVIDERS


def host(second, g):
    return "127.%d.%d.%d" % (second, g // PER_THIRD_OCTET, g % PER_THIRD_OCTET + 1)


def authorised_address(i, g):
    """The address the domain's record authorises (the client, unless forged)."""
    s, _ = shape(i)
    return host(16 + provider(i) if s == INCLUDE else RANGE[s], g)


def client(i, g):
    return host(FORGED_RANGE, g) if shape(i)[1] else authorised_address(i, g)


def domain(g):
    return "d%d.spf.bench.test" % g


def questions(i):
    return {INCLUDE: 2, IP4: 1, AMX: 4}[shape(i)[0]]


def write_zone(args):
    out = sys.stdout
    smtpload.zone_head(out, args.zone, args.ttl)
    for p in range(PROVIDERS):
        # A provider's record as they look: its ranges, an IPv6 one, softfail for the rest.
        out.write('_spf.mail%d TXT "v=spf1 ip4:127.%d.0.0/16 ip4:203.0.113.%d/28 ip6:2001:db8:%x::/48 ~all"\n'
                  % (p, 16 + p, 16 * p, p + 1))
    for block in range(args.blocks):
        for i in range(args.addresses):
            g = block * args.addresses + i
            name = domain(g)[:-len(args.zone) - 1]
            s, _ = shape(i)
            if s == INCLUDE:
                out.write('%s TXT "v=spf1 include:_spf.mail%d.bench.test -all"\n' % (name, provider(i)))
            elif s == IP4:
                out.write('%s TXT "v=spf1 ip4:198.51.100.0/24 ip4:%s -all"\n' % (name, authorised_address(i, g)))
            else:
                out.write('%s TXT "v=spf1 a mx -all"\n%s A 192.0.2.%d\n%s MX 10 mx.%s\nmx.%s A %s\n'
                          % (name, name, g % 250 + 1, name, name, name, authorised_address(i, g)))


def send(args):
    indexes = smtpload.reuse_indexes(args.messages, args.reuse, 2000 + args.block)
    if max(indexes) >= args.addresses:
        sys.exit("not enough senders in a block (--addresses %d) for %d distinct ones" % (args.addresses, max(indexes) + 1))
    plan = []
    for i in indexes:
        g = args.block * args.addresses + i
        plan.append(smtpload.Message(client(i, g), "user%d@%s" % (i, domain(g)), shape(i)[1]))
    return smtpload.send(args, plan, sum(questions(i) for i in indexes))


def main():
    p, z, s = smtpload.arguments(__doc__)
    for q in (z, s):
        q.add_argument("--addresses", type=int, required=True, help="distinct senders per block")
    args = p.parse_args()
    if args.command == "zone":
        if args.blocks * args.addresses > MAX_G:
            sys.exit("--blocks x --addresses must be at most %d" % MAX_G)
        write_zone(args)
        return 0
    return send(args)


if __name__ == "__main__":
    sys.exit(main())
