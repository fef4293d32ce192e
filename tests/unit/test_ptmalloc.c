/*
 * test_ptmalloc.c - the exact glibc 2.36 model against hand-derived
 * decisions of malloc/malloc.c (the rules are numbered in the header of
 * sim/alloc_ptmalloc.c; each test cites the one it exercises).
 *
 * Layout facts used throughout (64-bit): request2size(n) = max(32,
 * (n + 23) & ~15); the user pointer is chunk + 16; the first malloc
 * allocates the 640-byte tcache struct as a 656-byte chunk at the heap's
 * start, so the heap is ALIGN_UP(656 + 131072 + 32, 4096) = 135168 bytes
 * and the first user chunk starts at offset 656.
 *
 * With `points TRACE N` it is also a driver for tests/e2e/glibc_exact.sh:
 * it replays the trace's a/f/r lines on the model and prints mallinfo2's
 * fields after every N-th call in the format of tools/replay-real.
 */
#include "alloc.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

extern const struct alloc_policy alloc_ptmalloc;

#define BASE 0x0000555555a00000ull
#define FIRST (BASE + 656 + 16)         /* the first user pointer */

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

static uint64_t mi(void *g, const char *key)
{
	struct kv kv = { .n = 0 };
	struct alloc_sink sink = { .ctx = &kv, .counter = kv_counter };

	alloc_ptmalloc.details(g, &sink);
	for (int i = 0; i < kv.n; i++)
		if (strcmp(kv.key[i], key) == 0)
			return kv.val[i];
	return UINT64_MAX;
}

static void *make(void)
{
	return alloc_ptmalloc.create(alloc_ptmalloc.defaults, NULL);
}

static void ok(void *g)
{
	char msg[256] = "";

	CHECK(alloc_ptmalloc.check(g, msg, sizeof msg) == 0);
	if (msg[0])
		fprintf(stderr, "# %s\n", msg);
}

static uint64_t A(void *g, uint64_t n)
{
	return alloc_ptmalloc.alloc(g, n);
}

static void F(void *g, uint64_t p)
{
	alloc_ptmalloc.free(g, p, 0);
}

static uint64_t R(void *g, uint64_t p, uint64_t n)
{
	return alloc_ptmalloc.resize(g, p, 0, n);
}

/* Rule 1 and 2g: the tcache struct, then chunks carved from top. */
static void test_first_heap(void)
{
	void *g = make();

	CHECK_U64(A(g, 100), FIRST);
	CHECK_U64(A(g, 0), FIRST + 112);            /* malloc(0): 32 bytes */
	CHECK_U64(A(g, 24), FIRST + 112 + 32);
	CHECK_U64(mi(g, "arena"), 135168);
	CHECK_U64(mi(g, "keepcost"), 135168 - 656 - 112 - 32 - 32);
	CHECK_U64(mi(g, "ordblks"), 1);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rules 1, 2a, 3: seven chunks per tcache bin, newest first; the eighth
 * goes to a fastbin; when the tcache bin is empty, malloc takes the
 * fastbin (and stashes the rest of that fastbin in the tcache). */
static void test_tcache_then_fastbin(void)
{
	void *g = make();
	uint64_t p[9];

	for (int i = 0; i < 9; i++)
		p[i] = A(g, 24);
	for (int i = 0; i < 9; i++)
		F(g, p[i]);
	/* p0..p6 in the tcache, p7 and p8 in fastbin 0 (p8 at its head) */
	CHECK_U64(mi(g, "tcache_chunks"), 7);
	CHECK_U64(mi(g, "smblks"), 2);
	CHECK_U64(mi(g, "fsmblks"), 64);
	for (int i = 6; i >= 0; i--)
		CHECK_U64(A(g, 24), p[i]);
	/* fastbin: p8 is returned, p7 moves to the tcache */
	CHECK_U64(A(g, 20), p[8]);
	CHECK_U64(mi(g, "smblks"), 0);
	CHECK_U64(mi(g, "tcache_chunks"), 1);
	CHECK_U64(A(g, 1), p[7]);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rules 2d and 2f: a freed 2016-byte chunk goes to the unsorted bin; a
 * small request sorts it into large bin 79, takes it through the binmap
 * and leaves the remainder as the last remainder, which the next small
 * request splits in turn. */
static void test_last_remainder(void)
{
	void *g = make();
	uint64_t a = A(g, 2000);        /* chunk 2016 */

	A(g, 24);                       /* keeps a away from top */
	F(g, a);
	CHECK_U64(mi(g, "ordblks"), 2);
	CHECK_U64(A(g, 100), a);        /* 112 of the 2016 */
	CHECK_U64(A(g, 100), a + 112);  /* the last remainder: 1904 -> 1792 */
	CHECK_U64(A(g, 200), a + 224);  /* 208 of it */
	CHECK_U64(mi(g, "ordblks"), 2);
	CHECK_U64(mi(g, "fordblks"), mi(g, "keepcost") + 2016 - 112 - 112 - 208);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rule 2d/2e: large bins keep one leader per size; best fit takes the
 * second chunk of the best size group. X1 and X2 are 1184-byte chunks,
 * Y 1152 (all in large bin 66); a request for 1168 takes X2. */
static void test_large_bin_order(void)
{
	void *g = make();
	uint64_t x1 = A(g, 1176), x2, y;

	A(g, 24);
	x2 = A(g, 1176);
	A(g, 24);
	y = A(g, 1144);
	A(g, 24);
	F(g, x1);
	F(g, x2);
	F(g, y);
	CHECK_U64(A(g, 1160), x2);      /* 1184 - 1168 < 32: not split */
	CHECK_U64(A(g, 1160), x1);
	CHECK_U64(A(g, 1100), y);       /* 1120 of 1152: remainder 32 */
	CHECK_U64(mi(g, "ordblks"), 2);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rule 2c: a large request consolidates the fastbins first. Three
 * adjacent 48-byte chunks, freed after their tcache bin is full, merge
 * into one 144-byte chunk. */
static void test_consolidate(void)
{
	void *g = make();
	uint64_t p[10];

	for (int i = 0; i < 10; i++)
		p[i] = A(g, 40);            /* chunk 48 */
	A(g, 24);
	for (int i = 0; i < 10; i++)
		F(g, p[i]);                 /* p0..p6 tcache, p7..p9 fastbin 1 */
	CHECK_U64(mi(g, "smblks"), 3);
	A(g, 2000);
	CHECK_U64(mi(g, "smblks"), 0);
	CHECK_U64(mi(g, "ordblks"), 2);
	CHECK_U64(mi(g, "fordblks"), mi(g, "keepcost") + 144);
	CHECK_U64(A(g, 130), p[7]);     /* 144 exactly, from its small bin */
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rules 2i and 3: brk growth and systrim, hand-computed.
 *   m2 = 120016 from top: top 134400 - 120016 = 14384.
 *   m3 = 100016: sysmalloc grows brk by ALIGN_UP(100016 + 131072 + 32
 *   - 14384 = 216736, 4096) = 217088: heap 352256, top 131456.
 *   free(m3) merges into top: 231472 >= 64 KiB and >= trim 131072:
 *   release ALIGN_DOWN(231472 - 33 - 131072 = 100367, 4096) = 98304:
 *   heap 253952, top 133168. */
static void test_grow_and_trim(void)
{
	void *g = make();

	A(g, 100);
	A(g, 120000);
	CHECK_U64(mi(g, "keepcost"), 14384);
	uint64_t m3 = A(g, 100000);

	CHECK_U64(mi(g, "arena"), 352256);
	CHECK_U64(mi(g, "keepcost"), 131456);
	F(g, m3);
	CHECK_U64(mi(g, "arena"), 253952);
	CHECK_U64(mi(g, "keepcost"), 133168);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rule 3: freeing a 200704-byte mmapped chunk (200000 + 16 + 8 rounded
 * to pages) raises the mmap threshold to 200704 and the trim threshold
 * to 401408; the same request then comes from brk. */
static void test_dynamic_threshold(void)
{
	void *g = make();
	uint64_t m = A(g, 200000);
	struct alloc_stats st;

	CHECK_U64(mi(g, "hblks"), 1);
	CHECK_U64(mi(g, "hblkhd"), 200704);
	alloc_ptmalloc.stats(g, &st);
	CHECK_U64(st.footprint, 135168 + 200704);
	F(g, m);
	CHECK_U64(mi(g, "mmap_threshold"), 200704);
	CHECK_U64(mi(g, "trim_threshold"), 401408);
	A(g, 200000);
	CHECK_U64(mi(g, "hblks"), 0);
	/* top 135168 - 656 = 134512; brk grows by ALIGN_UP(200016 + 131072
	 * + 32 - 134512, 4096) = 196608 */
	CHECK_U64(mi(g, "arena"), 135168 + 196608);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rule 4: realloc into top, shrink with the remainder to the tcache,
 * move with the old chunk to the tcache, and mremap of a mapped chunk. */
static void test_realloc(void)
{
	void *g = make();
	uint64_t a = A(g, 100), top0 = mi(g, "keepcost");

	CHECK_U64(R(g, a, 1000), a);                    /* 112 -> 1008 into top */
	CHECK_U64(mi(g, "keepcost"), top0 - 896);
	CHECK_U64(R(g, a, 100), a);                     /* 896 split off ... */
	CHECK_U64(mi(g, "tcache_chunks"), 1);           /* ... into tcache bin 54 */
	CHECK_U64(mi(g, "keepcost"), top0 - 896);
	uint64_t b = A(g, 880);                         /* chunk 896: the tcache's */

	CHECK_U64(b, a + 112);
	uint64_t c = R(g, a, 5000);                     /* b blocks it: move */

	CHECK_U64(c, b + 896);
	CHECK_U64(A(g, 100), a);                        /* old chunk: tcache */
	uint64_t m = A(g, 300000);                      /* mapped: 303104 */

	CHECK_U64(mi(g, "hblkhd"), 303104);
	m = R(g, m, 400000);
	CHECK_U64(mi(g, "hblkhd"), 401408);             /* ALIGN_UP(400024, 4096) */
	CHECK_U64(R(g, m, 10), m);                      /* stays mapped, in place */
	CHECK_U64(mi(g, "hblks"), 1);
	CHECK_U64(mi(g, "hblkhd"), 4096);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* Rule 4: growth when top is too small: _int_malloc extends brk, the new
 * chunk is the next one, the two merge, and the block keeps its address.
 *   b takes 60016, a 112: top 135168 - 656 - 60016 - 112 = 74384.
 *   realloc(a, 100000): 112 + 74384 < 100016 + 32; sysmalloc grows brk
 *   by ALIGN_UP(100016 + 131072 + 32 - 74384 = 156736, 4096) = 159744
 *   and splits 100016 off top, right after a: merged 100128, the 112
 *   left over goes to the tcache. */
static void test_realloc_grow_brk(void)
{
	void *g = make();

	A(g, 60000);
	uint64_t a = A(g, 100);

	CHECK_U64(mi(g, "keepcost"), 74384);
	CHECK_U64(R(g, a, 100000), a);
	CHECK_U64(mi(g, "arena"), 135168 + 159744);
	CHECK_U64(mi(g, "tcache_chunks"), 1);
	CHECK_U64(mi(g, "keepcost"), 74384 + 159744 - 100016);
	CHECK_U64(mi(g, "hblks"), 0);
	ok(g);
	alloc_ptmalloc.destroy(g);
}

/* ---- `points`: the model's mallinfo2 along a trace --------------------- */

struct slot {
	uint64_t id, addr, size;
};

static struct slot *slots;
static uint64_t smask = 0;

static struct slot *slot_of(uint64_t id)
{
	uint64_t i = (id * 0x9e3779b97f4a7c15ull) & smask;

	while (slots[i].id && slots[i].id != id)
		i = (i + 1) & smask;
	return &slots[i];
}

static void slot_del(struct slot *s)
{
	uint64_t i = (uint64_t)(s - slots), j = i;

	for (;;) {
		j = (j + 1) & smask;
		if (!slots[j].id)
			break;
		uint64_t home = (slots[j].id * 0x9e3779b97f4a7c15ull) & smask;

		if (((j - home) & smask) >= ((j - i) & smask)) {
			slots[i] = slots[j];
			i = j;
		}
	}
	slots[i].id = 0;
}

static void print_point(void *g, uint64_t call)
{
	static const char *const keys[] = { "arena", "ordblks", "smblks", "hblks",
		"hblkhd", "fsmblks", "uordblks", "fordblks", "keepcost" };

	printf("point call %llu", (unsigned long long)call);
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		printf(" %s %llu", keys[k], (unsigned long long)mi(g, keys[k]));
	printf(" heap %llu footprint %llu\n", (unsigned long long)mi(g, "arena"),
	       (unsigned long long)(mi(g, "arena") + mi(g, "hblkhd")));
	/* replay-real adds mapped, rss and heap_rss, which e2e/glibc_exact.sh strips */
}

static int points(const char *path, uint64_t every)
{
	FILE *f = fopen(path, "r");
	char line[512];
	uint64_t calls = 0, live = 0;
	void *g = make();

	if (!f || !every) {
		perror(path);
		return 66;
	}
	smask = (1u << 22) - 1;
	slots = calloc(smask + 1, sizeof *slots);
	while (fgets(line, sizeof line, f)) {
		unsigned long long id, size = 0;
		struct slot *s;
		char ev;

		if (sscanf(line, "%c %llu %llu", &ev, &id, &size) < 2 ||
		    (ev != 'a' && ev != 'f' && ev != 'r'))
			continue;
		if (live * 2 > smask) {
			fprintf(stderr, "points: more than %llu live blocks\n",
				(unsigned long long)(smask / 2));
			return 70;
		}
		s = slot_of(id);
		if (ev == 'a') {
			*s = (struct slot){ id, alloc_ptmalloc.alloc(g, size), size };
			live++;
		} else if (ev == 'f') {
			alloc_ptmalloc.free(g, s->addr, s->size);
			slot_del(s);
			live--;
		} else {
			s->addr = alloc_ptmalloc.resize(g, s->addr, s->size, size);
			s->size = size;
		}
		if (++calls % every == 0)
			print_point(g, calls);
	}
	fclose(f);
	free(slots);
	alloc_ptmalloc.destroy(g);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "points") == 0)
		return points(argv[2], strtoull(argv[3], NULL, 10));
	TEST_RUN(test_first_heap);
	TEST_RUN(test_tcache_then_fastbin);
	TEST_RUN(test_last_remainder);
	TEST_RUN(test_large_bin_order);
	TEST_RUN(test_consolidate);
	TEST_RUN(test_grow_and_trim);
	TEST_RUN(test_dynamic_threshold);
	TEST_RUN(test_realloc);
	TEST_RUN(test_realloc_grow_brk);
	return test_done();
}
