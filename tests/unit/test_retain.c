/*
 * test_retain.c - dominators and retained sizes (sim/retain.c) on graphs
 * whose answers are known by hand, and on random graphs against a
 * second, deliberately naive reading of the definition: d dominates v
 * when removing d leaves v unreachable from the root set.
 */
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "retain.h"
#include "test.h"

/* A graph of n objects, IDs 1..n, sizes given (or 1 each). */
static void build(struct retain_graph *g, uint32_t n, const uint64_t *sizes)
{
	retain_graph_init(g, n);
	for (uint32_t v = 1; v <= n; v++) {
		g->id[v] = v;
		g->size[v] = sizes ? sizes[v] : 1;
	}
}

static void edges(struct retain_graph *g, const uint32_t (*e)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		retain_graph_edge(g, e[i][0], e[i][1]);
	retain_graph_seal(g);
}

static int check_ok(const struct retain_graph *g, const struct retain_result *r)
{
	char msg[200] = "";
	int rc = retain_check(g, r, msg, sizeof msg);

	if (rc)
		printf("# retain_check: %s\n", msg);
	return rc == 0;
}

/* 0 -> 1 -> 2 -> 3 -> 4: each object dominates the rest of the chain. */
static void test_chain(void)
{
	static const uint64_t sz[] = { 0, 10, 20, 30, 40 };
	static const uint32_t e[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 } };
	struct retain_graph g;
	struct retain_result r;
	uint32_t path[8];

	build(&g, 4, sz);
	edges(&g, e, 4);
	retain_compute(&g, &r);
	CHECK(check_ok(&g, &r));
	CHECK_U64(r.idom[1], 0);
	CHECK_U64(r.idom[4], 3);
	CHECK_U64(r.retained_bytes[1], 100);
	CHECK_U64(r.retained_bytes[2], 90);
	CHECK_U64(r.retained_bytes[3], 70);
	CHECK_U64(r.retained_bytes[4], 40);
	CHECK_U64(r.retained_objects[2], 3);
	CHECK_U64(r.reachable, 4);
	CHECK_U64(r.garbage_objects, 0);
	CHECK_U64(retain_path(&r, 4, path, 8), 5);
	CHECK_U64(path[0], 0);
	CHECK_U64(path[2], 2);
	CHECK_U64(path[4], 4);
	CHECK_U64(retain_path(&r, 4, path, 3), 5);  /* too short: length only */
	retain_result_free(&r);
	retain_graph_free(&g);
}

/*
 * A diamond: 0 -> 1, 1 -> 2, 1 -> 3, 2 -> 4, 3 -> 4. Object 4 is reached
 * through 2 or 3, so only 1 dominates it: 1 retains all four, 2 and 3
 * retain only themselves.
 */
static void test_diamond(void)
{
	static const uint64_t sz[] = { 0, 1, 2, 4, 8 };
	static const uint32_t e[][2] = { { 0, 1 }, { 1, 2 }, { 1, 3 }, { 2, 4 }, { 3, 4 } };
	struct retain_graph g;
	struct retain_result r;

	build(&g, 4, sz);
	edges(&g, e, 5);
	retain_compute(&g, &r);
	CHECK(check_ok(&g, &r));
	CHECK_U64(r.idom[4], 1);
	CHECK_U64(r.retained_bytes[1], 15);
	CHECK_U64(r.retained_bytes[2], 2);
	CHECK_U64(r.retained_bytes[3], 4);
	CHECK_U64(r.retained_bytes[4], 8);
	CHECK_U64(r.depth[4], 3);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/*
 * Shared children: the root holds 1 and 2; both refer to 3; 1 alone
 * refers to 4 and 4 to 5. 3 is shared, so the root set is its only
 * dominator; 1 retains 1, 4, 5.
 */
static void test_shared(void)
{
	static const uint64_t sz[] = { 0, 100, 200, 300, 400, 500 };
	static const uint32_t e[][2] = {
		{ 0, 1 }, { 0, 2 }, { 1, 3 }, { 2, 3 }, { 1, 4 }, { 4, 5 },
	};
	struct retain_graph g;
	struct retain_result r;
	uint32_t top[3];

	build(&g, 5, sz);
	edges(&g, e, 6);
	retain_compute(&g, &r);
	CHECK(check_ok(&g, &r));
	CHECK_U64(r.idom[3], 0);
	CHECK_U64(r.idom[5], 4);
	CHECK_U64(r.retained_bytes[1], 1000);
	CHECK_U64(r.retained_bytes[2], 200);
	CHECK_U64(r.retained_bytes[0], 1500);
	/* Ranking: 1 (1000), 4 (900), 5 (500). */
	CHECK_U64(retain_top(&g, &r, top, 3), 3);
	CHECK_U64(top[0], 1);
	CHECK_U64(top[1], 4);
	CHECK_U64(top[2], 5);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/*
 * Cycles: the root holds 1; 1 -> 2 -> 3 -> 1 is a cycle entered at 1,
 * so 1 dominates 2 and 2 dominates 3. Objects 4 <-> 5 form a cycle the
 * root set does not reach: garbage, 2 objects and 9 + 10 bytes. Object
 * 6 is referred to only by the garbage 5: garbage too.
 */
static void test_cycles(void)
{
	static const uint64_t sz[] = { 0, 1, 2, 3, 9, 10, 11 };
	static const uint32_t e[][2] = {
		{ 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 1 }, { 4, 5 }, { 5, 4 }, { 5, 6 },
	};
	struct retain_graph g;
	struct retain_result r;

	build(&g, 6, sz);
	edges(&g, e, 7);
	retain_compute(&g, &r);
	CHECK(check_ok(&g, &r));
	CHECK_U64(r.idom[2], 1);
	CHECK_U64(r.idom[3], 2);
	CHECK_U64(r.retained_bytes[1], 6);
	CHECK_U64(r.retained_bytes[3], 3);
	CHECK_U64(r.garbage_objects, 3);
	CHECK_U64(r.garbage_bytes, 30);
	CHECK_U64(r.idom[4], RETAIN_NONE);
	CHECK_U64(r.retained_bytes[5], 0);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/*
 * The textbook flowgraph of Lengauer and Tarjan's paper (figure 1),
 * with R = node 0 and A..L = 1..12; its dominator tree is given there:
 * idom(R) for A, B, C, D, E, H, I, K; C for F, G; D for L; G for J.
 */
static void test_lt_figure(void)
{
	enum { R, A, B, C, D, E, F, G, H, I, J, K, L };
	static const uint32_t e[][2] = {
		{ R, A }, { R, B }, { R, C }, { A, D }, { B, A }, { B, D }, { B, E },
		{ C, F }, { C, G }, { D, L }, { E, H }, { F, I }, { G, I }, { G, J },
		{ H, E }, { H, K }, { I, K }, { J, I }, { K, I }, { K, R }, { L, H },
	};
	static const uint32_t want[] = {
		[A] = R, [B] = R, [C] = R, [D] = R, [E] = R, [F] = C, [G] = C,
		[H] = R, [I] = R, [J] = G, [K] = R, [L] = D,
	};
	struct retain_graph g;
	struct retain_result r;

	build(&g, 12, NULL);
	edges(&g, e, sizeof e / sizeof e[0]);
	retain_compute(&g, &r);
	CHECK(check_ok(&g, &r));
	for (uint32_t v = A; v <= L; v++)
		CHECK_U64(r.idom[v], want[v]);
	/* C retains C, F, G, J. */
	CHECK_U64(r.retained_objects[C], 4);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/*
 * Groups: types 1 (objects 1, 2) and 2 (object 3). The root holds 1
 * and 2; both refer to 3; 3 refers to 4 (type 2). No single object
 * dominates 3, but removing type 1 (both of its objects) frees 3 and 4
 * as well: type 1 retains all four objects, 15 bytes, while the union
 * of its members' dominator subtrees is only 1 + 2 = 3 bytes.
 */
static void test_groups(void)
{
	static const uint64_t sz[] = { 0, 1, 2, 4, 8 };
	static const uint32_t e[][2] = { { 0, 1 }, { 0, 2 }, { 1, 3 }, { 2, 3 }, { 3, 4 } };
	struct retain_graph g;
	struct retain_result r;
	struct retain_group *grp;
	size_t n;

	build(&g, 4, sz);
	g.type[1] = g.type[2] = 1;
	g.type[3] = g.type[4] = 2;
	edges(&g, e, 5);
	retain_compute(&g, &r);
	n = retain_groups(&g, &r, g.type, 3, 10, &grp);
	CHECK_U64(n, 2);
	CHECK_U64(grp[0].key, 1);
	CHECK_U64(grp[0].retained_bytes, 15);
	CHECK_U64(grp[0].retained_objects, 4);
	CHECK_U64(grp[0].objects, 2);
	CHECK_U64(grp[0].bytes, 3);
	CHECK(grp[0].exact);
	/* Type 2: 3 dominates 4, so 12 bytes. */
	CHECK_U64(grp[1].key, 2);
	CHECK_U64(grp[1].retained_bytes, 12);
	free(grp);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/* ---- random graphs against the definition ---- */

static uint64_t rng_state = 88172645463325252u;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Reachable from node 0 with node `skip` removed (RETAIN_NONE: none). */
static void reach(const struct retain_graph *g, uint32_t skip, unsigned char *seen)
{
	uint32_t *stack = malloc(((size_t)g->n + 1) * sizeof *stack);
	size_t sp = 0;

	memset(seen, 0, (size_t)g->n + 1);
	seen[0] = 1;
	stack[sp++] = 0;
	while (sp) {
		uint32_t v = stack[--sp];

		for (uint64_t i = g->off[v]; i < g->off[v + 1]; i++) {
			uint32_t w = g->ref[i];

			if (!seen[w] && w != skip) {
				seen[w] = 1;
				stack[sp++] = w;
			}
		}
	}
	free(stack);
}

/*
 * The retained bytes of d by the definition: the bytes of the objects
 * reachable before and not after d is removed.
 */
static uint64_t naive_retained(const struct retain_graph *g, uint32_t d,
			       const unsigned char *all, unsigned char *tmp)
{
	uint64_t sum = 0;

	reach(g, d, tmp);
	for (uint32_t v = 1; v <= g->n; v++)
		if (all[v] && !tmp[v])
			sum += g->size[v];
	return sum;
}

static void test_random(void)
{
	for (int round = 0; round < 300; round++) {
		uint32_t n = 1 + rnd(40), m = rnd(3 * n + 1), roots = 1 + rnd(3);
		struct retain_graph g;
		struct retain_result r;
		unsigned char *all = malloc(n + 1), *tmp = malloc(n + 1);
		int bad = 0;

		build(&g, n, NULL);
		for (uint32_t v = 1; v <= n; v++)
			g.size[v] = 1 + rnd(1000);
		for (uint32_t i = 0; i < roots; i++)
			retain_graph_edge(&g, 0, 1 + rnd(n));
		for (uint32_t i = 0; i < m; i++)
			retain_graph_edge(&g, 1 + rnd(n), 1 + rnd(n));
		retain_graph_seal(&g);
		retain_compute(&g, &r);
		reach(&g, RETAIN_NONE, all);
		for (uint32_t v = 1; v <= n && !bad; v++) {
			uint64_t want = all[v] ? naive_retained(&g, v, all, tmp) : 0;

			if (r.retained_bytes[v] != want) {
				printf("# round %d: object %u retains %llu, by definition %llu\n",
				       round, v, (unsigned long long)r.retained_bytes[v],
				       (unsigned long long)want);
				bad = 1;
			}
			if (!all[v] != (r.idom[v] == RETAIN_NONE))
				bad = printf("# round %d: reachability of %u\n", round, v) > 0;
		}
		CHECK(!bad);
		CHECK(check_ok(&g, &r));
		retain_result_free(&r);
		retain_graph_free(&g);
		free(all);
		free(tmp);
		if (bad)
			break;
	}
}

/*
 * The accumulation point, by hand. (a) 0 -> 1 -> 2 -> {3..12}, 10 bytes
 * each: 1 retains 120, 2 retains 110 (91.7% of 120: step), each of 2's
 * ten children 10 (9.1% of 110: stop): the point is 2, with 10
 * children. (b) the root set holds five 10-byte objects: the biggest is
 * 20% of 50, no point (0). (c) the 80% threshold is inclusive:
 * 0 -> 1 (20 B) -> 2 (80 B) steps to 2 (80 of 100); with 21 and 79 it
 * stops at 1.
 */
static void test_accumulation(void)
{
	struct retain_graph g;
	struct retain_result r;
	uint64_t kids;

	build(&g, 12, NULL);
	for (uint32_t v = 1; v <= 12; v++)
		g.size[v] = 10;
	retain_graph_edge(&g, 0, 1);
	retain_graph_edge(&g, 1, 2);
	for (uint32_t v = 3; v <= 12; v++)
		retain_graph_edge(&g, 2, v);
	retain_graph_seal(&g);
	retain_compute(&g, &r);
	CHECK_U64(retain_accumulation(&g, &r, 80, &kids), 2);
	CHECK_U64(kids, 10);
	retain_result_free(&r);
	retain_graph_free(&g);

	build(&g, 5, NULL);
	for (uint32_t v = 1; v <= 5; v++) {
		g.size[v] = 10;
		retain_graph_edge(&g, 0, v);
	}
	retain_graph_seal(&g);
	retain_compute(&g, &r);
	CHECK_U64(retain_accumulation(&g, &r, 80, &kids), 0);
	CHECK_U64(kids, 5);
	retain_result_free(&r);
	retain_graph_free(&g);

	for (int k = 0; k < 2; k++) {
		const uint64_t sz[] = { 0, k ? 21 : 20, k ? 79 : 80 };
		static const uint32_t e[][2] = { { 0, 1 }, { 1, 2 } };

		build(&g, 2, sz);
		edges(&g, e, 2);
		retain_compute(&g, &r);
		CHECK_U64(retain_accumulation(&g, &r, 80, &kids), k ? 1 : 2);
		CHECK_U64(kids, k ? 1 : 0);
		retain_result_free(&r);
		retain_graph_free(&g);
	}
}

/*
 * The icicle of a small tree by hand: 0 -> 1 (10 B) -> {2 (50 B), 3
 * (30 B), 4 (1 B)}, 2 -> 5 (20 B). Retained: 1: 111, 2: 70, 3: 30, 4: 1,
 * 5: 20. With min 2 bytes and depth 3: root [0, 111), 1 [0, 111), then
 * 1's children biggest first, 2 [0, 70) and 3 [70, 100) (4 is too small),
 * then 5 [0, 20) under 2. Depth 1 stops after 1.
 */
static void test_icicle(void)
{
	static const uint64_t sz[] = { 0, 10, 50, 30, 1, 20 };
	static const uint32_t e[][2] = { { 0, 1 }, { 1, 4 }, { 1, 3 }, { 1, 2 }, { 2, 5 } };
	struct retain_graph g;
	struct retain_result r;
	struct retain_cell *c;
	size_t n;

	build(&g, 5, sz);
	edges(&g, e, 5);
	retain_compute(&g, &r);
	n = retain_icicle(&g, &r, 3, 2, &c);
	CHECK_U64(n, 5);
	if (n == 5) {
		CHECK_U64(c[0].node, 0);
		CHECK_U64(c[1].node, 1);
		CHECK_U64(c[1].depth, 1);
		CHECK_U64(c[2].node, 2);
		CHECK_U64(c[2].start, 0);
		CHECK_U64(c[3].node, 3);
		CHECK_U64(c[3].start, 70);
		CHECK_U64(c[4].node, 5);
		CHECK_U64(c[4].depth, 3);
		CHECK_U64(c[4].start, 0);
	}
	free(c);
	CHECK_U64(retain_icicle(&g, &r, 1, 2, &c), 2);
	free(c);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/* ---- big shapes: no recursion ---- */

/* The 10 million; the same shapes, smaller, under ASan and the
 * debug build (10^6) and under memcheck (MEMSIM_VALGRIND=1: 10^5). */
#if defined(__SANITIZE_ADDRESS__) || defined(MEMSIM_DEBUG)
#define BIG_DEFAULT 1000000u
#else
#define BIG_DEFAULT 10000000u
#endif
static uint32_t big = BIG_DEFAULT;

/*
 * One chain of big objects of 16 bytes, held at its head: object k
 * retains (big - k + 1) * 16 bytes and its path has k references.
 */
static void test_big_chain(void)
{
	struct retain_graph g;
	struct retain_result r;
	uint32_t top[2];

	retain_graph_init(&g, big);
	for (uint32_t v = 1; v <= big; v++) {
		g.id[v] = v;
		g.size[v] = 16;
		retain_graph_edge(&g, v - 1, v);
	}
	retain_graph_seal(&g);
	retain_compute(&g, &r);
	CHECK_U64(r.reachable, big);
	CHECK_U64(r.retained_bytes[1], (uint64_t)big * 16);
	CHECK_U64(r.retained_bytes[big / 2], (uint64_t)(big - big / 2 + 1) * 16);
	CHECK_U64(r.idom[big], big - 1);
	CHECK_U64(r.depth[big], big);
	CHECK_U64(retain_top(&g, &r, top, 2), 2);
	CHECK_U64(top[1], 2);
	retain_result_free(&r);
	retain_graph_free(&g);
}

/*
 * One cycle of big objects, entered from the root set at object 1:
 * the dominator tree is the chain 1, 2, ..., big (the back reference
 * big -> 1 changes nothing); as garbage (no root) all big are garbage.
 */
static void test_big_cycle(void)
{
	struct retain_graph g;
	struct retain_result r;

	for (int rooted = 1; rooted >= 0; rooted--) {
		retain_graph_init(&g, big);
		for (uint32_t v = 1; v <= big; v++) {
			g.id[v] = v;
			g.size[v] = 8;
			if (v > 1)
				retain_graph_edge(&g, v - 1, v);
		}
		retain_graph_edge(&g, big, 1);
		if (rooted)
			retain_graph_edge(&g, 0, 1);
		retain_graph_seal(&g);
		retain_compute(&g, &r);
		if (rooted) {
			CHECK_U64(r.retained_bytes[1], (uint64_t)big * 8);
			CHECK_U64(r.retained_bytes[big], 8);
			CHECK_U64(r.idom[big], big - 1);
			CHECK_U64(r.garbage_objects, 0);
		} else {
			CHECK_U64(r.reachable, 0);
			CHECK_U64(r.garbage_objects, big);
			CHECK_U64(r.garbage_bytes, (uint64_t)big * 8);
		}
		retain_result_free(&r);
		retain_graph_free(&g);
	}
}

/* From a heap: IDs sorted, roots from the root set, edges as added. */
static void test_from_heap(void)
{
	struct heap *h = heap_create(NULL);
	struct ms_error err = { 0 };
	static const struct event ev[] = {
		{ .kind = EVENT_ALLOC, .id = 30, .u.size = 8 },
		{ .kind = EVENT_ALLOC, .id = 10, .u.size = 16 },
		{ .kind = EVENT_ALLOC, .id = 20, .u.size = 32 },
		{ .kind = EVENT_REF_ADD, .id = 30, .u.dst = 20 },
		{ .kind = EVENT_REF_ADD, .id = 20, .u.dst = 10 },
		{ .kind = EVENT_REF_DROP, .id = 0, .u.dst = 20 },
		{ .kind = EVENT_REF_DROP, .id = 0, .u.dst = 10 },
	};
	struct retain_graph g;
	struct retain_result r;

	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
		CHECK_U64(heap_apply(h, &ev[i], &err), 0);
	retain_graph_from_heap(&g, h, NULL);
	heap_destroy(h);
	CHECK_U64(g.n, 3);
	CHECK_U64(g.id[1], 10);
	CHECK_U64(g.id[3], 30);
	CHECK_U64(retain_graph_refs(&g), 2);
	retain_compute(&g, &r);
	/* 30 -> 20 -> 10: 30 retains 56 bytes. */
	CHECK_U64(r.retained_bytes[3], 56);
	CHECK_U64(r.idom[1], 2);
	retain_result_free(&r);
	retain_graph_free(&g);
}

int main(void)
{
	const char *vg = getenv("MEMSIM_VALGRIND");

	if (vg && strcmp(vg, "1") == 0)
		big = 100000u;
	TEST_RUN(test_chain);
	TEST_RUN(test_diamond);
	TEST_RUN(test_shared);
	TEST_RUN(test_cycles);
	TEST_RUN(test_lt_figure);
	TEST_RUN(test_groups);
	TEST_RUN(test_accumulation);
	TEST_RUN(test_icicle);
	TEST_RUN(test_random);
	TEST_RUN(test_from_heap);
	TEST_RUN(test_big_chain);
	TEST_RUN(test_big_cycle);
	return test_done();
}
