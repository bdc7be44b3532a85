#!/usr/bin/env bash
# Forwarding benchmark: messages per second drained from a full spool to Postfix's smtp-sink on
# 127.0.0.1, by our forwarder (Start-SmtpFwd -Once in a fresh pwsh) and by Postfix's own queue
# manager and smtp client as the reference, same sink, same machine, same run. See README.md
# beside this file. Every connection goes to 127.0.0.1; every wait has a deadline.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

# ---- knobs (environment) -------------------------------------------------------------------
MSGS=${BENCH_MSGS:-10000}                 # messages per spool / queue
SIZE=${BENCH_SIZE:-1024}                  # smtp-source -l
CONNECTIONS=${BENCH_CONNECTIONS:-"1 20"}  # ours -MaxConnections = Postfix smtp_destination_concurrency_limit
REPEAT=${BENCH_REPEAT:-3}                 # runs per case and side; the median is reported
FILL_SESSIONS=${BENCH_FILL_SESSIONS:-10}  # smtp-source -s while filling (not measured)
WARMUP=${BENCH_WARMUP:-500}               # messages through each side first, not measured (0: none)
SIDES=${BENCH_SIDES:-"ours postfix"}      # "postfix" alone: the reference half only
FS=${BENCH_FS:-ext4}                      # ext4: a fresh journaled ext4 loop image per side (root);
                                          # tmp: the temp directory's file system
FS_SIZE=${BENCH_FS_SIZE:-4G}              # size of each loop image (sparse)
BUILD=${BENCH_BUILD:-1}                   # 0: use out/SmtpdModule as it is
CASE_TIMEOUT=${BENCH_CASE_TIMEOUT:-600}   # seconds one fill or one drain may take
PROFILE=${BENCH_PROFILE:-0}               # 1: also strace -c both sides for one more drain per case
FWD_ENV=${BENCH_FWD_ENV:-}                # NAME=VALUE ... for the forwarder's process
MODES=${BENCH_FWD_MODES:-"once resident"} # once: a fresh process per drain; resident: one that stays up
RESIDENT_WARMUP=${BENCH_RESIDENT_WARMUP:-20000}  # messages the resident forwarder drains before the runs
REPORT=${BENCH_REPORT:-$ROOT/out/bench-forward.md}

MODULE="$ROOT/out/SmtpdModule"
RULES="$ROOT/examples/smtpd_check_rules"
DNS_TOOL="$ROOT/tests/tools/Start-TestDns.ps1"
DNS_FIXTURE="$ROOT/tests/fixtures/dns-nxdomain"

# log, die, ensure_postfix, ensure_module, free_port, wait_listener, proc_ticks, postfix_ticks,
# cpu_sample, server_root, start_postfix, pf_queue_files, pf_delivered, pf_wait_drained, start_sink,
# sink_count, sink_sessions, start_sampler, stop_sampler, spool_ready, spool_messages, await_ready,
# spool_status_files, median
. "$HERE/../lib.sh"

has_side() { case " $SIDES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has_mode() { case " $MODES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# What takes turns in each run: ours as a fresh process ("ours"), ours resident, Postfix.
TURNS=""
if has_side ours; then has_mode once && TURNS+=" ours"; has_mode resident && TURNS+=" resident"; fi
has_side postfix && TURNS+=" postfix"

# ---- work area ---------------------------------------------------------------------------------

WORK=$(mktemp -d -t smtpd-fwd-bench.XXXXXX)
chmod 755 "$WORK"   # the Postfix daemons run as 'postfix' and must reach their queue below
MSGS_NOW=$MSGS RESULT="" SAMPLER_MAX=0
POSTFIX_CONF="" MOUNTS="" SINK_PID="" FILL_PID="" KNOTD_PID="" SAMPLER_PID="" STRACE_PID="" RES_PID=""

cleanup() {
    set +e
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
    [ -n "$STRACE_PID" ] && kill "$STRACE_PID" 2>/dev/null
    if [ -n "$FILL_PID" ]; then
        exec 8>&- 2>/dev/null   # fill.ps1 stops the proxy and the DNS server at end of input
        for _ in $(seq 1 100); do kill -0 "$FILL_PID" 2>/dev/null || break; sleep 0.1; done
        kill "$FILL_PID" 2>/dev/null
    fi
    [ -n "$KNOTD_PID" ] && kill "$KNOTD_PID" 2>/dev/null
    if [ -n "$RES_PID" ]; then
        exec 5>&- 2>/dev/null   # resident.ps1 ends at end of input
        for _ in $(seq 1 100); do kill -0 "$RES_PID" 2>/dev/null || break; sleep 0.1; done
        kill "$RES_PID" 2>/dev/null
    fi
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
    [ -n "$POSTFIX_CONF" ] && postfix -c "$POSTFIX_CONF" stop >/dev/null 2>&1
    for _ in $(seq 1 50); do [ -n "${PF_MASTER:-}" ] && kill -0 "$PF_MASTER" 2>/dev/null || break; sleep 0.1; done
    wait 2>/dev/null
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }

# ---- filling -----------------------------------------------------------------------------------

# source_to PORT → smtp-source's conversation, as bench/smtp runs it, MSGS messages of SIZE.
source_to() {
    local port=$1 rc=0
    timeout "$CASE_TIMEOUT" smtp-source -4 -s "$FILL_SESSIONS" -m "$MSGS_NOW" -l "$SIZE" -r 1 \
        -M bench-client.invalid -f sender@bench-client.invalid -t rcpt@example.test \
        "127.0.0.1:$port" >"$WORK/source.log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        cat "$WORK/source.log" >&2
        die "smtp-source -m $MSGS_NOW against port $port failed (exit $rc)"
    fi
}

# fill_ours SPOOL: a fresh spool filled by the real proxy (fill.ps1), which is then stopped.
fill_ours() {
    local spool=$1 fifo="$WORK/fill.fifo" line port t0 t1 deadline
    rm -f "$fifo" "$WORK/fill.out" "$WORK/fill.err"
    mkfifo "$fifo"
    # TMPDIR: Start-TestDns.ps1 makes its directory in the temp directory; keep it in ours.
    (cd "$ROOT" && exec env TMPDIR="$WORK" dotnet pwsh -NoProfile -NonInteractive -File "$HERE/fill.ps1" \
        -ModulePath "$MOD" -RulesPath "$RULES" -SpoolPath "$spool" \
        -DnsTool "$DNS_TOOL" -DnsFixture "$DNS_FIXTURE") <"$fifo" >"$WORK/fill.out" 2>"$WORK/fill.err" &
    FILL_PID=$!
    exec 8>"$fifo"   # fill.ps1 waits for a line or end of input on this
    await_ready "$FILL_PID" "$WORK/fill.out" "$WORK/fill.err" "fill.ps1 (the proxy)"
    read -r _ port _ KNOTD_PID < <(grep '^ready ' "$WORK/fill.out")
    t0=$(now_ns)
    source_to "$port"
    t1=$(now_ns)
    echo stop >&8
    exec 8>&-
    deadline=$((SECONDS + 60))
    while kill -0 "$FILL_PID" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || die "fill.ps1 did not stop within 60 s"
        sleep 0.1
    done
    wait "$FILL_PID" || { cat "$WORK/fill.err" >&2; die "fill.ps1 failed"; }
    FILL_PID=""
    if kill -0 "$KNOTD_PID" 2>/dev/null; then die "the DNS server (pid $KNOTD_PID) is still running"; fi
    KNOTD_PID=""
    rm -f "$fifo"
    local n
    n=$(spool_ready "$spool")
    [ "$n" = "$MSGS_NOW" ] || { cat "$WORK/fill.out" >&2; die "the proxy spooled $n of $MSGS_NOW messages"; }
    log "ours    filled: $n messages in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s ($(grep '^stopped' "$WORK/fill.out"))"
}

pf_count() { find "$WORK/postfix/queue/$1" -type f 2>/dev/null | wc -l; }

# fill_postfix: MSGS messages into the private Postfix, each put on hold by
# smtpd_end_of_data_restrictions, then released from hold into the deferred queue with
# postsuper -H: queued, due, and untouched by qmgr until postqueue -f.
fill_postfix() {
    local t0 t1 deadline
    pf_wait_drained 60 || die "the Postfix queue is not empty before filling"
    t0=$(now_ns)
    source_to "$PF_PORT"
    t1=$(now_ns)
    deadline=$((SECONDS + 60))
    until [ "$(pf_count hold)" = "$MSGS_NOW" ] && [ "$(pf_count incoming)" = 0 ]; do
        [ $SECONDS -lt $deadline ] || die "Postfix holds $(pf_count hold) of $MSGS_NOW messages"
        sleep 0.2
    done
    postsuper -c "$POSTFIX_CONF" -H ALL 2>/dev/null
    [ "$(pf_count deferred)" = "$MSGS_NOW" ] || die "postsuper -H left $(pf_count deferred) of $MSGS_NOW messages in deferred/"
    log "postfix filled: $MSGS_NOW messages in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s, released from hold into deferred/"
}

# Before each timed drain: everything the fill wrote reaches the disk, so that write-back does
# not run during the drain (both sides fsynced their files already; this is the directories' and
# the journal's remaining work).
settle() { sync; sleep 1; }

# ---- draining ----------------------------------------------------------------------------------

# drain_ours SPOOL CONNECTIONS → RESULT="elapsed_s wall_s start+import_s cpu_ms_per_msg
# max_conns sessions start_s exit_s status_files_left"
drain_ours() {
    local spool=$1 c=$2 before after t0 t1 rc=0 line cpu maxc sess0
    before=$(sink_count)
    sess0=$(sink_sessions)
    start_sampler
    t0=$(now_ns)
    # shellcheck disable=SC2086 # FWD_ENV is a list of NAME=VALUE words
    { TIMEFORMAT='%3U %3S'; time (cd "$ROOT" && timeout "$CASE_TIMEOUT" env $FWD_ENV ${STRACE_OURS:-} dotnet pwsh -NoProfile -NonInteractive \
        -File "$HERE/drain.ps1" -ModulePath "$MOD" -SpoolPath "$spool" -SmartHost "127.0.0.1:$SINK_PORT" \
        -MaxConnections "$c" >"$WORK/drain.out" 2>"$WORK/drain.err"); } 2>"$WORK/drain.time" || rc=$?
    t1=$(now_ns)
    stop_sampler
    maxc=$SAMPLER_MAX
    [ "$rc" = 0 ] || { cat "$WORK/drain.out" "$WORK/drain.err" >&2; die "Start-SmtpFwd failed (exit $rc)"; }
    line=$(grep '^summary ' "$WORK/drain.out") || { cat "$WORK/drain.out" "$WORK/drain.err" >&2; die "no summary from Start-SmtpFwd"; }
    local elapsed ts ti td status
    read -r _ _ _ _ _ _ elapsed ts ti td <<<"$line"
    check_drained "$spool" "$line" "$before"
    status=$(spool_status_files "$spool")
    [ -s "$WORK/drain.err" ] && { log "Start-SmtpFwd wrote to stderr:"; head -20 "$WORK/drain.err" >&2; }
    # (no exec in that subshell: "time ( exec ... )" reports nothing)
    local user=0 sys=0
    read -r user sys < "$WORK/drain.time" || true
    cpu=$(awk -v u="$user" -v s="$sys" -v m="$MSGS_NOW" 'BEGIN { printf "%.3f", (u + s) * 1000 / m }')
    # wall: the whole process; start: process start + Import-Module, before Start-SmtpFwd ran.
    RESULT=$(awk -v e="$elapsed" -v t0="$t0" -v t1="$t1" -v ts="$ts" -v ti="$ti" -v td="$td" -v cpu="$cpu" -v mx="$maxc" -v st="$status" -v ss="$(( $(sink_sessions) - sess0 ))" 'BEGIN {
        printf "%.3f %.3f %.3f %.3f %s %s %.3f %.3f %s\n", e, (t1 - t0) / 1e9, (ti - t0) / 1e9, cpu, mx, ss, (ts - t0) / 1e9, (t1 - td) / 1e9, st }')
}

# check_drained SPOOL SUMMARY_LINE SINK_COUNT_BEFORE: every message forwarded, none left, the sink
# counted them all.
check_drained() {
    local spool=$1 line=$2 before=$3 fwd def fail err after left
    read -r _ fwd def fail _ err _ <<<"$line"
    sleep 0.5   # the sink counts a session when it ends; the last QUITs may still be in flight
    after=$(sink_count)
    left=$(spool_messages "$spool")
    [ "$fwd" = "$MSGS_NOW" ] && [ "$def" = 0 ] && [ "$fail" = 0 ] && [ "$err" = 0 ] \
        || die "Start-SmtpFwd: Forwarded $fwd Deferred $def Failed $fail Errors $err (expected $MSGS_NOW forwarded)"
    [ "$left" = 0 ] || die "the spool still holds $left messages after the drain"
    [ $((after - before)) = "$MSGS_NOW" ] || die "smtp-sink counted $((after - before)) of $MSGS_NOW messages"
}

# start_resident: the forwarder process that stays up (resident.ps1), asked on fd 5, answering in
# resident.out.
start_resident() {
    local fifo="$WORK/resident.fifo"
    mkfifo "$fifo"
    # shellcheck disable=SC2086 # FWD_ENV is a list of NAME=VALUE words
    (cd "$ROOT" && exec env $FWD_ENV dotnet pwsh -NoProfile -NonInteractive -File "$HERE/resident.ps1" \
        -ModulePath "$MOD" -SmartHost "127.0.0.1:$SINK_PORT") <"$fifo" >"$WORK/resident.out" 2>"$WORK/resident.err" &
    RES_PID=$!
    exec 5>"$fifo"
    await_ready "$RES_PID" "$WORK/resident.out" "$WORK/resident.err" "resident.ps1"
    RES_PID=$(awk '/^ready /{ print $2; exit }' "$WORK/resident.out")
}

# drain_resident SPOOL CONNECTIONS → RESULT="elapsed_s cpu_ms_per_msg max_conns sessions"
# CPU: the resident process's, during this drain only (it has no start-up to count).
drain_resident() {
    local spool=$1 c=$2 before sess0 c0 c1 answered deadline line
    before=$(sink_count)
    sess0=$(sink_sessions)
    answered=$(grep -c '^summary ' "$WORK/resident.out" || true)
    start_sampler
    c0=$(proc_ticks "$RES_PID")
    printf '%s\t%s\n' "$spool" "$c" >&5
    deadline=$((SECONDS + CASE_TIMEOUT))
    while [ "$(grep -c '^summary ' "$WORK/resident.out" || true)" -le "$answered" ]; do
        kill -0 "$RES_PID" 2>/dev/null || { cat "$WORK/resident.err" >&2; die "resident.ps1 ended"; }
        [ $SECONDS -lt $deadline ] || die "the resident forwarder did not drain within $CASE_TIMEOUT s"
        sleep 0.05
    done
    c1=$(proc_ticks "$RES_PID")
    stop_sampler
    line=$(grep '^summary ' "$WORK/resident.out" | tail -1)
    check_drained "$spool" "$line" "$before"
    RESULT=$(awk -v l="$line" -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v m="$MSGS_NOW" -v mx="$SAMPLER_MAX" -v ss="$(( $(sink_sessions) - sess0 ))" 'BEGIN {
        split(l, f, " "); printf "%.3f %.3f %s %s\n", f[7], t / hz * 1000 / m, mx, ss }')
}

# drain_postfix → RESULT="elapsed_s cpu_ms_per_msg max_conns sessions"
drain_postfix() {
    local before after t0 t1 p0 p1 sent0 deadline maxc sess0
    before=$(sink_count)
    sess0=$(sink_sessions)
    sent0=$(pf_delivered)
    p0=$(postfix_ticks "$PF_MASTER")
    start_sampler
    t0=$(now_ns)
    [ "$(sink_count)" = "$before" ] || die "Postfix delivered before the release"
    postqueue -c "$POSTFIX_CONF" -f
    deadline=$((SECONDS + CASE_TIMEOUT))
    # Cheap polling while the sink counts (a tail of its output), then until the queue is empty.
    while [ $(( $(sink_count) - before )) -lt "$MSGS_NOW" ]; do
        [ $SECONDS -lt $deadline ] || die "Postfix delivered $(( $(sink_count) - before )) of $MSGS_NOW within $CASE_TIMEOUT s"
        sleep 0.05
    done
    while [ "$(pf_queue_files)" != 0 ]; do
        [ $SECONDS -lt $deadline ] || die "the Postfix queue did not empty within $CASE_TIMEOUT s"
        sleep 0.05
    done
    t1=$(now_ns)
    stop_sampler
    maxc=$SAMPLER_MAX
    p1=$(postfix_ticks "$PF_MASTER")
    # Postfix keeps idle connections to the relayhost open for smtp_connection_cache_time_limit
    # (2 s); the sink counts a session when it ends.
    sleep 2.5
    after=$(sink_count)
    [ $((after - before)) = "$MSGS_NOW" ] || die "smtp-sink counted $((after - before)) of $MSGS_NOW messages from Postfix"
    local sent=$(( $(pf_delivered) - sent0 ))
    [ "$sent" = "$MSGS_NOW" ] || log "warning: the Postfix log shows $sent of $MSGS_NOW messages sent"
    RESULT=$(awk -v t0="$t0" -v t1="$t1" -v p="$((p1 - p0))" -v k="$TICK" -v m="$MSGS_NOW" -v mx="$maxc" -v ss="$(( $(sink_sessions) - sess0 ))" 'BEGIN {
        printf "%.3f %.3f %s %s\n", (t1 - t0) / 1e9, p / k * 1000 / m, mx, ss }')
}

# Postfix's counterpart of -MaxConnections: the smtp transport's per-destination concurrency
# (all mail goes to the one relayhost). qmgr starts at initial_destination_concurrency (5, or
# the limit if lower) and raises it as deliveries succeed, as it always does.
pf_concurrency() {
    postconf -c "$POSTFIX_CONF" -e "smtp_destination_concurrency_limit=$1"
    postfix -c "$POSTFIX_CONF" reload >/dev/null 2>&1 || die "postfix reload failed"
    sleep 2
}

# ---- main -----------------------------------------------------------------------------------------

command -v python3 >/dev/null 2>&1 || die "python3 is required"
ensure_postfix
command -v smtp-sink >/dev/null 2>&1 || die "smtp-sink (Debian's postfix package) is missing"
TICK=$(getconf CLK_TCK)
if has_side ours; then
    command -v knotd >/dev/null 2>&1 || die "knotd (Debian's knot package) is needed for the proxy's DNS server: tests/tools/install-test-deps.sh"
    ensure_module
    # A private copy: a build elsewhere in the tree during the run cannot change what is measured.
    mkdir -p "$WORK/module"
    cp -r "$MODULE" "$WORK/module/SmtpdModule"
    MOD="$WORK/module/SmtpdModule/SmtpdModule.psd1"
    (cd "$ROOT" && dotnet pwsh -NoProfile -NonInteractive -Command \
        "Import-Module '$MOD'; if (-not (Get-Command Start-SmtpFwd -ErrorAction SilentlyContinue)) { exit 3 }") \
        || die "the module has no Start-SmtpFwd yet (BENCH_SIDES=postfix runs the reference half alone)"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

start_sink
if has_side ours; then server_root ours; fi
# Postfix: everything to the smart host through smtp(8); held on arrival (see fill_postfix);
# in_flow_delay 0 because nothing is delivered while filling, so qmgr hands cleanup no tokens
# and every message would otherwise wait up to a second; no periodic deferred-queue scan
# (queue_run_delay) to start a delivery before the timed postqueue -f.
PF_MAIN_EXTRA=(
    "default_transport=smtp"
    "relay_transport=smtp"
    "relayhost=[127.0.0.1]:$SINK_PORT"
    "smtp_tls_security_level=none"
    "smtpd_end_of_data_restrictions=check_client_access static:HOLD"
    "in_flow_delay=0"
    "queue_run_delay=3600s"
    "minimal_backoff_time=3600s"
    "maximal_backoff_time=7200s"
)
# pickup: postqueue -f kicks it (and fails without it); nothing is ever posted to maildrop/.
PF_MASTER_EXTRA=("smtp/unix=smtp unix - - n - - smtp" "pickup/unix=pickup unix n - n 60 1 pickup")
if has_side postfix; then start_postfix; fi

if [ "$WARMUP" -gt 0 ]; then
    log "warm-up (not measured): $WARMUP messages through each side"
    MSGS_NOW=$WARMUP
    if has_side ours; then fill_ours "$WORK/ours/warmup"; drain_ours "$WORK/ours/warmup" 20; rm -rf "$WORK/ours/warmup"; fi
    if has_side postfix; then pf_concurrency 20; fill_postfix; drain_postfix; fi
fi
if [[ " $TURNS " == *" resident "* ]]; then
    start_resident
    log "resident forwarder up (pid $RES_PID); warm-up (not measured): $RESIDENT_WARMUP messages through it"
    left=$RESIDENT_WARMUP
    while [ "$left" -gt 0 ]; do
        MSGS_NOW=$(( left < MSGS ? left : MSGS ))
        fill_ours "$WORK/ours/warmup"; drain_resident "$WORK/ours/warmup" 20; rm -rf "$WORK/ours/warmup"
        log "resident warm-up: $MSGS_NOW drained at $(awk -v m="$MSGS_NOW" -v r="$RESULT" 'BEGIN { split(r, f, " "); printf "%.1f", m / f[1] }') msgs/s"
        left=$((left - MSGS_NOW))
    done
fi
MSGS_NOW=$MSGS

declare -A OURS_RATE PF_RATE OURS_BEST PF_BEST OURS_CPU PF_CPU OURS_WALL OURS_START OURS_CONNS PF_CONNS
declare -A RES_RATE RES_BEST RES_CPU RES_CONNS
for c in $CONNECTIONS; do
    has_side postfix && pf_concurrency "$c"
    declare -A RATES=([ours]="" [resident]="" [postfix]="") CPUS=([ours]="" [resident]="" [postfix]="") CONNS=([ours]="" [resident]="" [postfix]="")
    WALLS="" STARTS=""
    for r in $(seq 1 "$REPEAT"); do
        # Take turns going first: the machine may be shared and load drifts.
        read -r -a turns <<<"$TURNS"
        n=${#turns[@]} order=""
        for i in $(seq 0 $((n - 1))); do order+=" ${turns[$(( (i + r - 1) % n ))]}"; done
        for who in $order; do
            if [ "$who" = resident ]; then
                spool="$WORK/ours/spool-c$c-r$r"
                fill_ours "$spool"
                settle
                drain_resident "$spool" "$c"
                read -r secs cpu maxc sess <<<"$RESULT"
                rm -rf "$spool"
                extra=""
            elif [ "$who" = ours ]; then
                spool="$WORK/ours/spool-c$c-r$r"
                fill_ours "$spool"
                settle
                drain_ours "$spool" "$c"
                read -r secs wall start cpu maxc sess pwsh_start teardown status <<<"$RESULT"
                WALLS+=" $wall"; STARTS+=" $start"
                rm -rf "$spool"
                extra=" (process $wall s: start $pwsh_start s + import $(awk -v a="$start" -v b="$pwsh_start" 'BEGIN { printf "%.3f", a - b }') s before Start-SmtpFwd, exit $teardown s after; status files left $status)"
            else
                fill_postfix
                settle
                drain_postfix
                read -r secs cpu maxc sess <<<"$RESULT"
                extra=""
            fi
            rate=$(awk -v m="$MSGS" -v t="$secs" 'BEGIN { printf "%.1f", m / t }')
            RATES[$who]+=" $rate"; CPUS[$who]+=" $cpu"; CONNS[$who]+=" $maxc"
            log "$(printf '%-8s' "$who") connections=$c run $r: $MSGS msgs drained in ${secs} s = $rate msgs/s, CPU $cpu ms/msg, max $maxc connections, $sess sessions$extra"
        done
    done
    for who in $TURNS; do
        rates=${RATES[$who]} cpus=${CPUS[$who]}
        if [ "$who" = resident ]; then
            RES_RATE[$c]=$(echo "$rates" | median); RES_BEST[$c]=$(echo "$rates" | tr ' ' '\n' | sort -g | tail -1)
            RES_CPU[$c]=$(echo "$cpus" | median %.3f); RES_CONNS[$c]=$(echo "${CONNS[$who]}" | tr ' ' '\n' | sort -g | tail -1)
        elif [ "$who" = ours ]; then
            OURS_RATE[$c]=$(echo "$rates" | median); OURS_BEST[$c]=$(echo "$rates" | tr ' ' '\n' | sort -g | tail -1)
            OURS_CPU[$c]=$(echo "$cpus" | median %.3f); OURS_CONNS[$c]=$(echo "${CONNS[$who]}" | tr ' ' '\n' | sort -g | tail -1)
            OURS_WALL[$c]=$(echo "$WALLS" | median %.2f); OURS_START[$c]=$(echo "$STARTS" | median %.2f)
        else
            PF_RATE[$c]=$(echo "$rates" | median); PF_BEST[$c]=$(echo "$rates" | tr ' ' '\n' | sort -g | tail -1)
            PF_CPU[$c]=$(echo "$cpus" | median %.3f); PF_CONNS[$c]=$(echo "${CONNS[$who]}" | tr ' ' '\n' | sort -g | tail -1)
        fi
    done
done

# ---- optional: system calls of both sides, one more drain each -------------------------------
PROFILE_TEXT=""
if [ "$PROFILE" = 1 ] && command -v strace >/dev/null 2>&1; then
    for c in $CONNECTIONS; do
        if has_side ours; then
            log "profile: strace -c -f on Start-SmtpFwd, $MSGS messages, $c connections"
            spool="$WORK/ours/spool-profile-c$c"
            fill_ours "$spool"
            settle
            STRACE_OURS="strace -c -f -o $WORK/strace-ours.txt"
            drain_ours "$spool" "$c"
            read -r secs _ <<<"$RESULT"
            STRACE_OURS=""
            rm -rf "$spool"
            PROFILE_TEXT+="### ours, $c connections (drain $secs s under strace)"$'\n\n```\n'"$(head -40 "$WORK/strace-ours.txt")"$'\n```\n\n'
        fi
        if has_side postfix; then
            log "profile: strace -c -f on the Postfix instance, $MSGS messages, $c connections"
            pf_concurrency "$c"
            fill_postfix
            settle
            pids=$(ps -o pid= --ppid "$PF_MASTER" | tr -s ' \n' ' ')
            # shellcheck disable=SC2086
            strace -c -f -o "$WORK/strace-postfix.txt" -p "$PF_MASTER" $(printf -- '-p %s ' $pids) 2>/dev/null &
            STRACE_PID=$!
            sleep 1
            drain_postfix
            read -r secs _ <<<"$RESULT"
            kill -INT "$STRACE_PID" 2>/dev/null || true
            wait "$STRACE_PID" 2>/dev/null || true
            STRACE_PID=""
            PROFILE_TEXT+="### Postfix, $c connections (drain $secs s under strace; master and all its processes)"$'\n\n```\n'"$(head -40 "$WORK/strace-postfix.txt")"$'\n```\n\n'
        fi
    done
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------------------------

{
    echo "# Forwarding benchmark"
    echo
    report_preamble "spools" side
    [ -n "$FWD_ENV" ] && echo "Forwarder environment: $FWD_ENV."
    echo
    echo "$MSGS messages of $SIZE bytes (smtp-source -l) drained to one smtp-sink on 127.0.0.1; median (and best)"
    echo "of $REPEAT runs, sides alternating. Ours: Start-SmtpFwd -Once, rate from the summary's Elapsed."
    echo "Postfix: postqueue -f until the queue is empty."
    echo
    echo "| connections | ours msgs/s | Postfix msgs/s | ratio | ours best | Postfix best | ours process wall s | ours start+import s | ours CPU ms/msg | Postfix CPU ms/msg | most connections seen ours / Postfix |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for c in $CONNECTIONS; do
        o=${OURS_RATE[$c]:-} p=${PF_RATE[$c]:-}
        ratio=$(ratio_cell "$o" "$p")
        echo "| $c | ${o:--} | ${p:--} | $ratio | ${OURS_BEST[$c]:--} | ${PF_BEST[$c]:--} | ${OURS_WALL[$c]:--} | ${OURS_START[$c]:--} | ${OURS_CPU[$c]:--} | ${PF_CPU[$c]:--} | ${OURS_CONNS[$c]:--} / ${PF_CONNS[$c]:--} |"
    done
    if [[ " $TURNS " == *" resident "* ]]; then
        echo
        echo "Ours resident: the same drains by one forwarder process that stays up between them (resident.ps1,"
        echo "Start-SmtpFwd -Once in a running pwsh, as a service runs it), warmed up with $RESIDENT_WARMUP messages;"
        echo "CPU is that process's during the drain. Postfix: the same runs as above."
        echo
        echo "| connections | ours resident msgs/s | Postfix msgs/s | ratio | ours resident best | ours resident CPU ms/msg | Postfix CPU ms/msg | most connections seen |"
        echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
        for c in $CONNECTIONS; do
            o=${RES_RATE[$c]:-} p=${PF_RATE[$c]:-}
            ratio=$(ratio_cell "$o" "$p")
            echo "| $c | ${o:--} | ${p:--} | $ratio | ${RES_BEST[$c]:--} | ${RES_CPU[$c]:--} | ${PF_CPU[$c]:--} | ${RES_CONNS[$c]:--} |"
        done
    fi
    echo
    echo "Target (issue 20): ratio >= 3.0 at 20 connections."
    echo
    echo "ours msgs/s = messages / ForwardSummary.Elapsed (the drain inside Start-SmtpFwd). Process wall"
    echo "= the whole 'dotnet pwsh -File drain.ps1' process; start+import = from launching it until"
    echo "Import-Module returned. CPU ms/msg: ours, the forwarder process (user+system, start-up included);"
    echo "Postfix, master and all its processes (qmgr, smtp, logging). Most connections: client"
    echo "connections to the sink, sampled every 0.2 s."
    if [ -n "$PROFILE_TEXT" ]; then
        echo
        echo "## strace -c -f"
        echo
        printf '%s' "$PROFILE_TEXT"
    fi
} > "$WORK/report.md"

mkdir -p "$(dirname "$REPORT")"
cp "$WORK/report.md" "$REPORT"
echo
cat "$WORK/report.md"
echo
log "written to ${REPORT#"$ROOT"/}"
