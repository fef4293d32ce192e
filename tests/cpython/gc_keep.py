"""gc_keep.py - count CPython's collections while one million one-element
lists are kept alive (docs/gc.md, "Test 1"). Python 3.6+; prints JSON:
{"version", "startup_objects", "collections": [g0, g1, g2],
 "collected": [g0, g1, g2]}. Usage: python gc_keep.py [N]"""
import gc
import json
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10 ** 6
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
keep = []
for i in range(N):
    keep.append([i])
gc.callbacks.remove(cb)
print(json.dumps({"version": "%d.%d" % sys.version_info[:2],
                  "startup_objects": startup,
                  "collections": collections, "collected": collected}))
