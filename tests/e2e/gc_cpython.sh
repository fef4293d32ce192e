#!/bin/bash
# gc_cpython.sh - memsim's generational collector against real CPython on
# the loops of tests/cpython/ (docs/gc.md "Tests"). Needs `memsim replay`
# (skips until it exists). Expected values: real CPython's own counts,
# measured live where ~/.pyenv/versions/X exists, else the numbers
# measured on the reference machine; plus the trace prologue's own
# collections, derived by hand: STARTUP kept allocations trip
# T = STARTUP // (t0+1) collections (immediate) or (STARTUP-1) // (t0+1)
# (deferred: each runs at the next allocation), every (t1+1)-th of them
# of generation 1, then the explicit `c` (generation 2, collects 0).
# Collected objects must be equal per generation (the prologue's
# collections find nothing: every start-up object is held by the root
# set), and for churn, with a live interpreter, collection by collection:
# gc_churn.py --per-collection against the pause record of --out.
. "$ROOT/tests/lib.sh"
GEN="$ROOT/tools/gen-gc-traces"
if ! "$MEMSIM" replay --help >/dev/null 2>&1; then
	t_skip "gc vs CPython" "memsim replay not available yet"
	t_done; exit
fi
check() { # loop version preset fallback-json
	loop=$1 ver=$2 preset=$3 fallback=$4
	py=$(ls -d "$HOME"/.pyenv/versions/"$ver".*/bin/python 2>/dev/null | head -1)
	per=""
	if [ -n "$py" ]; then
		[ "$loop" = churn ] && per=--per-collection
		real=$("$py" "$ROOT/tests/cpython/gc_$loop.py" $per)
	else
		real=$fallback
	fi
	python3 "$GEN" "$loop" --version "$ver" >"$T/$loop-$ver.trace"
	rm -rf "$T/out"
	t_run replay -q --format json --out "$T/out" -p "$preset" "$T/$loop-$ver.trace"
	t_is "$loop $ver: replay exit status" "$T_STATUS" 0
	got_coll=$(gens 0 collections | tr -d ' ')
	got_coll_d=$(gens 0 collected | tr -d ' ')
	python3 - "$ver" "$real" "$got_coll" "$got_coll_d" "$T/out/data/$loop-$ver.p1.pauses.dat" >"$T/verdict" <<'PY'
import json, sys
ver, real = sys.argv[1], json.loads(sys.argv[2])
got_c, got_d = json.loads(sys.argv[3]), json.loads(sys.argv[4])
# Long-lived tracked objects of a fresh interpreter (gc.get_objects()
# after gc.collect(), measured per version; docs/gc.md).
startup = {"3.6": 4923, "3.7": 4332, "3.8": 5975, "3.9": 4597, "3.10": 4720,
           "3.11": 11236, "3.12": 6782, "3.13": 6882}[ver]
t0 = 2000 if ver == "3.13" else 700
deferred = ver in ("3.12", "3.13")
T = (startup - 1) // (t0 + 1) if deferred else startup // (t0 + 1)
g1 = T // 11
want = [real["collections"][0] + T - g1, real["collections"][1] + g1,
        real["collections"][2] + 1]
print("collections", "ok" if got_c == want else "got %s want %s" % (got_c, want))
print("collected", "ok" if got_d == real["collected"]
      else "got %s real %s" % (got_d, real["collected"]))
if "per_collection" in real:
    # pauses.dat: index event start_ns pause_ns generation explicit
    # examined traversed unreachable freed; the loop's collections are
    # those after the explicit one (the scripts' last gc.collect()).
    rows = [l.split() for l in open(sys.argv[5]) if not l.startswith("#")]
    start = max(i for i, r in enumerate(rows) if r[5] == "1") + 1
    got = [[int(r[4]), int(r[8])] for r in rows[start:]]
    bad = [i for i in range(max(len(got), len(real["per_collection"])))
           if got[i:i + 1] != real["per_collection"][i:i + 1]]
    print("each", "ok" if not bad else "%d of %d differ, first #%d: got %s real %s"
          % (len(bad), len(real["per_collection"]), bad[0], got[bad[0]:bad[0] + 1],
             real["per_collection"][bad[0]:bad[0] + 1]))
else:
    print("each", "skip")
PY
	t_is "$loop $ver: collections" "$(sed -n 's/^collections //p' "$T/verdict")" ok
	t_is "$loop $ver: collected per generation" "$(sed -n 's/^collected //p' "$T/verdict")" ok
	each=$(sed -n 's/^each //p' "$T/verdict")
	if [ "$each" = skip ]; then
		[ "$loop" = churn ] && t_skip "$loop $ver: each collection" "CPython $ver not installed"
	else
		t_is "$loop $ver: each collection's generation and collected" "$each" ok
	fi
}
# Fallbacks: tests/cpython/gc_LOOP.py under pyenv 3.11.7, 3.13.0, 3.8.18,
# 3.12.1 on the reference machine (docs/gc.md).
check keep 3.11 cpython-3.11 '{"collections":[1300,118,8],"collected":[0,0,0]}'
check keep 3.13 cpython-3.13 '{"collections":[455,41,3],"collected":[0,0,0]}'
check churn 3.8 cpython-3.8 '{"collections":[235,21,0],"collected":[182748,17010,0]}'
check churn 3.11 cpython-3.11 '{"collections":[235,21,0],"collected":[182748,17052,0]}'
check churn 3.12 cpython-3.12 '{"collections":[234,21,0],"collected":[182438,16842,0]}'
check churn 3.13 cpython-3.13 '{"collections":[88,8,0],"collected":[182958,16816,0]}'
t_done
