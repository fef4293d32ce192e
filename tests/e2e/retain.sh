#!/bin/bash
# memsim retain (docs/retention.md): hand-built graphs with answers derived
# in the comments, random traces against a second, naive implementation
# (tests/retain_reference.py: retention straight from its definition, one
# search per object), the lingering-reference scenario, and bad input.
. "$ROOT/tests/lib.sh"
scenario_setup
REF="$ROOT/tests/retain_reference.py"

# --- the documentation's cycle (traces/cycle.trace) --------------------
# Events: a 1, a 2, + 1 2, + 2 1, - 0 1, - 0 2, c. After event 3 both
# lists are rooted, 1 -> 2: 1 retains nothing but itself (2 is also
# held by the root set), each 56 bytes; 2's shortest path is 0 -> 2.
t_run retain --at 3 --format json "$ROOT/traces/cycle.trace"
t_is "cycle @3: exit status" "$T_STATUS" 0
t_is "cycle @3: at" "$(jqv .at.event) $(jqv .at.what)" "3 event"
t_is "cycle @3: live" "$(jqv .live_objects) $(jqv .live_bytes) $(jqv .references)" "2 112 1"
t_is "cycle @3: retainer 1" "$(jqv .retainers[0].id) $(jqv .retainers[0].retained_bytes) $(jqv .retainers[0].path)" "1 56 [0, 1]"
t_is "cycle @3: retainer 2" "$(jqv .retainers[1].id) $(jqv .retainers[1].retained_bytes) $(jqv .retainers[1].path)" "2 56 [0, 2]"
t_is "cycle @3: no suspect (56 of 112 is below 80%)" "$(jqv .suspect)" "None"
# At the end both roots are gone: 2 objects, 112 bytes of cyclic garbage,
# nothing reachable. The bare graph has no collector; under cpython-3.11
# the trace's `c` (event 7) collects both, so its collector left 0; at
# event 6, before the `c`, the two are still there (2 allocations are
# far below threshold0 = 700).
t_run retain --at end --format json -p cpython-3.11 "$ROOT/traces/cycle.trace"
t_is "cycle end: garbage" "$(jqv .garbage.objects) $(jqv .garbage.bytes)" "2 112"
t_is "cycle end: nothing reachable" "$(jqv .reachable_objects) $(jqv .retainers)" "0 []"
t_is "cycle end: cpython-3.11 collected it" "$(jqv .garbage.policies[0].policy) $(jqv .garbage.policies[0].objects)" "cpython-3.11 0"
t_like "cycle end: says why nothing is retained" "$(jqv .notes)" "no live object is reachable from the root set"
t_run retain --at 6 --format json -p cpython-3.11 "$ROOT/traces/cycle.trace"
t_is "cycle @6: cpython-3.11 not yet" "$(jqv .garbage.policies[0].objects) $(jqv .garbage.policies[0].bytes)" "2 112"
# The policies' own sizes for them: pymalloc rounds 56 up to its
# alignment, 8 in 2.4 (56, 112 for both), 16 in 3.11 (64, 128).
t_run retain --at 6 --format json -p cpython-2.4 -p cpython-3.11 "$ROOT/traces/cycle.trace"
t_is "cycle @6: allocated bytes under 2.4 and 3.11" \
	"$(jqv .garbage.policies[0].allocated_bytes) $(jqv .garbage.policies[1].allocated_bytes)" "112 128"
t_run retain --at end "$ROOT/traces/cycle.trace"
t_like "cycle end text: the garbage group" "$T_OUT" "garbage only a collector would free: 2 objects, 112 B"

# --- a diamond with a shared child and a chain, by hand ----------------
# 0 -> 1 (10 B); 1 -> 2 (20), 1 -> 3 (30); 2 -> 4, 3 -> 4 (40 B): the
# diamond; 4 -> 5 (50) -> 6 (60): a chain. 0 -> 7 (70) -> 6 as well: 6
# is shared by two roots' subtrees, so its idom is the root set.
#   retained(1) = 10 + 20 + 30 + 40 + 50 = 150 (6 is reachable via 7)
#   retained(7) = 70, retained(4) = 90, retained(5) = 50, retained(6) = 60
#   idom(4) = 1 (two paths), idom(6) = 0; top by bytes: 1, 4, 7, 6, 5, 3
# Shortest path to 6: 0 -> 7 -> 6 (two references) beats 0 -> 1 -> 2 ->
# 4 -> 5 -> 6.
cat >"$T/diamond.trace" <<'EOF'
#memsim-trace 1
a 1 10 A
a 2 20 B
a 3 30 B
a 4 40 C
a 5 50 C
a 6 60 D
a 7 70 E
+ 1 2
+ 1 3
+ 2 4
+ 3 4
+ 4 5
+ 5 6
+ 7 6
- 0 2
- 0 3
- 0 4
- 0 5
- 0 6
EOF
t_run retain --at end --top 6 --format json "$T/diamond.trace"
t_is "diamond: exit status" "$T_STATUS" 0
t_is "diamond: ranking" "$(python3 -c 'import json,sys; print(" ".join("%d:%d" % (r["id"], r["retained_bytes"]) for r in json.load(sys.stdin)["retainers"]))' <"$T/.out")" \
	"1:150 4:90 7:70 6:60 5:50 3:30"
t_is "diamond: idom(4) = 1, idom(6) = 0" "$(jqv .retainers[1].dominator) $(jqv .retainers[3].dominator)" "1 0"
t_is "diamond: path to 6" "$(jqv .retainers[3].path) $(jqv .retainers[3].path_types)" '[0, 7, 6] [null, "E", "D"]'
# by type: C (4 and 5) frees 4, 5 = 90 B; B (2 and 3) frees 2, 3, 4, 5 =
# 140 B (without both, 4 is unreachable); D frees 6 = 60.
t_is "diamond: group B" "$(python3 -c 'import json,sys; print([g["retained_bytes"] for g in json.load(sys.stdin)["by_type"] if g["type"] == "B"][0])' <"$T/.out")" 140
t_is "diamond: group C" "$(python3 -c 'import json,sys; print([g["retained_bytes"] for g in json.load(sys.stdin)["by_type"] if g["type"] == "C"][0])' <"$T/.out")" 90
t_run retain --at end --by type "$T/diamond.trace"
t_like "diamond: --by type text" "$T_OUT" "by type (retained: what would be freed if every object of the group died)"

# --- random traces against the naive reference -------------------------
for seed in 1 2 3; do
	python3 "$REF" gen "$seed" 300 >"$T/r$seed.trace"
	for at in peak end 250; do
		"$MEMSIM" retain --top 100000 --format json --at "$at" "$T/r$seed.trace" >"$T/r.json"
		t_ok "random seed $seed at $at: as the reference" \
			python3 "$REF" check "$T/r$seed.trace" "$at" "$T/r.json"
	done
done

# --- the lingering-reference scenario ----------------------------------
# gen-scenario lingering -n R: module 1 (72 B, the only root object) ->
# globals dict 2 (1200 B) -> cache dict 3 (4696 B) and 100 str of 64 B;
# R requests of a 128-byte Request owning a 512-byte bytes payload,
# every 50th kept in the cache. At the end, K = R / 50 requests live:
#   live = 3 + 100 + 2K objects, 72 + 1200 + 4696 + 6400 + 640K bytes
#   the cache retains 4696 + 640K bytes in 1 + 2K objects, path 0 -> 1
#   -> 2 -> 3; it is the suspect when it holds >= 80% of what the globals
#   dict retains (12296 + 640K): 4696 + 640K >= 0.8 (12296 + 640K) <=>
#   128K >= 5140.8 <=> K >= 41; with R = 2500, K = 50: 36696 of 44296
#   (82.8%); the module and the globals dict above it hold ~100% of
#   their parents', and each of the cache's K children 640 B (< 80%)
R=2500; K=$((R / 50))
"$GEN" lingering -n $R >"$T/linger.trace"
t_run retain --at end --format json "$T/linger.trace"
t_is "lingering: live" "$(jqv .live_objects) $(jqv .live_bytes)" "$((103 + 2 * K)) $((12368 + 640 * K))"
t_is "lingering: suspect is the cache" "$(jqv .suspect.id) $(jqv .suspect.type) $(jqv .suspect.retained_bytes) $(jqv .suspect.retained_objects)" \
	"3 dict $((4696 + 640 * K)) $((1 + 2 * K))"
t_is "lingering: its path with types" "$(jqv .suspect.path) $(jqv .suspect.path_types)" '[0, 1, 2, 3] [null, "module", "dict", "dict"]'
t_is "lingering: its dominator children" "$(jqv .suspect.dominator_children)" "$K"
t_is "lingering: the cache is retainer #3" "$(jqv .retainers[2].id) $(jqv .retainers[2].retained_bytes)" "3 $((4696 + 640 * K))"
t_is "lingering: Request group" "$(python3 -c 'import json,sys; g=[g for g in json.load(sys.stdin)["by_type"] if g["type"] == "Request"][0]; print(g["objects"], g["retained_bytes"], g["retained_objects"])' <"$T/.out")" \
	"$K $((640 * K)) $((2 * K))"
# The bundled trace (R = 10000, K = 200), in text.
t_run retain --at end "$ROOT/traces/lingering.trace.gz"
t_like "bundled lingering: the suspect line" "$T_OUT" \
	"suspect (where retention spreads out): 3 dict retains $(( (4696 + 640 * 200) / 1024 )).59 KiB"
t_like "bundled lingering: the path" "$T_OUT" "path: 0 -> 1 module -> 2 dict -> 3 dict"
"$GEN" lingering -n 300 >"$T/linger-small.trace"
"$MEMSIM" retain --top 100000 --format json --at end "$T/linger-small.trace" >"$T/r.json"
t_ok "lingering -n 300: as the reference" python3 "$REF" check "$T/linger-small.trace" end "$T/r.json"

# --- no references: retention by root objects only ---------------------
printf '#memsim-trace 1\na 1 100 A\na 2 50 A\n' >"$T/flat.trace"
t_run retain --at end --format json "$T/flat.trace"
t_like "flat: says retention is by root objects only" "$(jqv .notes)" "retention is by root objects only"
t_is "flat: each retains itself" "$(jqv .retainers[0].retained_bytes) $(jqv .retainers[1].retained_bytes)" "100 50"

# --- bad input -----------------------------------------------------------
t_run retain --at 99 "$ROOT/traces/cycle.trace"
t_is "--at beyond the trace: 64" "$T_STATUS" 64
t_like "--at beyond the trace: says so" "$T_ERR" "traces/cycle.trace: --at 99: the trace has only 7 events"
t_is "--at beyond the trace: no report" "$T_OUT" ""
t_run retain --at burst "$ROOT/traces/cycle.trace"
t_is "unknown mark: 64" "$T_STATUS" 64
t_like "unknown mark: says so" "$T_ERR" "--at 'burst': the trace has no mark 'burst'"
t_run retain --at 0 "$ROOT/traces/cycle.trace"
t_like "--at 0: events count from 1" "$T_STATUS $T_ERR" "64 memsim: --at 0: events are numbered from 1"
t_run retain --at 'a b' "$ROOT/traces/cycle.trace"
t_like "--at with a bad label" "$T_STATUS $T_ERR" "64 memsim: --at 'a b': not peak, end"
t_run retain --by site "$ROOT/traces/cycle.trace"
t_like "--by site without sites" "$T_STATUS $T_ERR" "64 memsim: retain: --by site: "
t_run retain --by colour "$ROOT/traces/cycle.trace"
t_like "--by unknown" "$T_STATUS $T_ERR" "64 memsim: retain: --by 'colour'"
t_run retain --top 0 "$ROOT/traces/cycle.trace"
t_is "--top 0: 64" "$T_STATUS" 64
t_run retain - <"$ROOT/traces/cycle.trace"
t_like "peak on standard input" "$T_STATUS $T_ERR" "64 memsim: --at peak reads the trace twice"
t_run retain --at end - <"$ROOT/traces/cycle.trace"
t_is "--at end on standard input works" "$T_STATUS" 0
t_run retain "$T/missing.trace"
t_is "missing trace: 66" "$T_STATUS" 66
t_run retain "$ROOT/traces/cycle.trace" "$T/diamond.trace"
t_like "two traces" "$T_STATUS $T_ERR" "64 memsim: retain: one trace at a time"
printf '#memsim-trace 1\na 1 10\n+ 1 9\n' >"$T/bad.trace"
t_run retain --at end "$T/bad.trace"
t_is "a bad trace: 65" "$T_STATUS" 65
t_like "a bad trace: located" "$T_ERR" "bad.trace:3"

# --- --out DIR: reports, the icicle chart, index.html --------------------
# The bundled lingering trace at the end: the cells are the root set,
# module 1, globals dict 2 and the cache 3 (each request retains 640 B,
# 0.46% < 0.5% of the reachable 140,368 B: not drawn). The cache's cell
# spans [0, 100 * 132696 / 140368) % = [0, 94.534367); the globals
# dict's [0, 100 * 140296 / 140368) = [0, 99.948706).
t_run retain --at end --out "$T/rout" "$ROOT/traces/lingering.trace.gz"
t_is "--out: exit status" "$T_STATUS" 0
t_ok "--out: retain.txt, retain.json, index.html, data, script" \
	test -s "$T/rout/retain.txt" -a -s "$T/rout/retain.json" -a -s "$T/rout/index.html" \
	-a -s "$T/rout/data/retain.dat" -a -s "$T/rout/plots/retain.gp"
t_is "--out: retain.txt is the text report" "$(cat "$T/rout/retain.txt")" "$T_OUT"
t_is "--out: four cells" "$(grep -vc '^#' "$T/rout/data/retain.dat")" 4
t_is "--out: the cache's cell" "$(grep '"3 dict' "$T/rout/data/retain.dat" | cut -d' ' -f1-3)" "0.000000 94.534367 3"
t_is "--out: the globals' cell" "$(grep '"2 dict' "$T/rout/data/retain.dat" | cut -d' ' -f1-3)" "0.000000 99.948706 2"
t_like "--out: index.html shows the report" "$(cat "$T/rout/index.html")" "suspect (where retention spreads out): 3 dict"
if command -v gnuplot >/dev/null 2>&1; then
	t_ok "--out: the chart is drawn" test -s "$T/rout/plots/retain.png" -a -s "$T/rout/plots/retain.svg"
else
	t_skip "--out: the chart is drawn" "gnuplot is not installed"
fi
MEMSIM_GNUPLOT=/nonexistent/gnuplot t_run retain -q --at end --out "$T/rout2" "$ROOT/traces/cycle.trace"
t_is "--out without gnuplot: still 0" "$T_STATUS" 0
t_like "--out without gnuplot: says how to draw it" "$T_ERR" "gnuplot not found"
t_ok "--out without gnuplot: no image" test ! -e "$T/rout2/plots/retain.png"
t_ok "--out without gnuplot: the page" test -s "$T/rout2/index.html"
: >"$T/afile"
t_run retain --at end --out "$T/afile/sub" "$ROOT/traces/cycle.trace"
t_is "--out under a file: 74" "$T_STATUS" 74

# --- --out's directory rules: replay's (sim/outfile.h rule 3) -----------
# Checked before the work: the missing trace would be 66.
t_run retain --out "$T/none/o" "$T/missing.trace"
t_is "--out under a missing directory: before the replay" "$T_STATUS" 74
t_is "--out under a missing directory: message" "$T_ERR" \
	"memsim: $T/none/o: cannot create directory: No such file or directory"
# An earlier report, replay's or retain's, is replaced whole.
"$MEMSIM" replay -q --out "$T/rrep" -p malloc "$ROOT/traces/cycle.trace" >/dev/null 2>&1
: >"$T/rrep/plots/stale.png"
t_run retain -q --at end --out "$T/rrep" "$ROOT/traces/cycle.trace"
t_is "--out over replay's report: exit 0" "$T_STATUS" 0
t_is "--out over replay's report: -q says nothing" "$T_ERR" ""
t_is "--out over replay's report: nothing of it survives" \
	"$(ls "$T/rrep" "$T/rrep/plots" "$T/rrep/data" | grep -c -e stale -e '^report\.' -e '\.p1\.')" 0
t_ok "--out over replay's report: retain's files" test -s "$T/rrep/retain.json" -a -s "$T/rrep/plots/retain.gp"
t_is "--out over replay's report: no stage left" "$(ls -a "$T" | grep -c 'memsim-')" 0
# A failed run leaves the earlier report as it was, and no stage.
cp "$T/rrep/retain.json" "$T/before.json"
t_run retain -q --at end --out "$T/rrep" "$T/bad.trace"
t_is "--out, a bad trace: 65" "$T_STATUS" 65
t_ok "--out, a bad trace: the earlier report unchanged" cmp -s "$T/rrep/retain.json" "$T/before.json"
t_is "--out, a bad trace: no stage left" "$(ls -a "$T" | grep -c 'memsim-')" 0
# A directory holding anything else is refused, before the work.
mkdir "$T/mine"
echo keep >"$T/mine/notes.txt"
t_run retain --out "$T/mine" "$T/missing.trace"
t_is "--out with other files: refused" "$T_STATUS" 74
t_is "--out with other files: message" "$T_ERR" \
	"memsim: $T/mine: holds 'notes.txt', which memsim did not write: give --out a new or empty directory, or an earlier memsim report to replace"
t_is "--out with other files: left alone" "$(ls "$T/mine") $(cat "$T/mine/notes.txt")" "notes.txt keep"
t_run retain --out "" "$ROOT/traces/cycle.trace"
t_is "--out '': 64" "$T_STATUS" 64
t_done
