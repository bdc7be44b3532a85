#!/usr/bin/env python3
"""RCPT latency through a running proxy: one session, MAIL then RCPT after RCPT, each timed from
the write to its reply. Prints JSON: count, median and 90th percentile in microseconds, replies."""
import json, socket, statistics, sys, time

def main():
    port, addresses = int(sys.argv[1]), sys.argv[2].split(",")
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    def reply():
        while True:
            line = f.readline().decode()
            if line[3:4] != "-":
                return line.strip()
    def cmd(c):
        s.sendall((c + "\r\n").encode())
        return reply()
    reply()
    cmd("EHLO bench.test")
    cmd("MAIL FROM:<bench@elsewhere.test>")
    times, codes = [], {}
    for i, a in enumerate(addresses):
        if i and i % 50 == 0:
            cmd("RSET"); cmd("MAIL FROM:<bench@elsewhere.test>")
        t = time.perf_counter_ns()
        r = cmd("RCPT TO:<%s>" % a)
        times.append((time.perf_counter_ns() - t) / 1000)
        codes[r[:3]] = codes.get(r[:3], 0) + 1
    cmd("QUIT")
    # The first ten fit in a callahead's burst (10 new probes a second): their median is a probe's own cost.
    first = round(statistics.median(times[:10]))
    times.sort()
    print(json.dumps({"count": len(times), "first10_median_us": first, "median_us": round(statistics.median(times)),
                      "p90_us": round(times[int(len(times) * 0.9) - 1]), "replies": codes}))

main()
