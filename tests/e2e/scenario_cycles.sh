#!/bin/bash
# Seed scenario 3: reference cycles created and dropped in a loop, with
# thresholds 700/10/10 (docs/scenarios.md). traces/cycles.trace.gz is
# `gen-scenario cycles -n 100000`: each iteration allocates two tracked
# 56-byte `Node` objects x and y, links x -> y and y -> x and drops both
# root references; a final `c` collects what is left. `Node` is tracked
# (other_types_tracked) and has no free list, so every allocation counts.
. "$ROOT/tests/lib.sh"
N=100000
# Hand derivation (docs/gc.md rules 1-4; 2.7 .. 3.11 collect inside the
# allocation that makes count0 701, before that object is tracked):
# - allocations A = 2N = 200000; a collection at every 701st allocation:
#   C = floor(A / 701) = 285 automatic collections (701 * 285 = 199785).
# - the choice repeats every 133 collections: 11 gen-0 then 1 gen-1,
#   eleven times (132), then a full one (count2 = 11 > 10; the 25% rule
#   never blocks it: long_lived_total is 0 or 1 here). 285 = 2 * 133 + 19:
#   gen 2 at collections 133 and 266; gen 1 at 12, 24, ..., 132, 145, ...,
#   265, and 278: 11 + 11 + 1 = 23; gen 0: 285 - 23 - 2 = 260. The final
#   `c` is one more gen-2 collection.
C=$(( 2 * N / 701 ))
g2=$(( C / 133 ))
g1=$(( g2 * 11 + (C % 133) / 12 ))
g0=$(( C - g1 - g2 ))
# Collected. Collection j's trigger is allocation 701j: an x when j is odd,
# a y when j is even (701 is odd). A gen-0 collection holds the 701
# objects allocated since the previous trigger (700 for the first): when
# j is even the x just before the trigger is still rooted and survives;
# when j is odd the first object is the previous (even) trigger, a y whose
# x survived into an older generation, so it survives too. Every gen-0
# collection frees exactly 700 objects: 260 * 700 = 182000.
# A gen-1 collection also holds the 11 survivors of the gen-0 collections
# since the last gen-1/gen-2 one; they pair up except for those two edge
# cases, which occur at both ends when j is even: 701 + 11 - 2 = 710 (the
# first, j = 12, has 700 + 10 in gen 0/1 and one survivor: 710 too). The
# first full collection (133, odd) makes the next period's gen-1
# collections fall on odd j: 712 each. Period 1: 11 * 710, period 2:
# 11 * 712, period 3 (even again): 1 * 710 -> 16352.
# Gen 2 gets the rest: everything dies, 2N - 182000 - 16352 = 1648 (722
# at j = 133: 701 in gen 0 plus 1 + 10 * 2 survivors of the gen-1
# collections; 700 at j = 266, whose trigger keeps its x; 226 at `c`).
# Peak live objects (measured after each event, so a collection inside an
# allocation is already done): just before collection 132 (gen 1) the
# heap holds the 701 objects allocated since trigger 131 (the last one
# the x of trigger 132's iteration), the 11 gen-0 survivors of 121..131 in
# gen 1 and 1 + 9 * 2 = 19 survivors of gen-1 collections 12..120 in gen
# 2: 731 objects, at the event that allocates object 701 * 132 - 1, an x:
# iteration (92531 + 1) / 2 = 46266, event 6 * 46265 + 1 = 277591.
peak_objs=$(( 701 + 11 + 1 + 9 * 2 ))
c0=$(( g0 * 700 ))
c1=$(( 11 * 710 + 11 * 712 + 710 ))
c2=$(( 2 * N - c0 - c1 ))

scenario_replay "$ROOT/traces/cycles.trace.gz" cpython-2.7 cpython-3.8 cpython-3.11
t_is "replay succeeds" "$T_STATUS" 0
t_is "hand arithmetic: 260/23/3 collections" "$g0/$g1/$((g2 + 1))" "260/23/3"
for i in 0 1 2; do
	name=$(pol $i name)
	t_is "$name: collections per generation" "$(gens $i collections)" "[$g0, $g1, $((g2 + 1))]"
	t_is "$name: collected per generation" "$(gens $i collected)" "[$c0, $c1, $c2]"
	t_is "$name: nothing left" "$(pol $i final_live_objects)" 0
	t_is "$name: peak live objects = 701 + 11 + 19" "$(pol $i peak_live_objects)" "$peak_objs"
	t_is "$name: peak at event 277591" "$(pol $i peak_live_event)" 277591
done
t_done
