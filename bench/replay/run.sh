#!/usr/bin/env bash
# Replay benchmark (issue 18): Compare-SmtpdRule over a log of BENCH_RECORDS decision records
# (1,000,000 by default) with the recorded facts, on one core (taskset), against the rules the log
# was written under (every verdict must come out the same) and against a candidate with one line
# changed. Reports decisions per second and the peak memory of the pwsh process.
# The log is written by LogGen: each record decided by the engine's own pipeline over a synthetic
# DNS (names that confirm or not, a DNSBL listing one client in twenty), so its shape and facts are
# exactly what the proxy logs. Nothing touches the network: every fact is in the log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODULE="$ROOT/out/SmtpdModule"
BUILD=${BENCH_BUILD:-1}
RECORDS=${BENCH_RECORDS:-1000000}
CORE=${BENCH_CORE:-0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-replay.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
. "$ROOT/bench/lib.sh"
ensure_module

log "building LogGen"
dotnet build -c Release -nologo -v q "$ROOT/bench/replay/LogGen" -o "$WORK/loggen" >&2
cp "$ROOT/bench/replay/rules.txt" "$WORK/rules"
# The candidate: line 4 refuses another sender domain, so the spam domain's mail comes through.
sed 's/^noto:ALL:\*@spam\.bench\.example:/noto:ALL:*@bulk.bench.example:/' "$WORK/rules" > "$WORK/candidate"
cmp -s "$WORK/rules" "$WORK/candidate" && die "the candidate is not different"

log "writing $RECORDS decision records"
start=$(date +%s)
dotnet "$WORK/loggen/LogGen.dll" "$WORK/rules" "$WORK/smtpd.log" "$RECORDS"
log "log: $(du -h "$WORK/smtpd.log" | cut -f1), written in $(( $(date +%s) - start )) s"
head -n 50000 "$WORK/smtpd.log" > "$WORK/warm.log"

cat > "$WORK/replay.ps1" <<'PS'
param($Module, $Rules, $Log, $Warm)
Import-Module $Module
# Warm up on the log's first 50,000 lines, so the figure is the replay's and not the JIT's.
Compare-SmtpdRule -Path $Rules -LogPath $Warm -Summary -DnsServer 127.0.0.1:9 | Out-Null
$sw = [Diagnostics.Stopwatch]::StartNew()
$cpu = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
$s = Compare-SmtpdRule -Path $Rules -LogPath $Log -Summary -DnsServer 127.0.0.1:9 -ProgressAction SilentlyContinue
$sw.Stop()
$p = [Diagnostics.Process]::GetCurrentProcess()
$cpu = ($p.TotalProcessorTime - $cpu).TotalSeconds
[pscustomobject]@{
    total = $s.Total; unchanged = $s.Unchanged; changed = $s.Changed; changes = ($s.Changes.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', '
    askedLive = $s.AskedLive; seconds = [Math]::Round($sw.Elapsed.TotalSeconds, 2); cpuSeconds = [Math]::Round($cpu, 2)
    perSecond = [Math]::Round($s.Total / $sw.Elapsed.TotalSeconds); peakMiB = [Math]::Round($p.PeakWorkingSet64 / 1MB)
} | ConvertTo-Json -Compress
PS

report() {
    local name=$1 rules=$2
    log "replaying against $name on core $CORE"
    local json
    json=$(cd "$ROOT" && taskset -c "$CORE" /usr/bin/time -f '%M' -o "$WORK/rss.$name" dotnet pwsh -NoProfile -File "$WORK/replay.ps1" "$MODULE/SmtpdModule.psd1" "$rules" "$WORK/smtpd.log" "$WORK/warm.log" | tail -1)
    echo "$name $json maxrss_kib=$(cat "$WORK/rss.$name")"
}
same=$(report same "$WORK/rules")
cand=$(report candidate "$WORK/candidate")
echo "$same"
echo "$cand"
echo "$same" | grep -q '"changed":0,' || die "the same rules changed verdicts"
