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

# ---- knobs (environment; the shared ones are set by with_without_init) ----------------------
CONCURRENCY=${BENCH_CONCURRENCY:-"10 50"}
EVERY=${BENCH_EVERY:-10}                  # each list lists one address in EVERY (10: 20 % refused)
REPORT=${BENCH_REPORT:-$ROOT/out/bench-dnsbl.md}

BL1=bl1.bench.test
BL2=bl2.bench.test
LOAD="$HERE/dnsbl_load.py"

# log, die, ensure_module, free_port, proc_ticks, server_root, median
. "$HERE/../lib.sh"
# with_without_init, start_knot, start_rules_proxy, compare_runs, report_head, report_table, write_report
. "$HERE/../with_without.sh"

with_without_init dnsbl

LOAD_ARGS=(--addresses "$DISTINCT" --every "$EVERY")

# ---- main -----------------------------------------------------------------------------------------

for zone in "$BL1:bl1" "$BL2:bl2"; do
    python3 "$LOAD" zone "${zone%%:*}" "${zone##*:}" --blocks "$(blocks_needed)" --addresses "$DISTINCT" \
        --ttl "$TTL" --every "$EVERY" > "$ZONES/${zone%%:*}.zone"
done
start_knot "$BL1" "$BL2"
log "$(grep -c ' A 127' "$ZONES/$BL1.zone") + $(grep -c ' A 127' "$ZONES/$BL2.zone") listings"
start_rules_proxy with "noto:RBL.$BL1:ALL:ALL" "deny:RBL.$BL2=127.0.0.[2..3]:ALL:ALL" "allow:ALL:ALL:ALL"
start_rules_proxy without "allow:ALL:ALL:ALL"
compare_runs

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
