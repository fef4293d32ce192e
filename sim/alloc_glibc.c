/*
 * alloc_glibc.c - a glibc-like system allocator: the OS boundary.
 *
 * Models the main arena of glibc's ptmalloc2 (malloc/malloc.c, read at
 * glibc 2.36) on 64-bit Linux, as far as it decides how much memory a
 * process holds. docs/policies.md ("glibc") has the long version.
 *
 *  1. A request of n bytes needs a chunk of nb = max(min_chunk,
 *     round_up(n + header, chunk_align)) bytes (request2size: SIZE_SZ 8,
 *     MALLOC_ALIGNMENT 16, MINSIZE 32). The user pointer is the chunk
 *     address + 2 * header.
 *  2. malloc looks for a free chunk of the brk heap that fits (exact bins
 *     below 1024 bytes, oldest first; best fit above), then splits the top
 *     chunk, and only then calls "sysmalloc": a chunk of nb >= the mmap
 *     threshold gets its own mapping of round_up(nb + header, 4096) bytes
 *     (sysmalloc_mmap: ALIGN_UP (nb + SIZE_SZ, pagesize)); otherwise brk
 *     grows by round_up(nb + top_pad + MINSIZE - old top, 4096).
 *  3. free coalesces a brk chunk with free neighbours and with top. When
 *     the freed (coalesced) chunk is >= 64 KiB
 *     (FASTBIN_CONSOLIDATION_THRESHOLD) and top is >= trim_threshold, top
 *     is cut to keep top_pad (systrim: release
 *     align_down(top - MINSIZE - 1 - top_pad, page)).
 *  4. Freeing an mmapped chunk unmaps it. With the dynamic threshold on,
 *     a freed mmapped chunk larger than the threshold and <= 32 MiB
 *     (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit) raises the mmap threshold to
 *     its size and the trim threshold to twice that.
 *  5. realloc grows in place into a free next chunk or top, shrinks in
 *     place (splitting off >= MINSIZE), else moves; an mmapped chunk is
 *     mremap'ed and stays mmapped whatever its new size.
 *  6. map()/unmap() are raw anonymous mappings for an allocator above
 *     (pymalloc's arenas), placed top-down like Linux's mmap.
 *
 * Accounting: footprint = brk heap size + every mapping. RSS = pages of
 * the brk heap below its high-water mark (the furthest the top chunk's
 * header has been written since the last trim; freed chunks stay
 * resident) + the pages of mmapped chunks (their user writes them) +
 * nothing for map() regions: the instance that asked for a raw mapping
 * reports which of its pages it touched, so nothing is counted twice.
 *
 * Not modelled: tcache and fastbins (their delayed coalescing), the
 * unsorted bin and last-remainder heuristics (exact FIFO/best fit
 * instead), per-thread arenas, malloc_trim, M_MMAP_MAX, mremap moving
 * in place, heap randomisation. realloc(p, 0) resizes to a minimum chunk
 * instead of freeing (CPython never passes 0 to realloc).
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define GLIBC_BRK_BASE      0x0000555555a00000ull  /* address of the heap */
#define GLIBC_MMAP_TOP      0x00007ffff0000000ull  /* mappings grow down */
#define GLIBC_SMALL_LIMIT   1024u     /* bytes: MIN_LARGE_SIZE, 64 * 16 */
#define GLIBC_CONSOLIDATE   65536u    /* bytes: FASTBIN_CONSOLIDATION_THRESHOLD */
#define GLIBC_DYN_MAX       (32ull << 20) /* bytes: DEFAULT_MMAP_THRESHOLD_MAX */
#define GLIBC_NSMALL        (GLIBC_SMALL_LIMIT / 16u)
#define GLIBC_NBINS         (GLIBC_NSMALL + 64u * 4u)
#define NIL                 UINT32_MAX

struct glibc_params {
	uint64_t mmap_threshold;        /* bytes */
	uint64_t trim_threshold;        /* bytes */
	uint64_t top_pad;               /* bytes */
	int dynamic_mmap_threshold;     /* bool */
	uint64_t min_chunk;             /* bytes */
	uint64_t chunk_align;           /* bytes */
	uint64_t header;                /* bytes: SIZE_SZ */
};

enum chunk_kind { CH_USED, CH_FREE, CH_MMAPPED, CH_MAP };

/* One chunk of the brk heap, one mmapped chunk or one raw mapping. */
struct chunk {
	uint64_t addr;          /* chunk (or mapping) start */
	uint64_t size;          /* bytes: chunk size; mapping size for maps */
	uint64_t request;       /* bytes asked for (live chunks) */
	uint32_t next, prev;    /* bin links (free chunks), else free list */
	uint8_t kind;           /* enum chunk_kind */
};

/* A raw address range held from the kernel (mmap), sorted by address. */
struct mapping {
	uint64_t addr, len;
};

struct glibc {
	struct glibc_params p;
	uint64_t mmap_threshold, trim_threshold;   /* current (dynamic) */

	struct chunk *ch;               /* records; index = handle */
	uint32_t nch, capch, freerec;   /* freerec: chain of unused records */

	/* Open-addressing hash: chunk start address -> record index + 1. */
	uint32_t *slots;
	uint64_t mask, used;
	/* Free brk chunks by end address (for backward coalescing). */
	uint32_t *eslots;
	uint64_t emask, eused;

	uint32_t bin[GLIBC_NBINS];      /* head of each bin (NIL: empty) */
	uint32_t bin_tail[GLIBC_NBINS]; /* its oldest chunk (NIL: empty) */
	uint64_t binmap[(GLIBC_NBINS + 63) / 64];

	uint64_t top;                   /* start of the top chunk */
	uint64_t brk;                   /* end of the heap */
	uint64_t hw;                    /* resident up to here (bytes addr) */

	struct mapping *maps;
	size_t nmaps, capmaps;

	uint64_t requested, allocated, blocks;
	uint64_t mapped_bytes;          /* all mappings */
	uint64_t mmapped_chunk_bytes;   /* mappings of mmapped chunks */
	uint64_t os_maps, os_unmaps;
};

static const struct glibc_params glibc_defaults = {
	.mmap_threshold = 128 * 1024,
	.trim_threshold = 128 * 1024,
	.top_pad = 128 * 1024,
	.dynamic_mmap_threshold = 1,
	.min_chunk = 32,
	.chunk_align = 16,
	.header = 8,
};

static const struct knob glibc_knobs[] = {
	{ .name = "mmap_threshold", .kind = KNOB_UINT,
	  .offset = offsetof(struct glibc_params, mmap_threshold),
	  .min = 4096, .max = 1ull << 40, .unit = "bytes",
	  .doc = "chunks at least this big get their own mapping (M_MMAP_THRESHOLD)" },
	{ .name = "trim_threshold", .kind = KNOB_UINT,
	  .offset = offsetof(struct glibc_params, trim_threshold),
	  .min = 4096, .max = 1ull << 40, .unit = "bytes",
	  .doc = "free top above this is returned with brk (M_TRIM_THRESHOLD)" },
	{ .name = "top_pad", .kind = KNOB_UINT,
	  .offset = offsetof(struct glibc_params, top_pad),
	  .min = 0, .max = 1ull << 40, .unit = "bytes",
	  .doc = "extra bytes asked for on brk growth and kept on trim (M_TOP_PAD)" },
	{ .name = "dynamic_mmap_threshold", .kind = KNOB_BOOL,
	  .offset = offsetof(struct glibc_params, dynamic_mmap_threshold),
	  .min = 0, .max = 1, .unit = NULL,
	  .doc = "freeing a bigger mmapped chunk (<= 32 MiB) raises the thresholds" },
	{ .name = "min_chunk", .kind = KNOB_UINT,
	  .offset = offsetof(struct glibc_params, min_chunk),
	  .min = 16, .max = 4096, .unit = "bytes",
	  .doc = "smallest chunk (MINSIZE)" },
	{ .name = "chunk_align", .kind = KNOB_UINT,
	  .offset = offsetof(struct glibc_params, chunk_align),
	  .min = 8, .max = 4096, .unit = "bytes",
	  .doc = "chunk size granularity (MALLOC_ALIGNMENT)" },
	{ .name = "header", .kind = KNOB_UINT,
	  .offset = offsetof(struct glibc_params, header),
	  .min = 4, .max = 64, .unit = "bytes",
	  .doc = "per-chunk size field overhead (SIZE_SZ)" },
};

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

static int glibc_validate(const void *params, char *msg, size_t msglen)
{
	const struct glibc_params *p = params;

	if (!is_pow2(p->chunk_align))
		snprintf(msg, msglen, "chunk_align (%llu) must be a power of two",
			 (unsigned long long)p->chunk_align);
	else if (p->chunk_align != 2 * p->header)
		snprintf(msg, msglen, "chunk_align (%llu) must be twice header "
			 "(%llu), as in glibc's 64-bit layout",
			 (unsigned long long)p->chunk_align,
			 (unsigned long long)p->header);
	else if (p->min_chunk % p->chunk_align || p->min_chunk < 2 * p->header)
		snprintf(msg, msglen, "min_chunk (%llu) must be a multiple of "
			 "chunk_align and at least twice header",
			 (unsigned long long)p->min_chunk);
	else
		return 0;
	return -1;
}

/* ---- records and hashes ------------------------------------------------ */

static uint64_t hash_addr(uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return a;
}

/* Slot of key `addr` in table t (0-terminated probe), or of an empty one. */
static uint64_t slot_find(const struct glibc *g, const uint32_t *t,
			  uint64_t mask, uint64_t addr, int by_end)
{
	uint64_t i = hash_addr(addr) & mask;

	while (t[i]) {
		const struct chunk *c = &g->ch[t[i] - 1];
		uint64_t key = by_end ? c->addr + c->size : c->addr;

		if (key == addr)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static void table_insert(struct glibc *g, int by_end, uint32_t idx);

static void table_grow(struct glibc *g, int by_end)
{
	uint32_t **t = by_end ? &g->eslots : &g->slots;
	uint64_t *mask = by_end ? &g->emask : &g->mask;
	uint64_t *used = by_end ? &g->eused : &g->used;
	uint32_t *old = *t;
	uint64_t oldn = *mask + 1;

	*mask = oldn * 2 - 1;
	*t = xcalloc((size_t)(oldn * 2), sizeof **t);
	*used = 0;
	for (uint64_t i = 0; i < oldn; i++)
		if (old[i])
			table_insert(g, by_end, old[i] - 1);
	free(old);
}

static void table_insert(struct glibc *g, int by_end, uint32_t idx)
{
	uint32_t *t = by_end ? g->eslots : g->slots;
	uint64_t mask = by_end ? g->emask : g->mask;
	const struct chunk *c = &g->ch[idx];
	uint64_t i = slot_find(g, t, mask, by_end ? c->addr + c->size : c->addr,
			       by_end);

	t[i] = idx + 1;
	if (++*(by_end ? &g->eused : &g->used) * 2 > mask + 1)
		table_grow(g, by_end);
}

/* Removes key at slot i with backward-shift deletion (keeps probes short). */
static void table_remove(struct glibc *g, int by_end, uint64_t addr)
{
	uint32_t *t = by_end ? g->eslots : g->slots;
	uint64_t mask = by_end ? g->emask : g->mask;
	uint64_t i = slot_find(g, t, mask, addr, by_end), j = i;

	if (!t[i])
		return;
	t[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!t[j])
			break;
		const struct chunk *c = &g->ch[t[j] - 1];
		uint64_t home = hash_addr(by_end ? c->addr + c->size : c->addr) & mask;

		/* Move t[j] back to i unless its home lies in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			t[i] = t[j];
			t[j] = 0;
			i = j;
		}
	}
	(*(by_end ? &g->eused : &g->used))--;
}

static uint32_t lookup(const struct glibc *g, uint64_t addr)
{
	uint64_t i = slot_find(g, g->slots, g->mask, addr, 0);

	return g->slots[i] ? g->slots[i] - 1 : NIL;
}

static uint32_t lookup_end(const struct glibc *g, uint64_t end)
{
	uint64_t i = slot_find(g, g->eslots, g->emask, end, 1);

	return g->eslots[i] ? g->eslots[i] - 1 : NIL;
}

static uint32_t rec_new(struct glibc *g, uint64_t addr, uint64_t size, int kind)
{
	uint32_t i;

	if (g->freerec != NIL) {
		i = g->freerec;
		g->freerec = g->ch[i].next;
	} else {
		if (g->nch == g->capch) {
			g->capch = g->capch ? g->capch * 2 : 1024;
			g->ch = xreallocarray(g->ch, g->capch, sizeof *g->ch);
		}
		i = g->nch++;
	}
	g->ch[i] = (struct chunk){ .addr = addr, .size = size,
				   .next = NIL, .prev = NIL,
				   .kind = (uint8_t)kind };
	table_insert(g, 0, i);
	return i;
}

static void rec_drop(struct glibc *g, uint32_t i)
{
	table_remove(g, 0, g->ch[i].addr);
	g->ch[i].next = g->freerec;
	g->ch[i].kind = 0xff;
	g->freerec = i;
}

/* ---- bins ---------------------------------------------------------------- */

static uint32_t bin_index(uint64_t size)
{
	if (size < GLIBC_SMALL_LIMIT)
		return (uint32_t)(size / 16);
	/* Four log-spaced bins per power of two from 1024 up. */
	unsigned lg = 63u - (unsigned)__builtin_clzll(size);
	unsigned sub = (unsigned)((size >> (lg - 2)) & 3u);

	return GLIBC_NSMALL + (lg - 10u) * 4u + sub;
}

/*
 * Large bins (1024 bytes and up) are searched for the best fit: the
 * smallest chunk that fits, the lowest address among equal sizes. glibc
 * keeps them sorted by size (with nextsize skip links); here each large
 * bin is a treap ordered by (size, address), so that insertion, removal
 * and the search cost O(log n) instead of a walk of the whole bin. A
 * record's next/prev links serve as the left/right children, and its
 * priority is a hash of its index (deterministic, so the tree's shape
 * and every result are the same run after run). Every operation is
 * iterative. Small bins stay doubly linked lists (oldest at the tail).
 */
#define LEFT(g, i)  ((g)->ch[i].next)
#define RIGHT(g, i) ((g)->ch[i].prev)

static int is_large(uint32_t b)
{
	return b >= GLIBC_NSMALL;
}

static uint32_t prio(uint32_t i)
{
	uint32_t x = i * 0x9e3779b1u;

	return x ^ (x >> 15);
}

/* (size, addr) of chunk i before that of chunk j. */
static int key_less(const struct glibc *g, uint32_t i, uint32_t j)
{
	const struct chunk *a = &g->ch[i], *b = &g->ch[j];

	return a->size < b->size || (a->size == b->size && a->addr < b->addr);
}

/* Splits tree t around chunk x's key: the keys below go to
 * *lo, the rest to *hi. */
static void tree_split(struct glibc *g, uint32_t t, uint32_t x, uint32_t *lo, uint32_t *hi)
{
	while (t != NIL) {
		if (key_less(g, t, x)) {
			*lo = t;
			lo = &RIGHT(g, t);
			t = RIGHT(g, t);
		} else {
			*hi = t;
			hi = &LEFT(g, t);
			t = LEFT(g, t);
		}
	}
	*lo = *hi = NIL;
}

/* Joins two trees, every key of a below every key of b, into *out. */
static void tree_merge(struct glibc *g, uint32_t a, uint32_t b, uint32_t *out)
{
	while (a != NIL && b != NIL) {
		if (prio(a) > prio(b)) {
			*out = a;
			out = &RIGHT(g, a);
			a = RIGHT(g, a);
		} else {
			*out = b;
			out = &LEFT(g, b);
			b = LEFT(g, b);
		}
	}
	*out = a != NIL ? a : b;
}

static void tree_insert(struct glibc *g, uint32_t *root, uint32_t x)
{
	uint32_t *link = root;

	while (*link != NIL && prio(*link) >= prio(x))
		link = key_less(g, x, *link) ? &LEFT(g, *link) : &RIGHT(g, *link);
	tree_split(g, *link, x, &LEFT(g, x), &RIGHT(g, x));
	*link = x;
}

static void tree_remove(struct glibc *g, uint32_t *root, uint32_t x)
{
	uint32_t *link = root;

	while (*link != x)
		link = key_less(g, x, *link) ? &LEFT(g, *link) : &RIGHT(g, *link);
	tree_merge(g, LEFT(g, x), RIGHT(g, x), link);
}

/* The first chunk in (size, addr) order with size >= nb, or NIL. */
static uint32_t tree_fit(const struct glibc *g, uint32_t t, uint64_t nb)
{
	uint32_t best = NIL;

	while (t != NIL) {
		if (g->ch[t].size >= nb) {
			best = t;
			t = LEFT(g, t);
		} else {
			t = RIGHT(g, t);
		}
	}
	return best;
}

static void bin_insert(struct glibc *g, uint32_t i)
{
	struct chunk *c = &g->ch[i];
	uint32_t b = bin_index(c->size);

	c->kind = CH_FREE;
	c->prev = NIL;
	if (is_large(b)) {
		c->next = NIL;
		tree_insert(g, &g->bin[b], i);
	} else {
		c->next = g->bin[b];
		if (c->next != NIL)
			g->ch[c->next].prev = i;
		else
			g->bin_tail[b] = i;
		g->bin[b] = i;
	}
	g->binmap[b / 64] |= 1ull << (b % 64);
	table_insert(g, 1, i);
}

static void bin_remove(struct glibc *g, uint32_t i)
{
	struct chunk *c = &g->ch[i];
	uint32_t b = bin_index(c->size);

	table_remove(g, 1, c->addr + c->size);
	if (is_large(b)) {
		tree_remove(g, &g->bin[b], i);
	} else {
		if (c->prev != NIL)
			g->ch[c->prev].next = c->next;
		else
			g->bin[b] = c->next;
		if (c->next != NIL)
			g->ch[c->next].prev = c->prev;
		else
			g->bin_tail[b] = c->prev;
	}
	if (g->bin[b] == NIL)
		g->binmap[b / 64] &= ~(1ull << (b % 64));
	c->kind = CH_USED;
	c->next = c->prev = NIL;
}

/* The free chunk to serve nb from, or NIL: the oldest of an exact small
 * bin, else the best fit of the first non-empty bin that has one. */
static uint32_t bin_search(const struct glibc *g, uint64_t nb)
{
	for (uint32_t b = bin_index(nb); b < GLIBC_NBINS; b++) {
		if (!(g->binmap[b / 64] & (1ull << (b % 64)))) {
			/* skip a whole empty word quickly */
			if (b % 64 == 0 && !g->binmap[b / 64])
				b += 63;
			continue;
		}
		if (!is_large(b)) {
			/* The tail is the oldest: found without walking. */
			if (g->ch[g->bin_tail[b]].size >= nb)
				return g->bin_tail[b];
			continue;
		}
		uint32_t best = tree_fit(g, g->bin[b], nb);

		if (best != NIL)
			return best;
	}
	return NIL;
}

/* ---- the address space ----------------------------------------------------- */

/* Top-down first fit below GLIBC_MMAP_TOP, like Linux's mmap layout. */
static uint64_t vm_map(struct glibc *g, uint64_t len)
{
	uint64_t hi = GLIBC_MMAP_TOP;
	size_t k = g->nmaps;

	while (k > 0) {
		const struct mapping *m = &g->maps[k - 1];

		if (hi - (m->addr + m->len) >= len)
			break;
		hi = m->addr;
		k--;
	}
	uint64_t addr = hi - len;

	if (g->nmaps == g->capmaps) {
		g->capmaps = g->capmaps ? g->capmaps * 2 : 64;
		g->maps = xreallocarray(g->maps, g->capmaps, sizeof *g->maps);
	}
	memmove(&g->maps[k + 1], &g->maps[k], (g->nmaps - k) * sizeof *g->maps);
	g->maps[k] = (struct mapping){ addr, len };
	g->nmaps++;
	g->mapped_bytes += len;
	g->os_maps++;
	return addr;
}

static void vm_unmap(struct glibc *g, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = g->nmaps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->maps[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->nmaps && g->maps[lo].addr == addr) {
		len = g->maps[lo].len;
		memmove(&g->maps[lo], &g->maps[lo + 1],
			(g->nmaps - lo - 1) * sizeof *g->maps);
		g->nmaps--;
		g->mapped_bytes -= len;
		g->os_unmaps++;
	}
}

/* Shrinks the mapping at addr to len bytes in place (munmap of its tail). */
static void vm_shrink(struct glibc *g, uint64_t addr, uint64_t len)
{
	for (size_t k = 0; k < g->nmaps; k++)
		if (g->maps[k].addr == addr) {
			g->mapped_bytes -= g->maps[k].len - len;
			g->maps[k].len = len;
			g->os_unmaps++;
			return;
		}
}

/* ---- the allocator ---------------------------------------------------------- */

static uint64_t chunk_size(const struct glibc *g, uint64_t req)
{
	uint64_t nb = round_up(req + g->p.header, g->p.chunk_align);

	return nb < g->p.min_chunk ? g->p.min_chunk : nb;
}

static uint64_t mmap_size(const struct glibc *g, uint64_t nb)
{
	return round_up(nb + g->p.header, ALLOC_PAGE_SIZE);
}

static uint64_t user_off(const struct glibc *g)
{
	return 2 * g->p.header;
}

static void *glibc_create(const void *params, const struct alloc_inst *lower)
{
	struct glibc *g = xcalloc(1, sizeof *g);

	(void)lower;
	memcpy(&g->p, params, sizeof g->p);
	g->mmap_threshold = g->p.mmap_threshold;
	g->trim_threshold = g->p.trim_threshold;
	g->freerec = NIL;
	g->mask = 1023;
	g->slots = xcalloc(1024, sizeof *g->slots);
	g->emask = 1023;
	g->eslots = xcalloc(1024, sizeof *g->eslots);
	for (uint32_t b = 0; b < GLIBC_NBINS; b++)
		g->bin[b] = g->bin_tail[b] = NIL;
	g->top = g->brk = g->hw = GLIBC_BRK_BASE;
	return g;
}

static void glibc_destroy(void *state)
{
	struct glibc *g = state;

	if (!g)
		return;
	free(g->ch);
	free(g->slots);
	free(g->eslots);
	free(g->maps);
	free(g);
}

/* The top chunk's header is written at top: its page becomes resident. */
static void note_top(struct glibc *g)
{
	uint64_t end = g->top + user_off(g);

	if (end > g->brk)
		end = g->brk;
	if (end > g->hw)
		g->hw = end;
}

/* Carves nb bytes off top, growing the heap when needed (steps 2). */
static uint32_t from_top(struct glibc *g, uint64_t nb)
{
	uint64_t topsize = g->brk - g->top;

	if (topsize < nb + g->p.min_chunk) {
		uint64_t grow = round_up(nb + g->p.top_pad + g->p.min_chunk - topsize,
					 ALLOC_PAGE_SIZE);

		g->brk += grow;
		g->os_maps++;
	}
	uint32_t i = rec_new(g, g->top, nb, CH_USED);

	g->top += nb;
	note_top(g);
	return i;
}

/* Serves a chunk of nb bytes (nb from chunk_size()); returns its record. */
static uint32_t int_malloc(struct glibc *g, uint64_t nb)
{
	uint32_t i = bin_search(g, nb);

	if (i != NIL) {
		struct chunk *c = &g->ch[i];
		uint64_t rest = c->size - nb;

		bin_remove(g, i);
		if (rest >= g->p.min_chunk) {
			c->size = nb;
			uint32_t r = rec_new(g, c->addr + nb, rest, CH_USED);

			bin_insert(g, r);
		}
		return i;
	}
	if (g->brk - g->top >= nb + g->p.min_chunk || nb < g->mmap_threshold)
		return from_top(g, nb);
	uint64_t len = mmap_size(g, nb);
	uint64_t a = vm_map(g, len);

	g->mmapped_chunk_bytes += len;
	return rec_new(g, a, len, CH_MMAPPED);
}

/* systrim: returns whole pages of top above top_pad + MINSIZE. */
static void systrim(struct glibc *g)
{
	uint64_t size = g->brk - g->top;

	if (size < g->trim_threshold || size < g->p.min_chunk + 1)
		return;
	uint64_t area = size - g->p.min_chunk - 1;

	if (area <= g->p.top_pad)
		return;
	uint64_t extra = (area - g->p.top_pad) / ALLOC_PAGE_SIZE * ALLOC_PAGE_SIZE;

	if (!extra)
		return;
	g->brk -= extra;
	g->os_unmaps++;
	if (g->hw > g->brk)
		g->hw = g->brk;
}

/* Frees brk chunk i: coalesce, maybe merge into top and trim (step 3). */
static void int_free(struct glibc *g, uint32_t i)
{
	struct chunk *c = &g->ch[i];
	uint32_t nx, pv;
	uint64_t size;

	pv = lookup_end(g, c->addr);
	if (pv != NIL) {
		bin_remove(g, pv);
		g->ch[pv].size += c->size;
		rec_drop(g, i);
		i = pv;
		c = &g->ch[i];
	}
	if (c->addr + c->size == g->top) {
		g->top = c->addr;
		rec_drop(g, i);
		note_top(g);
		size = g->brk - g->top;
	} else {
		nx = lookup(g, c->addr + c->size);
		if (nx != NIL && g->ch[nx].kind == CH_FREE) {
			bin_remove(g, nx);
			c->size += g->ch[nx].size;
			rec_drop(g, nx);
		}
		bin_insert(g, i);
		size = g->ch[i].size;
	}
	if (size >= GLIBC_CONSOLIDATE)
		systrim(g);
}

static void account_live(struct glibc *g, const struct chunk *c, int sign)
{
	if (sign > 0) {
		g->requested += c->request;
		g->allocated += c->size;
		g->blocks++;
	} else {
		g->requested -= c->request;
		g->allocated -= c->size;
		g->blocks--;
	}
}

static uint64_t glibc_alloc(void *state, uint64_t size)
{
	struct glibc *g = state;
	uint32_t i = int_malloc(g, chunk_size(g, size));

	g->ch[i].request = size;
	account_live(g, &g->ch[i], +1);
	return g->ch[i].addr + user_off(g);
}

static void free_mmapped(struct glibc *g, uint32_t i)
{
	struct chunk *c = &g->ch[i];

	if (g->p.dynamic_mmap_threshold && c->size > g->mmap_threshold &&
	    c->size <= GLIBC_DYN_MAX) {
		g->mmap_threshold = c->size;
		g->trim_threshold = 2 * c->size;
	}
	g->mmapped_chunk_bytes -= c->size;
	vm_unmap(g, c->addr, c->size);
	rec_drop(g, i);
}

static void glibc_free(void *state, uint64_t addr, uint64_t size)
{
	struct glibc *g = state;
	uint32_t i = lookup(g, addr - user_off(g));

	(void)size;
	if (i == NIL || (g->ch[i].kind != CH_USED && g->ch[i].kind != CH_MMAPPED))
		return;         /* not ours: check() reports nothing to fix */
	account_live(g, &g->ch[i], -1);
	if (g->ch[i].kind == CH_MMAPPED)
		free_mmapped(g, i);
	else
		int_free(g, i);
}

/*
 * The free/resize hint (alloc.h): free looks the chunk up in the address
 * hash (a random bucket of a big table, then the chunk's record), and
 * int_free looks up the chunk ending where it starts (the end hash) and
 * the record of the one starting where it ends (guessed from `size`: a
 * chunk taken whole from a bin may be bigger). Step 0 loads the buckets,
 * step 1 reads the address buckets to load the records.
 */
static void glibc_prefetch(void *state, uint64_t addr, uint64_t size, int step)
{
	const struct glibc *g = state;
	uint64_t c = addr - user_off(g);
	const uint32_t *here = &g->slots[hash_addr(c) & g->mask];
	const uint32_t *next = &g->slots[hash_addr(c + chunk_size(g, size)) & g->mask];

	if (step == 0) {
		__builtin_prefetch(here);
		__builtin_prefetch(next);
		__builtin_prefetch(&g->eslots[hash_addr(c) & g->emask]);
		return;
	}
	if (*here)
		__builtin_prefetch(&g->ch[*here - 1]);
	if (*next)
		__builtin_prefetch(&g->ch[*next - 1]);
}

/* Splits a used brk chunk down to nb, freeing the rest if big enough. */
static void shrink_chunk(struct glibc *g, uint32_t i, uint64_t nb)
{
	uint64_t rest = g->ch[i].size - nb;

	if (rest < g->p.min_chunk)
		return;
	g->ch[i].size = nb;
	uint32_t r = rec_new(g, g->ch[i].addr + nb, rest, CH_USED);

	int_free(g, r);
}

static uint64_t glibc_resize(void *state, uint64_t addr, uint64_t old_size,
			     uint64_t new_size)
{
	struct glibc *g = state;
	uint32_t i = lookup(g, addr - user_off(g));
	uint64_t nb = chunk_size(g, new_size);

	(void)old_size;
	if (i == NIL || (g->ch[i].kind != CH_USED && g->ch[i].kind != CH_MMAPPED))
		return glibc_alloc(state, new_size);
	account_live(g, &g->ch[i], -1);
	if (g->ch[i].kind == CH_MMAPPED) {
		/* mremap_chunk: the chunk stays mmapped at its new size. */
		uint64_t len = mmap_size(g, nb), old = g->ch[i].size;

		if (len <= old) {
			if (len < old) {
				vm_shrink(g, g->ch[i].addr, len);
				g->mmapped_chunk_bytes -= old - len;
				g->ch[i].size = len;
			}
		} else {
			uint64_t a = vm_map(g, len);

			vm_unmap(g, g->ch[i].addr, old);
			g->mmapped_chunk_bytes += len - old;
			rec_drop(g, i);
			i = rec_new(g, a, len, CH_MMAPPED);
		}
	} else if (nb <= g->ch[i].size) {
		shrink_chunk(g, i, nb);
	} else {
		struct chunk *c = &g->ch[i];
		uint64_t next = c->addr + c->size;
		uint32_t nx = lookup(g, next);

		if (next == g->top && c->size + (g->brk - g->top) >= nb + g->p.min_chunk) {
			g->top = c->addr + nb;
			c->size = nb;
			note_top(g);
		} else if (nx != NIL && g->ch[nx].kind == CH_FREE &&
			   c->size + g->ch[nx].size >= nb) {
			bin_remove(g, nx);
			c->size += g->ch[nx].size;
			rec_drop(g, nx);
			shrink_chunk(g, i, nb);
		} else {
			uint32_t n = int_malloc(g, nb);

			int_free(g, i);
			i = n;
		}
	}
	g->ch[i].request = new_size;
	account_live(g, &g->ch[i], +1);
	return g->ch[i].addr + user_off(g);
}

static uint64_t glibc_block_size(void *state, uint64_t size)
{
	struct glibc *g = state;
	uint64_t nb = chunk_size(g, size);

	return nb >= g->mmap_threshold ? mmap_size(g, nb) : nb;
}

static uint64_t glibc_map(void *state, uint64_t bytes)
{
	struct glibc *g = state;
	uint64_t len = round_up(bytes ? bytes : 1, ALLOC_PAGE_SIZE);
	uint64_t a = vm_map(g, len);

	rec_new(g, a, len, CH_MAP);
	return a;
}

static void glibc_unmap(void *state, uint64_t addr, uint64_t bytes)
{
	struct glibc *g = state;
	uint32_t i = lookup(g, addr);

	(void)bytes;
	if (i == NIL || g->ch[i].kind != CH_MAP)
		return;
	vm_unmap(g, addr, g->ch[i].size);
	rec_drop(g, i);
}

static void glibc_stats(void *state, struct alloc_stats *out)
{
	const struct glibc *g = state;
	uint64_t heap_rss = round_up(g->hw - GLIBC_BRK_BASE, ALLOC_PAGE_SIZE);

	out->requested = g->requested;
	out->allocated = g->allocated;
	out->footprint = (g->brk - GLIBC_BRK_BASE) + g->mapped_bytes;
	out->rss = heap_rss + g->mmapped_chunk_bytes;
	out->blocks = g->blocks;
	out->os_maps = g->os_maps;
	out->os_unmaps = g->os_unmaps;
}

static void glibc_details(void *state, const struct alloc_sink *sink)
{
	const struct glibc *g = state;
	uint64_t nfree = 0, free_bytes = 0;

	for (uint32_t i = 0; i < g->nch; i++)
		if (g->ch[i].kind == CH_FREE) {
			nfree++;
			free_bytes += g->ch[i].size;
		}
	sink->counter(sink->ctx, "heap_bytes", g->brk - GLIBC_BRK_BASE);
	sink->counter(sink->ctx, "top_bytes", g->brk - g->top);
	sink->counter(sink->ctx, "free_chunks", nfree);
	sink->counter(sink->ctx, "free_chunk_bytes", free_bytes);
	sink->counter(sink->ctx, "mmapped_chunk_bytes", g->mmapped_chunk_bytes);
	sink->counter(sink->ctx, "mapped_bytes", g->mapped_bytes);
	sink->counter(sink->ctx, "mmap_threshold", g->mmap_threshold);
	sink->counter(sink->ctx, "trim_threshold", g->trim_threshold);
}

/* Walks the heap from its base to top: chunks tile it, no two free chunks
 * touch, every free chunk is in its bin, and the sums agree. */
/* One binned chunk: free, in the bin its size says. */
static int check_binned(const struct glibc *g, uint32_t i, uint32_t b,
			char *msg, size_t msglen)
{
	if (i >= g->nch || bin_index(g->ch[i].size) != b || g->ch[i].kind != CH_FREE) {
		snprintf(msg, msglen, "glibc: chunk in wrong bin");
		return -1;
	}
	return 0;
}

/* A large bin's treap: every chunk belongs there, in strictly increasing
 * (size, addr) order, no child above its parent's priority. In-order
 * walk with an explicit stack (a tree is O(log n) deep, but a broken
 * one need not be). */
static int check_tree(const struct glibc *g, uint32_t b, uint64_t *count,
		      char *msg, size_t msglen)
{
	size_t n = 0, cap = 64;
	uint32_t *stack = xreallocarray(NULL, cap, sizeof *stack);
	uint32_t t = g->bin[b], last = NIL;
	int bad = 0;

	while (!bad && (t != NIL || n > 0)) {
		for (; t != NIL && !bad; t = LEFT(g, t)) {
			bad = check_binned(g, t, b, msg, msglen) || n > g->nch;
			if (!bad && LEFT(g, t) != NIL && prio(LEFT(g, t)) > prio(t))
				bad = 1;
			if (!bad && RIGHT(g, t) != NIL && prio(RIGHT(g, t)) > prio(t))
				bad = 1;
			if (n == cap)
				stack = xreallocarray(stack, cap *= 2, sizeof *stack);
			stack[n++] = t;
		}
		if (bad)
			break;
		t = stack[--n];
		if (last != NIL && !key_less(g, last, t))
			bad = 1;
		last = t;
		++*count;
		t = RIGHT(g, t);
	}
	free(stack);
	if (bad && !msg[0])
		snprintf(msg, msglen, "glibc: large bin %u is not a treap", b);
	return bad ? -1 : 0;
}

/* Counts the binned chunks into *binned, checking each bin's structure. */
static int check_bins(const struct glibc *g, uint64_t *binned, char *msg, size_t msglen)
{
	for (uint32_t b = 0; b < GLIBC_NBINS; b++) {
		if (is_large(b)) {
			if (check_tree(g, b, binned, msg, msglen))
				return -1;
			continue;
		}
		for (uint32_t i = g->bin[b]; i != NIL; i = g->ch[i].next) {
			if (check_binned(g, i, b, msg, msglen))
				return -1;
			++*binned;
		}
	}
	return 0;
}

static int glibc_check(void *state, char *msg, size_t msglen)
{
	const struct glibc *g = state;
	uint64_t a = GLIBC_BRK_BASE, live = 0, alloc = 0, req = 0, mm = 0;
	uint64_t binned = 0, walked_free = 0;
	int prev_free = 0;

	while (a < g->top) {
		uint32_t i = lookup(g, a);

		if (i == NIL) {
			snprintf(msg, msglen, "glibc: no chunk at heap offset %llu",
				 (unsigned long long)(a - GLIBC_BRK_BASE));
			return -1;
		}
		const struct chunk *c = &g->ch[i];

		if (c->kind == CH_FREE) {
			if (prev_free) {
				snprintf(msg, msglen, "glibc: adjacent free chunks at "
					 "heap offset %llu",
					 (unsigned long long)(a - GLIBC_BRK_BASE));
				return -1;
			}
			walked_free++;
		} else {
			live++;
			alloc += c->size;
			req += c->request;
		}
		prev_free = c->kind == CH_FREE;
		a += c->size;
	}
	if (a != g->top || g->top > g->brk) {
		snprintf(msg, msglen, "glibc: chunks do not end at top");
		return -1;
	}
	if (prev_free) {
		snprintf(msg, msglen, "glibc: a free chunk borders top");
		return -1;
	}
	if (check_bins(g, &binned, msg, msglen))
		return -1;
	if (binned != walked_free) {
		snprintf(msg, msglen, "glibc: %llu chunks in bins, %llu free in heap",
			 (unsigned long long)binned, (unsigned long long)walked_free);
		return -1;
	}
	for (uint32_t i = 0; i < g->nch; i++)
		if (g->ch[i].kind == CH_MMAPPED) {
			live++;
			alloc += g->ch[i].size;
			req += g->ch[i].request;
			mm += g->ch[i].size;
		}
	if (live != g->blocks || alloc != g->allocated || req != g->requested ||
	    mm != g->mmapped_chunk_bytes) {
		snprintf(msg, msglen, "glibc: live counters disagree with chunks");
		return -1;
	}
	return 0;
}

const struct alloc_policy alloc_glibc = {
	.name = "glibc-approx",
	.summary = "glibc malloc main arena: brk heap with coalescing, mmap for big chunks",
	.knobs = glibc_knobs,
	.nknobs = sizeof glibc_knobs / sizeof glibc_knobs[0],
	.params_size = sizeof(struct glibc_params),
	.defaults = &glibc_defaults,
	.validate = glibc_validate,
	.create = glibc_create,
	.destroy = glibc_destroy,
	.alloc = glibc_alloc,
	.resize = glibc_resize,
	.free = glibc_free,
	.block_size = glibc_block_size,
	.stats = glibc_stats,
	.details = glibc_details,
	.check = glibc_check,
	.map = glibc_map,
	.unmap = glibc_unmap,
	.prefetch = glibc_prefetch,
};
