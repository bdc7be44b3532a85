#!/usr/bin/env bash
# Fuzzes the engine's parsers with AFL++ through SharpFuzz (issue 6). See fuzz/README.md.
#
#   fuzz/run.sh <command|data|address|rules|all> [seconds per target, default 60]
#
# Builds fuzz/SmtpdModule.Fuzz into out/fuzz/bin, instruments SmtpdModule.Engine.dll there with
# `dotnet sharpfuzz`, then runs afl-fuzz on each target for the given time, non-interactively.
# Findings land in out/fuzz/findings/<target>/default/{crashes,hangs}; each one is replayed
# through the harness so its exception is printed. Prints one line per target:
#   fuzz: <target> passed|failed (<execs> execs, <n> exec/s, <paths> paths, <c> crashes, <h> hangs)
# Exits 1 when any target found a crash or hang or could not run, 2 on a usage error.
set -euo pipefail

targets_all=(command data address rules)
usage() { echo "usage: fuzz/run.sh <${targets_all[*]// /|}|all> [seconds]" >&2; exit 2; }
[ $# -ge 1 ] || usage
case "$1" in
    all) targets=("${targets_all[@]}") ;;
    command|data|address|rules) targets=("$1") ;;
    *) usage ;;
esac
seconds="${2:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/out/fuzz"
bin="$out/bin"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail_all() {
    echo "fuzz/run.sh: $1" >&2
    for t in "${targets[@]}"; do echo "fuzz: $t failed ($1)"; done
    exit 1
}

command -v afl-fuzz >/dev/null 2>&1 ||
    fail_all "afl-fuzz not found: install afl++ (tests/tools/install-test-deps.sh does, or apt-get install afl++)"

cd "$root"
echo "fuzz/run.sh: building the harness"
dotnet tool restore >/dev/null || fail_all "dotnet tool restore failed"
# Build elsewhere and copy: an incremental build must never meet an already instrumented dll.
rm -rf "$bin" "$out/build"
dotnet build fuzz/SmtpdModule.Fuzz/SmtpdModule.Fuzz.csproj -c Release -o "$out/build" -v quiet -nologo \
    -clp:ErrorsOnly >"$out.build.log" 2>&1 || { cat "$out.build.log" >&2; fail_all "build failed"; }
cp -r "$out/build" "$bin"
echo "fuzz/run.sh: instrumenting SmtpdModule.Engine.dll"
dotnet sharpfuzz "$bin/SmtpdModule.Engine.dll" >/dev/null || fail_all "dotnet sharpfuzz failed"

# Non-interactive, container-friendly AFL: no UI, no CPU governor or core_pattern demands, no
# CPU pinning (CI machines share cores), and the .NET apphost carries no AFL marker to check.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    AFL_SKIP_BIN_CHECK=1 AFL_FORKSRV_INIT_TMOUT=60000 AFL_SKIP_CRASHES=0

stat() { sed -n "s/^$1 *: *//p" "$2" 2>/dev/null | head -1; }

status=0
for t in "${targets[@]}"; do
    findings="$out/findings/$t"
    rm -rf "$findings"
    mkdir -p "$findings"
    echo "fuzz/run.sh: $t for ${seconds}s (log: out/fuzz/findings/$t/afl.log)"
    rc=0
    # -V stops afl-fuzz after the time; timeout is the backstop should it not.
    timeout --kill-after=10 $((seconds + 120)) \
        afl-fuzz -i "fuzz/corpus/$t" -o "$findings" -V "$seconds" -t 5000 -m none \
        -- "$bin/SmtpdModule.Fuzz" "$t" >"$findings/afl.log" 2>&1 </dev/null || rc=$?
    s="$findings/default/fuzzer_stats"
    if [ ! -f "$s" ]; then
        tail -n 30 "$findings/afl.log" >&2
        echo "fuzz: $t failed (afl-fuzz did not run, exit $rc)"
        status=1
        continue
    fi
    execs=$(stat execs_done "$s"); rate=$(stat execs_per_sec "$s"); paths=$(stat corpus_count "$s")
    crashes=$(stat saved_crashes "$s"); hangs=$(stat saved_hangs "$s")
    crashes=${crashes:-0}; hangs=${hangs:-0}
    summary="$execs execs, $rate exec/s, $paths paths, $crashes crashes, $hangs hangs"
    if [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ] && [ "$rc" -eq 0 ]; then
        echo "fuzz: $t passed ($summary)"
        continue
    fi
    status=1
    for kind in crashes hangs; do
        for f in "$findings/default/$kind"/id:*; do
            [ -e "$f" ] || continue
            echo "---- $t $kind: out/fuzz/findings/$t/default/$kind/$(basename "$f")"
            od -A d -c "$f" | head -n 20
            # The uninstrumented build: the instrumented one writes to AFL's shared memory.
            "$out/build/SmtpdModule.Fuzz" "$t" --replay "$f" 2>&1 | head -n 40 || true
        done
    done
    [ "$rc" -eq 0 ] || tail -n 20 "$findings/afl.log" >&2
    echo "fuzz: $t failed ($summary, afl-fuzz exit $rc)"
done
exit $status
