/*
 * test_gc.c - the collector policies (gc_none.c, gc_generational.c) and
 * the pause statistics (pause.c), driven through a small runtime written
 * here: heap + a list free list of 80 (Objects/listobject.c,
 * PyList_MAXFREELIST) + the collector, in the order gc.h prescribes.
 * Every expected value is worked out by hand in the comment beside it,
 * or measured from real CPython (the cycle-churn test).
 */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "heap.h"
#include "pause.h"
#include "test.h"
#include "typetab.h"

/* ---- a minimal runtime ---------------------------------------------- */

struct rt {
	struct heap *h;
	struct typetab *types;
	const struct gc_policy *pol;
	void *gc;
	struct gc_clock clock;
	uint32_t list_type;
	unsigned freelist;      /* lists parked in the free list */
	unsigned freelist_max;  /* 0: no free list */
};

static void rt_on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct rt *r = ctx;
	int to_allocator = 1;

	if (heap_obj_type(heap_obj(h, slot)) == r->list_type && r->freelist < r->freelist_max) {
		r->freelist++;
		to_allocator = 0;
	}
	r->pol->on_free(r->gc, slot, to_allocator);
}

static void rt_on_ref(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int d)
{
	struct rt *r = ctx;

	(void)h;
	if (r->pol->on_ref)
		r->pol->on_ref(r->gc, src, dst, d);
}

static void rt_clear_freelists(void *ctx)
{
	((struct rt *)ctx)->freelist = 0;
}

/* knobs: a params struct to patch before rt_init; NULL for defaults */
static void rt_init(struct rt *r, const struct gc_policy *pol, const void *params,
		    unsigned freelist_max)
{
	struct heap_hooks hooks = { .ctx = r, .on_free = rt_on_free, .on_ref = rt_on_ref };
	struct gc_env env;
	char msg[200];

	memset(r, 0, sizeof *r);
	r->h = heap_create(&hooks);
	r->types = typetab_create();
	r->list_type = typetab_intern(r->types, "list", 4);
	r->pol = pol;
	r->freelist_max = freelist_max;
	env = (struct gc_env){ .heap = r->h, .types = r->types, .clock = &r->clock,
			       .ctx = r, .clear_freelists = rt_clear_freelists };
	if (!params)
		params = pol->defaults;
	CHECK(pol->validate(params, msg, sizeof msg) == 0);
	r->gc = pol->create(params, &env);
}

static void rt_fini(struct rt *r)
{
	char msg[200];

	CHECK(r->pol->check(r->gc, msg, sizeof msg) == 0);
	r->pol->destroy(r->gc);
	heap_destroy(r->h);
	typetab_destroy(r->types);
}

static void rt_event(struct rt *r, struct event *ev)
{
	struct ms_error err;

	ms_error_clear(&err);
	if (heap_apply(r->h, ev, &err) != 0) {
		printf("# heap: %s\n", err.msg);
		test_fail_();
	}
	r->clock.event++;
}

static void rt_alloc(struct rt *r, uint64_t id, uint64_t size, const char *type)
{
	struct event ev = { .kind = EVENT_ALLOC, .id = id, .u.size = size };
	int from_allocator = 1;
	uint32_t slot;

	ev.type = type ? typetab_intern(r->types, type, strlen(type)) : TYPETAB_UNTYPED;
	rt_event(r, &ev);
	slot = heap_lookup(r->h, id);
	if (ev.type == r->list_type && r->freelist > 0) {
		r->freelist--;
		from_allocator = 0;
	}
	r->pol->on_alloc(r->gc, slot, from_allocator);
}

static void rt_ref(struct rt *r, int add, uint64_t src, uint64_t dst)
{
	struct event ev = { .kind = add ? EVENT_REF_ADD : EVENT_REF_DROP,
				  .id = src, .u.dst = dst };
	rt_event(r, &ev);
}

static void rt_freeid(struct rt *r, uint64_t id)
{
	struct event ev = { .kind = EVENT_FREE, .id = id };
	rt_event(r, &ev);
}

static void rt_collect(struct rt *r, uint64_t gen)
{
	struct ms_error err;

	ms_error_clear(&err);
	CHECK(r->pol->collect(r->gc, gen, &err) == 0);
	r->clock.event++;
}

static void rt_safepoint(struct rt *r)
{
	r->pol->safepoint(r->gc);
	r->clock.event++;
}

static struct gc_stats rt_stats(struct rt *r)
{
	struct gc_stats st;

	r->pol->stats(r->gc, &st);
	return st;
}

/* The generational params struct is private to its file: patch knobs
 * by name through the knob table, as policy.c does. */
static void *params_copy(const struct gc_policy *pol)
{
	void *p = malloc(pol->params_size);
	memcpy(p, pol->defaults, pol->params_size);
	return p;
}

static const struct knob *knob_named(const struct gc_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->nknobs; i++)
		if (strcmp(pol->knobs[i].name, name) == 0)
			return &pol->knobs[i];
	printf("# no knob %s\n", name);
	test_fail_();
	return NULL;
}

static void set_uint(void *p, const char *name, uint64_t v)
{
	*knob_uint(p, knob_named(&gc_generational, name)) = v;
}

static void set_int(void *p, const char *name, int v)
{
	*knob_int(p, knob_named(&gc_generational, name)) = v;
}

static void set_dbl(void *p, const char *name, double v)
{
	*knob_double(p, knob_named(&gc_generational, name)) = v;
}

/* The cycle of trace-format.md: two lists referring to each other, their
 * root references dropped. */
static void make_cycle(struct rt *r, uint64_t a, uint64_t b, int drop_roots)
{
	rt_alloc(r, a, 56, "list");
	rt_alloc(r, b, 56, "list");
	rt_ref(r, 1, a, b);
	rt_ref(r, 1, b, a);
	if (drop_roots) {
		rt_ref(r, 0, 0, a);
		rt_ref(r, 0, 0, b);
	}
}

/* ---- tests ---------------------------------------------------------- */

static void spec_cycle_none_never_frees(void)
{
	struct rt r;
	struct gc_stats st;

	rt_init(&r, &gc_none, NULL, 0);
	make_cycle(&r, 1, 2, 1);
	rt_collect(&r, EVENT_GEN_DEFAULT);
	rt_collect(&r, 0);
	/* both lists keep a count of 1 forever */
	CHECK_U64(heap_live_objects(r.h), 2);
	st = rt_stats(&r);
	CHECK_U64(st.generations, 0);
	CHECK_U64(st.pauses, 0);
	rt_fini(&r);
}

static void spec_cycle_freed_by_generation_0(void)
{
	struct rt r;
	struct gc_stats st;

	rt_init(&r, &gc_generational, NULL, 0);
	make_cycle(&r, 1, 2, 1);
	CHECK_U64(heap_live_objects(r.h), 2);
	rt_collect(&r, 0);      /* both are in generation 0 */
	CHECK_U64(heap_live_objects(r.h), 0);
	st = rt_stats(&r);
	CHECK_U64(st.collections[0], 1);
	CHECK_U64(st.collected[0], 2);
	/* collect(0): count[1] += 1, count[0] = 0 */
	CHECK_U64(st.count[0], 0);
	CHECK_U64(st.count[1], 1);
	CHECK_U64(st.count[2], 0);
	rt_fini(&r);
}

/* A survivor of a generation-0 collection is promoted: only a collection
 * covering generation 1 frees it. */
static void promotion(void)
{
	struct rt r;
	struct gc_stats st;
	size_t n;
	const struct gc_pause *p;

	rt_init(&r, &gc_generational, NULL, 0);
	make_cycle(&r, 1, 2, 0);        /* roots still held */
	rt_collect(&r, 0);              /* both survive -> generation 1 */
	CHECK_I64(gc_generational.generation(r.gc, heap_lookup(r.h, 1)), 1);
	rt_ref(&r, 0, 0, 1);
	rt_ref(&r, 0, 0, 2);
	rt_collect(&r, 0);              /* generation 0 is empty */
	CHECK_U64(heap_live_objects(r.h), 2);
	rt_collect(&r, 1);              /* merges 0 into 1: frees the cycle */
	CHECK_U64(heap_live_objects(r.h), 0);
	st = rt_stats(&r);
	CHECK_U64(st.collections[0], 2);
	CHECK_U64(st.collections[1], 1);
	CHECK_U64(st.collected[0], 0);
	CHECK_U64(st.collected[1], 2);
	p = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 3);
	CHECK_U64(p[0].examined, 2);
	CHECK_U64(p[1].examined, 0);
	CHECK_U64(p[2].examined, 2);
	CHECK_U64(p[2].unreachable, 2);
	CHECK_U64(p[2].freed, 2);
	/* a second gen-2 object survives a full collection and stays */
	rt_alloc(&r, 5, 56, "list");
	rt_collect(&r, 2);
	rt_collect(&r, 2);
	CHECK_I64(gc_generational.generation(r.gc, heap_lookup(r.h, 5)), 2);
	rt_fini(&r);
}

/* Thresholds 3/2/2, 25% rule off, objects kept alive, no edges. Each
 * fourth visible allocation makes count0 = 4 > 3: a collection runs
 * before the object joins generation 0 and zeroes count0 (the new
 * object's increment included). Triggers 1-3 collect generation 0
 * (count1 -> 3), trigger 4 generation 1 (count1 3 > 2; count2 -> 1),
 * ... trigger 12 is the third generation-1 one (count2 -> 3), trigger 13
 * collects generation 2. 52 allocations = 13 triggers: 9 / 3 / 1. */
static void threshold_arithmetic(void)
{
	struct rt r;
	struct gc_stats st;
	void *p = params_copy(&gc_generational);

	set_uint(p, "threshold0", 3);
	set_uint(p, "threshold1", 2);
	set_uint(p, "threshold2", 2);
	set_int(p, "full_collection_rule", 0);
	rt_init(&r, &gc_generational, p, 0);
	for (uint64_t i = 1; i <= 52; i++) {
		rt_alloc(&r, i, 56, "list");
		rt_alloc(&r, 1000 + i, 28, "int");      /* invisible */
		rt_alloc(&r, 2000 + i, 8, NULL);        /* untyped: invisible */
	}
	st = rt_stats(&r);
	CHECK_U64(st.collections[0], 9);
	CHECK_U64(st.collections[1], 3);
	CHECK_U64(st.collections[2], 1);
	CHECK_U64(st.count[0], 0);
	CHECK_U64(st.count[1], 0);
	CHECK_U64(st.count[2], 0);
	CHECK_U64(st.tracked, 52);
	/* two more: count0 = 2; freeing one to the allocator: 1; an
	 * invisible death does not move it */
	rt_alloc(&r, 53, 56, "dict");
	rt_alloc(&r, 54, 56, "dict");
	rt_freeid(&r, 53);
	rt_freeid(&r, 1001);
	st = rt_stats(&r);
	CHECK_U64(st.count[0], 1);
	rt_fini(&r);
	free(p);
}

/* Free-list traffic does not move count0 (from/to_allocator = 0). */
static void freelist_does_not_count(void)
{
	struct rt r;
	struct gc_stats st;

	rt_init(&r, &gc_generational, NULL, 80);
	rt_alloc(&r, 1, 56, "list");    /* count0 1 */
	rt_freeid(&r, 1);               /* parked: still 1 */
	rt_alloc(&r, 2, 56, "list");    /* from the free list: still 1 */
	st = rt_stats(&r);
	CHECK_U64(st.count[0], 1);
	CHECK_U64(st.tracked, 1);
	rt_fini(&r);
}

/* Thresholds 1/0/0 with the 25% rule. 16 kept objects and `c`:
 * long_lived_total 16, pending 0.
 *  a2: count0 2 > 1, count1 0 -> gen 0 ({a1} -> gen 1), count1 1
 *  a4: count1 1 > 0 -> gen 1 ({a2,a3,a1}: 3 survivors), pending 3, count2 1
 *  a6: count2 1 > 0 but 3 < 16/4 = 4: skipped; count1 0 -> gen 0
 *  a8: count2 skipped again; count1 1 -> gen 1 (4 survivors), pending 7
 *  a10: count2 2 > 0 and 7 >= 4 -> full collection of 2 + 0 + 23 = 25
 * Explicit `c`s: [0,0,1]; then [2,2,1] more. Without the rule a6 is the
 * full collection. */
static void full_collection_rule(void)
{
	struct rt r;
	struct gc_stats st;
	const struct gc_pause *pz;
	size_t n;
	void *p = params_copy(&gc_generational);

	set_uint(p, "threshold0", 1);
	set_uint(p, "threshold1", 0);
	set_uint(p, "threshold2", 0);
	rt_init(&r, &gc_generational, p, 0);
	for (uint64_t i = 1; i <= 16; i++)
		rt_alloc(&r, 100 + i, 16, "object");
	/* 16 allocations with threshold0 1 trip automatic collections too:
	 * the explicit full collection below resets the state they left */
	rt_collect(&r, 2);
	st = rt_stats(&r);
	{
		uint64_t c0 = st.collections[0], c1 = st.collections[1], c2 = st.collections[2];
		for (uint64_t i = 1; i <= 10; i++)
			rt_alloc(&r, i, 56, "list");
		st = rt_stats(&r);
		CHECK_U64(st.collections[0] - c0, 2);
		CHECK_U64(st.collections[1] - c1, 2);
		CHECK_U64(st.collections[2] - c2, 1);
		pz = gc_generational.pauses(r.gc, &n);
		CHECK_U64(pz[n - 1].generation, 2);
		CHECK_U64(pz[n - 1].examined, 25);
		CHECK_U64(pz[n - 3].generation, 0);     /* the a6 one */
	}
	rt_fini(&r);

	set_int(p, "full_collection_rule", 0);
	rt_init(&r, &gc_generational, p, 0);
	for (uint64_t i = 1; i <= 16; i++)
		rt_alloc(&r, 100 + i, 16, "object");
	rt_collect(&r, 2);
	for (uint64_t i = 1; i <= 6; i++)
		rt_alloc(&r, i, 56, "list");
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(pz[n - 1].generation, 2);     /* a6: 16+3+{a4,a5} = 21 */
	CHECK_U64(pz[n - 1].examined, 21);
	rt_fini(&r);
	free(p);
}

/* Thresholds 2/10/10: the third list trips count0 = 3 > 2. */
static void deferred_vs_immediate(void)
{
	struct rt r;
	struct gc_stats st;
	const struct gc_pause *pz;
	size_t n;
	void *p = params_copy(&gc_generational);

	set_uint(p, "threshold0", 2);
	/* immediate (<= 3.11): runs inside a3, before a3 joins: {a1, a2} */
	rt_init(&r, &gc_generational, p, 0);
	rt_safepoint(&r);
	for (uint64_t i = 1; i <= 3; i++)
		rt_alloc(&r, i, 56, "list");
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 1);
	CHECK_U64(pz[0].examined, 2);
	CHECK_U64(rt_stats(&r).count[0], 0);
	rt_fini(&r);

	/* deferred (3.12+) with safe points: scheduled by a3, runs at `s`
	 * with a3 in generation 0: {a1, a2, a3} */
	set_int(p, "deferred", 1);
	rt_init(&r, &gc_generational, p, 0);
	rt_safepoint(&r);
	for (uint64_t i = 1; i <= 3; i++)
		rt_alloc(&r, i, 56, "list");
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 0);
	CHECK_U64(rt_stats(&r).count[0], 3);
	rt_safepoint(&r);
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 1);
	CHECK_U64(pz[0].examined, 3);
	CHECK_U64(rt_stats(&r).count[0], 0);
	/* scheduled, but frees bring count0 back to 1 <= 2 before the safe
	 * point: _Py_RunGC finds no generation to collect */
	for (uint64_t i = 4; i <= 6; i++)
		rt_alloc(&r, i, 56, "list");
	rt_freeid(&r, 4);
	rt_freeid(&r, 5);
	rt_safepoint(&r);
	gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 1);
	rt_fini(&r);

	/* deferred without safe points: runs before a4 joins and counts */
	rt_init(&r, &gc_generational, p, 0);
	for (uint64_t i = 1; i <= 4; i++)
		rt_alloc(&r, i, 56, "list");
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 1);
	CHECK_U64(pz[0].examined, 3);
	st = rt_stats(&r);
	CHECK_U64(st.count[0], 1);
	rt_fini(&r);
	free(p);
}

/* pause_ns = a*examined + b*traversed + c with a 2, b 3, c 100.
 * Garbage cycle: examined 2, traversed 2 (subtract phase; nothing is
 * reachable) -> 4 + 6 + 100 = 110. Held cycle: traversed 2 + 2 (each
 * reachable one traversed once more) -> 4 + 12 + 100 = 116. */
static void pause_formula(void)
{
	struct rt r;
	const struct gc_pause *pz;
	size_t n;
	void *p = params_copy(&gc_generational);

	set_dbl(p, "cost_object_ns", 2);
	set_dbl(p, "cost_ref_ns", 3);
	set_dbl(p, "cost_fixed_ns", 100);
	set_dbl(p, "mutator_ns_per_event", 10);
	rt_init(&r, &gc_generational, p, 0);
	make_cycle(&r, 1, 2, 0);        /* events 0..3 */
	rt_collect(&r, 0);              /* event 4 */
	rt_ref(&r, 0, 0, 1);
	rt_ref(&r, 0, 0, 2);
	rt_collect(&r, 1);              /* event 7 */
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 2);
	CHECK_U64(pz[0].traversed, 4);
	CHECK_U64(pz[0].pause_ns, 116);
	CHECK_U64(pz[1].traversed, 2);
	CHECK_U64(pz[1].pause_ns, 110);
	/* timeline: event 4 at 40 ns; event 7 at 70 + 116 */
	CHECK_U64(pz[0].event, 4);
	CHECK_U64(pz[0].start_ns, 40);
	CHECK_U64(pz[1].start_ns, 186);
	rt_fini(&r);
	free(p);
}

/* The calibration's counting (tools/calibrate-gc: examined = tracked
 * members, traversed = every referent a member's tp_traverse visits,
 * untracked ones included, plus once more for reachable members) on a
 * hand-built graph, with non-integer coefficients a 1.5, b 0.25, c 7.
 *   root -> list 1 -> list 2 -> int 3 (untracked), list 2 -> list 4;
 *   garbage cycle list 5 <-> list 6, and 5 -> int 3.
 * examined = 1, 2, 4, 5, 6 = 5 (the int is no member);
 * traversed: subtract phase 1->2, 2->3, 2->4, 5->6, 6->5, 5->3 = 6;
 * reachable 1, 2, 4 once more: 1 + 2 + 0 = 3; total 9.
 * pause = 1.5*5 + 0.25*9 + 7 = 7.5 + 2.25 + 7 = 16.75 -> 17 ns. */
static void pause_formula_mixed(void)
{
	struct rt r;
	const struct gc_pause *pz;
	size_t n;
	void *p = params_copy(&gc_generational);

	set_dbl(p, "cost_object_ns", 1.5);
	set_dbl(p, "cost_ref_ns", 0.25);
	set_dbl(p, "cost_fixed_ns", 7);
	rt_init(&r, &gc_generational, p, 0);
	rt_alloc(&r, 1, 56, "list");
	rt_alloc(&r, 2, 56, "list");
	rt_alloc(&r, 3, 28, "int");
	rt_alloc(&r, 4, 56, "list");
	rt_ref(&r, 1, 1, 2);
	rt_ref(&r, 1, 2, 3);
	rt_ref(&r, 1, 2, 4);
	rt_alloc(&r, 5, 56, "list");
	rt_alloc(&r, 6, 56, "list");
	rt_ref(&r, 1, 5, 6);
	rt_ref(&r, 1, 6, 5);
	rt_ref(&r, 1, 5, 3);
	for (uint64_t id = 2; id <= 6; id++)
		rt_ref(&r, 0, 0, id);
	rt_collect(&r, 0);
	pz = gc_generational.pauses(r.gc, &n);
	CHECK_U64(n, 1);
	CHECK_U64(pz[0].examined, 5);
	CHECK_U64(pz[0].traversed, 9);
	CHECK_U64(pz[0].unreachable, 2);
	CHECK_U64(pz[0].pause_ns, 17);
	CHECK_U64(heap_live_objects(r.h), 4);
	rt_fini(&r);
	free(p);
}

/* Objects outside the collected set that hold references (an older
 * generation, an untracked object) keep their targets alive. */
static void external_references(void)
{
	struct rt r;

	rt_init(&r, &gc_generational, NULL, 0);
	rt_alloc(&r, 1, 56, "list");
	rt_collect(&r, 0);              /* 1 -> generation 1 */
	make_cycle(&r, 2, 3, 1);
	rt_ref(&r, 1, 1, 2);            /* old object -> cycle */
	rt_alloc(&r, 4, 8, NULL);       /* untracked holder */
	make_cycle(&r, 5, 6, 1);
	rt_ref(&r, 1, 4, 5);
	rt_collect(&r, 0);
	CHECK_U64(heap_live_objects(r.h), 6);
	rt_ref(&r, 0, 1, 2);            /* now garbage, in generation 1 */
	rt_ref(&r, 0, 4, 5);            /* 5, 6 garbage in generation 1 */
	rt_collect(&r, 1);
	CHECK_U64(heap_live_objects(r.h), 2);   /* 1 and 4 */
	rt_fini(&r);
}

/* A tuple holding only an int is untracked by the collection that
 * finds it alive; one holding a list is not. A full collection
 * untracks such dicts. */
static void untracking(void)
{
	struct rt r;
	struct gc_stats st;

	rt_init(&r, &gc_generational, NULL, 0);
	rt_alloc(&r, 1, 32, "tuple");
	rt_alloc(&r, 2, 28, "int");
	rt_ref(&r, 1, 1, 2);
	rt_alloc(&r, 3, 32, "tuple");
	rt_alloc(&r, 4, 56, "list");
	rt_ref(&r, 1, 3, 4);
	rt_alloc(&r, 5, 64, "dict");
	rt_ref(&r, 1, 5, 2);
	rt_collect(&r, 0);
	/* tracked: tuple 3, list 4, dict 5 (dicts only in full ones) */
	st = rt_stats(&r);
	CHECK_U64(st.tracked, 3);
	rt_collect(&r, 2);
	st = rt_stats(&r);
	CHECK_U64(st.tracked, 2);
	/* the dict gains a list: tracked again, in generation 0 */
	rt_ref(&r, 1, 5, 4);
	CHECK_I64(gc_generational.generation(r.gc, heap_lookup(r.h, 5)), 0);
	rt_fini(&r);
}

static void bad_generation(void)
{
	struct rt r;
	struct ms_error err;

	rt_init(&r, &gc_generational, NULL, 0);
	ms_error_clear(&err);
	CHECK_U64(gc_generational.collect(r.gc, 3, &err), MS_EXIT_DATAERR);
	CHECK_STR(err.msg, "collection of generation 3: the collector has generations 0..2");
	rt_fini(&r);
}

static void bad_knobs(void)
{
	void *p = params_copy(&gc_generational);
	const struct knob *k = knob_named(&gc_generational, "untracked_types");
	char msg[200];

	strcpy(knob_str(p, k), "int,list");
	CHECK(gc_generational.validate(p, msg, sizeof msg) == -1);
	CHECK_STR(msg, "type 'list' is in both tracked_types and untracked_types");
	strcpy(knob_str(p, k), "int,,float");
	CHECK(gc_generational.validate(p, msg, sizeof msg) == -1);
	CHECK_STR(msg, "untracked_types: empty or too long type name at byte 4");
	CHECK(gc_find("generational") == &gc_generational);
	CHECK(gc_find("none") == &gc_none);
	CHECK(gc_find("boehm") == NULL);
	free(p);
}

/* Nearest rank: rank ceil(p/100 * n). Wikipedia's example 15 20 35 40
 * 50: p30 -> rank 2 (20), p40 -> 2 (20), p50 -> 3 (35), p100 -> 50.
 * 1..20: p50 -> 10, p95 -> 19, p99 -> ceil(19.8) = 20. */
static void percentile_nearest_rank(void)
{
	const uint64_t w[] = { 15, 20, 35, 40, 50 };
	uint64_t v[20];

	CHECK_U64(pause_percentile(w, 5, 30), 20);
	CHECK_U64(pause_percentile(w, 5, 40), 20);
	CHECK_U64(pause_percentile(w, 5, 50), 35);
	CHECK_U64(pause_percentile(w, 5, 100), 50);
	CHECK_U64(pause_percentile(w, 5, 1), 15);
	for (int i = 0; i < 20; i++)
		v[i] = (uint64_t)i + 1;
	CHECK_U64(pause_percentile(v, 20, 50), 10);
	CHECK_U64(pause_percentile(v, 20, 95), 19);
	CHECK_U64(pause_percentile(v, 20, 99), 20);
	CHECK_U64(pause_percentile(v, 0, 50), 0);
}

/* Timeline 0..100 ns, pauses [10,20) and [50,70).
 *  w 10, 20: a window inside a pause -> 0.
 *  w 30: at most 20 paused ([40,70]) -> 1 - 20/30 = 1/3.
 *  w 50: at most 20 ([19,69] holds 1 + 19) -> 0.6.
 *  w 60: [10,70] holds 30 -> 0.5.
 *  w 100 and wider: the whole run, 30 of 100 -> 0.7. */
static void mmu_hand_made(void)
{
	struct gc_pause p[2] = {
		{ .start_ns = 10, .pause_ns = 10 },
		{ .start_ns = 50, .pause_ns = 20 },
	};
	struct pause_log log;
	struct gc_stats st = { 0 };

	CHECK_DBL(pause_mmu(p, 2, 100, 10), 0.0, 1e-12);
	CHECK_DBL(pause_mmu(p, 2, 100, 20), 0.0, 1e-12);
	CHECK_DBL(pause_mmu(p, 2, 100, 30), 1.0 / 3.0, 1e-12);
	CHECK_DBL(pause_mmu(p, 2, 100, 50), 0.6, 1e-12);
	CHECK_DBL(pause_mmu(p, 2, 100, 60), 0.5, 1e-12);
	CHECK_DBL(pause_mmu(p, 2, 100, 100), 0.7, 1e-12);
	CHECK_DBL(pause_mmu(p, 2, 100, 1000), 0.7, 1e-12);
	CHECK_DBL(pause_mmu(p, 0, 100, 10), 1.0, 1e-12);

	/* summary: mutator 70 ns + 30 ns of pauses = 100 ns; mean 15 */
	pause_log_init(&log);
	pause_log_add(&log, &p[0]);
	pause_log_add(&log, &p[1]);
	pause_summary(&log, 70, &st);
	CHECK_U64(st.run_ns, 100);
	CHECK_U64(st.pauses, 2);
	CHECK_U64(st.pause_total_ns, 30);
	CHECK_U64(st.pause_mean_ns, 15);
	CHECK_U64(st.pause_p50_ns, 10);
	CHECK_U64(st.pause_p99_ns, 20);
	CHECK_U64(st.pause_max_ns, 20);
	CHECK_DBL(st.gc_share, 0.3, 1e-12);
	/* every MMU window (1 ms and up) is wider than the 100 ns run */
	CHECK_DBL(st.mmu[0], 0.7, 1e-12);
	pause_log_free(&log);
}

int main(void)
{
	TEST_RUN(spec_cycle_none_never_frees);
	TEST_RUN(spec_cycle_freed_by_generation_0);
	TEST_RUN(promotion);
	TEST_RUN(threshold_arithmetic);
	TEST_RUN(freelist_does_not_count);
	TEST_RUN(full_collection_rule);
	TEST_RUN(deferred_vs_immediate);
	TEST_RUN(pause_formula);
	TEST_RUN(pause_formula_mixed);
	TEST_RUN(external_references);
	TEST_RUN(untracking);
	TEST_RUN(bad_generation);
	TEST_RUN(bad_knobs);
	TEST_RUN(percentile_nearest_rank);
	TEST_RUN(mmu_hand_made);
	return test_done();
}
