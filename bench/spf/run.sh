#!/usr/bin/env bash
# What an SPF= rule costs the accept path: the same load against a proxy whose rules check every
# sender's SPF record and against one whose rules do not, alternating, with the records of
# thousands of sender domains answered by a Knot DNS server on loopback. Reports msgs/s, their
# ratio, DNS queries per message (counted by knotd), CPU per message. See README.md beside this
# file. Every connection goes to 127.0.0.0/8; every wait has a deadline.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# ---- knobs (environment; the shared ones are set by with_without_init) ----------------------
CONCURRENCY=${BENCH_CONCURRENCY:-"1 10 50"}
REPORT=${BENCH_REPORT:-$ROOT/out/bench-spf.md}

ZONE=bench.test
LOAD="$HERE/spf_load.py"
RULE_SPF='noto:ALL:SPF=fail:ALL:550 5.7.23 %F is not authorised'

# log, die, ensure_module, free_port, proc_ticks, server_root, median
. "$HERE/../lib.sh"
# with_without_init, start_knot, start_rules_proxy, compare_runs, report_head, report_table, write_report
. "$HERE/../with_without.sh"

with_without_init spf

LOAD_ARGS=(--addresses "$DISTINCT")

# One spooled message of the "with" proxy must carry the SPF verdict (RFC 7208 §9.1, RFC 8601):
# an accepted message the proxy did not check would make the comparison meaningless.
check_spf_fields() {
    local file
    file=$(find "$(spool_dir with)" -maxdepth 1 -name '*.msg' -print -quit)
    [ -n "$file" ] || die "the 'with' proxy spooled nothing"
    grep -q '^Received-SPF: pass' "$file" && grep -A1 '^Authentication-Results:' "$file" | grep -q 'spf=pass' \
        || { head -30 "$file" >&2; die "no Received-SPF: pass / Authentication-Results spf=pass in $file"; }
    ! grep -qi '^Received-SPF' "$(find "$(spool_dir without)" -maxdepth 1 -name '*.msg' -print -quit)" \
        || die "the 'without' proxy added Received-SPF"
    log "spool check: $(grep -m1 -A1 '^Authentication-Results:' "$file" | tr -d '\r' | tr '\n\t' '  ')"
}

# ---- main -----------------------------------------------------------------------------------------

python3 "$LOAD" zone "$ZONE" --blocks "$(blocks_needed)" --addresses "$DISTINCT" --ttl "$TTL" \
    > "$ZONES/$ZONE.zone"
start_knot "$ZONE"
log "$(grep -c ' TXT ' "$ZONES/$ZONE.zone") SPF records"
start_rules_proxy with "$RULE_SPF" "allow:ALL:ALL:ALL"
start_rules_proxy without "allow:ALL:ALL:ALL"
compare_runs
check_spf_fields

# ---- report -------------------------------------------------------------------------------------
{
    report_head "SPF accept benchmark"
    echo "$MSGS messages of $SIZE bytes per run, one per connection, each from its own sender domain and 127.x.y.z"
    echo "address; $(awk -v r="$REUSE" 'BEGIN { printf "%d", 100 * r }') % of them from a sender already seen in the same run (each at most twice), fresh domains per run."
    echo "Records: 60 % include a shared provider record, 10 % ip4, 20 % \`a mx\`; one sender in ten forged (SPF fail → 550)."
    echo "with: \`$RULE_SPF\`, \`allow:ALL:ALL:ALL\`; without: \`allow:ALL:ALL:ALL\`."
    report_table
} > "$WORK/report.md"
write_report "$REPORT"
