#!/usr/bin/env python3
"""compare.py - judge memsim's pymalloc model against a real CPython.

  compare.py diff STATS.json REPLAY.json
      STATS.json is what tools/pyrec wrote (CPython's own
      sys._debugmallocstats() counters); REPLAY.json is the output of
      `memsim replay --format json -p cpython-3.X:... TRACE`, whose counters
      are at .traces[0].policies[0].pymalloc. Prints one line per difference
      and exits 1 if there is any, 0 if every counter and every size-class
      row is equal. For an object-level recording (3.13) every free-list
      line of CPython's output ("N free PyFloatObjects * 24 bytes each")
      must also equal the blocks memsim's free-list model holds
      (.freelists.lists, float and so on), and so must the lists pyrec
      read from the interpreter's memory that CPython does not print
      (the slice cache, contexts, async-generator lists).

  compare.py check TRACE STATS.json
      Recorder sanity, independent of memsim: replays the request stream
      through the small part of pymalloc that decides which size class a
      request lands in (below), and checks that the live blocks per size
      class equal CPython's "blocks in use" column. Exits 1 on a mismatch.

Which requests pymalloc serves, and from which class (Objects/obmalloc.c,
3.6 _PyObject_Alloc/_PyObject_Realloc, 3.8+ pymalloc_alloc/pymalloc_realloc;
the rules are the same in 3.6 .. 3.13):
  - a request of 1..SMALL_REQUEST_THRESHOLD bytes gets a block of class
    (n-1) >> ALIGNMENT_SHIFT; 0 bytes and larger requests go to the C
    library (PyMem_RawMalloc);
  - realloc of a block pymalloc does not own stays with the C library,
    whatever the new size;
  - realloc of a pymalloc block of class size S to n bytes keeps the block
    when n <= S and 4n > 3S; otherwise it is a malloc(n) + free of the old.
ALIGNMENT and the threshold are read from the stats (class 0's size and
small_block_threshold), not assumed.
"""
import gzip
import json
import sys

COUNTERS = [
    "arenas_allocated_total", "arenas_reclaimed", "arenas_highwater",
    "arenas_allocated_current", "bytes_in_allocated_blocks",
    "bytes_in_available_blocks", "unused_pools", "bytes_lost_to_pool_headers",
    "bytes_lost_to_quantization", "bytes_lost_to_arena_alignment", "total",
]
ROW_KEYS = ["size_class", "size", "pools", "blocks_in_use", "available_blocks"]
# Extra keys pyrec writes; compared only when the replay has them too.
OPTIONAL = ["small_block_threshold", "num_size_classes", "arena_size", "pool_size"]


def load_json(path):
    with open(path) as f:
        return json.load(f)


# CPython's free-list line (Objects/*object.c _Py*_DebugMallocStats) ->
# memsim's per-type counter (sim/freelist_pertype.c parked.NAME).
FREE_LINES = {
    "PyFloatObjects": "parked.float", "PyListObjects": "parked.list",
    "PyDictObjects": "parked.dict", "PyDictKeysObjects": "parked.dictkeys",
    "PyFrameObjects": "parked.frame",
}
# pyrec's free_lists_held names (tools/pyrec_watch.c) not printed by CPython.
HELD_ONLY = {
    "slice": "parked.slice", "_contextvars.Context": "parked.context",
    "async_generator_wrapped_value": "parked.async_gen_value",
    "async_generator_asend": "parked.async_gen_asend",
}


def free_list_key(what):
    """memsim's counter for a CPython free-list line, or None."""
    if what.endswith("-sized PyTupleObjects"):
        return "parked.tuple." + what.split("-", 1)[0]
    return FREE_LINES.get(what)


def diff_freelists(real, pol):
    """Differences between CPython's free lists and memsim's model."""
    bad = []
    # the lists' own counts: freelists.lists rows as "parked.LIST"
    fl = {"parked." + r["list"]: r["parked"]
          for r in pol.get("freelists", {}).get("lists", [])}
    for line in real.get("free_lists", []):
        key = free_list_key(line["what"])
        if key is None:
            bad.append("free list %-26s cpython %-6s (memsim has no such list)"
                       % (line["what"], line["count"]))
        elif fl.get(key, 0) != line["count"]:
            bad.append("free list %-26s cpython %-6s memsim %s"
                       % (line["what"], line["count"], fl.get(key, 0)))
    held = real.get("recorder", {}).get("free_lists_held", {})
    for name, key in HELD_ONLY.items():
        if name in held and fl.get(key, 0) != held[name]:
            bad.append("free list %-26s cpython %-6s memsim %s (read by pyrec)"
                       % (name, held[name], fl.get(key, 0)))
    return bad


def diff(stats_path, replay_path):
    real = load_json(stats_path)
    doc = load_json(replay_path)
    try:
        sim = doc["traces"][0]["policies"][0]["pymalloc"]
    except (KeyError, IndexError, TypeError):
        print("replay JSON has no .traces[0].policies[0].pymalloc")
        return 1
    bad = []
    for k in COUNTERS:
        if k not in sim:
            bad.append("%-32s cpython %-12s memsim (missing)" % (k, real[k]))
        elif sim[k] != real[k]:
            bad.append("%-32s cpython %-12s memsim %-12s (%+d)"
                       % (k, real[k], sim[k], sim[k] - real[k]))
    for k in OPTIONAL:
        if k in sim and sim[k] != real[k]:
            bad.append("%-32s cpython %-12s memsim %s" % (k, real[k], sim[k]))
    rows_r = {r["size_class"]: r for r in real["size_classes"]}
    rows_s = {}
    for r in sim.get("size_classes", []):
        rows_s[r.get("size_class")] = r
    for c in sorted(set(rows_r) | set(rows_s)):
        r, s = rows_r.get(c), rows_s.get(c)
        if r is None or s is None:
            bad.append("size class %-3s only in %s: %s" % (
                c, "memsim" if r is None else "cpython",
                " ".join("%s=%s" % (k, (s or r).get(k)) for k in ROW_KEYS)))
            continue
        for k in ROW_KEYS:
            if s.get(k) != r[k]:
                bad.append("size class %-3s %-17s cpython %-8s memsim %s"
                           % (c, k, r[k], s.get(k)))
    if real.get("level") == "object":
        bad += diff_freelists(real, doc["traces"][0]["policies"][0])
    for line in bad:
        print(line)
    return 1 if bad else 0


def open_trace(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def live_blocks(trace_path, align, threshold):
    """Per size-class index, the number of live pymalloc blocks at the end
    of the trace, by the rules in the module docstring."""
    shift = align.bit_length() - 1
    cls = {}      # id -> class index, or -1 for a C-library block

    def klass(n):
        return (n - 1) >> shift if 1 <= n <= threshold else -1

    with open_trace(trace_path) as f:
        for line in f:
            if line[0] == "#":
                continue
            p = line.split()
            if p[0] == "a":
                cls[p[1]] = klass(int(p[2]))
            elif p[0] == "f":
                del cls[p[1]]
            elif p[0] == "r":
                old, n = cls[p[1]], int(p[2])
                if old >= 0:
                    size = (old + 1) << shift
                    if not (n <= size and 4 * n > 3 * size):
                        cls[p[1]] = klass(n)
            else:
                raise SystemExit("unexpected trace line: " + line)
    counts = {}
    for c in cls.values():
        if c >= 0:
            counts[c] = counts.get(c, 0) + 1
    return counts


def check(trace_path, stats_path):
    st = load_json(stats_path)
    rows = st["size_classes"]
    align = rows[0]["size"] // (rows[0]["size_class"] + 1)
    bad = 0
    got = live_blocks(trace_path, align, st["small_block_threshold"])
    want = {r["size_class"]: r["blocks_in_use"] for r in rows}
    for c in sorted(set(got) | set(want)):
        if got.get(c, 0) != want.get(c, 0):
            bad += 1
            print("size class %-3d live in trace %-8d cpython blocks in use %-8d (%+d)"
                  % (c, got.get(c, 0), want.get(c, 0), got.get(c, 0) - want.get(c, 0)))
    # Every arena pymalloc asked for went through pyrec's arena allocator
    # (other sizes there are 3.11+ frame data-stack chunks).
    va = [v for v in st["recorder"]["virtual_allocs"] if v["size"] == st["arena_size"]]
    got_arenas = (va[0]["allocs"], va[0]["frees"]) if va else (0, 0)
    want_arenas = (st["arenas_allocated_total"], st["arenas_reclaimed"])
    if got_arenas != want_arenas:
        bad += 1
        print("arena allocator saw %d allocs/%d frees of %d bytes; cpython counts "
              "%d allocated/%d reclaimed" % (got_arenas + (st["arena_size"],) + want_arenas))
    total = sum(r["blocks_in_use"] * r["size"] for r in rows)
    if total != st["bytes_in_allocated_blocks"]:
        bad += 1
        print("sum of blocks_in_use*size %d != bytes_in_allocated_blocks %d"
              % (total, st["bytes_in_allocated_blocks"]))
    return 1 if bad else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "diff":
        return diff(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
