/*
 * test_mimalloc.c - the mimalloc model against hand-derived counts.
 *
 * Each test drives one instance through the vtable and reads the five
 * counters CPython prints (details) and the common statistics. Expected
 * values come from mimalloc 2.1.2's arithmetic, worked out in the
 * comments (sim/alloc_mimalloc.c names the source of each rule), never
 * from a run. The end-to-end judge is tests/e2e/cpython_mimalloc.sh.
 */
#include <stdlib.h>

#include "alloc.h"
#include "test.h"

extern const struct alloc_policy alloc_mimalloc;

#define KiB 1024u
#define MiB (1024u * 1024u)

struct kv {
	const char *key[32];
	uint64_t val[32];
	int n;
};

static void kv_counter(void *ctx, const char *key, uint64_t value)
{
	struct kv *kv = ctx;

	if (kv->n < 32) {
		kv->key[kv->n] = key;
		kv->val[kv->n++] = value;
	}
}

static void kv_table(void *ctx, const char *name, const char *const *columns,
		     size_t ncols, const uint64_t *cells, size_t nrows)
{
	(void)ctx, (void)name, (void)columns, (void)ncols, (void)cells, (void)nrows;
}

static uint64_t get(void *m, const char *key)
{
	struct kv kv = { .n = 0 };
	struct alloc_sink sink = { .ctx = &kv, .counter = kv_counter, .table = kv_table };

	alloc_mimalloc.details(m, &sink);
	for (int i = 0; i < kv.n; i++)
		if (strcmp(kv.key[i], key) == 0)
			return kv.val[i];
	printf("# no counter %s\n", key);
	return UINT64_MAX;
}

static void *make(void)
{
	return alloc_mimalloc.create(alloc_mimalloc.defaults, NULL);
}

static void check_ok(void *m)
{
	char msg[256] = "";

	if (!CHECK(alloc_mimalloc.check(m, msg, sizeof msg) == 0))
		printf("# %s\n", msg);
}

/* Bins (page-queue.c mi_bin, init.c's sizes) and the large/huge rule. */
static void test_block_sizes(void)
{
	static const uint64_t cases[][2] = {
		{ 0, 8 }, { 1, 8 }, { 8, 8 }, { 9, 16 }, { 16, 16 },
		{ 17, 32 },     /* 3 words round up to 4 (MI_ALIGN2W) */
		{ 24, 32 }, { 33, 48 }, { 49, 64 },
		{ 65, 80 },     /* w=9: w-1=8, top bit 3, bin 4*3+0-3=9: 10 words */
		{ 81, 96 }, { 100, 112 }, { 1024, 1024 },
		{ 1025, 1280 }, /* w=129: 128 -> bit 7, bin 25: 160 words */
		{ 16384, 16384 }, { 16385, 20480 }, { 131072, 131072 },
		/* large: good size 132 KiB (4 KiB steps), page of 64 KiB slices */
		{ 131073, 196608 },
		/* 600 KiB: good size 640 KiB (64 KiB steps), 512 KiB page steps */
		{ 614400, 1048576 },
		/* huge: 20 MiB + 1 -> good size 21 MiB (1 MiB steps) */
		{ 20 * MiB + 1, 21 * MiB },
	};
	void *m = make();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!CHECK_U64(alloc_mimalloc.block_size(m, cases[i][0]), cases[i][1]))
			printf("# request %llu\n", (unsigned long long)cases[i][0]);
	alloc_mimalloc.destroy(m);
}

/* A fresh page's reserved blocks and first extension, per block size. */
static void test_fresh_pages(void)
{
	static const struct { uint64_t req, reserved, committed; } cases[] = {
		/* 8 B: starts 3 blocks in: (65536 - 24) / 8 = 8189 blocks;
		 * extension 4096 / 8 = 512 blocks */
		{ 8, 8189 * 8, 512 * 8 },
		/* 48 B: (65536 - 144) / 48 = 1362; 4096 / 48 = 85 */
		{ 48, 1362 * 48, 85 * 48 },
		/* 112 B: one block in: (65536 - 112) / 112 = 584; 36 */
		{ 100, 584 * 112, 36 * 112 },
		/* 1 KiB: no offset, 64 blocks, 4 initialised */
		{ 1024, 64 * 1024, 4 * 1024 },
		/* 16 KiB: 4 blocks, all 4 initialised (at least 4) */
		{ 16384, 4 * 16384, 4 * 16384 },
		/* 20 KiB: medium page of 512 KiB: 25 blocks, 4 initialised */
		{ 20000, 25 * 20480, 4 * 20480 },
		/* 200 KiB: a 256 KiB large page, one block */
		{ 200 * KiB, 256 * KiB, 256 * KiB },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		void *m = make();
		alloc_mimalloc.alloc(m, cases[i].req);
		if (!CHECK_U64(get(m, "bytes_reserved"), cases[i].reserved) ||
		    !CHECK_U64(get(m, "bytes_committed"), cases[i].committed))
			printf("# request %llu\n", (unsigned long long)cases[i].req);
		CHECK_U64(get(m, "allocated_blocks"), 1);
		CHECK_U64(get(m, "allocated_bytes"), alloc_mimalloc.block_size(m, cases[i].req));
		check_ok(m);
		alloc_mimalloc.destroy(m);
	}
}

/* The 513th 8-byte block extends the page by another 512 blocks. */
static void test_extension(void)
{
	void *m = make();

	for (int i = 0; i < 512; i++)
		alloc_mimalloc.alloc(m, 8);
	CHECK_U64(get(m, "bytes_committed"), 512 * 8);
	alloc_mimalloc.alloc(m, 8);
	CHECK_U64(get(m, "bytes_committed"), 1024 * 8);
	CHECK_U64(get(m, "pages"), 1);
	check_ok(m);
	alloc_mimalloc.destroy(m);
}

/* An emptied page that is alone in its queue is retired, and freed by
 * the 17th later search for a fresh page (1 + MI_RETIRE_CYCLES). */
static void test_retire(void)
{
	/* 17 bins other than 64 bytes, each needing a fresh page */
	static const uint64_t sizes[] = {
		8, 16, 32, 48, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640,
	};
	void *m = make();
	uint64_t a = alloc_mimalloc.alloc(m, 64);

	alloc_mimalloc.free(m, a, 64);
	CHECK_U64(get(m, "pages"), 1);
	CHECK_U64(get(m, "allocated_blocks"), 0);
	/* retired, so still counted: (65536 - 192) / 64 = 1021 blocks */
	CHECK_U64(get(m, "bytes_reserved"), 1021 * 64);
	for (int i = 0; i < 16; i++)
		alloc_mimalloc.alloc(m, sizes[i]);
	CHECK_U64(get(m, "pages"), 17);
	alloc_mimalloc.alloc(m, sizes[16]);
	CHECK_U64(get(m, "pages"), 17);   /* 17 new, the retired one gone */
	check_ok(m);
	alloc_mimalloc.destroy(m);
}

/* 16 KiB blocks, 4 to a page: the 5th opens a page at the queue's front
 * (the full one moves to the full queue). Emptying the new page alone in
 * its queue retires it; the old page, back in the queue after its first
 * free, is freed at once when it empties (it is not alone). */
static void test_full_and_free(void)
{
	void *m = make();
	uint64_t b[5];

	for (int i = 0; i < 5; i++)
		b[i] = alloc_mimalloc.alloc(m, 16384);
	CHECK_U64(get(m, "pages"), 2);
	alloc_mimalloc.free(m, b[4], 16384);
	CHECK_U64(get(m, "pages"), 2);
	for (int i = 0; i < 4; i++)
		alloc_mimalloc.free(m, b[i], 16384);
	CHECK_U64(get(m, "pages"), 1);
	CHECK_U64(get(m, "bytes_reserved"), 4 * 16384);
	CHECK_U64(get(m, "allocated_blocks"), 0);
	check_ok(m);
	alloc_mimalloc.destroy(m);
}

/* realloc keeps the block while new <= usable and new >= usable / 2. */
static void test_realloc(void)
{
	void *m = make();
	uint64_t a = alloc_mimalloc.alloc(m, 100);      /* a 112-byte block */

	CHECK_U64(alloc_mimalloc.resize(m, a, 100, 112), a);
	CHECK_U64(alloc_mimalloc.resize(m, a, 112, 56), a);
	{
		/* below half: moves to 55's bin, 7 words rounded to 8 */
		uint64_t b = alloc_mimalloc.resize(m, a, 56, 55);
		CHECK(b != a);
		CHECK_U64(get(m, "allocated_bytes"), 64);
		a = b;
	}
	{
		uint64_t b = alloc_mimalloc.resize(m, a, 55, 0);   /* 0: an 8-byte block */
		CHECK(b != a);
		CHECK_U64(get(m, "allocated_bytes"), 8);
	}
	CHECK_U64(get(m, "allocated_blocks"), 1);
	check_ok(m);
	alloc_mimalloc.destroy(m);
}

/* Large and huge pages are freed with their block (the huge queue is
 * special), and the segment that held them goes back to the arena. */
static void test_large_huge(void)
{
	void *m = make();
	uint64_t a = alloc_mimalloc.alloc(m, 200 * KiB), h;
	struct alloc_stats st;

	h = alloc_mimalloc.alloc(m, 20 * MiB + 1);
	CHECK_U64(get(m, "bytes_reserved"), 256 * KiB + 21 * MiB);
	CHECK_U64(get(m, "segments"), 2);
	alloc_mimalloc.free(m, a, 200 * KiB);
	alloc_mimalloc.free(m, h, 20 * MiB + 1);
	CHECK_U64(get(m, "pages"), 0);
	CHECK_U64(get(m, "bytes_reserved"), 0);
	CHECK_U64(get(m, "segments"), 0);
	alloc_mimalloc.stats(m, &st);
	CHECK_U64(st.footprint, 0);
	CHECK_U64(get(m, "arenas"), 1);
	check_ok(m);
	alloc_mimalloc.destroy(m);
}

/* Delayed purging: a freed span is decommitted 10 ms later, at the next
 * page allocation from its segment. */
static void test_purge_delay(void)
{
	void *m = make();
	uint64_t a, b;
	struct alloc_stats st;

	alloc_mimalloc.tick(m, 0, 0, 1);
	a = alloc_mimalloc.alloc(m, 200 * KiB);         /* slices 1-4 */
	b = alloc_mimalloc.alloc(m, 200 * KiB);         /* slices 5-8 */
	(void)b;
	alloc_mimalloc.stats(m, &st);
	CHECK_U64(st.footprint, 32 * MiB);              /* the whole segment */
	alloc_mimalloc.free(m, a, 200 * KiB);           /* purge due at 10 ms */
	alloc_mimalloc.tick(m, 3, 5000000, 1);          /* 5 ms */
	alloc_mimalloc.alloc(m, 20000);                 /* a medium page: too early */
	CHECK_U64(get(m, "slices_purged"), 0);
	alloc_mimalloc.tick(m, 4, 20000000, 1);         /* 20 ms */
	alloc_mimalloc.alloc(m, 24000);                 /* another medium bin */
	CHECK_U64(get(m, "slices_purged"), 4);
	alloc_mimalloc.stats(m, &st);
	CHECK_U64(st.footprint, 32 * MiB - 4 * 64 * KiB);
	check_ok(m);
	alloc_mimalloc.destroy(m);
}

/* Without `@` times the clock is event x ns_per_event (15 ns): 10 ms is
 * event 666667. */
static void test_untimed_clock(void)
{
	void *m = make();
	uint64_t a;

	a = alloc_mimalloc.alloc(m, 200 * KiB);
	alloc_mimalloc.alloc(m, 200 * KiB);
	alloc_mimalloc.free(m, a, 200 * KiB);
	alloc_mimalloc.tick(m, 666666, 0, 0);           /* 9.99999 ms */
	alloc_mimalloc.alloc(m, 20000);
	CHECK_U64(get(m, "slices_purged"), 0);
	alloc_mimalloc.tick(m, 666667, 0, 0);           /* 10.000005 ms */
	alloc_mimalloc.alloc(m, 24000);
	CHECK_U64(get(m, "slices_purged"), 4);
	alloc_mimalloc.destroy(m);
}

/* The free-threaded build's heaps never share a page. */
static void test_heaps(void)
{
	void *p = malloc(alloc_mimalloc.params_size), *m;

	memcpy(p, alloc_mimalloc.defaults, alloc_mimalloc.params_size);
	for (size_t k = 0; k < alloc_mimalloc.nknobs; k++)
		if (strcmp(alloc_mimalloc.knobs[k].name, "heaps") == 0)
			*knob_int(p, &alloc_mimalloc.knobs[k]) = 1;     /* "free-threaded" */
	m = alloc_mimalloc.create(p, NULL);
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_MEM);
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_OBJECT);
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_GC);
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_GC_PRE);
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_GC);
	CHECK_U64(get(m, "pages"), 4);
	CHECK_U64(get(m, "allocated_blocks"), 5);
	check_ok(m);
	alloc_mimalloc.destroy(m);
	free(p);
	/* the default build: one heap, one page */
	m = make();
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_MEM);
	alloc_mimalloc.alloc_kind(m, 32, ALLOC_KIND_GC);
	CHECK_U64(get(m, "pages"), 1);
	alloc_mimalloc.destroy(m);
}

int main(void)
{
	TEST_RUN(test_block_sizes);
	TEST_RUN(test_fresh_pages);
	TEST_RUN(test_extension);
	TEST_RUN(test_retire);
	TEST_RUN(test_full_and_free);
	TEST_RUN(test_realloc);
	TEST_RUN(test_large_huge);
	TEST_RUN(test_purge_delay);
	TEST_RUN(test_untimed_clock);
	TEST_RUN(test_heaps);
	return test_done();
}
