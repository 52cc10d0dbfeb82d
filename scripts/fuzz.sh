#!/bin/bash
# Usage: scripts/fuzz.sh [TARGET...]      (`make fuzz [FUZZ_SECONDS=N]` runs it)
# Configures and builds build-fuzz/ with clang (STOCKROOM_FUZZ=ON: libFuzzer,
# ASan, UBSan), then runs every libFuzzer target of tests/fuzz (or the ones
# named) for FUZZ_SECONDS seconds each (default 60), one after the other.
# Each runs over a working copy of its seed corpus in build-fuzz/corpus/
# (the seeds of tests/fuzz/corpus/ are copied in, what a run finds stays
# there for the next run, and the repository's corpus only grows when
# someone commits new seeds), with its dictionary (tests/fuzz/NAME.dict)
# when there is one. Crashes, leaks, timeouts (-timeout=10) and running out
# of memory (-rss_limit_mb=2048) are written to build-fuzz/artifacts/; the
# logs are in build-fuzz/logs/. Ends with one line per target (name,
# seconds run, executions, "no finding" or the artifact) and exits 1 when
# any target found something or did not run. FUZZ_SECONDS=0 only runs the
# corpus once (the seeds, and what earlier runs kept). tests/fuzz/README.md tells
# how to reproduce a finding and turn it into a regression test.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}
BUILD=build-fuzz
case "$SECONDS_EACH" in
    '' | *[!0-9]*) echo "fuzz.sh: FUZZ_SECONDS must be a number of seconds, not '$SECONDS_EACH'" >&2; exit 2 ;;
esac

command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: clang is missing (scripts/deps.sh installs it)" >&2; exit 1; }

echo "== fuzz: building $BUILD (clang, libFuzzer + ASan + UBSan)"
# -O1 -g without NDEBUG: fast enough, readable stacks, asserts on.
mkdir -p "$BUILD"
if ! CC=clang cmake -S . -B "$BUILD" -DSTOCKROOM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" >"$BUILD/configure.log" 2>&1; then
    cat "$BUILD/configure.log" >&2
    echo "fuzz.sh: configuring $BUILD failed" >&2
    exit 1
fi
cmake --build "$BUILD" --target fuzzers --parallel "$JOBS" || { echo "fuzz.sh: building the fuzz targets failed" >&2; exit 1; }

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for src in tests/fuzz/fuzz_*.c; do
        TARGETS+=("$(basename "$src" .c)")
    done
fi

# As scripts/test.sh: with high mmap randomisation the sanitizer runtime
# may fail to map its shadow memory; run without ASLR there.
NOASLR=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] &&
   setarch "$(uname -m)" -R true 2>/dev/null; then
    NOASLR=(setarch "$(uname -m)" -R)
fi
SYMBOLIZER=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)

mkdir -p "$BUILD/artifacts" "$BUILD/logs"
SUMMARY=()
findings=0
for t in "${TARGETS[@]}"; do
    bin=$BUILD/tests/fuzz/$t
    if [ ! -x "$bin" ]; then
        SUMMARY+=("$(printf '%-16s %6s s %12s runs  %s' "$t" 0 0 "NOT BUILT (no tests/fuzz/$t.c?)")")
        findings=$((findings + 1))
        continue
    fi
    corpus=$BUILD/corpus/$t
    mkdir -p "$corpus"
    [ -d "tests/fuzz/corpus/$t" ] && cp -n "tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null
    name=${t#fuzz_}
    dict=()
    for d in "tests/fuzz/$name.dict" "tests/fuzz/${name%%_*}.dict"; do
        if [ -f "$d" ]; then dict=("-dict=$d"); break; fi
    done
    log=$BUILD/logs/$t.log
    touch "$log.start"   # artifacts newer than this are this run's
    echo "== fuzz: $t for ${SECONDS_EACH}s (corpus $corpus, log $log)"
    start=$(date +%s)
    if [ "$SECONDS_EACH" = 0 ]; then
        duration=(-runs=0)
    else
        duration=(-max_total_time="$SECONDS_EACH")
    fi
    env ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:symbolize=1${SYMBOLIZER:+:external_symbolizer_path=$SYMBOLIZER}" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "${NOASLR[@]}" "$bin" "${duration[@]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" "${dict[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    ran=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ -z "$artifact" ]; then   # a finding whose message we did not recognise
        artifact=$(find "$BUILD/artifacts" -maxdepth 1 -type f -newer "$log.start" | head -n 1)
    fi
    rm -f "$log.start"
    if [ "$rc" = 0 ] && [ -z "$artifact" ]; then
        result="no finding"
    else
        findings=$((findings + 1))
        result="FINDING: ${artifact:-exit status $rc, no artifact} (log $log)"
        echo "== fuzz: $t: the end of $log:" >&2
        tail -n 60 "$log" >&2
    fi
    SUMMARY+=("$(printf '%-16s %6s s %12s runs  %s' "$t" "$ran" "${execs:-?}" "$result")")
done

if [ "$SECONDS_EACH" = 0 ]; then
    echo "== fuzz: each target's corpus, once"
else
    echo "== fuzz: ${SECONDS_EACH}s per target"
fi
printf '%s\n' "${SUMMARY[@]}"
[ "$findings" = 0 ]
