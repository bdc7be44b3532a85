#!/usr/bin/env bash
# How fast Get-SmtpdLog streams a large proxy log with a selective filter, and in how much memory:
# a log of BENCH_LOG_MB megabytes (default 1024) in the proxy's own JSON shape (gen_log.py), then
# `Get-SmtpdLog -Path <log> -Client <a /24> -Verdict Refused`, counted. Reports the matches, the
# elapsed seconds, MB/s and the peak resident memory of the pwsh process (/usr/bin/time -v).
# Nothing listens or connects; the log goes to a temporary folder removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MB=${BENCH_LOG_MB:-1024}
MODULE="$ROOT/out/SmtpdModule"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

BUILD=${BENCH_BUILD:-0}                   # 1: build first; else only when out/ has no module
# shellcheck source=../lib.sh
. "$ROOT/bench/lib.sh"
ensure_module
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (Debian: apt-get install time)"

# BENCH_LOG_FILE: a log gen_log.py made before (kept, not removed), to time the query again.
LOG=${BENCH_LOG_FILE:-$WORK/smtpd.log}
if [ ! -f "$LOG" ]; then
    log "generating a ${MB} MB log"
    python3 "$HERE/gen_log.py" --out "$LOG" --mb "$MB" >&2
fi
BYTES=$(stat -c %s "$LOG")
# The first generated network's first /24: 1/800 of the clients.
NET=$(python3 -c "import random; r=random.Random(1); print('%d.%d.0.0/24' % (r.randrange(1,224), r.randrange(256)))")

cat >"$WORK/query.ps1" <<PS
Import-Module '$MODULE/SmtpdModule.psd1'
\$ProgressPreference = 'SilentlyContinue'
\$sw = [System.Diagnostics.Stopwatch]::StartNew()
\$n = (Get-SmtpdLog -Path '$LOG' -Client $NET -Verdict Refused | Measure-Object).Count
\$sw.Stop()
'matches {0} seconds {1:F2}' -f \$n, \$sw.Elapsed.TotalSeconds
PS
log "Get-SmtpdLog -Path <log> -Client $NET -Verdict Refused"
/usr/bin/time -v -o "$WORK/time.txt" dotnet pwsh -NoProfile -NonInteractive -File "$WORK/query.ps1" >"$WORK/out.txt"
read -r _ MATCHES _ SECONDS_ < "$WORK/out.txt"
RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time.txt")
MBS=$(awk -v b="$BYTES" -v s="$SECONDS_" 'BEGIN { printf "%.1f", b / 1048576 / s }')
printf 'log_bytes %s\nfilter -Client %s -Verdict Refused\nmatches %s\nelapsed_s %s\nmb_per_s %s\nmax_rss_mb %s\n' \
    "$BYTES" "$NET" "$MATCHES" "$SECONDS_" "$MBS" "$((RSS_KB / 1024))"
