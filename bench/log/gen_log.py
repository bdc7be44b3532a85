#!/usr/bin/env python3
"""Writes a proxy log of about --mb megabytes in the shape Start-SmtpdProxy -LogPath writes
(JsonLinesLog.Format; decision fields from DecisionRecord.ToData): sessions of connect, helo,
mail, one to three RCPT decisions with DNS facts, accepted or not, disconnect. Clients come from
200 /16 networks, so a /24 is a small share; one refusal in five. Deterministic (--seed)."""
import argparse, json, random, datetime

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--mb", type=int, default=1024)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rnd = random.Random(a.seed)
limit = a.mb * 1024 * 1024
t = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
nets = [(rnd.randrange(1, 224), rnd.randrange(256)) for _ in range(200)]
dump = lambda o: json.dumps(o, separators=(",", ":"), ensure_ascii=False)

def stamp():
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"

def event(kind, sid, client, message, **data):
    o = {"time": stamp(), "event": kind}
    if sid is not None: o["session"] = sid
    if client is not None: o["client"] = client
    if message is not None: o["message"] = message
    o.update(data)
    return dump(o) + "\n"

def decision(sid, client, name, helo, sender, rcpt, refused):
    line = 7 if refused else 12
    verdict, reply = ("Reject", "550 5.7.1 <%s>: relaying denied for %s" % (rcpt, client)) if refused else ("Continue", None)
    rev = ".".join(reversed(client.split(".")))
    facts = [
        {"kind": "Dns", "name": rev + ".in-addr.arpa", "type": "PTR", "status": "Found", "values": [name], "error": None, "ttl": 3600},
        {"kind": "Dns", "name": name, "type": "A", "status": "Found", "values": [client], "error": None, "ttl": 300},
        {"kind": "Dns", "name": rev + ".zen.example.net", "type": "A", "status": "NxDomain", "values": [], "error": None, "ttl": 900},
    ]
    return event("decision", sid, client, ("Noto by line %d" if refused else "Allow by line %d") % line,
                 v=1, stage="Rcpt", verdict=verdict, replies=[reply] if reply else [], reply=reply,
                 reason="rule line %d" % line, delay=0.0, clientAddress=client, name=name, reverse=None, reverseFailed=False,
                 helo=helo, esmtp=True, tls=rnd.random() < 0.6, **{"from": sender}, smtputf8=False, to="<%s>" % rcpt,
                 action="Noto" if refused else "Allow", basis="Rule", line=line,
                 rule=("noto:ALL:ALL:ALL:550 5.7.1 %%T: relaying denied for %%I" if refused else "allow:ALL:ALL:*@example.com"),
                 ident=None, failure=None, rules="/etc/smtpd/smtpd_check_rules",
                 rulesSha256="9f2c4e1b7a3d5f608e1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70", size=None, downstream=None,
                 failed=[], score=None, scoreDetail=None, facts=facts, results={})

written, n = 0, 0
with open(a.out, "w", encoding="utf-8", newline="\n") as f:
    while written < limit:
        n += 1
        t += datetime.timedelta(milliseconds=rnd.randrange(5, 200))
        hi, lo = rnd.choice(nets)
        client = "%d.%d.%d.%d" % (hi, lo, rnd.randrange(4), rnd.randrange(1, 255))
        sid = "%08x" % n
        name = "mx%d.sender%d.example" % (rnd.randrange(9), rnd.randrange(5000))
        sender = "<user%d@sender%d.example>" % (rnd.randrange(1000), rnd.randrange(5000))
        chunk = [event("connect", sid, client, None, name=name),
                 event("helo", sid, client, name, esmtp=True),
                 event("mail", sid, client, None, **{"from": sender}, size=None, smtputf8=False)]
        accepted = False
        for _ in range(rnd.randrange(1, 4)):
            refused = rnd.random() < 0.2
            accepted |= not refused
            chunk.append(decision(sid, client, name, name, sender, "rcpt%d@example.com" % rnd.randrange(10000), refused))
        if accepted:
            chunk.append(event("accepted", sid, client, None, id="20261201T000000-%024d" % n, size=rnd.randrange(2000, 90000)))
        chunk.append(event("disconnect", sid, client, None))
        text = "".join(chunk)
        f.write(text)
        written += len(text.encode("utf-8"))
print("%d bytes, %d sessions; %d.%d.0.0/24 holds 1/800 of the clients" % (written, n, nets[0][0], nets[0][1]))
