#!/bin/bash
# tests/e2e/cpython_mimalloc.sh - a real CPython 3.13 running its bundled
# mimalloc (PYTHONMALLOC=mimalloc) as the judge of memsim's mimalloc model.
#
# For every workload in tests/cpython/workloads/ and tests/cpython/mimalloc/,
# records it with
# PYTHONMALLOC=mimalloc tools/pyrec under the pyenv 3.13.x (the
# interpreter's own requests and its own mimalloc counters), checks the
# recording (its live requests at the end are CPython's Allocated Blocks),
# and, where the preset exists, replays it with
#   memsim replay --format json -p cpython-3.13-mimalloc
# and compares the counters (tests/cpython/compare_mimalloc.py). The
# expected values are CPython's, measured at test time. Without a 3.13 the
# cells are "# SKIP" lines naming what is missing.
. "$ROOT/tests/lib.sh"

PYENV_VERSIONS=${PYENV_ROOT:-$HOME/.pyenv}/versions
d=$(ls -d "$PYENV_VERSIONS"/3.13.* 2>/dev/null | grep -E '/3\.13\.[0-9]+$' | sort -V | tail -1)
if [ -z "$d" ] || ! ls "$d"/lib/libpython3.13*.so* >/dev/null 2>&1; then
	t_skip "cpython 3.13 (pyenv)" "not installed: no $PYENV_VERSIONS/3.13.*/lib/libpython3.13*.so"
	t_done
	exit 0
fi
have_preset=0
"$MEMSIM" policies 2>/dev/null | grep -q '^ *cpython-3.13-mimalloc ' && have_preset=1

# A value pyrec does not record is refused, not silently ignored.
PYTHONMALLOC=malloc "$ROOT/tools/pyrec" --python "$d" -o "$T/x.trace" --stats "$T/x.json" \
	"$ROOT/tests/cpython/workloads/list_growth.py" >"$T/x.out" 2>"$T/x.err"
t_is "PYTHONMALLOC=malloc: exit 64" "$?" 64
t_like "PYTHONMALLOC=malloc: says why" "$(cat "$T/x.err")" "PYTHONMALLOC=malloc: pyrec records pymalloc"

# The shared workloads (also pymalloc's), and tests/cpython/mimalloc/'s
# medium/large/huge blocks and page-retirement churn.
for w in "$ROOT"/tests/cpython/workloads/*.py "$ROOT"/tests/cpython/mimalloc/*.py; do
	name=$(basename "$d").mimalloc.$(basename "$w" .py)
	if ! PYTHONMALLOC=mimalloc "$ROOT/tools/pyrec" --python "$d" -o "$T/t.trace" \
		--stats "$T/cpython.json" "$w" >"$T/pyrec.out" 2>"$T/pyrec.err"; then
		t_fail "$name: pyrec"
		sed 's/^/# /' "$T/pyrec.err" | tail -10
		continue
	fi
	if ! python3 "$ROOT/tests/cpython/compare_mimalloc.py" check "$T/t.trace" \
		"$T/cpython.json" >"$T/check.out" 2>&1; then
		t_fail "$name: recording vs CPython's counters"
		sed 's/^/# /' "$T/check.out" | head -20
		continue
	fi
	if [ "$have_preset" != 1 ]; then
		t_skip "$name" "no cpython-3.13-mimalloc preset yet (recording checked: ok)"
		continue
	fi
	if ! "$MEMSIM" replay --format json -p cpython-3.13-mimalloc "$T/t.trace" \
		>"$T/replay.json" 2>"$T/replay.err"; then
		t_fail "$name: memsim replay"
		sed 's/^/# /' "$T/replay.err" | head -10
		continue
	fi
	if python3 "$ROOT/tests/cpython/compare_mimalloc.py" diff "$T/cpython.json" \
		"$T/replay.json" >"$T/diff.out" 2>&1; then
		t_pass "$name"
	else
		t_fail "$name"
		sed 's/^/# /' "$T/diff.out" | head -20
	fi
done
t_done
