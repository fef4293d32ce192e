/*
 * test_heap.c - unit tests for sim/heap.c: semantics, exact error
 * messages, cascade order, big chains and cycles, a random comparison
 * against a naive model.
 *
 * Expected values are derived by hand from the rules in heap.h and
 * docs/heap.md (each test says how); none are copied from output.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "heap.h"
#include "test.h"

/* ---- helpers ---- */

/* Parses "a ID SIZE", "f ID", "r ID SIZE", "+ SRC DST", "- SRC DST". */
static int ev(struct heap *h, const char *line, struct ms_error *err)
{
	struct event e;
	char *end;
	uint64_t x, y;

	memset(&e, 0, sizeof e);
	x = strtoull(line + 1, &end, 0);
	y = strtoull(end, &end, 0);
	switch (line[0]) {
	case 'a': e.kind = EVENT_ALLOC; e.u.size = y; break;
	case 'f': e.kind = EVENT_FREE; break;
	case 'r': e.kind = EVENT_RESIZE; e.u.size = y; break;
	case '+': e.kind = EVENT_REF_ADD; e.u.dst = y; break;
	case '-': e.kind = EVENT_REF_DROP; e.u.dst = y; break;
	default: e.kind = EVENT_COLLECT; break;
	}
	e.id = x;
	ms_error_clear(err);
	return heap_apply(h, &e, err);
}

/* Applies lines that must succeed. */
#define DO(h, ...) do_lines_(h, __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)

static void do_lines_(struct heap *h, const char *file, int line, ...)
{
	va_list ap;
	const char *l;
	struct ms_error err;

	va_start(ap, line);
	while ((l = va_arg(ap, const char *)) != NULL) {
		if (ev(h, l, &err) != 0) {
			printf("# %s:%d: \"%s\" failed: %s\n", file, line, l, err.msg);
			test_fail_();
		}
	}
	va_end(ap);
}

static uint64_t fnv(uint64_t hash, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		hash ^= (v >> (8 * i)) & 0xff;
		hash *= UINT64_C(0x100000001b3);
	}
	return hash;
}

/* A digest of the whole observable state, to prove errors change nothing. */
static uint64_t digest(const struct heap *h)
{
	uint64_t d = UINT64_C(0xcbf29ce484222325);

	d = fnv(d, heap_live_objects(h));
	d = fnv(d, heap_live_bytes(h));
	for (uint32_t s = 0; s < heap_slot_limit(h); s++) {
		const struct heap_obj *o = heap_obj(h, s);

		if (!heap_obj_live(o))
			continue;
		d = fnv(d, s);
		d = fnv(d, o->id);
		d = fnv(d, heap_obj_size(h, o));
		d = fnv(d, heap_obj_type(o));
		d = fnv(d, o->roots);
		d = fnv(d, o->incoming);
		d = fnv(d, heap_obj_nout(o));
		for (uint32_t i = 0; i < heap_obj_nout(o); i++)
			d = fnv(d, heap_obj(h, heap_obj_cedges(o)[i])->id);
	}
	return d;
}

#define CHECK_HEAP(h) do { \
		struct ms_error ce_; \
		ms_error_clear(&ce_); \
		if (!CHECK_I64(heap_check((h), &ce_), 0)) \
			printf("#   %s\n", ce_.msg); \
	} while (0)

/* The event must fail with exactly `msg` and leave the heap as it was. */
#define CHECK_ERR(h, line, msg) check_err_(h, line, msg, __FILE__, __LINE__)

static void check_err_(struct heap *h, const char *line, const char *msg,
		       const char *file, int ln)
{
	struct ms_error err;
	uint64_t before = digest(h), n = heap_live_objects(h), b = heap_live_bytes(h);
	int rc = ev(h, line, &err);

	test_i64_(rc, MS_EXIT_DATAERR, line, "MS_EXIT_DATAERR", file, ln);
	test_str_(err.msg, msg, line, "msg", file, ln);
	test_u64_(heap_live_objects(h), n, "live objects", "before", file, ln);
	test_u64_(heap_live_bytes(h), b, "live bytes", "before", file, ln);
	test_u64_(digest(h), before, "digest", "before", file, ln);
	CHECK_HEAP(h);
}

/* A listener that records what happens. */
struct rec {
	uint64_t allocs, frees, resizes;
	uint64_t free_ids[64];
	uint64_t resize_old;
	char refs[256];          /* "+N>M -0>M " log, root as 0 */
	struct heap *h;
};

static void rec_alloc(void *ctx, struct heap *h, uint32_t slot)
{
	(void)h; (void)slot;
	((struct rec *)ctx)->allocs++;
}

static void rec_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct rec *r = ctx;

	if (r->frees < 64)
		r->free_ids[r->frees] = heap_obj(h, slot)->id;
	r->frees++;
}

static void rec_resize(void *ctx, struct heap *h, uint32_t slot, uint64_t old)
{
	struct rec *r = ctx;

	(void)h; (void)slot;
	r->resizes++;
	r->resize_old = old;
}

static void rec_ref(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int delta)
{
	struct rec *r = ctx;
	size_t n = strlen(r->refs);
	uint64_t s = src == HEAP_NONE ? 0 : heap_obj(h, src)->id;

	snprintf(r->refs + n, sizeof r->refs - n, "%c%llu>%llu ",
		 delta > 0 ? '+' : '-', (unsigned long long)s,
		 (unsigned long long)heap_obj(h, dst)->id);
}

static struct heap *rec_heap(struct rec *r)
{
	struct heap_hooks hk = {
		.ctx = r, .on_alloc = rec_alloc, .on_free = rec_free,
		.on_resize = rec_resize, .on_ref = rec_ref,
	};

	memset(r, 0, sizeof *r);
	r->h = heap_create(&hk);
	return r->h;
}

static void check_frees(const struct rec *r, const uint64_t *want, size_t n,
			const char *file, int line)
{
	test_u64_(r->frees, n, "frees", "expected", file, line);
	for (size_t i = 0; i < n && i < r->frees; i++)
		test_u64_(r->free_ids[i], want[i], "free order", "expected", file, line);
}
#define CHECK_FREES(r, ...) do { \
		static const uint64_t want_[] = { __VA_ARGS__ }; \
		check_frees(r, want_, sizeof want_ / sizeof want_[0], __FILE__, __LINE__); \
	} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- semantics ---- */

static void test_alloc_and_lookup(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	struct event e = { .kind = EVENT_ALLOC, .type = 3, .id = 7, .u.size = 56 };
	struct ms_error err;
	uint32_t s;

	CHECK_I64(heap_apply(h, &e, &err), 0);
	s = heap_lookup(h, 7);
	CHECK(s != HEAP_NONE);
	CHECK_U64(heap_obj(h, s)->id, 7);
	CHECK_U64(heap_obj_size(h, heap_obj(h, s)), 56);
	CHECK_U64(heap_obj_type(heap_obj(h, s)), 3);
	CHECK_U64(heap_obj(h, s)->roots, 1);          /* `a` gives one root */
	CHECK_U64(heap_obj(h, s)->incoming, 0);
	CHECK_U64(heap_obj_nout(heap_obj(h, s)), 0);
	CHECK_U64(heap_lookup(h, 8), HEAP_NONE);
	CHECK_U64(heap_live_objects(h), 1);
	CHECK_U64(heap_live_bytes(h), 56);
	CHECK_U64(r.allocs, 1);
	DO(h, "a 8 0");                                /* size 0 is legal */
	CHECK_U64(heap_live_objects(h), 2);
	CHECK_U64(heap_live_bytes(h), 56);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_roots(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);

	/* roots 1 (a) + 1 (+ 0 1) = 2; two drops free it on the second. */
	DO(h, "a 1 16", "+ 0 1", "- 0 1");
	CHECK_U64(heap_obj(h, heap_lookup(h, 1))->roots, 1);
	CHECK_U64(r.frees, 0);
	DO(h, "- 0 1");
	CHECK_U64(heap_lookup(h, 1), HEAP_NONE);
	CHECK_U64(heap_live_objects(h), 0);
	CHECK_U64(heap_live_bytes(h), 0);
	CHECK_FREES(&r, 1);
	CHECK_STR(r.refs, "+0>1 -0>1 -0>1 ");
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_edges_multiset(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	const struct heap_obj *o1, *o2;

	/* 2 is held by two identical edges and nothing else: incoming 2. */
	DO(h, "a 1 8", "a 2 8", "+ 1 2", "+ 1 2", "- 0 2");
	o2 = heap_obj(h, heap_lookup(h, 2));
	CHECK_U64(o2->roots, 0);
	CHECK_U64(o2->incoming, 2);
	DO(h, "- 1 2");                 /* one of the two goes */
	o1 = heap_obj(h, heap_lookup(h, 1));
	CHECK_U64(heap_obj_nout(o1), 1);
	CHECK_U64(o2->incoming, 1);
	CHECK_U64(r.frees, 0);
	CHECK_HEAP(h);
	DO(h, "- 1 2");                 /* the last one: refcount 0 */
	CHECK_U64(heap_lookup(h, 2), HEAP_NONE);
	CHECK_FREES(&r, 2);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_edge_removal_keeps_order(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	const struct heap_obj *o;

	/* out(1) = [2 3 2 3 4]; "- 1 2" removes the LAST 2 -> [2 3 3 4];
	 * "- 1 3" removes the last 3 -> [2 3 4]. */
	DO(h, "a 1 8", "a 2 8", "a 3 8", "a 4 8",
	   "+ 1 2", "+ 1 3", "+ 1 2", "+ 1 3", "+ 1 4", "- 1 2");
	o = heap_obj(h, heap_lookup(h, 1));
	CHECK_U64(heap_obj_nout(o), 4);
	if (heap_obj_nout(o) == 4) {
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[0])->id, 2);
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[1])->id, 3);
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[2])->id, 3);
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[3])->id, 4);
	}
	DO(h, "- 1 3");
	o = heap_obj(h, heap_lookup(h, 1));
	CHECK_U64(heap_obj_nout(o), 3);
	if (heap_obj_nout(o) == 3) {
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[0])->id, 2);
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[1])->id, 3);
		CHECK_U64(heap_obj(h, heap_obj_cedges(o)[2])->id, 4);
	}
	CHECK_U64(heap_obj(h, heap_lookup(h, 2))->incoming, 1);
	CHECK_U64(heap_obj(h, heap_lookup(h, 3))->incoming, 1);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_free(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);

	/* `f` frees regardless of roots (here 3). */
	DO(h, "a 1 40", "+ 0 1", "+ 0 1", "f 1");
	CHECK_U64(heap_live_objects(h), 0);
	CHECK_FREES(&r, 1);

	/* `f 1` drops 1's edges: 2 and 3 lose their only reference. Released
	 * last to first: 3 dies first, then 2, then 1 itself. 4 keeps its
	 * root and survives with incoming 0. */
	r.frees = 0;
	DO(h, "a 1 8", "a 2 8", "a 3 8", "a 4 8",
	   "+ 1 2", "+ 1 3", "+ 1 4", "- 0 2", "- 0 3", "f 1");
	CHECK_FREES(&r, 3, 2, 1);
	CHECK_U64(heap_live_objects(h), 1);
	CHECK_U64(heap_obj(h, heap_lookup(h, 4))->incoming, 0);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_self_edge(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	uint32_t *g = NULL;
	uint64_t bytes = 0;

	/* A list that contains itself twice: count 1 + 2. Dropping the root
	 * leaves 2: still live, and garbage for a collector. */
	DO(h, "a 1 56", "+ 1 1", "+ 1 1", "- 0 1");
	CHECK_U64(heap_live_objects(h), 1);
	CHECK_U64(heap_find_garbage(h, &g, &bytes), 1);
	CHECK_U64(bytes, 56);
	free(g);
	CHECK_HEAP(h);
	/* Dropping both self edges frees it. */
	DO(h, "- 1 1");
	CHECK_U64(r.frees, 0);
	DO(h, "- 1 1");
	CHECK_FREES(&r, 1);

	/* `f` of an object whose only referrer is itself is allowed; an edge
	 * from another object still blocks it and the message counts only
	 * that one (self edges excluded). */
	r.frees = 0;
	DO(h, "a 1 56", "+ 1 1", "a 2 8", "+ 2 1");
	CHECK_ERR(h, "f 1", "object 1 is still referenced by other live objects (1 reference)");
	DO(h, "- 2 1", "f 1");
	CHECK_FREES(&r, 1);
	CHECK_U64(heap_live_objects(h), 1);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_resize(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);

	DO(h, "a 1 100", "a 2 10", "r 1 250");
	/* 250 + 10 */
	CHECK_U64(heap_live_bytes(h), 260);
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 1))), 250);
	CHECK_U64(r.resizes, 1);
	CHECK_U64(r.resize_old, 100);
	DO(h, "r 1 0");
	CHECK_U64(heap_live_bytes(h), 10);
	CHECK_U64(r.resize_old, 250);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_id_reuse(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	uint32_t s;

	DO(h, "a 7 8");
	s = heap_lookup(h, 7);
	DO(h, "f 7", "a 7 16");            /* freed, then the same ID again */
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 7))), 16);
	CHECK_U64(heap_lookup(h, 7), s);   /* LIFO slot reuse */
	DO(h, "a 9 8", "+ 9 7", "- 0 7", "- 0 9");   /* both die by refcount */
	CHECK_U64(heap_live_objects(h), 0);
	DO(h, "a 9 1", "a 7 2");
	CHECK_U64(heap_live_objects(h), 2);
	CHECK_U64(heap_live_bytes(h), 3);
	CHECK_FREES(&r, 7, 7, 9);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_hooks_on_ref(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);

	/* on_ref for every edge change, the cascade's drops included (3's
	 * edge to 2 goes when 3 dies); roots given by `a` are not reported. */
	DO(h, "a 2 8", "a 3 8", "+ 3 2", "- 0 2", "+ 0 3", "- 0 3", "- 0 3");
	CHECK_STR(r.refs, "+3>2 -0>2 +0>3 -0>3 -0>3 -3>2 ");
	CHECK_FREES(&r, 2, 3);
	heap_destroy(h);
}

/* ---- errors ---- */

static void test_errors(void)
{
	struct heap *h = heap_create(NULL);
	struct event e;
	struct ms_error err;
	struct heap_obj *o;

	/* 1 -> 2, 2 rooted only through 1 (roots 0, incoming 1). */
	DO(h, "a 1 8", "a 2 16", "a 3 4", "+ 1 2", "- 0 2");
	CHECK_HEAP(h);

	CHECK_ERR(h, "a 1 8", "object 1 is already live");
	CHECK_ERR(h, "a 2 99", "object 2 is already live");
	CHECK_ERR(h, "f 9", "object 9 is not live");
	CHECK_ERR(h, "r 9 5", "object 9 is not live");
	CHECK_ERR(h, "+ 9 1", "object 9 is not live");
	CHECK_ERR(h, "+ 1 9", "object 9 is not live");
	CHECK_ERR(h, "- 9 1", "object 9 is not live");
	CHECK_ERR(h, "- 1 9", "object 9 is not live");
	CHECK_ERR(h, "+ 0 9", "object 9 is not live");
	CHECK_ERR(h, "- 0 9", "object 9 is not live");
	CHECK_ERR(h, "- 0 2", "object 2 has no root reference to drop");
	CHECK_ERR(h, "- 1 3", "object 1 holds no reference to object 3");
	CHECK_ERR(h, "- 2 1", "object 2 holds no reference to object 1");
	CHECK_ERR(h, "- 3 3", "object 3 holds no reference to object 3");
	CHECK_ERR(h, "f 2", "object 2 is still referenced by other live objects (1 reference)");
	DO(h, "+ 3 2");
	CHECK_ERR(h, "f 2", "object 2 is still referenced by other live objects (2 references)");
	CHECK_ERR(h, "a 0 8", "ID 0 is the root set, not an object");
	CHECK_ERR(h, "f 0", "ID 0 is the root set, not an object");
	CHECK_ERR(h, "r 0 8", "ID 0 is the root set, not an object");
	CHECK_ERR(h, "+ 1 0", "ID 0 is the root set, not an object");
	CHECK_ERR(h, "- 0 0", "ID 0 is the root set, not an object");

	/* Overflows: poke the counters to their limit (4 billion events
	 * would take too long), then restore them. */
	o = heap_obj(h, heap_lookup(h, 3));
	o->roots = UINT32_MAX;
	CHECK_ERR(h, "+ 0 3", "reference count of object 3 would overflow");
	o->roots = 1;
	o = heap_obj(h, heap_lookup(h, 2));
	o->incoming = UINT32_MAX;
	{
		struct ms_error e2;

		CHECK_I64(ev(h, "+ 3 2", &e2), MS_EXIT_DATAERR);
		CHECK_STR(e2.msg, "reference count of object 2 would overflow");
	}
	o->incoming = 2;
	CHECK_HEAP(h);

	/* Total size beyond 64 bits (the reader caps sizes at 2^48-1, the
	 * heap does not rely on it): 28 live + 2^64-20 > 2^64-1. */
	memset(&e, 0, sizeof e);
	e.kind = EVENT_ALLOC;
	e.id = 50;
	e.u.size = UINT64_MAX - 19;
	CHECK_I64(heap_apply(h, &e, &err), MS_EXIT_DATAERR);
	CHECK_STR(err.msg, "total live size would exceed 2^64-1 bytes");
	e.kind = EVENT_RESIZE;
	e.id = 1;
	CHECK_I64(heap_apply(h, &e, &err), MS_EXIT_DATAERR);
	CHECK_STR(err.msg, "total live size would exceed 2^64-1 bytes");
	CHECK_U64(heap_live_bytes(h), 28);
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 1))), 8);

	/* Not a heap event: the caller's bug. */
	e.kind = EVENT_COLLECT;
	CHECK_I64(heap_apply(h, &e, &err), MS_EXIT_SOFTWARE);
	CHECK_STR(err.msg, "heap_apply: event kind 5 is not a heap event");
	CHECK_HEAP(h);
	heap_destroy(h);
}

/* ---- cascade order ---- */

static void test_cascade_order(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);

	/*
	 *        1
	 *      / | \          edges added in the order 1->2, 1->3, 1->4,
	 *     2  3  4         2->5, 2->6, 3->7, 4->7
	 *    / \  \ /
	 *   5   6  7
	 *
	 * Only 1 has a root. `- 0 1` kills 1, whose referents go last to
	 * first: 4 dies (7 drops to 1 and lives), freed: 4. Then 3 dies, its
	 * edge to 7 kills 7 first: 7, 3. Then 2: its edges last to first, 6
	 * then 5, then 2. Finally 1.
	 */
	DO(h, "a 1 8", "a 2 8", "a 3 8", "a 4 8", "a 5 8", "a 6 8", "a 7 8",
	   "+ 1 2", "+ 1 3", "+ 1 4", "+ 2 5", "+ 2 6", "+ 3 7", "+ 4 7",
	   "- 0 2", "- 0 3", "- 0 4", "- 0 5", "- 0 6", "- 0 7");
	CHECK_U64(r.frees, 0);
	CHECK_HEAP(h);
	DO(h, "- 0 1");
	CHECK_FREES(&r, 4, 7, 3, 6, 5, 2, 1);
	CHECK_U64(heap_live_objects(h), 0);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_spec_cycle(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	uint32_t *g = NULL;
	uint64_t bytes = 0, n;

	/* trace-format.md's example: after the two root drops both lists
	 * have count 1 and live on. */
	DO(h, "a 1 56", "a 2 56", "+ 1 2", "+ 2 1", "- 0 1", "- 0 2");
	CHECK_U64(heap_live_objects(h), 2);
	CHECK_U64(heap_live_bytes(h), 112);
	n = heap_find_garbage(h, &g, &bytes);
	CHECK_U64(n, 2);
	CHECK_U64(bytes, 112);          /* 2 x 56 */
	if (n == 2) {
		CHECK_U64(g[0], heap_lookup(h, 1));      /* slot order */
		CHECK_U64(g[1], heap_lookup(h, 2));
	}
	CHECK_HEAP(h);                  /* marks cleared */
	/* Release in slot order: 1 is held while its edge to 2 goes; 2 dies
	 * (its edge to 1 goes, 1 is held); then the hold goes and 1 dies. */
	CHECK_U64(heap_release(h, g, (size_t)n), 2);
	CHECK_FREES(&r, 2, 1);
	CHECK_U64(heap_live_objects(h), 0);
	CHECK_U64(heap_live_bytes(h), 0);
	CHECK_HEAP(h);
	free(g);
	heap_destroy(h);
}

static void test_release_not_garbage(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);
	uint32_t s;

	/* Releasing an object that is still rooted only clears its edges:
	 * 2 (held only by 1) dies, 1 stays. Slots of dead objects and slots
	 * past the limit are skipped. */
	DO(h, "a 1 8", "a 2 8", "+ 1 2", "- 0 2", "a 3 8", "f 3");
	{
		uint32_t slots[3] = { heap_lookup(h, 1), heap_lookup(h, 2), 1000 };

		s = slots[0];
		CHECK_U64(heap_release(h, slots, 3), 1);
	}
	CHECK_FREES(&r, 3, 2);
	CHECK_U64(heap_lookup(h, 1), s);
	CHECK_U64(heap_obj_nout(heap_obj(h, s)), 0);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_find_garbage_mixed(void)
{
	struct heap *h = heap_create(NULL);
	uint32_t *g = NULL;
	uint64_t bytes = 0, n;

	/* Rooted 1 -> 2 -> 3 (reachable); cycle 4 <-> 5 with 5 -> 6
	 * (unreachable: 4, 5, 6 of 10 + 20 + 30 bytes); 7 reachable only
	 * from the garbage 6, so garbage too (+ 40). 2 also points into the
	 * cycle, but 4's edge back does not make 2 garbage. */
	DO(h, "a 1 1", "a 2 2", "a 3 3", "a 4 10", "a 5 20", "a 6 30", "a 7 40",
	   "+ 1 2", "+ 2 3", "+ 4 5", "+ 5 4", "+ 5 6", "+ 6 7", "+ 4 2",
	   "- 0 2", "- 0 3", "- 0 4", "- 0 5", "- 0 6", "- 0 7");
	n = heap_find_garbage(h, &g, &bytes);
	CHECK_U64(n, 4);
	CHECK_U64(bytes, 100);
	free(g);
	DO(h, "+ 3 4");                 /* now everything is reachable */
	g = (uint32_t *)&bytes;         /* must become NULL */
	CHECK_U64(heap_find_garbage(h, &g, &bytes), 0);
	CHECK(g == NULL);
	CHECK_U64(bytes, 0);
	CHECK_HEAP(h);
	heap_destroy(h);
}

/* ---- big structures ---- */

#define CHAIN_N 10000000u

struct chain_job {
	struct heap *h;
	uint64_t next_expected;   /* on_free must see N, N-1, ..., 1 */
	uint64_t order_errors;
	uint64_t frees;
	uint64_t live_before, live_after;
	int apply_errors;
	double build_s, drop_s;
};

static void chain_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct chain_job *j = ctx;

	if (heap_obj(h, slot)->id != j->next_expected)
		j->order_errors++;
	j->next_expected--;
	j->frees++;
}

static void *chain_thread(void *arg)
{
	struct chain_job *j = arg;
	struct heap_hooks hk = { .ctx = j, .on_free = chain_free };
	struct event e;
	struct ms_error err;
	double t0;

	memset(&e, 0, sizeof e);
	j->h = heap_create(&hk);
	t0 = now_s();
	e.kind = EVENT_ALLOC; e.id = 1; e.u.size = 32;
	j->apply_errors |= heap_apply(j->h, &e, &err);
	for (uint64_t i = 1; i < CHAIN_N; i++) {
		e.kind = EVENT_ALLOC; e.id = i + 1; e.u.size = 32;
		j->apply_errors |= heap_apply(j->h, &e, &err);
		e.kind = EVENT_REF_ADD; e.id = i; e.u.dst = i + 1;
		j->apply_errors |= heap_apply(j->h, &e, &err);
		e.kind = EVENT_REF_DROP; e.id = 0; e.u.dst = i + 1;
		j->apply_errors |= heap_apply(j->h, &e, &err);
	}
	j->build_s = now_s() - t0;
	j->live_before = heap_live_objects(j->h);
	j->next_expected = CHAIN_N;
	t0 = now_s();
	e.kind = EVENT_REF_DROP; e.id = 0; e.u.dst = 1;
	j->apply_errors |= heap_apply(j->h, &e, &err);
	j->drop_s = now_s() - t0;
	j->live_after = heap_live_objects(j->h);
	return NULL;
}

static void test_chain_10m_small_stack(void)
{
	struct chain_job j;
	pthread_attr_t attr;
	pthread_t t;
	struct ms_error err;
	double events = 1.0 + 3.0 * (CHAIN_N - 1) + 1.0;

	memset(&j, 0, sizeof j);
	pthread_attr_init(&attr);
	/* 256 KiB: a recursive cascade 10^7 deep would need gigabytes. */
	CHECK_I64(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
	CHECK_I64(pthread_create(&t, &attr, chain_thread, &j), 0);
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
	CHECK_I64(j.apply_errors, 0);
	CHECK_U64(j.live_before, CHAIN_N);
	CHECK_U64(j.live_after, 0);
	CHECK_U64(j.frees, CHAIN_N);
	CHECK_U64(j.order_errors, 0);   /* deepest first: N .. 1 */
	CHECK_U64(heap_live_bytes(j.h), 0);
	CHECK_HEAP(j.h);
	printf("# 10M chain: build %.0f events in %.2f s (%.1f M events/s), "
	       "cascade of %u frees in %.2f s\n", events - 1, j.build_s,
	       (events - 1) / j.build_s / 1e6, CHAIN_N, j.drop_s);
	(void)err;
	heap_destroy(j.h);
}

#define CYCLE_N 1000000u

static void test_cycle_1m(void)
{
	struct heap *h = heap_create(NULL);
	struct event e;
	struct ms_error err;
	uint32_t *g = NULL;
	uint64_t bytes = 0, n;
	int rc = 0;

	/* Ring 1 -> 2 -> ... -> N -> 1 of 48-byte objects, roots dropped. */
	memset(&e, 0, sizeof e);
	for (uint64_t i = 1; i <= CYCLE_N; i++) {
		e.kind = EVENT_ALLOC; e.id = i; e.u.size = 48;
		rc |= heap_apply(h, &e, &err);
	}
	for (uint64_t i = 1; i <= CYCLE_N; i++) {
		e.kind = EVENT_REF_ADD; e.id = i; e.u.dst = i % CYCLE_N + 1;
		rc |= heap_apply(h, &e, &err);
	}
	for (uint64_t i = 1; i <= CYCLE_N; i++) {
		e.kind = EVENT_REF_DROP; e.id = 0; e.u.dst = i;
		rc |= heap_apply(h, &e, &err);
	}
	CHECK_I64(rc, 0);
	CHECK_U64(heap_live_objects(h), CYCLE_N);
	CHECK_HEAP(h);
	printf("# 1M ring: heap_own_bytes %.1f bytes per live object\n",
	       (double)heap_own_bytes(h) / CYCLE_N);
	n = heap_find_garbage(h, &g, &bytes);
	CHECK_U64(n, CYCLE_N);
	CHECK_U64(bytes, 48ull * CYCLE_N);
	CHECK_U64(heap_release(h, g, (size_t)n), CYCLE_N);
	CHECK_U64(heap_live_objects(h), 0);
	CHECK_U64(heap_live_bytes(h), 0);
	CHECK_HEAP(h);
	free(g);
	heap_destroy(h);
}

/* ---- IDs ---- */

static void test_extreme_ids(void)
{
	struct rec r;
	struct heap *h = rec_heap(&r);

	DO(h, "a 0xffffffffffffffff 8", "a 0xfffffffffffffffe 8", "a 1 8",
	   "+ 0xffffffffffffffff 1", "+ 1 0xfffffffffffffffe",
	   "- 0 1", "- 0 0xfffffffffffffffe");
	CHECK(heap_lookup(h, UINT64_MAX) != HEAP_NONE);
	CHECK_U64(heap_obj(h, heap_lookup(h, UINT64_MAX))->id, UINT64_MAX);
	CHECK_U64(heap_lookup(h, UINT64_MAX - 2), HEAP_NONE);
	CHECK_ERR(h, "f 1", "object 1 is still referenced by other live objects (1 reference)");
	CHECK_ERR(h, "a 0xffffffffffffffff 1", "object 18446744073709551615 is already live");
	/* f of the head drops the chain UINT64_MAX -> 1 -> UINT64_MAX-1. */
	DO(h, "f 0xffffffffffffffff");
	CHECK_FREES(&r, UINT64_MAX - 1, 1, UINT64_MAX);
	CHECK_U64(heap_live_objects(h), 0);
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_address_ids(void)
{
	struct heap *h = heap_create(NULL);
	struct event e;
	struct ms_error err;
	const uint64_t base = UINT64_C(0x55d0c0a01230), n = 200000;
	uint64_t live = 0;
	int rc = 0;

	/* Recorded-address IDs: 16-byte aligned, freed and reused. Allocate
	 * n, free every other one, allocate those again with new sizes, so
	 * the map sees deletions inside long runs. */
	memset(&e, 0, sizeof e);
	for (uint64_t i = 0; i < n; i++) {
		e.kind = EVENT_ALLOC; e.id = base + 16 * i; e.u.size = 16;
		rc |= heap_apply(h, &e, &err);
	}
	for (uint64_t i = 0; i < n; i += 2) {
		e.kind = EVENT_FREE; e.id = base + 16 * i;
		rc |= heap_apply(h, &e, &err);
	}
	CHECK_HEAP(h);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t s = heap_lookup(h, base + 16 * i);

		if ((s == HEAP_NONE) != (i % 2 == 0))
			rc |= 1;
		live += s != HEAP_NONE;
	}
	CHECK_U64(live, n / 2);
	for (uint64_t i = 0; i < n; i += 2) {
		e.kind = EVENT_ALLOC; e.id = base + 16 * i; e.u.size = 32;
		rc |= heap_apply(h, &e, &err);
	}
	CHECK_I64(rc, 0);
	CHECK_U64(heap_live_objects(h), n);
	/* n/2 of 16 bytes + n/2 of 32 */
	CHECK_U64(heap_live_bytes(h), n / 2 * 16 + n / 2 * 32);
	/* Neighbouring unaligned addresses are different IDs. */
	CHECK_U64(heap_lookup(h, base + 8), HEAP_NONE);
	CHECK_HEAP(h);
	heap_destroy(h);
}

/* ---- random operations against a naive model ---- */

#define M_IDS 40
#define M_OUT 64

struct model {
	int live[M_IDS + 1];
	uint64_t size[M_IDS + 1];
	uint32_t roots[M_IDS + 1], incoming[M_IDS + 1];
	uint32_t nout[M_IDS + 1];
	uint64_t out[M_IDS + 1][M_OUT];
	int dying[M_IDS + 1], held[M_IDS + 1];
	uint64_t frees[4 * M_IDS];
	size_t nfrees;
};

/* The rule of heap.h written as plain recursion (depth <= M_IDS). */
static void m_kill(struct model *m, uint64_t x)
{
	m->dying[x] = 1;
	while (m->nout[x] > 0) {
		uint64_t t = m->out[x][--m->nout[x]];

		m->incoming[t]--;
		if (!m->incoming[t] && !m->roots[t] && !m->dying[t] && !m->held[t])
			m_kill(m, t);
	}
	if (m->held[x])
		return;
	m->frees[m->nfrees++] = x;
	m->live[x] = 0;
	m->dying[x] = 0;
}

/* Returns 1 when the model says the event is an error. */
static int m_apply(struct model *m, char op, uint64_t a, uint64_t b)
{
	switch (op) {
	case 'a':
		if (m->live[a])
			return 1;
		m->live[a] = 1; m->size[a] = b; m->roots[a] = 1;
		m->incoming[a] = 0; m->nout[a] = 0;
		return 0;
	case 'f': {
		uint32_t self = 0;

		if (!m->live[a])
			return 1;
		for (uint32_t i = 0; i < m->nout[a]; i++)
			self += m->out[a][i] == a;
		if (m->incoming[a] > self)
			return 1;
		m->roots[a] = 0;
		m_kill(m, a);
		return 0;
	}
	case 'r':
		if (!m->live[a])
			return 1;
		m->size[a] = b;
		return 0;
	case '+':
		if ((a && !m->live[a]) || !m->live[b])
			return 1;
		if (!a) {
			m->roots[b]++;
		} else {
			m->out[a][m->nout[a]++] = b;
			m->incoming[b]++;
		}
		return 0;
	case '-':
		if ((a && !m->live[a]) || !m->live[b])
			return 1;
		if (!a) {
			if (!m->roots[b])
				return 1;
			m->roots[b]--;
		} else {
			uint32_t i = m->nout[a];

			while (i > 0 && m->out[a][i - 1] != b)
				i--;
			if (!i)
				return 1;
			for (; i < m->nout[a]; i++)
				m->out[a][i - 1] = m->out[a][i];
			m->nout[a]--;
			m->incoming[b]--;
		}
		if (!m->roots[b] && !m->incoming[b])
			m_kill(m, b);
		return 0;
	}
	return 1;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int m_compare(const struct model *m, const struct heap *h)
{
	uint64_t live = 0, bytes = 0;

	for (uint64_t id = 1; id <= M_IDS; id++) {
		uint32_t s = heap_lookup(h, id);
		const struct heap_obj *o;

		if ((s != HEAP_NONE) != m->live[id])
			return 1;
		if (s == HEAP_NONE)
			continue;
		o = heap_obj(h, s);
		live++;
		bytes += m->size[id];
		if (heap_obj_size(h, o) != m->size[id] || o->roots != m->roots[id] ||
		    o->incoming != m->incoming[id] || heap_obj_nout(o) != m->nout[id])
			return 1;
		for (uint32_t i = 0; i < heap_obj_nout(o); i++)
			if (heap_obj(h, heap_obj_cedges(o)[i])->id != m->out[id][i])
				return 1;
	}
	return live != heap_live_objects(h) || bytes != heap_live_bytes(h);
}

static void test_random_vs_model(void)
{
	static struct model m;
	struct rec r;
	struct heap *h = rec_heap(&r);
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
	uint64_t mismatches = 0, errors = 0, ok = 0, check_fail = 0;
	uint64_t gc_runs = 0;
	const int steps = 200000;

	memset(&m, 0, sizeof m);
	for (int step = 0; step < steps; step++) {
		uint64_t k = xorshift(&seed) % 100;
		uint64_t a = xorshift(&seed) % (M_IDS + 1);
		uint64_t b = xorshift(&seed) % (M_IDS + 1);
		char op, line[64];
		struct ms_error err;
		int mrc, hrc;

		if (k < 25) { op = 'a'; b = xorshift(&seed) % 200; if (!a) a = 1; }
		else if (k < 32) op = 'f';
		else if (k < 37) op = 'r';
		else if (k < 70) op = '+';
		else if (k < 99) op = '-';
		else op = 'c';
		if (op == 'f' || op == 'r')
			a = a ? a : 1;
		if (op == '+' || op == '-')
			b = b ? b : 1;
		if (op == 'r')
			b = xorshift(&seed) % 300;
		if (op == '+' && a && m.live[a] && m.nout[a] == M_OUT)
			continue;
		if (op == 'c') {
			/* Collect: compare the garbage set with reachability
			 * recomputed by the model, then release it. */
			uint32_t *g = NULL;
			uint64_t bytes, n = heap_find_garbage(h, &g, &bytes);
			int reach[M_IDS + 1] = { 0 }, changed = 1;
			uint64_t want_n = 0, want_b = 0;

			for (uint64_t id = 1; id <= M_IDS; id++)
				reach[id] = m.live[id] && m.roots[id];
			while (changed) {
				changed = 0;
				for (uint64_t id = 1; id <= M_IDS; id++)
					for (uint32_t i = 0; reach[id] && i < m.nout[id]; i++)
						if (!reach[m.out[id][i]])
							reach[m.out[id][i]] = changed = 1;
			}
			for (uint64_t id = 1; id <= M_IDS; id++)
				if (m.live[id] && !reach[id]) {
					want_n++;
					want_b += m.size[id];
				}
			if (n != want_n || bytes != want_b)
				mismatches++;
			/* Model release in the same (slot) order. */
			r.frees = 0;
			m.nfrees = 0;
			for (uint64_t i = 0; i < n; i++) {
				uint64_t id = heap_obj(h, g[i])->id;

				if (id > M_IDS || !m.live[id] || reach[id])
					continue;
				m.held[id] = 1;
				m_kill(&m, id);
				m.held[id] = 0;
				m.dying[id] = 0;
				if (!m.roots[id] && !m.incoming[id])
					m_kill(&m, id);
			}
			if (heap_release(h, g, (size_t)n) != m.nfrees)
				mismatches++;
			for (size_t i = 0; i < m.nfrees && i < 64; i++)
				if (r.free_ids[i] != m.frees[i])
					mismatches++;
			free(g);
			gc_runs++;
		} else {
			if (op == 'a' || op == 'r')
				snprintf(line, sizeof line, "%c %llu %llu", op,
					 (unsigned long long)a, (unsigned long long)b);
			else if (op == 'f')
				snprintf(line, sizeof line, "f %llu", (unsigned long long)a);
			else
				snprintf(line, sizeof line, "%c %llu %llu", op,
					 (unsigned long long)a, (unsigned long long)b);
			r.frees = 0;
			m.nfrees = 0;
			mrc = m_apply(&m, op, a, b);
			hrc = ev(h, line, &err);
			if (mrc != (hrc != 0)) {
				if (mismatches < 5)
					printf("# step %d \"%s\": model %d heap %d (%s)\n",
					       step, line, mrc, hrc, err.msg);
				mismatches++;
			}
			if (hrc)
				errors++;
			else
				ok++;
			if (r.frees != m.nfrees)
				mismatches++;
			for (size_t i = 0; i < m.nfrees && i < 64; i++)
				if (r.free_ids[i] != m.frees[i])
					mismatches++;
		}
		if (m_compare(&m, h)) {
			if (mismatches < 5)
				printf("# step %d: state differs from the model\n", step);
			mismatches++;
		}
		{
			struct ms_error ce;

			if (heap_check(h, &ce) != 0) {
				if (check_fail++ < 3)
					printf("# step %d: %s\n", step, ce.msg);
			}
		}
	}
	CHECK_U64(mismatches, 0);
	CHECK_U64(check_fail, 0);
	CHECK(ok > 1000 && errors > 1000 && gc_runs > 100);
	printf("# random: %llu applied, %llu rejected, %llu collections\n",
	       (unsigned long long)ok, (unsigned long long)errors,
	       (unsigned long long)gc_runs);
	heap_destroy(h);
}

static void test_check_detects(void)
{
	struct heap *h = heap_create(NULL);
	struct heap_obj *o;
	struct ms_error err;

	DO(h, "a 1 8", "a 2 8", "+ 1 2");
	CHECK_HEAP(h);
	o = heap_obj(h, heap_lookup(h, 2));
	o->incoming = 5;        /* one edge points at it, not 5 */
	CHECK_I64(heap_check(h, &err), MS_EXIT_SOFTWARE);
	CHECK_STR(err.msg, "heap_check: object 2 has incoming 5 but 1 edges point at it");
	o->incoming = 1;
	o->tf |= 0x80;                  /* a flag bit nothing sets */
	CHECK_I64(heap_check(h, &err), MS_EXIT_SOFTWARE);
	CHECK_STR(err.msg, "heap_check: object 2 has stray flags 0x80");
	o->tf &= ~0x80u;
	o->size = 9;                    /* live_bytes no longer the sum */
	CHECK_I64(heap_check(h, &err), MS_EXIT_SOFTWARE);
	CHECK_STR(err.msg, "heap_check: 17 live bytes counted, 16 recorded");
	o->size = 8;
	CHECK_HEAP(h);
	heap_destroy(h);
}

static void test_own_bytes(void)
{
	struct heap *h = heap_create(NULL);
	uint64_t empty = heap_own_bytes(h);

	CHECK(empty > 0);
	/* Two edges fit inside the object: nothing is added. */
	DO(h, "a 1 8", "a 2 8", "+ 1 2", "+ 1 2");
	CHECK_U64(heap_own_bytes(h), empty);
	/* The third moves them to a vector of 2^3 words x 4 bytes = 32
	 * bytes: count, capacity and 6 edges (no table grows: 2 objects in
	 * the initial 64 slots and 16 buckets). */
	DO(h, "+ 1 2");
	CHECK_U64(heap_own_bytes(h), empty + 32);
	/* The seventh doubles it: 16 words, 14 edges, 64 bytes. */
	DO(h, "+ 1 2", "+ 1 2", "+ 1 2", "+ 1 2");
	CHECK_U64(heap_obj_nout(heap_obj(h, heap_lookup(h, 1))), 7);
	CHECK_U64(heap_own_bytes(h), empty + 64);
	heap_destroy(h);
}

/* A layer's side array: one element per slot, kept through the growth of
 * the slot array (64 slots at first, so 5000 objects move it 7 times);
 * the address the heap publishes is always current. */
struct side_rec {
	uint64_t *ids;          /* the side array: each slot's ID, or 0 */
	uint64_t wrong;         /* elements found holding the wrong ID */
};

static void side_on_alloc(void *ctx, struct heap *h, uint32_t slot)
{
	struct side_rec *r = ctx;

	r->ids[slot] = heap_obj(h, slot)->id;
}

static void side_on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct side_rec *r = ctx;

	r->wrong += r->ids[slot] != heap_obj(h, slot)->id;
	r->ids[slot] = 0;
}

static void test_side_array(void)
{
	struct side_rec r = { 0 };
	struct heap_hooks hooks = { .ctx = &r, .on_alloc = side_on_alloc,
				    .on_free = side_on_free };
	struct heap *h = heap_create(&hooks);
	uint64_t *first;
	uint64_t before = heap_own_bytes(h);
	char line[64];

	heap_side_add(h, sizeof *r.ids, (void **)&r.ids, NULL, NULL);
	CHECK(r.ids != NULL);
	/* 64 slots x 8 bytes more */
	CHECK_U64(heap_own_bytes(h), before + 64 * 8);
	first = r.ids;
	for (int i = 1; i <= 5000; i++) {
		snprintf(line, sizeof line, "a %d 8", i * 16);
		DO(h, line);
	}
	CHECK(r.ids != first);  /* it moved, and the heap said where */
	for (int i = 1; i <= 5000; i += 2) {
		snprintf(line, sizeof line, "f %d", i * 16);
		DO(h, line);
	}
	CHECK_U64(r.wrong, 0);
	for (uint32_t s = 0; s < heap_slot_limit(h); s++) {
		const struct heap_obj *o = heap_obj(h, s);

		r.wrong += heap_obj_live(o) ? r.ids[s] != o->id : r.ids[s] != 0;
	}
	CHECK_U64(r.wrong, 0);
	CHECK_HEAP(h);
	heap_destroy(h);
}

/* Sizes from 2^32-1 bytes up do not fit the core's 32 bits: the heap
 * keeps them aside, and every size reads back exactly. */
static void test_big_sizes(void)
{
	struct heap *h = heap_create(NULL);
	uint64_t five_gib = UINT64_C(5) << 30, max48 = (UINT64_C(1) << 48) - 1;
	char line[80];

	snprintf(line, sizeof line, "a 1 %llu", (unsigned long long)five_gib);
	DO(h, line, "a 2 4294967294", "a 3 4294967295");
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 1))), five_gib);
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 2))), 4294967294u);
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 3))), 4294967295u);
	CHECK_U64(heap_live_bytes(h), five_gib + 4294967294u + 4294967295u);
	CHECK_HEAP(h);
	/* big -> small -> big again */
	DO(h, "r 1 100");
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 1))), 100);
	snprintf(line, sizeof line, "r 1 %llu", (unsigned long long)max48);
	DO(h, line);
	CHECK_U64(heap_obj_size(h, heap_obj(h, heap_lookup(h, 1))), max48);
	CHECK_U64(heap_live_bytes(h), max48 + 4294967294u + 4294967295u);
	DO(h, "f 3", "f 1");
	CHECK_U64(heap_live_bytes(h), 4294967294u);
	CHECK_HEAP(h);
	heap_destroy(h);
}

/* The core keeps 24 bits of type index: a larger one is refused. */
static void test_type_limit(void)
{
	struct heap *h = heap_create(NULL);
	struct event e = { .kind = EVENT_ALLOC, .type = HEAP_TYPE_MAX, .id = 1, .u.size = 8 };
	struct ms_error err;

	CHECK_I64(heap_apply(h, &e, &err), 0);
	CHECK_U64(heap_obj_type(heap_obj(h, heap_lookup(h, 1))), 16777215);
	e.type = HEAP_TYPE_MAX + 1;
	e.id = 2;
	CHECK_I64(heap_apply(h, &e, &err), MS_EXIT_DATAERR);
	CHECK_STR(err.msg, "too many type names (limit 16777215)");
	CHECK_U64(heap_live_objects(h), 1);
	CHECK_HEAP(h);
	heap_destroy(h);
}

/*
 * The ID map under collisions. heap.c mixes an ID with splitmix64's
 * finaliser, which is invertible, so the test builds IDs whose mixed
 * hashes share their top 24 bits (one home bucket in every map of up to
 * 2^24 entries) and, for half of them, their low 32 bits (the tag too):
 * a run of 200 entries from one home, far past the distances an entry
 * can hold (15), so deletions must find homes from the cores. Mixed with
 * 3000 ordinary address IDs, whose arrival grows the slot array from 64
 * to 4096 slots and the map from 16 to 4096 entries (each growth widens
 * the slot field of the entries by a bit and narrows the tag).
 * Objects come and go at random against a plain array of live flags;
 * heap_check after every 64 events checks each entry's tag and distance.
 */
static uint64_t unxorshift(uint64_t y, unsigned k)
{
	uint64_t x = y;

	for (unsigned s = k; s < 64; s += k)
		x ^= y >> s;
	return x;
}

static uint64_t mul_inverse(uint64_t c)
{
	uint64_t inv = c;      /* Newton: each step doubles the right bits */

	for (int i = 0; i < 6; i++)
		inv *= 2 - c * inv;
	return inv;
}

/* The ID whose splitmix64 finaliser value is x. */
static uint64_t unmix(uint64_t x)
{
	x = unxorshift(x, 31);
	x *= mul_inverse(UINT64_C(0x94d049bb133111eb));
	x = unxorshift(x, 27);
	x *= mul_inverse(UINT64_C(0xbf58476d1ce4e5b9));
	return unxorshift(x, 31);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

#define COLL_N 200u
#define PLAIN_N 3000u

static void test_map_collisions(void)
{
	static uint64_t ids[COLL_N + PLAIN_N];
	static char live[COLL_N + PLAIN_N];
	struct heap *h = heap_create(NULL);
	struct event e = { .kind = EVENT_ALLOC, .u.size = 8 };
	struct ms_error err;
	uint64_t nlive = 0, bad = 0, rnd = 12345;

	for (uint32_t i = 0; i < COLL_N; i++) {
		uint64_t low = i & 1 ? UINT64_C(0x12345678) : (uint64_t)i * 0x9e3779b1u;

		ids[i] = unmix(UINT64_C(0xabcdef) << 40 | (uint64_t)i << 32 | (uint32_t)low);
		CHECK_U64(mix(ids[i]) >> 40, 0xabcdef);
	}
	for (uint32_t i = 0; i < PLAIN_N; i++)
		ids[COLL_N + i] = UINT64_C(0x7f0000001000) + 16 * (uint64_t)i;
	for (int step = 0; step < 40000; step++) {
		uint32_t k;

		rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
		k = (uint32_t)((rnd >> 33) % (COLL_N + PLAIN_N));
		/* grow to about 3/4 of the IDs live, then churn */
		if ((rnd >> 20 & 3) == 0 && step > 20000)
			k = (uint32_t)((rnd >> 40) % COLL_N);
		e.kind = live[k] ? EVENT_FREE : EVENT_ALLOC;
		e.id = ids[k];
		if (live[k] && step < 20000 && (rnd >> 10 & 3) != 0)
			continue;
		if (!CHECK_I64(heap_apply(h, &e, &err), 0))
			break;
		live[k] = !live[k];
		nlive += live[k] ? 1 : (uint64_t)-1;
		if ((step & 63) == 0)
			CHECK_HEAP(h);
	}
	CHECK_U64(heap_live_objects(h), nlive);
	for (uint32_t i = 0; i < COLL_N + PLAIN_N; i++) {
		uint32_t s = heap_lookup(h, ids[i]);

		bad += live[i] ? s == HEAP_NONE || heap_obj(h, s)->id != ids[i] : s != HEAP_NONE;
	}
	CHECK_U64(bad, 0);
	CHECK(heap_slot_limit(h) > 2048);       /* the slot array doubled past 2048 */
	CHECK_HEAP(h);
	heap_destroy(h);
}

int main(void)
{
	TEST_RUN(test_alloc_and_lookup);
	TEST_RUN(test_roots);
	TEST_RUN(test_edges_multiset);
	TEST_RUN(test_edge_removal_keeps_order);
	TEST_RUN(test_free);
	TEST_RUN(test_self_edge);
	TEST_RUN(test_resize);
	TEST_RUN(test_id_reuse);
	TEST_RUN(test_hooks_on_ref);
	TEST_RUN(test_errors);
	TEST_RUN(test_cascade_order);
	TEST_RUN(test_spec_cycle);
	TEST_RUN(test_release_not_garbage);
	TEST_RUN(test_find_garbage_mixed);
	TEST_RUN(test_extreme_ids);
	TEST_RUN(test_address_ids);
	TEST_RUN(test_map_collisions);
	TEST_RUN(test_random_vs_model);
	TEST_RUN(test_check_detects);
	TEST_RUN(test_own_bytes);
	TEST_RUN(test_side_array);
	TEST_RUN(test_big_sizes);
	TEST_RUN(test_type_limit);
	TEST_RUN(test_cycle_1m);
	TEST_RUN(test_chain_10m_small_stack);
	return test_done();
}
