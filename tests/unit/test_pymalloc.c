/*
 * test_pymalloc.c - the obmalloc model against hand-derived counts.
 *
 * Each test builds pymalloc over a fresh glibc model. Expected values come
 * from obmalloc's arithmetic (see the comments), never from a run.
 * The glibc model places mappings top-down from a page-aligned (and
 * 1 MiB-aligned) address, so mmap arenas are pool-aligned unless the
 * knob arena_alignment says "unaligned".
 */
#include <stdlib.h>

#include "alloc.h"
#include "test.h"

extern const struct alloc_policy alloc_pymalloc;
extern const struct alloc_policy alloc_ptmalloc;

struct stack {
	struct alloc_inst lower;
	void *pm;
};

struct kv {
	const char *key[32];
	uint64_t val[32];
	int n;
	uint64_t cells[64 * 5];
	size_t rows;
};

static void kv_counter(void *ctx, const char *key, uint64_t value)
{
	struct kv *kv = ctx;

	kv->key[kv->n] = key;
	kv->val[kv->n++] = value;
}

static void kv_table(void *ctx, const char *name, const char *const *columns,
		     size_t ncols, const uint64_t *cells, size_t nrows)
{
	struct kv *kv = ctx;

	(void)name;
	(void)columns;
	kv->rows = nrows;
	memcpy(kv->cells, cells, nrows * ncols * sizeof *cells);
}

static void details(struct stack *s, struct kv *kv)
{
	struct alloc_sink sink = { .ctx = kv, .counter = kv_counter, .table = kv_table };

	memset(kv, 0, sizeof *kv);
	alloc_pymalloc.details(s->pm, &sink);
}

static uint64_t get(const struct kv *kv, const char *key)
{
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0)
			return kv->val[i];
	return UINT64_MAX;
}

static void set(void *params, const char *name, uint64_t v)
{
	for (size_t i = 0; i < alloc_pymalloc.nknobs; i++) {
		const struct knob *k = &alloc_pymalloc.knobs[i];

		if (strcmp(k->name, name) != 0)
			continue;
		if (k->kind == KNOB_UINT)
			*knob_uint(params, k) = v;
		else
			*knob_int(params, k) = (int)v;
		return;
	}
	printf("# no knob %s\n", name);
}

enum { MALLOC, MMAP };
enum { NEVER, EMPTY, KEEP_ONE };
enum { CURRENT, FULLEST };
enum { ADDRESS, ALIGNED, UNALIGNED };

/* Knobs of a CPython version family. */
static void preset(void *params, const char *v)
{
	memcpy(params, alloc_pymalloc.defaults, alloc_pymalloc.params_size);
	if (strcmp(v, "3.11") == 0) {
		set(params, "arena_alignment", UNALIGNED);
	} else if (strcmp(v, "3.8") == 0 || strcmp(v, "3.9") == 0) {
		set(params, "pool_size", 4096);
		set(params, "arena_size", 262144);
		set(params, "arena_alignment", ADDRESS);
		set(params, "arena_release", v[2] == '8' ? EMPTY : KEEP_ONE);
	} else if (strcmp(v, "2.4") == 0 || strcmp(v, "2.5") == 0) {
		set(params, "small_request_threshold", 256);
		set(params, "alignment", 8);
		set(params, "pool_size", 4096);
		set(params, "arena_size", 262144);
		set(params, "arena_source", MALLOC);
		set(params, "arena_alignment", ADDRESS);
		set(params, "arena_release", v[2] == '4' ? NEVER : EMPTY);
		set(params, "arena_selection", v[2] == '4' ? CURRENT : FULLEST);
	}
}

static struct stack *make(const char *v)
{
	unsigned char params[256], gparams[256];
	char msg[200] = "";
	struct stack *s = calloc(1, sizeof *s);

	preset(params, v);
	if (alloc_pymalloc.validate(params, msg, sizeof msg) != 0)
		printf("# validate: %s\n", msg);
	memcpy(gparams, alloc_ptmalloc.defaults, alloc_ptmalloc.params_size);
	s->lower.policy = &alloc_ptmalloc;
	s->lower.state = alloc_ptmalloc.create(gparams, NULL);
	s->pm = alloc_pymalloc.create(params, &s->lower);
	return s;
}

static void drop(struct stack *s)
{
	alloc_pymalloc.destroy(s->pm);
	alloc_ptmalloc.destroy(s->lower.state);
	free(s);
}

static void check_ok(struct stack *s)
{
	char msg[256] = "";
	int rc = alloc_pymalloc.check(s->pm, msg, sizeof msg);

	if (rc)
		printf("# check: %s\n", msg);
	CHECK(rc == 0);
}

static void test_pools_311(void)
{
	struct stack *s = make("3.11");
	struct alloc_stats st;
	struct kv kv;
	uint64_t first = 0;

	/* 16-byte class: (16384 - 48) / 16 = 1021 blocks a pool, so 1022
	 * blocks need 2 pools. Unaligned arena: 1 MiB / 16 KiB - 1 = 63. */
	for (int i = 0; i < 1022; i++) {
		uint64_t a = alloc_pymalloc.alloc(s->pm, 16);

		if (i == 0)
			first = a;
	}
	details(s, &kv);
	CHECK_U64(get(&kv, "arenas_allocated_current"), 1);
	CHECK_U64(get(&kv, "bytes_in_allocated_blocks"), 1022 * 16);
	CHECK_U64(get(&kv, "bytes_in_available_blocks"), (2 * 1021 - 1022) * 16);
	CHECK_U64(get(&kv, "unused_pools"), 61);
	CHECK_U64(get(&kv, "unused_pool_bytes"), 61 * 16384);
	CHECK_U64(get(&kv, "bytes_lost_to_pool_headers"), 2 * 48);
	CHECK_U64(get(&kv, "bytes_lost_to_quantization"), 0);  /* 16336 % 16 */
	CHECK_U64(get(&kv, "bytes_lost_to_arena_alignment"), 16384);
	CHECK_U64(get(&kv, "total"), 1048576);
	CHECK_U64(kv.rows, 1);
	CHECK_U64(kv.cells[0], 0);      /* class */
	CHECK_U64(kv.cells[1], 16);     /* size */
	CHECK_U64(kv.cells[2], 2);      /* pools */
	CHECK_U64(kv.cells[3], 1022);
	CHECK_U64(kv.cells[4], 1020);
	/* The first block sits after the skipped pool and the header. */
	CHECK_U64(first % 16384, 48);
	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.footprint, 1048576);
	/* Pool 1 written in full (4 pages); pool 2: header, block 0 and the
	 * link of block 1, all in its first page: 5 pages. */
	CHECK_U64(st.rss, 5 * 4096);
	CHECK_U64(st.requested, 1022 * 16);
	CHECK_U64(st.allocated, 1022 * 16);
	CHECK_U64(st.blocks, 1022);
	check_ok(s);
	drop(s);
}

static void test_lifo_and_classes(void)
{
	struct stack *s = make("3.11");
	uint64_t a = alloc_pymalloc.alloc(s->pm, 16);
	uint64_t b = alloc_pymalloc.alloc(s->pm, 16);
	struct alloc_stats st;

	CHECK_U64(b - a, 16);
	alloc_pymalloc.free(s->pm, a, 16);
	alloc_pymalloc.free(s->pm, b, 16);
	/* Both freed, pool empty -> back to the arena; re-initialised for the
	 * same class it keeps its free list: head is b (freed last). */
	CHECK_U64(alloc_pymalloc.alloc(s->pm, 16), b);
	CHECK_U64(alloc_pymalloc.block_size(s->pm, 1), 16);
	CHECK_U64(alloc_pymalloc.block_size(s->pm, 100), 112);
	CHECK_U64(alloc_pymalloc.block_size(s->pm, 512), 512);
	/* 513 -> glibc: round_up(521, 16) = 528. */
	CHECK_U64(alloc_pymalloc.block_size(s->pm, 513), 528);
	uint64_t big = alloc_pymalloc.alloc(s->pm, 513);
	uint64_t z = alloc_pymalloc.alloc(s->pm, 0);   /* malloc(1): 32 */

	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.blocks, 3);
	CHECK_U64(st.requested, 16 + 513 + 0);
	CHECK_U64(st.allocated, 16 + 528 + 32);
	/* glibc first sbrk: round_up(528 + 131072 + 32, 4096) = 135168. */
	CHECK_U64(st.footprint, 1048576 + 135168);
	alloc_pymalloc.free(s->pm, big, 513);
	alloc_pymalloc.free(s->pm, z, 0);
	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.blocks, 1);
	CHECK_U64(st.requested, 16);
	check_ok(s);
	drop(s);
}

static void test_realloc(void)
{
	struct stack *s = make("3.11");
	uint64_t a = alloc_pymalloc.alloc(s->pm, 100);  /* 112-byte block */

	/* 90 <= 112 and 4*90 = 360 > 3*112 = 336: stays. */
	CHECK_U64(alloc_pymalloc.resize(s->pm, a, 100, 90), a);
	/* 112 fits exactly: stays. */
	CHECK_U64(alloc_pymalloc.resize(s->pm, a, 90, 112), a);
	/* 80: 320 > 336 is false: moves to the 80-byte class. */
	uint64_t b = alloc_pymalloc.resize(s->pm, a, 112, 80);

	CHECK(b != a);
	CHECK_U64(alloc_pymalloc.block_size(s->pm, 80), 80);
	/* Growing past the block moves too (113 -> 128 class). */
	uint64_t c = alloc_pymalloc.resize(s->pm, b, 80, 113);

	CHECK(c != b);
	/* A system block stays with the system even when shrinking to 10. */
	uint64_t big = alloc_pymalloc.alloc(s->pm, 1000);
	uint64_t big2 = alloc_pymalloc.resize(s->pm, big, 1000, 10);
	struct alloc_stats st;

	CHECK_U64(big2, big);           /* glibc shrinks in place */
	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.allocated, 128 + 32);   /* glibc chunk of 10: 32 */
	check_ok(s);
	drop(s);
}

/* Fill arena 1 (64 pools * 253 blocks = 16192) and one block of arena 2,
 * then free everything in allocation order. */
static void release_run(const char *v, uint64_t want_reclaimed,
			uint64_t want_current, uint64_t want_footprint)
{
	struct stack *s = make(v);
	enum { N = 64 * 253 + 1 };
	uint64_t *addr = malloc(N * sizeof *addr);
	struct kv kv;
	struct alloc_stats st;

	for (int i = 0; i < N; i++)
		addr[i] = alloc_pymalloc.alloc(s->pm, 16);
	details(s, &kv);
	CHECK_U64(get(&kv, "arenas_allocated_current"), 2);
	CHECK_U64(get(&kv, "unused_pools"), 63);
	CHECK_U64(get(&kv, "bytes_lost_to_arena_alignment"), 0);
	for (int i = 0; i < N; i++)
		alloc_pymalloc.free(s->pm, addr[i], 16);
	details(s, &kv);
	CHECK_U64(get(&kv, "arenas_allocated_total"), 2);
	CHECK_U64(get(&kv, "arenas_highwater"), 2);
	CHECK_U64(get(&kv, "arenas_reclaimed"), want_reclaimed);
	CHECK_U64(get(&kv, "arenas_allocated_current"), want_current);
	CHECK_U64(get(&kv, "unused_pools"), want_current * 64);
	CHECK_U64(get(&kv, "total"), want_current * 262144);
	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.footprint, want_footprint);
	check_ok(s);
	free(addr);
	drop(s);
}

static void test_release_38_empty(void)
{
	/* 3.8: every wholly free arena is unmapped. */
	release_run("3.8", 2, 0, 0);
}

static void test_release_39_keep_one(void)
{
	/* 3.9: arena 1 empties while arena 2 follows it in usable_arenas, so
	 * it goes; arena 2 is then last and is kept (bpo-37257). */
	release_run("3.9", 1, 1, 262144);
}

/* Two full arenas; free 5 pools of arena 2, then 10 pools of arena 1.
 * A new size class then needs a pool. */
static uint64_t selection_run(const char *v, uint64_t *base1, uint64_t *base2)
{
	struct stack *s = make(v);
	int per_arena = v[0] == '2' ? 63 * 253 : 64 * 253;
	int N = 2 * per_arena;
	uint64_t *addr = malloc((size_t)N * sizeof *addr);

	for (int i = 0; i < N; i++)
		addr[i] = alloc_pymalloc.alloc(s->pm, 16);
	*base1 = addr[0] - 48;
	*base2 = addr[per_arena] - 48;
	for (int i = per_arena; i < per_arena + 5 * 253; i++)
		alloc_pymalloc.free(s->pm, addr[i], 16);
	for (int i = 0; i < 10 * 253; i++)
		alloc_pymalloc.free(s->pm, addr[i], 16);
	uint64_t r = alloc_pymalloc.alloc(s->pm, 32);

	check_ok(s);
	free(addr);
	drop(s);
	return r;
}

static void test_fullest_first(void)
{
	uint64_t b1, b2;
	/* 3.9: arena 2 has 5 free pools, arena 1 has 10: arena 2 serves, and
	 * its free pools are LIFO: pool 4 (freed last there). */
	uint64_t r = selection_run("3.9", &b1, &b2);

	CHECK_U64(r, b2 + 4 * 4096 + 48);
	/* 2.4: one global LIFO of free pools: arena 1's pool 9 (freed last). */
	r = selection_run("2.4", &b1, &b2);
	CHECK_U64(r, b1 + 9 * 4096 + 48);
}

static void test_small_arena_36_like(void)
{
	struct stack *s = make("3.9");
	struct alloc_stats st;
	uint64_t a = alloc_pymalloc.alloc(s->pm, 16);

	alloc_pymalloc.stats(s->pm, &st);
	/* One mmap arena of 256 KiB; one page written (header, block 0,
	 * link of block 1 all below offset 4096). */
	CHECK_U64(st.footprint, 262144);
	CHECK_U64(st.rss, 4096);
	CHECK_U64(a % 4096, 48);
	drop(s);
}

/*
 * The seed scenario: 10*1024*1024 16-byte objects, then all freed.
 * 2.x: class (16-1)/8 = 1, 16-byte blocks, (4096-48)/16 = 253 a pool.
 * pools = ceil(10485760 / 253) = 41446 (253 * 41445 = 10485585 < N).
 * Arenas come from malloc(262144): glibc chunk 262160 >= 128 KiB, mmapped
 * as round_up(262168, 4096) = 266240 bytes, user pointer at +16, so the
 * base is not pool-aligned: 63 pools. arenas = ceil(41446 / 63) = 658.
 * Footprint and RSS at peak: 658 * 266240 = 175185920 (glibc counts an
 * mmapped chunk as resident in full), plus glibc's brk heap, which its
 * first malloc made for the 656-byte tcache struct: ALIGN_UP(656 + 131072
 * + 32, 4096) = 135168 bytes of footprint, one resident page. It stays
 * when the arenas go (its top, 134512 bytes, is below the trim threshold).
 */
#define SEED_HEAP 135168u       /* bytes: glibc's first brk heap */
static void seed_run(const char *v, uint64_t end_footprint, uint64_t end_reclaimed)
{
	struct stack *s = make(v);
	enum { N = 10 * 1024 * 1024 };
	uint64_t *addr = malloc(N * sizeof *addr);
	struct alloc_stats st;
	struct kv kv;

	for (int i = 0; i < N; i++)
		addr[i] = alloc_pymalloc.alloc(s->pm, 16);
	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.footprint, 175185920 + SEED_HEAP);
	CHECK_U64(st.rss, 175185920 + 4096);
	CHECK_U64(st.requested, (uint64_t)N * 16);
	CHECK_U64(st.blocks, N);
	details(s, &kv);
	CHECK_U64(get(&kv, "arenas_allocated_current"), 658);
	CHECK_U64(get(&kv, "bytes_lost_to_arena_alignment"), 658 * 4096);
	/* 658 * 63 = 41454 pools, 41446 used: 8 unused. */
	CHECK_U64(get(&kv, "unused_pools"), 8);
	CHECK_U64(get(&kv, "bytes_in_available_blocks"), (41446ull * 253 - N) * 16);
	for (int i = 0; i < N; i++)
		alloc_pymalloc.free(s->pm, addr[i], 16);
	alloc_pymalloc.stats(s->pm, &st);
	CHECK_U64(st.footprint, end_footprint + SEED_HEAP);
	CHECK_U64(st.rss, end_footprint + 4096);
	CHECK_U64(st.blocks, 0);
	details(s, &kv);
	CHECK_U64(get(&kv, "arenas_reclaimed"), end_reclaimed);
	check_ok(s);
	free(addr);
	drop(s);
}

static void test_seed_24_keeps_everything(void)
{
	seed_run("2.4", 175185920, 0);
}

static void test_seed_25_returns_everything(void)
{
	seed_run("2.5", 0, 658);
}

static void test_validate(void)
{
	unsigned char params[256];
	char msg[200] = "";

	preset(params, "3.11");
	CHECK(alloc_pymalloc.validate(params, msg, sizeof msg) == 0);
	set(params, "pool_size", 3000);
	CHECK(alloc_pymalloc.validate(params, msg, sizeof msg) == -1);
	CHECK_STR(msg, "pymalloc: pool_size must be a power of two");
	preset(params, "3.11");
	set(params, "arena_selection", CURRENT);
	CHECK(alloc_pymalloc.validate(params, msg, sizeof msg) == -1);
	preset(params, "3.11");
	set(params, "pool_header", 40);
	CHECK(alloc_pymalloc.validate(params, msg, sizeof msg) == -1);
	CHECK_STR(msg, "pymalloc: pool_header must be a multiple of alignment");
}

int main(void)
{
	TEST_RUN(test_pools_311);
	TEST_RUN(test_lifo_and_classes);
	TEST_RUN(test_realloc);
	TEST_RUN(test_release_38_empty);
	TEST_RUN(test_release_39_keep_one);
	TEST_RUN(test_fullest_first);
	TEST_RUN(test_small_arena_36_like);
	TEST_RUN(test_seed_24_keeps_everything);
	TEST_RUN(test_seed_25_returns_everything);
	TEST_RUN(test_validate);
	return test_done();
}
