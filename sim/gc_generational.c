/*
 * gc_generational.c - CPython's three-generation cycle collector.
 *
 * Modelled on Modules/gcmodule.c of CPython 2.7 and 3.6-3.12 and
 * Python/gc.c of 3.13 (the 3.13 release, before the incremental
 * collector of 3.14). docs/gc.md has the long version with every source.
 *
 * 1. Counting. Allocating an object of a collector-visible type FROM THE
 *    ALLOCATOR adds 1 to generation 0's count (gc_alloc /
 *    _PyObject_GC_Link / _PyObject_GC_Alloc); releasing one TO THE
 *    ALLOCATOR subtracts 1 if the count is above 0 (PyObject_GC_Del).
 *    Objects served from or parked in a type free list do not move it.
 *    Untyped objects and the untracked type names (int, float, str, ...)
 *    are invisible to the collector.
 * 2. Triggering. After the increment, count0 > threshold0 (threshold0 !=
 *    0, no collection running) starts a collection: at once, before the
 *    new object joins generation 0 (up to 3.11), or, with `deferred`
 *    (3.12+: _Py_ScheduleGC sets an eval-breaker bit, _Py_RunGC runs at
 *    the next check), at the next safe point `s`; in a trace without safe
 *    points, before the next collector-visible allocation.
 * 3. Choosing (collect_generations / gc_select_generation): the oldest
 *    generation g whose count exceeds its threshold, except that the
 *    oldest one is skipped while long_lived_pending < long_lived_total / 4
 *    (integer division; issue #4074, CPython 2.7 and 3.1+). None: nothing.
 * 4. Collecting g (collect / gc_collect_main): count[g+1] += 1 (g < 2);
 *    count[0..g] = 0; generations 0..g-1 are appended to g's list; for
 *    each member gc_refs = refcount (roots + incoming edges); every edge
 *    between members subtracts 1 from its target (subtract_refs); members
 *    with gc_refs > 0 and everything reachable from them through members
 *    are reachable (move_unreachable); the rest is unreachable.
 *    Surviving tuples whose referents are all untracked are untracked
 *    (untrack_tuples); in a full collection, such dicts too
 *    (untrack_dicts, issue #14775; 2.7: every collection). Survivors move
 *    to g+1; g == 1 adds their number to long_lived_pending; g == 2 sets
 *    long_lived_pending = 0 and long_lived_total = their number.
 *    The unreachable objects are released (heap_release: tp_clear drops
 *    their edges, deaths cascade, each death comes back through on_free).
 *    A full collection then clears the type free lists.
 * 5. Cost. examined = members; traversed = the edges of every member
 *    (subtract_refs) plus the edges of every reachable member
 *    (move_unreachable visits each reachable object once); pause_ns =
 *    cost_object_ns * examined + cost_ref_ns * traversed + cost_fixed_ns.
 *
 * Invariants (gen_check): lists 0..2 are well linked, hold live objects
 * whose gen names the list and whose refs is 0, and their sizes
 * are right; untracked objects (gen GEN_UNTRACKED) are in no list.
 *
 * Speed (docs/gc.md, "How a collection runs"): a collection walks its
 * list once, from both ends, counting references on the way; the other
 * steps run over an array of the members' slots with prefetching. Every
 * step keeps the list order, so the results are those of the steps above.
 *
 * Not modelled: finalizers (__del__, tp_finalize), weak references and
 * their callbacks, uncollectable garbage, gc.freeze(), dicts and tuples
 * born untracked (CPython leaves dicts with only atomic values untracked
 * from creation; here every object of a visible type is tracked from its
 * allocation until a collection untracks it).
 */
#include "gc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gctypes.h"
#include "pause.h"
#include "xalloc.h"

#define NGEN GC_GENERATIONS_MAX
#define GEN_UNREACH 3u          /* the list of objects found unreachable */
#define GEN_LISTS 4u
#define GEN_UNTRACKED 0xffu     /* gen_obj.gen of untracked objects */
#define REFS_REACHED UINT32_MAX /* gc_refs of a member found reachable */
/* Above this, gc_refs went below 0: only in an inconsistent heap, where
 * subtract_refs would have stopped at 0 (see gather_one). */
#define REFS_MAX ((uint32_t)INT32_MAX)

/* Pause cost defaults: tools/calibrate-gc's fit for CPython 3.11.7 over
 * generation-0/1 collections (docs/gc.md has the machine, the command
 * and the fit quality). */
#define GEN_COST_OBJECT_NS 13.47        /* ns per examined object */
#define GEN_COST_REF_NS 2.25            /* ns per traversed reference */
#define GEN_COST_FIXED_NS 755.0         /* ns per collection */
/* Mutator time per trace event without `@` times: CPython 3.11's keep
 * and churn loops, ns per iteration / events per iteration of their
 * tools/gen-gc-traces traces, measured by tools/calibrate-gc (docs/gc.md:
 * 9-21 ns over 3.6-3.13 and runs; 3.11 about 15). */
#define GEN_MUTATOR_NS_PER_EVENT 15.0

enum { UNTRACK_NEVER, UNTRACK_FULL, UNTRACK_EVERY };
static const char *const untrack_choices[] = { "never", "full", "every", NULL };

struct gen_params {
	uint64_t threshold0, threshold1, threshold2;    /* objects / count */
	int full_collection_rule;       /* the 25% rule (bool) */
	int deferred;                   /* 3.12+ scheduling (bool) */
	int untrack_tuples;             /* bool */
	int untrack_dicts;              /* UNTRACK_* */
	int clear_freelists;            /* full collections clear them (bool) */
	struct pause_costs cost;        /* cost model and clock */
	struct gctypes_params types;    /* what the collector sees */
};

#define P_(f) offsetof(struct gen_params, f)
static const struct knob gen_knobs[] = {
	{ .name = "threshold0", .kind = KNOB_UINT, .offset = P_(threshold0),
	  .min = 0, .max = UINT32_MAX, .unit = "objects",
	  .doc = "allocations minus deallocations of visible objects that start a collection (0: never automatically)" },
	{ .name = "threshold1", .kind = KNOB_UINT, .offset = P_(threshold1),
	  .min = 0, .max = UINT32_MAX,
	  .doc = "generation-0 collections before generation 1 is collected" },
	{ .name = "threshold2", .kind = KNOB_UINT, .offset = P_(threshold2),
	  .min = 0, .max = UINT32_MAX,
	  .doc = "generation-1 collections before generation 2 is collected" },
	{ .name = "full_collection_rule", .kind = KNOB_BOOL,
	  .offset = P_(full_collection_rule),
	  .doc = "skip full collections while long_lived_pending < long_lived_total / 4" },
	{ .name = "deferred", .kind = KNOB_BOOL, .offset = P_(deferred),
	  .doc = "an allocation only schedules the collection; it runs at the next safe point (3.12+)" },
	{ .name = "untrack_tuples", .kind = KNOB_BOOL, .offset = P_(untrack_tuples),
	  .doc = "collections untrack surviving tuples that hold no trackable object" },
	{ .name = "untrack_dicts", .kind = KNOB_ENUM, .offset = P_(untrack_dicts),
	  .choices = untrack_choices,
	  .doc = "when surviving dicts that hold no trackable object are untracked" },
	{ .name = "clear_freelists", .kind = KNOB_BOOL, .offset = P_(clear_freelists),
	  .doc = "a full collection empties the type free lists" },
	GCTYPES_KNOB_OTHER(P_(types)),
	PAUSE_COST_KNOBS(P_(cost)),
	GCTYPES_KNOB_LISTS(P_(types)),
};
#undef P_

/* CPython 3.11 defaults (docs/gc.md lists every preset). The cost
 * coefficients come from tools/calibrate-gc (docs/gc.md). */
static const struct gen_params gen_defaults = {
	.threshold0 = 700, .threshold1 = 10, .threshold2 = 10,
	.full_collection_rule = 1,
	.deferred = 0,
	.untrack_tuples = 1,
	.untrack_dicts = UNTRACK_FULL,
	.clear_freelists = 1,
	.cost = { .object_ns = GEN_COST_OBJECT_NS, .ref_ns = GEN_COST_REF_NS,
		  .fixed_ns = GEN_COST_FIXED_NS,
		  .mutator_ns_per_event = GEN_MUTATOR_NS_PER_EVENT },
	.types = GCTYPES_PARAMS_DEFAULT,
};

/*
 * The collector's own state of each object, in a heap side array
 * (heap_side_add; gc.h, "Per-object state"): CPython's PyGC_Head (the
 * generation list links) and gc_refs, with the generation the object's
 * list belongs to. Written by gen_on_alloc for every object, valid while
 * the object lives.
 */
struct gen_obj {
	uint32_t prev, next;    /* generation list links (slots) */
	uint32_t refs;          /* gc_refs: 0 between collections */
	uint8_t gen;            /* list 0..GEN_UNREACH, or GEN_UNTRACKED */
};


struct gen_state {
	struct gen_params p;
	struct gc_env env;
	struct gen_obj *objs;   /* the side array, by slot (the heap moves it) */
	uint64_t count[NGEN];
	uint64_t long_lived_pending, long_lived_total;
	uint32_t head[GEN_LISTS], tail[GEN_LISTS];
	uint64_t size[GEN_LISTS];
	int pending;            /* a deferred collection is scheduled */
	int seen_safepoint;     /* the trace has had an `s` */
	int collecting;
	uint64_t last_mutator_ns;
	struct gctypes tk;      /* how the collector sees each type */
	/* Scratch arrays reused by every collection, grown by doubling. */
	uint32_t *stack;        /* move_unreachable's to-do stack */
	size_t stack_cap;
	uint32_t *members;      /* the collected list's slots, in list order */
	size_t members_cap;
	uint32_t *garbage;      /* the unreachable ones, in list order */
	size_t garbage_cap;
	uint64_t collections[NGEN], collected[NGEN];
	uint64_t examined, traversed, freed;
	struct pause_log log;
};

static int gen_validate(const void *params, char *msg, size_t msglen)
{
	const struct gen_params *p = params;

	if (gctypes_validate(&p->types, msg, msglen))
		return -1;
	if (p->untrack_dicts < UNTRACK_NEVER || p->untrack_dicts > UNTRACK_EVERY) {
		snprintf(msg, msglen, "untrack_dicts: not one of never, full, every");
		return -1;
	}
	return 0;
}

static int gen_sees(void *state, uint32_t type)
{
	struct gen_state *s = state;

	return gctypes_sees(&s->tk, type);
}

/* ---- generation lists ---------------------------------------------- */

/* The heap's core of an object, and the collector's own state of it. */
static struct heap_obj *obj(const struct gen_state *s, uint32_t slot)
{
	return heap_obj(s->env.heap, slot);
}

static struct gen_obj *gobj(const struct gen_state *s, uint32_t slot)
{
	return &s->objs[slot];
}

static void list_append(struct gen_state *s, uint32_t list, uint32_t slot)
{
	struct gen_obj *o = gobj(s, slot);

	o->gen = (uint8_t)list;
	o->prev = s->tail[list];
	o->next = HEAP_NONE;
	if (s->tail[list] == HEAP_NONE)
		s->head[list] = slot;
	else
		gobj(s, s->tail[list])->next = slot;
	s->tail[list] = slot;
	s->size[list]++;
}

static void list_unlink(struct gen_state *s, uint32_t slot)
{
	struct gen_obj *o = gobj(s, slot);
	uint32_t list = o->gen;

	if (o->prev == HEAP_NONE)
		s->head[list] = o->next;
	else
		gobj(s, o->prev)->next = o->next;
	if (o->next == HEAP_NONE)
		s->tail[list] = o->prev;
	else
		gobj(s, o->next)->prev = o->prev;
	o->prev = o->next = HEAP_NONE;
	o->gen = GEN_UNTRACKED;
	s->size[list]--;
}

/* Appends list `from` to list `to` in O(1) (gc_list_merge). The moved
 * members keep their gen: relabelling them needs a walk of the list,
 * and gather() relabels them in the walk a collection makes anyway. */
static void list_splice(struct gen_state *s, uint32_t from, uint32_t to)
{
	if (s->head[from] == HEAP_NONE)
		return;
	if (s->tail[to] == HEAP_NONE) {
		s->head[to] = s->head[from];
	} else {
		gobj(s, s->tail[to])->next = s->head[from];
		gobj(s, s->head[from])->prev = s->tail[to];
	}
	s->tail[to] = s->tail[from];
	s->size[to] += s->size[from];
	s->head[from] = s->tail[from] = HEAP_NONE;
	s->size[from] = 0;
}

/* ---- scratch arrays ------------------------------------------------ */

/*
 * A collection walks its generation's list once (gather) and runs every
 * later pass over the array of the members' slots, in list order. The
 * members are 64-byte lines at random places of the slot array, and
 * following gc_next makes each miss wait for the previous one; over the
 * array the next lines can be requested early: PREFETCH_AHEAD entries
 * ahead (a miss costs ~100 ns, an entry a few ns, so about that many
 * misses are in flight, and 16 lines stay well inside L1).
 */
#define PREFETCH_AHEAD 16
/* gather() counts a member this many steps of its walk after reaching it
 * (each step is a miss, ~100 ns: enough for the referents to arrive),
 * and prefetches up to GATHER_VEC_MAX referents held in a vector. */
#define GATHER_LAG 4
#define GATHER_VEC_MAX 8

/* Makes *v hold at least `need` entries (and never NULL). */
static void reserve(uint32_t **v, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 256;

	if (*v && need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*v = xreallocarray(*v, c, sizeof **v);
	*cap = c;
}

static void push(struct gen_state *s, size_t *n, uint32_t slot)
{
	if (*n == s->stack_cap)
		reserve(&s->stack, &s->stack_cap, *n + 1);
	s->stack[(*n)++] = slot;
}

/* Starts loading the core and the collector's state of v[i +
 * PREFETCH_AHEAD] (the state for writing: every pass writes some). */
static void prefetch_member(const struct gen_state *s, const uint32_t *v,
			    size_t n, size_t i)
{
	if (i + PREFETCH_AHEAD < n) {
		__builtin_prefetch(obj(s, v[i + PREFETCH_AHEAD]));
		__builtin_prefetch(gobj(s, v[i + PREFETCH_AHEAD]), 1);
	}
}

/* ---- untracking ---------------------------------------------------- */

/* _PyObject_GC_MAY_BE_TRACKED: a visible object, unless it is a tuple
 * that was untracked. */
static int may_be_tracked(struct gen_state *s, uint32_t slot)
{
	enum gctypes_kind k = gctypes_kind(&s->tk, heap_obj_type(obj(s, slot)));

	if (k == GCTYPES_INVISIBLE)
		return 0;
	return k != GCTYPES_TUPLE || gobj(s, slot)->gen != GEN_UNTRACKED;
}

/* Untracks the survivor if none of its referents may be tracked
 * (_PyTuple_MaybeUntrack, _PyDict_MaybeUntrack). It is in no list at
 * this point (settle emptied it and appends the survivors still
 * tracked), so only its fields change. */
static void maybe_untrack(struct gen_state *s, uint32_t slot)
{
	const struct heap_obj *o = obj(s, slot);
	struct gen_obj *go = gobj(s, slot);
	uint32_t n = heap_obj_nout(o);

	for (uint32_t i = 0; i < n; i++)
		if (may_be_tracked(s, heap_obj_cedges(o)[i]))
			return;
	go->gen = GEN_UNTRACKED;
	go->prev = go->next = HEAP_NONE;
}

/* ---- collection ---------------------------------------------------- */

static uint64_t mutator_now(struct gen_state *s)
{
	return pause_mutator_now(s->env.clock, &s->p.cost, &s->last_mutator_ns);
}

/*
 * update_refs and subtract_refs for one member, fused into the walk: the
 * target lines an edge names load while the walk waits for its next
 * member. The two passes set gc_refs = roots + incoming, then take 1 off
 * per edge from a member; here each member adds its own count and takes
 * 1 off each member it points to, in any order, since gc_refs starts at
 * 0 (gen_check) and the sum is the same. The members are the objects
 * labelled 0..g, relabelled to g yet or not. Returns the edges traversed.
 */
static uint32_t gather_one(struct gen_state *s, uint32_t x, uint32_t g)
{
	const struct heap_obj *o = obj(s, x);
	const uint32_t *e = heap_obj_cedges(o);
	struct gen_obj *go = gobj(s, x);
	uint32_t n = heap_obj_nout(o);

	go->gen = (uint8_t)g;
	go->refs += o->roots + o->incoming;
	for (uint32_t j = 0; j < n; j++) {
		struct gen_obj *d = gobj(s, e[j]);
		if (d->gen <= g)
			d->refs--;
	}
	return n;
}

/* Starts loading what gather_one will read of x: its referents' state,
 * or first the vector holding their slots (then prefetch_vec_referents). */
static void prefetch_edges(const struct gen_state *s, uint32_t x)
{
	const struct heap_obj *o = obj(s, x);
	uint32_t n = o->tf & HEAP_TF_NOUT;

	if (n == HEAP_TF_VEC) {
		__builtin_prefetch(o->out.vec);
		return;
	}
	for (uint32_t j = 0; j < n; j++)
		__builtin_prefetch(gobj(s, o->out.inl[j]), 1);
}

static void prefetch_vec_referents(const struct gen_state *s, uint32_t x)
{
	const struct heap_obj *o = obj(s, x);

	if ((o->tf & HEAP_TF_NOUT) == HEAP_TF_VEC) {
		uint32_t n = heap_obj_nout(o);
		uint32_t m = n < GATHER_VEC_MAX ? n : GATHER_VEC_MAX;
		const uint32_t *e = heap_obj_cedges(o);

		for (uint32_t j = 0; j < m; j++)
			__builtin_prefetch(gobj(s, e[j]), 1);
	}
}

/* One step of gather's pipeline on one side: v[fresh] has just arrived,
 * v[mid] came GATHER_LAG / 2 steps ago, v[due] GATHER_LAG steps ago
 * (SIZE_MAX: none yet). Returns the edges traversed. */
static uint32_t gather_step(struct gen_state *s, uint32_t g, size_t fresh,
			    size_t mid, size_t due)
{
	const uint32_t *v = s->members;

	prefetch_edges(s, v[fresh]);
	if (mid != SIZE_MAX)
		prefetch_vec_referents(s, v[mid]);
	return due != SIZE_MAX ? gather_one(s, v[due], g) : 0;
}

/*
 * Splices generations 0..g-1 onto g and gathers g's members into
 * s->members in list order, counting their references (gather_one) on
 * the way: the one walk of the list per collection. Each step of a walk
 * waits for the line the previous one loaded, so it walks from both ends
 * at once (gc_next from the head, gc_prev from the tail), two chains of
 * misses in flight instead of one, meeting at the size the list keeps;
 * and a member is counted GATHER_LAG steps after it arrived, when the
 * lines of its referents, prefetched on arrival, have arrived too.
 * Returns the number of members; adds the edges traversed to *traversed.
 */
static size_t gather(struct gen_state *s, uint32_t g, uint64_t *traversed)
{
	uint32_t f, b;
	size_t n, lo = 0, hi, k;

	for (uint32_t i = 0; i < g; i++)
		list_splice(s, i, g);
	n = hi = (size_t)s->size[g];
	reserve(&s->members, &s->members_cap, n);
	f = s->head[g];
	b = s->tail[g];
	/* members[0..lo) and [hi..n) have arrived; the first and last
	 * k of them are counted (both sides move in step) */
	for (k = 0; hi - lo >= 2 && f != HEAP_NONE && b != HEAP_NONE;) {
		int late = lo >= GATHER_LAG, half = lo >= GATHER_LAG / 2;

		s->members[lo] = f;
		s->members[--hi] = b;
		/* the member's core too: gather_one reads its counts */
		__builtin_prefetch(obj(s, f));
		__builtin_prefetch(obj(s, b));
		f = gobj(s, f)->next;
		b = gobj(s, b)->prev;
		*traversed += gather_step(s, g, lo, half ? lo - GATHER_LAG / 2 : SIZE_MAX,
					  late ? k : SIZE_MAX);
		*traversed += gather_step(s, g, hi, half ? hi + GATHER_LAG / 2 : SIZE_MAX,
					  late ? n - 1 - k : SIZE_MAX);
		k += (size_t)late;
		lo++;
	}
	if (hi - lo == 1 && f != HEAP_NONE)
		s->members[lo++] = f;
	for (size_t i = k; i < lo; i++)
		*traversed += gather_one(s, s->members[i], g);
	for (size_t i = hi; i < n - k; i++)
		*traversed += gather_one(s, s->members[i], g);
	if (lo < hi) {          /* a list shorter than its size: gen_check's bug */
		memmove(s->members + lo, s->members + hi, (n - hi) * sizeof *s->members);
		n -= hi - lo;
	}
	return n;
}

/* move_unreachable's marking: members with gc_refs > 0 (referenced from
 * outside) and all they reach through members get REFS_REACHED; the
 * others 0 (also those below 0, see REFS_MAX). Returns the edges
 * traversed (those of each reachable member, once). */
static uint64_t mark_reachable(struct gen_state *s, uint32_t g, size_t n)
{
	uint64_t traversed = 0;
	size_t sp = 0;

	for (size_t i = 0; i < n; i++) {
		struct gen_obj *go;

		prefetch_member(s, s->members, n, i);
		go = gobj(s, s->members[i]);
		if (go->refs >= 1 && go->refs <= REFS_MAX) {
			go->refs = REFS_REACHED;
			push(s, &sp, s->members[i]);
		} else {
			go->refs = 0;
		}
	}
	while (sp > 0) {
		const struct heap_obj *o = obj(s, s->stack[--sp]);
		uint32_t no = heap_obj_nout(o);

		for (uint32_t i = 0; i < no; i++) {
			uint32_t y = heap_obj_cedges(o)[i];
			struct gen_obj *d = gobj(s, y);
			traversed++;
			if (d->gen == g && d->refs != REFS_REACHED) {
				d->refs = REFS_REACHED;
				push(s, &sp, y);
			}
		}
	}
	return traversed;
}

/*
 * One pass over members[0..n) in list order once marking is done. A
 * member not marked reachable goes to list GEN_UNREACH and
 * s->garbage[*ndead]. A survivor of kind k is untracked if none of its
 * referents may be tracked (maybe_untrack; GCTYPES_UNKNOWN: none are); then,
 * with `join`, the survivors still tracked are appended to generation
 * `old` (gc_list_merge, or for a full collection the rebuilt list), else
 * kept, compacted, in members[] for the next pass. Members leaving the
 * array get gc_refs 0; kept ones stay REFS_REACHED, so a second pass
 * finds no garbage.
 *
 * The collector's separate steps (move the unreachable, untrack tuples,
 * untrack dicts, merge) run in one or two passes: a member's verdict
 * reads only its referents' types and whether they are untracked, which
 * the unreachable (none is a survivor's referent) and joining (gen
 * stays tracked) do not change, and untracking goes in list order as
 * the separate steps do (a tuple holding a tuple untracked later in the
 * pass stays tracked, as in CPython). Only dicts need a pass of their own, after all
 * tuples (a dict's verdict reads the tuples after it). Returns the
 * number of survivors joined or kept.
 */
static size_t sweep(struct gen_state *s, uint32_t g, uint32_t old, size_t n,
		    enum gctypes_kind k, int join, size_t *ndead)
{
	uint32_t *v = s->members;
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t x = v[i];
		struct gen_obj *o;

		prefetch_member(s, v, n, i);    /* v[i + 16]: not yet overwritten */
		o = gobj(s, x);
		if (o->refs != REFS_REACHED) {
			o->refs = 0;
			list_append(s, GEN_UNREACH, x);
			s->garbage[(*ndead)++] = x;
			continue;
		}
		if (k != GCTYPES_UNKNOWN && gctypes_kind(&s->tk, heap_obj_type(obj(s, x))) == k)
			maybe_untrack(s, x);
		if (o->gen != g) {      /* untracked just now */
			o->refs = 0;
		} else if (join) {
			o->refs = 0;
			list_append(s, old, x);
			kept++;
		} else {
			v[kept++] = x;
		}
	}
	return kept;
}

/* Separates garbage from survivors, untracks survivors, promotes the
 * rest (sweep). List g is emptied first: its survivors are appended
 * again, so no pass unlinks a member from list neighbours (more random
 * lines). Returns the survivors still tracked; *ndead the garbage. */
static uint64_t settle(struct gen_state *s, uint32_t g, uint32_t old, size_t n,
		       size_t *ndead)
{
	enum gctypes_kind tuples = s->p.untrack_tuples ? GCTYPES_TUPLE : GCTYPES_UNKNOWN;
	int dicts = s->p.untrack_dicts == UNTRACK_EVERY ||
		(old == g && s->p.untrack_dicts == UNTRACK_FULL);

	reserve(&s->garbage, &s->garbage_cap, n);
	*ndead = 0;
	s->head[g] = s->tail[g] = HEAP_NONE;
	s->size[g] = 0;
	if (!dicts)
		return sweep(s, g, old, n, tuples, 1, ndead);
	n = sweep(s, g, old, n, tuples, 0, ndead);
	return sweep(s, g, old, n, GCTYPES_DICT, 1, ndead);
}

/* Collects generation g (and the younger ones): step 4 of the header. */
static void collect_gen(struct gen_state *s, uint32_t g, int explicit_)
{
	struct gc_pause pause = { 0 };
	uint64_t examined, traversed, nunreach, freed, survivors;
	uint32_t old = g + 1 < NGEN ? g + 1 : g;
	size_t dead;

	s->collecting = 1;
	pause.event = s->env.clock ? s->env.clock->event : 0;
	pause.start_ns = mutator_now(s) + s->log.total_ns;
	pause.generation = g;
	pause.explicit_ = (uint32_t)explicit_;

	if (g + 1 < NGEN)
		s->count[g + 1]++;
	for (uint32_t i = 0; i <= g; i++)
		s->count[i] = 0;
	traversed = 0;
	examined = gather(s, g, &traversed);
	traversed += mark_reachable(s, g, (size_t)examined);
	survivors = settle(s, g, old, (size_t)examined, &dead);
	nunreach = dead;
	if (old != g) {         /* the 25% rule's bookkeeping */
		if (g == NGEN - 2)
			s->long_lived_pending += survivors;
	} else {
		s->long_lived_pending = 0;
		s->long_lived_total = survivors;
	}

	/* delete_garbage: each death comes back through gen_on_free */
	freed = heap_release(s->env.heap, s->garbage, dead);
	/* Anything still live was not garbage after all (it cannot happen
	 * with a consistent heap); keep it like CPython keeps resurrected
	 * objects, in the older generation. */
	while (s->head[GEN_UNREACH] != HEAP_NONE) {
		uint32_t x = s->head[GEN_UNREACH];
		list_unlink(s, x);
		list_append(s, old, x);
		nunreach--;
	}
	if (g == NGEN - 1 && s->p.clear_freelists && s->env.clear_freelists)
		s->env.clear_freelists(s->env.ctx);

	pause.examined = examined;
	pause.traversed = traversed;
	pause.unreachable = nunreach;
	pause.freed = freed;
	pause.pause_ns = pause_costs_ns(&s->p.cost, examined, traversed, 1);
	pause.stw_ns = pause.pause_ns;  /* the GIL is held throughout */
	pause_log_add(&s->log, &pause);
	s->collections[g]++;
	s->collected[g] += nunreach;
	s->examined += examined;
	s->traversed += traversed;
	s->freed += freed;
	s->collecting = 0;
}

/* collect_generations / gc_select_generation: step 3. */
static void collect_auto(struct gen_state *s)
{
	const uint64_t th[NGEN] = { s->p.threshold0, s->p.threshold1, s->p.threshold2 };

	for (int i = NGEN - 1; i >= 0; i--) {
		if (s->count[i] > th[i]) {
			if (i == NGEN - 1 && s->p.full_collection_rule &&
			    s->long_lived_pending < s->long_lived_total / 4)
				continue;
			collect_gen(s, (uint32_t)i, 0);
			return;
		}
	}
}

/* ---- hooks --------------------------------------------------------- */

static void gen_on_alloc(void *state, uint32_t slot, int from_allocator)
{
	struct gen_state *s = state;
	struct gen_obj *o = gobj(s, slot);

	o->prev = o->next = HEAP_NONE;
	o->refs = 0;
	o->gen = GEN_UNTRACKED;         /* not yet in generation 0 */
	if (gctypes_kind(&s->tk, heap_obj_type(obj(s, slot))) == GCTYPES_INVISIBLE)
		return;
	if (s->pending && !s->seen_safepoint && !s->collecting) {
		/* trace-format.md: without safe points, deferred work runs
		 * before the next collector-visible allocation */
		s->pending = 0;
		collect_auto(s);
	}
	if (from_allocator) {
		s->count[0]++;
		if (s->count[0] > s->p.threshold0 && s->p.threshold0 != 0 &&
		    !s->collecting) {
			if (s->p.deferred)
				s->pending = 1;
			else
				collect_auto(s);
		}
	}
	list_append(s, 0, slot);
}

static void gen_on_free(void *state, uint32_t slot, int to_allocator)
{
	struct gen_state *s = state;

	if (gobj(s, slot)->gen != GEN_UNTRACKED)
		list_unlink(s, slot);
	if (to_allocator && s->count[0] > 0 &&
	    gctypes_kind(&s->tk, heap_obj_type(obj(s, slot))) != GCTYPES_INVISIBLE)
		s->count[0]--;
}

static void gen_on_ref(void *state, uint32_t src, uint32_t dst, int delta)
{
	struct gen_state *s = state;

	if (delta <= 0 || src == HEAP_NONE || s->collecting)
		return;
	/* A container a collection untracked is tracked again when it gains
	 * a trackable referent (dicts: MAINTAIN_TRACKING in dictobject.c;
	 * CPython never adds items to an existing tuple). It joins
	 * generation 0; the count does not move (_PyObject_GC_TRACK). */
	if (gobj(s, src)->gen == GEN_UNTRACKED &&
	    gctypes_kind(&s->tk, heap_obj_type(obj(s, src))) != GCTYPES_INVISIBLE &&
	    may_be_tracked(s, dst))
		list_append(s, 0, src);
}

static void gen_safepoint(void *state)
{
	struct gen_state *s = state;

	s->seen_safepoint = 1;
	if (s->pending && !s->collecting) {
		s->pending = 0;
		collect_auto(s);        /* _Py_RunGC re-selects the generation */
	}
}

static int gen_collect(void *state, uint64_t gen, struct ms_error *err)
{
	struct gen_state *s = state;

	if (gen == EVENT_GEN_DEFAULT)
		gen = NGEN - 1;
	if (gen >= NGEN)
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "collection of generation %llu: the collector has generations 0..%d",
				    (unsigned long long)gen, NGEN - 1);
	if (!s->collecting)
		collect_gen(s, (uint32_t)gen, 1);
	return 0;
}

/* ---- life cycle, statistics, check --------------------------------- */

/* The heap's hint that the object may die soon: gen_on_free will unlink
 * it, writing its list neighbours. */
static void gen_dying(void *ctx, uint32_t slot)
{
	const struct gen_state *s = ctx;
	const struct gen_obj *o = gobj(s, slot);

	if (o->gen == GEN_UNTRACKED)
		return;
	if (o->prev != HEAP_NONE)
		__builtin_prefetch(gobj(s, o->prev), 1);
	if (o->next != HEAP_NONE)
		__builtin_prefetch(gobj(s, o->next), 1);
}

static void *gen_create(const void *params, const struct gc_env *env)
{
	struct gen_state *s = xcalloc(1, sizeof *s);

	s->p = *(const struct gen_params *)params;
	s->env = *env;
	gctypes_init(&s->tk, &s->p.types, env->types);
	heap_side_add(env->heap, sizeof *s->objs, (void **)&s->objs, gen_dying, s);
	for (uint32_t i = 0; i < GEN_LISTS; i++)
		s->head[i] = s->tail[i] = HEAP_NONE;
	pause_log_init(&s->log);
	return s;
}

static void gen_destroy(void *state)
{
	struct gen_state *s = state;

	if (!s)
		return;
	pause_log_free(&s->log);
	gctypes_free(&s->tk);
	free(s->stack);
	free(s->members);
	free(s->garbage);
	free(s);
}

static void gen_stats(void *state, struct gc_stats *out)
{
	struct gen_state *s = state;

	*out = (struct gc_stats){0};
	out->generations = NGEN;
	for (int i = 0; i < NGEN; i++) {
		out->collections[i] = s->collections[i];
		out->collected[i] = s->collected[i];
		out->count[i] = s->count[i];
	}
	out->examined = s->examined;
	out->traversed = s->traversed;
	out->freed = s->freed;
	out->tracked = s->size[0] + s->size[1] + s->size[2];
	pause_summary(&s->log, mutator_now(s), out);
}

static const struct gc_pause *gen_pauses(void *state, size_t *n)
{
	struct gen_state *s = state;

	*n = s->log.n;
	return s->log.v;
}

static int gen_check(void *state, char *msg, size_t msglen)
{
	struct gen_state *s = state;

	for (uint32_t g = 0; g < GEN_LISTS; g++) {
		uint64_t n = 0;
		uint32_t prev = HEAP_NONE;

		for (uint32_t x = s->head[g]; x != HEAP_NONE; x = gobj(s, x)->next) {
			const struct gen_obj *o = gobj(s, x);
			/* gc_refs is 0 between collections: gather_one adds to it */
			if (x >= heap_slot_limit(s->env.heap) || !heap_obj_live(obj(s, x)) ||
			    o->gen != g || o->prev != prev || o->refs != 0) {
				snprintf(msg, msglen, "generation list %u is broken at slot %u",
					 g, x);
				return -1;
			}
			prev = x;
			if (++n > s->size[g])
				break;
		}
		if (n != s->size[g] || s->tail[g] != prev) {
			snprintf(msg, msglen, "generation list %u: %llu objects linked, size says %llu",
				 g, (unsigned long long)n, (unsigned long long)s->size[g]);
			return -1;
		}
	}
	if (s->size[GEN_UNREACH] != 0) {
		snprintf(msg, msglen, "unreachable list not empty outside a collection");
		return -1;
	}
	return 0;
}

static int gen_generation(void *state, uint32_t slot)
{
	const struct gen_obj *o = gobj(state, slot);

	return o->gen < NGEN ? o->gen : -1;
}

const struct gc_policy gc_generational = {
	.name = "generational",
	.summary = "CPython's three-generation cycle collector (gcmodule.c, gc.c)",
	.knobs = gen_knobs,
	.nknobs = sizeof gen_knobs / sizeof gen_knobs[0],
	.params_size = sizeof(struct gen_params),
	.defaults = &gen_defaults,
	.validate = gen_validate,
	.create = gen_create,
	.destroy = gen_destroy,
	.on_alloc = gen_on_alloc,
	.on_free = gen_on_free,
	.on_ref = gen_on_ref,
	.safepoint = gen_safepoint,
	.collect = gen_collect,
	.stats = gen_stats,
	.pauses = gen_pauses,
	.check = gen_check,
	.sees = gen_sees,
	.generation = gen_generation,
};
