#!/bin/bash
# tests/e2e/pyrec.sh - tools/pyrec's levels, types and checks, on every
# installed CPython (pyenv 3.6 .. 3.13 under ~/.pyenv/versions, Debian's
# libpython3.11); an interpreter that is not installed is a "# SKIP" line.
#
#  1. Types: tests/cpython/type_counts.py counts its Node instances, lists
#     and sets with gc.get_objects() at its end; the trace's live blocks of
#     those types at the end must be exactly those counts (allocator
#     level: plus the lists CPython's own free list holds, its
#     "free PyListObjects" line: parked blocks are live there).
#  2. The header says "level" (object from 3.13, else allocator) and
#     "runtime" (cpython-VERSION).
#  3. 3.13: the header test that types 3.6-3.12 recordings, judged by the
#     reference tracer (--check-types): no raw block taken for an object,
#     no object missed.
#  4. 3.13: the independent free-list checker agrees with the runtime on
#     an annotated recording, and names the event when an annotation is
#     removed; bisect.py names the first event where memsim under a wrong
#     list limit parts from the runtime.
#  5. memsim replays an allocator-level trace with its free lists off and
#     says so; a trace without typed objects gets its warning.
#  6. Usage errors, each with its exit status and message.
. "$ROOT/tests/lib.sh"

PYENV_VERSIONS=${PYENV_ROOT:-$HOME/.pyenv}/versions
CPY=$ROOT/tests/cpython
PYREC=$ROOT/tools/pyrec

# LABEL PYTHON_ARG MINOR for every interpreter found.
interps=()
for m in 6 7 8 9 10 11 12 13; do
	d=$(ls -d "$PYENV_VERSIONS"/3.$m.* 2>/dev/null | grep -E "/3\.$m\.[0-9]+$" | sort -V | tail -1)
	if [ -z "$d" ] || ! ls "$d"/lib/libpython3.$m*.so* >/dev/null 2>&1; then
		t_skip "cpython 3.$m (pyenv)" "not installed: no $PYENV_VERSIONS/3.$m.*/lib/libpython3.$m*.so"
		continue
	fi
	interps+=("$(basename "$d")|$d|$m")
done
deb=$(ls /usr/lib/*-linux-gnu/libpython3.11.so.1.0 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	t_skip "cpython 3.11 (Debian, /usr)" "not installed: no /usr/lib/*-linux-gnu/libpython3.11.so.1.0"
else
	interps+=("debian-3.11|$deb|11")
fi

# Live blocks by TYPE at the end of a trace (any form), as JSON.
live_types() {
	"$MEMSIM" convert -q "$1" "$T/live.trace" && python3 - "$T/live.trace" <<'PY'
import collections, json, sys
live = {}
for line in open(sys.argv[1]):
    p = line.split()
    if not p or p[0][0] == "#":
        continue
    if p[0] == "a":
        live[p[1]] = p[3] if len(p) > 3 and p[3][0] != "^" else ""
    elif p[0] == "f":
        del live[p[1]]
print(json.dumps(collections.Counter(live.values())))
PY
}

py313=
for cell in "${interps[@]}"; do
	IFS='|' read -r label py minor <<<"$cell"
	[ "$minor" = 13 ] && py313=$py
	if ! "$PYREC" --python "$py" -o "$T/tc.msb" --stats "$T/tc.json" "$CPY/type_counts.py" \
		"$T/counts.json" >"$T/pyrec.out" 2>"$T/pyrec.err"; then
		t_fail "$label: pyrec type_counts.py"
		sed 's/^/# /' "$T/pyrec.err" | head -10
		continue
	fi
	live=$(live_types "$T/tc.msb")
	verdict=$(python3 - "$T/counts.json" "$T/tc.json" "$live" <<'PY'
import json, sys
want = json.load(open(sys.argv[1]))
st = json.load(open(sys.argv[2]))
live = json.loads(sys.argv[3])
parked = {l["what"]: l["count"] for l in st["free_lists"]}
# At allocator level a block on CPython's list free list is still live.
extra = {"list": parked.get("PyListObjects", 0)} if st["level"] == "allocator" else {}
bad = ["%s: trace %d, interpreter %d%s" % (t, live.get(t, 0), n,
       " + %d parked" % extra[t] if t in extra else "")
       for t, n in sorted(want.items()) if live.get(t, 0) != n + extra.get(t, 0)]
print("; ".join(bad) or "ok")
PY
)
	t_is "$label: live objects by type at exit = gc.get_objects() counts" "$verdict" ok
	want_level=allocator
	[ "$minor" -ge 13 ] && want_level=object
	got=$("$MEMSIM" info --format json "$T/tc.msb" 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin)["metadata"]
print(m.get("level"), m.get("runtime", "").split("-")[0], m.get("runtime") == "cpython-" + m.get("python", ""))' 2>/dev/null)
	t_is "$label: header level and runtime" "$got" "$want_level cpython True"
done

if [ -z "$py313" ]; then
	t_skip "3.13 checks" "CPython 3.13 not installed"
else
	"$PYREC" --python "$py313" --level allocator --check-types -o "$T/ct.msb" \
		--stats "$T/ct.json" "$CPY/type_counts.py" "$T/counts.json" 2>"$T/ct.err"
	t_is "3.13 --check-types: exit status" "$?" 0
	t_is "3.13 --check-types: raw blocks taken for objects, objects missed" \
		"$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["recorder"]
print(r["check_false_objects"], r["check_missed_objects"])' "$T/ct.json")" "0 0"

	"$PYREC" --annotate --python "$py313" -o "$T/a.trace" "$CPY/workloads/class_graph.py" \
		>/dev/null 2>"$T/a.err"
	t_is "3.13 --annotate: exit status" "$?" 0
	t_like "3.13: the 3.13 rules agree with the runtime" \
		"$(python3 "$CPY/flcheck.py" "$T/a.trace")" "agree with the runtime at every event"
	# Drop the 100th "# parked" annotation: the checker must name its `f`.
	awk '/^# parked /{n++; if (n == 100) { print NR - 1 > "/dev/stderr"; next } } {print}' \
		"$T/a.trace" >"$T/b.trace" 2>"$T/line"
	want="line $(cat "$T/line"): $(sed -n "$(cat "$T/line")p" "$T/a.trace")"
	got=$(python3 "$CPY/flcheck.py" "$T/b.trace")
	t_like "3.13: the checker names the event whose annotation is gone" "$got" "$want"
	t_like "3.13: ... and says what each side did" "$got" "CPython freed it, the 3.13 rules keep it"
	# With room for 79 lists instead of 80, memsim frees the list CPython
	# parks as its 80th: bisect.py must name that event (the first `f` of
	# a list followed by "# parked list" when 79 are parked). The script
	# fills the list free list only at its end, so the difference lasts.
	printf 'x = [[i] for i in range(300)]\ndel x\n' >"$T/fill.py"
	"$PYREC" --annotate --python "$py313" -o "$T/f.trace" "$T/fill.py" >/dev/null 2>&1
	first80=$(python3 - "$T/f.trace" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
n = 0
for i, l in enumerate(lines):
    if l.startswith("# parked list"):
        n += 1
    elif l.startswith("# reused list") or l.startswith("# released list"):
        n -= 1
    if n == 80:
        print(lines[i - 1])
        break
PY
)
	got=$(python3 "$CPY/bisect.py" "$MEMSIM" \
		"cpython-3.13:allocator.arena_alignment=aligned,freelists.list_limit=79" "$T/f.trace")
	t_like "3.13: bisect.py names the first event where memsim parts from the runtime" \
		"$got" "first difference after line"
	t_like "3.13: ... the 80th parked list" "$got" ": $first80"
	t_like "3.13: ... with both counts" "$got" "list: CPython 80, memsim 79"
fi

# memsim and the level: an allocator-level trace replays with free lists
# off (the runtime's already acted), and the report says why.
if [ ${#interps[@]} -gt 0 ]; then
	IFS='|' read -r label py minor <<<"${interps[0]}"
	"$PYREC" --python "$py" --level allocator -o "$T/al.msb" "$CPY/type_counts.py" \
		"$T/counts.json" 2>/dev/null
	t_run replay -q --format json -p "cpython-3.$minor" "$T/al.msb"
	t_is "allocator level: replay exit status" "$T_STATUS" 0
	t_is "allocator level: free lists replayed as none" \
		"$(jqv .traces[0].policies[0].freelists.mode)" none
	t_like "allocator level: the JSON warns" "$(jqv .traces[0].warnings)" \
		"cpython-3.$minor: the trace is at allocator level (its runtime's free lists already acted), so its free lists (per-type) were not applied: none"
	t_run replay -q -p "cpython-3.$minor" "$T/al.msb"
	t_like "allocator level: the text report warns" "$T_OUT" "  cpython-3.$minor: the trace is at allocator level"
fi
printf '#memsim-trace 1\na 1 100\nf 1\n' >"$T/untyped.trace"
t_run replay -q --format json -p cpython-3.13 "$T/untyped.trace"
t_is "untyped trace: warns that free lists and collectors had nothing to act on" \
	"$(jqv .traces[0].warnings[0])" \
	"the trace has no typed objects: free-list policies had nothing to act on, and collectors see no untyped object"
printf '#memsim-trace 1\na 1 100 list\nf 1\n' >"$T/typed.trace"
t_run replay -q --format json -p cpython-3.13 "$T/typed.trace"
t_is "typed trace at no stated level: no warning" "$(jqv .traces[0].warnings)" "[]"

# Usage errors.
if [ ${#interps[@]} -gt 0 ]; then
	IFS='|' read -r label py minor <<<"${interps[0]}"
	if [ "$minor" -lt 13 ]; then
		"$PYREC" --python "$py" --level object -o "$T/x.msb" "$CPY/type_counts.py" 2>"$T/err"
		t_is "--level object before 3.13: exit 64" "$?" 64
		t_like "--level object before 3.13: message" "$(cat "$T/err")" \
			"pyrec: --level object needs CPython 3.13 or later (its reference tracer, PyRefTracer_SetTracer)"
		"$PYREC" --python "$py" --level allocator --check-types -o "$T/x.msb" \
			"$CPY/type_counts.py" 2>"$T/err"
		t_is "--check-types before 3.13: exit 64" "$?" 64
	fi
	"$PYREC" --python "$py" --annotate -o "$T/x.msb" "$CPY/type_counts.py" 2>"$T/err"
	t_is "--annotate with a binary trace: exit 64" "$?" 64
	t_like "--annotate with a binary trace: message" "$(cat "$T/err")" \
		"pyrec: --annotate needs a text trace (-o FILE.trace)"
	"$PYREC" --python "$py" --level sideways -o "$T/x.msb" "$CPY/type_counts.py" 2>"$T/err"
	t_is "--level sideways: exit 64" "$?" 64
	t_like "--level sideways: message" "$(cat "$T/err")" "pyrec: --level sideways: object or allocator"
fi
t_done
