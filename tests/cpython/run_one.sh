#!/bin/bash
# tests/cpython/run_one.sh - one (interpreter, workload) cell of
# tests/e2e/cpython_pymalloc.sh: record WORKLOAD with tools/pyrec (binary
# trace, CPython's own counters in the stats file), replay it with memsim
# under the matching preset and compare every allocator counter, every
# size-class row and, for an object-level recording (3.13), every
# free-list line with CPython's (compare.py diff).
#
# When they differ, the cell says who is wrong and where:
#   allocator level  compare.py check judges the recording against
#                    CPython's counters without memsim;
#   object level     the workload is recorded again with --annotate (a
#                    text trace with the interpreter's own free-list
#                    decisions; recordings are deterministic), then
#                    flcheck.py names the first event where the 3.13
#                    rules, applied independently, part from the runtime,
#                    and bisect.py the first event after which memsim's
#                    free lists part from the runtime's.
# Writes OUTDIR/NAME.msg (diagnostics) and OUTDIR/NAME.status: "ok",
# "fail" or "skip REASON".
#
# usage: run_one.sh NAME PYTHON_ARG MINOR WORKLOAD OUTDIR   (MEMSIM, ROOT set)
set -u
name=$1 py=$2 minor=$3 wl=$4 out=$5
dir=$out/$name.d
mkdir -p "$dir"
msg=$out/$name.msg
status() { echo "$1" >"$out/$name.status"; exit 0; }
CPY=$ROOT/tests/cpython

if ! "$ROOT/tools/pyrec" --python "$py" -o "$dir/t.msb" --stats "$dir/cpython.json" \
	"$wl" >"$dir/pyrec.out" 2>"$dir/pyrec.err"; then
	{ echo "pyrec failed:"; tail -20 "$dir/pyrec.err"; } >"$msg"
	status fail
fi
if [ -s "$dir/pyrec.err" ]; then
	{ echo "pyrec warned:"; tail -20 "$dir/pyrec.err"; } >"$msg"
	status fail
fi
level=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["level"])' \
	"$dir/cpython.json")

# The recorder's own check at allocator level: the trace's live requests,
# mapped to size classes, must equal CPython's blocks in use.
check() {
	"$MEMSIM" convert -q "$dir/t.msb" "$dir/t.trace" 2>"$dir/convert.err" &&
	python3 "$CPY/compare.py" check "$dir/t.trace" "$dir/cpython.json" \
		>"$dir/check.out" 2>&1 && return 0
	{ echo "recording disagrees with CPython's own counters:"; head -30 "$dir/check.out" \
		"$dir/convert.err"; } >"$msg"
	status fail
}
# At object level: where the model and the runtime part.
diagnose() {
	"$ROOT/tools/pyrec" --annotate --python "$py" -o "$dir/a.trace" "$wl" \
		>/dev/null 2>"$dir/annotate.err"
	{
		echo "the 3.13 rules against the runtime (flcheck.py):"
		python3 "$CPY/flcheck.py" "$dir/a.trace" 2>&1 | head -5
		echo "memsim against the runtime (bisect.py):"
		python3 "$CPY/bisect.py" "$MEMSIM" "$policy" "$dir/a.trace" 2>&1 | head -14
	} >>"$msg"
}
if [ "${REPLAY_AVAILABLE:-0}" != 1 ]; then
	[ "$level" = allocator ] && check
	rm -rf "$dir"
	status "skip memsim replay not available"
fi
policy="cpython-$minor:allocator.arena_alignment=aligned"
if ! "$MEMSIM" replay -q --format json -p "$policy" "$dir/t.msb" \
	>"$dir/replay.json" 2>"$dir/replay.err"; then
	{ echo "memsim replay -p $policy failed:"; head -20 "$dir/replay.err"; } >"$msg"
	status fail
fi
if ! python3 "$CPY/compare.py" diff "$dir/cpython.json" "$dir/replay.json" \
	>"$dir/diff.out" 2>&1; then
	[ "$level" = allocator ] && check
	{ echo "memsim ($policy) vs CPython $name ($level level):"; head -40 "$dir/diff.out"; } >"$msg"
	[ "$level" = object ] && diagnose
	status fail
fi
rm -rf "$dir"
status ok
