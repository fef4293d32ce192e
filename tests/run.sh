#!/bin/sh
# tests/run.sh - run every test tier and print "N passed, N failed".
#
# Tiers: unit tests (TAP binaries built from tests/unit/), end-to-end
# scripts (tests/e2e/*.sh, TAP on stdout). A program that exits non-zero
# without reporting a failure counts as one failure, so a crash is never
# a pass. Environment: MEMSIM (the binary), UNIT_DIR (unit test binaries),
# TEST_FILTER (run only files whose name contains it).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT LC_ALL=C
: "${MEMSIM:=$ROOT/bin/memsim}"
: "${UNIT_DIR:=$ROOT/build/release/tests/unit}"
: "${TEST_FILTER:=}"
export MEMSIM UNIT_DIR

passed=0 failed=0 skipped=0
log=$(mktemp "${TMPDIR:-/tmp}/memsim-test.XXXXXX")
trap 'rm -f "$log"' EXIT

run_one() { # name, command...
	name=$1; shift
	case $name in *"$TEST_FILTER"*) ;; *) return ;; esac
	"$@" >"$log" 2>&1
	status=$?
	p=$(grep -c '^ok ' "$log" | tr -d ' ')
	s=$(grep -c '^ok .*# SKIP' "$log" | tr -d ' ')
	f=$(grep -c '^not ok ' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $status" >>"$log"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name"
		grep -v '^ok ' "$log" | sed 's/^/    /'
	else
		echo "ok   $name ($p passed${s:+, $s skipped})" | sed 's/, 0 skipped//'
		grep '# SKIP' "$log" | sed 's/^/    /'
	fi
}

for t in "$UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	case $t in *.d) continue ;; esac
	# A binary left from a test that was since removed or renamed is stale.
	[ -f "$ROOT/tests/unit/$(basename "$t").c" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in "$ROOT"/tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	run_one "e2e/$(basename "$t")" bash "$t"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
