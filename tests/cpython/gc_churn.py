"""gc_churn.py - cycle churn at module level (docs/gc.md, "Test 2"):
each iteration makes a two-list cycle and drops the previous one.
Python 3.6+; prints JSON like gc_keep.py. Usage: python gc_churn.py [N]"""
import gc
import json
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
collections = [0, 0, 0]
collected = [0, 0, 0]


def cb(phase, info):
    if phase == "stop":
        collections[info["generation"]] += 1
        collected[info["generation"]] += info["collected"]


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
print(json.dumps({"version": "%d.%d" % sys.version_info[:2],
                  "startup_objects": startup,
                  "collections": collections, "collected": collected}))
