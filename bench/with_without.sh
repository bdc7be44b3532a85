# The proxy against itself: the same load against a proxy whose rules ask a loopback DNS server
# ("with") and one whose rules do not ("without"), the two taking turns. Shared by bench/dnsbl,
# bench/spf and bench/checks; source it after bench/lib.sh (log, die, ensure_module, free_port,
# proc_ticks, server_root, median), set ROOT and CONCURRENCY, call with_without_init, and before
# compare_runs set:
#   LOAD        the generator (a python script whose command line is bench/smtpload.py's)
#   LOAD_ARGS   array: the generator's own `send` options (may be empty)
#   CELLS       optional: the cases, "SESSIONS:BYTES:MESSAGES" each; by default every
#               CONCURRENCY at SIZE and MSGS
# start_knot sets KNOT_PID and DNS_PORT; start_rules_proxy fills PROXY_PID, PROXY_PORT;
# compare_runs fills ROWS; the EXIT trap undoes all of it.
# Every connection goes to 127.0.0.0/8; every wait has a deadline.

KNOT_PID="" DNS_PORT="" MOUNTS=""
declare -A PROXY_PID PROXY_PORT PROXY_LAUNCHER PROXY_FD ROWS

# with_without_init NAME: the knobs the READMEs list (environment), the work directory, the traps,
# the module (built unless BENCH_BUILD=0); notes the load average (LOAD_START).
with_without_init() {
    command -v python3 >/dev/null 2>&1 || die "python3 is required"
    MSGS=${BENCH_MSGS:-2000}                  # messages per run
    REPEAT=${BENCH_REPEAT:-3}                 # runs per case and configuration; the median is reported
    SIZE=${BENCH_SIZE:-1024}                  # message size in bytes
    REUSE=${BENCH_REUSE:-0.2}                 # share of messages from a client already seen in the run
    TTL=${BENCH_TTL:-300}                     # the zones' TTL and negative TTL
    WARMUP=${BENCH_WARMUP:-6000}              # messages per proxy before measuring, in rounds of at
                                              # most BENCH_MSGS over the same senders: the runtime
                                              # compiles the hot path again, optimized, over the
                                              # first few thousand (bench/smtp/README.md)
    WARMUP_ROUND=$WARMUP
    [ "$WARMUP_ROUND" -le "$MSGS" ] || WARMUP_ROUND=$MSGS
    CASE_TIMEOUT=${BENCH_CASE_TIMEOUT:-300}   # seconds one run may take
    if [ "$(id -u)" = 0 ]; then FS=${BENCH_FS:-ext4}; else FS=${BENCH_FS:-tmp}; fi
    FS_SIZE=${BENCH_FS_SIZE:-2G}
    BUILD=${BENCH_BUILD:-1}                   # 0: use out/SmtpdModule as it is
    MODULE="$ROOT/out/SmtpdModule"
    DISTINCT=$(python3 -c "print(max(1, round($MSGS * (1 - $REUSE))))")   # distinct clients per run
    WORK=${BENCH_WORK:-$(mktemp -d -t "smtpd-$1-bench.XXXXXX")}
    ZONES="$WORK/knot/zones"                  # start_knot serves ZONES/<zone>.zone
    mkdir -p "$ZONES"
    trap with_without_cleanup EXIT
    trap 'exit 130' INT TERM
    [ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || die "need at least 4096 open files (ulimit -n)"
    ensure_module
    LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
}

with_without_cleanup() {
    set +e
    local name m
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

# ---- the DNS server: knotd, mod-stats counting every query --------------------------------------

# start_knot ZONE...: serves $ZONES/ZONE.zone (written by the caller) for each ZONE on a
# free port of 127.0.0.1; ready once every zone answers its SOA.
start_knot() {
    command -v knotd >/dev/null || die "knotd is required (Debian: apt-get install knot knot-dnsutils)"
    command -v kdig >/dev/null || die "kdig is required (Debian: apt-get install knot-dnsutils)"
    local dir="$WORK/knot" attempt zone
    mkdir -p "$dir/db"
    for attempt in 1 2 3 4 5; do
        DNS_PORT=$(free_port)
        {
            cat <<EOF
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
EOF
            for zone in "$@"; do echo "  - domain: $zone"; done
        } > "$dir/knot.conf"
        knotd -c "$dir/knot.conf" > "$dir/knotd.log" 2>&1 &
        KNOT_PID=$!
        local deadline=$((SECONDS + 60)) ok=0
        while [ $SECONDS -lt $deadline ] && kill -0 "$KNOT_PID" 2>/dev/null; do
            ok=1
            for zone in "$@"; do
                kdig +timeout=1 +retry=0 +short @127.0.0.1 -p "$DNS_PORT" "$zone" SOA 2>/dev/null | grep -q . || { ok=0; break; }
            done
            [ "$ok" = 1 ] && break
            sleep 0.1
        done
        [ "$ok" = 1 ] && { log "knotd pid $KNOT_PID on 127.0.0.1:$DNS_PORT serving $*"; return; }
        kill "$KNOT_PID" 2>/dev/null; wait "$KNOT_PID" 2>/dev/null || true; KNOT_PID=""
        grep -q 'address already in use' "$dir/knotd.log" || { cat "$dir/knotd.log" >&2; die "knotd did not serve the zones within 60 s"; }
    done
    die "no free port for knotd"
}

# Every query knotd has received (UDP and TCP), from mod-stats.
knot_queries() {
    knotc -s "$WORK/knot/knot.sock" -t 5 stats mod-stats.request-protocol 2>/dev/null |
        awk -F' = ' '{ n += $2 } END { print n + 0 }'
}

# ---- the proxies ----------------------------------------------------------------------------------

# start_rules_proxy NAME RULES...: one proxy (bench/rules_proxy.ps1) in its own pwsh process, its
# spool on its own file system, asking knotd; PROXY_OPTIONS (optional, a JSON object) adds
# parameters of Start-SmtpdProxy. Started again after stop_rules_proxy NAME, it keeps the spool
# (and the state store in it) and starts with nothing else: a new process, an empty DNS cache.
start_rules_proxy() {
    local name=$1; shift
    [ -d "$WORK/$name" ] || server_root "$name"
    printf '%s\n' "$@" > "$WORK/$name.rules"
    rm -f "$WORK/$name.stdin"
    mkfifo "$WORK/$name.stdin"
    (cd "$ROOT" && exec dotnet pwsh -NoProfile -NonInteractive -File "$ROOT/bench/rules_proxy.ps1" -ModulePath "$MODULE" \
        -RulesPath "$WORK/$name.rules" -SpoolPath "$WORK/$name/spool" -DnsServer "127.0.0.1:$DNS_PORT" \
        -ProxyOptions "${PROXY_OPTIONS:-{\}}") \
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

# stop_rules_proxy NAME: closes the proxy's standard input and waits (60 s at most) until its
# process has stopped the proxy and exited; its output stays in $WORK/NAME.out.
stop_rules_proxy() {
    local name=$1 deadline=$((SECONDS + 60))
    exec {PROXY_FD[$name]}>&-
    unset "PROXY_FD[$name]"
    while kill -0 "${PROXY_LAUNCHER[$name]}" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { cat "$WORK/$name.out" >&2; die "proxy '$name' did not stop within 60 s"; }
        sleep 0.1
    done
    unset "PROXY_LAUNCHER[$name]" "PROXY_PID[$name]" "PROXY_PORT[$name]"
    log "proxy '$name' stopped"
}

# proxy_stats NAME: the JSON line rules_proxy.ps1 prints for "stats" (rule hits, greylist entries).
proxy_stats() {
    local name=$1 before deadline=$((SECONDS + 60)) line
    before=$(grep -c '^{' "$WORK/$name.out" || true)
    echo stats >&"${PROXY_FD[$name]}"
    while [ $SECONDS -lt $deadline ]; do
        line=$(grep '^{' "$WORK/$name.out" | sed -n "$((before + 1))p")
        [ -n "$line" ] && { echo "$line"; return; }
        kill -0 "${PROXY_LAUNCHER[$name]}" 2>/dev/null || break
        sleep 0.2
    done
    cat "$WORK/$name.out" >&2
    die "proxy '$name' printed no stats within 60 s"
}

spool_dir() { echo "$WORK/$1/spool/ready"; }
spooled() { find "$(spool_dir "$1")" -maxdepth 1 -name '*.msg' 2>/dev/null | wc -l; }

# measure NAME BLOCK SESSIONS MESSAGES [BYTES] → "seconds done accepted refused queries questions
#   proxy_ticks knot_ticks client_cpu_ms median_ms p90_ms"; the "with" proxy must refuse whom the
#   generator's plan says, the "without" proxy nobody.
measure() {
    local name=$1 block=$2 s=$3 m=$4 size=${5:-$SIZE} expect=none out rc=0
    [ "$name" = with ] && expect=rules
    local spool0 q0 p0 k0 spool1 q1 p1 k1
    spool0=$(spooled "$name"); q0=$(knot_queries); p0=$(proc_ticks "${PROXY_PID[$name]}"); k0=$(proc_ticks "$KNOT_PID")
    out=$(timeout "$CASE_TIMEOUT" python3 "$LOAD" send --port "${PROXY_PORT[$name]}" --block "$block" \
        --messages "$m" --concurrency "$s" --size "$size" --reuse "$REUSE" --expect "$expect" \
        ${LOAD_ARGS[@]+"${LOAD_ARGS[@]}"}) || rc=$?
    p1=$(proc_ticks "${PROXY_PID[$name]}"); k1=$(proc_ticks "$KNOT_PID"); q1=$(knot_queries); spool1=$(spooled "$name")
    [ "$rc" = 0 ] || die "load against '$name' (block $block, $s sessions) failed (exit $rc): $out"
    python3 - "$out" "$((spool1 - spool0))" "$((q1 - q0))" "$((p1 - p0))" "$((k1 - k0))" <<'EOF' || exit 1
import json, sys
r = json.loads(sys.argv[1]); spooled, queries, pt, kt = map(int, sys.argv[2:6])
if spooled != r["accepted"]:
    sys.exit("[bench] error: %d accepted but %d spooled" % (r["accepted"], spooled))
print(r["seconds"], r["accepted"] + r["refused"], r["accepted"], r["refused"], queries, r["questions"],
      pt, kt, r["client_cpu_ms"], r["median_ms"], r["p90_ms"])
EOF
}

# ---- the alternation ------------------------------------------------------------------------------

# The cases: CELLS, or every CONCURRENCY at SIZE and MSGS ("SESSIONS:BYTES:MESSAGES" each).
cells() {
    if [ -n "${CELLS:-}" ]; then echo "$CELLS"; return; fi
    local s
    for s in $CONCURRENCY; do printf '%s:%s:%s ' "$s" "$SIZE" "$MSGS"; done
}

# cell_label CELL: its sessions, and its size when it is not SIZE.
cell_label() {
    local s size m
    IFS=: read -r s size m <<<"$1"
    if [ "$size" = "$SIZE" ]; then echo "$s"
    else echo "$s ($(awk -v b="$size" 'BEGIN { printf (b % 1024) ? "%d bytes" : "%d KiB", (b % 1024) ? b : b / 1024 }'))"; fi
}

# How many senders' blocks compare_runs uses: one per warm-up and per measured run, so no run
# finds another's answers in the proxy's DNS cache.
blocks_needed() { set -- $(cells); echo $((2 + REPEAT * $# * 2)); }

# run_block C R NAME: the block of proxy NAME's run R (1..REPEAT) of cell C (0-based): the warm-ups
# have 0 (with) and 1 (without), then the runs in the order compare_runs makes them.
run_block() {
    local second=1
    if [ $(($2 % 2)) = 1 ]; then [ "$3" = with ] && second=0; else [ "$3" = without ] && second=0; fi
    echo $((2 + 2 * ($1 * REPEAT + $2 - 1) + second))
}

# with_blocks: "BLOCK:MESSAGES" of every run the "with" proxy gets, its warm-up first (for a
# benchmark that must prepare state for exactly those senders, as bench/checks' greylisting).
with_blocks() {
    local cell c=0 r s size m
    echo "0:$WARMUP_ROUND"
    for cell in $(cells); do
        IFS=: read -r s size m <<<"$cell"
        for r in $(seq 1 "$REPEAT"); do echo "$(run_block "$c" "$r" with):$m"; done
        c=$((c + 1))
    done
}

# compare_runs: warm-up of each proxy (blocks 0 and 1), then for each cell REPEAT runs per
# proxy, alternating who goes first (the machine may be shared and load drifts). Fills ROWS with
# the medians: ROWS[<cell>.<with|without>.<rate|qpm|cache|cpu|kcpu|ccpu|med|p90>], the
# split of the last run (.split) and every run's rate (.rates); notes the load average (LOAD_END).
compare_runs() {
    log "warm-up (not measured): $WARMUP messages at 10 sessions to each proxy, in rounds of $WARMUP_ROUND"
    local left=$WARMUP n
    while [ "$left" -gt 0 ]; do
        n=$((left < WARMUP_ROUND ? left : WARMUP_ROUND))
        measure with 0 10 "$n" >/dev/null || exit 1
        measure without 1 10 "$n" >/dev/null || exit 1
        left=$((left - n))
    done
    local tick block c=0 cell s size m r name order out rate k
    local secs done acc ref queries questions pt kt ccpu med p90
    local -A R
    tick=$(getconf CLK_TCK)
    for cell in $(cells); do
        IFS=: read -r s size m <<<"$cell"
        R=()
        for r in $(seq 1 "$REPEAT"); do
            if [ $((r % 2)) = 1 ]; then order="with without"; else order="without with"; fi
            for name in $order; do
                block=$(run_block "$c" "$r" "$name")
                out=$(measure "$name" "$block" "$s" "$m" "$size") || exit 1
                read -r secs done acc ref queries questions pt kt ccpu med p90 <<<"$out"
                rate=$(awk -v d="$done" -v t="$secs" 'BEGIN { printf "%.1f", d / t }')
                R[$name.rate]+=" $rate"
                R[$name.qpm]+=" $(awk -v q="$queries" -v d="$done" 'BEGIN { printf "%.3f", q / d }')"
                R[$name.cache]+=" $(awk -v q="$queries" -v a="$questions" 'BEGIN { printf "%.1f", a ? 100 * (1 - q / a) : 0 }')"
                R[$name.cpu]+=" $(awk -v t="$pt" -v k="$tick" -v d="$done" 'BEGIN { printf "%.3f", t / k * 1000 / d }')"
                R[$name.kcpu]+=" $(awk -v t="$kt" -v k="$tick" -v d="$done" 'BEGIN { printf "%.3f", t / k * 1000 / d }')"
                R[$name.ccpu]+=" $(awk -v c="$ccpu" -v d="$done" 'BEGIN { printf "%.3f", c / d }')"
                R[$name.med]+=" $med"
                R[$name.p90]+=" $p90"
                R[$name.split]="$acc/$ref"
                log "$(printf '%-7s' "$name") $(cell_label "$cell") run $r (block $block): $done msgs ($acc accepted, $ref refused) in ${secs}s = $rate msgs/s, $queries DNS queries for $questions questions"
            done
        done
        for k in "${!R[@]}"; do
            case $k in
                *.split) ROWS[$cell.$k]=${R[$k]} ;;
                *.qpm|*.cpu|*.kcpu|*.ccpu) ROWS[$cell.$k]=$(echo "${R[$k]}" | median %.2f) ;;
                *) ROWS[$cell.$k]=$(echo "${R[$k]}" | median) ;;
            esac
        done
        ROWS[$cell.with.rates]=${R[with.rate]}
        ROWS[$cell.without.rates]=${R[without.rate]}
        c=$((c + 1))
    done
    LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
}

# ---- the report -----------------------------------------------------------------------------------

# report_head TITLE: the title and the machine.
report_head() {
    echo "# $1"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), .NET SDK $(dotnet --version 2>/dev/null), $(knotd --version 2>/dev/null | head -1);"
    echo "spools on: $( [ "$FS" = ext4 ] && echo "a fresh journaled ext4 loop image per proxy" || echo "the temp directory's file system" )."
    echo "Load average at start $LOAD_START, at end $LOAD_END (the machine may be shared)."
    echo
}

# report_table: the medians of compare_runs, one row per cell, and every run's rate.
report_table() {
    local c ratio
    echo "Median of $REPEAT runs per case, the two proxies alternating."
    echo
    echo "| sessions | without msgs/s | with msgs/s | ratio with/without | DNS queries/msg (with) | DNS questions answered by the cache | proxy CPU ms/msg without / with | knotd CPU ms/msg | median ms without / with | p90 ms without / with | with: accepted/refused (last run) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for c in $(cells); do
        ratio=$(ratio_cell "${ROWS[$c.with.rate]}" "${ROWS[$c.without.rate]}")
        echo "| $(cell_label "$c") | ${ROWS[$c.without.rate]} | ${ROWS[$c.with.rate]} | $ratio | ${ROWS[$c.with.qpm]} | ${ROWS[$c.with.cache]} % | ${ROWS[$c.without.cpu]} / ${ROWS[$c.with.cpu]} | ${ROWS[$c.with.kcpu]} | ${ROWS[$c.without.med]} / ${ROWS[$c.with.med]} | ${ROWS[$c.without.p90]} / ${ROWS[$c.with.p90]} | ${ROWS[$c.with.split]} |"
    done
    echo
    echo "Every run, msgs/s: $(for c in $(cells); do printf '%s sessions: without%s, with%s; ' "$(cell_label "$c")" "${ROWS[$c.without.rates]}" "${ROWS[$c.with.rates]}"; done)"
    echo "DNS queries per message without (a check, should be 0): $(for c in $(cells); do printf '%s ' "${ROWS[$c.without.qpm]}"; done)."
    echo "Load generator CPU ms/msg (python, without / with): $(for c in $(cells); do printf '%s sessions %s / %s; ' "$(cell_label "$c")" "${ROWS[$c.without.ccpu]}" "${ROWS[$c.with.ccpu]}"; done)"
}

# write_report FILE: $WORK/report.md to FILE, and printed.
write_report() {
    mkdir -p "$(dirname "$1")"
    cp "$WORK/report.md" "$1"
    echo
    cat "$WORK/report.md"
    echo
    log "written to ${1#"$ROOT"/}"
}
