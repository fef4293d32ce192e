#!/bin/bash
# tests/cpython/run_one.sh - one (interpreter, workload) cell of
# tests/e2e/cpython_pymalloc.sh: record WORKLOAD with tools/pyrec, replay
# it with memsim and compare every counter and size-class row with
# CPython's (compare.py diff); check the recording itself against CPython's
# counters (compare.py check) when there is no memsim replay or it differs. Writes OUTDIR/NAME.msg (diagnostics) and OUTDIR/NAME.status:
# "ok", "fail" or "skip REASON".
#
# usage: run_one.sh NAME PYTHON_ARG MINOR WORKLOAD OUTDIR   (MEMSIM, ROOT set)
set -u
name=$1 py=$2 minor=$3 wl=$4 out=$5
dir=$out/$name.d
mkdir -p "$dir"
msg=$out/$name.msg
status() { echo "$1" >"$out/$name.status"; exit 0; }

if ! "$ROOT/tools/pyrec" --python "$py" -o "$dir/t.trace" --stats "$dir/cpython.json" \
	"$wl" >"$dir/pyrec.out" 2>"$dir/pyrec.err"; then
	{ echo "pyrec failed:"; tail -20 "$dir/pyrec.err"; } >"$msg"
	status fail
fi
# The recorder's own check: the trace's live requests, mapped to size
# classes, must equal CPython's blocks in use. Run when memsim cannot judge,
# and when it disagrees (to tell a recorder fault from a model fault).
check() {
	python3 "$ROOT/tests/cpython/compare.py" check "$dir/t.trace" "$dir/cpython.json" \
		>"$dir/check.out" 2>&1 && return 0
	{ echo "recording disagrees with CPython's own counters:"; head -30 "$dir/check.out"; } >"$msg"
	status fail
}
if [ "${REPLAY_AVAILABLE:-0}" != 1 ]; then
	check
	rm -rf "$dir"
	status "skip memsim replay not available (recording checked against CPython: ok)"
fi
policy="cpython-$minor:allocator.arena_alignment=aligned"
if ! "$MEMSIM" replay --format json -p "$policy" "$dir/t.trace" \
	>"$dir/replay.json" 2>"$dir/replay.err"; then
	{ echo "memsim replay -p $policy failed:"; head -20 "$dir/replay.err"; } >"$msg"
	status fail
fi
if ! python3 "$ROOT/tests/cpython/compare.py" diff "$dir/cpython.json" "$dir/replay.json" \
	>"$dir/diff.out" 2>&1; then
	check
	{ echo "memsim ($policy) vs CPython $name:"; head -40 "$dir/diff.out"; } >"$msg"
	status fail
fi
rm -rf "$dir"
status ok
