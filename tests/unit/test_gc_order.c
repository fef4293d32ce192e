/*
 * test_gc_order.c - the orders the generational collector (sim/
 * gc_generational.c) must keep while its passes run over an array of the
 * members instead of the linked list: unreachable objects are released
 * in generation-list order (gc_list_merge appends the younger list at the
 * end; survivors keep their relative order), members are gathered
 * correctly for every list length (the list is walked from both ends,
 * pipelined), and untracking goes in list order, tuples before dicts.
 *
 * Expected values are worked out by hand beside each check. A list
 * holding only itself dies when heap_release drops its one edge (heap.h),
 * so the release order of such lists is the order on_free sees.
 */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "heap.h"
#include "test.h"
#include "typetab.h"

#define MAX_FREED 64

struct rt {
	struct heap *h;
	struct typetab *types;
	void *gc;
	struct gc_clock clock;
	uint64_t freed[MAX_FREED];      /* IDs in on_free order */
	size_t nfreed;
};

static void rt_on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct rt *r = ctx;

	if (r->nfreed < MAX_FREED)
		r->freed[r->nfreed++] = heap_obj(h, slot)->id;
	gc_generational.on_free(r->gc, slot, 1);
}

static void rt_on_ref(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int d)
{
	struct rt *r = ctx;

	(void)h;
	gc_generational.on_ref(r->gc, src, dst, d);
}

/* Default knobs (CPython 3.11) except threshold0 = 0: only explicit
 * collections run, so each test decides exactly when. */
static void rt_init(struct rt *r)
{
	struct heap_hooks hooks = { .ctx = r, .on_free = rt_on_free, .on_ref = rt_on_ref };
	struct gc_env env;
	void *params = malloc(gc_generational.params_size);
	char msg[200];

	memset(r, 0, sizeof *r);
	r->h = heap_create(&hooks);
	r->types = typetab_create();
	memcpy(params, gc_generational.defaults, gc_generational.params_size);
	for (size_t i = 0; i < gc_generational.nknobs; i++)
		if (strcmp(gc_generational.knobs[i].name, "threshold0") == 0)
			*knob_uint(params, &gc_generational.knobs[i]) = 0;
	CHECK(gc_generational.validate(params, msg, sizeof msg) == 0);
	env = (struct gc_env){ .heap = r->h, .types = r->types, .clock = &r->clock,
			       .ctx = r };
	r->gc = gc_generational.create(params, &env);
	free(params);
}

static void rt_fini(struct rt *r)
{
	char msg[200];

	CHECK(gc_generational.check(r->gc, msg, sizeof msg) == 0);
	gc_generational.destroy(r->gc);
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

static void rt_alloc(struct rt *r, uint64_t id, const char *type)
{
	struct event ev = { .kind = EVENT_ALLOC, .id = id, .u.size = 56 };

	ev.type = typetab_intern(r->types, type, strlen(type));
	rt_event(r, &ev);
	gc_generational.on_alloc(r->gc, heap_lookup(r->h, id), 1);
}

static void rt_ref(struct rt *r, int add, uint64_t src, uint64_t dst)
{
	struct event ev = { .kind = add ? EVENT_REF_ADD : EVENT_REF_DROP,
				  .id = src, .u.dst = dst };
	rt_event(r, &ev);
}

static void rt_collect(struct rt *r, uint64_t gen)
{
	struct ms_error err;
	char msg[200];

	ms_error_clear(&err);
	CHECK(gc_generational.collect(r->gc, gen, &err) == 0);
	CHECK(gc_generational.check(r->gc, msg, sizeof msg) == 0);
}

static struct gc_stats rt_stats(struct rt *r)
{
	struct gc_stats st;

	gc_generational.stats(r->gc, &st);
	return st;
}

/* A list holding itself, still held by its root reference. */
static void self_loop(struct rt *r, uint64_t id)
{
	rt_alloc(r, id, "list");
	rt_ref(r, 1, id, id);
}

static void drop_root(struct rt *r, uint64_t id)
{
	rt_ref(r, 0, 0, id);
}

/* n garbage self-loops 1..n in generation 0, for n = 1..40 (odd and
 * even, shorter and longer than the pipeline and prefetch distances):
 * one generation-0 collection examines n, traverses n edges (one per
 * member; none is reachable, so no second traversal) and releases them
 * in allocation order 1..n. */
static void every_length(void)
{
	for (uint64_t n = 1; n <= 40; n++) {
		struct rt r;
		struct gc_stats st;
		int in_order = 1;

		rt_init(&r);
		for (uint64_t id = 1; id <= n; id++)
			self_loop(&r, id);
		for (uint64_t id = n; id >= 1; id--)
			drop_root(&r, id);
		rt_collect(&r, 0);
		st = rt_stats(&r);
		CHECK_U64(st.examined, n);
		CHECK_U64(st.traversed, n);
		CHECK_U64(st.collected[0], n);
		CHECK_U64(r.nfreed, n);
		for (uint64_t i = 0; i < r.nfreed; i++)
			in_order &= r.freed[i] == i + 1;
		if (!in_order)
			printf("# n = %llu: released out of order\n", (unsigned long long)n);
		CHECK(in_order);
		rt_fini(&r);
	}
}

static void check_freed(const struct rt *r, const uint64_t *want, size_t n)
{
	CHECK_U64(r->nfreed, n);
	for (size_t i = 0; i < n && i < r->nfreed; i++)
		CHECK_U64(r->freed[i], want[i]);
}

/*
 * Survivors keep their order, and the younger list goes after the older:
 *   self-loops 1..7; roots of 2, 4, 6 dropped; collect(0) releases 2, 4,
 *   6; generation 1 is then 1, 3, 5, 7. Self-loops 8, 9 in generation 0.
 *   All roots dropped, 9 first. collect(1): the members are 1, 3, 5, 7
 *   then 8, 9, released in that order. Tracked afterwards: 0.
 *   examined: 7 + 6 = 13; traversed: collect(0) 7 edges + the 4
 *   reachable members' 4 = 11, collect(1) 6 = 17.
 */
static void merge_order(void)
{
	static const uint64_t first[] = { 2, 4, 6 };
	static const uint64_t all[] = { 2, 4, 6, 1, 3, 5, 7, 8, 9 };
	struct rt r;
	struct gc_stats st;

	rt_init(&r);
	for (uint64_t id = 1; id <= 7; id++)
		self_loop(&r, id);
	drop_root(&r, 6);
	drop_root(&r, 2);
	drop_root(&r, 4);
	rt_collect(&r, 0);
	check_freed(&r, first, 3);
	self_loop(&r, 8);
	self_loop(&r, 9);
	for (uint64_t id = 9; id >= 1; id--)
		if (id % 2 || id > 7)
			drop_root(&r, id);
	rt_collect(&r, 1);
	check_freed(&r, all, 9);
	st = rt_stats(&r);
	CHECK_U64(st.tracked, 0);
	CHECK_U64(st.examined, 13);
	CHECK_U64(st.traversed, 17);
	rt_fini(&r);
}

/*
 * A full collection rebuilds generation 2 in order: self-loops 1..5,
 * collect(2) (all survive: examined 5, traversed 5 + 5), roots of 5, 3,
 * 1 dropped, self-loop 6 (generation 0), its root dropped, collect(2):
 * members 1..5 then 6, released 1, 3, 5, 6. Generation 2 keeps 2, 4:
 * dropping both roots and collecting again releases 2 then 4.
 */
static void full_order(void)
{
	static const uint64_t want[] = { 1, 3, 5, 6, 2, 4 };
	struct rt r;
	struct gc_stats st;

	rt_init(&r);
	for (uint64_t id = 1; id <= 5; id++)
		self_loop(&r, id);
	rt_collect(&r, 2);
	st = rt_stats(&r);
	CHECK_U64(st.examined, 5);
	CHECK_U64(st.traversed, 10);
	drop_root(&r, 5);
	drop_root(&r, 3);
	drop_root(&r, 1);
	self_loop(&r, 6);
	drop_root(&r, 6);
	rt_collect(&r, 2);
	check_freed(&r, want, 4);
	drop_root(&r, 4);
	drop_root(&r, 2);
	rt_collect(&r, 2);
	check_freed(&r, want, 6);
	CHECK_U64(rt_stats(&r).tracked, 0);
	rt_fini(&r);
}

/*
 * Untracking in list order (_PyTuple_MaybeUntrack in untrack_tuples): a
 * tuple whose only item is a tuple untracked later in the same pass
 * stays tracked until the next collection.
 *   outer first: tuple 1 -> tuple 2 -> int 3. collect(0): tuple 1 sees
 *   tuple 2 still tracked and stays; tuple 2 holds an int and goes.
 *   Tracked 1. collect(1): tuple 1 now goes. Tracked 0.
 *   inner first: tuple 1 -> int 2, tuple 3 -> tuple 1. collect(0):
 *   tuple 1 goes, then tuple 3 sees it untracked and goes. Tracked 0.
 */
static void tuple_order(void)
{
	struct rt r;

	rt_init(&r);
	rt_alloc(&r, 1, "tuple");
	rt_alloc(&r, 2, "tuple");
	rt_alloc(&r, 3, "int");
	rt_ref(&r, 1, 1, 2);
	rt_ref(&r, 1, 2, 3);
	rt_collect(&r, 0);
	CHECK_U64(rt_stats(&r).tracked, 1);
	rt_collect(&r, 1);
	CHECK_U64(rt_stats(&r).tracked, 0);
	rt_fini(&r);

	rt_init(&r);
	rt_alloc(&r, 1, "tuple");
	rt_alloc(&r, 2, "int");
	rt_ref(&r, 1, 1, 2);
	rt_alloc(&r, 3, "tuple");
	rt_ref(&r, 1, 3, 1);
	rt_collect(&r, 0);
	CHECK_U64(rt_stats(&r).tracked, 0);
	rt_fini(&r);
}

/*
 * Tuples before dicts (collect: untrack_tuples, then untrack_dicts in a
 * full collection, 3.11): dict 1 -> tuple 2 -> int 3, the dict first in
 * the list. collect(0): the tuple goes, dicts are kept (not full):
 * tracked 1. In a fresh run, collect(2): the tuple pass untracks tuple
 * 2, then the dict pass finds dict 1 holding an untracked tuple: both
 * go, tracked 0.
 */
static void dict_after_tuples(void)
{
	for (uint64_t gen = 0; gen <= 2; gen += 2) {
		struct rt r;

		rt_init(&r);
		rt_alloc(&r, 1, "dict");
		rt_alloc(&r, 2, "tuple");
		rt_alloc(&r, 3, "int");
		rt_ref(&r, 1, 1, 2);
		rt_ref(&r, 1, 2, 3);
		rt_collect(&r, gen);
		CHECK_U64(rt_stats(&r).tracked, gen == 0 ? 1 : 0);
		rt_fini(&r);
	}
}

int main(void)
{
	TEST_RUN(every_length);
	TEST_RUN(merge_order);
	TEST_RUN(full_order);
	TEST_RUN(tuple_order);
	TEST_RUN(dict_after_tuples);
	return test_done();
}
