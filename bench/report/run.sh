#!/usr/bin/env bash
# How fast Export-SmtpdReport turns a day's proxy log into its page, and in how much memory: a log
# of BENCH_LOG_MB megabytes (default 1024) in the proxy's own JSON shape (bench/log/gen_log.py), then
# `Export-SmtpdReport` over the log's whole span (from its first line's time to just after its last),
# each event counted. Reports the events' span, the elapsed seconds, MB/s, the page's size and the
# peak resident memory of the pwsh process (/usr/bin/time -v). Beside it, in the same run, the same
# log read by `Get-SmtpdLog | Measure-Object` (every event made an object), the floor a script
# written on Get-SmtpdLog would start from. Nothing listens or connects; the files go to a
# temporary folder removed at the end.
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

# BENCH_LOG_FILE: a log gen_log.py made before (kept, not removed).
LOG=${BENCH_LOG_FILE:-$WORK/smtpd.log}
if [ ! -f "$LOG" ]; then
    log "generating a ${MB} MB log"
    python3 "$ROOT/bench/log/gen_log.py" --out "$LOG" --mb "$MB" >&2
fi
BYTES=$(stat -c %s "$LOG")

cat >"$WORK/report.ps1" <<PS
Import-Module '$MODULE/SmtpdModule.psd1'
\$ProgressPreference = 'SilentlyContinue'
\$first = [DateTimeOffset]((Get-Content -LiteralPath '$LOG' -TotalCount 1 | ConvertFrom-Json -DateKind String).time)
\$last = [DateTimeOffset]((Get-Content -LiteralPath '$LOG' -Tail 1 | ConvertFrom-Json -DateKind String).time)
\$sw = [System.Diagnostics.Stopwatch]::StartNew()
\$r = Export-SmtpdReport -LogPath '$LOG' -Path '$WORK/report.html' -After \$first.UtcDateTime -Before \$last.AddSeconds(1).UtcDateTime -UtcTime -PassThru
\$sw.Stop()
'span_h {0:F1} interval {1} sessions {2} refused {3} seconds {4:F2} page_bytes {5}' -f (\$last - \$first).TotalHours, \$r.Interval, \$r.Sessions, \$r.Refused, \$sw.Elapsed.TotalSeconds, (Get-Item '$WORK/report.html').Length
PS
cat >"$WORK/read.ps1" <<PS
Import-Module '$MODULE/SmtpdModule.psd1'
\$ProgressPreference = 'SilentlyContinue'
\$sw = [System.Diagnostics.Stopwatch]::StartNew()
\$n = (Get-SmtpdLog -Path '$LOG' | Measure-Object).Count
\$sw.Stop()
'events {0} seconds {1:F2}' -f \$n, \$sw.Elapsed.TotalSeconds
PS

log "Export-SmtpdReport over the whole log"
/usr/bin/time -v -o "$WORK/time.txt" dotnet pwsh -NoProfile -NonInteractive -File "$WORK/report.ps1" >"$WORK/out.txt"
read -r _ SPAN _ INTERVAL _ SESSIONS _ REFUSED _ SECONDS_ _ PAGE < "$WORK/out.txt"
RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time.txt")
MBS=$(awk -v b="$BYTES" -v s="$SECONDS_" 'BEGIN { printf "%.1f", b / 1048576 / s }')

log "Get-SmtpdLog | Measure-Object over the same log"
/usr/bin/time -v -o "$WORK/time-read.txt" dotnet pwsh -NoProfile -NonInteractive -File "$WORK/read.ps1" >"$WORK/out-read.txt"
read -r _ EVENTS _ READ_SECONDS < "$WORK/out-read.txt"
READ_RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time-read.txt")

printf 'log_bytes %s\nspan_hours %s\ninterval %s\nsessions %s\nrefused %s\nreport_s %s\nreport_mb_per_s %s\nreport_max_rss_mb %s\npage_bytes %s\n' \
    "$BYTES" "$SPAN" "$INTERVAL" "$SESSIONS" "$REFUSED" "$SECONDS_" "$MBS" "$((RSS_KB / 1024))" "$PAGE"
printf 'get_smtpdlog_events %s\nget_smtpdlog_s %s\nget_smtpdlog_max_rss_mb %s\nratio_report_to_get_smtpdlog %s\n' \
    "$EVENTS" "$READ_SECONDS" "$((READ_RSS_KB / 1024))" "$(awk -v a="$SECONDS_" -v b="$READ_SECONDS" 'BEGIN { printf "%.2f", a / b }')"
