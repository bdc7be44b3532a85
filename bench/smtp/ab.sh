#!/usr/bin/env bash
# Quick A/B of two builds of the module, ours alone (no Postfix): each build's proxy on its own
# fresh journaled ext4 loop image, warmed up, then smtp-source runs against the two in turns.
# Prints msgs/s and the proxy's CPU µs per message for every run; the medians are the result.
# Root only (loop mounts). Every connection goes to 127.0.0.1. See README.md, "Last measured".
#
#   bash bench/smtp/ab.sh MODULE_A MODULE_B ["SESSIONS ..."] [MESSAGES] [RUNS]
#
# MODULE_x is a built module folder (named SmtpdModule, as out/SmtpdModule). Environment:
# AB_SIZE (smtp-source -l, 1024), AB_WARMUP (messages at 10 sessions first, 6000),
# AB_ENV_A / AB_ENV_B ("NAME=VALUE ..." for that side's process, e.g. a runtime switch).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"
A=${1:?module A} B=${2:?module B} SESSIONS=${3:-"1 10 50"} MSGS=${4:-2000} RUNS=${5:-6}
SIZE=${AB_SIZE:-1024} WARMUP=${AB_WARMUP:-6000}

# log, die, ensure_postfix, free_port, wait_listener, proc_ticks
. "$HERE/../lib.sh"

WORK=$(mktemp -d -t smtpd-ab.XXXXXX)
PIDS="" MOUNTS=""
cleanup() {
    set +e
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
    for m in $MOUNTS; do umount "$m"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_side TAG MODULE ENV → sets SIDE_PORT, SIDE_PID
start_side() {
    local tag=$1 module=$2 env=$3 dir="$WORK/$1"
    truncate -s 4G "$WORK/$tag.img"
    mkfs.ext4 -q -F "$WORK/$tag.img"
    mkdir -p "$dir"
    mount -o loop "$WORK/$tag.img" "$dir"
    MOUNTS="$MOUNTS $dir"
    mkdir -p "$dir/control"
    printf 'allow:ALL:ALL:ALL\n' > "$dir/rules"
    SIDE_PORT=$(free_port)
    # shellcheck disable=SC2086 # env is a list of NAME=VALUE words
    (cd "$ROOT" && exec env $env dotnet pwsh -NoProfile -NonInteractive -File "$HERE/proxy.ps1" \
        -ModulePath "$module" -Port "$SIDE_PORT" -RulesPath "$dir/rules" -SpoolPath "$dir/spool" \
        -ControlDirectory "$dir/control") > "$WORK/$tag.log" 2>&1 &
    SIDE_PID=$(wait_listener "$SIDE_PORT" 60) || { cat "$WORK/$tag.log" >&2; die "side $tag did not listen within 60 s"; }
    PIDS="$PIDS $SIDE_PID"
}

# run PORT PID SESSIONS MESSAGES → "msgs/s cpu_us_per_msg"
run() {
    local port=$1 pid=$2 s=$3 m=$4 t0 t1 c0 c1
    c0=$(proc_ticks "$pid")
    t0=$(date +%s%N)
    timeout 300 smtp-source -4 -s "$s" -m "$m" -l "$SIZE" -r 1 -M ab-client.invalid \
        -f sender@ab-client.invalid -t rcpt@example.test "127.0.0.1:$port" >/dev/null \
        || die "smtp-source against port $port failed"
    t1=$(date +%s%N)
    c1=$(proc_ticks "$pid")
    awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v m="$m" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.1f %.0f", m / ((t1 - t0) / 1e9), (c1 - c0) * 1e6 / hz / m }'
}

[ "$(id -u)" = 0 ] || die "root is needed for the loop mounts"
ensure_postfix
start_side a "$A" "${AB_ENV_A:-}"; PORT_A=$SIDE_PORT PID_A=$SIDE_PID
start_side b "$B" "${AB_ENV_B:-}"; PORT_B=$SIDE_PORT PID_B=$SIDE_PID
log "A: $A on port $PORT_A (pid $PID_A); B: $B on port $PORT_B (pid $PID_B)"
run "$PORT_A" "$PID_A" 10 "$WARMUP" >/dev/null
run "$PORT_B" "$PID_B" 10 "$WARMUP" >/dev/null
echo "sessions run | A msgs/s cpu_us | B msgs/s cpu_us | load"
for s in $SESSIONS; do
    for r in $(seq 1 "$RUNS"); do
        # The sides take turns going first: the machine may be shared and its load drifts.
        if [ $((r % 2)) = 1 ]; then
            a=$(run "$PORT_A" "$PID_A" "$s" "$MSGS"); b=$(run "$PORT_B" "$PID_B" "$s" "$MSGS")
        else
            b=$(run "$PORT_B" "$PID_B" "$s" "$MSGS"); a=$(run "$PORT_A" "$PID_A" "$s" "$MSGS")
        fi
        echo "$s $r | $a | $b | $(cut -d' ' -f1 /proc/loadavg)"
    done
done
