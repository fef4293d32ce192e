/*
 * test_freelist.c - the free-list policies against hand-counted results.
 *
 * Every test drives a policy directly, as the runtime would (take() on a
 * creation, allocating when it says 0; give() on a death, freeing when it
 * says 0), over the real allocator models: pymalloc over glibc, with
 * glibc as the system allocator Python 2's int and float blocks come
 * from. Expected numbers come from the limits in CPython's sources
 * (docs/freelists.md) and the arithmetic in each comment.
 */
#include <stdlib.h>

#include "alloc.h"
#include "freelist.h"
#include "test.h"
#include "typetab.h"

extern const struct alloc_policy alloc_pymalloc;
extern const struct alloc_policy alloc_ptmalloc;
extern const struct freelist_policy freelist_pertype;
extern const struct freelist_policy freelist_shared;
extern const struct freelist_policy freelist_none;

/* A policy instance over a fresh allocator stack and type table. */
struct rig {
	struct alloc_inst sys, obj;
	struct typetab *types;
	struct freelist_env env;
	const struct freelist_policy *pol;
	void *fl;
	uint64_t alloc_calls, free_calls;   /* the runtime's allocator traffic */
};

static void rig_open(struct rig *r, const struct freelist_policy *pol, const void *params)
{
	memset(r, 0, sizeof *r);
	r->sys.policy = &alloc_ptmalloc;
	r->sys.state = alloc_ptmalloc.create(alloc_ptmalloc.defaults, NULL);
	r->obj.policy = &alloc_pymalloc;
	r->obj.state = alloc_pymalloc.create(alloc_pymalloc.defaults, &r->sys);
	r->types = typetab_create();
	r->env = (struct freelist_env){ .types = r->types, .alloc = &r->obj, .sys = &r->sys };
	r->pol = pol;
	r->fl = pol->create(params ? params : pol->defaults, &r->env);
}

static void rig_close(struct rig *r)
{
	r->pol->destroy(r->fl);
	alloc_pymalloc.destroy(r->obj.state);
	alloc_ptmalloc.destroy(r->sys.state);
	typetab_destroy(r->types);
}

static uint32_t ty(struct rig *r, const char *name)
{
	return typetab_intern(r->types, name, strlen(name));
}

/* A creation as the runtime does it. */
static uint64_t mk(struct rig *r, uint32_t type, uint64_t size)
{
	uint64_t addr = 0;

	if (r->pol->take(r->fl, type, size, &addr))
		return addr;
	r->alloc_calls++;
	return r->obj.policy->alloc(r->obj.state, size);
}

/* A death as the runtime does it. */
static void rm(struct rig *r, uint32_t type, uint64_t size, uint64_t addr)
{
	if (r->pol->give(r->fl, type, size, addr))
		return;
	r->free_calls++;
	r->obj.policy->free(r->obj.state, addr, size);
}

static struct freelist_stats st(struct rig *r)
{
	struct freelist_stats s;

	r->pol->stats(r->fl, &s);
	return s;
}

static struct alloc_stats sys_stats(struct rig *r)
{
	struct alloc_stats s;

	r->sys.policy->stats(r->sys.state, &s);
	return s;
}

struct type_query {
	const char *type;
	struct freelist_type_counts c;
	int found;
};

static void type_row(void *ctx, const char *type, const struct freelist_type_counts *c)
{
	struct type_query *q = ctx;

	if (strcmp(type, q->type) == 0) {
		q->c = *c;
		q->found = 1;
	}
}

struct list_query {
	const char *list;
	uint64_t parked;
	int found;
};

static void list_row(void *ctx, const char *list, uint64_t parked)
{
	struct list_query *q = ctx;

	if (strcmp(list, q->list) == 0) {
		q->parked = parked;
		q->found = 1;
	}
}

static int is_col(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && strncmp(key, name, len) == 0;
}

/* "COLUMN.TYPE" of the policy's per-type rows (hits.list, blocks.int),
 * "parked.LIST" of its lists, or held_bytes_peak of its totals. */
static uint64_t detail(struct rig *r, const char *key)
{
	const char *dot = strchr(key, '.');
	struct type_query q = { .type = dot ? dot + 1 : "" };
	size_t col = dot ? (size_t)(dot - key) : 0;

	if (dot && is_col(key, col, "parked")) {
		/* parked.LIST: the lists' own counts (lists()) */
		struct list_query lq = { .list = dot + 1 };

		if (r->pol->lists)
			r->pol->lists(r->fl, &lq, list_row);
		if (lq.found)
			return lq.parked;
	} else if (!dot) {
		struct freelist_stats st;

		r->pol->stats(r->fl, &st);
		if (strcmp(key, "held_bytes_peak") == 0)
			return st.held_peak;
	} else {
		r->pol->types(r->fl, &q, type_row);
	}
	if (q.found) {
		if (is_col(key, col, "hits"))
			return q.c.hits;
		if (is_col(key, col, "misses"))
			return q.c.misses;
		if (is_col(key, col, "blocked_bytes"))
			return q.c.blocked;
		if (is_col(key, col, "held_bytes") && q.c.has_held)
			return q.c.held;
		if (is_col(key, col, "blocks_freed") && q.c.has_blocks)
			return q.c.blocks_freed;
		if (is_col(key, col, "blocks") && q.c.has_blocks)
			return q.c.blocks;
	}
	printf("# detail %s missing\n", key);
	return UINT64_MAX;
}

static void set_knob(const struct freelist_policy *pol, void *params,
		     const char *name, uint64_t v)
{
	for (size_t i = 0; i < pol->nknobs; i++) {
		const struct knob *k = &pol->knobs[i];

		if (strcmp(k->name, name) != 0)
			continue;
		if (k->kind == KNOB_UINT)
			*knob_uint(params, k) = v;
		else
			*knob_int(params, k) = (int)v;
		return;
	}
	printf("# no knob %s\n", name);
	test_fail_();
}

/* per-type as CPython 2.7: blocks, tuple lengths 1..19, 56-byte empty
 * tuple, gc clears tuples/frames/ints/floats but not lists and dicts. */
static void *params_27(void)
{
	void *p = malloc(freelist_pertype.params_size);

	memcpy(p, freelist_pertype.defaults, freelist_pertype.params_size);
	set_knob(&freelist_pertype, p, "python2_blocks", 1);
	set_knob(&freelist_pertype, p, "tuple_max_length", 19);
	set_knob(&freelist_pertype, p, "tuple_base", 56);
	set_knob(&freelist_pertype, p, "dict_keys_limit", 0);
	set_knob(&freelist_pertype, p, "frame_limit", 200);
	set_knob(&freelist_pertype, p, "gc_clears_containers", 0);
	return p;
}

static void test_registry(void)
{
	CHECK(freelist_find("per-type") == &freelist_pertype);
	CHECK(freelist_find("shared") == &freelist_shared);
	CHECK(freelist_find("none") == &freelist_none);
	CHECK(freelist_find("pertype") == NULL);
	CHECK_STR(freelist_policies[0]->name, "per-type");
	CHECK(freelist_policies[3] == NULL);
}

static void test_validate(void)
{
	char msg[128] = "";
	void *p = params_27();

	CHECK_I64(freelist_pertype.validate(p, msg, sizeof msg), 0);
	set_knob(&freelist_pertype, p, "block_size", 20);   /* 8 + 24 > 20 */
	CHECK_I64(freelist_pertype.validate(p, msg, sizeof msg), -1);
	CHECK_STR(msg, "per-type: block_size must hold block_header and one object");
	free(p);
}

/* 100 lists created, 100 freed, 100 created: PyList_MAXFREELIST is 80,
 * so the deaths park 80 headers and free 20; the second batch takes the
 * 80 (hits) and allocates 20 (misses). First batch: 100 misses. */
static void test_list_churn(void)
{
	struct rig r;
	uint64_t a[100];

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t list = ty(&r, "list");

	for (int i = 0; i < 100; i++)
		a[i] = mk(&r, list, 56);
	for (int i = 0; i < 100; i++)
		rm(&r, list, 56, a[i]);
	CHECK_U64(r.free_calls, 20);
	CHECK_U64(st(&r).held_bytes, 80 * 56);
	CHECK_U64(st(&r).held_blocks, 80);
	for (int i = 0; i < 100; i++)
		a[i] = mk(&r, list, 56);
	CHECK_U64(st(&r).hits, 80);
	CHECK_U64(st(&r).misses, 120);
	CHECK_U64(r.alloc_calls, 120);
	CHECK_U64(st(&r).held_bytes, 0);
	CHECK_U64(detail(&r, "hits.list"), 80);
	CHECK_U64(detail(&r, "misses.list"), 120);
	CHECK_U64(detail(&r, "held_bytes_peak"), 80 * 56);
	/* LIFO: the last header parked (a[79] of the first batch) came back
	 * first; a size that is not a list header's is a miss. */
	rm(&r, list, 56, a[0]);
	CHECK_U64(mk(&r, list, 64) != 0, 1);
	CHECK_U64(st(&r).misses, 121);
	rig_close(&r);
}

/* Tuple length = (size - tuple_base) / 8. 3.11: base 40, lengths 1..20
 * kept, 1..19 reused (3.11.7 and 3.12.1 keep dead 20-tuples but make new
 * ones afresh, measured); 3.13: 1..20 reused; 2.7: base 56, lengths
 * 1..19. */
static void test_tuple_lengths(void)
{
	struct rig r;

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t tup = ty(&r, "tuple");

	CHECK_I64(freelist_pertype.give(r.fl, tup, 48, 0x1000), 1);   /* len 1 */
	CHECK_I64(freelist_pertype.give(r.fl, tup, 200, 0x2000), 1);  /* len 20 */
	CHECK_I64(freelist_pertype.give(r.fl, tup, 208, 0x3000), 0);  /* len 21 */
	CHECK_I64(freelist_pertype.give(r.fl, tup, 40, 0x4000), 0);   /* len 0 */
	CHECK_I64(freelist_pertype.give(r.fl, tup, 44, 0x5000), 0);   /* not 40+8n */
	uint64_t addr = 0;

	/* A length-2 request (56) finds nothing: only lengths 1 and 20 held;
	 * the 20-tuple is held but, in 3.11, never served. */
	CHECK_I64(freelist_pertype.take(r.fl, tup, 56, &addr), 0);
	CHECK_I64(freelist_pertype.take(r.fl, tup, 200, &addr), 0);
	CHECK_I64(freelist_pertype.take(r.fl, tup, 48, &addr), 1);
	CHECK_U64(addr, 0x1000);
	rig_close(&r);

	void *p = malloc(freelist_pertype.params_size);

	memcpy(p, freelist_pertype.defaults, freelist_pertype.params_size);
	set_knob(&freelist_pertype, p, "tuple_reuse_max_length", 20);
	rig_open(&r, &freelist_pertype, p);
	tup = ty(&r, "tuple");
	CHECK_I64(freelist_pertype.give(r.fl, tup, 200, 0x2000), 1);
	CHECK_I64(freelist_pertype.take(r.fl, tup, 200, &addr), 1);    /* 3.13 */
	CHECK_U64(addr, 0x2000);
	rig_close(&r);
	free(p);

	p = params_27();

	rig_open(&r, &freelist_pertype, p);
	tup = ty(&r, "tuple");
	CHECK_I64(freelist_pertype.give(r.fl, tup, 64, 0x1000), 1);   /* len 1 */
	CHECK_I64(freelist_pertype.give(r.fl, tup, 208, 0x2000), 1);  /* len 19 */
	CHECK_I64(freelist_pertype.give(r.fl, tup, 216, 0x3000), 0);  /* len 20 */
	rig_close(&r);
	free(p);
}

/* tuple_limit per length: 2000 of length 3 park, the 2001st is freed. */
static void test_tuple_limit(void)
{
	struct rig r;

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t tup = ty(&r, "tuple");

	for (uint64_t i = 0; i < 2000; i++)
		CHECK_I64(freelist_pertype.give(r.fl, tup, 64, 0x10000 + 64 * i), 1);
	CHECK_I64(freelist_pertype.give(r.fl, tup, 64, 0x90000), 0);
	CHECK_I64(freelist_pertype.give(r.fl, tup, 72, 0x90000), 1);  /* length 4 */
	CHECK_U64(st(&r).held_bytes, 2000 * 64 + 72);
	rig_close(&r);
}

/*
 * Python 2 ints: (1000 - 8) / 24 = 41 objects per block, each block a
 * malloc(8 + 41 * 24 = 992) from the system. 1,000,000 ints need
 * ceil(1e6 / 41) = 24391 blocks (41 * 24390 = 999,990 < 1e6). Each new
 * block is one miss: 24391 misses, 975,609 hits. Freeing them all keeps
 * every block (held: 24391 * 41 * 24 = 24,000,744 bytes); a 2.6+ full
 * collection gives all 24391 back.
 */
static void test_python2_int_blocks(void)
{
	struct rig r;
	void *p = params_27();
	uint64_t *a = malloc(1000000 * sizeof *a);

	rig_open(&r, &freelist_pertype, p);
	uint32_t integer = ty(&r, "int");

	for (int i = 0; i < 1000000; i++)
		a[i] = mk(&r, integer, 24);
	CHECK_U64(r.alloc_calls, 0);
	CHECK_U64(sys_stats(&r).blocks, 24391);
	CHECK_U64(sys_stats(&r).requested, 24391ull * 992);
	CHECK_U64(st(&r).misses, 24391);
	CHECK_U64(st(&r).hits, 1000000 - 24391);
	/* 24391 * 41 - 1e6 = 31 objects of the last block are still free. */
	CHECK_U64(st(&r).held_bytes, 31 * 24);
	/* The first block hands out its highest object first. */
	CHECK_U64(a[0] - a[1], 24);
	for (int i = 0; i < 1000000; i++)
		rm(&r, integer, 24, a[i]);
	CHECK_U64(r.free_calls, 0);
	CHECK_U64(sys_stats(&r).blocks, 24391);
	CHECK_U64(st(&r).held_bytes, 24000744);
	CHECK_U64(detail(&r, "blocks.int"), 24391);
	freelist_pertype.clear(r.fl);
	CHECK_U64(sys_stats(&r).blocks, 0);
	CHECK_U64(st(&r).held_bytes, 0);
	CHECK_U64(detail(&r, "blocks_freed.int"), 24391);
	rig_close(&r);

	/* 2.4 / 2.5: no clear_freelists; the blocks stay for good. */
	set_knob(&freelist_pertype, p, "gc_clears", 0);
	rig_open(&r, &freelist_pertype, p);
	integer = ty(&r, "int");
	for (int i = 0; i < 1000; i++)
		a[i] = mk(&r, integer, 24);
	for (int i = 0; i < 1000; i++)
		rm(&r, integer, 24, a[i]);
	freelist_pertype.clear(r.fl);
	CHECK_U64(sys_stats(&r).blocks, 25);        /* ceil(1000 / 41) */
	rig_close(&r);
	free(a);
	free(p);
}

/*
 * PyInt_ClearFreeList keeps a block with a live object and rebuilds the
 * free list from its free objects. Two blocks (82 ints): block A (first)
 * keeps one live int, everything else dies. clear() frees block B; the
 * next int comes from A's free objects, the 41st from a new block.
 */
static void test_python2_clear_rebuild(void)
{
	struct rig r;
	void *p = params_27();
	uint64_t a[82];

	rig_open(&r, &freelist_pertype, p);
	uint32_t integer = ty(&r, "int");

	for (int i = 0; i < 82; i++)
		a[i] = mk(&r, integer, 24);
	/* a[0] is A's object 40 (highest first); A's base = a[0] - 8 - 40*24. */
	uint64_t base_a = a[0] - 8 - 40 * 24;

	for (int i = 1; i < 82; i++)
		rm(&r, integer, 24, a[i]);
	freelist_pertype.clear(r.fl);
	CHECK_U64(sys_stats(&r).blocks, 1);
	CHECK_U64(st(&r).held_bytes, 40 * 24);
	/* Rebuilt list: A's free objects 0..39 pushed lowest first, so the
	 * highest free one (39) pops first. */
	uint64_t x = mk(&r, integer, 24);

	CHECK_U64(x, base_a + 8 + 39 * 24);
	rig_close(&r);
	free(p);
}

/*
 * Seed 002 under 2.7: a million ints die, then a million floats are made.
 * The floats cannot use the ints' 24,000,744 parked bytes: 24391 new
 * float blocks, each a 992-byte miss while other types' caches held at
 * least 992 bytes: blocked_bytes = 24391 * 992 = 24,195,872.
 */
static void test_int_then_float_blocked(void)
{
	struct rig r;
	void *p = params_27();
	uint64_t *a = malloc(1000000 * sizeof *a);

	rig_open(&r, &freelist_pertype, p);
	uint32_t integer = ty(&r, "int"), flt = ty(&r, "float");

	for (int i = 0; i < 1000000; i++)
		a[i] = mk(&r, integer, 24);
	for (int i = 0; i < 1000000; i++)
		rm(&r, integer, 24, a[i]);
	CHECK_U64(st(&r).blocked_bytes, 0);
	for (int i = 0; i < 1000000; i++)
		a[i] = mk(&r, flt, 24);
	CHECK_U64(sys_stats(&r).blocks, 2 * 24391);
	CHECK_U64(st(&r).blocked_bytes, 24391ull * 992);
	CHECK_U64(detail(&r, "blocked_bytes.float"), 24391ull * 992);
	CHECK_U64(detail(&r, "held_bytes.int"), 24000744);
	CHECK_U64(detail(&r, "misses.float"), 24391);
	rig_close(&r);
	free(a);
	free(p);
}

/* The same scenario with the shared cache: every float reuses an int's
 * block (1e6 hits), nothing new is allocated, nothing is blocked. The
 * bound must hold a million 24-byte blocks: 24e6 bytes. */
static void test_shared_floats_from_ints(void)
{
	struct rig r;
	void *p = malloc(freelist_shared.params_size);
	uint64_t *a = malloc(1000000 * sizeof *a);

	memcpy(p, freelist_shared.defaults, freelist_shared.params_size);
	set_knob(&freelist_shared, p, "max_bytes", 24000000);
	rig_open(&r, &freelist_shared, p);
	uint32_t integer = ty(&r, "int"), flt = ty(&r, "float");

	for (int i = 0; i < 1000000; i++)
		a[i] = mk(&r, integer, 24);
	uint64_t last_int = a[999999];

	for (int i = 0; i < 1000000; i++)
		rm(&r, integer, 24, a[i]);
	CHECK_U64(st(&r).held_bytes, 24000000);
	CHECK_U64(r.free_calls, 0);
	uint64_t f = mk(&r, flt, 24);

	CHECK_U64(f, last_int);     /* LIFO across types */
	for (int i = 1; i < 1000000; i++)
		a[i] = mk(&r, flt, 24);
	CHECK_U64(r.alloc_calls, 1000000);  /* only the ints */
	CHECK_U64(detail(&r, "hits.float"), 1000000);
	CHECK_U64(detail(&r, "misses.float"), 0);
	CHECK_U64(st(&r).blocked_bytes, 0);
	CHECK_U64(st(&r).held_bytes, 0);
	rig_close(&r);
	free(a);
	free(p);
}

/* max_bytes 100: four 24-byte blocks (96) fit, the fifth (120) does not;
 * sizes above max_size and untyped objects are never parked. */
static void test_shared_bound(void)
{
	struct rig r;
	void *p = malloc(freelist_shared.params_size);

	memcpy(p, freelist_shared.defaults, freelist_shared.params_size);
	set_knob(&freelist_shared, p, "max_bytes", 100);
	rig_open(&r, &freelist_shared, p);
	uint32_t integer = ty(&r, "int");

	for (uint64_t i = 0; i < 4; i++)
		CHECK_I64(freelist_shared.give(r.fl, integer, 24, 0x1000 + 32 * i), 1);
	CHECK_I64(freelist_shared.give(r.fl, integer, 24, 0x2000), 0);
	CHECK_I64(freelist_shared.give(r.fl, integer, 4, 0x2000), 1);    /* 100 */
	CHECK_I64(freelist_shared.give(r.fl, TYPETAB_UNTYPED, 1, 0x3000), 0);
	CHECK_U64(st(&r).held_bytes, 100);
	freelist_shared.clear(r.fl);    /* the blocks are not the allocator's:
					 * glibc's free ignores them */
	CHECK_U64(st(&r).held_bytes, 0);
	rig_close(&r);

	/* max_size 512: a 600-byte object goes to the allocator. */
	rig_open(&r, &freelist_shared, NULL);
	integer = ty(&r, "str");
	uint64_t x = mk(&r, integer, 600);

	rm(&r, integer, 600, x);
	CHECK_U64(r.free_calls, 1);
	rig_close(&r);
	free(p);
}

/* "listed": only the per-type policy's names use the shared cache. */
static void test_shared_listed(void)
{
	struct rig r;
	void *p = malloc(freelist_shared.params_size);

	memcpy(p, freelist_shared.defaults, freelist_shared.params_size);
	set_knob(&freelist_shared, p, "types", 1);
	rig_open(&r, &freelist_shared, p);
	CHECK_I64(freelist_shared.give(r.fl, ty(&r, "str"), 24, 0x1000), 0);
	CHECK_I64(freelist_shared.give(r.fl, ty(&r, "float"), 24, 0x1000), 1);
	rig_close(&r);
	free(p);
}

/*
 * blocked_bytes by hand (3.11 per-type): 10 floats parked (240 bytes).
 * A list (56) misses while floats hold 240 >= 56: +56. A dict (64): +64.
 * A float hits (floats now hold 216). A 300-byte str misses but 216 < 300:
 * nothing. Total 120. A float miss never counts its own type's bytes.
 */
static void test_blocked_by_hand(void)
{
	struct rig r;
	uint64_t f[10];

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t flt = ty(&r, "float"), list = ty(&r, "list");
	uint32_t dict = ty(&r, "dict"), str = ty(&r, "str");

	for (int i = 0; i < 10; i++)
		f[i] = mk(&r, flt, 24);
	for (int i = 0; i < 10; i++)
		rm(&r, flt, 24, f[i]);
	CHECK_U64(st(&r).blocked_bytes, 0);
	mk(&r, list, 56);
	mk(&r, dict, 64);
	mk(&r, flt, 24);
	mk(&r, str, 300);
	CHECK_U64(st(&r).blocked_bytes, 120);
	CHECK_U64(detail(&r, "blocked_bytes.list"), 56);
	CHECK_U64(detail(&r, "blocked_bytes.dict"), 64);
	CHECK_U64(detail(&r, "blocked_bytes.str"), 0);
	CHECK_U64(detail(&r, "misses.str"), 1);
	rig_close(&r);
}

/* float_limit 100 (3.x): 150 floats die, 100 park, 50 are freed. */
static void test_float_limit(void)
{
	struct rig r;
	uint64_t f[150];

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t flt = ty(&r, "float");

	for (int i = 0; i < 150; i++)
		f[i] = mk(&r, flt, 24);
	for (int i = 0; i < 150; i++)
		rm(&r, flt, 24, f[i]);
	CHECK_U64(r.free_calls, 50);
	CHECK_U64(st(&r).held_bytes, 2400);
	rig_close(&r);
}

/* Dict keys: only the PyDict_MINSIZE size (120 in 3.11+) is kept; the
 * trace name is "dictkeys" ("dict_keys" is the view type: allocator). */
static void test_dictkeys(void)
{
	struct rig r;

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t dk = ty(&r, "dictkeys"), view = ty(&r, "dict_keys");

	CHECK_I64(freelist_pertype.give(r.fl, dk, 120, 0x1000), 1);
	CHECK_I64(freelist_pertype.give(r.fl, dk, 160, 0x2000), 0);
	CHECK_I64(freelist_pertype.give(r.fl, view, 48, 0x3000), 0);
	rig_close(&r);
}

/* Full collection: 3.x empties list lists too; 2.7 keeps them. */
static void test_clear_versions(void)
{
	struct rig r;
	uint64_t a[10];
	void *p = params_27();

	for (int v = 0; v < 2; v++) {
		rig_open(&r, &freelist_pertype, v ? p : NULL);
		uint32_t list = ty(&r, "list"), tup = ty(&r, "tuple");
		uint64_t tsize = v ? 64 : 48;    /* a 1-tuple */

		for (int i = 0; i < 10; i++)
			a[i] = mk(&r, list, 56);
		for (int i = 0; i < 10; i++)
			rm(&r, list, 56, a[i]);
		uint64_t t = mk(&r, tup, tsize);

		rm(&r, tup, tsize, t);
		CHECK_U64(st(&r).held_bytes, 560 + tsize);
		r.pol->clear(r.fl);
		CHECK_U64(st(&r).held_bytes, v ? 560 : 0);
		rig_close(&r);
	}
	free(p);
}

/* Frames (<= 3.10): a parked 400-byte frame serves a 480-byte request,
 * resized through the allocator to the request. */
static void test_frame_resize(void)
{
	struct rig r;
	void *p = params_27();

	rig_open(&r, &freelist_pertype, p);
	uint32_t fr = ty(&r, "frame");
	uint64_t a = mk(&r, fr, 400);

	rm(&r, fr, 400, a);
	CHECK_U64(st(&r).held_bytes, 400);
	uint64_t b = mk(&r, fr, 480);

	CHECK(b != 0);
	CHECK_U64(st(&r).hits, 1);
	rm(&r, fr, 480, b);
	CHECK_U64(st(&r).held_bytes, 480);
	rig_close(&r);
	free(p);
}

static void test_none(void)
{
	struct rig r;

	rig_open(&r, &freelist_none, NULL);
	uint32_t flt = ty(&r, "float");
	uint64_t a = mk(&r, flt, 24);

	mk(&r, TYPETAB_UNTYPED, 100);
	rm(&r, flt, 24, a);
	CHECK_U64(r.free_calls, 1);
	CHECK_U64(st(&r).misses, 1);
	CHECK_U64(st(&r).hits, 0);
	CHECK_U64(st(&r).held_bytes, 0);
	CHECK_U64(detail(&r, "misses.float"), 1);
	rig_close(&r);
}

/* 3.13's other lists: one slice (never cleared by a collection), 255
 * contexts, 80 async-generator values and 80 asend objects; parked.NAME
 * counts what each holds. */
static void test_other_lists(void)
{
	struct rig r;
	uint64_t a[300];

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t sl = ty(&r, "slice"), cx = ty(&r, "_contextvars.Context");
	uint32_t av = ty(&r, "async_generator_wrapped_value");

	a[0] = mk(&r, sl, 56);
	a[1] = mk(&r, sl, 56);
	rm(&r, sl, 56, a[0]);
	rm(&r, sl, 56, a[1]);           /* the cache has one slot: freed */
	CHECK_U64(r.free_calls, 1);
	CHECK_U64(detail(&r, "parked.slice"), 1);
	for (int i = 0; i < 300; i++)
		a[i] = mk(&r, cx, 72);
	for (int i = 0; i < 300; i++)
		rm(&r, cx, 72, a[i]);   /* 255 kept, 45 freed */
	CHECK_U64(detail(&r, "parked.context"), 255);
	CHECK_U64(r.free_calls, 1 + 45);
	for (int i = 0; i < 90; i++)
		a[i] = mk(&r, av, 32);
	for (int i = 0; i < 90; i++)
		rm(&r, av, 32, a[i]);   /* 80 kept */
	CHECK_U64(detail(&r, "parked.async_gen_value"), 80);
	freelist_pertype.clear(r.fl);   /* a full collection */
	CHECK_U64(detail(&r, "parked.slice"), 1);
	CHECK_U64(detail(&r, "parked.context"), 0);
	CHECK_U64(detail(&r, "parked.async_gen_value"), 0);
	rig_close(&r);
}

/* TYPE.tp_alloc and dictkeys.copy never take from TYPE's list (CPython's
 * dict() and dict.copy() go past it) but their deaths go onto it. */
static void test_creations_past_the_list(void)
{
	struct rig r;

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t d = ty(&r, "dict"), dn = ty(&r, "dict.tp_alloc");
	uint32_t k = ty(&r, "dictkeys"), kc = ty(&r, "dictkeys.copy");
	uint32_t bogus = ty(&r, "str.tp_alloc");
	uint64_t x = mk(&r, d, 64), y, kx = mk(&r, k, 120), ky;

	rm(&r, d, 64, x);                       /* parked */
	y = mk(&r, dn, 64);                     /* not served: a new block */
	CHECK(y != x);
	CHECK_U64(detail(&r, "parked.dict"), 1);
	rm(&r, dn, 64, y);                      /* parked beside x */
	CHECK_U64(detail(&r, "parked.dict"), 2);
	CHECK_U64(mk(&r, d, 64), y);            /* LIFO: y first */
	rm(&r, k, 120, kx);
	ky = mk(&r, kc, 120);
	CHECK(ky != kx);
	rm(&r, kc, 120, ky);
	CHECK_U64(detail(&r, "parked.dictkeys"), 2);
	/* A suffix on a type with no list is just another type. */
	uint64_t z = mk(&r, bogus, 50);
	uint64_t before = r.free_calls;

	rm(&r, bogus, 50, z);
	CHECK_U64(r.free_calls, before + 1);
	rig_close(&r);
}

/* A recording allocator for the clear order: hands out 0x1000, 0x2000,
 * ... and logs the order of frees. */
struct logalloc {
	uint64_t next, freed[16];
	int nfreed;
};

static uint64_t log_alloc(void *state, uint64_t size)
{
	struct logalloc *l = state;

	(void)size;
	return l->next += 0x1000;
}

static void log_free(void *state, uint64_t addr, uint64_t size)
{
	struct logalloc *l = state;

	(void)size;
	if (l->nfreed < 16)
		l->freed[l->nfreed++] = addr;
}

/* The order a full collection empties the lists in (each from its top):
 * up to 3.12 tuples, floats, lists, dicts, async gens, contexts; 3.13
 * floats, tuples, lists, dicts, contexts, async gens. */
static void test_clear_order(void)
{
	static const struct alloc_policy logpol = { .name = "log", .alloc = log_alloc,
						     .free = log_free };
	static const char *const names[] = { "float", "tuple", "_contextvars.Context",
					     "async_generator_wrapped_value" };
	static const uint64_t sizes[] = { 24, 48, 72, 32 };
	/* Blocks are 0x1000 (float) .. 0x4000 (async gen value). */
	static const uint64_t want[2][4] = { { 0x2000, 0x1000, 0x4000, 0x3000 },
					     { 0x1000, 0x2000, 0x3000, 0x4000 } };

	for (int order = 0; order < 2; order++) {
		struct logalloc l = { 0 };
		struct alloc_inst inst = { &logpol, &l };
		struct freelist_env env;
		struct typetab *types = typetab_create();
		void *p = malloc(freelist_pertype.params_size), *fl;
		uint32_t t[4];
		uint64_t addr[4];

		memcpy(p, freelist_pertype.defaults, freelist_pertype.params_size);
		set_knob(&freelist_pertype, p, "clear_order", (uint64_t)order);
		env = (struct freelist_env){ .types = types, .alloc = &inst, .sys = &inst };
		fl = freelist_pertype.create(p, &env);
		for (int i = 0; i < 4; i++) {
			t[i] = typetab_intern(types, names[i], strlen(names[i]));
			addr[i] = log_alloc(&l, sizes[i]);
			CHECK_I64(freelist_pertype.give(fl, t[i], sizes[i], addr[i]), 1);
		}
		freelist_pertype.clear(fl);
		CHECK_I64(l.nfreed, 4);
		for (int i = 0; i < 4; i++)
			CHECK_U64(l.freed[i], want[order][i]);
		freelist_pertype.destroy(fl);
		typetab_destroy(types);
		free(p);
	}
}

/* A tuple served from its list and then resized (_PyTuple_Resize) is a
 * plain allocator block: pertype does not own it. */
static void test_reused_block_not_owned(void)
{
	struct rig r;

	rig_open(&r, &freelist_pertype, NULL);
	uint32_t t = ty(&r, "tuple");
	uint64_t a = mk(&r, t, 120);

	rm(&r, t, 120, a);
	CHECK_U64(mk(&r, t, 120), a);
	CHECK_I64(freelist_pertype.owns(r.fl, a), 0);
	rig_close(&r);
}

int main(void)
{
	TEST_RUN(test_registry);
	TEST_RUN(test_validate);
	TEST_RUN(test_list_churn);
	TEST_RUN(test_tuple_lengths);
	TEST_RUN(test_tuple_limit);
	TEST_RUN(test_python2_int_blocks);
	TEST_RUN(test_python2_clear_rebuild);
	TEST_RUN(test_int_then_float_blocked);
	TEST_RUN(test_shared_floats_from_ints);
	TEST_RUN(test_shared_bound);
	TEST_RUN(test_shared_listed);
	TEST_RUN(test_blocked_by_hand);
	TEST_RUN(test_float_limit);
	TEST_RUN(test_dictkeys);
	TEST_RUN(test_clear_versions);
	TEST_RUN(test_frame_resize);
	TEST_RUN(test_none);
	TEST_RUN(test_other_lists);
	TEST_RUN(test_creations_past_the_list);
	TEST_RUN(test_clear_order);
	TEST_RUN(test_reused_block_not_owned);
	return test_done();
}
