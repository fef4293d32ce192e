#!/usr/bin/env python3
"""gc_reference.py - a second, independent reader of two CPython collectors.

A small Python implementation, written from the CPython sources and not
from memsim's C code, of the cycle collectors memsim models after 3.13, to
judge those models collection by collection (docs/gc.md lists what is
verified this way):

  incremental  CPython 3.14.0 .. 3.14.4, Python/gc.c (the incremental
               collector: a young generation and an old generation in two
               spaces, "visited" and "not visited"; each automatic
               collection is gc_collect_increment: the young generation
               plus an increment of the old one, sized by work_to_do;
               marking from the roots at the start of each scavenge and
               from the stacks at each increment).
  freethreaded CPython 3.13t, Python/gc_free_threading.c (no generations:
               every collection examines every tracked object; the count
               is batched per thread in steps of 512 and a collection is
               skipped unless count > long_lived_total / 4).

usage:
  gc_reference.py run incremental|freethreaded TRACE
      Replays a memsim text trace (version 1 events; docs/trace-format.md)
      and prints one line per collection:
        event generation explicit examined unreachable freed phase
      event is the 0-based index of the trace event during which it ran
      (memsim's pause record counts the same way), generation 0/1/2 as
      passed to _PyGC_Collect, phase "mark" (3.14's mark_at_start, which
      collects nothing), "collect", or "skip" (3.13t: scheduled but the
      threshold test failed again). Then a final "# counts ..." line.
  gc_reference.py check TRACE
      The readers' own consistency on a trace ending with `c`: no garbage
      left after a full collection (checked by an independent walk from
      the roots), the same live objects under both collectors.
  gc_reference.py gen cycles|longlived N SEED
      Writes a deterministic trace: "cycles" builds and drops rings and
      pairs of Node objects among short-lived tuples and ints; "longlived"
      grows a large rooted graph (dicts of Nodes, tuples) that survives,
      with a trickle of garbage cycles, then drops half of it.

How the trace maps onto CPython (the same decisions as memsim's models;
docs/gc.md):
  - Objects of a typed name on TRACKED, or of any other typed name, are
    GC objects (a name not on either list is taken for a Python class);
    UNTRACKED names and untyped objects are not. Every GC object is
    tracked from its allocation. Every allocation is from the allocator:
    this reference has no free lists (compare with freelists.mode=none).
  - A root reference (`a`, `+ 0 X`) stands for the interpreter's globals
    and the frames' stacks alike: 3.14's mark_global_roots and mark_stacks
    both mark from "objects with a root reference", at the start of a
    scavenge in the young list's then the pending space's order, and again
    at each increment (CPython re-marks only frames not yet visited; an
    object rooted since the last increment is the one that matters).
  - Deferred collections (3.12+): a collection scheduled by an allocation
    runs at the next `s`; in a trace with no `s` yet, before the next
    allocation of a GC object.
  - tp_traverse visits an object's edges in the order they were added; a
    `-` removes the most recent matching edge; tp_clear drops all edges.
  - 3.13t visits the heap in object-creation order (CPython: mimalloc's
    block order), which matters only for nested tuple/dict untracking.
"""
import random
import sys

TRACKED = set((
    "list,dict,tuple,set,frozenset,object,instance,function,cell,frame,generator,"
    "coroutine,async_generator,method,builtin_function_or_method,instancemethod,"
    "classobj,classmethod,staticmethod,property,module,type,deque,defaultdict,"
    "OrderedDict,weakref,super,enumerate,zip,map,filter").split(","))
UNTRACKED = set(("int,long,float,complex,bool,str,unicode,bytes,bytearray,"
                 "NoneType,range,memoryview,dictkeys").split(","))


def is_gc_type(t):
    return t is not None and t not in UNTRACKED


class Obj:
    __slots__ = ("id", "type", "roots", "incoming", "out", "tracked", "dead", "serial")

    def __init__(self, oid, typ, serial):
        self.id, self.type, self.serial = oid, typ, serial
        self.roots, self.incoming, self.out = 1, 0, []
        self.tracked, self.dead = False, False

    def refcnt(self):
        return self.roots + self.incoming


class Lists:
    """CPython's gc lists: doubly linked, append at the end, O(1) move."""

    def __init__(self):
        self.nxt, self.prv, self.owner = {}, {}, {}

    def new(self, name):
        self.nxt[name] = self.prv[name] = name
        return name

    def append(self, lst, o):
        last = self.prv[lst]
        self.nxt[last], self.prv[o], self.nxt[o], self.prv[lst] = o, last, lst, o
        self.owner[o] = lst

    def remove(self, o):
        p, n = self.prv.pop(o), self.nxt.pop(o)
        self.nxt[p], self.prv[n] = n, p
        del self.owner[o]

    def move(self, o, lst):
        self.remove(o)
        self.append(lst, o)

    def merge(self, frm, to):
        for o in list(self.items(frm)):
            self.move(o, to)

    def first(self, lst):
        o = self.nxt[lst]
        return None if o == lst else o

    def empty(self, lst):
        return self.nxt[lst] == lst

    def items(self, lst):
        o = self.nxt[lst]
        while o != lst:
            nx = self.nxt[o]
            yield o
            o = nx

    def size(self, lst):
        return sum(1 for _ in self.items(lst))


class Heap:
    """The trace's object graph with reference counting (trace-format.md)."""

    def __init__(self, gc):
        self.objs, self.gc, self.serial, self.freed = {}, gc, 0, 0
        gc.heap = self

    def kill(self, o):
        # Iterative cascade: a death drops the object's edges, which may
        # kill its referents in turn.
        stack = [o]
        while stack:
            x = stack.pop()
            if x.dead:
                continue
            x.dead = True
            del self.objs[x.id]
            self.freed += 1
            self.gc.on_free(x)
            for d in x.out:
                d.incoming -= 1
                if d.refcnt() == 0 and not d.dead:
                    stack.append(d)
            x.out = []

    def release(self, garbage):
        """heap_release: tp_clear on each still-live member in order, each
        held by a temporary reference while its edges go."""
        before = self.freed
        for g in garbage:
            if g.dead:
                continue
            g.roots += 1
            out, g.out = g.out, []
            for d in out:
                d.incoming -= 1
                if d.refcnt() == 0 and not d.dead:
                    self.kill(d)
            g.roots -= 1
            if g.refcnt() == 0:
                self.kill(g)
        return self.freed - before

    def apply(self, f):
        ev = f[0]
        if ev == "a":
            rest = [x for x in f[3:] if not x.startswith("^")]
            o = Obj(int(f[1], 0), rest[0] if rest else None, self.serial)
            self.serial += 1
            self.objs[o.id] = o
            self.gc.on_alloc(o)
            self.gc.on_root(o)
        elif ev == "f":
            o = self.objs[int(f[1], 0)]
            o.roots = 0
            if o.incoming - sum(1 for d in o.out if d is o):
                raise ValueError("f of an object still referenced")
            self.kill(o)
        elif ev in "+-":
            s, d = int(f[1], 0), self.objs[int(f[2], 0)]
            delta = 1 if ev == "+" else -1
            if s == 0:
                d.roots += delta
                if delta > 0:
                    self.gc.on_root(d)
            else:
                src = self.objs[s]
                if delta > 0:
                    src.out.append(d)
                    self.gc.on_ref(src, d)
                else:
                    i = len(src.out) - 1 - src.out[::-1].index(d)
                    del src.out[i]
                d.incoming += delta
            if d.refcnt() == 0:
                self.kill(d)
        elif ev == "s":
            self.gc.safepoint()
        elif ev == "c":
            self.gc.collect(int(f[1], 0) if len(f) > 1 else 2, explicit=True)
        # `r`, `@` and version 2's k, m, g, h, e lines do not concern the
        # collector


def cdiv(a, b):
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def may_be_tracked(o):
    """_PyObject_GC_MAY_BE_TRACKED: a GC object, unless it is an untracked
    tuple."""
    if not is_gc_type(o.type):
        return False
    return o.tracked if o.type == "tuple" else True


def tuple_untrackable(t):
    return all(not may_be_tracked(d) for d in t.out)


def deduce_unreachable(L, region):
    """update_refs, subtract_refs, move_unreachable (Python/gc.c), in list
    order: returns the unreachable objects in CPython's order; the
    reachable ones stay in `region` in CPython's order."""
    members = list(L.items(region))
    refs = {m: m.refcnt() for m in members}
    collecting = set(members)
    for m in members:
        for d in m.out:
            if d in collecting:
                refs[d] -= 1
    unreach = L.new(("unreachable", id(region)))
    o = L.first(region)
    while o is not None:
        if refs[o] > 0:
            for d in o.out:
                if d not in collecting:
                    continue
                if L.owner.get(d) == unreach:
                    L.move(d, region)
                    refs[d] = 1
                elif refs[d] == 0:
                    refs[d] = 1
            collecting.discard(o)
            nx = L.nxt[o]
        else:
            nx = L.nxt[o]
            L.move(o, unreach)
        o = None if nx == region else nx
    garbage = list(L.items(unreach))
    for g in garbage:
        L.remove(g)
    return garbage


class Incremental:
    """Python/gc.c of 3.14.0 (before the revert of gh-142516)."""

    def __init__(self):
        self.L = Lists()
        self.young = self.L.new("young")
        self.old = [self.L.new("old0"), self.L.new("old1")]
        self.space = {}             # object -> old-space bit
        self.visited_space = 0
        self.young_count = 0
        self.old_count = [0, 0]
        self.thresholds = (2000, 10, 0)     # young, old[0], old[1]
        self.heap_size = 0
        self.work_to_do = -5000
        self.phase = "mark"
        self.pending = self.seen_safepoint = self.collecting = False
        self.collections = [0, 0, 0]
        self.collected = [0, 0, 0]
        self.recent = []            # objects rooted since the last increment
        self.rows = []
        self.event = 0

    # -- the runtime's calls --------------------------------------------
    def on_root(self, o):
        """The object gained a root reference (`a`, `+ 0 X`): like an
        object pushed on a frame that mark_stacks will scan."""
        self.recent.append(o)

    def on_ref(self, src, d):
        """A container a collection untracked is tracked again when it
        gains a referent that may be tracked (dicts: MAINTAIN_TRACKING in
        Objects/dictobject.c; a trace may fill a tuple after a collection
        untracked it empty): _PyObject_GC_TRACK, young, not visited."""
        if self.collecting or src.tracked or not is_gc_type(src.type) \
           or not may_be_tracked(d):
            return
        src.tracked = True
        self.space[src] = self.visited_space ^ 1
        self.L.append(self.young, src)

    def on_alloc(self, o):
        if not is_gc_type(o.type):
            return
        if self.pending and not self.seen_safepoint and not self.collecting:
            self.pending = False
            self.collect(1, explicit=False)
        # _PyObject_GC_Link
        self.young_count += 1
        self.heap_size += 1
        if self.young_count > self.thresholds[0] and self.thresholds[0] and not self.collecting:
            self.pending = True
        # _PyObject_GC_TRACK: young objects are in the space not visited
        o.tracked = True
        self.space[o] = self.visited_space ^ 1
        self.L.append(self.young, o)

    def on_free(self, o):
        if not is_gc_type(o.type):
            return
        if o.tracked:
            self.L.remove(o)
            del self.space[o]
            o.tracked = False
        if self.young_count > 0:        # PyObject_GC_Del
            self.young_count -= 1
        self.heap_size -= 1

    def safepoint(self):
        self.seen_safepoint = True
        if self.pending and not self.collecting:
            self.pending = False
            self.collect(1, explicit=False)

    # -- helpers --------------------------------------------------------
    def untrack(self, o):
        self.L.remove(o)
        del self.space[o]
        o.tracked = False

    def untrack_tuples(self, lst):
        for o in list(self.L.items(lst)):
            if o.type == "tuple" and tuple_untrackable(o):
                self.untrack(o)

    def set_space(self, lst, sp):
        for o in self.L.items(lst):
            self.space[o] = sp

    def scale(self):
        return max(self.thresholds[1], 2)

    def assess_work_to_do(self):
        new = self.young_count
        max_frac = new * 3 // 2
        frac = min(cdiv(cdiv(self.heap_size, 10), self.scale()), max_frac)
        self.young_count = 0
        return new + frac

    def visit_add(self, d, container, vis):
        """visit_add_to_container / move_to_reachable."""
        if d.tracked and self.space[d] != vis:
            self.space[d] ^= 1
            self.L.move(d, container)
            return 1
        return 0

    def mark_all_reachable(self, reachable, visited, vis):
        n = 0
        while not self.L.empty(reachable):
            o = self.L.first(reachable)
            self.L.move(o, visited)
            for d in o.out:
                n += self.visit_add(d, reachable, vis)
        return n

    def mark_from_roots(self, start):
        """mark_global_roots + mark_stacks. At the start of a scavenge
        (start): every object with a root reference, in the young list's
        order then the pending space's; later (mark_stacks scans only the
        frames pushed since the last increment): the objects that gained a
        root since the last increment and still hold one, in the order
        they gained it. Those not yet visited, and everything they reach,
        move to the visited space."""
        vis = self.visited_space
        visited = self.old[vis]
        reachable = self.L.new("reachable")
        n = 0
        if start:
            cands = [o for lst in (self.young, self.old[vis ^ 1])
                     for o in self.L.items(lst) if o.roots > 0]
        else:
            cands = [o for o in self.recent if not o.dead and o.roots > 0]
        self.recent = []
        for o in cands:
            n += self.visit_add(o, reachable, vis)
        return n + self.mark_all_reachable(reachable, visited, vis)

    def collect_region(self, frm, to):
        garbage = deduce_unreachable(self.L, frm)
        for g in garbage:
            del self.space[g]
            g.tracked = False
        self.untrack_tuples(frm)
        if frm != to:
            self.L.merge(frm, to)
        freed = self.heap.release(garbage)
        # objects that survived their clearing stay in the old generation
        for g in garbage:
            if not g.dead and is_gc_type(g.type):
                g.tracked = True
                self.space[g] = self.visited_space
                self.L.append(to, g)
        return len(garbage), freed

    def completed_scavenge(self):
        not_visited = self.visited_space
        self.visited_space = not_visited ^ 1
        self.set_space(self.young, not_visited)
        self.work_to_do = 0
        self.phase = "mark"

    # -- the three collections -------------------------------------------
    def collect(self, gen, explicit):
        if self.collecting:
            return
        self.collecting = True
        try:
            getattr(self, ("young_collection", "increment", "full")[gen])(explicit)
        finally:
            self.collecting = False

    def young_collection(self, explicit):
        vis = self.visited_space
        self.untrack_tuples(self.young)
        examined = self.L.size(self.young)
        surv = self.L.new("survivors")
        self.set_space(self.young, vis)
        self.L.merge(self.young, surv)
        unreach, freed = self.collect_region(surv, self.old[vis])
        self.young_count = 0
        self.old_count[vis] += 1
        self.collections[0] += 1
        self.collected[0] += unreach
        self.rows.append((self.event, 0, int(explicit), examined, unreach, freed, "collect"))

    def increment(self, explicit):
        self.work_to_do += self.assess_work_to_do()
        self.untrack_tuples(self.young)
        if self.phase == "mark":
            marked = self.mark_from_roots(True)
            self.work_to_do -= marked           # in mark_at_start
            self.phase = "collect"
            self.work_to_do -= marked           # and again in the caller
            self.rows.append((self.event, 1, int(explicit), marked, 0, 0, "mark"))
            return
        vis = self.visited_space
        not_visited, visited = self.old[vis ^ 1], self.old[vis]
        marked = self.mark_from_roots(False)
        self.work_to_do -= marked
        inc = self.L.new("increment")
        self.set_space(self.young, vis)
        self.L.merge(self.young, inc)
        size = self.L.size(inc)
        while size < self.work_to_do and not self.L.empty(not_visited):
            o = self.L.first(not_visited)
            self.L.move(o, inc)
            size += 1
            self.space[o] = vis
            # expand_region_transitively_reachable, from o to the end
            x = o
            while x != inc:
                for d in x.out:
                    size += self.visit_add(d, inc, vis)
                x = self.L.nxt[x]
        surv = self.L.new("survivors")
        self.L.merge(inc, surv)
        unreach, freed = self.collect_region(surv, visited)
        self.work_to_do += cdiv(cdiv(self.heap_size, 10), self.scale())
        self.work_to_do -= size
        self.collections[1] += 1
        self.collected[1] += unreach
        self.rows.append((self.event, 1, int(explicit), marked + size, unreach, freed,
                          "collect"))
        if self.L.empty(not_visited):
            self.completed_scavenge()

    def full(self, explicit):
        vis = self.visited_space
        pending, visited = self.old[vis ^ 1], self.old[vis]
        self.untrack_tuples(self.young)
        self.L.merge(self.young, pending)
        self.set_space(pending, vis)
        self.young_count = 0
        self.L.merge(pending, visited)
        self.recent = []
        examined = self.L.size(visited)
        unreach, freed = self.collect_region(visited, visited)
        self.young_count = 0
        self.old_count = [0, 0]
        self.completed_scavenge()
        self.collections[2] += 1
        self.collected[2] += unreach
        self.rows.append((self.event, 2, int(explicit), examined, unreach, freed, "collect"))

    def counts(self):
        return "young_count=%d heap_size=%d work_to_do=%d visited_space=%d" % (
            self.young_count, self.heap_size, self.work_to_do, self.visited_space)


class FreeThreaded:
    """Python/gc_free_threading.c of 3.13 (one thread)."""

    LOCAL = 512                 # LOCAL_ALLOC_COUNT_THRESHOLD

    def __init__(self):
        self.objs = {}          # every GC object -> None, in creation order
        self.count = 0          # generations[0].count
        self.alloc_count = 0    # the thread's buffered count
        self.threshold0, self.threshold1 = 2000, 10
        self.long_lived_total = 0
        self.pending = self.seen_safepoint = self.collecting = False
        self.collections = [0, 0, 0]
        self.collected = [0, 0, 0]
        self.rows = []
        self.event = 0

    def should_collect(self):
        if self.count <= self.threshold0 or self.threshold0 == 0:
            return False
        return self.count > self.long_lived_total // 4 or self.threshold1 == 0

    def on_root(self, o):
        pass

    def on_ref(self, src, d):
        """MAINTAIN_TRACKING (as Incremental.on_ref): the object keeps its
        place in the heap walk, which is its block's, not its tracking's."""
        if not self.collecting and not src.tracked and is_gc_type(src.type) \
           and may_be_tracked(d):
            src.tracked = True

    def on_alloc(self, o):
        if not is_gc_type(o.type):
            return
        if self.pending and not self.seen_safepoint and not self.collecting:
            self.pending = False
            self.collect(0, explicit=False)
        self.alloc_count += 1           # record_allocation
        if self.alloc_count >= self.LOCAL:
            self.count += self.alloc_count
            self.alloc_count = 0
            if self.should_collect() and not self.collecting:
                self.pending = True
        o.tracked = True
        self.objs[o] = None

    def on_free(self, o):
        if not is_gc_type(o.type):
            return
        del self.objs[o]
        o.tracked = False
        self.alloc_count -= 1           # record_deallocation
        if self.alloc_count <= -self.LOCAL:
            self.count += self.alloc_count
            self.alloc_count = 0

    def safepoint(self):
        self.seen_safepoint = True
        if self.pending and not self.collecting:
            self.pending = False
            self.collect(0, explicit=False)

    def collect(self, gen, explicit):
        if self.collecting:
            return
        if not explicit and not self.should_collect():
            self.rows.append((self.event, gen, 0, 0, 0, 0, "skip"))
            return
        self.collecting = True
        try:
            self.collect_all(gen, explicit)
        finally:
            self.collecting = False

    def collect_all(self, gen, explicit):
        self.count = 0
        # update_refs walks the heap (here: creation order) and untracks
        # tuples and dicts as it meets them
        members = []
        for o in list(self.objs):
            if not o.tracked:
                continue
            if o.type in ("tuple", "dict") and all(not may_be_tracked(d) for d in o.out):
                o.tracked = False
                continue
            members.append(o)
        examined = len(members)
        inset = set(members)
        refs = {m: m.refcnt() for m in members}
        for m in members:
            for d in m.out:
                if d in inset:
                    refs[d] -= 1
        # mark_heap_visitor: transitively from objects with refs > 0
        reach = set()
        for m in members:
            if refs[m] > 0 and m not in reach:
                reach.add(m)
                stack = [m]
                while stack:
                    x = stack.pop()
                    for d in x.out:
                        if d in inset and d not in reach:
                            reach.add(d)
                            stack.append(d)
        # scan_heap_visitor pushes the unreachable on a worklist (a stack):
        # delete_garbage pops them, last found first
        garbage = [m for m in members if m not in reach]
        self.long_lived_total = examined - len(garbage)
        freed = self.heap.release(garbage[::-1])
        self.collections[gen] += 1
        self.collected[gen] += len(garbage)
        self.rows.append((self.event, gen, int(explicit), examined, len(garbage), freed,
                          "collect"))

    def counts(self):
        return "count=%d alloc_count=%d long_lived_total=%d" % (
            self.count, self.alloc_count, self.long_lived_total)


def run(kind, path):
    gc = Incremental() if kind == "incremental" else FreeThreaded()
    heap = Heap(gc)
    event = 0
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p or p[0].startswith("#"):
                continue
            gc.event = event
            heap.apply(p)
            event += 1
    for r in gc.rows:
        print(" ".join(str(x) for x in r))
    print("# counts collections=%s collected=%s %s live=%d" % (
        gc.collections, gc.collected, gc.counts(), len(heap.objs)))
    return gc, heap


def garbage_count(heap):
    """Live objects not reachable from the root set (an independent walk)."""
    seen = set()
    stack = [o for o in heap.objs.values() if o.roots > 0]
    for o in stack:
        seen.add(o)
    while stack:
        for d in stack.pop().out:
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return len(heap.objs) - len(seen)


def check(path):
    """Self-consistency of the two readers on a trace that ends with `c`:
    each ends with no garbage left (an independent reachability walk),
    with the same live objects, and every explicit full collection of
    3.14 leaves no garbage behind."""
    bad = 0
    lives = []
    for kind in ("incremental", "freethreaded"):
        gc = Incremental() if kind == "incremental" else FreeThreaded()
        heap = Heap(gc)
        event = 0
        with open(path) as f:
            for line in f:
                p = line.split()
                if not p or p[0].startswith("#"):
                    continue
                gc.event = event
                heap.apply(p)
                event += 1
                if p[0] == "c" and len(p) == 1 and garbage_count(heap):
                    print("%s: garbage left after the full collection at event %d"
                          % (kind, event - 1))
                    bad = 1
        lives.append(sorted(heap.objs))
        print("%s: %d collections, %d live" % (kind, len(gc.rows), len(heap.objs)))
    if lives[0] != lives[1]:
        print("the two collectors end with different live objects")
        bad = 1
    return bad


def gen(shape, n, seed):
    rnd = random.Random(seed)
    out = ["#memsim-trace 1"]
    nid = [0]

    def new(size, typ=None):
        nid[0] += 1
        out.append("a %d %d%s" % (nid[0], size, " " + typ if typ else ""))
        return nid[0]

    def edge(s, d):
        out.append("+ %d %d" % (s, d))

    def unroot(x):
        out.append("- 0 %d" % x)

    if shape == "cycles":
        keep = []
        for i in range(n):
            k = rnd.choice((2, 3, 5, 8))
            ring = [new(48, "Node") for _ in range(k)]
            for a, b in zip(ring, ring[1:] + ring[:1]):
                edge(a, b)
            t = new(56, "tuple")
            v = new(28, "int")
            edge(t, v)
            edge(t, ring[0])
            for x in ring + [t, v]:
                unroot(x)
            if rnd.random() < 0.1:
                keep.append(new(64, "list"))
            if i % 997 == 996:
                out.append("s")
        out.append("c")
    else:
        roots = [new(232, "dict") for _ in range(8)]
        nodes = []
        for i in range(n):
            d = rnd.choice(roots)
            x = new(48, "Node")
            edge(d, x)
            if nodes and rnd.random() < 0.5:
                edge(x, rnd.choice(nodes))
            t = new(40, "tuple")
            edge(t, new(28, "int"))
            out.append("- 0 %d" % nid[0])
            edge(x, t)
            unroot(t)
            unroot(x)
            nodes.append(x)
            if rnd.random() < 0.05:
                a, b = new(48, "Node"), new(48, "Node")
                edge(a, b)
                edge(b, a)
                unroot(a)
                unroot(b)
            if i % 499 == 498:
                out.append("s")
        for r in roots[: len(roots) // 2]:
            unroot(r)
        out.append("c 1")
        out.append("c")
    print("\n".join(out))


def main(argv):
    if len(argv) == 4 and argv[1] == "run" and argv[2] in ("incremental", "freethreaded"):
        run(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    if len(argv) == 5 and argv[1] == "gen" and argv[2] in ("cycles", "longlived"):
        gen(argv[2], int(argv[3]), int(argv[4]))
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
