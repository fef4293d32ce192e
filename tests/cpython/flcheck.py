#!/usr/bin/env python3
"""flcheck.py - CPython 3.13's free lists, replayed independently of memsim.

  flcheck.py TRACE     (a text trace recorded with tools/pyrec --annotate)

pyrec --annotate follows each event that a free list of the real
interpreter explains with a comment: "# parked LIST" after the `f` of an
object the interpreter put on a list, "# reused LIST" after the `a` of an
object made from one, "# parked-unseen" / "# reused-unseen" for a death
and rebirth between two of pyrec's events, "# released LIST" where the
interpreter emptied a list (a full collection). This script applies the
3.13 rules to the events alone and checks every decision against the
comments: at each `f` of a typed object, would the list keep it; at each
`a`, would the list serve it. It prints the first event where the rules
and the runtime part (line number and text) and exits 1; 0 when they
agree throughout.

The rules (3.13.0, docs/freelists.md, "Per version"): a list per TYPE
(and per length for tuples), LIFO, bounded:
  float 100; tuple 2000 per length 1..20 (size 40 + 8 * length);
  list 80; dict 80; dictkeys 80 (120-byte keys objects only; a
  "dictkeys.copy", made by copying a dict, never takes from the list);
  TYPE.tp_alloc (e.g. dict.tp_alloc: made by dict()) never takes from
  TYPE's list, but goes onto it when it dies;
  slice 1; _contextvars.Context 255; async_generator_wrapped_value 80;
  async_generator_asend 80.
A full collection empties them; the trace shows it as "released"
comments, which this script follows (so it checks decisions, not when
collections happen).
"""
import sys

LIMITS = {"float": 100, "list": 80, "dict": 80, "dictkeys": 80, "slice": 1,
          "_contextvars.Context": 255, "async_generator_wrapped_value": 80,
          "async_generator_asend": 80}
TUPLE_LIMIT = 2000


def list_of(typ, size):
    """(list name, limit) for an object, or None."""
    if typ.endswith(".tp_alloc"):
        typ = typ[:-len(".tp_alloc")]
    if typ == "tuple":
        n = (size - 40) // 8
        if size > 40 and (size - 40) % 8 == 0 and 1 <= n <= 20:
            return "tuple.%d" % n, TUPLE_LIMIT
        return None
    if typ == "dictkeys.copy":
        typ = "dictkeys"
    if typ == "dictkeys" and size != 120:
        return None
    if typ in LIMITS:
        return typ, LIMITS[typ]
    return None


def check(path):
    live = {}          # ID -> (type, size)
    count = {}         # list -> blocks held
    lines = open(path).read().split("\n")
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < n else ""
        i += 1
        if not line or line[0] == "#":
            if line.startswith("# released "):
                name = line.split()[2]
                count[name] = count.get(name, 0) - 1
            continue
        p = line.split()
        if p[0] == "a":
            typ = p[3] if len(p) > 3 and not p[3].startswith("^") else None
            size = int(p[2])
            live[p[1]] = (typ, size)
            fl = list_of(typ, size) if typ else None
            runtime_reused = nxt.startswith("# reused")
            # A copied keys object, an object made by tp_alloc, never
            # takes from the list.
            takes = typ != "dictkeys.copy" and not (typ or "").endswith(".tp_alloc")
            model_reused = bool(fl) and takes and count.get(fl[0], 0) > 0
            if runtime_reused != model_reused:
                print("line %d: %s: CPython %s, the 3.13 rules %s (list %s holds %d)" % (
                    i, line, "reused a block" if runtime_reused else "allocated",
                    "reuse one" if model_reused else "allocate",
                    fl[0] if fl else "-", count.get(fl[0], 0) if fl else 0))
                return 1
            if model_reused:
                count[fl[0]] -= 1
        elif p[0] == "f":
            typ, size = live.pop(p[1])
            fl = list_of(typ, size) if typ else None
            runtime_parked = nxt.startswith("# parked")
            model_parked = bool(fl) and count.get(fl[0], 0) < fl[1]
            if runtime_parked != model_parked:
                print("line %d: %s (%s, %d bytes): CPython %s, the 3.13 rules %s "
                      "(list %s holds %d)" % (
                          i, line, typ, size, "kept it" if runtime_parked else "freed it",
                          "keep it" if model_parked else "free it",
                          fl[0] if fl else "-", count.get(fl[0], 0) if fl else 0))
                return 1
            if model_parked:
                count[fl[0]] = count.get(fl[0], 0) + 1
        elif p[0] == "r":
            typ, _ = live[p[1]]
            live[p[1]] = (typ, int(p[2]))
    print("free-list decisions agree with the runtime at every event")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(64)
    sys.exit(check(sys.argv[1]))
