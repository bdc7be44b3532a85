# Shell functions shared by the benchmarks under bench/ (bench/smtp, bench/forward, bench/e2e, ...).
# Source it after setting the variables the functions read:
#   ROOT (the repository), MODULE (out/SmtpdModule), BUILD (1: build first), WORK (the work
#   directory), FS / FS_SIZE (server_root), MOUNTS (loop mounts made, for the caller's cleanup).
# start_postfix also reads PF_MAIN_EXTRA and PF_MASTER_EXTRA (arrays, may be unset): main.cf
# settings (name=value) and master.cf entries (service/type=entry) applied with postconf -e / -M
# on top of the base configuration, before the instance starts. It sets PF_PORT, POSTFIX_CONF
# and PF_MASTER. start_sink sets SINK_PORT and SINK_PID, start_sampler SAMPLER_PID (for the
# caller's cleanup) and stop_sampler SAMPLER_MAX.
# Every connection goes to 127.0.0.1; every wait has a deadline.

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
        printf '#!/bin/sh\n# bench/lib.sh: no service starts while postfix installs\nexit 101\n' > /usr/sbin/policy-rc.d
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
    # The caller's additions: main.cf settings and master.cf services (none for bench/smtp).
    if [ -n "${PF_MAIN_EXTRA+set}" ] && [ "${#PF_MAIN_EXTRA[@]}" -gt 0 ]; then
        postconf -c "$POSTFIX_CONF" -e "${PF_MAIN_EXTRA[@]}" || die "postconf -e failed"
    fi
    if [ -n "${PF_MASTER_EXTRA+set}" ] && [ "${#PF_MASTER_EXTRA[@]}" -gt 0 ]; then
        postconf -c "$POSTFIX_CONF" -M "${PF_MASTER_EXTRA[@]}" || die "postconf -M failed"
    fi
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

# ---- smtp-sink, the relay target ------------------------------------------------------------

# One smtp-sink for every side of a run (bench/forward, bench/e2e); sets SINK_PORT and SINK_PID.
# -c writes "sess=N quit=N mesg=N" and a carriage return after every session end, QUIT and ".";
# the last complete record counts.
start_sink() {
    SINK_PORT=$(free_port)
    local user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    smtp-sink -c "${user[@]}" "127.0.0.1:$SINK_PORT" 1000 >"$WORK/sink.out" 2>"$WORK/sink.err" &
    SINK_PID=$!
    wait_listener "$SINK_PORT" 30 >/dev/null || { cat "$WORK/sink.err" >&2; die "smtp-sink did not listen within 30 s"; }
    log "smtp-sink on 127.0.0.1:$SINK_PORT (pid $SINK_PID)"
}
# Messages the sink has received (end of data answered). Cheap enough to poll every 50 ms; a
# record caught half written reads as a smaller number, never a larger one.
sink_count() {
    local n
    n=$(tail -c 256 "$WORK/sink.out" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9][0-9]*\)$/\1/p' | tail -1)
    echo "${n:-0}"
}
# Sessions the sink has seen end (read when nothing is running).
sink_sessions() {
    local n
    n=$(tail -c 256 "$WORK/sink.out" | tr '\r' '\n' | sed -n 's/^sess=\([0-9][0-9]*\) .*mesg=[0-9][0-9]*$/\1/p' | tail -1)
    echo "${n:-0}"
}

# The most client connections to the sink seen at once (sampled every 0.2 s) between
# start_sampler and stop_sampler (which sets SAMPLER_MAX): shows that both sides used the
# concurrency they were given. start_sampler PATTERN counts only the connections whose owner, as
# ss -p shows it (users:(("smtp",pid=N,fd=N))), matches PATTERN (grep -E): a side's idle pooled
# connections stay open while the other side is measured.
# shellcheck disable=SC2120 # the pattern is optional
start_sampler() {
    local match=${1:-}
    rm -f "$WORK/sampler.max"
    (
        max=0
        while :; do
            if [ -n "$match" ]; then
                n=$(ss -tnpH state established "( dport = :$SINK_PORT )" 2>/dev/null | grep -cE -- "$match" || true)
            else
                n=$(ss -tnH state established "( dport = :$SINK_PORT )" 2>/dev/null | wc -l)
            fi
            # Written whole (rename), since stop_sampler may kill this loop at any point.
            if [ "$n" -gt "$max" ]; then max=$n; echo "$max" > "$WORK/sampler.tmp"; mv "$WORK/sampler.tmp" "$WORK/sampler.max"; fi
            sleep 0.2
        done
    ) &
    SAMPLER_PID=$!
}
stop_sampler() {
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    SAMPLER_MAX=$(cat "$WORK/sampler.max" 2>/dev/null || true)
    SAMPLER_MAX=${SAMPLER_MAX:-0}
}

# ---- our spool ----------------------------------------------------------------------------------

# Messages committed to a spool and waiting for the forwarder.
spool_ready() { find "$1/ready" -maxdepth 1 -name '*.msg' 2>/dev/null | wc -l; }
# Messages anywhere in a spool (any state, corrupt included) and delivery records left.
spool_messages() { find "$1"/{incoming,ready,active,deferred,held,failed,corrupt} -type f \( -name '*.msg' -o -name '*.tmp' \) 2>/dev/null | wc -l; }
spool_status_files() { find "$1/status" -type f 2>/dev/null | wc -l; }

# median [printf format] < "numbers separated by blanks"
# The report's first lines (uses FS, WORK, LOAD_START, LOAD_END): when and on what, where the
# queues were ($1: what they are, $2: "side" or "server"), and the load.
report_preamble() {
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), .NET SDK $(dotnet --version 2>/dev/null), Postfix $(postconf -dh mail_version);"
    echo "$1 on: $( [ "$FS" = ext4 ] && echo "a fresh journaled ext4 loop image per $2" || echo "the temp directory's file system ($(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK"))" )."
    echo "Load average at start $LOAD_START, at end $LOAD_END (the machine may be shared)."
}

# await_ready PID OUT ERR WHAT: waits up to 90 s for a benchmark's PowerShell script (process PID,
# its stdout in OUT, its stderr in ERR) to print its "ready ..." line; dies showing its output if
# it ends first.
await_ready() {
    local pid=$1 out=$2 err=$3 what=$4 deadline=$((SECONDS + 90))
    until grep -q '^ready ' "$out" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$out" "$err" >&2; die "$what failed"; }
        [ $SECONDS -lt $deadline ] || die "$what did not start within 90 s"
        sleep 0.2
    done
}

# ask_script FD OUT WORD: asks a benchmark's PowerShell script (its stdin on fd FD, its stdout in
# the file OUT) for WORD, waits up to 20 s for its next "WORD ..." line and prints what follows
# WORD. Call as VAR=$(ask_script ...) || exit 1.
ask_script() {
    local fd=$1 out=$2 word=$3 before deadline
    before=$(grep -c "^$word " "$out" || true)
    echo "$word" >&"$fd"
    deadline=$((SECONDS + 20))
    while [ "$(grep -c "^$word " "$out" || true)" -le "$before" ]; do
        [ $SECONDS -lt $deadline ] || die "$(basename "$out") gave no $word line within 20 s"
        sleep 0.05
    done
    grep "^$word " "$out" | tail -1 | cut -d' ' -f2-
}

# ratio_cell A B: a report's ratio cell, A / B in bold to two places; "-" when either rate is
# missing.
ratio_cell() {
    if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "**%.2f**", a / b }'; else echo "-"; fi
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk -v f="${1:-%.1f}" '{ v[NR] = $1 } END { printf f "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
