#!/bin/bash
# Usage: scripts/test.sh            (`make test` builds first, then runs this)
# Runs every test of both builds, build/ (RelWithDebInfo) and build-asan/
# (ASan + UBSan): the cmocka units and the black-box suite on SQLite and on
# PostgreSQL. PostgreSQL is a throwaway cluster (scripts/pg.sh) that is always
# stopped and removed at exit. Any test skipped counts as a failure here: this
# run promises all of them. The server's stderr goes to a log file, not to the
# test output, so sanitizer reports are collected apart: ASan/LSan write them
# under a temp dir (log_path); UBSan (GCC's libubsan ignores log_path next to
# ASan) writes to stderr, so every *.log under the run's TMPDIR (where the
# suite keeps the server logs) is searched too. Any report fails the run and is
# printed. Extra ctest arguments: CTEST_ARGS="-j2" etc. Then every libFuzzer
# target runs briefly (scripts/fuzz.sh, FUZZ_SECONDS each, 15 unless set; it
# builds build-fuzz/ with clang itself): a finding fails the run. Ends with
# one summary line.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

for b in build build-asan; do
    [ -x "$b/stockroom" ] || { echo "test.sh: $b/stockroom missing; run 'make test'" >&2; exit 1; }
done

# The browser test's npm packages (playwright-core); returns at once when
# they are already installed.
bash scripts/npm-install.sh tests/browser || { echo "test.sh: could not install tests/browser's npm packages" >&2; exit 1; }

WORK=$(mktemp -d /tmp/stockroom-test.XXXXXX)
PGDIR=$(mktemp -d /tmp/stockroom-pg.XXXXXX)
cleanup() {
    bash scripts/pg.sh stop "$PGDIR" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STOCKROOM_TEST_PG_URL=$(bash scripts/pg.sh start "$PGDIR") || { echo "test.sh: could not start PostgreSQL" >&2; exit 1; }
export STOCKROOM_TEST_PG_URL
echo "== PostgreSQL for the tests: $STOCKROOM_TEST_PG_URL"

# run_ctest LABEL BUILD_DIR [ENV=VALUE...]: 0 when every test ran and passed.
run_ctest() {
    local label=$1 dir=$2 log="$WORK/$1.ctest" rc
    shift 2
    echo "== ctest: $label ($dir)"
    mkdir -p "$WORK/tmp-$label"   # TMPDIR: server logs, pytest's tmp_path
    # shellcheck disable=SC2086
    env TMPDIR="$WORK/tmp-$label" "$@" ctest --test-dir "$dir" --output-on-failure --no-tests=error ${CTEST_ARGS:-} 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if grep -q "The following tests did not run" "$log"; then
        echo "test.sh: some tests of '$label' were skipped; 'make test' runs them all" >&2
        rc=1
    fi
    return "$rc"
}

# On kernels with high mmap randomisation the sanitizer runtime of Debian 12's
# GCC can fail to map its shadow memory; run without ASLR there.
NOASLR=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] &&
   setarch "$(uname -m)" -R true 2>/dev/null; then
    NOASLR=(setarch "$(uname -m)" -R)
fi

plain=ok
run_ctest regular build || plain=FAILED

SANDIR=$WORK/sanitizers
mkdir -p "$SANDIR"
sanitized=ok
run_ctest asan build-asan \
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$SANDIR/asan" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "${NOASLR[@]}" || sanitized=FAILED

reports=0
for f in "$SANDIR"/*; do
    [ -e "$f" ] || continue
    reports=$((reports + 1))
    echo "== sanitizer report $(basename "$f"):" >&2
    head -n 300 "$f" >&2
done
while IFS= read -r -d '' f; do
    grep -qaE 'runtime error: |ERROR: (Address|Leak|UndefinedBehavior)Sanitizer' "$f" || continue
    reports=$((reports + 1))
    echo "== sanitizer report in ${f#"$WORK"/}:" >&2
    grep -aE -A30 'runtime error: |ERROR: (Address|Leak|UndefinedBehavior)Sanitizer' "$f" | head -n 300 >&2
done < <(find "$WORK/tmp-asan" -type f -name '*.log' -print0)
[ "$reports" = 0 ] || sanitized=FAILED

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
echo "== fuzz: every libFuzzer target for ${FUZZ_SECONDS}s"
fuzz=ok
FUZZ_SECONDS=$FUZZ_SECONDS bash scripts/fuzz.sh || fuzz=FAILED

if [ "$plain" = ok ] && [ "$sanitized" = ok ] && [ "$fuzz" = ok ]; then
    echo "make test: PASSED (units + HTTP on SQLite and PostgreSQL, plain and under ASan+UBSan; fuzz targets ${FUZZ_SECONDS}s each)"
    exit 0
fi
echo "make test: FAILED (plain build: $plain; ASan+UBSan build: $sanitized, $reports sanitizer report(s); fuzz: $fuzz)"
exit 1
