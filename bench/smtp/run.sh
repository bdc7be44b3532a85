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

MODULE="$ROOT/out/SmtpdModule"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites ---------------------------------------------------------------------------

# smtp-source and the Postfix daemons come from Debian's postfix package. Installed with
# "No configuration" (no main.cf, so no system instance is set up) and with service starts
# denied through policy-rc.d, so nothing ends up listening on port 25.
ensure_postfix() {
    if command -v smtp-source >/dev/null 2>&1 && command -v postfix >/dev/null 2>&1 \
        && [ -x "$(postconf -dh daemon_directory 2>/dev/null)/smtpd" ]; then
        return
    fi
    [ "$(id -u)" = 0 ] || die "postfix is not installed and this is not root: apt-get install postfix first"
    command -v apt-get >/dev/null 2>&1 || die "postfix is not installed and there is no apt-get"
    log "installing postfix (smtp-source) with apt-get"
    local guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# bench/smtp/run.sh: no service starts while postfix installs\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        guard=/usr/sbin/policy-rc.d
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >&2 || rc=$?
    if [ "$rc" != 0 ]; then
        apt-get update -q >&2
        rc=0
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >&2 || rc=$?
    fi
    [ -n "$guard" ] && rm -f "$guard"
    [ "$rc" = 0 ] || die "apt-get install postfix failed"
    # Belt and braces: if a system instance got started anyway, stop it (it was not running
    # before, since postfix was not installed).
    if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
        log "stopping the system postfix instance the package started"
        postfix stop >&2 || true
    fi
}

ensure_module() {
    if [ "$BUILD" = 1 ] || [ ! -f "$MODULE/SmtpdModule.psd1" ]; then
        log "building the module (Release)"
        (cd "$ROOT" && dotnet tool restore >/dev/null && dotnet pwsh -NoProfile ./build.ps1 -Task Build) \
            >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "build failed"; }
    fi
    [ -f "$MODULE/SmtpdModule.psd1" ] || die "no module in out/SmtpdModule"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something listens on 127.0.0.1:$1 and prints its pid; $2 = seconds.
wait_listener() {
    local port=$1 deadline=$((SECONDS + $2)) pid
    while [ $SECONDS -lt $deadline ]; do
        pid=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
        if [ -n "$pid" ]; then echo "$pid"; return 0; fi
        sleep 0.2
    done
    return 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# utime+stime of one process, in clock ticks.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# All CPU ticks of a Postfix instance: master (itself and its reaped children) plus its live children.
postfix_ticks() {
    local master=$1 total kids k
    total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$master/stat")
    kids=$(ps -o pid= --ppid "$master" 2>/dev/null || true)
    for k in $kids; do total=$((total + $(proc_ticks "$k"))); done
    echo "$total"
}
# Machine-wide busy and total jiffies (all cores).
cpu_sample() { awk '/^cpu / { idle = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i; print t - idle, t; exit }' /proc/stat; }

# ---- work area ---------------------------------------------------------------------------------

WORK=$(mktemp -d -t smtpd-bench.XXXXXX)
chmod 755 "$WORK"   # the Postfix daemons run as 'postfix' and must reach their queue below
OURS_PID="" OURS_LAUNCHER="" POSTFIX_CONF="" IDLE_PID="" MOUNTS=""
# Where each server keeps its queue: by default on a private, fresh, journaled ext4 (a loop
# image), so that neither server's files, nor anybody else's on this machine, change what a
# file operation costs the other. Why it matters: ext4 WITHOUT a journal (as some VM images
# are made) checks each candidate inode against the on-disk deletion time when it allocates
# one (recently_deleted() in fs/ext4/ialloc.c), so creating a file within minutes of many
# deletions in the same block group costs up to a millisecond of CPU, and Postfix deletes every
# queue file it delivers. BENCH_FS=tmp measures on the temp directory's file system as it is.
server_root() {
    local name=$1
    if [ "$FS" = ext4 ]; then
        [ "$(id -u)" = 0 ] || die "BENCH_FS=ext4 needs root (mount)"
        truncate -s "$FS_SIZE" "$WORK/$name.img"
        mkfs.ext4 -q -F "$WORK/$name.img" >&2
        mkdir -p "$WORK/$name"
        mount -o loop "$WORK/$name.img" "$WORK/$name" || die "cannot mount a loop image"
        MOUNTS="$MOUNTS $WORK/$name"
        chmod 755 "$WORK/$name"
    else
        mkdir -p "$WORK/$name"
    fi
}

cleanup() {
    set +e
    [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null
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

# ---- Postfix, a private instance on loopback ------------------------------------------------

start_postfix() {
    PF_PORT=$(free_port)
    local base="$WORK/postfix"
    server_root postfix
    POSTFIX_CONF="$base/etc"
    mkdir -p "$POSTFIX_CONF" "$base/queue" "$base/data"
    chmod 755 "$base"
    chown postfix "$base/data"
    local daemon_dir meta_dir shlib_dir
    daemon_dir=$(postconf -dh daemon_directory)
    meta_dir=$(postconf -dh meta_directory)
    shlib_dir=$(postconf -dh shlib_directory)
    # Deliver everything to discard: the queue file is written and fsynced by cleanup before
    # smtpd answers 250 (Postfix's default durability, untouched), then qmgr hands it to
    # discard(8) and removes it. No DNS anywhere: no peer name lookup, no MX lookups.
    cat > "$POSTFIX_CONF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $base/queue
data_directory = $base/data
daemon_directory = $daemon_dir
meta_directory = $meta_dir
shlib_directory = $shlib_dir
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.invalid
mydomain = invalid
myorigin = \$myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
default_transport = discard
relay_transport = discard
local_transport = discard
smtp_host_lookup = native
disable_dns_lookups = yes
smtpd_peername_lookup = no
biff = no
maillog_file = $base/maillog
maillog_file_prefixes = $base
EOF
    cat > "$POSTFIX_CONF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$PF_PORT inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    log "starting a private Postfix $(postconf -dh mail_version) on 127.0.0.1:$PF_PORT"
    # postfix(1) reports to a terminal or syslog only; without either, show its log file.
    postfix -c "$POSTFIX_CONF" check >&2 || die "postfix check failed (run: script -qc 'postfix -c DIR check' /dev/null)"
    postfix -c "$POSTFIX_CONF" start >&2 || { cat "$base/maillog" >&2 2>/dev/null; die "postfix start failed"; }
    wait_listener "$PF_PORT" 30 >/dev/null || die "postfix did not listen within 30 s"
    PF_MASTER=$(head -1 "$base/queue/pid/master.pid" | tr -d ' ')
    log "postfix master pid $PF_MASTER"
}

pf_queue_files() { find "$WORK/postfix/queue/"{maildrop,incoming,active,deferred,hold} -type f 2>/dev/null | wc -l; }
pf_deferred() { find "$WORK/postfix/queue/deferred" -type f 2>/dev/null | wc -l; }
pf_delivered() { local n; n=$(grep -c 'status=sent' "$WORK/postfix/maillog" 2>/dev/null || true); echo "${n:-0}"; }
# Waits (at most $1 seconds) until Postfix has delivered and removed everything queued.
pf_wait_drained() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(pf_queue_files)" = 0 ] && return 0
        sleep 0.2
    done
    return 1
}

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

# median [printf format] < "numbers separated by blanks"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk -v f="${1:-%.1f}" '{ v[NR] = $1 } END { printf f "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure_ours SESSIONS MESSAGES SIZE → appends to the result arrays
measure_ours() {
    local s=$1 m=$2 l=$3 before after p0 p1 out secs busy total
    before=$(ours_spooled)
    p0=$(proc_ticks "$OURS_PID")
    out=$(run_source "$OURS_PORT" "$s" "$m" "$l") || exit 1
    p1=$(proc_ticks "$OURS_PID")
    after=$(ours_spooled)
    [ $((after - before)) = "$m" ] || die "proxy spooled $((after - before)) of $m messages"
    read -r secs busy total <<<"$out"
    echo "$secs $busy $total $((p1 - p0))"
}

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

log "warm-up (not measured): 300 messages at 10 sessions to each server"
measure_ours 10 300 1024 >/dev/null || exit 1
measure_postfix 10 300 1024 >/dev/null || exit 1
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

declare -A OURS_RATE PF_RATE OURS_BEST PF_BEST OURS_CPU PF_CPU OURS_MCPU PF_MCPU
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
        declare -A RATES=([ours]="" [postfix]="") CPUS=([ours]="" [postfix]="") MCPUS=([ours]="" [postfix]="")
        for r in $(seq 1 "$REPEAT"); do
            # Alternate who goes first: the machine is shared and load drifts.
            if [ $((r % 2)) = 1 ]; then order="ours postfix"; else order="postfix ours"; fi
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
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), .NET SDK $(dotnet --version 2>/dev/null), Postfix $(postconf -dh mail_version);"
    echo "queues on: $( [ "$FS" = ext4 ] && echo "a fresh journaled ext4 loop image per server" || echo "the temp directory's file system ($(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK"))" )."
    echo "Load average at start $LOAD_START, at end $LOAD_END (the machine may be shared)."
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
            ratio=$(awk -v a="${OURS_RATE[$key]}" -v b="${PF_RATE[$key]}" 'BEGIN { printf "%.2f", a / b }')
            label=$(awk -v b="$size" 'BEGIN { printf "%d KiB", b / 1024 }')
            echo "| $label | $s | ${OURS_RATE[$key]} | ${PF_RATE[$key]} | **$ratio** | ${OURS_BEST[$key]} | ${PF_BEST[$key]} | ${OURS_CPU[$key]} | ${PF_CPU[$key]} | ${OURS_MCPU[$key]}% / ${PF_MCPU[$key]}% |"
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
    echo "Targets: ratio >= 1.00 at every concurrency; <= 64 KiB RSS per idle session."
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
