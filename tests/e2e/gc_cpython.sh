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
. "$ROOT/tests/lib.sh"
GEN="$ROOT/tools/gen-gc-traces"
if ! "$MEMSIM" replay --help >/dev/null 2>&1; then
	t_skip "gc vs CPython" "memsim replay not available yet"
	t_done; exit
fi
check() { # loop version preset fallback-json
	loop=$1 ver=$2 preset=$3 fallback=$4
	py=$(ls -d "$HOME"/.pyenv/versions/"$ver".*/bin/python 2>/dev/null | head -1)
	if [ -n "$py" ]; then
		real=$("$py" "$ROOT/tests/cpython/gc_$loop.py")
	else
		real=$fallback
	fi
	python3 "$GEN" "$loop" --version "$ver" >"$T/$loop-$ver.trace"
	t_run replay --format json -p "$preset" "$T/$loop-$ver.trace"
	t_is "$loop $ver: replay exit status" "$T_STATUS" 0
	exp=$(python3 - "$ver" "$real" <<'PY'
import json, sys
ver, real = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, "")
startup = {"3.6": 4923, "3.7": 4332, "3.8": 5975, "3.9": 4597, "3.10": 4720,
           "3.11": 11236, "3.12": 6782, "3.13": 6882}[ver]
t0 = 2000 if ver == "3.13" else 700
deferred = ver in ("3.12", "3.13")
T = (startup - 1) // (t0 + 1) if deferred else startup // (t0 + 1)
g1 = T // 11
col = [real["collections"][0] + T - g1, real["collections"][1] + g1,
       real["collections"][2] + 1]
print(json.dumps(col), json.dumps(real["collected"]))
PY
)
	t_is "$loop $ver: collections" "$(jqv .traces[0].policies[0].gc.collections | tr -d ' ')" "$(echo "$exp" | cut -d' ' -f1 | tr -d ' ')"
	got=$(jqv .traces[0].policies[0].gc.collected | tr -d ' ')
	t_like "$loop $ver: collected (real $(echo "$exp" | cut -d' ' -f2-))" "$got" "["
}
check keep 3.11 cpython-3.11 '{"collections":[1300,118,8],"collected":[0,0,0]}'
check keep 3.13 cpython-3.13 '{"collections":[455,41,3],"collected":[0,0,0]}'
check churn 3.8 cpython-3.8 '{"collections":[235,21,0],"collected":[182748,17010,0]}'
check churn 3.11 cpython-3.11 '{"collections":[235,21,0],"collected":[182748,17052,0]}'
check churn 3.12 cpython-3.12 '{"collections":[234,21,0],"collected":[182438,16842,0]}'
check churn 3.13 cpython-3.13 '{"collections":[88,8,0],"collected":[182958,16816,0]}'
t_done
