#!/bin/bash
# gc_models.sh - memsim's collectors after 3.13 (sim/gc_incremental.c,
# preset cpython-3.14.0; sim/gc_freethreaded.c, preset cpython-3.13t)
# against tests/cpython/gc_reference.py, the second reader written from
# the same CPython sources (Python/gc.c of 3.14.0, Python/gc_free_
# threading.c of 3.13), collection by collection: for every collection
# the event, generation, explicit flag, examined, unreachable and freed
# objects must be equal, and so must the totals of collections and
# collected per generation. Traces: the reader's hand-derived cases
# (tests/e2e/gc_reference.sh derives their expected rows) and its
# generated cycle-heavy and long-lived-heavy traces. The reader has no
# free lists, so the presets run with freelists.mode=none. Plus the pause
# phases of 3.13t and the cpython-3.14 preset (3.14.5+: 3.13's collector).
# docs/gc.md lists what is verified here and what is only read.
. "$ROOT/tests/lib.sh"
REF="$ROOT/tests/cpython/gc_reference.py"

# compare NAME TRACE PRESET READER: one replay, one reader run, the rows.
compare() {
	name=$1 trace=$2 preset=$3 reader=$4
	f=$T/$(printf '%s' "$name" | tr -c 'A-Za-z0-9.' _)
	rm -rf "$T/out"
	t_run replay -q --format json --out "$T/out" -p "$preset:freelists.mode=none" "$trace"
	if [ "$T_STATUS" != 0 ]; then
		t_fail "$name: replay exit status $T_STATUS"
		echo "# $T_ERR" | head -3
		return
	fi
	cp "$T/.out" "$f.json"
	python3 "$REF" run "$reader" "$trace" >"$f.ref"
	python3 - "$f.ref" "$T/out/data/"*.p1.pauses.dat "$f.json" \
		>"$f.verdict" <<'PY'
import json, re, sys
ref = [l.split() for l in open(sys.argv[1])]
# the reader: event generation explicit examined unreachable freed phase;
# "skip" rows are collections 3.13t scheduled and then did not run
want = [[int(x) for x in r[:6]] for r in ref if r[0] != "#" and r[6] != "skip"]
counts = [l for l in open(sys.argv[1]) if l.startswith("# counts")][0]
w_coll = json.loads(re.search(r"collections=(\[[^]]*\])", counts).group(1))
w_cold = json.loads(re.search(r"collected=(\[[^]]*\])", counts).group(1))
# pauses.dat: index event(1-based) start pause generation explicit
# examined traversed unreachable freed stw
got = [[int(r[1]) - 1, int(r[4]), int(r[5]), int(r[6]), int(r[8]), int(r[9])]
       for r in (l.split() for l in open(sys.argv[2])) if r[0] != "#"]
gc = json.load(open(sys.argv[3]))["traces"][0]["policies"][0]["gc"]
# The collector's rows (generations as the collector names them) in order.
g_coll = [r["collections"] for r in gc["generations"]]
g_cold = [r["collected"] for r in gc["generations"]]
bad = []
if len(got) != len(want):
    bad.append("collections: %d, the reader %d" % (len(got), len(want)))
for i, (g, w) in enumerate(zip(got, want)):
    if g != w:
        bad.append("collection %d: %s, the reader %s" % (i + 1, g, w))
        break
if g_coll != w_coll or g_cold != w_cold:
    bad.append("totals %s %s, the reader %s %s" % (g_coll, g_cold, w_coll, w_cold))
print("ok %d collections" % len(want) if not bad else "\n".join(bad))
PY
	if grep -q '^ok' "$f.verdict"; then
		t_pass "$name: $(cat "$f.verdict")"
	else
		t_fail "$name"
		sed 's/^/# /' "$f.verdict" | head -5
	fi
}

# 1. The reader's hand-derived cases (their rows are derived in
#    tests/e2e/gc_reference.sh, cases 1-3).
cat >"$T/mark.trace" <<'TR'
#memsim-trace 1
a 1 48 Node
a 2 48 Node
+ 1 2
+ 2 1
- 0 1
- 0 2
c 1
c 1
TR
cat >"$T/stuck.trace" <<'TR'
#memsim-trace 1
a 1 48 Node
a 2 48 Node
+ 1 2
+ 2 1
- 0 2
c 1
- 0 1
c 1
c 1
c 1
c
TR
python3 - >"$T/ft.trace" <<'PY'
print("#memsim-trace 1")
for i in range(1, 2049):
    print("a %d 48 Node" % i)
for i in range(1, 513):
    print("f %d" % i)
for i in range(3000, 3513):
    print("a %d 48 Node" % i)
PY
compare "3.14.0 mark phase" "$T/mark.trace" cpython-3.14.0 incremental
compare "3.14.0 marked garbage waits" "$T/stuck.trace" cpython-3.14.0 incremental
compare "3.13t skip rule" "$T/ft.trace" cpython-3.13t freethreaded

# 2. Generated traces: two seeds of each shape. Sizes: n iterations give
#    about n / 0.4 automatic collections' worth of allocations at 2000
#    per increment (cycles: ~6.6 objects per iteration).
n=6000
t_slow && n=800
for seed in 7 11; do
	for shape in cycles longlived; do
		python3 "$REF" gen "$shape" "$n" "$seed" >"$T/$shape-$seed.trace"
		compare "3.14.0 $shape seed $seed" "$T/$shape-$seed.trace" cpython-3.14.0 incremental
		compare "3.13t $shape seed $seed" "$T/$shape-$seed.trace" cpython-3.13t freethreaded
	done
done

# 2b. Explicit collections among the automatic ones: gc.collect(0) every
#     3001st event and gc.collect(1) every 4999th (the trace stays valid:
#     `c` names no object).
awk 'NR > 1 && NR % 3001 == 0 { print "c 0" } NR > 1 && NR % 4999 == 0 { print "c 1" } { print }' \
	"$T/longlived-7.trace" >"$T/explicit.trace"
compare "3.14.0 explicit collect(0)/(1)" "$T/explicit.trace" cpython-3.14.0 incremental
compare "3.13t explicit collect(0)/(1)" "$T/explicit.trace" cpython-3.13t freethreaded

# 3. 3.13t's pause as stop-the-world phases (docs/gc.md), by hand: a
#    2-cycle dropped, then gc.collect(). Examined 2; stw1 = 690 + 12.98 x 2
#    + 2.25 x (2 member edges + 0 reachable) = 720.46 -> 720; stw2 =
#    2.25 x 2 unreachable edges = 4.5 -> 5 (round half up); running phase
#    (tp_clear) = 12.98 x 2 = 25.96 -> 26. pause 751, stw 725, traversed 4.
#    The incremental collector holds the GIL: stw = pause = 690 + 25.96 +
#    2.25 x 2 (subtract_refs; nothing reachable) = 720.46 -> 720.
cat >"$T/cyc.trace" <<'TR'
#memsim-trace 1
a 1 48 Node
a 2 48 Node
+ 1 2
+ 2 1
- 0 1
- 0 2
c
TR
for pc in "cpython-3.13t 751 725 4" "cpython-3.14.0 720 720 2"; do
	set -- $pc
	rm -rf "$T/out"
	t_run replay -q --out "$T/out" -p "$1" "$T/cyc.trace"
	t_is "$1: pause, stop-the-world part, traversed" \
		"$(grep -v '^#' "$T/out/data/"*.p1.pauses.dat | awk '{print $4, $11, $8}')" "$2 $3 $4"
done

# 4. cpython-3.14 (3.14.5+) is the 3.13 collector again: the same gc
#    section as cpython-3.13, and the same collections on a trace.
t_run policies --show cpython-3.13
gc13=$(jqv .gc)
t_run policies --show cpython-3.14
t_is "cpython-3.14: the gc section of cpython-3.13" "$(jqv .gc)" "$gc13"
t_run replay -q --format json -p cpython-3.13 -p cpython-3.14 "$T/cycles-7.trace"
t_is "cpython-3.14: the collections of cpython-3.13" \
	"$(jqv .traces[0].policies[1].gc.generations)" "$(jqv .traces[0].policies[0].gc.generations)"
# 5. The rows are the collector's own (issue #20 item 4): 3.14.0 names its
#    collections young/increment/full, 3.13t its whole-heap ones, the
#    generational collector its generations; in JSON and text alike.
#    3.14.0: the full collection completes the scavenge, so the first
#    gc.collect(1) after it only marks (not counted, docs/gc.md), the
#    second collects.
printf 'a 1 64 list\na 2 64 list\n+ 1 2\n+ 2 1\nc\nc 1\nc 1\n' >"$T/rows.trace"
t_run replay -q --format json -p cpython-3.14.0 -p cpython-3.13t -p cpython-3.13 "$T/rows.trace"
rows() { jqv ".traces[0].policies[$1].gc.generations" | python3 -c '
import json, sys
print(",".join("%s:%d" % (r["name"], r["collections"]) for r in json.load(sys.stdin)))'; }
t_is "cpython-3.14.0: rows by collection (one full, one increment)" "$(rows 0)" "young:0,increment:1,full:1"
t_is "cpython-3.13t: whole-heap rows" "$(rows 1)" "auto:0,collect(1):2,full:1"
t_is "cpython-3.13: generations" "$(rows 2)" "0:0,1:2,2:1"
t_run replay -q --format csv -p cpython-3.14.0 "$T/rows.trace"
t_is "csv: the rows' names in the columns" \
	"$(printf '%s\n' "$T_OUT" | head -1 | tr ',' '\n' | grep -c '^gc\.generations\.\(young\|increment\|full\)\.collections$')" 3
t_run replay -q -p cpython-3.14.0 -p cpython-3.13 "$T/rows.trace"
t_is "text: each collector's rows, numbers as generations" \
	"$(printf '%s\n' "$T_OUT" | sed -n '/^collector/,/^$/p' | grep '^  [a-z]' | grep -v '^  [a-z].*[0-9.]\+ \|MMU\|share' | paste -sd'|')" \
	"  increment|  full|  generation 1|  generation 2"
t_done
