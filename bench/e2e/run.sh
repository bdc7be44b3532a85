#!/usr/bin/env bash
# End-to-end benchmark: messages per second from the first connection of Postfix's smtp-source
# until Postfix's smtp-sink has received the last message, through our relay (Start-SmtpdProxy
# and Start-SmtpFwd sharing one spool, one pwsh) and through a private Postfix relaying the same
# load to the same sink, on the same machine in the same run. See README.md beside this file.
# Every connection goes to 127.0.0.1; every wait has a deadline.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# ---- knobs (environment) -------------------------------------------------------------------
MSGS=${BENCH_MSGS:-2000}                  # messages per run
SIZE=${BENCH_SIZE:-1024}                  # smtp-source -l
CONCURRENCY=${BENCH_CONCURRENCY:-"1 10 50"}   # smtp-source -s
CONNECTIONS=${BENCH_CONNECTIONS:-20}      # ours -MaxConnections = Postfix smtp_destination_concurrency_limit
REPEAT=${BENCH_REPEAT:-3}                 # runs per case and side; the median is reported
WARMUP=${BENCH_WARMUP:-6000}              # messages at 10 sessions through each side first, reported
                                          # as the cold start, not in the cells (0: none): the
                                          # runtime compiles the hot path again, optimized, over
                                          # the first few thousand (see README.md)
CASE_TIMEOUT=${BENCH_CASE_TIMEOUT:-300}   # seconds one run may take, load to last delivery
PROFILE=${BENCH_PROFILE:-0}               # 1: one more run per side under strace, counting fsyncs
FS=${BENCH_FS:-ext4}                      # ext4: a fresh journaled ext4 loop image per side (root);
                                          # tmp: the temp directory's file system
FS_SIZE=${BENCH_FS_SIZE:-4G}              # size of each loop image (sparse)
BUILD=${BENCH_BUILD:-1}                   # 0: use out/SmtpdModule as it is
OURS_ENV=${BENCH_OURS_ENV:-}              # NAME=VALUE ... for our relay's process, e.g. a runtime knob
REPORT=${BENCH_REPORT:-$ROOT/out/bench-e2e.md}

MODULE="$ROOT/out/SmtpdModule"

# log, die, ensure_postfix, ensure_module, free_port, wait_listener, proc_ticks, postfix_ticks,
# cpu_sample, server_root, start_postfix, pf_queue_files, pf_deferred, pf_delivered,
# pf_wait_drained, start_sink, sink_count, sink_sessions, start_sampler, stop_sampler,
# spool_messages, spool_status_files, median
. "$HERE/../lib.sh"

# ---- work area ---------------------------------------------------------------------------------

WORK=$(mktemp -d -t smtpd-e2e-bench.XXXXXX)
chmod 755 "$WORK"   # the Postfix daemons run as 'postfix' and must reach their queue below
POSTFIX_CONF="" MOUNTS="" SINK_PID="" SAMPLER_PID="" OURS_LAUNCHER="" SOURCE_PID="" STRACE_PID=""
SAMPLER_MAX=0 RESULT=""

cleanup() {
    set +e
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
    [ -n "$STRACE_PID" ] && kill "$STRACE_PID" 2>/dev/null
    if [ -n "$SOURCE_PID" ]; then
        # The timeout(1) around smtp-source passes the signal on to it.
        [ -s "$WORK/source.pid" ] && kill "$(cat "$WORK/source.pid")" 2>/dev/null
        kill "$SOURCE_PID" 2>/dev/null
    fi
    if [ -n "$OURS_LAUNCHER" ]; then
        exec 8>&- 2>/dev/null   # relay.ps1 stops the proxy and the forwarder at end of input
        for _ in $(seq 1 100); do kill -0 "$OURS_LAUNCHER" 2>/dev/null || break; sleep 0.1; done
        kill "$OURS_LAUNCHER" 2>/dev/null
    fi
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    [ -n "$POSTFIX_CONF" ] && postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1
    # The Postfix master exits a moment after 'stop'; wait for it before unmounting its queue.
    for _ in $(seq 1 50); do
        if [ -z "${PF_MASTER:-}" ] || ! kill -0 "$PF_MASTER" 2>/dev/null; then break; fi
        sleep 0.1
    done
    wait 2>/dev/null
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

# ---- ours: proxy + forwarder in one pwsh --------------------------------------------------------

start_ours() {
    local fifo="$WORK/ours.fifo" port deadline
    server_root ours
    printf 'allow:ALL:ALL:ALL\n' > "$WORK/ours/rules"
    OURS_SPOOL="$WORK/ours/spool"
    port=$(free_port)
    mkfifo "$fifo"
    log "starting Start-SmtpdProxy on 127.0.0.1:$port and Start-SmtpFwd to 127.0.0.1:$SINK_PORT (-MaxConnections $CONNECTIONS)"
    # shellcheck disable=SC2086 # OURS_ENV is a list of NAME=VALUE words
    (cd "$ROOT" && exec env $OURS_ENV dotnet pwsh -NoProfile -NonInteractive -File "$HERE/relay.ps1" \
        -ModulePath "$MOD" -Port "$port" -RulesPath "$WORK/ours/rules" -SpoolPath "$OURS_SPOOL" \
        -SmartHost "127.0.0.1:$SINK_PORT" -MaxConnections "$CONNECTIONS") \
        <"$fifo" >"$WORK/ours.out" 2>"$WORK/ours.err" &
    OURS_LAUNCHER=$!
    exec 8>"$fifo"   # relay.ps1 reads "status" requests from this and stops at its end
    await_ready "$OURS_LAUNCHER" "$WORK/ours.out" "$WORK/ours.err" "relay.ps1 (the proxy and forwarder)"
    read -r _ OURS_PORT _ < <(grep '^ready ' "$WORK/ours.out")
    # The process to measure is the one that listens (the same as relay.ps1's $PID).
    OURS_PID=$(wait_listener "$OURS_PORT" 10) || die "nothing listens on 127.0.0.1:$OURS_PORT"
    log "proxy + forwarder in pid $OURS_PID"
}

# Our counters now → OURS_STATUS="accepted refused forwarded deferred failed bounced errors".
ours_status() { OURS_STATUS=$(ask_script 8 "$WORK/ours.out" status) || exit 1; }

# ---- one timed run ------------------------------------------------------------------------------

# timed_run PORT SESSIONS MESSAGES: smtp-source sends, the clock runs until the sink has counted
# every message. Sets T_E2E (seconds to the last message at the sink), T_ACCEPT (seconds until
# smtp-source was done: every message accepted, each connection closed) and BUSY (share of all
# cores busy meanwhile, %).
timed_run() {
    local port=$1 s=$2 m=$3 before t0 t1 c0 c1 deadline rc end
    before=$(sink_count)
    rm -f "$WORK/source.end" "$WORK/source.pid"
    c0=$(cpu_sample)
    t0=$(now_ns)
    (
        timeout "$CASE_TIMEOUT" smtp-source -4 -s "$s" -m "$m" -l "$SIZE" -r 1 \
            -M bench-client.invalid -f sender@bench-client.invalid -t rcpt@example.test \
            "127.0.0.1:$port" >"$WORK/source.log" 2>&1 &
        echo $! > "$WORK/source.pid"
        rc=0
        wait $! || rc=$?
        echo "$rc $(date +%s%N)" > "$WORK/source.end.tmp"
        mv "$WORK/source.end.tmp" "$WORK/source.end"
    ) &
    SOURCE_PID=$!
    deadline=$((SECONDS + CASE_TIMEOUT + 10))
    while [ $(( $(sink_count) - before )) -lt "$m" ]; do
        if [ -f "$WORK/source.end" ]; then
            read -r rc _ < "$WORK/source.end"
            [ "$rc" = 0 ] || { cat "$WORK/source.log" >&2; die "smtp-source -s $s -m $m against port $port failed (exit $rc)"; }
        fi
        [ $SECONDS -lt $deadline ] || die "the sink counted $(( $(sink_count) - before )) of $m messages within $CASE_TIMEOUT s"
        sleep 0.05
    done
    t1=$(now_ns)
    c1=$(cpu_sample)
    # smtp-source may still be closing its last connection (the timeout bounds it).
    wait "$SOURCE_PID" 2>/dev/null || true
    SOURCE_PID=""
    read -r rc end < "$WORK/source.end" || die "smtp-source left no exit status"
    [ "$rc" = 0 ] || { cat "$WORK/source.log" >&2; die "smtp-source -s $s -m $m against port $port failed (exit $rc)"; }
    read -r T_E2E T_ACCEPT BUSY < <(awk -v t0="$t0" -v t1="$t1" -v te="$end" -v c0="$c0" -v c1="$c1" 'BEGIN {
        split(c0, a, " "); split(c1, b, " "); d = b[2] - a[2]
        printf "%.3f %.3f %.0f\n", (t1 - t0) / 1e9, (te - t0) / 1e9, d ? 100 * (b[1] - a[1]) / d : 0 }')
}

# After the timed part: the sink got exactly M (a duplicate would show here), read once the
# side has finished with the last message.
check_sink() {
    local before=$1 m=$2 who=$3 n
    n=$(( $(sink_count) - before ))
    [ "$n" = "$m" ] || die "$who: smtp-sink counted $n messages, $m were sent"
}

# measure_ours SESSIONS MESSAGES → RESULT="e2e_s accept_s cpu_ticks busy% max_conns"
measure_ours() {
    local s=$1 m=$2 before p0 p1 deadline
    local a0 r0 f0 d0 x0 b0 e0 a1 r1 f1 d1 x1 b1 e1
    [ "$(spool_messages "$OURS_SPOOL")" = 0 ] || die "our spool is not empty before the run"
    ours_status
    read -r a0 r0 f0 d0 x0 b0 e0 <<<"$OURS_STATUS"
    before=$(sink_count)
    p0=$(proc_ticks "$OURS_PID")
    start_sampler "pid=$OURS_PID,"
    timed_run "$OURS_PORT" "$s" "$m"
    stop_sampler
    # Not timed: the forwarder counts a message after the sink's 250 has come back; wait for
    # every outcome and for the spool to be empty, so that the CPU read includes the whole of
    # every message.
    deadline=$((SECONDS + 120))
    while :; do
        ours_status
        read -r a1 r1 f1 d1 x1 b1 e1 <<<"$OURS_STATUS"
        [ $((f1 - f0 + d1 - d0 + x1 - x0)) -ge "$m" ] && break
        [ $SECONDS -lt $deadline ] || die "ours: forwarded $((f1 - f0)), deferred $((d1 - d0)), failed $((x1 - x0)) of $m within 120 s"
        sleep 0.1
    done
    while [ "$(spool_messages "$OURS_SPOOL")" != 0 ]; do
        [ $SECONDS -lt $deadline ] || die "ours: $(spool_messages "$OURS_SPOOL") messages left in the spool after forwarding"
        sleep 0.1
    done
    p1=$(proc_ticks "$OURS_PID")
    [ "$(spool_status_files "$OURS_SPOOL")" = 0 ] || log "warning: $(spool_status_files "$OURS_SPOOL") delivery records left in status/"
    if [ $((a1 - a0)) != "$m" ] || [ $((r1 - r0)) != 0 ] || [ $((f1 - f0)) != "$m" ] || [ $((d1 - d0)) != 0 ] \
        || [ $((x1 - x0)) != 0 ] || [ $((b1 - b0)) != 0 ] || [ $((e1 - e0)) != 0 ]; then
        die "ours: accepted $((a1 - a0)) refused $((r1 - r0)) forwarded $((f1 - f0)) deferred $((d1 - d0)) failed $((x1 - x0)) bounced $((b1 - b0)) errors $((e1 - e0)) (expected $m accepted and forwarded)"
    fi
    check_sink "$before" "$m" ours
    RESULT="$T_E2E $T_ACCEPT $((p1 - p0)) $BUSY $SAMPLER_MAX"
}

# measure_postfix SESSIONS MESSAGES → RESULT as measure_ours
measure_postfix() {
    local s=$1 m=$2 before p0 p1 sent0 sent deadline
    pf_wait_drained 120 || die "the Postfix queue is not empty before the run"
    sent0=$(pf_delivered)
    before=$(sink_count)
    p0=$(postfix_ticks "$PF_MASTER")
    # smtp(8) delivers; scache holds the idle connections between deliveries.
    start_sampler '"(smtp|scache)",pid='
    timed_run "$PF_PORT" "$s" "$m"
    stop_sampler
    # Not timed: qmgr removes each queue file after smtp(8) reports the sink's 250.
    pf_wait_drained 120 || die "postfix: the queue still holds $(pf_queue_files) files 120 s after the last delivery"
    p1=$(postfix_ticks "$PF_MASTER")
    [ "$(pf_deferred)" = 0 ] || die "postfix deferred $(pf_deferred) messages"
    check_sink "$before" "$m" postfix
    # postlogd writes the log a moment after the delivery.
    deadline=$((SECONDS + 10))
    while sent=$(( $(pf_delivered) - sent0 )); [ "$sent" -lt "$m" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    [ "$sent" = "$m" ] || log "warning: the Postfix log shows $sent of $m messages status=sent"
    RESULT="$T_E2E $T_ACCEPT $((p1 - p0)) $BUSY $SAMPLER_MAX"
}

# ---- optional: fsyncs per message -----------------------------------------------------------------

# profile_run ours|postfix SESSIONS MESSAGES → PROFILE_LINE: one more run with strace -c -f on the
# side's processes (ours: the pwsh process, all threads; Postfix: the master and every process it
# has or starts), counting the calls that make data durable.
profile_run() {
    local who=$1 s=$2 m=$3 pids p args=() calls outs secs
    if [ "$who" = ours ]; then pids=$OURS_PID; else pids="$PF_MASTER $(ps -o pid= --ppid "$PF_MASTER" | tr -s ' \n' ' ')"; fi
    for p in $pids; do args+=(-p "$p"); done
    strace -f -c -e trace=fsync,fdatasync,sync_file_range,syncfs,sync -o "$WORK/strace-$who.txt" "${args[@]}" 2>/dev/null &
    STRACE_PID=$!
    sleep 1   # attaching to every thread takes a moment
    "measure_$who" "$s" "$m"
    kill -INT "$STRACE_PID" 2>/dev/null || true
    wait "$STRACE_PID" 2>/dev/null || true
    STRACE_PID=""
    read -r secs _ <<<"$RESULT"
    # strace -c: "% time seconds usecs/call calls [errors] syscall"; the total line is skipped.
    # Syncs flush the disk's cache; sync_file_range (our slot refills' write-out) does not.
    calls=$(awk '$NF ~ /^(fsync|fdatasync|syncfs|sync)$/ { n += $4 } END { print n + 0 }' "$WORK/strace-$who.txt")
    outs=$(awk '$NF == "sync_file_range" { n += $4 } END { print n + 0 }' "$WORK/strace-$who.txt")
    PROFILE_LINE="| $who | $s | $m | $calls | $(awk -v c="$calls" -v m="$m" 'BEGIN { printf "%.2f", c / m }') | $outs | $secs |"
    log "profile $who s=$s: $calls syncs and $outs write-outs for $m messages (run took $secs s under strace)"
}

# ---- main -----------------------------------------------------------------------------------------

command -v python3 >/dev/null 2>&1 || die "python3 is required"
ensure_postfix
command -v smtp-sink >/dev/null 2>&1 || die "smtp-sink (Debian's postfix package) is missing"
ensure_module
# A private copy: a build elsewhere in the tree during the run cannot change what is measured.
mkdir -p "$WORK/module"
cp -r "$MODULE" "$WORK/module/SmtpdModule"
MOD="$WORK/module/SmtpdModule/SmtpdModule.psd1"
TICK=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

start_sink
start_ours
# Postfix relays everything through smtp(8) to the sink as its relayhost, an address literal
# (no MX or host lookup), at most CONNECTIONS deliveries at once; everything else as bench/smtp.
PF_MAIN_EXTRA=(
    "default_transport=smtp"
    "relay_transport=smtp"
    "relayhost=[127.0.0.1]:$SINK_PORT"
    "smtp_tls_security_level=none"
    "smtp_destination_concurrency_limit=$CONNECTIONS"
)
PF_MASTER_EXTRA=("smtp/unix=smtp unix - - n - - smtp")
start_postfix

if [ "$WARMUP" -gt 0 ]; then
    log "warm-up (not in the cells): $WARMUP messages at 10 sessions through each side"
    cold() { awk -v m="$WARMUP" -v t="$1" -v k="$2" -v h="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f msgs/s, %.0f µs CPU/msg", m / t, k / h * 1e6 / m }'; }
    measure_ours 10 "$WARMUP"
    read -r secs _ ticks _ <<<"$RESULT"
    COLD_OURS=$(cold "$secs" "$ticks")
    measure_postfix 10 "$WARMUP"
    read -r secs _ ticks _ <<<"$RESULT"
    COLD_PF=$(cold "$secs" "$ticks")
    log "warm-up: ours $COLD_OURS; postfix $COLD_PF"
fi

declare -A OURS_RATE PF_RATE OURS_BEST PF_BEST OURS_ACC PF_ACC OURS_CPU PF_CPU OURS_BUSY PF_BUSY OURS_CONNS PF_CONNS
for s in $CONCURRENCY; do
    declare -A RATES=([ours]="" [postfix]="") ACCS=([ours]="" [postfix]="") CPUS=([ours]="" [postfix]="") \
        BUSYS=([ours]="" [postfix]="") CONNS=([ours]="" [postfix]="")
    for r in $(seq 1 "$REPEAT"); do
        # Alternate who goes first: the machine may be shared and load drifts.
        if [ $((r % 2)) = 1 ]; then order="ours postfix"; else order="postfix ours"; fi
        for who in $order; do
            "measure_$who" "$s" "$MSGS"
            read -r secs acc ticks busy maxc <<<"$RESULT"
            rate=$(awk -v m="$MSGS" -v t="$secs" 'BEGIN { printf "%.1f", m / t }')
            arate=$(awk -v m="$MSGS" -v t="$acc" 'BEGIN { printf "%.1f", m / t }')
            cpu=$(awk -v t="$ticks" -v k="$TICK" -v m="$MSGS" 'BEGIN { printf "%.0f", t / k * 1e6 / m }')
            RATES[$who]+=" $rate"; ACCS[$who]+=" $arate"; CPUS[$who]+=" $cpu"; BUSYS[$who]+=" $busy"; CONNS[$who]+=" $maxc"
            log "$(printf '%-7s' "$who") sessions=$s run $r: $MSGS msgs at the sink in $secs s = $rate msgs/s (accepted in $acc s), CPU $cpu us/msg, machine $busy% busy, max $maxc connections to the sink"
        done
    done
    for who in ours postfix; do
        rate=$(echo "${RATES[$who]}" | median)
        best=$(echo "${RATES[$who]}" | tr ' ' '\n' | sort -g | tail -1)
        acc=$(echo "${ACCS[$who]}" | median)
        cpu=$(echo "${CPUS[$who]}" | median %.0f)
        busy=$(echo "${BUSYS[$who]}" | median %.0f)
        conns=$(echo "${CONNS[$who]}" | tr ' ' '\n' | sort -g | tail -1)
        if [ "$who" = ours ]; then
            OURS_RATE[$s]=$rate OURS_BEST[$s]=$best OURS_ACC[$s]=$acc OURS_CPU[$s]=$cpu OURS_BUSY[$s]=$busy OURS_CONNS[$s]=$conns
        else
            PF_RATE[$s]=$rate PF_BEST[$s]=$best PF_ACC[$s]=$acc PF_CPU[$s]=$cpu PF_BUSY[$s]=$busy PF_CONNS[$s]=$conns
        fi
    done
done

PROFILE_TEXT=""
if [ "$PROFILE" = 1 ]; then
    if command -v strace >/dev/null 2>&1; then
        ps=$(echo "$CONCURRENCY" | awk '{ print $NF }')
        for who in ours postfix; do
            profile_run "$who" "$ps" "$MSGS"
            PROFILE_TEXT+="$PROFILE_LINE"$'\n'
        done
    else
        log "BENCH_PROFILE=1 but no strace: skipping the fsync count"
    fi
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------

{
    echo "# End-to-end benchmark"
    echo
    report_preamble "spool and queue" side
    [ -n "$OURS_ENV" ] && echo "Our relay's environment: $OURS_ENV."
    echo
    echo "smtp-source -s SESSIONS -m $MSGS -l $SIZE -r 1 (a new connection per message) into each side, which"
    echo "relays to one smtp-sink on 127.0.0.1 over at most $CONNECTIONS connections. Timed from smtp-source's start"
    echo "until the sink has received all $MSGS messages; median (and best) of $REPEAT runs, sides alternating."
    echo "Ours: Start-SmtpdProxy + Start-SmtpFwd (daemon) on one spool, one pwsh. Postfix: smtpd, cleanup,"
    echo "qmgr, smtp(8) to relayhost [127.0.0.1]:sink."
    echo
    echo "| sessions | ours msgs/s | Postfix msgs/s | ratio | ours best | Postfix best | ours accept msgs/s | Postfix accept msgs/s | ours CPU µs/msg | Postfix CPU µs/msg | machine busy ours / Postfix | most connections to the sink ours / Postfix |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in $CONCURRENCY; do
        ratio=$(ratio_cell "${OURS_RATE[$s]}" "${PF_RATE[$s]}")
        echo "| $s | ${OURS_RATE[$s]} | ${PF_RATE[$s]} | $ratio | ${OURS_BEST[$s]} | ${PF_BEST[$s]} | ${OURS_ACC[$s]} | ${PF_ACC[$s]} | ${OURS_CPU[$s]} | ${PF_CPU[$s]} | ${OURS_BUSY[$s]}% / ${PF_BUSY[$s]}% | ${OURS_CONNS[$s]} / ${PF_CONNS[$s]} |"
    done
    echo
    if [ "$WARMUP" -gt 0 ]; then
        echo "Cold start: the warm-up before the cells, $WARMUP messages at 10 sessions through a side that"
        echo "had carried none: ours $COLD_OURS; Postfix $COLD_PF."
        echo
    fi
    echo "Target (issue 20): ratio >= 2.0 at every concurrency."
    echo
    echo "msgs/s = messages / seconds from smtp-source's start to the sink's count of the last message."
    echo "Accept msgs/s = messages / smtp-source's own run time (every message answered 250, connections"
    echo "closed). CPU µs/msg: ours, the pwsh process (proxy and forwarder); Postfix, master and all its"
    echo "processes; both read after the side had removed the last message from its spool or queue; the"
    echo "sink's and smtp-source's CPU are in neither. Machine busy: share of all cores busy during the"
    echo "timed part, smtp-source and the sink included. Every run: smtp-source got 250 for every message,"
    echo "the sink counted exactly $MSGS, nothing deferred, failed or bounced, spool and queue empty after."
    if [ -n "$PROFILE_TEXT" ]; then
        echo
        echo "Syncs (fsync, fdatasync, syncfs, sync: each ends with a flush of the disk's cache) and"
        echo "write-outs (sync_file_range: written, not flushed) in one more run per side under strace -c -f:"
        echo
        echo "| side | sessions | messages | syncs | syncs per message | write-outs | run s (under strace) |"
        echo "|---|---:|---:|---:|---:|---:|---:|"
        printf '%s' "$PROFILE_TEXT"
    fi
} > "$WORK/report.md"

mkdir -p "$(dirname "$REPORT")"
cp "$WORK/report.md" "$REPORT"
echo
cat "$WORK/report.md"
echo
log "written to ${REPORT#"$ROOT"/}"
