/*
 * gc_freethreaded.c - CPython 3.13t's non-generational cycle collector.
 *
 * Modelled on Python/gc_free_threading.c of CPython 3.13 (the free-
 * threaded build, one thread), as the search tools store it from the 3.13
 * branch before gh-125859 (3.13.1), with the installed headers of 3.13.0
 * (Include/internal/pycore_gc.h: the ob_gc_bits; pycore_freelist.h: the
 * per-thread free lists it clears). docs/gc.md has the long version and
 * what tests/cpython/gc_reference.py (a second reading) verifies.
 *
 * 1. Counting (record_allocation, record_deallocation). A visible object
 *    served by the allocator adds 1 to the thread's alloc_count, one
 *    returned to it subtracts 1; when alloc_count reaches +512 or -512
 *    (LOCAL_ALLOC_COUNT_THRESHOLD) it is added to generations[0].count
 *    and reset. Free-list traffic moves neither.
 * 2. The skip rule (gc_should_collect): count > threshold0 (2000,
 *    threshold0 != 0) and count > long_lived_total / 4 (or threshold1 ==
 *    0). It is tested at each +512 flush, which then schedules a
 *    collection (run at the next safe point `s`; in a trace without any,
 *    before the next visible allocation), and again when the scheduled
 *    collection starts (_Py_RunGC -> gc_collect_main with reason HEAP),
 *    which does nothing when it fails. `c [GEN]` always collects.
 * 3. A collection (gc_collect_main, gc_collect_internal): count = 0 (and
 *    generations[gen + 1].count += 1). There are no generations: every
 *    tracked object of the heap is examined. The world is stopped; the
 *    heap walk (update_refs, in mimalloc block order: here, creation
 *    order) untracks tuples and dicts that hold nothing trackable, then
 *    gc_refs = refcount minus the references from other tracked objects;
 *    the mark walk makes everything reachable from an object with gc_refs
 *    > 0 reachable; the scan walk pushes the rest on a worklist (a stack)
 *    and counts the survivors: long_lived_total. The world starts
 *    (finalizers would run here), stops again for the resurrection check
 *    (a traversal of each unreachable object) and the clearing of the
 *    free lists, and starts again for delete_garbage, which pops the
 *    worklist (the last found first) and releases each object
 *    (heap_release: tp_clear, cascades). The thread's free lists are
 *    cleared once more at the end.
 * 4. Re-tracking. A dict (or tuple) a collection untracked is tracked
 *    again when it gains a referent that may be tracked (MAINTAIN_TRACKING
 *    in Objects/dictobject.c); it keeps its place in the walk.
 * 5. Cost, as phases. stw1 = cost_fixed_ns + cost_object_ns x examined +
 *    cost_ref_ns x (edges of every member + edges of every reachable
 *    member); stw2 = cost_ref_ns x edges of the unreachable; the running
 *    phase (tp_clear, deallocation) = cost_object_ns x unreachable.
 *    pause_ns is their sum (the program's one thread does all of it);
 *    stw_ns = stw1 + stw2, what other threads would wait for.
 *
 * Invariants (ft_check): the walk list holds every live visible object
 * in creation order, linked both ways; no unreachable bit outside a
 * collection; the tracked count is right.
 *
 * Not modelled: more than one thread (biased reference counting's merge
 * queue, per-thread counts), QSBR delayed frees, deferred reference
 * counting, immortalisation, finalizers, weak references, legacy
 * finalizers, gc.freeze, the GC's own object-stack chunks
 * (pycore_object_stack.h: up to 4 of 2 KiB kept per thread, from the raw
 * allocator). A free-threaded PyObject header is 16 bytes larger than
 * the default build's and GC objects lose their 16-byte PyGC_Head: a
 * trace recorded on the default build keeps its sizes (docs/gc.md).
 */
#include "gc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gctypes.h"
#include "pause.h"
#include "xalloc.h"

#define FT_LOCAL_COUNT 512      /* LOCAL_ALLOC_COUNT_THRESHOLD: objects */

/* ft_obj.flags: _PyGC_BITS_TRACKED, _PyGC_BITS_UNREACHABLE, and whether
 * the object is in the walk list (a visible type). */
#define F_LISTED 0x01u
#define F_TRACKED 0x02u
#define F_UNREACH 0x04u

struct ft_params {
	uint64_t threshold0;            /* generations[0].threshold: objects */
	uint64_t threshold1;            /* generations[1].threshold: 0 turns
	                                 * the long_lived_total / 4 test off */
	int clear_freelists;            /* bool: every collection clears them */
	struct pause_costs cost;
	struct gctypes_params types;
};

#define P_(f) offsetof(struct ft_params, f)
static const struct knob ft_knobs[] = {
	{ .name = "threshold0", .kind = KNOB_UINT, .offset = P_(threshold0),
	  .min = 0, .max = UINT32_MAX, .unit = "objects",
	  .doc = "count (allocations minus deallocations, flushed by 512) above which a collection is due (0: never automatically)" },
	{ .name = "threshold1", .kind = KNOB_UINT, .offset = P_(threshold1),
	  .min = 0, .max = UINT32_MAX,
	  .doc = "0 drops the other half of the skip rule, count > long_lived_total / 4" },
	{ .name = "clear_freelists", .kind = KNOB_BOOL, .offset = P_(clear_freelists),
	  .doc = "every collection empties the (per-thread) type free lists" },
	GCTYPES_KNOB_OTHER(P_(types)),
	PAUSE_COST_KNOBS(P_(cost)),
	GCTYPES_KNOB_LISTS(P_(types)),
};
#undef P_

/* CPython 3.13t: _PyGC_InitState sets threshold 2000; generations[1] 10
 * (pycore_runtime_init.h 3.13.0). */
static const struct ft_params ft_defaults = {
	.threshold0 = 2000,
	.threshold1 = 10,
	.clear_freelists = 1,
	.cost = PAUSE_COSTS_CPYTHON_3_13,
	.types = GCTYPES_PARAMS_DEFAULT,
};

/*
 * The collector's state of each object, in a heap side array (gc.h,
 * "Per-object state"): the walk list's links, gc_refs (CPython keeps it
 * in ob_tid during a collection) and the ob_gc_bits it uses. Written by
 * ft_on_alloc for every object.
 */
struct ft_obj {
	uint32_t prev, next;    /* the walk list (slots; HEAP_NONE ends) */
	int32_t refs;           /* gc_refs, valid while F_UNREACH is set */
	uint8_t flags;          /* F_* */
};

struct ft_state {
	struct ft_params p;
	struct gc_env env;
	struct gctypes tk;
	struct ft_obj *objs;    /* the side array, by slot (the heap moves it) */
	uint32_t head, tail;    /* the walk list: visible objects, creation order */
	int64_t count;          /* generations[0].count */
	int64_t alloc_count;    /* the thread's buffered count */
	uint64_t gen_count[3];  /* generations[1..2].count ([0] unused) */
	uint64_t long_lived_total;
	int pending;            /* a collection is scheduled */
	int seen_safepoint;     /* the trace has had an `s` */
	int collecting;
	uint64_t tracked;
	uint64_t last_mutator_ns;
	uint32_t *members;      /* scratch: tracked objects in walk order */
	size_t members_cap;
	uint32_t *stack;        /* scratch: mark_reachable's stack, then the
	                         * worklist of the unreachable */
	size_t stack_cap;
	uint64_t collections[3], collected[3];
	uint64_t examined, traversed, freed;
	struct pause_log log;
};

/* ---- objects --------------------------------------------------------- */

static struct heap_obj *obj(const struct ft_state *s, uint32_t slot)
{
	return heap_obj(s->env.heap, slot);
}

static enum gctypes_kind kind_of(struct ft_state *s, uint32_t x)
{
	return gctypes_kind(&s->tk, heap_obj_type(obj(s, x)));
}

static int is_tracked(const struct ft_state *s, uint32_t x)
{
	return (s->objs[x].flags & F_TRACKED) != 0;
}

/* _PyObject_GC_MAY_BE_TRACKED. */
static int may_be_tracked(struct ft_state *s, uint32_t x)
{
	enum gctypes_kind k = kind_of(s, x);

	return k != GCTYPES_INVISIBLE && (k != GCTYPES_TUPLE || is_tracked(s, x));
}

/* _PyTuple_MaybeUntrack / _PyDict_MaybeUntrack's test: nothing it refers
 * to may be tracked. */
static int holds_nothing_trackable(struct ft_state *s, uint32_t x)
{
	const struct heap_obj *o = obj(s, x);
	const uint32_t *e = heap_obj_cedges(o);
	uint32_t n = heap_obj_nout(o);

	for (uint32_t i = 0; i < n; i++)
		if (may_be_tracked(s, e[i]))
			return 0;
	return 1;
}

static void walk_append(struct ft_state *s, uint32_t x)
{
	struct ft_obj *o = &s->objs[x];

	o->prev = s->tail;
	o->next = HEAP_NONE;
	if (s->tail == HEAP_NONE)
		s->head = x;
	else
		s->objs[s->tail].next = x;
	s->tail = x;
}

static void walk_unlink(struct ft_state *s, uint32_t x)
{
	struct ft_obj *o = &s->objs[x];

	if (o->prev == HEAP_NONE)
		s->head = o->next;
	else
		s->objs[o->prev].next = o->next;
	if (o->next == HEAP_NONE)
		s->tail = o->prev;
	else
		s->objs[o->next].prev = o->prev;
	o->prev = o->next = HEAP_NONE;
}

/* Makes v hold at least `need` entries. */
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

/* ---- scheduling ------------------------------------------------------ */

static int should_collect(const struct ft_state *s)
{
	if (s->count <= (int64_t)s->p.threshold0 || s->p.threshold0 == 0)
		return 0;
	return s->count > (int64_t)(s->long_lived_total / 4) || s->p.threshold1 == 0;
}

static void record_allocation(struct ft_state *s)
{
	if (++s->alloc_count >= FT_LOCAL_COUNT) {
		s->count += s->alloc_count;
		s->alloc_count = 0;
		if (should_collect(s) && !s->collecting)
			s->pending = 1;         /* _Py_ScheduleGC */
	}
}

static void record_deallocation(struct ft_state *s)
{
	if (--s->alloc_count <= -FT_LOCAL_COUNT) {
		s->count += s->alloc_count;
		s->alloc_count = 0;
	}
}

/* ---- a collection ---------------------------------------------------- */

static uint64_t mutator_now(struct ft_state *s)
{
	return pause_mutator_now(s->env.clock, &s->p.cost, &s->last_mutator_ns);
}

/* gc_maybe_init_refs: the first visit of a collection sets the
 * unreachable bit and gc_refs 0. */
static void init_refs(struct ft_obj *o)
{
	if (!(o->flags & F_UNREACH)) {
		o->flags |= F_UNREACH;
		o->refs = 0;
	}
}

/* update_refs over the walk list: untracks tuples and dicts holding
 * nothing trackable as it meets them, counts references, and gathers the
 * tracked rest in s->members in walk order. Returns their number; adds
 * the edges traversed to *traversed. */
static size_t update_refs(struct ft_state *s, uint64_t *traversed)
{
	size_t n = 0;

	reserve(&s->members, &s->members_cap, (size_t)s->tracked);
	for (uint32_t x = s->head; x != HEAP_NONE; x = s->objs[x].next) {
		struct ft_obj *g = &s->objs[x];
		enum gctypes_kind k;
		const struct heap_obj *o;
		const uint32_t *e;
		uint32_t ne;
		uint64_t rc;

		if (!(g->flags & F_TRACKED))
			continue;
		k = kind_of(s, x);
		if ((k == GCTYPES_TUPLE || k == GCTYPES_DICT) && holds_nothing_trackable(s, x)) {
			g->flags &= (uint8_t)~(F_TRACKED | F_UNREACH);  /* gc_restore_refs */
			s->tracked--;
			continue;
		}
		o = obj(s, x);
		init_refs(g);
		/* saturates beyond 2^31 - 1 references (no trace comes near) */
		rc = (uint64_t)((int64_t)g->refs + (int64_t)heap_obj_refcount(o));
		g->refs = (int64_t)rc > INT32_MAX ? INT32_MAX : (int32_t)(int64_t)rc;
		e = heap_obj_cedges(o);
		ne = heap_obj_nout(o);
		*traversed += ne;
		for (uint32_t i = 0; i < ne; i++) {
			struct ft_obj *d = &s->objs[e[i]];

			if (d->flags & F_TRACKED) {     /* visit_decref */
				init_refs(d);
				d->refs--;
			}
		}
		s->members[n++] = x;
	}
	return n;
}

static void push(struct ft_state *s, size_t *sp, uint32_t x)
{
	if (*sp == s->stack_cap)
		reserve(&s->stack, &s->stack_cap, *sp + 1);
	s->stack[(*sp)++] = x;
}

/* mark_heap_visitor + mark_reachable: from each member still marked
 * unreachable with gc_refs != 0, clears the bit on everything it
 * reaches. Returns the edges traversed. */
static uint64_t mark_heap(struct ft_state *s, size_t n)
{
	uint64_t traversed = 0;

	for (size_t i = 0; i < n; i++) {
		struct ft_obj *g = &s->objs[s->members[i]];
		size_t sp = 0;

		if (!(g->flags & F_UNREACH) || g->refs == 0)
			continue;
		g->flags &= (uint8_t)~F_UNREACH;
		push(s, &sp, s->members[i]);
		while (sp > 0) {
			const struct heap_obj *o = obj(s, s->stack[--sp]);
			const uint32_t *e = heap_obj_cedges(o);
			uint32_t ne = heap_obj_nout(o);

			traversed += ne;
			for (uint32_t j = 0; j < ne; j++) {
				struct ft_obj *d = &s->objs[e[j]];

				if (d->flags & F_UNREACH) {     /* visit_clear_unreachable */
					d->flags &= (uint8_t)~F_UNREACH;
					push(s, &sp, e[j]);
				}
			}
		}
	}
	return traversed;
}

/* scan_heap_visitor: the unreachable members go on the worklist, which
 * delete_garbage pops last first, so s->stack gets them in pop order;
 * the rest are long_lived_total. Clears the bits. Returns the number
 * unreachable; *edges gets their edges (the resurrection check's
 * traversal). */
static size_t scan_heap(struct ft_state *s, size_t n, uint64_t *edges)
{
	size_t ng = 0;

	s->long_lived_total = 0;
	for (size_t i = 0; i < n; i++)
		if (s->objs[s->members[i]].flags & F_UNREACH)
			ng++;
		else
			s->long_lived_total++;
	reserve(&s->stack, &s->stack_cap, ng);
	*edges = 0;
	for (size_t i = n, k = 0; i-- > 0;) {
		uint32_t x = s->members[i];

		if (!(s->objs[x].flags & F_UNREACH))
			continue;
		s->objs[x].flags &= (uint8_t)~F_UNREACH;
		*edges += heap_obj_nout(obj(s, x));
		s->stack[k++] = x;
	}
	return ng;
}

static void clear_freelists(struct ft_state *s)
{
	if (s->p.clear_freelists && s->env.clear_freelists)
		s->env.clear_freelists(s->env.ctx);
}

/* gc_collect_main: step 3 of the header, and its pause. */
static void collect(struct ft_state *s, uint32_t gen, int explicit_)
{
	struct gc_pause pause = { 0 };
	uint64_t trav = 0, gedges, stw1, stw2, run;
	size_t n, ng;

	s->collecting = 1;
	pause.event = s->env.clock ? s->env.clock->event : 0;
	pause.start_ns = mutator_now(s) + s->log.total_ns;
	pause.generation = gen;
	pause.explicit_ = (uint32_t)explicit_;
	if (gen + 1 < 3)
		s->gen_count[gen + 1]++;
	for (uint32_t i = 1; i <= gen && i < 3; i++)
		s->gen_count[i] = 0;
	s->count = 0;

	n = update_refs(s, &trav);
	trav += mark_heap(s, n);
	ng = scan_heap(s, n, &gedges);
	stw1 = pause_costs_ns(&s->p.cost, n, trav, 1);
	stw2 = pause_costs_ns(&s->p.cost, 0, gedges, 0);
	clear_freelists(s);                     /* _PyGC_ClearAllFreeLists */
	pause.freed = heap_release(s->env.heap, s->stack, ng);
	run = pause_costs_ns(&s->p.cost, ng, 0, 0);
	clear_freelists(s);                     /* the thread's, again */

	pause.examined = n;
	pause.traversed = trav + gedges;
	pause.unreachable = ng;
	pause.stw_ns = stw1 + stw2;
	pause.pause_ns = pause.stw_ns + run;
	pause_log_add(&s->log, &pause);
	s->collections[gen]++;
	s->collected[gen] += ng;
	s->examined += n;
	s->traversed += pause.traversed;
	s->freed += pause.freed;
	s->collecting = 0;
}

/* _Py_RunGC: gc_collect_main(0, _Py_GC_REASON_HEAP) re-tests the rule. */
static void run_scheduled(struct ft_state *s)
{
	s->pending = 0;
	if (should_collect(s))
		collect(s, 0, 0);
}

/* ---- hooks ----------------------------------------------------------- */

static void ft_on_alloc(void *state, uint32_t slot, int from_allocator)
{
	struct ft_state *s = state;

	s->objs[slot] = (struct ft_obj){ .prev = HEAP_NONE, .next = HEAP_NONE };
	if (kind_of(s, slot) == GCTYPES_INVISIBLE)
		return;
	/* trace-format.md: without safe points, deferred work runs before
	 * the next collector-visible allocation */
	if (s->pending && !s->seen_safepoint && !s->collecting)
		run_scheduled(s);
	if (from_allocator)
		record_allocation(s);
	s->objs[slot].flags = F_LISTED | F_TRACKED;
	walk_append(s, slot);
	s->tracked++;
}

static void ft_on_free(void *state, uint32_t slot, int to_allocator)
{
	struct ft_state *s = state;
	struct ft_obj *o = &s->objs[slot];

	if (!(o->flags & F_LISTED))
		return;
	walk_unlink(s, slot);
	if (o->flags & F_TRACKED)
		s->tracked--;
	o->flags = 0;
	if (to_allocator)
		record_deallocation(s);         /* PyObject_GC_Del */
}

static void ft_on_ref(void *state, uint32_t src, uint32_t dst, int delta)
{
	struct ft_state *s = state;
	struct ft_obj *o;

	if (delta <= 0 || src == HEAP_NONE || s->collecting)
		return;
	o = &s->objs[src];
	if ((o->flags & F_LISTED) && !(o->flags & F_TRACKED) && may_be_tracked(s, dst)) {
		o->flags |= F_TRACKED;          /* MAINTAIN_TRACKING */
		s->tracked++;
	}
}

static void ft_safepoint(void *state)
{
	struct ft_state *s = state;

	s->seen_safepoint = 1;
	if (s->pending && !s->collecting)
		run_scheduled(s);
}

static int ft_collect(void *state, uint64_t gen, struct ms_error *err)
{
	struct ft_state *s = state;

	if (gen == EVENT_GEN_DEFAULT)
		gen = 2;
	if (gen > 2)
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "collection of generation %llu: the collector has generations 0..2",
				    (unsigned long long)gen);
	if (!s->collecting)
		collect(s, (uint32_t)gen, 1);
	return 0;
}

/* ---- life cycle, statistics, check ----------------------------------- */

static int ft_validate(const void *params, char *msg, size_t msglen)
{
	return gctypes_validate(&((const struct ft_params *)params)->types, msg, msglen);
}

static void *ft_create(const void *params, const struct gc_env *env)
{
	struct ft_state *s = xcalloc(1, sizeof *s);

	s->p = *(const struct ft_params *)params;
	s->env = *env;
	gctypes_init(&s->tk, &s->p.types, env->types);
	heap_side_add(env->heap, sizeof *s->objs, (void **)&s->objs, NULL, NULL);
	s->head = s->tail = HEAP_NONE;
	pause_log_init(&s->log);
	return s;
}

static void ft_destroy(void *state)
{
	struct ft_state *s = state;

	if (!s)
		return;
	pause_log_free(&s->log);
	gctypes_free(&s->tk);
	free(s->members);
	free(s->stack);
	free(s);
}

static void ft_stats(void *state, struct gc_stats *out)
{
	struct ft_state *s = state;

	*out = (struct gc_stats){0};
	out->generations = 3;
	for (int i = 0; i < 3; i++) {
		out->collections[i] = s->collections[i];
		out->collected[i] = s->collected[i];
	}
	/* gc.get_count() flushes the thread's count first */
	out->count[0] = (uint64_t)(s->count + s->alloc_count > 0 ? s->count + s->alloc_count : 0);
	out->count[1] = s->gen_count[1];
	out->count[2] = s->gen_count[2];
	out->examined = s->examined;
	out->traversed = s->traversed;
	out->freed = s->freed;
	out->tracked = s->tracked;
	pause_summary(&s->log, mutator_now(s), out);
}

/* No generations: every collection takes the whole heap. The rows are
 * the collections by gc.collect's argument as gc.get_stats() keeps them
 * (0: the automatic ones and gc.collect(0); 2: gc.collect()), each
 * row's count generations[i].count. */
static size_t ft_spaces(void *state, struct gc_space *out, size_t max)
{
	static const char *const names[3] = { "auto", "collect(1)", "full" };
	struct gc_stats st;

	ft_stats(state, &st);
	return gc_spaces_from_stats(&st, names, out, max);
}

static const struct gc_pause *ft_pauses(void *state, size_t *n)
{
	struct ft_state *s = state;

	*n = s->log.n;
	return s->log.v;
}

static int ft_check(void *state, char *msg, size_t msglen)
{
	struct ft_state *s = state;
	uint64_t n = 0, tracked = 0, live = heap_live_objects(s->env.heap);
	uint32_t prev = HEAP_NONE;

	for (uint32_t x = s->head; x != HEAP_NONE; x = s->objs[x].next) {
		const struct ft_obj *o;

		if (x >= heap_slot_limit(s->env.heap) || !heap_obj_live(obj(s, x)) ||
		    (o = &s->objs[x])->prev != prev || !(o->flags & F_LISTED) ||
		    (o->flags & F_UNREACH) || ++n > live) {
			snprintf(msg, msglen, "freethreaded: walk list broken at slot %u", x);
			return -1;
		}
		tracked += (o->flags & F_TRACKED) != 0;
		prev = x;
	}
	if (s->tail != prev || tracked != s->tracked) {
		snprintf(msg, msglen, "freethreaded: %llu tracked in the walk list, count says %llu",
			 (unsigned long long)tracked, (unsigned long long)s->tracked);
		return -1;
	}
	return 0;
}

static int ft_sees(void *state, uint32_t type)
{
	return gctypes_sees(&((struct ft_state *)state)->tk, type);
}

/* One generation: 0 for a tracked object, -1 otherwise. */
static int ft_generation(void *state, uint32_t slot)
{
	return is_tracked(state, slot) ? 0 : -1;
}

const struct gc_policy gc_freethreaded = {
	.name = "freethreaded",
	.summary = "CPython 3.13t's collector: the whole heap each time, skipped unless the count grew by a quarter",
	.knobs = ft_knobs,
	.nknobs = sizeof ft_knobs / sizeof ft_knobs[0],
	.params_size = sizeof(struct ft_params),
	.defaults = &ft_defaults,
	.validate = ft_validate,
	.create = ft_create,
	.destroy = ft_destroy,
	.on_alloc = ft_on_alloc,
	.on_free = ft_on_free,
	.on_ref = ft_on_ref,
	.safepoint = ft_safepoint,
	.collect = ft_collect,
	.stats = ft_stats,
	.pauses = ft_pauses,
	.check = ft_check,
	.sees = ft_sees,
	.generation = ft_generation,
	.spaces = ft_spaces,
};
