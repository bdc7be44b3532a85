#!/usr/bin/env python3
"""The openspf RFC 7208 test suite (YAML, one document per scenario), read for a DNS server.

Reads the suite the way its README tells drivers to, and the way the xunit run's in-process server
(tests/SmtpdModule.Engine.Tests/Fixtures/SpfZoneDnsServer.cs) serves it:
  - an SPF entry is also served as TXT, unless the name has TXT entries of its own;
    "TXT: NONE" means the name has no TXT record at all;
  - a bare TIMEOUT makes every question about the name for a type not listed before it go
    unanswered; names outside the data starting with "error." never answer either;
  - other names outside the data are NXDOMAIN (knotd: NOERROR without records for a name that
    only has names below it, an empty non-terminal; SPF treats both as "no record");
  - CNAMEs are followed, a loop is SERVFAIL;
  - names and texts are bytes: the suite's "\\xEF" is the byte 0xEF (Latin-1, one to one).

Commands (SUITE: the YAML file):
  cases SUITE              the scenarios and their cases as JSON, for the Pester run's discovery
  zone SUITE N FILE        writes scenario N's data as a zone file for the root zone ("."),
                           for knotd (tools/spf-suite/knot.conf.in)

spf_relay.py imports this module to decide which questions go unanswered.
"""
import json
import sys

import yaml

# The record types the suite uses, by their number on the wire.
TYPES = {1: "A", 5: "CNAME", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 99: "SPF"}

# How many CNAMEs are followed before a chain counts as a loop (as SpfZoneDnsServer.cs).
MAX_CNAME_DEPTH = 8


def load(path):
    """The suite's documents. BaseLoader keeps every scalar a string, as the suite means them
    (and as the xunit run's YamlDotNet reads them): an address like 1:2:3 is not a number."""
    with open(path, "rb") as f:
        return [d for d in yaml.load_all(f, Loader=yaml.BaseLoader) if d]


def key(name):
    """A name as the data is looked up by: no root dot, any case."""
    return name.rstrip(".").lower()


def entries(document):
    """One scenario's data: {name: [(type, value), ...]} in the suite's order, with the SPF
    entries copied to TXT where the suite says so. type "TIMEOUT" has value None; a TXT/SPF value
    is a list of character-strings; MX is (preference, host)."""
    raw = []
    explicit_txt = set()
    for name, records in (document.get("zonedata") or {}).items():
        for record in records or []:
            if isinstance(record, str):
                raw.append((key(name), record.upper(), None))
                continue
            for rtype, value in record.items():
                raw.append((key(name), rtype.upper(), value))
                if rtype.upper() == "TXT":
                    explicit_txt.add(key(name))
    zone = {}
    for name, rtype, value in raw:
        out = zone.setdefault(name, [])
        if rtype in ("TXT", "SPF"):
            strings = value if isinstance(value, list) else [value]
            if rtype == "TXT" and strings == ["NONE"]:
                continue   # only marks that the name has no TXT record
            out.append((rtype, strings))
            if rtype == "SPF" and name not in explicit_txt:
                out.append(("TXT", strings))
        elif rtype == "MX":
            out.append((rtype, (int(value[0]), value[1])))
        else:
            out.append((rtype, value))
    return zone


def decide(zone, name, qtype, depth=0):
    """What a question gets: "forward" (knotd answers it from the zone), "drop" (no answer, ever)
    or "servfail" (a CNAME loop). qtype is the type's name, or its number as text."""
    records = zone.get(key(name))
    if records is None:
        return "drop" if key(name).startswith("error.") else "forward"
    seen = set()
    for rtype, value in records:
        if rtype == "TIMEOUT":
            if qtype not in seen:
                return "drop"
            continue
        seen.add(rtype)
        if rtype == "CNAME" and qtype != "CNAME":
            if depth > MAX_CNAME_DEPTH:
                return "servfail"
            return decide(zone, value, qtype, depth + 1)
    return "forward"


def _latin1(text):
    # A character beyond Latin-1 becomes '?', as .NET's Encoding.Latin1 makes it in the xunit run.
    return str(text).encode("latin-1", errors="replace")


def zone_name(name):
    """An absolute name in zone file syntax: every byte but letters, digits, '-' and '_' as an
    RFC 1035 \\DDD escape (spaces, ':', '/', '%', 8-bit bytes). A '*' label is escaped too, but
    still is a wildcard to knotd (the wire form is the same): the suite has none."""
    labels = [l for l in _latin1(name).split(b".") if l]
    if not labels:
        return "."
    out = []
    for label in labels:
        out.append("".join(chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "-_")
                           else "\\%03d" % b for b in label))
    return ".".join(out) + "."


def zone_text(strings):
    """TXT/SPF rdata: each string cut into character-strings of at most 255 bytes, quoted; bytes
    outside printable ASCII, '"' and '\\' as \\DDD escapes. An empty list is one empty string."""
    parts = []
    for text in strings or [""]:
        data = _latin1(text)
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        for chunk in chunks:
            parts.append('"' + "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C)
                                       else "\\%03d" % b for b in chunk) + '"')
    return " ".join(parts)


def zone_file(document):
    """The scenario's data as the root zone. Entries knotd cannot serve as the suite means them
    (TIMEOUT, names that never answer, CNAME loops as SERVFAIL) are spf_relay.py's part."""
    lines = [
        "; generated by tests/tools/spf-suite/spf_suite.py from one scenario of the RFC 7208 suite",
        "$TTL 60",
        ". IN SOA ns.spf-suite.invalid. hostmaster.spf-suite.invalid. 1 3600 600 86400 60",
        ". IN NS ns.spf-suite.invalid.",
    ]
    for name, records in entries(document).items():
        owner = zone_name(name)
        for rtype, value in records:
            if rtype == "TIMEOUT":
                continue
            if rtype in ("TXT", "SPF"):
                data = zone_text(value)
            elif rtype == "MX":
                data = "%d %s" % (value[0], zone_name(value[1]))   # host "": the null MX (RFC 7505)
            elif rtype in ("CNAME", "PTR"):
                data = zone_name(value)
            elif rtype in ("A", "AAAA"):
                data = str(value)
            else:
                raise ValueError("unknown zone data type %s at %s" % (rtype, name))
            lines.append("%s IN %s %s" % (owner, rtype, data))
    return "\n".join(lines) + "\n"


def cases(documents):
    """Every scenario with its cases, as the Pester run names and checks them (the ids are the
    xunit run's: "<scenario description>: <case name>")."""
    scenarios = []
    for index, document in enumerate(documents):
        description = document.get("description", "")
        tests = []
        for name, test in (document.get("tests") or {}).items():
            result = test["result"]
            tests.append({
                "Id": "%s: %s" % (description, name),
                "Helo": test.get("helo"),
                "ClientAddress": test["host"],
                "MailFrom": test.get("mailfrom", ""),
                "Results": result if isinstance(result, list) else [result],
                "Explanation": test.get("explanation"),
            })
        scenarios.append({"Scenario": index, "Description": description, "Cases": tests})
    return scenarios


def main(argv):
    if len(argv) == 3 and argv[1] == "cases":
        json.dump(cases(load(argv[2])), sys.stdout)
        return 0
    if len(argv) == 5 and argv[1] == "zone":
        with open(argv[4], "w", encoding="ascii", newline="\n") as f:
            f.write(zone_file(load(argv[2])[int(argv[3])]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
