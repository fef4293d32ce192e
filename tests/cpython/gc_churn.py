"""gc_churn.py - cycle churn at module level (docs/gc.md, "Test 2"):
each iteration makes a two-list cycle and drops the previous one.
Python 3.6+; prints JSON like gc_keep.py.
Usage: python gc_churn.py [N] [--per-collection]
--per-collection adds "per_collection": [[generation, collected], ...],
one pair per collection of the loop. It records into lists made before
the loop, holding ints only (not collector objects), so the loop's
collections are the same as without it; start-up objects are 2 more."""
import gc
import json
import sys

# no new containers here: they would count as start-up objects
PER = "--per-collection" in sys.argv
N = (int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--per-collection"
     else 100000)
collections = [0, 0, 0]
collected = [0, 0, 0]
if PER:
    # at most one collection per threshold0 / 2 iterations (two counted
    # lists each), plus slack
    rec_gen = [0] * (2 * N // 700 + 16)
    rec_n = [0] * (2 * N // 700 + 16)


def cb(phase, info):
    if phase == "stop":
        g = info["generation"]
        if PER:
            k = collections[0] + collections[1] + collections[2]
            rec_gen[k] = g
            rec_n[k] = info["collected"]
        collections[g] += 1
        collected[g] += info["collected"]


gc.callbacks.append(cb)
gc.collect()
startup = len(gc.get_objects())
gc.collect()
collections[2] = collected[2] = 0
for i in range(N):
    a = []
    b = [a]
    a.append(b)
gc.callbacks.remove(cb)
out = {"version": "%d.%d" % sys.version_info[:2],
       "startup_objects": startup,
       "collections": collections, "collected": collected}
if PER:
    k = sum(collections)
    out["per_collection"] = [[rec_gen[j], rec_n[j]] for j in range(k)]
print(json.dumps(out))
