#!/usr/bin/env python3
"""compare_mimalloc.py - judge memsim's mimalloc model against a real CPython.

  compare_mimalloc.py check TRACE STATS.json
      Recorder sanity, independent of memsim: the requests still live at
      the end of TRACE (a pyrec recording made with PYTHONMALLOC=mimalloc)
      must be CPython's "Allocated Blocks" (every MEM/OBJ request is one
      mimalloc block in the default heap, Objects/obmalloc.c 3.13
      _PyMem_MiMalloc/_PyObject_MiMalloc), and the stats must be
      mimalloc's. Exits 1 on a mismatch.

  compare_mimalloc.py diff STATS.json REPLAY.json
      STATS.json is what tools/pyrec wrote; REPLAY.json is
      `memsim replay --format json -p cpython-3.13-mimalloc TRACE`, whose
      counters are at .traces[0].policies[0].mimalloc. Prints one line per
      difference and exits 1 if there is any.
"""
import gzip
import json
import sys

COUNTERS = ["allocated_blocks", "allocated_bytes", "allocated_bytes_with_overhead",
            "bytes_reserved", "bytes_committed"]


def load_json(path):
    with open(path) as f:
        return json.load(f)


def live_requests(trace_path):
    opener = gzip.open if trace_path.endswith(".gz") else open
    live = {}
    with opener(trace_path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            p = line.split()
            if not p:
                continue
            if p[0] in ("a", "r"):
                live[p[1]] = int(p[2], 0)
            elif p[0] == "f":
                del live[p[1]]
    return live


def check(trace_path, stats_path):
    real = load_json(stats_path)
    if real.get("allocator") != "mimalloc":
        print("%s: not a mimalloc recording (allocator %r)" % (stats_path, real.get("allocator")))
        return 1
    live = live_requests(trace_path)
    bad = 0
    if len(live) != real["allocated_blocks"]:
        print("live requests %d != Allocated Blocks %d" % (len(live), real["allocated_blocks"]))
        bad = 1
    if real["recorder"]["live"] != real["allocated_blocks"]:
        print("pyrec's live count %d != Allocated Blocks %d"
              % (real["recorder"]["live"], real["allocated_blocks"]))
        bad = 1
    # Every block is at least as large as its request.
    if sum(live.values()) > real["allocated_bytes"]:
        print("live request bytes %d exceed Allocated Bytes %d"
              % (sum(live.values()), real["allocated_bytes"]))
        bad = 1
    return bad


def diff(stats_path, replay_path):
    real = load_json(stats_path)
    doc = load_json(replay_path)
    try:
        sim = doc["traces"][0]["policies"][0]["mimalloc"]
    except (KeyError, IndexError, TypeError):
        print("replay JSON has no .traces[0].policies[0].mimalloc")
        return 1
    bad = 0
    for k in COUNTERS:
        if sim.get(k) != real[k]:
            print("%s: cpython %s, memsim %s" % (k, real[k], sim.get(k)))
            bad = 1
    return bad


def main(argv):
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "diff":
        return diff(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
