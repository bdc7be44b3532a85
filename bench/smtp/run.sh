#!/usr/bin/env bash
# SMTP receive benchmark: messages accepted per second, to a durable queue, by our proxy
# (Start-SmtpdProxy) and by Postfix as the reference, both driven by Postfix's smtp-source on
# loopback in the same run; plus the proxy's memory per idle session. See README.md beside this
# file. Every connection goes to 127.0.0.1; every wait has a deadline.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# ---- knobs (environment) -------------------------------------------------------------------
MSGS_1K=${BENCH_MSGS_1K:-2000}            # messages per 1 KiB case
MSGS_100K=${BENCH_MSGS_100K:-500}         # messages per 100 KiB case
CONCURRENCY=${BENCH_CONCURRENCY:-"1 10 50"}
SIZES=${BENCH_SIZES:-"1024 102400"}
REPEAT=${BENCH_REPEAT:-3}                 # runs per case and server; the median is reported
IDLE_SESSIONS=${BENCH_IDLE_SESSIONS:-1000}
CASE_TIMEOUT=${BENCH_CASE_TIMEOUT:-300}   # seconds one smtp-source run may take
PROFILE=${BENCH_PROFILE:-0}               # 1: also strace -c the proxy for a short run
PHASE_MSGS=${BENCH_PHASE_MSGS:-300}       # messages for the step-by-step timing (0: skip)
FS=${BENCH_FS:-ext4}                      # ext4: a fresh journaled ext4 loop image per server
                                          # (root only); tmp: the temp directory's file system
FS_SIZE=${BENCH_FS_SIZE:-4G}              # size of each loop image (sparse)
BUILD=${BENCH_BUILD:-1}                   # 0: use out/SmtpdModule as it is
REPORT=${BENCH_REPORT:-$ROOT/out/bench-smtp.md}
PROXY_ENV=${BENCH_PROXY_ENV:-}            # NAME=VALUE ... for the proxy's process, e.g. a runtime knob
SINK=${BENCH_SINK:-1}                     # 1: also smtp-sink, which stores nothing: the machine's ceiling
WARMUP=${BENCH_WARMUP:-6000}              # 1 KiB messages at 10 sessions to each server first; the
                                          # runtime compiles the hot path again, optimized, over
                                          # the first few thousand (see README.md)

MODULE="$ROOT/out/SmtpdModule"

# log, die, ensure_postfix, ensure_module, free_port, wait_listener, rss_kib, proc_ticks,
# postfix_ticks, cpu_sample, server_root, start_postfix, pf_queue_files, pf_deferred,
# pf_delivered, pf_wait_drained, start_sink, sink_count, ratio_cell, median
. "$HERE/../lib.sh"

# ---- work area ---------------------------------------------------------------------------------

WORK=$(mktemp -d -t smtpd-bench.XXXXXX)
chmod 755 "$WORK"   # the Postfix daemons run as 'postfix' and must reach their queue below
OURS_PID="" OURS_LAUNCHER="" POSTFIX_CONF="" IDLE_PID="" MOUNTS="" SINK_PID=""
# Each server's queue is on a fresh journaled ext4 loop image unless BENCH_FS=tmp: see
# server_root in bench/lib.sh.

cleanup() {
    set +e
    [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    if [ -n "$OURS_PID" ]; then kill "$OURS_PID" 2>/dev/null; fi
    if [ -n "$OURS_LAUNCHER" ]; then
        for _ in $(seq 1 50); do kill -0 "$OURS_LAUNCHER" 2>/dev/null || break; sleep 0.1; done
        kill "$OURS_LAUNCHER" 2>/dev/null
    fi
    [ -n "$POSTFIX_CONF" ] && postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1
    # The Postfix master exits a moment after 'stop'; wait for it before removing its queue.
    for _ in $(seq 1 50); do [ -n "${PF_MASTER:-}" ] && kill -0 "$PF_MASTER" 2>/dev/null || break; sleep 0.1; done
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- our proxy ---------------------------------------------------------------------------------

start_ours() {
    OURS_PORT=$(free_port)
    server_root ours
    mkdir -p "$WORK/ours/control"
    printf 'allow:ALL:ALL:ALL\n' > "$WORK/ours/rules"
    log "starting Start-SmtpdProxy on 127.0.0.1:$OURS_PORT"
    # shellcheck disable=SC2086 # PROXY_ENV is a list of NAME=VALUE words
    (cd "$ROOT" && exec env $PROXY_ENV dotnet pwsh -NoProfile -NonInteractive -File "$HERE/proxy.ps1" \
        -ModulePath "$MODULE" -Port "$OURS_PORT" -RulesPath "$WORK/ours/rules" \
        -SpoolPath "$WORK/ours/spool" -ControlDirectory "$WORK/ours/control") \
        > "$WORK/ours/stdout.log" 2>&1 &
    OURS_LAUNCHER=$!
    OURS_PID=$(wait_listener "$OURS_PORT" 60) || { cat "$WORK/ours/stdout.log" >&2; die "the proxy did not listen within 60 s"; }
    log "proxy pid $OURS_PID"
}

# Forces a full collection in the proxy; prints "live_bytes heap_bytes committed_bytes".
ours_gc() {
    rm -f "$WORK/ours/control/gc.out"
    touch "$WORK/ours/control/gc.req"
    local i
    for i in $(seq 1 100); do
        [ -f "$WORK/ours/control/gc.out" ] && { cat "$WORK/ours/control/gc.out"; return 0; }
        sleep 0.1
    done
    echo "? ? ?"
}

# Committed mail stays in the spool for the whole run (no forwarder runs): deleting it between
# cases would only make the next case's file creations slower (see chattr +T above).
ours_spooled() { find "$WORK/ours/spool/ready" -maxdepth 1 -name '*.msg' 2>/dev/null | wc -l; }

# ---- one measurement ----------------------------------------------------------------------------

# run_source PORT SESSIONS MESSAGES SIZE → prints "seconds busy_jiffies total_jiffies"
run_source() {
    local port=$1 s=$2 m=$3 l=$4 t0 t1 c0 c1 rc=0
    c0=$(cpu_sample)
    t0=$(date +%s%N)
    timeout "$CASE_TIMEOUT" smtp-source -4 -s "$s" -m "$m" -l "$l" -r 1 \
        -M bench-client.invalid -f sender@bench-client.invalid -t rcpt@example.test \
        "127.0.0.1:$port" >"$WORK/source.log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    c1=$(cpu_sample)
    if [ "$rc" != 0 ]; then
        cat "$WORK/source.log" >&2
        die "smtp-source -s $s -m $m -l $l against port $port failed (exit $rc)"
    fi
    awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" 'BEGIN {
        split(c0, a, " "); split(c1, b, " ");
        printf "%.3f %d %d\n", (t1 - t0) / 1e9, b[1] - a[1], b[2] - a[2] }'
}

# measure_counted WHO PID PORT COUNTER SESSIONS MESSAGES SIZE → "seconds busy total server_ticks":
# one smtp-source run against a server whose messages COUNTER counts, checked to have grown by
# exactly MESSAGES.
measure_counted() {
    local who=$1 pid=$2 port=$3 counter=$4 s=$5 m=$6 l=$7 before out p0 p1 n secs busy total
    before=$($counter)
    p0=$(proc_ticks "$pid")
    out=$(run_source "$port" "$s" "$m" "$l") || exit 1
    p1=$(proc_ticks "$pid")
    n=$(( $($counter) - before ))
    [ "$n" = "$m" ] || die "$who counted $n of $m messages"
    read -r secs busy total <<<"$out"
    echo "$secs $busy $total $((p1 - p0))"
}

measure_ours() { measure_counted "the proxy's spool" "$OURS_PID" "$OURS_PORT" ours_spooled "$@"; }

# smtp-sink answers every command at once and keeps nothing: what smtp-source and the kernel's
# loopback allow on this machine, the bound for any server in the same cell.
measure_sink() { measure_counted smtp-sink "$SINK_PID" "$SINK_PORT" sink_count "$@"; }

measure_postfix() {
    local s=$1 m=$2 l=$3 before out secs busy total p0 p1
    pf_wait_drained 120 || die "postfix queue did not drain"
    before=$(pf_delivered)
    p0=$(postfix_ticks "$PF_MASTER")
    out=$(run_source "$PF_PORT" "$s" "$m" "$l") || exit 1
    # Delivery to discard happens after the 250s and is not part of the timed run; wait for it
    # so it does not overlap the next measurement, and check that every message went through.
    # Its CPU is counted (it is the price of the queue being emptied, which ours leaves to the
    # forwarder): p1 is read after the drain.
    pf_wait_drained 300 || die "postfix queue did not drain after the run"
    p1=$(postfix_ticks "$PF_MASTER")
    local delivered=$(( $(pf_delivered) - before ))
    [ "$delivered" = "$m" ] || log "warning: postfix log shows $delivered of $m messages delivered (deferred: $(pf_deferred))"
    read -r secs busy total <<<"$out"
    echo "$secs $busy $total $((p1 - p0))"
}

# ---- idle sessions ------------------------------------------------------------------------------

measure_idle() {
    local n=$1 rss0 rss1 gc0 gc1 rss0gc rss1gc fifo="$WORK/idle.fifo"
    # Settle: what the warm-up left behind is collected, then the baseline is read.
    sleep 1
    rss0=$(rss_kib "$OURS_PID")
    gc0=$(ours_gc)
    rss0gc=$(rss_kib "$OURS_PID")
    mkfifo "$fifo"
    python3 "$HERE/idle_sessions.py" 127.0.0.1 "$OURS_PORT" "$n" --hold 120 <"$fifo" >"$WORK/idle.out" 2>&1 &
    IDLE_PID=$!
    exec 9>"$fifo"   # keeps the script waiting until we close it
    local deadline=$((SECONDS + 120))
    until grep -q '^ready' "$WORK/idle.out" 2>/dev/null; do
        kill -0 "$IDLE_PID" 2>/dev/null || { cat "$WORK/idle.out" >&2; die "idle_sessions.py failed"; }
        [ $SECONDS -lt $deadline ] || die "idle sessions were not all open within 120 s"
        sleep 0.2
    done
    sleep 1
    rss1=$(rss_kib "$OURS_PID")
    gc1=$(ours_gc)
    rss1gc=$(rss_kib "$OURS_PID")
    local fds
    fds=$(ls "/proc/$OURS_PID/fd" | wc -l)
    exec 9>&-
    wait "$IDLE_PID" || true
    IDLE_PID=""
    log "idle: $(cat "$WORK/idle.out"), proxy fds $fds"
    IDLE_RESULT="$rss0 $rss1 $rss0gc $rss1gc $gc0 $gc1"
}

# ---- main -----------------------------------------------------------------------------------------

command -v python3 >/dev/null 2>&1 || die "python3 is required"
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || die "need at least 4096 open files (ulimit -n)"
ensure_postfix
ensure_module
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_ours
start_postfix
SERVERS="ours postfix"
if [ "$SINK" = 1 ]; then
    command -v smtp-sink >/dev/null 2>&1 || die "smtp-sink (Debian's postfix package) is missing"
    start_sink
    SERVERS="ours postfix sink"
fi

# The warm-up's own rates are reported as the cold start, not as the cells.
log "warm-up (not measured in the cells): $WARMUP messages at 10 sessions to each server"
# cold ours|postfix: the warm-up, as "rate, CPU per message"
cold() {
    local secs ticks
    read -r secs _ _ ticks <<<"$("measure_$1" 10 "$WARMUP" 1024)" || exit 1
    awk -v m="$WARMUP" -v t="$secs" -v k="$ticks" -v h="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f msgs/s, %.0f µs CPU/msg", m / t, k / h * 1e6 / m }'
}
COLD_OURS=$(cold ours) || exit 1
COLD_PF=$(cold postfix) || exit 1
log "warm-up: ours $COLD_OURS; postfix $COLD_PF"
python3 "$HERE/idle_sessions.py" 127.0.0.1 "$OURS_PORT" 50 --hold 0 >/dev/null

log "idle sessions: $IDLE_SESSIONS"
measure_idle "$IDLE_SESSIONS"

# One line per server and step: "server step median_us p90_us".
PHASES=""
if [ "$PHASE_MSGS" -gt 0 ]; then
    log "step timings: $PHASE_MSGS x 1 KiB, one session at a time, each server twice"
    for r in 1 2; do
        PHASES+=$(python3 "$HERE/phases.py" 127.0.0.1 "$OURS_PORT" --messages "$PHASE_MSGS" --label ours)$'\n'
        pf_wait_drained 120 || die "postfix queue did not drain"
        PHASES+=$(python3 "$HERE/phases.py" 127.0.0.1 "$PF_PORT" --messages "$PHASE_MSGS" --label postfix)$'\n'
    done
    pf_wait_drained 120 || die "postfix queue did not drain"
fi

declare -A OURS_RATE PF_RATE OURS_BEST PF_BEST OURS_CPU PF_CPU OURS_MCPU PF_MCPU SINK_RATE SINK_CPU
TICK=$(getconf CLK_TCK)

# measure_one ours|postfix SESSIONS MESSAGES SIZE RUN: appends to the per-case lists.
measure_one() {
    local who=$1 s=$2 m=$3 l=$4 r=$5 out secs busy total ticks rate
    out=$("measure_$who" "$s" "$m" "$l") || exit 1
    read -r secs busy total ticks <<<"$out"
    rate=$(awk -v m="$m" -v t="$secs" 'BEGIN { printf "%.1f", m / t }')
    RATES[$who]+=" $rate"
    CPUS[$who]+=" $(awk -v t="$ticks" -v k="$TICK" -v m="$m" 'BEGIN { printf "%.3f", t / k * 1000 / m }')"
    MCPUS[$who]+=" $(awk -v b="$busy" -v t="$total" 'BEGIN { printf "%.0f", t ? 100 * b / t : 0 }')"
    log "$(printf '%-7s' "$who") size=$l s=$s run $r: $m msgs in ${secs}s = $rate msgs/s"
}

for size in $SIZES; do
    if [ "$size" -ge 10240 ]; then msgs=$MSGS_100K; else msgs=$MSGS_1K; fi
    for s in $CONCURRENCY; do
        declare -A RATES=([ours]="" [postfix]="" [sink]="") CPUS=([ours]="" [postfix]="" [sink]="") MCPUS=([ours]="" [postfix]="" [sink]="")
        for r in $(seq 1 "$REPEAT"); do
            # Alternate who goes first: the machine is shared and load drifts.
            if [ $((r % 2)) = 1 ]; then order=$SERVERS; else order=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' '); fi
            for who in $order; do measure_one "$who" "$s" "$msgs" "$size" "$r"; done
        done
        key="$size/$s"
        OURS_RATE[$key]=$(echo "${RATES[ours]}" | median)
        PF_RATE[$key]=$(echo "${RATES[postfix]}" | median)
        OURS_BEST[$key]=$(echo "${RATES[ours]}" | tr ' ' '\n' | sort -g | tail -1)
        PF_BEST[$key]=$(echo "${RATES[postfix]}" | tr ' ' '\n' | sort -g | tail -1)
        OURS_CPU[$key]=$(echo "${CPUS[ours]}" | median %.2f)
        PF_CPU[$key]=$(echo "${CPUS[postfix]}" | median %.2f)
        OURS_MCPU[$key]=$(echo "${MCPUS[ours]}" | median %.0f)
        PF_MCPU[$key]=$(echo "${MCPUS[postfix]}" | median %.0f)
        if [ "$SINK" = 1 ]; then
            SINK_RATE[$key]=$(echo "${RATES[sink]}" | median)
            SINK_CPU[$key]=$(echo "${CPUS[sink]}" | median %.2f)
        fi
    done
done

# ---- optional: the proxy's system calls -------------------------------------------------------
PROFILE_TEXT=""
if [ "$PROFILE" = 1 ] && command -v strace >/dev/null 2>&1; then
    log "profile: strace -c -f on the proxy, 500 x 1 KiB at 10 sessions"
    strace -c -f -e trace=fsync,fdatasync,openat,rename,renameat,renameat2,chmod,flock,unlink,pwrite64,write,sendto,recvfrom,sched_yield,futex \
        -o "$WORK/strace.txt" -p "$OURS_PID" 2>/dev/null &
    spid=$!
    sleep 1
    measure_ours 10 500 1024 >/dev/null || exit 1
    kill -INT "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    PROFILE_TEXT=$(cat "$WORK/strace.txt" 2>/dev/null || true)
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------

read -r rss0 rss1 rss0gc rss1gc live0 heap0 comm0 live1 heap1 comm1 <<<"$IDLE_RESULT"
per_session=$(awk -v a="$rss1" -v b="$rss0" -v n="$IDLE_SESSIONS" 'BEGIN { printf "%.1f", (a - b) / n }')
per_session_gc=$(awk -v a="$rss1gc" -v b="$rss0gc" -v n="$IDLE_SESSIONS" 'BEGIN { printf "%.1f", (a - b) / n }')
per_session_live=$(awk -v a="$live1" -v b="$live0" -v n="$IDLE_SESSIONS" 'BEGIN { if (a == "?" || b == "?") print "?"; else printf "%.1f", (a - b) / 1024 / n }')
kib() { awk -v b="$1" 'BEGIN { if (b == "?") print "?"; else printf "%d", b / 1024 }'; }

{
    echo "# SMTP receive benchmark"
    echo
    report_preamble "queues" server
    [ -n "$PROXY_ENV" ] && echo "Proxy environment: $PROXY_ENV."
    echo
    echo "smtp-source, one message per connection (no -d), one recipient, no pipelining; median (and best)"
    echo "of $REPEAT runs, servers alternating; $MSGS_1K messages per 1 KiB case, $MSGS_100K per 100 KiB case."
    echo "Both servers fsync each message before the 250."
    echo
    echo "| size | sessions | ours msgs/s | postfix msgs/s | ratio | ours best | postfix best | ours CPU ms/msg | postfix CPU ms/msg | machine busy ours / postfix |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for size in $SIZES; do
        for s in $CONCURRENCY; do
            key="$size/$s"
            ratio=$(ratio_cell "${OURS_RATE[$key]}" "${PF_RATE[$key]}")
            label="$(kib "$size") KiB"
            echo "| $label | $s | ${OURS_RATE[$key]} | ${PF_RATE[$key]} | $ratio | ${OURS_BEST[$key]} | ${PF_BEST[$key]} | ${OURS_CPU[$key]} | ${PF_CPU[$key]} | ${OURS_MCPU[$key]}% / ${PF_MCPU[$key]}% |"
        done
    done
    echo
    echo "Idle sessions: $IDLE_SESSIONS open at once (greeting read, EHLO answered) against the proxy."
    echo
    echo "| view | before | after | per session |"
    echo "|---|---:|---:|---:|"
    echo "| RSS (VmRSS) | $rss0 KiB | $rss1 KiB | **$per_session KiB** |"
    echo "| RSS after a forced full GC | $rss0gc KiB | $rss1gc KiB | $per_session_gc KiB |"
    echo "| managed live bytes after a full GC | $(kib "$live0") KiB | $(kib "$live1") KiB | $per_session_live KiB |"
    echo
    echo "Cold start: the warm-up before the cells, $WARMUP x 1 KiB at 10 sessions into a server that had"
    echo "handled none: ours $COLD_OURS; Postfix $COLD_PF."
    echo
    echo "Targets: ratio >= 1.00 at every concurrency; <= 64 KiB RSS per idle session."
    if [ "$SINK" = 1 ]; then
        echo
        echo "The machine's ceiling: smtp-sink, which answers each command at once and stores nothing,"
        echo "driven by the same smtp-source runs, in turn with the two servers (median of $REPEAT)."
        echo "A server's share of it is how much of what smtp-source and the kernel allow here it reaches;"
        echo "sink / postfix is the ratio a server that did no work at all would show in that cell."
        echo
        echo "| size | sessions | smtp-sink msgs/s | smtp-sink CPU ms/msg | ours / sink | postfix / sink | sink / postfix |"
        echo "|---:|---:|---:|---:|---:|---:|---:|"
        for size in $SIZES; do
            for s in $CONCURRENCY; do
                key="$size/$s"
                label="$(kib "$size") KiB"
                echo "| $label | $s | ${SINK_RATE[$key]} | ${SINK_CPU[$key]} | $(ratio_cell "${OURS_RATE[$key]}" "${SINK_RATE[$key]}") | $(ratio_cell "${PF_RATE[$key]}" "${SINK_RATE[$key]}") | $(ratio_cell "${SINK_RATE[$key]}" "${PF_RATE[$key]}") |"
            done
        done
    fi
    if [ -n "$PHASES" ]; then
        echo
        echo "Step by step, one session at a time, 1 KiB, $PHASE_MSGS messages, two rounds per server"
        echo "(microseconds from sending the command to the whole reply; median / 90th percentile):"
        echo
        echo "| step | ours round 1 | ours round 2 | postfix round 1 | postfix round 2 |"
        echo "|---|---:|---:|---:|---:|"
        echo "$PHASES" | awk -F'\t' 'NF == 4 {
                k = $1 SUBSEP $2; n[k]++; v[k, n[k]] = $3 " / " $4
                if (!($2 in seen)) { seen[$2] = 1; order[++m] = $2 } }
            END { for (i = 1; i <= m; i++) { s = order[i]
                printf "| %s | %s | %s | %s | %s |\n", s, v["ours", s, 1], v["ours", s, 2], v["postfix", s, 1], v["postfix", s, 2] } }'
    fi
    echo
    echo "CPU ms/msg counts the server's processes only (ours: the pwsh process; Postfix: master and all"
    echo "its children, including the delivery to discard and removal of each queue file, which follow"
    echo "the 250). Machine busy is the share of all cores busy during the timed run, smtp-source included."
    if [ -n "$PROFILE_TEXT" ]; then
        echo
        echo "strace -c -f on the proxy, 500 x 1 KiB messages at 10 sessions:"
        echo
        echo '```'
        echo "$PROFILE_TEXT"
        echo '```'
    fi
} > "$WORK/report.md"

mkdir -p "$(dirname "$REPORT")"
cp "$WORK/report.md" "$REPORT"
echo
cat "$WORK/report.md"
echo
log "written to ${REPORT#"$ROOT"/}"
