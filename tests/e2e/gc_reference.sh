#!/bin/bash
# tests/cpython/gc_reference.py, the second reader of CPython 3.14.0's
# incremental collector and 3.13t's free-threaded one, on small traces
# whose collections are derived by hand below from Python/gc.c (3.14) and
# Python/gc_free_threading.c (3.13), and on generated cycle-heavy and
# long-lived-heavy traces where the two readers must agree with an
# independent reachability walk. The memsim models are judged against
# this reader collection by collection (docs/gc.md).
. "$ROOT/tests/lib.sh"
REF="$ROOT/tests/cpython/gc_reference.py"

# 1. 3.14: an explicit gc.collect(1) in the MARK phase only marks.
# e6: work_to_do = -5000 + (young 2 + min(heap 2/10/10, 3)) = -4998;
#     mark_at_start finds no rooted object: "mark", 0 marked.
# e7: the increment is the young generation (2 objects, both garbage);
#     not_visited is then empty: the scavenge completes (work_to_do 0,
#     visited space flips to 1).
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
t_is "3.14: gc.collect(1) marks, then collects the young cycle" \
	"$(python3 "$REF" run incremental "$T/mark.trace")" \
	"6 1 1 0 0 0 mark
7 1 1 2 2 2 collect
# counts collections=[0, 1, 0] collected=[0, 2, 0] young_count=0 heap_size=0 work_to_do=0 visited_space=1 live=0"

# 2. 3.14: a cycle marked reachable (from its rooted member, e5: 2
#    marked, work_to_do -5000 + 2 - 2 - 2 = -5002) and dropped later stays
#    in the old space: e7's increment is empty (no young objects, no work)
#    and completes the scavenge; after the flip the cycle is "not visited"
#    but e8 only marks and e9's work_to_do is 0, so nothing moves; the full
#    collection at e10 frees it.
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
t_is "3.14: marked garbage waits for work, or a full collection" \
	"$(python3 "$REF" run incremental "$T/stuck.trace")" \
	"5 1 1 2 0 0 mark
7 1 1 0 0 0 collect
8 1 1 0 0 0 mark
9 1 1 0 0 0 collect
10 2 1 2 2 2 collect
# counts collections=[0, 2, 1] collected=[0, 0, 2] young_count=0 heap_size=0 work_to_do=0 visited_space=0 live=0"

# 3. 3.13t: the count moves in steps of 512. 2048 rooted Nodes (e0..e2047):
#    the 4th flush makes count 2048 > 2000 and > long_lived_total/4 = 0, so
#    a collection is scheduled; 512 frees (e2048..e2559) flush -512 (count
#    1536); the allocation at e2560 runs it, and the threshold test fails
#    again: skipped. 511 more allocations (e2561..e3071) flush +512 (count
#    2048): scheduled, run at e3072 over 2048 - 512 + 512 = 2048 tracked
#    objects, all rooted. The last allocation (e3072) leaves alloc_count 1.
python3 - >"$T/ft.trace" <<'PY'
print("#memsim-trace 1")
for i in range(1, 2049):
    print("a %d 48 Node" % i)
for i in range(1, 513):
    print("f %d" % i)
for i in range(3000, 3513):
    print("a %d 48 Node" % i)
PY
t_is "3.13t: batched count, skip rule, whole-heap collection" \
	"$(python3 "$REF" run freethreaded "$T/ft.trace")" \
	"2560 0 0 0 0 0 skip
3072 0 0 2048 0 0 collect
# counts collections=[1, 0, 0] collected=[0, 0, 0] count=0 alloc_count=1 long_lived_total=2048 live=2049"

# 4. Generated traces: the readers agree with each other and leave no
#    garbage after a full collection.
n=3000
t_slow && n=1000
for shape in cycles longlived; do
	python3 "$REF" gen "$shape" "$n" 7 >"$T/$shape.trace"
	if python3 "$REF" check "$T/$shape.trace" >"$T/$shape.out" 2>&1; then
		t_pass "$shape: both readers consistent"
	else
		t_fail "$shape: both readers consistent"
		sed 's/^/# /' "$T/$shape.out" | head -10
	fi
done
t_done
