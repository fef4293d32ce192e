#!/bin/bash
# tests/e2e/cpython_pymalloc.sh - a real CPython as the judge of memsim's
# pymalloc model.
#
# For every CPython 3.x found (pyenv builds 3.6 .. 3.13 under
# ${PYENV_ROOT:-~/.pyenv}/versions, and Debian's libpython3.11 from /usr),
# and every workload in tests/cpython/workloads/, records the workload with
# tools/pyrec (the interpreter's own allocator requests and its own
# sys._debugmallocstats() counters), checks the recording against those
# counters, replays it with
#   memsim replay --format json -p cpython-3.X:allocator.arena_alignment=aligned
# and compares every counter and every size-class row. One TAP line per
# (interpreter, workload). The expected values are CPython's, measured at
# test time, never memsim's. An interpreter that is not installed is a
# "# SKIP" line naming it; so is every cell while `memsim replay` does not
# exist (the recorder is still checked, and a recorder failure still fails).
. "$ROOT/tests/lib.sh"

PYENV_VERSIONS=${PYENV_ROOT:-$HOME/.pyenv}/versions
REPLAY_AVAILABLE=0
"$MEMSIM" replay --help >/dev/null 2>&1 && REPLAY_AVAILABLE=1
export REPLAY_AVAILABLE

# One cell per (interpreter, workload): four parallel arrays.
names=() pys=() minors=() wls=()
add_cells() { # LABEL PYTHON_ARG MINOR
	for w in "$ROOT"/tests/cpython/workloads/*.py; do
		names+=("$1.$(basename "$w" .py)") pys+=("$2") minors+=("$3") wls+=("$w")
	done
}
for m in 6 7 8 9 10 11 12 13; do
	d=$(ls -d "$PYENV_VERSIONS"/3.$m.* 2>/dev/null | grep -E "/3\.$m\.[0-9]+$" | sort -V | tail -1)
	if [ -z "$d" ] || ! ls "$d"/lib/libpython3.$m*.so* >/dev/null 2>&1; then
		t_skip "cpython 3.$m (pyenv)" "not installed: no $PYENV_VERSIONS/3.$m.*/lib/libpython3.$m*.so"
		continue
	fi
	add_cells "$(basename "$d")" "$d" "3.$m"
done
deb=$(ls /usr/lib/*-linux-gnu/libpython3.11.so.1.0 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	t_skip "cpython 3.11 (Debian, /usr)" "not installed: no /usr/lib/*-linux-gnu/libpython3.11.so.1.0"
else
	add_cells debian-3.11 "$deb" 3.11
fi

# A cell takes about a second; run as many at a time as there are CPUs.
export ROOT MEMSIM
mkdir -p "$T/res"
ncpu=$(nproc 2>/dev/null || echo 2)
for i in "${!names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$ncpu" ]; do wait -n; done
	bash "$ROOT/tests/cpython/run_one.sh" "${names[$i]}" "${pys[$i]}" "${minors[$i]}" \
		"${wls[$i]}" "$T/res" &
done
wait

for name in "${names[@]}"; do
	st=$(cat "$T/res/$name.status" 2>/dev/null || echo "fail")
	case $st in
	ok) t_pass "$name" ;;
	skip*) t_skip "$name" "${st#skip }" ;;
	*)
		t_fail "$name"
		sed 's/^/# /' "$T/res/$name.msg" 2>/dev/null | head -45
		;;
	esac
done
t_done
