#!/usr/bin/env bash
# Soak benchmark: BENCH_SOAK_MINUTES (30) of steady mail through the proxy AND the forwarder,
# both running in one pwsh (soak.ps1), at half of the end-to-end peak measured at the start of the
# run, into Postfix's smtp-sink on 127.0.0.1. Every 30 s: the process's RSS, live GC heap,
# threads, file descriptors, the spool backlog and the counters. Ends with a table and a verdict
# on flatness (least-squares slope over the last 20 minutes). See README.md beside this file.
# Every connection goes to 127.0.0.1; every wait has a deadline.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# ---- knobs (environment) -------------------------------------------------------------------
MINUTES=${BENCH_SOAK_MINUTES:-30}           # length of the steady phase
SAMPLE=${BENCH_SOAK_SAMPLE:-30}             # seconds between samples
SIZE=${BENCH_SIZE:-1024}                    # smtp-source -l
CALIB_MSGS=${BENCH_SOAK_CALIB_MSGS:-20000}  # messages of the calibration (full speed, end to end)
CALIB_SESSIONS=${BENCH_SOAK_CALIB_SESSIONS:-20}
RATE=${BENCH_SOAK_RATE:-}                   # msgs/s; empty: half of the calibration's rate
BURST_SESSIONS=${BENCH_SOAK_BURST_SESSIONS:-10}  # smtp-source -s of each one-second burst
FWD_CONNECTIONS=${BENCH_SOAK_FWD_CONNECTIONS:-4} # Start-SmtpFwd -MaxConnections (its default)
WINDOW_MIN=${BENCH_SOAK_WINDOW:-20}         # minutes at the end the verdict looks at
BUILD=${BENCH_BUILD:-0}                     # 1: build first; 0: use out/SmtpdModule as it is
FS=${BENCH_FS:-tmp}                         # tmp: the temp directory's file system; ext4: a loop image
FS_SIZE=${BENCH_FS_SIZE:-8G}
REPORT=${BENCH_REPORT:-$ROOT/out/bench-soak.md}

MODULE="$ROOT/out/SmtpdModule"
RULES="$ROOT/examples/smtpd_check_rules"
DNS_TOOL="$ROOT/tests/tools/Start-TestDns.ps1"
DNS_FIXTURE="$ROOT/tests/fixtures/dns-nxdomain"

# log, die, ensure_postfix, ensure_module, free_port, wait_listener, server_root, start_sink,
# sink_count, median
. "$HERE/../lib.sh"

WORK=$(mktemp -d -t smtpd-soak-bench.XXXXXX)
chmod 755 "$WORK"
MOUNTS="" SINK_PID="" SOAK_PID="" LOAD_PID=""

cleanup() {
    set +e
    [ -n "$LOAD_PID" ] && { touch "$WORK/load.stop"; kill "$LOAD_PID" 2>/dev/null; }
    if [ -n "$SOAK_PID" ]; then
        exec 8>&- 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$SOAK_PID" 2>/dev/null || break; sleep 0.1; done
        kill "$SOAK_PID" 2>/dev/null
    fi
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    wait 2>/dev/null
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

# ---- the process under test ---------------------------------------------------------------------
start_soak() {
    local fifo="$WORK/soak.fifo" deadline
    mkfifo "$fifo"
    (cd "$ROOT" && exec env TMPDIR="$WORK" dotnet pwsh -NoProfile -NonInteractive -File "$HERE/soak.ps1" \
        -ModulePath "$MOD" -RulesPath "$RULES" -SpoolPath "$WORK/ours/spool" -SmartHost "127.0.0.1:$SINK_PORT" \
        -DnsTool "$DNS_TOOL" -DnsFixture "$DNS_FIXTURE" -MaxConnections "$FWD_CONNECTIONS") \
        <"$fifo" >"$WORK/soak.out" 2>"$WORK/soak.err" &
    SOAK_PID=$!
    exec 8>"$fifo"
    await_ready "$SOAK_PID" "$WORK/soak.out" "$WORK/soak.err" "soak.ps1 (the proxy)"
    read -r _ PROXY_PORT PWSH_PID < <(grep '^ready ' "$WORK/soak.out")
    log "proxy + forwarder in pwsh pid $PWSH_PID, proxy on 127.0.0.1:$PROXY_PORT"
}

# One sample line from soak.ps1 → SAMPLE_LINE (the fields after "sample").
take_sample() { SAMPLE_LINE=$(ask_script 8 "$WORK/soak.out" sample) || exit 1; }

source_msgs() {  # source_msgs COUNT SESSIONS LOGFILE
    smtp-source -4 -s "$2" -m "$1" -l "$SIZE" -r 1 -M bench-client.invalid \
        -f sender@bench-client.invalid -t rcpt@example.test "127.0.0.1:$PROXY_PORT" >>"$3" 2>&1
}

wait_sink() {  # wait_sink TARGET SECONDS
    local deadline=$((SECONDS + $2))
    while [ "$(sink_count)" -lt "$1" ]; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

# ---- the steady load: one smtp-source burst of RATE messages at the start of every second -------
# Writes the messages sent so far to load.sent and the seconds that started late to load.late.
load_loop() {
    local t0 i=0 sent=0 late=0 failed=0 next now
    t0=$(now_ns)
    while [ ! -e "$WORK/load.stop" ]; do
        if source_msgs "$RATE" "$BURST_SESSIONS" "$WORK/load.log"; then sent=$((sent + RATE)); else failed=$((failed + 1)); fi
        i=$((i + 1))
        echo "$sent $late $failed" > "$WORK/load.state.tmp" && mv "$WORK/load.state.tmp" "$WORK/load.state"
        next=$((t0 + i * 1000000000))
        now=$(now_ns)
        if [ "$now" -lt "$next" ]; then
            sleep "$(awk -v a="$next" -v b="$now" 'BEGIN { printf "%.3f", (a - b) / 1e9 }')"
        else
            late=$((late + 1))
        fi
    done
}

# ---- main -----------------------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || die "python3 is required"
ensure_postfix
command -v smtp-sink >/dev/null 2>&1 || die "smtp-sink (Debian's postfix package) is missing"
command -v knotd >/dev/null 2>&1 || die "knotd (Debian's knot package) is needed: tests/tools/install-test-deps.sh"
ensure_module
mkdir -p "$WORK/module"
cp -r "$MODULE" "$WORK/module/SmtpdModule"   # a build elsewhere during the run changes nothing
MOD="$WORK/module/SmtpdModule/SmtpdModule.psd1"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

start_sink
server_root ours
start_soak

# Calibration: CALIB_MSGS at full speed, timed until the sink has them all (accepted, spooled,
# forwarded): the end-to-end peak of this process.
log "calibration: $CALIB_MSGS messages, $CALIB_SESSIONS sessions, end to end"
t0=$(now_ns)
source_msgs "$CALIB_MSGS" "$CALIB_SESSIONS" "$WORK/calib.log" || { tail "$WORK/calib.log" >&2; die "smtp-source failed in the calibration"; }
t1=$(now_ns)
wait_sink "$CALIB_MSGS" 600 || die "the sink counted $(sink_count) of $CALIB_MSGS calibration messages"
t2=$(now_ns)
ACCEPT_PEAK=$(awk -v m="$CALIB_MSGS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", m / ((b - a) / 1e9) }')
E2E_PEAK=$(awk -v m="$CALIB_MSGS" -v a="$t0" -v b="$t2" 'BEGIN { printf "%.0f", m / ((b - a) / 1e9) }')
[ -n "$RATE" ] || RATE=$(( E2E_PEAK / 2 ))
[ "$RATE" -ge 1 ] || RATE=1
log "calibration: accepted at $ACCEPT_PEAK msgs/s, end to end $E2E_PEAK msgs/s; steady rate $RATE msgs/s for $MINUTES min"
SINK0=$(sink_count)

echo "0 0 0" > "$WORK/load.state"
load_loop &
LOAD_PID=$!
T_START=$SECONDS
printf 't_s\trss_kib\tthreads\tfds\tgc_live\tgc_heap\tgc_committed\tgen2\taccepted\trefused\tforwarded\tdeferred\tfailed\terrors\tbacklog\tsent\tsunk\tlate\n' > "$WORK/samples.tsv"
record() {
    take_sample
    local sent late failed
    read -r sent late failed < "$WORK/load.state"
    printf '%s\t%s\t%s\t%s\t%s\n' "$((SECONDS - T_START))" "$(echo "$SAMPLE_LINE" | tr ' ' '\t')" "$sent" "$(( $(sink_count) - SINK0 ))" "$late" >> "$WORK/samples.tsv"
    tail -1 "$WORK/samples.tsv" | awk -F'\t' '{ printf "[bench] t=%ss rss=%.1fMiB threads=%s fds=%s live=%.1fMiB backlog=%s accepted=%s forwarded=%s sent=%s late=%s\n", $1, $2/1024, $3, $4, $5/1048576, $15, $9, $11, $16, $18 }' >&2
}
record
END=$((T_START + MINUTES * 60))
while [ $SECONDS -lt "$END" ]; do
    next=$(( SECONDS + SAMPLE )); [ "$next" -gt "$END" ] && next=$END
    while [ $SECONDS -lt "$next" ]; do
        kill -0 "$SOAK_PID" 2>/dev/null || { cat "$WORK/soak.err" >&2; die "the process under test died"; }
        sleep 1
    done
    record
done
touch "$WORK/load.stop"
wait "$LOAD_PID" || true
LOAD_PID=""
read -r SENT LATE LOAD_FAILED < "$WORK/load.state"
TOTAL_SENT=$((SENT + CALIB_MSGS))
log "load stopped: $SENT messages sent in the steady phase ($LATE late seconds, $LOAD_FAILED failed bursts); draining"

# End of input: soak.ps1 stops the proxy, waits for the spool to empty, stops the forwarder.
exec 8>&-
deadline=$((SECONDS + 400))
while kill -0 "$SOAK_PID" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die "soak.ps1 did not stop within 400 s"
    sleep 0.2
done
wait "$SOAK_PID" || { cat "$WORK/soak.err" >&2; die "soak.ps1 failed"; }
SOAK_PID=""
read -r _ ACCEPTED REFUSED SESSIONS FORWARDED DEFERRED FAILED ERRORS BACKLOG < <(grep '^stopped ' "$WORK/soak.out")
sleep 1
SUNK=$(sink_count)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
LOAD_ERRORS=$(grep -ci 'error\|fatal\|warning' "$WORK/load.log" || true)

# ---- report -------------------------------------------------------------------------------------
# fit COLUMN → "slope_per_hour mean first last" over the last WINDOW_MIN minutes of samples.
fit() {
    awk -F'\t' -v c="$1" -v from="$(( (MINUTES - WINDOW_MIN) * 60 ))" 'NR > 1 && $1 >= from {
        n++; x = $1 / 3600; y = $c; sx += x; sy += y; sxx += x * x; sxy += x * y; if (n == 1) f = y; l = y }
        END { d = n * sxx - sx * sx; s = d ? (n * sxy - sx * sy) / d : 0; printf "%.3f %.3f %s %s\n", s, sy / n, f, l }' "$WORK/samples.tsv"
}
[ "$WINDOW_MIN" -le "$MINUTES" ] || WINDOW_MIN=$MINUTES
VERDICT_ROWS="" ALL_FLAT=1
# name column floor unit scale
for spec in "RSS:2:4096:MiB:1024" "GC live heap:5:2097152:MiB:1048576" "threads:3:3::1" "file descriptors:4:5::1" "spool backlog:15:2000::1"; do
    IFS=: read -r name col floor unit scale <<<"$spec"
    read -r slope mean first last <<<"$(fit "$col")"
    # Flat: the fitted change over the window is within 5 % of its mean, or within the floor
    # (sampling noise: in-flight sessions and bursts move fds and threads by a few).
    change=$(awk -v s="$slope" -v w="$WINDOW_MIN" 'BEGIN { printf "%.3f", s * w / 60 }')
    ok=$(awk -v ch="$change" -v m="$mean" -v f="$floor" 'BEGIN { a = ch < 0 ? -ch : ch; print (a <= 0.05 * m || a <= f) ? "flat" : (ch > 0 ? "GROWING" : "falling") }')
    [ "$ok" = GROWING ] && ALL_FLAT=0
    VERDICT_ROWS+=$(awk -v n="$name" -v s="$slope" -v ch="$change" -v m="$mean" -v f="$first" -v l="$last" -v sc="$scale" -v u="$unit" -v ok="$ok" \
        'BEGIN { printf "| %s | %.1f %s | %.1f %s | %.1f %s | %+.2f %s/h | %+.1f %s | %s |\n", n, f / sc, u, l / sc, u, m / sc, u, s / sc, u, ch / sc, u, ok }')$'\n'
done
LOST=$(( ACCEPTED - FORWARDED ))
{
    echo "# Soak benchmark"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), .NET SDK $(dotnet --version 2>/dev/null), Postfix $(postconf -dh mail_version);"
    echo "spool on: $( [ "$FS" = ext4 ] && echo "a fresh journaled ext4 loop image" || echo "the temp directory's file system ($(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK"))" )."
    echo "Load average at start $LOAD_START, at end $LOAD_END (the machine may be shared)."
    echo
    echo "Proxy (example rules, -NoReverseLookup, NXDOMAIN DNS on loopback) and forwarder (-MaxConnections $FWD_CONNECTIONS,"
    echo "to smtp-sink) in one pwsh. Calibration: $CALIB_MSGS messages of $SIZE bytes with $CALIB_SESSIONS sessions, accepted at"
    echo "$ACCEPT_PEAK msgs/s, $E2E_PEAK msgs/s end to end (until the sink had them all). Steady phase: $MINUTES min at"
    echo "$RATE msgs/s (one smtp-source burst of $RATE messages, $BURST_SESSIONS sessions, at the start of every second;"
    echo "$LATE seconds started late, $LOAD_FAILED bursts failed, $LOAD_ERRORS error lines from smtp-source)."
    echo
    echo "| t s | RSS MiB | GC live MiB | GC heap MiB | committed MiB | gen2 GCs | threads | fds | backlog | accepted | forwarded | deferred | sent | sunk |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' 'NR > 1 { printf "| %s | %.1f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2 / 1024, $5 / 1048576, $6 / 1048576, $7 / 1048576, $8, $3, $4, $15, $9, $11, $12, $16, $17 }' "$WORK/samples.tsv"
    echo
    echo "## Verdict: $( [ "$ALL_FLAT" = 1 ] && echo "flat" || echo "NOT flat" ) (least-squares slope over the last $WINDOW_MIN minutes)"
    echo
    echo "| quantity | first | last | mean | slope | fitted change over the window | |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '%s' "$VERDICT_ROWS"
    echo
    echo "Flat = the fitted change over the window is within 5 % of the mean or within a floor for sampling"
    echo "noise (RSS 4 MiB, live heap 2 MiB, 3 threads, 5 fds, 2000 messages of backlog)."
    echo
    echo "## Nothing lost"
    echo
    echo "| sent (calibration + steady) | accepted | refused | sessions | forwarded | deferred | failed | spool errors | left in spool | counted by the sink |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "| $TOTAL_SENT | $ACCEPTED | $REFUSED | $SESSIONS | $FORWARDED | $DEFERRED | $FAILED | $ERRORS | $BACKLOG | $SUNK |"
    echo
    if [ "$TOTAL_SENT" = "$ACCEPTED" ] && [ "$ACCEPTED" = "$FORWARDED" ] && [ "$FORWARDED" = "$SUNK" ] && [ "$BACKLOG" = 0 ]; then
        echo "Every message sent was accepted, forwarded once and counted once by the sink."
    else
        echo "**Mismatch**: sent $TOTAL_SENT, accepted $ACCEPTED, forwarded $FORWARDED (accepted - forwarded = $LOST), sink $SUNK, left $BACKLOG."
    fi
} > "$WORK/report.md"
mkdir -p "$(dirname "$REPORT")"
cp "$WORK/report.md" "$REPORT"
cp "$WORK/samples.tsv" "${REPORT%.md}.tsv"
echo
cat "$WORK/report.md"
echo
log "written to ${REPORT#"$ROOT"/}"
