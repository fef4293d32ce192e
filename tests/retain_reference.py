#!/usr/bin/env python3
"""retain_reference.py - a second, deliberately naive `memsim retain`.

Replays a text trace (plain or gzip) on its own reference-counting heap
(shared/trace-format.md: `a` gives one root reference, `-` to zero frees,
freeing drops the object's references), stops at a point, and computes
retention straight from the definition, with no dominator algorithm:

  d retains v  <=>  v is reachable from the root set, and is not once d
                    is removed (v = d included)

one breadth-first search per object, O(n (n + m)): for the small traces
of tests/e2e/retain.sh only. The immediate dominator of v is the strict
dominator of v with the most dominators of its own.

usage:
  retain_reference.py expect TRACE AT      JSON of what retain must say
  retain_reference.py check TRACE AT GOT   compares GOT (retain's JSON,
                                           --top covering every object)
  retain_reference.py gen SEED N           a random trace: N objects,
                                           chains, diamonds, shared
                                           children, cycles, frees
AT is peak, end or an event number, as `memsim retain --at`.
"""
import gzip
import json
import random
import sys
from collections import deque


class Heap:
    def __init__(self):
        self.size = {}      # id -> bytes
        self.type = {}      # id -> type name
        self.roots = {}     # id -> root references
        self.inc = {}       # id -> incoming edges
        self.out = {}       # id -> list of referents (in order added)

    def live_bytes(self):
        return sum(self.size.values())

    def alloc(self, i, size, typ):
        self.size[i] = size
        self.type[i] = typ
        self.roots[i] = 1
        self.inc[i] = 0
        self.out[i] = []

    def _release(self, first):
        """Frees `first` and whatever loses its last reference with it."""
        work = [first]
        while work:
            i = work.pop()
            if i not in self.size:
                continue
            outs = self.out.pop(i)
            for k in ("size", "type", "roots", "inc"):
                getattr(self, k).pop(i)
            for j in outs:
                self.inc[j] -= 1
                if self.inc[j] + self.roots[j] == 0:
                    work.append(j)

    def count(self, i):
        return self.roots[i] + self.inc[i]

    def add(self, src, dst):
        if src == 0:
            self.roots[dst] += 1
        else:
            self.out[src].append(dst)
            self.inc[dst] += 1

    def drop(self, src, dst):
        if src == 0:
            self.roots[dst] -= 1
        else:
            self.out[src].remove(dst)
            self.inc[dst] -= 1
        if self.count(dst) == 0:
            self._release(dst)

    def free(self, i):
        self._release(i)

    def apply(self, line):
        f = line.split()
        if f[0] == "a":
            self.alloc(int(f[1]), int(f[2]), f[3] if len(f) > 3 else "(untyped)")
        elif f[0] == "f":
            self.free(int(f[1]))
        elif f[0] == "r":
            self.size[int(f[1])] = int(f[2])
        elif f[0] == "+":
            self.add(int(f[1]), int(f[2]))
        elif f[0] == "-":
            self.drop(int(f[1]), int(f[2]))
        # c, s, @: no change to the graph


def events(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line


def replay(path, at):
    """The heap after the point, and the 1-based event it is after."""
    if at == "peak":
        h, best, best_ev, n = Heap(), 0, 0, 0
        for line in events(path):
            n += 1
            h.apply(line)
            if h.live_bytes() > best:
                best, best_ev = h.live_bytes(), n
        at = str(best_ev)
        if best_ev == 0:
            return Heap(), 0
    h, n = Heap(), 0
    for line in events(path):
        if at != "end" and n == int(at):
            break
        n += 1
        h.apply(line)
    return h, n


def reachable(h, skip=None):
    """IDs reachable from the root set without passing through `skip`."""
    seen = set()
    todo = deque(sorted(i for i in h.size if h.roots[i] and i not in skip))
    seen.update(todo)
    while todo:
        v = todo.popleft()
        for w in h.out[v]:
            if w not in seen and w not in skip:
                seen.add(w)
                todo.append(w)
    return seen


def depths(h):
    """References on a shortest path from the root set to each object."""
    d = {i: 1 for i in h.size if h.roots[i]}
    todo = deque(sorted(d))
    while todo:
        v = todo.popleft()
        for w in h.out[v]:
            if w not in d:
                d[w] = d[v] + 1
                todo.append(w)
    return d


def expect(path, at):
    h, ev = replay(path, at)
    reach = reachable(h, set())
    doms = {v: set() for v in reach}        # strict dominators of v
    retained = {}
    for d in reach:
        gone = reach - reachable(h, {d})
        retained[d] = gone
        for v in gone:
            if v != d:
                doms[v].add(d)
    idom = {v: (max(doms[v], key=lambda d: len(doms[d])) if doms[v] else 0)
            for v in reach}
    dep = depths(h)
    rows = [{"id": v, "type": h.type[v],
             "retained_bytes": sum(h.size[x] for x in retained[v]),
             "retained_objects": len(retained[v]),
             "dominator": idom[v], "path_length": dep[v]} for v in reach]
    rows.sort(key=lambda r: (-r["retained_bytes"], r["id"]))
    types = {}
    for v in h.size:
        types.setdefault(h.type[v], []).append(v)
    by_type = []
    for t, members in types.items():
        gone = reach - reachable(h, set(members))
        by_type.append({"type": t, "objects": len(members),
                        "bytes": sum(h.size[x] for x in members),
                        "retained_bytes": sum(h.size[x] for x in gone),
                        "retained_objects": len(gone)})
    by_type.sort(key=lambda g: (-g["retained_bytes"], -g["bytes"]))
    garbage = [v for v in h.size if v not in reach]
    return {"event": ev, "live_objects": len(h.size), "live_bytes": h.live_bytes(),
            "reachable_objects": len(reach),
            "garbage": {"objects": len(garbage),
                        "bytes": sum(h.size[x] for x in garbage)},
            "retainers": rows, "by_type": by_type}, h


def check(path, at, got_path):
    want, h = expect(path, at)
    with open(got_path) as fh:
        got = json.load(fh)
    bad = []

    def same(what, a, b):
        if a != b:
            bad.append("%s: memsim %r, reference %r" % (what, a, b))

    same("at.event", got["at"]["event"], want["event"])
    for k in ("live_objects", "live_bytes", "reachable_objects"):
        same(k, got[k], want[k])
    same("garbage", {k: got["garbage"][k] for k in ("objects", "bytes")}, want["garbage"])
    keys = ("id", "type", "retained_bytes", "retained_objects", "dominator", "path_length")
    same("retainers", [{k: r[k] for k in keys} for r in got["retainers"]], want["retainers"])
    # Paths may differ between equally short ones: check each is a real
    # chain of references from the root set.
    for r in got["retainers"]:
        p = r["path"]
        ok = p[0] == 0 and p[-1] == r["id"] and h.roots.get(p[1], 0) > 0 and \
            all(p[i + 1] in h.out[p[i]] for i in range(1, len(p) - 1))
        if not ok:
            bad.append("path of %d is no chain of references: %r" % (r["id"], p))
    # Group order ties are broken by key index in memsim: compare as sets.
    gk = ("type", "objects", "bytes", "retained_bytes", "retained_objects")
    norm = lambda gs: sorted(json.dumps({k: g[k] for k in gk}, sort_keys=True) for g in gs)
    same("by_type", norm(got["by_type"]), norm(want["by_type"]))
    for b in bad:
        print("retain_reference: " + b[:2000])
    return 1 if bad else 0


def gen(seed, n):
    """A random valid trace: chains, shared children, cycles, drops, frees."""
    rnd = random.Random(seed)
    h = Heap()
    lines = ['#memsim-trace 1 {"source":"tests/retain_reference.py gen","seed":%d}' % seed]
    types = ["list", "dict", "tuple", "Node"]
    nxt = 1

    def emit(line):
        lines.append(line)
        h.apply(line)

    while nxt <= n:
        live = sorted(h.size)
        r = rnd.random()
        if r < 0.35 or not live:
            emit("a %d %d %s" % (nxt, rnd.choice([16, 24, 56, 100, 512]), rnd.choice(types)))
            nxt += 1
        elif r < 0.72:
            # Half of the references point at the newest object, from a
            # recent one: chains and trees grow deep; the rest join any
            # two objects: diamonds, shared children, cycles.
            if rnd.random() < 0.5:
                emit("+ %d %d" % (rnd.choice(live[-8:]), live[-1]))
            else:
                emit("+ %d %d" % (rnd.choice(live), rnd.choice(live)))
        elif r < 0.95:
            rooted = [i for i in live if h.roots[i]]
            if rooted:
                emit("- 0 %d" % rnd.choice(rooted))
        elif r < 0.98:
            withedges = [i for i in live if h.out[i]]
            if withedges:
                s = rnd.choice(withedges)
                emit("- %d %d" % (s, rnd.choice(h.out[s])))
        else:
            free = [i for i in live if h.inc[i] == 0]
            if free:
                emit("f %d" % rnd.choice(free))
    print("\n".join(lines))


def main(argv):
    if len(argv) == 4 and argv[1] == "expect":
        print(json.dumps(expect(argv[2], argv[3])[0], indent=1))
        return 0
    if len(argv) == 5 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4])
    if len(argv) == 4 and argv[1] == "gen":
        gen(int(argv[2]), int(argv[3]))
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
