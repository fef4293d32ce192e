/*
 * test_glibc.c - the glibc model against hand-derived chunk arithmetic.
 *
 * Rules used below (glibc 2.36 malloc/malloc.c, 64-bit): chunk nb =
 * max(32, round_up(n + 8, 16)); a chunk with nb >= mmap threshold and no
 * room in top gets a mapping of round_up(nb + 8, 4096); brk grows by
 * round_up(nb + top_pad + 32 - top, 4096); top is trimmed to keep top_pad
 * when it reaches trim_threshold.
 */
#include "alloc.h"
#include "test.h"

extern const struct alloc_policy alloc_glibc;

struct kv {
	const char *key[32];
	uint64_t val[32];
	int n;
};

static void kv_counter(void *ctx, const char *key, uint64_t value)
{
	struct kv *kv = ctx;

	kv->key[kv->n] = key;
	kv->val[kv->n++] = value;
}

static uint64_t detail(void *g, const char *key)
{
	struct kv kv = { .n = 0 };
	struct alloc_sink sink = { .ctx = &kv, .counter = kv_counter };

	alloc_glibc.details(g, &sink);
	for (int i = 0; i < kv.n; i++)
		if (strcmp(kv.key[i], key) == 0)
			return kv.val[i];
	return UINT64_MAX;
}

static void *make(int dynamic)
{
	unsigned char params[256];

	memcpy(params, alloc_glibc.defaults, alloc_glibc.params_size);
	void *g = alloc_glibc.create(params, NULL);

	if (!dynamic) {
		/* flip the knob through the table, as policy.c would */
		for (size_t i = 0; i < alloc_glibc.nknobs; i++)
			if (strcmp(alloc_glibc.knobs[i].name, "dynamic_mmap_threshold") == 0) {
				alloc_glibc.destroy(g);
				*knob_int(params, &alloc_glibc.knobs[i]) = 0;
				g = alloc_glibc.create(params, NULL);
			}
	}
	return g;
}

static void check_ok(void *g)
{
	char msg[256] = "";

	if (alloc_glibc.check(g, msg, sizeof msg) != 0)
		printf("# check: %s\n", msg);
	CHECK(alloc_glibc.check(g, msg, sizeof msg) == 0);
}

static void test_chunk_sizes(void)
{
	void *g = make(1);

	CHECK_U64(alloc_glibc.block_size(g, 0), 32);     /* MINSIZE */
	CHECK_U64(alloc_glibc.block_size(g, 1), 32);     /* 1+8 -> 16 < 32 */
	CHECK_U64(alloc_glibc.block_size(g, 24), 32);    /* 24+8 = 32 */
	CHECK_U64(alloc_glibc.block_size(g, 25), 48);    /* 33 -> 48 */
	CHECK_U64(alloc_glibc.block_size(g, 1000), 1008);/* 1008 */
	/* 131048+8 = 131056 < 131072: brk chunk. */
	CHECK_U64(alloc_glibc.block_size(g, 131048), 131056);
	/* 131064+8 = 131072 >= threshold: mapping round_up(131080, 4096). */
	CHECK_U64(alloc_glibc.block_size(g, 131064), 135168);
	alloc_glibc.destroy(g);
}

static void test_first_brk_and_zero(void)
{
	void *g = make(1);
	struct alloc_stats s;
	uint64_t a = alloc_glibc.alloc(g, 0);

	/* First sbrk: round_up(32 + 131072 + 32, 4096) = 135168 (33 pages). */
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 135168);
	CHECK_U64(s.allocated, 32);
	CHECK_U64(s.requested, 0);
	CHECK_U64(s.blocks, 1);
	/* Top's header written at offset 32..48: one resident page. */
	CHECK_U64(s.rss, 4096);
	CHECK_U64(a % 16, 0);
	alloc_glibc.free(g, a, 0);
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.blocks, 0);
	check_ok(g);
	alloc_glibc.destroy(g);
}

static void test_mmap_and_dynamic_threshold(void)
{
	void *g = make(1);
	struct alloc_stats s;
	uint64_t a = alloc_glibc.alloc(g, 131064);

	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 135168);     /* its own mapping, no heap */
	CHECK_U64(s.rss, 135168);
	CHECK_U64(s.os_maps, 1);
	alloc_glibc.free(g, a, 131064);
	/* 135168 > 131072: threshold -> 135168, trim -> 270336. */
	CHECK_U64(detail(g, "mmap_threshold"), 135168);
	CHECK_U64(detail(g, "trim_threshold"), 270336);
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 0);
	/* Same request now comes from brk: 131072 + 131072 + 32 -> 266240. */
	a = alloc_glibc.alloc(g, 131064);
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 266240);
	CHECK_U64(detail(g, "mmapped_chunk_bytes"), 0);
	check_ok(g);
	alloc_glibc.destroy(g);

	g = make(0);
	a = alloc_glibc.alloc(g, 131064);
	alloc_glibc.free(g, a, 131064);
	CHECK_U64(detail(g, "mmap_threshold"), 131072);
	a = alloc_glibc.alloc(g, 131064);
	CHECK_U64(detail(g, "mmapped_chunk_bytes"), 135168);
	alloc_glibc.destroy(g);
}

static void test_coalesce_and_reuse(void)
{
	void *g = make(1);
	uint64_t a = alloc_glibc.alloc(g, 1000);
	uint64_t b = alloc_glibc.alloc(g, 1000);
	uint64_t c = alloc_glibc.alloc(g, 1000);
	struct alloc_stats s;

	CHECK_U64(b - a, 1008);
	CHECK_U64(c - b, 1008);
	alloc_glibc.free(g, b, 1000);
	CHECK_U64(detail(g, "free_chunks"), 1);
	alloc_glibc.free(g, a, 1000);
	/* a and b merge into one 2016-byte chunk. */
	CHECK_U64(detail(g, "free_chunks"), 1);
	CHECK_U64(detail(g, "free_chunk_bytes"), 2016);
	/* A 1000-byte request splits it from the front: same address as a. */
	CHECK_U64(alloc_glibc.alloc(g, 1000), a);
	CHECK_U64(detail(g, "free_chunk_bytes"), 1008);
	alloc_glibc.free(g, a, 1000);
	alloc_glibc.free(g, c, 1000);
	/* Everything merged into top: 135168 - 0 = whole heap, no free chunk.
	 * Trim: top 135168, area 135135 - pad 131072 = 4063 < 1 page: none. */
	CHECK_U64(detail(g, "free_chunks"), 0);
	CHECK_U64(detail(g, "top_bytes"), 135168);
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 135168);
	check_ok(g);
	alloc_glibc.destroy(g);
}

/*
 * Best fit in one large bin with many chunks (the bins above 1024 bytes
 * are ordered trees): 200 free chunks of 2048 + 16 * (k % 10) bytes
 * (requests 2040 + 16 * (k % 10): + 8 header, already 16-aligned), each
 * kept apart by a live 100-byte guard, all in the bin of [2048, 2560).
 * The heap grows upwards, so A[k] is the lowest of its size for the
 * smallest k. Expected picks (smallest size that fits, lowest address):
 *   2120 bytes -> chunk 2128 = k % 10 == 5: A[5], then A[15];
 *   2121 bytes -> chunk 2144 (2129 rounded up): k % 10 == 6: A[6];
 *   2200 bytes -> chunk 2208: larger than all of them: from top;
 *   1100 bytes -> chunk 1120 (1108 rounded up): the bins below 2048
 *                 are empty, so the smallest of this one, A[0], split
 *                 (928 bytes stay free).
 */
static void test_large_best_fit(void)
{
	void *g = make(1);
	uint64_t a[200], top;

	for (int k = 0; k < 200; k++) {
		a[k] = alloc_glibc.alloc(g, 2040 + 16 * (uint64_t)(k % 10));
		(void)alloc_glibc.alloc(g, 100);
	}
	for (int k = 0; k < 200; k++)
		alloc_glibc.free(g, a[k], 2040 + 16 * (uint64_t)(k % 10));
	CHECK_U64(detail(g, "free_chunks"), 200);
	CHECK_U64(alloc_glibc.alloc(g, 2120), a[5]);
	CHECK_U64(alloc_glibc.alloc(g, 2120), a[15]);
	CHECK_U64(alloc_glibc.alloc(g, 2121), a[6]);
	top = alloc_glibc.alloc(g, 2200);
	CHECK(top > a[199]);
	CHECK_U64(alloc_glibc.alloc(g, 1100), a[0]);
	CHECK_U64(detail(g, "free_chunks"), 197);
	/* 200 chunks (2048..2192, 20 of each) - 2128 - 2128 - 2144 - 2048 + 928 */
	CHECK_U64(detail(g, "free_chunk_bytes"),
		  20 * (2048 + 2064 + 2080 + 2096 + 2112 + 2128 + 2144 + 2160 + 2176 + 2192)
		  - 2128 - 2128 - 2144 - 2048 + 928);
	check_ok(g);
	alloc_glibc.destroy(g);
}

static void test_trim(void)
{
	void *g = make(1);
	struct alloc_stats s;
	/* nb = round_up(100008, 16) = 100016; heap grows to
	 * round_up(100016 + 131072 + 32, 4096) = 233472. */
	uint64_t a = alloc_glibc.alloc(g, 100000);
	uint64_t b = alloc_glibc.alloc(g, 100000);

	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 233472);
	/* top header at 200032 + 16 = 200048 -> 49 pages resident. */
	CHECK_U64(s.rss, 49 * 4096);
	alloc_glibc.free(g, b, 100000);
	/* top 133456: area 133423 - 131072 = 2351 -> no whole page. */
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 233472);
	alloc_glibc.free(g, a, 100000);
	/* top 233472: area 233439 - 131072 = 102367 -> 24 pages = 98304 go. */
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 233472 - 98304);
	CHECK_U64(s.rss, 135168);
	CHECK_U64(s.os_unmaps, 1);
	check_ok(g);
	alloc_glibc.destroy(g);
}

static void test_realloc(void)
{
	void *g = make(1);
	uint64_t a = alloc_glibc.alloc(g, 100);
	/* next chunk is top: grows in place. */
	uint64_t a2 = alloc_glibc.resize(g, a, 100, 1000);

	CHECK_U64(a2, a);
	uint64_t b = alloc_glibc.alloc(g, 100);

	/* now b follows a: growing a must move it past b. */
	uint64_t a3 = alloc_glibc.resize(g, a2, 1000, 5000);

	CHECK(a3 != a2);
	CHECK_U64(a3, b + 112);        /* b's chunk is 112 bytes */
	/* shrinking splits in place */
	CHECK_U64(alloc_glibc.resize(g, a3, 5000, 100), a3);
	check_ok(g);
	alloc_glibc.destroy(g);
}

static void test_map(void)
{
	void *g = make(1);
	struct alloc_stats s;
	uint64_t m = alloc_glibc.map(g, 1 << 20);

	CHECK_U64(m % 4096, 0);
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 1 << 20);
	CHECK_U64(s.rss, 0);            /* the mapper counts its pages */
	CHECK_U64(s.blocks, 0);
	alloc_glibc.unmap(g, m, 1 << 20);
	alloc_glibc.stats(g, &s);
	CHECK_U64(s.footprint, 0);
	alloc_glibc.destroy(g);
}

static void test_validate(void)
{
	unsigned char params[256];
	char msg[200] = "";

	memcpy(params, alloc_glibc.defaults, alloc_glibc.params_size);
	CHECK(alloc_glibc.validate(params, msg, sizeof msg) == 0);
	for (size_t i = 0; i < alloc_glibc.nknobs; i++)
		if (strcmp(alloc_glibc.knobs[i].name, "chunk_align") == 0)
			*knob_uint(params, &alloc_glibc.knobs[i]) = 24;
	CHECK(alloc_glibc.validate(params, msg, sizeof msg) == -1);
	CHECK_STR(msg, "chunk_align (24) must be a power of two");
}

int main(void)
{
	TEST_RUN(test_chunk_sizes);
	TEST_RUN(test_first_brk_and_zero);
	TEST_RUN(test_mmap_and_dynamic_threshold);
	TEST_RUN(test_coalesce_and_reuse);
	TEST_RUN(test_trim);
	TEST_RUN(test_realloc);
	TEST_RUN(test_large_best_fit);
	TEST_RUN(test_map);
	TEST_RUN(test_validate);
	return test_done();
}
