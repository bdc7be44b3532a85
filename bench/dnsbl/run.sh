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

WORK=${BENCH_WORK:-$(mktemp -d -t smtpd-dnsbl-bench.XXXXXX)}
MOUNTS="" KNOT_PID="" DNS_PORT=""
declare -A PROXY_PID PROXY_PORT PROXY_LAUNCHER PROXY_FD

cleanup() {
    set +e
    for name in "${!PROXY_FD[@]}"; do exec {PROXY_FD[$name]}>&-; done   # EOF on stdin: the proxy stops
    for name in "${!PROXY_LAUNCHER[@]}"; do
        for _ in $(seq 1 100); do kill -0 "${PROXY_LAUNCHER[$name]}" 2>/dev/null || break; sleep 0.1; done
        kill "${PROXY_LAUNCHER[$name]}" 2>/dev/null
    done
    if [ -n "$KNOT_PID" ]; then
        kill "$KNOT_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$KNOT_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the DNS server: knotd with the two lists, mod-stats counting every query ---------------

# Blocks of addresses: one per warm-up and per measured run, so no run finds another's answers
# in the proxy's DNS cache.
set -- $CONCURRENCY
BLOCKS=$((2 + REPEAT * $# * 2))
ADDRESSES=$(python3 -c "print(max(1, round($MSGS * (1 - $REUSE))))")

start_knot() {
    command -v knotd >/dev/null || die "knotd is required (Debian: apt-get install knot knot-dnsutils)"
    command -v kdig >/dev/null || die "kdig is required (Debian: apt-get install knot-dnsutils)"
    local dir="$WORK/knot" attempt zone
    mkdir -p "$dir/zones" "$dir/db"
    for zone in "$BL1:bl1" "$BL2:bl2"; do
        python3 "$LOAD" zone "${zone%%:*}" "${zone##*:}" --blocks "$BLOCKS" --addresses "$ADDRESSES" \
            --ttl "$TTL" --every "$EVERY" > "$dir/zones/${zone%%:*}.zone"
    done
    for attempt in 1 2 3 4 5; do
        DNS_PORT=$(free_port)
        cat > "$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: [ 127.0.0.1@$DNS_PORT ]
    udp-workers: 2
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$dir/knot.sock"
log:
  - target: stdout
    any: notice
database:
    storage: "$dir/db"
mod-stats:
  - id: bench
    request-protocol: on
template:
  - id: default
    storage: "$dir/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    global-module: mod-stats/bench
zone:
  - domain: $BL1
  - domain: $BL2
EOF
        knotd -c "$dir/knot.conf" > "$dir/knotd.log" 2>&1 &
        KNOT_PID=$!
        local deadline=$((SECONDS + 30)) ok=0
        while [ $SECONDS -lt $deadline ] && kill -0 "$KNOT_PID" 2>/dev/null; do
            if kdig +timeout=1 +retry=0 +short @127.0.0.1 -p "$DNS_PORT" "2.0.0.127.$BL1" A 2>/dev/null | grep -q 127.0.0.2 \
                && kdig +timeout=1 +retry=0 +short @127.0.0.1 -p "$DNS_PORT" "2.0.0.127.$BL2" A 2>/dev/null | grep -q 127.0.0.2; then
                ok=1; break
            fi
            sleep 0.1
        done
        [ "$ok" = 1 ] && { log "knotd pid $KNOT_PID on 127.0.0.1:$DNS_PORT, $(grep -c ' A 127' "$dir/zones/$BL1.zone") + $(grep -c ' A 127' "$dir/zones/$BL2.zone") records"; return; }
        kill "$KNOT_PID" 2>/dev/null; wait "$KNOT_PID" 2>/dev/null || true; KNOT_PID=""
        grep -q 'address already in use' "$dir/knotd.log" || { cat "$dir/knotd.log" >&2; die "knotd did not serve the zones within 30 s"; }
    done
    die "no free port for knotd"
}

# Every query knotd has received (UDP and TCP), from mod-stats.
knot_queries() {
    knotc -s "$WORK/knot/knot.sock" -t 5 stats mod-stats.request-protocol 2>/dev/null |
        awk -F' = ' '{ n += $2 } END { print n + 0 }'
}

# ---- the two proxies ----------------------------------------------------------------------------

# start_proxy NAME RULES...: one proxy in its own pwsh process, its spool on its own file system.
start_proxy() {
    local name=$1; shift
    server_root "$name"
    printf '%s\n' "$@" > "$WORK/$name.rules"
    mkfifo "$WORK/$name.stdin"
    (cd "$ROOT" && exec dotnet pwsh -NoProfile -NonInteractive -File "$HERE/proxy.ps1" -ModulePath "$MODULE" \
        -RulesPath "$WORK/$name.rules" -SpoolPath "$WORK/$name/spool" -DnsServer "127.0.0.1:$DNS_PORT") \
        < "$WORK/$name.stdin" > "$WORK/$name.out" 2>&1 &
    PROXY_LAUNCHER[$name]=$!
    local fd
    exec {fd}>"$WORK/$name.stdin"   # held open; closing it stops the proxy
    PROXY_FD[$name]=$fd
    local deadline=$((SECONDS + 90)) line=""
    while [ $SECONDS -lt $deadline ]; do
        line=$(grep -m1 '^{' "$WORK/$name.out" 2>/dev/null || true)
        [ -n "$line" ] && break
        kill -0 "${PROXY_LAUNCHER[$name]}" 2>/dev/null || { cat "$WORK/$name.out" >&2; die "proxy '$name' exited"; }
        sleep 0.2
    done
    [ -n "$line" ] || { cat "$WORK/$name.out" >&2; die "proxy '$name' was not ready within 90 s"; }
    PROXY_PORT[$name]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["port"])' "$line")
    PROXY_PID[$name]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "$line")
    log "proxy '$name' pid ${PROXY_PID[$name]} on 127.0.0.1:${PROXY_PORT[$name]}: $line"
}

spooled() { find "$WORK/$1/spool/ready" -maxdepth 1 -name '*.msg' 2>/dev/null | wc -l; }

# measure NAME BLOCK SESSIONS MESSAGES → "seconds done accepted refused queries questions
#   proxy_ticks knot_ticks client_cpu_ms median_ms p90_ms"
measure() {
    local name=$1 block=$2 s=$3 m=$4 expect=none out rc=0
    [ "$name" = dnsbl ] && expect=dnsbl
    local spool0 q0 p0 k0 spool1 q1 p1 k1
    spool0=$(spooled "$name"); q0=$(knot_queries); p0=$(proc_ticks "${PROXY_PID[$name]}"); k0=$(proc_ticks "$KNOT_PID")
    out=$(timeout "$CASE_TIMEOUT" python3 "$LOAD" send --port "${PROXY_PORT[$name]}" --block "$block" \
        --addresses "$ADDRESSES" --messages "$m" --concurrency "$s" --size "$SIZE" --reuse "$REUSE" \
        --every "$EVERY" --expect "$expect") || rc=$?
    p1=$(proc_ticks "${PROXY_PID[$name]}"); k1=$(proc_ticks "$KNOT_PID"); q1=$(knot_queries); spool1=$(spooled "$name")
    [ "$rc" = 0 ] || die "load against '$name' (block $block, $s sessions) failed (exit $rc): $out"
    python3 - "$out" "$((spool1 - spool0))" "$((q1 - q0))" "$((p1 - p0))" "$((k1 - k0))" <<'EOF' || exit 1
import json, sys
r = json.loads(sys.argv[1]); spooled, queries, pt, kt = map(int, sys.argv[2:6])
if spooled != r["accepted"]:
    sys.exit("[bench] error: %d accepted but %d spooled" % (r["accepted"], spooled))
print(r["seconds"], r["accepted"] + r["refused"], r["accepted"], r["refused"], queries, r["dnsbl_questions"],
      pt, kt, r["client_cpu_ms"], r["median_ms"], r["p90_ms"])
EOF
}

# ---- main -----------------------------------------------------------------------------------------

command -v python3 >/dev/null 2>&1 || die "python3 is required"
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || die "need at least 4096 open files (ulimit -n)"
ensure_module
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_knot
start_proxy dnsbl "noto:RBL.$BL1:ALL:ALL" "deny:RBL.$BL2=127.0.0.[2..3]:ALL:ALL" "allow:ALL:ALL:ALL"
start_proxy plain "allow:ALL:ALL:ALL"

[ "$WARMUP" -le "$MSGS" ] || WARMUP=$MSGS
log "warm-up (not measured): $WARMUP messages at 10 sessions to each proxy"
measure dnsbl 0 10 "$WARMUP" >/dev/null || exit 1
measure plain 1 10 "$WARMUP" >/dev/null || exit 1

TICK=$(getconf CLK_TCK)
BLOCK=2
declare -A ROWS
for s in $CONCURRENCY; do
    declare -A R=()
    for r in $(seq 1 "$REPEAT"); do
        # Alternate who goes first: the machine may be shared and load drifts.
        if [ $((r % 2)) = 1 ]; then order="dnsbl plain"; else order="plain dnsbl"; fi
        for name in $order; do
            out=$(measure "$name" "$BLOCK" "$s" "$MSGS") || exit 1
            read -r secs done acc ref queries questions pt kt ccpu med p90 <<<"$out"
            BLOCK=$((BLOCK + 1))
            rate=$(awk -v d="$done" -v t="$secs" 'BEGIN { printf "%.1f", d / t }')
            R[$name.rate]+=" $rate"
            R[$name.qpm]+=" $(awk -v q="$queries" -v d="$done" 'BEGIN { printf "%.3f", q / d }')"
            R[$name.cache]+=" $(awk -v q="$queries" -v a="$questions" 'BEGIN { printf "%.1f", a ? 100 * (1 - q / a) : 0 }')"
            R[$name.cpu]+=" $(awk -v t="$pt" -v k="$TICK" -v d="$done" 'BEGIN { printf "%.3f", t / k * 1000 / d }')"
            R[$name.kcpu]+=" $(awk -v t="$kt" -v k="$TICK" -v d="$done" 'BEGIN { printf "%.3f", t / k * 1000 / d }')"
            R[$name.ccpu]+=" $(awk -v c="$ccpu" -v d="$done" 'BEGIN { printf "%.3f", c / d }')"
            R[$name.med]+=" $med"
            R[$name.p90]+=" $p90"
            R[$name.split]="$acc/$ref"
            log "$(printf '%-5s' "$name") s=$s run $r: $done msgs ($acc accepted, $ref refused) in ${secs}s = $rate msgs/s, $queries DNS queries for $questions DNSBL questions"
        done
    done
    for k in "${!R[@]}"; do
        case $k in *.split) ROWS[$s.$k]=${R[$k]} ;; *.qpm|*.cpu|*.kcpu|*.ccpu) ROWS[$s.$k]=$(echo "${R[$k]}" | median %.2f) ;; *) ROWS[$s.$k]=$(echo "${R[$k]}" | median) ;; esac
    done
    ROWS[$s.dnsbl.rates]=${R[dnsbl.rate]}
    ROWS[$s.plain.rates]=${R[plain.rate]}
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------
{
    echo "# DNSBL accept benchmark"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), .NET SDK $(dotnet --version 2>/dev/null), $(knotd --version 2>/dev/null | head -1);"
    echo "spools on: $( [ "$FS" = ext4 ] && echo "a fresh journaled ext4 loop image per proxy" || echo "the temp directory's file system" )."
    echo "Load average at start $LOAD_START, at end $LOAD_END (the machine may be shared)."
    echo
    echo "$MSGS messages of $SIZE bytes per run, one per connection, each from a 127.x.y.z address; $(awk -v r="$REUSE" 'BEGIN { printf "%d", 100 * r }') % of"
    echo "them from an address already used in the same run (each at most twice), a fresh address block per run;"
    echo "one address in $EVERY listed by each kind (bl1 → noto, bl2 → deny, bl2 outside the filter → accepted)."
    echo "with: \`noto:RBL.$BL1:ALL:ALL\`, \`deny:RBL.$BL2=127.0.0.[2..3]:ALL:ALL\`, \`allow:ALL:ALL:ALL\`; without: \`allow:ALL:ALL:ALL\`."
    echo "Median of $REPEAT runs per case, the two proxies alternating."
    echo
    echo "| sessions | without msgs/s | with msgs/s | ratio with/without | DNS queries/msg (with) | DNSBL questions answered by the cache | proxy CPU ms/msg without / with | knotd CPU ms/msg | median ms without / with | p90 ms without / with | with: accepted/refused (last run) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in $CONCURRENCY; do
        ratio=$(awk -v a="${ROWS[$s.dnsbl.rate]}" -v b="${ROWS[$s.plain.rate]}" 'BEGIN { printf "%.2f", a / b }')
        echo "| $s | ${ROWS[$s.plain.rate]} | ${ROWS[$s.dnsbl.rate]} | **$ratio** | ${ROWS[$s.dnsbl.qpm]} | ${ROWS[$s.dnsbl.cache]} % | ${ROWS[$s.plain.cpu]} / ${ROWS[$s.dnsbl.cpu]} | ${ROWS[$s.dnsbl.kcpu]} | ${ROWS[$s.plain.med]} / ${ROWS[$s.dnsbl.med]} | ${ROWS[$s.plain.p90]} / ${ROWS[$s.dnsbl.p90]} | ${ROWS[$s.dnsbl.split]} |"
    done
    echo
    echo "Every run, msgs/s: $(for s in $CONCURRENCY; do printf '%s sessions: without%s, with%s; ' "$s" "${ROWS[$s.plain.rates]}" "${ROWS[$s.dnsbl.rates]}"; done)"
    echo "DNS queries per message without DNSBLs (a check, should be 0): $(for s in $CONCURRENCY; do printf '%s ' "${ROWS[$s.plain.qpm]}"; done)."
    echo "Load generator CPU ms/msg (python, without / with): $(for s in $CONCURRENCY; do printf '%s sessions %s / %s; ' "$s" "${ROWS[$s.plain.ccpu]}" "${ROWS[$s.dnsbl.ccpu]}"; done)"
} > "$WORK/report.md"

mkdir -p "$(dirname "$REPORT")"
cp "$WORK/report.md" "$REPORT"
echo
cat "$WORK/report.md"
echo
log "written to ${REPORT#"$ROOT"/}"
