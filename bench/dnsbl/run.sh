#!/usr/bin/env bash
# What two DNSBLs in the rules cost the accept path: the same load against a proxy whose rules
# ask two block lists for every client and against one that asks none, alternating, with the
# lists answered by a Knot DNS server on loopback. Reports msgs/s, their ratio, DNS queries per
# message (counted by knotd), CPU per message. See README.md beside this file. Every connection
# goes to 127.0.0.0/8; every wait has a deadline.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# ---- knobs (environment) -------------------------------------------------------------------
MSGS=${BENCH_MSGS:-2000}                  # messages per run
CONCURRENCY=${BENCH_CONCURRENCY:-"10 50"}
REPEAT=${BENCH_REPEAT:-3}                 # runs per case and configuration; the median is reported
SIZE=${BENCH_SIZE:-1024}                  # message size in bytes
REUSE=${BENCH_REUSE:-0.2}                 # share of messages from an address already used in the run
EVERY=${BENCH_EVERY:-10}                  # each list lists one address in EVERY (10: 20 % refused)
TTL=${BENCH_TTL:-300}                     # the zones' TTL and negative TTL
WARMUP=${BENCH_WARMUP:-1000}              # messages per proxy before measuring (at most BENCH_MSGS)
CASE_TIMEOUT=${BENCH_CASE_TIMEOUT:-300}   # seconds one run may take
if [ "$(id -u)" = 0 ]; then FS=${BENCH_FS:-ext4}; else FS=${BENCH_FS:-tmp}; fi
FS_SIZE=${BENCH_FS_SIZE:-2G}
BUILD=${BENCH_BUILD:-1}                   # 0: use out/SmtpdModule as it is
REPORT=${BENCH_REPORT:-$ROOT/out/bench-dnsbl.md}

MODULE="$ROOT/out/SmtpdModule"
BL1=bl1.bench.test
BL2=bl2.bench.test
LOAD="$HERE/dnsbl_load.py"

# log, die, ensure_module, free_port, proc_ticks, server_root, median
. "$HERE/../lib.sh"
# start_knot, start_rules_proxy, compare_runs, report_head, report_table, write_report
. "$HERE/../with_without.sh"

WORK=${BENCH_WORK:-$(mktemp -d -t smtpd-dnsbl-bench.XXXXXX)}
MOUNTS=""

cleanup() {
    set +e
    stop_with_without
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ADDRESSES=$(python3 -c "print(max(1, round($MSGS * (1 - $REUSE))))")
LOAD_ARGS=(--addresses "$ADDRESSES" --every "$EVERY")

# ---- main -----------------------------------------------------------------------------------------

command -v python3 >/dev/null 2>&1 || die "python3 is required"
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || die "need at least 4096 open files (ulimit -n)"
ensure_module
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$WORK/knot/zones"
for zone in "$BL1:bl1" "$BL2:bl2"; do
    python3 "$LOAD" zone "${zone%%:*}" "${zone##*:}" --blocks "$(blocks_needed)" --addresses "$ADDRESSES" \
        --ttl "$TTL" --every "$EVERY" > "$WORK/knot/zones/${zone%%:*}.zone"
done
start_knot "$BL1" "$BL2"
log "$(grep -c ' A 127' "$WORK/knot/zones/$BL1.zone") + $(grep -c ' A 127' "$WORK/knot/zones/$BL2.zone") listings"
start_rules_proxy with "noto:RBL.$BL1:ALL:ALL" "deny:RBL.$BL2=127.0.0.[2..3]:ALL:ALL" "allow:ALL:ALL:ALL"
start_rules_proxy without "allow:ALL:ALL:ALL"
compare_runs
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------
{
    report_head "DNSBL accept benchmark"
    echo "$MSGS messages of $SIZE bytes per run, one per connection, each from a 127.x.y.z address; $(awk -v r="$REUSE" 'BEGIN { printf "%d", 100 * r }') % of"
    echo "them from an address already used in the same run (each at most twice), a fresh address block per run;"
    echo "one address in $EVERY listed by each kind (bl1 → noto, bl2 → deny, bl2 outside the filter → accepted)."
    echo "with: \`noto:RBL.$BL1:ALL:ALL\`, \`deny:RBL.$BL2=127.0.0.[2..3]:ALL:ALL\`, \`allow:ALL:ALL:ALL\`; without: \`allow:ALL:ALL:ALL\`."
    report_table
} > "$WORK/report.md"
write_report "$REPORT"
