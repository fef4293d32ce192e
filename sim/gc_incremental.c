/*
 * gc_incremental.c - CPython 3.14.0's incremental cycle collector.
 *
 * Modelled on Python/gc.c of CPython 3.14.0 (the incremental collector
 * that 3.14.0 .. 3.14.4 shipped and 3.14.5 reverted, gh-142516; read at
 * python/cpython commit ca21a0a1, the 3.14 branch before the GH-140262
 * backport), with Include/internal/pycore_runtime_init.h (initial state),
 * pycore_object.h (_PyObject_GC_TRACK) and Modules/gcmodule.c
 * (gc.get_count) of 3.14. docs/gc.md has the long version, what 3.14.1+
 * changed, and which rules tests/cpython/gc_reference.py (a second,
 * independent reading) verifies collection by collection.
 *
 * 1. State. A young generation and an old one in two spaces, old[0] and
 *    old[1]; visited_space names the one being filled. Every tracked
 *    object has an old-space bit: young objects carry the space not
 *    visited. work_to_do starts at -5000, the phase at MARK.
 * 2. Counting (_PyObject_GC_Link, PyObject_GC_Del). An object of a
 *    collector-visible type served by the allocator adds 1 to young.count
 *    and to heap_size; one returned to the allocator subtracts 1 from
 *    young.count (if above 0) and from heap_size. Free-list traffic moves
 *    neither. young.count > threshold0 schedules a collection, which runs
 *    at the next safe point (`s`; in a trace without any, before the next
 *    visible allocation) as gc.collect(1): every automatic collection is
 *    an increment. A new object joins young (_PyObject_GC_TRACK).
 * 3. A young collection (gc.collect(0)): untrack tuples, put young in
 *    the visited space, collect it, append the survivors to the visited
 *    space; young.count = 0.
 * 4. An increment (gc.collect(1)): work_to_do += young.count +
 *    min(heap_size / 10 / scale, young.count * 3 / 2) (assess_work_to_do;
 *    scale = max(threshold1, 2)); young.count = 0; untrack tuples in
 *    young. In phase MARK it only marks (mark_at_start): every object
 *    with a root reference not yet visited, and all it reaches, moves to
 *    the visited space; work_to_do -= marked, twice (mark_at_start and its
 *    caller both subtract); phase COLLECT. Otherwise: mark from the stacks
 *    (here: objects that gained a root since the last increment),
 *    work_to_do -= marked; the increment is young plus, while its size <
 *    work_to_do, the first object of the space not visited together with
 *    everything it reaches that is not visited
 *    (expand_region_transitively_reachable); collect it, survivors to the
 *    visited space; work_to_do += heap_size / 10 / scale - size. When the
 *    space not visited is empty the scavenge completes: the spaces swap,
 *    young takes the new not-visited bit, work_to_do = 0, phase MARK.
 * 5. A full collection (gc.collect(), gc.collect(2)): everything into the
 *    visited space, collect it, counts zeroed, the scavenge completes,
 *    the type free lists are cleared.
 * 6. Collecting a region (gc_collect_region): gc_refs = refcount, minus
 *    one per edge from a member (update_refs, subtract_refs);
 *    move_unreachable's list walk, which moves objects found reachable
 *    late to the end of the list (the order later increments take them
 *    in); untrack surviving tuples; release the unreachable in list order
 *    (heap_release: tp_clear, cascades through on_free).
 * 7. Cost. examined = objects marked + objects in the collected region;
 *    traversed = the edges of every object marking, expansion,
 *    subtract_refs and move_unreachable traverse; pause = cost_object_ns x
 *    examined + cost_ref_ns x traversed + cost_fixed_ns, the GIL held
 *    throughout (stw_ns = pause_ns).
 *
 * The lists are CPython's: doubly linked, circular through a sentinel per
 * list (slots >= INC_SENT name the sentinels), so every move, merge and
 * walk keeps CPython's order exactly, and nothing recurses.
 *
 * Invariants (inc_check): every list is well linked and holds live,
 * tracked objects; young carries the space not visited, old[i] space i;
 * the scratch lists are empty between collections; their sizes add up
 * to the tracked count.
 *
 * Not modelled: finalizers, weak references and their callbacks, legacy
 * finalizers, gc.freeze (the permanent generation), immortal objects,
 * dicts and tuples born untracked. CPython marks from the interpreter's
 * globals and from the frames not yet visited; a trace has one root set,
 * so at a scavenge's start every rooted object counts as a root, and at
 * later increments those rooted since the previous one (docs/gc.md).
 */
#include "gc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gctypes.h"
#include "pause.h"
#include "xalloc.h"

/* Python/gc.c 3.14: SCAN_RATE_DIVISOR, and the floor of the scale factor
 * assess_work_to_do applies to old[0].threshold. */
#define INC_SCAN_RATE_DIVISOR 10
#define INC_SCALE_MIN 2
/* pycore_runtime_init.h 3.14: work_to_do starts at -5000. */
#define INC_WORK_START (-5000)

/* The lists: CPython's young and old[2], and the scratch lists of one
 * collection (mark_all_reachable's reachable, the increment, its
 * survivors, move_unreachable's unreachable). */
enum { L_YOUNG, L_OLD0, L_OLD1, L_REACH, L_REGION, L_SURV, L_UNREACH, L_LISTS };
/* Sentinel nodes: above every slot (heap.h allows fewer than 2^32 - 256). */
#define INC_SENT (UINT32_C(0xFFFFFF00))
#define LIST(l) (INC_SENT + (uint32_t)(l))

/* inc_obj.flags */
#define F_TRACKED 0x01u         /* in one of the lists */
#define F_SPACE 0x02u           /* the old-space bit (set: space 1) */
#define F_COLLECTING 0x04u      /* a member of the region being collected */
#define F_UNREACH 0x08u         /* in the unreachable list (move_unreachable) */
#define F_RECENT 0x10u          /* listed in recent[] */

struct inc_params {
	uint64_t threshold0;            /* young.threshold: objects */
	uint64_t threshold1;            /* old[0].threshold: the scale factor */
	int clear_freelists;            /* bool: full collections clear them */
	struct pause_costs cost;
	struct gctypes_params types;
};

#define P_(f) offsetof(struct inc_params, f)
static const struct knob inc_knobs[] = {
	{ .name = "threshold0", .kind = KNOB_UINT, .offset = P_(threshold0),
	  .min = 0, .max = UINT32_MAX, .unit = "objects",
	  .doc = "young objects (allocations minus deallocations) that schedule an increment (0: never automatically)" },
	{ .name = "threshold1", .kind = KNOB_UINT, .offset = P_(threshold1),
	  .min = 0, .max = UINT32_MAX,
	  .doc = "scale factor: an increment scans heap_size / 10 / max(this, 2) old objects beyond the young ones" },
	{ .name = "clear_freelists", .kind = KNOB_BOOL, .offset = P_(clear_freelists),
	  .doc = "a full collection empties the type free lists" },
	GCTYPES_KNOB_OTHER(P_(types)),
	PAUSE_COST_KNOBS(P_(cost)),
	GCTYPES_KNOB_LISTS(P_(types)),
};
#undef P_

/* CPython 3.14.0 (pycore_runtime_init.h: young 2000, old[0] 10). */
static const struct inc_params inc_defaults = {
	.threshold0 = 2000,
	.threshold1 = 10,
	.clear_freelists = 1,
	.cost = PAUSE_COSTS_CPYTHON_3_13,
	.types = GCTYPES_PARAMS_DEFAULT,
};

/*
 * The collector's state of each object, in a heap side array (gc.h,
 * "Per-object state"): CPython's PyGC_Head (list links; gc_refs during a
 * collection) and its flag bits. Written by inc_on_alloc for every
 * object, meaningful while the object lives.
 */
struct inc_obj {
	uint32_t prev, next;    /* slots or sentinels; HEAP_NONE: untracked */
	int32_t refs;           /* gc_refs (a collection's scratch) */
	uint8_t flags;          /* F_* */
};

struct inc_link {
	uint32_t prev, next;
};

/* An object that gained a root since the last increment. */
struct inc_recent {
	uint64_t id;            /* the object's ID then: a reused slot is stale */
	uint32_t slot;
};

struct inc_state {
	struct inc_params p;
	struct gc_env env;
	struct gctypes tk;
	struct inc_obj *objs;   /* the side array, by slot (the heap moves it) */
	struct inc_link sent[L_LISTS];
	unsigned visited;       /* visited_space: 0 or 1 */
	int collect_phase;      /* 0: GC_PHASE_MARK, 1: GC_PHASE_COLLECT */
	int64_t work_to_do;
	int64_t young_count;    /* young.count */
	int64_t heap_size;
	uint64_t old_count[2];  /* old[i].count */
	int pending;            /* an increment is scheduled */
	int seen_safepoint;     /* the trace has had an `s` */
	int collecting;
	uint64_t tracked;       /* objects in the lists */
	uint64_t last_mutator_ns;
	struct inc_recent *recent;
	size_t nrecent, recent_cap;
	uint32_t *garbage;      /* scratch: the unreachable, in list order */
	size_t garbage_cap;
	uint64_t traversed_now; /* edges traversed by the running collection */
	uint64_t collections[3], collected[3];
	uint64_t examined, traversed, freed;
	struct pause_log log;
};

/* ---- objects and lists ----------------------------------------------- */

static struct heap_obj *obj(const struct inc_state *s, uint32_t slot)
{
	return heap_obj(s->env.heap, slot);
}

static uint32_t *next_of(struct inc_state *s, uint32_t x)
{
	return x >= INC_SENT ? &s->sent[x - INC_SENT].next : &s->objs[x].next;
}

static uint32_t *prev_of(struct inc_state *s, uint32_t x)
{
	return x >= INC_SENT ? &s->sent[x - INC_SENT].prev : &s->objs[x].prev;
}

static void list_init(struct inc_state *s, int l)
{
	s->sent[l].prev = s->sent[l].next = LIST(l);
}

static int list_empty(const struct inc_state *s, int l)
{
	return s->sent[l].next == LIST(l);
}

/* The first member of list l (a sentinel id when it is empty). */
static uint32_t list_first(const struct inc_state *s, int l)
{
	return s->sent[l].next;
}

static void list_append(struct inc_state *s, uint32_t x, int l)
{
	uint32_t last = s->sent[l].prev;

	*next_of(s, last) = x;
	s->objs[x].prev = last;
	s->objs[x].next = LIST(l);
	s->sent[l].prev = x;
}

static void list_remove(struct inc_state *s, uint32_t x)
{
	struct inc_obj *o = &s->objs[x];

	*next_of(s, o->prev) = o->next;
	*prev_of(s, o->next) = o->prev;
	o->prev = o->next = HEAP_NONE;
}

static void list_move(struct inc_state *s, uint32_t x, int l)
{
	list_remove(s, x);
	list_append(s, x, l);
}

/* gc_list_merge: appends `from` to `to` in O(1); `from` ends empty. */
static void list_merge(struct inc_state *s, int from, int to)
{
	uint32_t head = s->sent[from].next, tail = s->sent[from].prev;

	if (head == LIST(from))
		return;
	*next_of(s, s->sent[to].prev) = head;
	s->objs[head].prev = s->sent[to].prev;
	s->objs[tail].next = LIST(to);
	s->sent[to].prev = tail;
	list_init(s, from);
}

static uint64_t list_size(struct inc_state *s, int l)
{
	uint64_t n = 0;

	for (uint32_t x = list_first(s, l); x != LIST(l); x = s->objs[x].next)
		n++;
	return n;
}

static unsigned space_of(const struct inc_state *s, uint32_t x)
{
	return (s->objs[x].flags & F_SPACE) != 0;
}

static void set_space(struct inc_state *s, uint32_t x, unsigned space)
{
	if (space)
		s->objs[x].flags |= F_SPACE;
	else
		s->objs[x].flags &= (uint8_t)~F_SPACE;
}

/* gc_list_set_space over a whole list. */
static void list_set_space(struct inc_state *s, int l, unsigned space)
{
	for (uint32_t x = list_first(s, l); x != LIST(l); x = s->objs[x].next)
		set_space(s, x, space);
}

static int old_list(unsigned space)
{
	return L_OLD0 + (int)space;
}

/* ---- tracking -------------------------------------------------------- */

static enum gctypes_kind kind_of(struct inc_state *s, uint32_t x)
{
	return gctypes_kind(&s->tk, heap_obj_type(obj(s, x)));
}

static int is_tracked(const struct inc_state *s, uint32_t x)
{
	return (s->objs[x].flags & F_TRACKED) != 0;
}

/* _PyObject_GC_TRACK: into young, in the space not visited. */
static void track_young(struct inc_state *s, uint32_t x)
{
	s->objs[x].flags |= F_TRACKED;
	set_space(s, x, s->visited ^ 1u);
	list_append(s, x, L_YOUNG);
	s->tracked++;
}

static void untrack(struct inc_state *s, uint32_t x)
{
	list_remove(s, x);
	s->objs[x].flags &= (uint8_t)~(F_TRACKED | F_COLLECTING | F_UNREACH);
	s->tracked--;
}

/* _PyObject_GC_MAY_BE_TRACKED: a visible object, unless it is a tuple
 * that is not tracked. */
static int may_be_tracked(struct inc_state *s, uint32_t x)
{
	enum gctypes_kind k = kind_of(s, x);

	return k != GCTYPES_INVISIBLE && (k != GCTYPES_TUPLE || is_tracked(s, x));
}

/* _PyTuple_MaybeUntrack: untracks the tuple when none of its items may
 * be tracked. */
static void maybe_untrack_tuple(struct inc_state *s, uint32_t x)
{
	const struct heap_obj *o = obj(s, x);
	const uint32_t *e = heap_obj_cedges(o);
	uint32_t n = heap_obj_nout(o);

	for (uint32_t i = 0; i < n; i++)
		if (may_be_tracked(s, e[i]))
			return;
	untrack(s, x);
}

/* untrack_tuples: in list order, so a tuple holding a tuple met later
 * stays tracked, as in CPython. */
static void untrack_tuples(struct inc_state *s, int l)
{
	uint32_t x = list_first(s, l);

	while (x != LIST(l)) {
		uint32_t next = s->objs[x].next;

		if (kind_of(s, x) == GCTYPES_TUPLE)
			maybe_untrack_tuple(s, x);
		x = next;
	}
}

/* ---- marking --------------------------------------------------------- */

/* visit_add_to_container / move_to_reachable: a tracked object not in
 * the visited space moves to the end of `container`, in the visited
 * space. Returns 1 if it moved. */
static int visit_add(struct inc_state *s, uint32_t y, int container)
{
	if (!is_tracked(s, y) || space_of(s, y) == s->visited)
		return 0;
	set_space(s, y, s->visited);
	list_move(s, y, container);
	return 1;
}

/* Traverses x's edges with visit_add into `container`; returns the
 * objects added. */
static uint64_t traverse_add(struct inc_state *s, uint32_t x, int container)
{
	const struct heap_obj *o = obj(s, x);
	const uint32_t *e = heap_obj_cedges(o);
	uint32_t n = heap_obj_nout(o);
	uint64_t added = 0;

	s->traversed_now += n;
	for (uint32_t i = 0; i < n; i++)
		added += (uint64_t)visit_add(s, e[i], container);
	return added;
}

/* mark_all_reachable: empties L_REACH into the visited space, front
 * first, adding what each object reaches. Returns the objects added. */
static uint64_t mark_all_reachable(struct inc_state *s)
{
	int visited = old_list(s->visited);
	uint64_t n = 0;

	while (!list_empty(s, L_REACH)) {
		uint32_t x = list_first(s, L_REACH);

		list_move(s, x, visited);
		n += traverse_add(s, x, L_REACH);
	}
	return n;
}

/* Moves the rooted objects of list l to L_REACH, in list order. */
static uint64_t reach_rooted(struct inc_state *s, int l)
{
	uint32_t x = list_first(s, l);
	uint64_t n = 0;

	while (x != LIST(l)) {
		uint32_t next = s->objs[x].next;

		if (obj(s, x)->roots > 0)
			n += (uint64_t)visit_add(s, x, L_REACH);
		x = next;
	}
	return n;
}

/* Forgets recent[]: clears the flag of the entries still current. */
static void recent_clear(struct inc_state *s)
{
	for (size_t i = 0; i < s->nrecent; i++) {
		const struct inc_recent *r = &s->recent[i];

		if (obj(s, r->slot)->id == r->id)
			s->objs[r->slot].flags &= (uint8_t)~F_RECENT;
	}
	s->nrecent = 0;
}

/*
 * mark_global_roots + mark_stacks. At a scavenge's start (mark_at_start):
 * every rooted object, young first, then the space not visited; at a
 * later increment (mark_stacks, frames not yet visited): the objects that
 * gained a root since the last increment and still hold one, in the order
 * they gained it. Each not yet visited, and everything it reaches, moves
 * to the visited space. Returns the number moved (objects_marked).
 */
static uint64_t mark_from_roots(struct inc_state *s, int start)
{
	uint64_t n = 0;

	if (start) {
		n += reach_rooted(s, L_YOUNG);
		n += reach_rooted(s, old_list(s->visited ^ 1u));
	} else {
		for (size_t i = 0; i < s->nrecent; i++) {
			const struct inc_recent *r = &s->recent[i];
			const struct heap_obj *o = obj(s, r->slot);

			if (o->id == r->id && o->roots > 0)
				n += (uint64_t)visit_add(s, r->slot, L_REACH);
		}
	}
	recent_clear(s);
	return n + mark_all_reachable(s);
}

/* Notes that the live object in `slot` gained a root (a frame pushed
 * it). Entries of dead objects are dropped when the array has twice as
 * many as the heap has objects, so it stays within the live set. */
static void recent_add(struct inc_state *s, uint32_t slot)
{
	struct inc_obj *o = &s->objs[slot];

	if (o->flags & F_RECENT)
		return;
	if (s->nrecent == s->recent_cap &&
	    s->nrecent >= 2 * heap_live_objects(s->env.heap) + 64) {
		size_t k = 0;

		for (size_t i = 0; i < s->nrecent; i++)
			if (obj(s, s->recent[i].slot)->id == s->recent[i].id)
				s->recent[k++] = s->recent[i];
		s->nrecent = k;
	}
	if (s->nrecent == s->recent_cap) {
		s->recent_cap = s->recent_cap ? 2 * s->recent_cap : 256;
		s->recent = xreallocarray(s->recent, s->recent_cap, sizeof *s->recent);
	}
	s->recent[s->nrecent++] = (struct inc_recent){ .id = obj(s, slot)->id, .slot = slot };
	o->flags |= F_RECENT;
}

/* ---- collecting a region --------------------------------------------- */

/* update_refs and subtract_refs over list l; returns its size. */
static uint64_t count_refs(struct inc_state *s, int l)
{
	uint64_t n = 0;

	for (uint32_t x = list_first(s, l); x != LIST(l); x = s->objs[x].next) {
		const struct heap_obj *o = obj(s, x);

		uint64_t rc = heap_obj_refcount(o);

		/* beyond 2^31 - 1 references the count saturates (no trace
		 * comes near; gc_refs only has to stay above the internal
		 * references) */
		s->objs[x].refs = rc > INT32_MAX ? INT32_MAX : (int32_t)rc;
		s->objs[x].flags |= F_COLLECTING;
		n++;
	}
	for (uint32_t x = list_first(s, l); x != LIST(l); x = s->objs[x].next) {
		const struct heap_obj *o = obj(s, x);
		const uint32_t *e = heap_obj_cedges(o);
		uint32_t k = heap_obj_nout(o);

		s->traversed_now += k;
		for (uint32_t i = 0; i < k; i++)
			if (s->objs[e[i]].flags & F_COLLECTING)
				s->objs[e[i]].refs--;
	}
	return n;
}

/* visit_reachable: a member moved to the unreachable list comes back to
 * the end of l; one not yet scanned is marked reachable. */
static void visit_reachable(struct inc_state *s, uint32_t y, int l)
{
	struct inc_obj *d = &s->objs[y];

	if (!(d->flags & F_COLLECTING))
		return;
	if (d->flags & F_UNREACH) {
		d->flags &= (uint8_t)~F_UNREACH;
		list_move(s, y, l);
		d->refs = 1;
	} else if (d->refs == 0) {
		d->refs = 1;
	}
}

/* move_unreachable: walks l; a member with gc_refs 0 moves to the
 * unreachable list (for now); a reachable one is scanned and leaves the
 * collecting set. The next member is read after the scan, which may
 * have appended. */
static void move_unreachable(struct inc_state *s, int l)
{
	uint32_t x = list_first(s, l);

	while (x != LIST(l)) {
		struct inc_obj *g = &s->objs[x];

		if (g->refs != 0) {
			const struct heap_obj *o = obj(s, x);
			const uint32_t *e = heap_obj_cedges(o);
			uint32_t n = heap_obj_nout(o);

			s->traversed_now += n;
			for (uint32_t i = 0; i < n; i++)
				visit_reachable(s, e[i], l);
			g->flags &= (uint8_t)~F_COLLECTING;
			x = g->next;
		} else {
			uint32_t next = g->next;

			list_move(s, x, L_UNREACH);
			g->flags |= F_UNREACH;
			x = next;
		}
	}
}

static void reserve_garbage(struct inc_state *s, uint64_t need)
{
	if (need <= s->garbage_cap && s->garbage)
		return;
	s->garbage_cap = s->garbage_cap ? s->garbage_cap : 256;
	while (s->garbage_cap < need)
		s->garbage_cap *= 2;
	s->garbage = xreallocarray(s->garbage, s->garbage_cap, sizeof *s->garbage);
}

struct region_result {
	uint64_t candidates;    /* the region's members */
	uint64_t unreachable;   /* CPython's "collected" */
	uint64_t freed;         /* objects freed, cascades included */
};

/*
 * gc_collect_region(from, to): finds the unreachable members of list
 * `from`, untracks the surviving tuples, appends the survivors to `to`
 * (unless from == to) and releases the unreachable in list order. An
 * object still live after its release (not garbage after all) joins
 * `to`, as delete_garbage moves it to `old`.
 */
static struct region_result collect_region(struct inc_state *s, int from, int to)
{
	struct region_result r = { 0 };
	size_t n = 0;

	r.candidates = count_refs(s, from);
	move_unreachable(s, from);
	untrack_tuples(s, from);
	if (from != to)
		list_merge(s, from, to);
	reserve_garbage(s, r.candidates);
	for (uint32_t x = list_first(s, L_UNREACH); x != LIST(L_UNREACH);
	     x = s->objs[x].next) {
		s->objs[x].flags &= (uint8_t)~F_UNREACH;     /* move_legacy_finalizers */
		s->garbage[n++] = x;
	}
	r.unreachable = n;
	r.freed = heap_release(s->env.heap, s->garbage, n);
	while (!list_empty(s, L_UNREACH)) {
		uint32_t x = list_first(s, L_UNREACH);

		s->objs[x].flags &= (uint8_t)~F_COLLECTING;
		list_move(s, x, to);
	}
	return r;
}

/* ---- the three collections ------------------------------------------- */

static uint64_t mutator_now(struct inc_state *s)
{
	return pause_mutator_now(s->env.clock, &s->p.cost, &s->last_mutator_ns);
}

/* completed_scavenge: the spaces swap (the permanent generation is
 * always empty here). */
static void completed_scavenge(struct inc_state *s)
{
	unsigned not_visited = s->visited;

	s->visited = not_visited ^ 1u;
	list_set_space(s, L_YOUNG, not_visited);
	s->work_to_do = 0;
	s->collect_phase = 0;
}

static int64_t scale_factor(const struct inc_state *s)
{
	return s->p.threshold1 < INC_SCALE_MIN ? INC_SCALE_MIN : (int64_t)s->p.threshold1;
}

static int64_t assess_work_to_do(struct inc_state *s)
{
	int64_t fresh = s->young_count;
	int64_t max_fraction = fresh * 3 / 2;
	int64_t fraction = s->heap_size / INC_SCAN_RATE_DIVISOR / scale_factor(s);

	if (fraction > max_fraction)
		fraction = max_fraction;
	s->young_count = 0;
	return fresh + fraction;
}

static struct region_result collect_young(struct inc_state *s)
{
	struct region_result r;

	untrack_tuples(s, L_YOUNG);
	list_set_space(s, L_YOUNG, s->visited);
	r = collect_region(s, L_YOUNG, L_SURV);
	list_merge(s, L_SURV, old_list(s->visited));
	s->young_count = 0;
	s->old_count[s->visited]++;
	return r;
}

/* expand_region_transitively_reachable from x, the region's last
 * member: traverses x and everything appended after it. */
static uint64_t expand_region(struct inc_state *s, uint32_t x)
{
	uint64_t added = 0;

	for (; x != LIST(L_REGION); x = s->objs[x].next)
		added += traverse_add(s, x, L_REGION);
	return added;
}

/* gc_collect_increment; *marked gets the objects marked. Returns zeros
 * for a marking-only increment (*counted 0: CPython's statistics skip
 * it). */
static struct region_result collect_increment(struct inc_state *s, uint64_t *marked,
					      int *counted)
{
	struct region_result r = { 0 };
	int not_visited;
	uint64_t size;

	s->work_to_do += assess_work_to_do(s);
	untrack_tuples(s, L_YOUNG);
	if (s->collect_phase == 0) {
		*marked = mark_from_roots(s, 1);
		s->work_to_do -= 2 * (int64_t)*marked;       /* both subtract */
		s->collect_phase = 1;
		*counted = 0;
		return r;
	}
	*counted = 1;
	not_visited = old_list(s->visited ^ 1u);
	*marked = mark_from_roots(s, 0);
	s->work_to_do -= (int64_t)*marked;
	list_set_space(s, L_YOUNG, s->visited);
	list_merge(s, L_YOUNG, L_REGION);
	size = list_size(s, L_REGION);
	while ((int64_t)size < s->work_to_do && !list_empty(s, not_visited)) {
		uint32_t x = list_first(s, not_visited);

		list_move(s, x, L_REGION);
		size++;
		set_space(s, x, s->visited);
		size += expand_region(s, x);
	}
	r = collect_region(s, L_REGION, L_SURV);
	list_merge(s, L_SURV, old_list(s->visited));
	s->work_to_do += s->heap_size / INC_SCAN_RATE_DIVISOR / scale_factor(s);
	s->work_to_do -= (int64_t)size;
	if (list_empty(s, not_visited))
		completed_scavenge(s);
	return r;
}

static struct region_result collect_full(struct inc_state *s)
{
	int pending = old_list(s->visited ^ 1u), visited = old_list(s->visited);
	struct region_result r;

	untrack_tuples(s, L_YOUNG);
	list_merge(s, L_YOUNG, pending);
	list_set_space(s, pending, s->visited);
	list_merge(s, pending, visited);
	recent_clear(s);
	r = collect_region(s, visited, visited);
	s->young_count = 0;
	s->old_count[0] = s->old_count[1] = 0;
	completed_scavenge(s);
	if (s->p.clear_freelists && s->env.clear_freelists)
		s->env.clear_freelists(s->env.ctx);
	return r;
}

/* _PyGC_Collect(gen): one collection and its pause. */
static void collect(struct inc_state *s, uint32_t gen, int explicit_)
{
	struct gc_pause pause = { 0 };
	struct region_result r = { 0 };
	uint64_t marked = 0;
	int counted = 1;

	if (s->collecting)
		return;
	s->collecting = 1;
	s->traversed_now = 0;
	pause.event = s->env.clock ? s->env.clock->event : 0;
	pause.start_ns = mutator_now(s) + s->log.total_ns;
	pause.generation = gen;
	pause.explicit_ = (uint32_t)explicit_;
	if (gen == 0)
		r = collect_young(s);
	else if (gen == 1)
		r = collect_increment(s, &marked, &counted);
	else
		r = collect_full(s);
	pause.examined = marked + r.candidates;
	pause.traversed = s->traversed_now;
	pause.unreachable = r.unreachable;
	pause.freed = r.freed;
	pause.pause_ns = pause_costs_ns(&s->p.cost, pause.examined, pause.traversed, 1);
	pause.stw_ns = pause.pause_ns;  /* the GIL is held throughout */
	pause_log_add(&s->log, &pause);
	if (counted) {
		s->collections[gen]++;
		s->collected[gen] += r.unreachable;
	}
	s->examined += pause.examined;
	s->traversed += pause.traversed;
	s->freed += r.freed;
	s->collecting = 0;
}

/* ---- hooks ----------------------------------------------------------- */

static void inc_on_alloc(void *state, uint32_t slot, int from_allocator)
{
	struct inc_state *s = state;

	s->objs[slot] = (struct inc_obj){ .prev = HEAP_NONE, .next = HEAP_NONE };
	if (kind_of(s, slot) == GCTYPES_INVISIBLE)
		return;
	if (s->pending && !s->seen_safepoint && !s->collecting) {
		/* trace-format.md: without safe points, deferred work runs
		 * before the next collector-visible allocation */
		s->pending = 0;
		collect(s, 1, 0);
	}
	if (from_allocator) {           /* _PyObject_GC_Link */
		s->young_count++;
		s->heap_size++;
		if (s->young_count > (int64_t)s->p.threshold0 && s->p.threshold0 != 0 &&
		    !s->collecting)
			s->pending = 1;
	}
	track_young(s, slot);
	recent_add(s, slot);
}

static void inc_on_free(void *state, uint32_t slot, int to_allocator)
{
	struct inc_state *s = state;

	if (is_tracked(s, slot))
		untrack(s, slot);
	if (to_allocator && kind_of(s, slot) != GCTYPES_INVISIBLE) {
		if (s->young_count > 0)         /* PyObject_GC_Del */
			s->young_count--;
		s->heap_size--;
	}
}

static void inc_on_ref(void *state, uint32_t src, uint32_t dst, int delta)
{
	struct inc_state *s = state;

	if (delta <= 0 || s->collecting)
		return;
	if (src == HEAP_NONE) {
		if (kind_of(s, dst) != GCTYPES_INVISIBLE)
			recent_add(s, dst);
		return;
	}
	/* A container a collection untracked is tracked again when it gains
	 * a referent that may be tracked (dicts: MAINTAIN_TRACKING; a trace
	 * may fill a tuple after a collection untracked it empty). */
	if (!is_tracked(s, src) && kind_of(s, src) != GCTYPES_INVISIBLE &&
	    may_be_tracked(s, dst))
		track_young(s, src);
}

static void inc_safepoint(void *state)
{
	struct inc_state *s = state;

	s->seen_safepoint = 1;
	if (s->pending && !s->collecting) {
		s->pending = 0;
		collect(s, 1, 0);       /* _Py_RunGC: always an increment */
	}
}

static int inc_collect(void *state, uint64_t gen, struct ms_error *err)
{
	struct inc_state *s = state;

	if (gen == EVENT_GEN_DEFAULT)
		gen = 2;
	if (gen > 2)
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "collection of generation %llu: the collector has generations 0..2",
				    (unsigned long long)gen);
	collect(s, (uint32_t)gen, 1);
	return 0;
}

/* ---- life cycle, statistics, check ----------------------------------- */

static int inc_validate(const void *params, char *msg, size_t msglen)
{
	return gctypes_validate(&((const struct inc_params *)params)->types, msg, msglen);
}

static void *inc_create(const void *params, const struct gc_env *env)
{
	struct inc_state *s = xcalloc(1, sizeof *s);

	s->p = *(const struct inc_params *)params;
	s->env = *env;
	gctypes_init(&s->tk, &s->p.types, env->types);
	heap_side_add(env->heap, sizeof *s->objs, (void **)&s->objs, NULL, NULL);
	for (int l = 0; l < L_LISTS; l++)
		list_init(s, l);
	s->work_to_do = INC_WORK_START;
	pause_log_init(&s->log);
	return s;
}

static void inc_destroy(void *state)
{
	struct inc_state *s = state;

	if (!s)
		return;
	pause_log_free(&s->log);
	gctypes_free(&s->tk);
	free(s->recent);
	free(s->garbage);
	free(s);
}

static void inc_stats(void *state, struct gc_stats *out)
{
	struct inc_state *s = state;

	*out = (struct gc_stats){0};
	out->generations = 3;
	for (int i = 0; i < 3; i++) {
		out->collections[i] = s->collections[i];
		out->collected[i] = s->collected[i];
	}
	/* gc.get_count(): young, the visited space's, the other's */
	out->count[0] = (uint64_t)s->young_count;
	out->count[1] = s->old_count[s->visited];
	out->count[2] = s->old_count[s->visited ^ 1u];
	out->examined = s->examined;
	out->traversed = s->traversed;
	out->freed = s->freed;
	out->tracked = s->tracked;
	pause_summary(&s->log, mutator_now(s), out);
}

/* The rows by what their collections are (_PyGC_Collect's argument in
 * 3.14.0: 0 young, 1 an increment, 2 full); each row's count is
 * gc.get_count()'s entry at its index (young, the visited space's, the
 * other space's), as inc_stats keeps them. */
static size_t inc_spaces(void *state, struct gc_space *out, size_t max)
{
	static const char *const names[3] = { "young", "increment", "full" };
	struct gc_stats st;

	inc_stats(state, &st);
	return gc_spaces_from_stats(&st, names, out, max);
}

static const struct gc_pause *inc_pauses(void *state, size_t *n)
{
	struct inc_state *s = state;

	*n = s->log.n;
	return s->log.v;
}

/* Checks list l: linked both ways, live tracked members with no
 * collection flags, the space bit `space` (or any, for -1). Adds its
 * size to *total. */
static int check_list(struct inc_state *s, int l, int space, uint64_t *total,
		      char *msg, size_t msglen)
{
	uint32_t prev = LIST(l);
	uint64_t n = 0;

	for (uint32_t x = list_first(s, l); x != LIST(l); x = s->objs[x].next) {
		const struct inc_obj *o;

		if (x >= heap_slot_limit(s->env.heap) || !heap_obj_live(obj(s, x)) ||
		    (o = &s->objs[x])->prev != prev || !(o->flags & F_TRACKED) ||
		    (o->flags & (F_COLLECTING | F_UNREACH)) ||
		    (space >= 0 && space_of(s, x) != (unsigned)space) ||
		    ++n > s->tracked) {
			snprintf(msg, msglen, "incremental: list %d is broken at slot %u", l, x);
			return -1;
		}
		prev = x;
	}
	if (s->sent[l].prev != prev) {
		snprintf(msg, msglen, "incremental: list %d's tail is wrong", l);
		return -1;
	}
	*total += n;
	return 0;
}

static int inc_check(void *state, char *msg, size_t msglen)
{
	struct inc_state *s = state;
	uint64_t total = 0;

	if (check_list(s, L_YOUNG, (int)(s->visited ^ 1u), &total, msg, msglen) ||
	    check_list(s, L_OLD0, 0, &total, msg, msglen) ||
	    check_list(s, L_OLD1, 1, &total, msg, msglen))
		return -1;
	for (int l = L_REACH; l < L_LISTS; l++)
		if (!list_empty(s, l)) {
			snprintf(msg, msglen, "incremental: scratch list %d not empty", l);
			return -1;
		}
	if (total != s->tracked) {
		snprintf(msg, msglen, "incremental: %llu objects in the lists, %llu tracked",
			 (unsigned long long)total, (unsigned long long)s->tracked);
		return -1;
	}
	return 0;
}

static int inc_sees(void *state, uint32_t type)
{
	return gctypes_sees(&((struct inc_state *)state)->tk, type);
}

/* The generation in gc.get_count()'s order: 0 young, 1 the visited
 * space, 2 the space not visited; -1 untracked. Young objects carry the
 * not-visited bit too, so the list is found by walking to its sentinel:
 * O(list), for tests and analyses only. */
static int inc_generation(void *state, uint32_t slot)
{
	struct inc_state *s = state;
	uint32_t x = slot;

	if (!is_tracked(s, slot))
		return -1;
	while (x < INC_SENT)
		x = s->objs[x].next;
	if (x == LIST(L_YOUNG))
		return 0;
	return space_of(s, slot) == s->visited ? 1 : 2;
}

const struct gc_policy gc_incremental = {
	.name = "incremental",
	.summary = "CPython 3.14.0's incremental collector: young plus an increment of the old spaces",
	.knobs = inc_knobs,
	.nknobs = sizeof inc_knobs / sizeof inc_knobs[0],
	.params_size = sizeof(struct inc_params),
	.defaults = &inc_defaults,
	.validate = inc_validate,
	.create = inc_create,
	.destroy = inc_destroy,
	.on_alloc = inc_on_alloc,
	.on_free = inc_on_free,
	.on_ref = inc_on_ref,
	.safepoint = inc_safepoint,
	.collect = inc_collect,
	.stats = inc_stats,
	.pauses = inc_pauses,
	.check = inc_check,
	.sees = inc_sees,
	.generation = inc_generation,
	.spaces = inc_spaces,
};
