/*
 * alloc_mimalloc.c - mimalloc 2.1.2 as CPython 3.13 bundles and configures it.
 *
 * Models the vendored mimalloc of CPython 3.13 (Objects/mimalloc/, version
 * 212 in Include/internal/mimalloc/mimalloc.h; read at python/cpython
 * commit 02888411, the vendoring, with 3.13.0's installed headers for the
 * constants and the page layout) behind Objects/obmalloc.c 3.13's
 * _PyMem_MiMalloc/_PyObject_MiMalloc, on 64-bit Linux, release build (no
 * MI_DEBUG, no MI_SECURE, so no padding: a block's usable size is its full
 * size). docs/policies.md ("mimalloc") has the long form and the sources
 * of every rule; the numbers live in the code below.
 *
 *  1. Size bins (page-queue.c mi_bin, MI_ALIGN2W since MI_MAX_ALIGN_SIZE is
 *     16): w = ceil(n / 8) words; w <= 1 -> bin 1 (8 bytes); w <= 8 -> bin
 *     (w + 1) & ~1 (16, 32, 48, 64 bytes); w <= 16384 (128 KiB) -> the top
 *     three bits of w - 1 (12.5% spacing); larger -> the huge bin 73. A
 *     bin's block size is the largest size it takes (init.c's table).
 *  2. Pages: a block of at most 16 KiB lives in a small page (one 64 KiB
 *     slice), up to 128 KiB in a medium page (8 slices); a page starts
 *     3 blocks in for blocks <= 64 bytes, one block in up to 512 bytes
 *     (segment.c _mi_segment_page_start_from_slice) and holds reserved =
 *     (page size - start) / block size blocks. Larger requests get a page
 *     of their own: good size = n rounded up to 4 KiB (< 512 KiB), 64 KiB
 *     (< 2 MiB), 256 KiB (< 8 MiB), 1 MiB (< 32 MiB), else 4 MiB
 *     (os.c _mi_os_good_alloc_size); up to 16 MiB it is a "large" page of
 *     slices (rounded to 64 KiB, or 512 KiB above 512 KiB) whose one block
 *     is the whole page; above, a "huge" segment of its own.
 *  3. A page's free list is extended lazily (page.c mi_page_extend_free):
 *     at most 4 KiB of blocks at a time, at least 4 blocks; capacity counts
 *     the blocks so initialised. Frees go to the page's local_free list,
 *     which becomes the free list only when that runs dry.
 *  4. Allocation (alloc.c, page.c): up to 1 KiB the first page of the bin's
 *     queue is used while its free list has a block; otherwise (and always
 *     above 1 KiB) the first page's local_free is collected, and if it is
 *     still dry the queue is searched in order: collect, take a page with
 *     a free block, else extend one that has room, else move it to the
 *     full queue. With no page left, expired retired pages are freed and a
 *     fresh page is pushed at the queue's front. Large and huge requests
 *     always get a fresh page (in the huge queue).
 *  5. Free: the block goes to local_free; a page leaving the full queue
 *     goes to the end of its bin's queue; a page that becomes empty is
 *     retired (kept, with a countdown of 17 fresh-page searches, 5 for
 *     medium blocks) when it is the only page of its queue and the queue
 *     is a normal bin, else freed at once (page.c _mi_page_retire,
 *     _mi_heap_collect_retired).
 *  6. realloc keeps the block when new <= usable and new >= usable / 2 and
 *     new > 0; otherwise malloc + free (alloc.c _mi_heap_realloc_zero).
 *  7. Segments (segment.c): 32 MiB, the first 64 KiB slice for metadata;
 *     free slice spans are kept in 36 span queues by length; a page takes
 *     the first span that fits, best bin first, and splits it; a freed
 *     page coalesces with free neighbours. A segment with no page left
 *     goes back to its arena. Segments come from arenas of 1 GiB
 *     (arena_reserve), 32 MiB blocks, lowest free run first (arena.c).
 *  8. Purging (the time-based part): a freed span is scheduled for decommit
 *     purge_delay (10 ms) later; a later schedule extends it by
 *     purge_extend_delay (1 ms); it happens when a page is next allocated
 *     from that segment, or at a later schedule past the deadline. A freed
 *     segment's arena blocks are purged purge_delay * arena_purge_mult
 *     (100 ms) after, at a later segment free. Time is the trace's `@`
 *     clock (ms = ns / 10^6), or event index * ns_per_event without `@`.
 *
 * CPython sets no mimalloc option (2.1.2's defaults are in the 3.13.0
 * library's option table). The default build allocates everything through
 * one heap (mi_malloc); the free-threaded build (heaps = "free-threaded")
 * gives each kind of request its own heap: PyMem_Malloc, non-GC objects,
 * GC objects, GC objects with a pre-header (pycore_mimalloc.h), whose
 * pages never mix.
 *
 * Statistics: the five counters sys._debugmallocstats() prints
 * (Objects/obmalloc.c 3.13 py_mimalloc_print_stats, a walk of every page
 * in the heap's queues: used, used x block size, reserved x block size,
 * capacity x block size) are kept as running sums. footprint is memory
 * committed to segments; rss counts the 4 KiB pages written (the segment
 * metadata, the first word of each block a free-list extension links,
 * handed-out blocks in full) until a purge decommits them.
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define MI_WORD 8u                              /* bytes */
#define MI_SLICE_SHIFT 16
#define MI_SLICE ((uint64_t)1 << MI_SLICE_SHIFT)        /* bytes, 64 KiB */
#define MI_SEGMENT_SHIFT 25
#define MI_SEGMENT ((uint64_t)1 << MI_SEGMENT_SHIFT)    /* bytes, 32 MiB */
#define MI_SLICES 512u                          /* slices per segment */
#define MI_INFO_SLICES 1u                       /* metadata slices */
#define MI_INFO_BYTES (45056u)                  /* sizeof(mi_segment_t) to 4 KiB */
#define MI_SMALL_MAX 16384u                     /* bytes: small pages */
#define MI_MEDIUM_MAX 131072u                   /* bytes: medium pages */
#define MI_MEDIUM_PAGE (8 * MI_SLICE)           /* bytes */
#define MI_LARGE_MAX ((uint64_t)16 << 20)       /* bytes: large pages */
#define MI_SMALL_SIZE_MAX 1024u                 /* bytes: the direct fast path */
#define MI_BIN_HUGE 73u
#define MI_BIN_FULL 74u
#define MI_NQUEUES (MI_BIN_FULL + 1)
#define MI_SPAN_BINS 36u                        /* MI_SEGMENT_BIN_MAX + 1 */
#define MI_MAX_EXTEND 4096u                     /* bytes */
#define MI_MIN_EXTEND 4u                        /* blocks */
#define MI_RETIRE_CYCLES 16u
#define MI_MASK_WORDS (MI_SLICES / 64)          /* commit/purge masks */
#define MI_PAGE_SHIFT 12                        /* the OS page, 4 KiB */
#define MI_PAGES_PER_SEGMENT (MI_SEGMENT >> MI_PAGE_SHIFT)
#define MI_VA_BASE ((uint64_t)0x200000000000)   /* simulated address space */
#define MI_HEAPS_MAX 4u

_Static_assert(MI_SLICES * MI_SLICE == MI_SEGMENT, "a segment is 512 slices");
_Static_assert(MI_INFO_BYTES <= MI_INFO_SLICES * MI_SLICE, "metadata fits its slices");
_Static_assert(MI_SMALL_MAX * 4 == MI_SLICE, "small pages hold 4 of the largest");
_Static_assert(MI_MEDIUM_MAX * 4 == MI_MEDIUM_PAGE, "medium pages hold 4 of the largest");

#define NIL UINT32_MAX
#define LNIL UINT16_MAX
#define SLICE_INFO (UINT32_MAX - 1)             /* slice_page: metadata */

enum { HEAPS_ONE, HEAPS_FREE_THREADED };

struct mimalloc_params {
	uint64_t arena_reserve;         /* bytes (mi_option_arena_reserve) */
	uint64_t purge_delay;           /* ms; 0 purges at once */
	uint64_t purge_extend_delay;    /* ms */
	uint64_t arena_purge_mult;      /* arena delay = purge_delay x this */
	double ns_per_event;            /* ns: the clock without `@` */
	int heaps;                      /* HEAPS_* */
};

static const char *const heaps_choices[] = { "one", "free-threaded", NULL };

static const struct mimalloc_params mimalloc_defaults = {
	.arena_reserve = (uint64_t)1 << 30,
	.purge_delay = 10,
	.purge_extend_delay = 1,
	.arena_purge_mult = 10,
	.ns_per_event = 15.0,
	.heaps = HEAPS_ONE,
};

#define MP_OFF(f) offsetof(struct mimalloc_params, f)
static const struct knob mimalloc_knobs[] = {
	{ .name = "arena_reserve", .kind = KNOB_UINT, .offset = MP_OFF(arena_reserve),
	  .min = MI_SEGMENT, .max = (uint64_t)1 << 40, .unit = "bytes",
	  .doc = "arena reservation, a multiple of 32 MiB (mi_option_arena_reserve)" },
	{ .name = "purge_delay", .kind = KNOB_UINT, .offset = MP_OFF(purge_delay),
	  .min = 0, .max = 1000000, .unit = "ms",
	  .doc = "delay before a freed span is decommitted (mi_option_purge_delay)" },
	{ .name = "purge_extend_delay", .kind = KNOB_UINT, .offset = MP_OFF(purge_extend_delay),
	  .min = 0, .max = 1000000, .unit = "ms",
	  .doc = "extension of a pending purge by a later free (mi_option_purge_extend_delay)" },
	{ .name = "arena_purge_mult", .kind = KNOB_UINT, .offset = MP_OFF(arena_purge_mult),
	  .min = 0, .max = 1000, .unit = NULL,
	  .doc = "arena purge delay in units of purge_delay (mi_option_arena_purge_mult)" },
	{ .name = "ns_per_event", .kind = KNOB_DOUBLE, .offset = MP_OFF(ns_per_event),
	  .min = 0, .max = 1000000000, .unit = "ns",
	  .doc = "the purge clock's step per event in a trace without @ times" },
	{ .name = "heaps", .kind = KNOB_ENUM, .offset = MP_OFF(heaps), .choices = heaps_choices,
	  .doc = "one heap (default build) or the free-threaded build's four" },
};

static int mimalloc_validate(const void *params, char *msg, size_t msglen)
{
	const struct mimalloc_params *p = params;

	if (p->arena_reserve % MI_SEGMENT) {
		snprintf(msg, msglen, "mimalloc: arena_reserve must be a multiple of 32 MiB");
		return -1;
	}
	return 0;
}

/* ---- records ------------------------------------------------------------- */

struct page {
	uint64_t start;             /* address of block 0 */
	uint64_t bsize;             /* bytes per block */
	uint32_t seg, slice, nslices;
	uint32_t reserved, capacity, used;
	uint16_t free_head, local_head;     /* block index or LNIL */
	uint16_t *link;             /* per block: next in its list */
	uint32_t linkcap;
	uint32_t qnext, qprev;      /* queue neighbours (page ids) */
	uint8_t queue;              /* bin, or MI_BIN_FULL */
	uint8_t bin;                /* the bin its block size maps to */
	uint8_t retire_expire;
	uint8_t heap;
	uint8_t live;               /* 0: the record is free */
};

struct queue {
	uint32_t first, last;
};

struct mheap {
	struct queue q[MI_NQUEUES];
	uint32_t retired_min, retired_max;
};

struct segment {
	uint64_t base, size;        /* bytes */
	uint32_t nslices;           /* slice entries (a huge one: its page's) */
	uint32_t used;              /* pages */
	uint32_t arena;             /* NIL: mapped from the OS directly */
	uint32_t huge_page;         /* huge segments: their page, else NIL */
	uint64_t direct_pages;      /* direct segments: OS pages written */
	uint32_t slice_page[MI_SLICES];     /* page id, NIL free, SLICE_INFO */
	uint32_t span_len[MI_SLICES];       /* first slice of a free span */
	uint32_t span_head[MI_SLICES];      /* last slice of a free span: first */
	uint32_t span_next[MI_SLICES], span_prev[MI_SLICES];  /* handles */
	uint64_t commit[MI_MASK_WORDS], purge[MI_MASK_WORDS];
	uint64_t purge_expire;      /* ms, 0: none pending */
};

struct arena {
	uint64_t base, size;        /* bytes */
	uint32_t nblocks;           /* 32 MiB blocks */
	uint32_t *block_seg;        /* per block: segment id or NIL */
	uint8_t *purge;             /* per block: purge scheduled */
	uint64_t *touched;          /* per OS page: bitmap */
	uint64_t purge_expire;      /* ms */
};

struct mimalloc {
	struct mimalloc_params p;
	struct mheap heap[MI_HEAPS_MAX];
	uint32_t nheaps;

	struct page *pages;
	uint32_t npages, cappages, free_page;   /* free_page: chain via qnext */
	struct segment **segs;
	uint32_t nsegs, capsegs, free_seg;      /* free ids chained via used */
	struct arena *arenas;
	uint32_t narenas;
	uint32_t span_first[MI_SPAN_BINS], span_last[MI_SPAN_BINS];

	/* direct OS segments (larger than an arena): touched pages per seg */
	uint64_t direct_next;       /* bump address for them */

	uint64_t now_ms;
	/* running sums of the five CPython counters, and the rest */
	uint64_t used_blocks, used_bytes, reserved_bytes, capacity_bytes;
	uint64_t requested, touched_pages, committed_slices, direct_bytes;
	uint64_t os_maps, os_unmaps, page_count, segment_count;
	uint64_t purges, arena_purges, pages_retired;
};

/* ---- bins ------------------------------------------------------------------ */

static unsigned bsr64(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

/* page-queue.c mi_bin for 8-byte words and 16-byte minimal alignment. */
static unsigned mi_bin(uint64_t size)
{
	uint64_t w = (size + MI_WORD - 1) / MI_WORD;
	unsigned b;

	if (w <= 1)
		return 1;
	if (w <= 8)
		return (unsigned)((w + 1) & ~(uint64_t)1);
	if (w > MI_MEDIUM_MAX / MI_WORD)
		return MI_BIN_HUGE;
	w--;
	b = bsr64(w);
	return ((b << 2) + (unsigned)((w >> (b - 2)) & 3)) - 3;
}

/* init.c's MI_PAGE_QUEUES_EMPTY: the largest size of a bin, bytes. */
static uint64_t bin_size(unsigned bin)
{
	unsigned b, m;

	if (bin <= 8)
		return (bin ? bin : 1) * MI_WORD;
	b = (bin + 3) >> 2;
	m = (bin + 3) & 3;
	return ((uint64_t)(5 + m) << (b - 2)) * MI_WORD;
}

/* os.c _mi_os_good_alloc_size. */
static uint64_t good_size(uint64_t n)
{
	uint64_t a = n < (512u << 10) ? 4096u : n < (2u << 20) ? (64u << 10)
		   : n < (8u << 20) ? (256u << 10) : n < (32u << 20) ? (1u << 20) : (4u << 20);

	return (n + a - 1) / a * a;
}

/* segment.c mi_slice_bin8: the span queue of a span of `n` slices. */
static unsigned span_bin(uint64_t n)
{
	unsigned s;

	if (n <= 1)
		return (unsigned)n;
	n--;
	s = bsr64(n);
	if (s <= 2)
		return (unsigned)n + 1;
	return ((s << 2) | (unsigned)((n >> (s - 2)) & 3)) - 4;
}

/* Bytes skipped at a page's start (segment.c, 2.1.2). */
static uint64_t start_offset(uint64_t bsize)
{
	if (bsize >= MI_WORD && bsize <= 64)
		return 3 * bsize;
	if (bsize >= MI_WORD && bsize <= 512)
		return bsize;
	return 0;
}

/* ---- clock ------------------------------------------------------------------ */

static void mimalloc_tick(void *state, uint64_t event, uint64_t time_ns, int timed)
{
	struct mimalloc *m = state;
	double ns = timed ? (double)time_ns : (double)event * m->p.ns_per_event;

	m->now_ms = (uint64_t)(ns / 1e6);
}

/* ---- touched pages (rss) ---------------------------------------------------- */

static struct arena *arena_of(struct mimalloc *m, uint64_t addr)
{
	for (uint32_t i = 0; i < m->narenas; i++)
		if (addr >= m->arenas[i].base && addr < m->arenas[i].base + m->arenas[i].size)
			return &m->arenas[i];
	return NULL;
}

/* Marks [addr, addr + len) of an arena written (direct segments are
 * counted by page_pop and seg_free). */
static void touch(struct mimalloc *m, uint64_t addr, uint64_t len)
{
	struct arena *a = arena_of(m, addr);

	if (!a || !len)
		return;
	for (uint64_t pg = (addr - a->base) >> MI_PAGE_SHIFT,
	     end = (addr - a->base + len - 1) >> MI_PAGE_SHIFT; pg <= end; pg++) {
		uint64_t bit = (uint64_t)1 << (pg & 63);
		if (!(a->touched[pg >> 6] & bit)) {
			a->touched[pg >> 6] |= bit;
			m->touched_pages++;
		}
	}
}

/* Decommits [addr, addr + len): its pages are no longer resident. */
static void untouch(struct mimalloc *m, uint64_t addr, uint64_t len)
{
	struct arena *a = arena_of(m, addr);

	if (!a || !len)
		return;
	for (uint64_t pg = (addr - a->base) >> MI_PAGE_SHIFT,
	     end = (addr - a->base + len - 1) >> MI_PAGE_SHIFT; pg <= end; pg++) {
		uint64_t bit = (uint64_t)1 << (pg & 63);
		if (a->touched[pg >> 6] & bit) {
			a->touched[pg >> 6] &= ~bit;
			m->touched_pages--;
		}
	}
}

/* ---- segment commit and purge (segment.c) ----------------------------------- */

static int mask_get(const uint64_t *mask, uint32_t i)
{
	return (int)((mask[i >> 6] >> (i & 63)) & 1);
}

static void mask_set(uint64_t *mask, uint32_t i, int on)
{
	if (on)
		mask[i >> 6] |= (uint64_t)1 << (i & 63);
	else
		mask[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

static int mask_empty(const uint64_t *mask)
{
	for (uint32_t i = 0; i < MI_MASK_WORDS; i++)
		if (mask[i])
			return 0;
	return 1;
}

/* Decommits every slice in the purge mask (mi_segment_try_purge, forced). */
static void seg_purge_now(struct mimalloc *m, struct segment *s)
{
	for (uint32_t i = 0; i < MI_SLICES; i++)
		if (mask_get(s->purge, i)) {
			mask_set(s->purge, i, 0);
			if (mask_get(s->commit, i)) {
				mask_set(s->commit, i, 0);
				m->committed_slices--;
				untouch(m, s->base + (uint64_t)i * MI_SLICE, MI_SLICE);
				m->purges++;
			}
		}
	s->purge_expire = 0;
}

static void seg_try_purge(struct mimalloc *m, struct segment *s, int force)
{
	if (s->huge_page != NIL || mask_empty(s->purge))
		return;
	if (!force && m->now_ms < s->purge_expire)
		return;
	seg_purge_now(m, s);
}

/* mi_segment_schedule_purge for slices [i, i + n). */
static void seg_schedule_purge(struct mimalloc *m, struct segment *s, uint32_t i, uint32_t n)
{
	if (m->p.purge_delay == 0) {
		for (uint32_t k = i; k < i + n; k++)
			mask_set(s->purge, k, 1);
		seg_purge_now(m, s);
		return;
	}
	for (uint32_t k = i; k < i + n; k++)
		if (mask_get(s->commit, k))
			mask_set(s->purge, k, 1);
	if (s->purge_expire == 0)
		s->purge_expire = m->now_ms + m->p.purge_delay;
	else if (s->purge_expire <= m->now_ms) {
		if (s->purge_expire + m->p.purge_extend_delay <= m->now_ms)
			seg_purge_now(m, s);
		else
			s->purge_expire = m->now_ms + m->p.purge_extend_delay;
	} else
		s->purge_expire += m->p.purge_extend_delay;
}

/* mi_segment_ensure_committed for slices [i, i + n). */
static void seg_commit(struct mimalloc *m, struct segment *s, uint32_t i, uint32_t n)
{
	int had_purge = 0;

	for (uint32_t k = i; k < i + n; k++) {
		if (!mask_get(s->commit, k)) {
			mask_set(s->commit, k, 1);
			m->committed_slices++;
		}
		if (mask_get(s->purge, k)) {
			mask_set(s->purge, k, 0);
			had_purge = 1;
		}
	}
	if (had_purge)
		s->purge_expire = m->now_ms + m->p.purge_delay;
}

/* ---- span queues ------------------------------------------------------------ */

static uint32_t handle(uint32_t seg, uint32_t slice)
{
	return seg * MI_SLICES + slice;
}

static void span_push(struct mimalloc *m, uint32_t seg, uint32_t i, uint32_t n)
{
	struct segment *s = m->segs[seg];
	unsigned b = span_bin(n);
	uint32_t h = handle(seg, i);

	s->span_len[i] = n;
	s->span_head[i + n - 1] = i;
	s->span_prev[i] = NIL;
	s->span_next[i] = m->span_first[b];
	if (m->span_first[b] != NIL) {
		struct segment *t = m->segs[m->span_first[b] / MI_SLICES];
		t->span_prev[m->span_first[b] % MI_SLICES] = h;
	} else
		m->span_last[b] = h;
	m->span_first[b] = h;
}

static void span_remove(struct mimalloc *m, uint32_t seg, uint32_t i)
{
	struct segment *s = m->segs[seg];
	unsigned b = span_bin(s->span_len[i]);
	uint32_t nx = s->span_next[i], pv = s->span_prev[i];

	if (pv != NIL)
		m->segs[pv / MI_SLICES]->span_next[pv % MI_SLICES] = nx;
	else
		m->span_first[b] = nx;
	if (nx != NIL)
		m->segs[nx / MI_SLICES]->span_prev[nx % MI_SLICES] = pv;
	else
		m->span_last[b] = pv;
	s->span_len[i] = 0;
}

/* ---- arenas (arena.c) ---------------------------------------------------------- */

static void arena_purge_block(struct mimalloc *m, struct arena *a, uint32_t b)
{
	untouch(m, a->base + (uint64_t)b * MI_SEGMENT, MI_SEGMENT);
	a->purge[b] = 0;
	m->arena_purges++;
}

/* mi_arenas_try_purge: blocks scheduled and still free, once expired. */
static void arenas_try_purge(struct mimalloc *m)
{
	for (uint32_t i = 0; i < m->narenas; i++) {
		struct arena *a = &m->arenas[i];
		if (!a->purge_expire || a->purge_expire > m->now_ms)
			continue;
		for (uint32_t b = 0; b < a->nblocks; b++)
			if (a->purge[b] && a->block_seg[b] == NIL)
				arena_purge_block(m, a, b);
		a->purge_expire = 0;
	}
}

/* Returns the address of `n` free 32 MiB blocks, reserving a new arena
 * when none has them; the blocks' pending purge is cancelled. */
static uint64_t arena_alloc(struct mimalloc *m, uint32_t n, uint32_t seg, uint32_t *arena)
{
	for (uint32_t i = 0;; i++) {
		struct arena *a;
		if (i == m->narenas) {
			uint64_t size = m->p.arena_reserve;
			uint32_t shift = m->narenas >= 8 && m->narenas <= 128 ? m->narenas / 8 : 0;
			size <<= shift;
			m->arenas = xreallocarray(m->arenas, m->narenas + 1, sizeof *m->arenas);
			a = &m->arenas[m->narenas];
			a->base = i ? m->arenas[i - 1].base + m->arenas[i - 1].size : MI_VA_BASE;
			a->size = size;
			a->nblocks = (uint32_t)(size / MI_SEGMENT);
			a->block_seg = xmalloc(a->nblocks * sizeof *a->block_seg);
			for (uint32_t b = 0; b < a->nblocks; b++)
				a->block_seg[b] = NIL;
			a->purge = xcalloc(a->nblocks, 1);
			a->touched = xcalloc(a->nblocks * (MI_PAGES_PER_SEGMENT / 64), sizeof *a->touched);
			a->purge_expire = 0;
			m->narenas++;
			m->os_maps++;
		}
		a = &m->arenas[i];
		for (uint32_t b = 0; b + n <= a->nblocks; b++) {
			uint32_t k = 0;
			while (k < n && a->block_seg[b + k] == NIL)
				k++;
			if (k < n) {
				b += k;
				continue;
			}
			for (k = 0; k < n; k++) {
				a->block_seg[b + k] = seg;
				a->purge[b + k] = 0;
			}
			*arena = i;
			return a->base + (uint64_t)b * MI_SEGMENT;
		}
	}
}

static void arena_free(struct mimalloc *m, struct segment *s)
{
	struct arena *a = &m->arenas[s->arena];
	uint32_t b0 = (uint32_t)((s->base - a->base) / MI_SEGMENT);
	uint32_t n = (uint32_t)((s->size + MI_SEGMENT - 1) / MI_SEGMENT);
	uint64_t delay = m->p.purge_delay * m->p.arena_purge_mult;

	for (uint32_t b = b0; b < b0 + n; b++) {
		a->block_seg[b] = NIL;
		if (delay == 0)
			arena_purge_block(m, a, b);
		else
			a->purge[b] = 1;
	}
	if (delay) {
		if (a->purge_expire)
			a->purge_expire += delay / 10;
		else
			a->purge_expire = m->now_ms + delay;
	}
	arenas_try_purge(m);
}

/* ---- segments --------------------------------------------------------------- */

static uint32_t seg_new_id(struct mimalloc *m)
{
	uint32_t id;

	if (m->free_seg != NIL) {
		id = m->free_seg;
		m->free_seg = m->segs[id]->used;
		return id;
	}
	if (m->nsegs == m->capsegs) {
		m->capsegs = m->capsegs ? 2 * m->capsegs : 8;
		m->segs = xreallocarray(m->segs, m->capsegs, sizeof *m->segs);
	}
	m->segs[m->nsegs] = xmalloc(sizeof **m->segs);
	return m->nsegs++;
}

/* mi_segment_alloc: a segment of `size` bytes (32 MiB, or more for a huge
 * page); its metadata is written at once. Returns its id. */
static uint32_t seg_alloc(struct mimalloc *m, uint64_t size, int huge)
{
	uint32_t id = seg_new_id(m), nblocks = (uint32_t)((size + MI_SEGMENT - 1) / MI_SEGMENT);
	struct segment *s = m->segs[id];
	uint32_t entries = (uint32_t)(size / MI_SLICE < MI_SLICES ? size / MI_SLICE : MI_SLICES);

	memset(s, 0, sizeof *s);
	s->size = size;
	s->huge_page = NIL;
	if ((uint64_t)nblocks * MI_SEGMENT > m->p.arena_reserve) {
		/* Larger than any arena: mapped from the OS directly. */
		s->arena = NIL;
		s->base = MI_VA_BASE - m->direct_next - (uint64_t)nblocks * MI_SEGMENT;
		m->direct_next += (uint64_t)nblocks * MI_SEGMENT;
		m->direct_bytes += size;
		m->os_maps++;
	} else
		s->base = arena_alloc(m, nblocks, id, &s->arena);
	s->nslices = entries;
	for (uint32_t i = 0; i < MI_SLICES; i++)
		s->slice_page[i] = NIL;
	for (uint32_t i = 0; i < entries; i++)
		mask_set(s->commit, i, 1);
	m->committed_slices += huge ? (size + MI_SLICE - 1) / MI_SLICE : entries;
	s->slice_page[0] = SLICE_INFO;
	if (s->arena == NIL) {
		s->direct_pages = MI_INFO_BYTES >> MI_PAGE_SHIFT;
		m->touched_pages += s->direct_pages;
	} else
		touch(m, s->base, MI_INFO_BYTES);
	m->segment_count++;
	if (!huge)
		span_push(m, id, MI_INFO_SLICES, entries - MI_INFO_SLICES);
	return id;
}

static void seg_free(struct mimalloc *m, uint32_t id)
{
	struct segment *s = m->segs[id];

	if (s->huge_page == NIL)
		for (uint32_t i = MI_INFO_SLICES; i < s->nslices; i++)
			if (s->span_len[i])
				span_remove(m, id, i);
	for (uint32_t i = 0; i < MI_SLICES; i++)
		if (mask_get(s->commit, i))
			m->committed_slices--;
	if (s->huge_page != NIL)
		m->committed_slices -= (s->size + MI_SLICE - 1) / MI_SLICE - s->nslices;
	m->segment_count--;
	if (s->arena == NIL) {
		m->direct_bytes -= s->size;
		m->touched_pages -= s->direct_pages;
		m->os_unmaps++;
	} else
		arena_free(m, s);
	s->used = m->free_seg;
	m->free_seg = id;
}

/* mi_segments_page_find_and_allocate + span allocate: `n` slices from
 * the first fitting span, best bin first; NIL when none fits. */
static uint32_t span_take(struct mimalloc *m, uint32_t n, uint32_t *slice)
{
	for (unsigned b = span_bin(n); b < MI_SPAN_BINS; b++)
		for (uint32_t h = m->span_first[b]; h != NIL;) {
			uint32_t seg = h / MI_SLICES, i = h % MI_SLICES;
			struct segment *s = m->segs[seg];
			uint32_t len = s->span_len[i];
			if (len >= n) {
				span_remove(m, seg, i);
				if (len > n)
					span_push(m, seg, i + n, len - n);
				seg_commit(m, s, i, n);
				*slice = i;
				return seg;
			}
			h = s->span_next[i];
		}
	return NIL;
}

/* mi_segment_span_free_coalesce for a freed page's slices. */
static void span_free(struct mimalloc *m, uint32_t seg, uint32_t i, uint32_t n)
{
	struct segment *s = m->segs[seg];

	for (uint32_t k = i; k < i + n; k++)
		s->slice_page[k] = NIL;
	if (i + n < s->nslices && s->span_len[i + n]) {
		uint32_t more = s->span_len[i + n];
		span_remove(m, seg, i + n);
		n += more;
	}
	if (i > MI_INFO_SLICES && s->slice_page[i - 1] == NIL) {
		uint32_t first = s->span_head[i - 1];   /* the free span before */
		span_remove(m, seg, first);
		n += i - first;
		i = first;
	}
	seg_schedule_purge(m, s, i, n);
	span_push(m, seg, i, n);
}

/* ---- pages ------------------------------------------------------------------- */

static uint32_t page_new_id(struct mimalloc *m)
{
	uint32_t id;

	if (m->free_page != NIL) {
		id = m->free_page;
		m->free_page = m->pages[id].qnext;
		return id;
	}
	if (m->npages == m->cappages) {
		m->cappages = m->cappages ? 2 * m->cappages : 64;
		m->pages = xreallocarray(m->pages, m->cappages, sizeof *m->pages);
	}
	m->pages[m->npages].link = NULL;
	m->pages[m->npages].linkcap = 0;
	return m->npages++;
}

/* Puts page id into heap h's queue qi, at its front (a fresh page) or at
 * its back (a page moved from another queue: mi_page_queue_enqueue_from). */
static void q_insert(struct mimalloc *m, struct mheap *h, unsigned qi, uint32_t id, int front)
{
	struct page *pg = &m->pages[id];
	struct queue *q = &h->q[qi];
	uint32_t *end = front ? &q->first : &q->last;
	uint32_t *other_end = front ? &q->last : &q->first;

	pg->queue = (uint8_t)qi;
	pg->qprev = front ? NIL : q->last;
	pg->qnext = front ? q->first : NIL;
	if (*end != NIL) {
		if (front)
			m->pages[*end].qprev = id;
		else
			m->pages[*end].qnext = id;
	} else
		*other_end = id;
	*end = id;
}

static void q_remove(struct mimalloc *m, struct mheap *h, uint32_t id)
{
	struct page *pg = &m->pages[id];
	struct queue *q = &h->q[pg->queue];

	if (pg->qprev != NIL)
		m->pages[pg->qprev].qnext = pg->qnext;
	else
		q->first = pg->qnext;
	if (pg->qnext != NIL)
		m->pages[pg->qnext].qprev = pg->qprev;
	else
		q->last = pg->qprev;
	pg->qnext = pg->qprev = NIL;
}

/* mi_page_extend_free: initialise up to 4 KiB (at least 4) more blocks. */
static void page_extend(struct mimalloc *m, struct page *pg)
{
	uint32_t ext = pg->reserved - pg->capacity;
	uint64_t maxext = pg->bsize >= MI_MAX_EXTEND ? MI_MIN_EXTEND : MI_MAX_EXTEND / pg->bsize;

	if (maxext < MI_MIN_EXTEND)
		maxext = MI_MIN_EXTEND;
	if (ext > maxext)
		ext = (uint32_t)maxext;
	for (uint32_t k = 0; k < ext; k++) {
		uint32_t b = pg->capacity + k;
		pg->link[b] = (uint16_t)(k + 1 < ext ? b + 1 : pg->free_head);
		/* the link is the block's first word */
		touch(m, pg->start + (uint64_t)b * pg->bsize, MI_WORD);
	}
	pg->free_head = (uint16_t)pg->capacity;
	pg->capacity += ext;
	m->capacity_bytes += (uint64_t)ext * pg->bsize;
}

/* mi_page_fresh_alloc: a page for blocks of `bsize` in heap h's queue qi
 * (its front). Small/medium bsize is the bin's; large and huge pages'
 * block is the whole page. */
static uint32_t page_fresh(struct mimalloc *m, uint32_t hi, unsigned qi, uint64_t bsize)
{
	uint64_t psize;
	uint32_t seg, slice = MI_INFO_SLICES, nslices, id;
	struct segment *s;
	struct page *pg;

	if (bsize > MI_LARGE_MAX) {
		uint64_t segsize = (bsize + MI_SLICE + MI_SLICE - 1) / MI_SLICE * MI_SLICE;
		seg = seg_alloc(m, segsize, 1);
		nslices = (uint32_t)(segsize / MI_SLICE) - MI_INFO_SLICES;
		psize = (uint64_t)nslices * MI_SLICE;
	} else {
		psize = bsize <= MI_SMALL_MAX ? MI_SLICE : bsize <= MI_MEDIUM_MAX ? MI_MEDIUM_PAGE
		      : (bsize + (bsize > MI_MEDIUM_PAGE ? MI_MEDIUM_PAGE : MI_SLICE) - 1)
			/ (bsize > MI_MEDIUM_PAGE ? MI_MEDIUM_PAGE : MI_SLICE)
			* (bsize > MI_MEDIUM_PAGE ? MI_MEDIUM_PAGE : MI_SLICE);
		nslices = (uint32_t)(psize / MI_SLICE);
		seg = span_take(m, nslices, &slice);
		if (seg == NIL) {
			seg = seg_alloc(m, MI_SEGMENT, 0);
			seg = span_take(m, nslices, &slice);
		}
		seg_try_purge(m, m->segs[seg], 0);
	}
	if (bsize > MI_MEDIUM_MAX)
		bsize = psize;          /* the huge queue: the page is the block */
	id = page_new_id(m);
	s = m->segs[seg];
	pg = &m->pages[id];
	pg->seg = seg;
	pg->slice = slice;
	pg->nslices = nslices;
	pg->bsize = bsize;
	pg->start = s->base + (uint64_t)slice * MI_SLICE + start_offset(bsize);
	pg->reserved = (uint32_t)((psize - start_offset(bsize)) / bsize);
	pg->capacity = pg->used = 0;
	pg->free_head = pg->local_head = LNIL;
	pg->retire_expire = 0;
	pg->heap = (uint8_t)hi;
	pg->live = 1;
	pg->bin = (uint8_t)(bsize > MI_MEDIUM_MAX ? MI_BIN_HUGE : mi_bin(bsize));
	if (pg->linkcap < pg->reserved) {
		free(pg->link);
		pg->linkcap = pg->reserved;
		pg->link = xmalloc(pg->linkcap * sizeof *pg->link);
	}
	if (s->huge_page == NIL && bsize > MI_LARGE_MAX)
		s->huge_page = id;
	for (uint32_t k = slice; k < slice + nslices && k < MI_SLICES; k++)
		s->slice_page[k] = id;
	s->used++;
	m->page_count++;
	m->reserved_bytes += (uint64_t)pg->reserved * bsize;
	q_insert(m, &m->heap[hi], qi, id, 1);
	page_extend(m, pg);
	return id;
}

/* _mi_page_free: out of the queue, its slices back to the segment. */
static void page_free(struct mimalloc *m, uint32_t id)
{
	struct page *pg = &m->pages[id];
	uint32_t seg = pg->seg;
	struct segment *s = m->segs[seg];

	q_remove(m, &m->heap[pg->heap], id);
	m->reserved_bytes -= (uint64_t)pg->reserved * pg->bsize;
	m->capacity_bytes -= (uint64_t)pg->capacity * pg->bsize;
	m->page_count--;
	if (s->huge_page == id) {
		s->used--;
	} else {
		span_free(m, seg, pg->slice, pg->nslices);
		s->used--;
	}
	if (s->used == 0)
		seg_free(m, seg);
	pg->live = 0;
	pg->qnext = m->free_page;
	m->free_page = id;
}

/* _mi_heap_collect_retired (not forced). */
static void collect_retired(struct mimalloc *m, struct mheap *h)
{
	uint32_t lo = MI_BIN_FULL, hi = 0;

	for (uint32_t b = h->retired_min; b <= h->retired_max && b < MI_BIN_FULL; b++) {
		uint32_t id = h->q[b].first;
		struct page *pg;
		if (id == NIL || !m->pages[id].retire_expire)
			continue;
		pg = &m->pages[id];
		if (pg->used == 0) {
			pg->retire_expire--;
			if (pg->retire_expire == 0)
				page_free(m, id);
			else {
				lo = b < lo ? b : lo;
				hi = b > hi ? b : hi;
			}
		} else
			pg->retire_expire = 0;
	}
	h->retired_min = lo;
	h->retired_max = hi;
}

/* _mi_page_free_collect: local_free becomes the free list when dry. */
static void page_collect(struct page *pg)
{
	if (pg->local_head != LNIL && pg->free_head == LNIL) {
		pg->free_head = pg->local_head;
		pg->local_head = LNIL;
	}
}

/* mi_page_queue_find_free_ex. */
static uint32_t queue_find_free(struct mimalloc *m, uint32_t hi, unsigned qi)
{
	struct mheap *h = &m->heap[hi];
	uint32_t id = h->q[qi].first;

	while (id != NIL) {
		struct page *pg = &m->pages[id];
		uint32_t next = pg->qnext;
		page_collect(pg);
		if (pg->free_head != LNIL)
			break;
		if (pg->capacity < pg->reserved) {
			page_extend(m, pg);
			break;
		}
		q_remove(m, h, id);
		q_insert(m, h, MI_BIN_FULL, id, 0);
		id = next;
	}
	if (id == NIL) {
		collect_retired(m, h);
		return page_fresh(m, hi, qi, bin_size(qi));
	}
	m->pages[id].retire_expire = 0;
	return id;
}

/* Pops a block of page id; returns its address. The program writes it. */
static uint64_t page_pop(struct mimalloc *m, uint32_t id)
{
	struct page *pg = &m->pages[id];
	uint32_t b = pg->free_head;
	uint64_t addr = pg->start + (uint64_t)b * pg->bsize;

	struct segment *s = m->segs[pg->seg];

	pg->free_head = pg->link[b];
	pg->used++;
	m->used_blocks++;
	m->used_bytes += pg->bsize;
	if (s->arena == NIL) {
		/* a direct segment's one block, written in full */
		s->direct_pages += (pg->bsize + ALLOC_PAGE_SIZE - 1) >> MI_PAGE_SHIFT;
		m->touched_pages += (pg->bsize + ALLOC_PAGE_SIZE - 1) >> MI_PAGE_SHIFT;
	} else
		touch(m, addr, pg->bsize);
	return addr;
}

/* mi_heap_malloc in heap hi. */
static uint64_t heap_malloc(struct mimalloc *m, uint32_t hi, uint64_t size)
{
	struct mheap *h = &m->heap[hi];
	unsigned qi;
	uint32_t id;

	if (size > MI_MEDIUM_MAX) {
		uint64_t g = good_size(size);
		id = page_fresh(m, hi, MI_BIN_HUGE, g);
		return page_pop(m, id);
	}
	qi = mi_bin(size);
	id = h->q[qi].first;
	if (id != NIL && size <= MI_SMALL_SIZE_MAX && m->pages[id].free_head != LNIL)
		return page_pop(m, id);         /* the direct fast path */
	if (id != NIL) {
		page_collect(&m->pages[id]);
		if (m->pages[id].free_head != LNIL) {
			m->pages[id].retire_expire = 0;
			return page_pop(m, id);
		}
	}
	return page_pop(m, queue_find_free(m, hi, qi));
}

/* The page holding addr, or NIL. */
static uint32_t page_of(const struct mimalloc *m, uint64_t addr)
{
	for (uint32_t i = 0; i < m->narenas; i++) {
		const struct arena *a = &m->arenas[i];
		if (addr >= a->base && addr < a->base + a->size) {
			uint32_t seg = a->block_seg[(addr - a->base) / MI_SEGMENT];
			const struct segment *s;
			if (seg == NIL)
				return NIL;
			s = m->segs[seg];
			if (s->huge_page != NIL)
				return s->huge_page;
			return s->slice_page[(addr - s->base) >> MI_SLICE_SHIFT];
		}
	}
	for (uint32_t i = 0; i < m->nsegs; i++) {
		const struct segment *s = m->segs[i];
		if (s->arena == NIL && s->huge_page != NIL && s->used &&
		    addr >= s->base && addr < s->base + s->size)
			return s->huge_page;
	}
	return NIL;
}

/* _mi_page_retire. */
static void page_retire(struct mimalloc *m, uint32_t id)
{
	struct page *pg = &m->pages[id];
	struct mheap *h = &m->heap[pg->heap];
	unsigned qi = pg->queue;

	if (pg->bsize <= MI_MEDIUM_MAX && qi < MI_BIN_HUGE &&
	    h->q[qi].first == id && h->q[qi].last == id) {
		pg->retire_expire = (uint8_t)(1 + (pg->bsize <= MI_SMALL_MAX ? MI_RETIRE_CYCLES
						    : MI_RETIRE_CYCLES / 4));
		if (qi < h->retired_min)
			h->retired_min = qi;
		if (qi > h->retired_max)
			h->retired_max = qi;
		m->pages_retired++;
		return;
	}
	page_free(m, id);
}

/* mi_free. */
static void heap_free(struct mimalloc *m, uint64_t addr)
{
	uint32_t id = page_of(m, addr);
	struct page *pg;
	uint32_t b;

	if (id == NIL)
		return;
	pg = &m->pages[id];
	b = (uint32_t)((addr - pg->start) / pg->bsize);
	pg->link[b] = pg->local_head;
	pg->local_head = (uint16_t)b;
	pg->used--;
	m->used_blocks--;
	m->used_bytes -= pg->bsize;
	if (pg->used == 0)
		page_retire(m, id);
	else if (pg->queue == MI_BIN_FULL) {
		q_remove(m, &m->heap[pg->heap], id);
		q_insert(m, &m->heap[pg->heap], pg->bin, id, 0);
	}
}

/* ---- the vtable ---------------------------------------------------------------- */

static void *mimalloc_create(const void *params, const struct alloc_inst *lower)
{
	struct mimalloc *m = xcalloc(1, sizeof *m);

	(void)lower;    /* mimalloc maps its arenas itself */
	m->p = *(const struct mimalloc_params *)params;
	m->nheaps = m->p.heaps == HEAPS_FREE_THREADED ? 4 : 1;
	for (uint32_t h = 0; h < MI_HEAPS_MAX; h++) {
		for (uint32_t q = 0; q < MI_NQUEUES; q++)
			m->heap[h].q[q].first = m->heap[h].q[q].last = NIL;
		m->heap[h].retired_min = MI_BIN_FULL;
		m->heap[h].retired_max = 0;
	}
	for (uint32_t b = 0; b < MI_SPAN_BINS; b++)
		m->span_first[b] = m->span_last[b] = NIL;
	m->free_page = m->free_seg = NIL;
	return m;
}

static void mimalloc_destroy(void *state)
{
	struct mimalloc *m = state;

	if (!m)
		return;
	for (uint32_t i = 0; i < m->npages; i++)
		free(m->pages[i].link);
	free(m->pages);
	for (uint32_t i = 0; i < m->nsegs; i++)
		free(m->segs[i]);
	free(m->segs);
	for (uint32_t i = 0; i < m->narenas; i++) {
		free(m->arenas[i].block_seg);
		free(m->arenas[i].purge);
		free(m->arenas[i].touched);
	}
	free(m->arenas);
	free(m);
}

/* The heap a request of `kind` goes to (alloc.h ALLOC_KIND_*). */
static uint32_t heap_for(const struct mimalloc *m, int kind)
{
	return m->nheaps == 1 ? 0 : (uint32_t)kind;
}

static uint64_t mimalloc_alloc_kind(void *state, uint64_t size, int kind)
{
	struct mimalloc *m = state;

	m->requested += size;
	return heap_malloc(m, heap_for(m, kind), size);
}

static uint64_t mimalloc_alloc(void *state, uint64_t size)
{
	return mimalloc_alloc_kind(state, size, ALLOC_KIND_MEM);
}

static void mimalloc_free(void *state, uint64_t addr, uint64_t size)
{
	struct mimalloc *m = state;

	m->requested -= size;
	heap_free(m, addr);
}

static uint64_t mimalloc_resize(void *state, uint64_t addr, uint64_t old_size,
				uint64_t new_size)
{
	struct mimalloc *m = state;
	uint32_t id = page_of(m, addr);
	uint64_t usable, na;

	if (id == NIL)
		return addr;
	usable = m->pages[id].bsize;
	if (new_size <= usable && new_size >= usable / 2 && new_size > 0) {
		m->requested += new_size;
		m->requested -= old_size;
		return addr;
	}
	/* malloc in the heap the block came from, copy, free */
	na = heap_malloc(m, m->pages[id].heap, new_size);
	m->requested += new_size;
	mimalloc_free(m, addr, old_size);
	return na;
}

static uint64_t mimalloc_block_size(void *state, uint64_t size)
{
	(void)state;
	if (size <= MI_MEDIUM_MAX)
		return bin_size(mi_bin(size));
	size = good_size(size);
	if (size > MI_LARGE_MAX)
		return (size + MI_SLICE - 1) / MI_SLICE * MI_SLICE;
	{
		uint64_t unit = size > MI_MEDIUM_PAGE ? MI_MEDIUM_PAGE : MI_SLICE;
		return (size + unit - 1) / unit * unit;
	}
}

static void mimalloc_stats(void *state, struct alloc_stats *out)
{
	const struct mimalloc *m = state;

	memset(out, 0, sizeof *out);
	out->requested = m->requested;
	out->allocated = m->used_bytes;
	out->footprint = m->committed_slices * MI_SLICE;
	out->rss = m->touched_pages << MI_PAGE_SHIFT;
	out->blocks = m->used_blocks;
	out->os_maps = m->os_maps;
	out->os_unmaps = m->os_unmaps;
}

/* What mimalloc_details emits: the counters of py_mimalloc_print_stats
 * (Objects/obmalloc.c 3.13), the model's own, and the table by bin. */
static const struct alloc_counter_def mimalloc_counters[] = {
	{ "allocated_blocks", "allocated blocks", UNIT_COUNT, KIND_FINAL },
	{ "allocated_bytes", "allocated bytes", UNIT_BYTES, KIND_FINAL },
	{ "allocated_bytes_with_overhead", "alloc. w/ overhead", UNIT_BYTES, KIND_FINAL },
	{ "bytes_reserved", "bytes reserved", UNIT_BYTES, KIND_FINAL },
	{ "bytes_committed", "bytes committed", UNIT_BYTES, KIND_FINAL },
	{ "pages", "pages", UNIT_COUNT, KIND_FINAL },
	{ "pages_retired", "pages retired", UNIT_COUNT, KIND_TOTAL },
	{ "segments", "segments", UNIT_COUNT, KIND_FINAL },
	{ "arenas", "arenas", UNIT_COUNT, KIND_FINAL },
	{ "arena_reserved_bytes", "arenas reserved", UNIT_BYTES, KIND_FINAL },
	{ "segment_committed_bytes", "segments committed", UNIT_BYTES, KIND_FINAL },
	{ "slices_purged", "slices purged", UNIT_COUNT, KIND_TOTAL },
	{ "arena_blocks_purged", "arena blocks purged", UNIT_COUNT, KIND_TOTAL },
	{ "bins.bin", "bin", UNIT_COUNT, KIND_SETTING },
	{ "bins.block_size", "block size", UNIT_BYTES, KIND_SETTING },
	{ "bins.pages", "pages", UNIT_COUNT, KIND_FINAL },
	{ "bins.blocks_in_use", "blocks in use", UNIT_COUNT, KIND_FINAL },
	{ "bins.capacity", "capacity", UNIT_COUNT, KIND_FINAL },
	{ "bins.reserved", "reserved", UNIT_COUNT, KIND_FINAL },
};

static void mimalloc_details(void *state, const struct alloc_sink *sink)
{
	const struct mimalloc *m = state;
	static const char *const cols[] = {
		"bin", "block_size", "pages", "blocks_in_use", "capacity", "reserved",
	};
	enum { NCOL = 6 };
	uint64_t sums[MI_NQUEUES][NCOL], *cells;
	size_t nrows = 0;
	uint64_t arena_bytes = 0;

	/* Objects/obmalloc.c 3.13 py_mimalloc_print_stats, same names */
	sink->counter(sink->ctx, "allocated_blocks", m->used_blocks);
	sink->counter(sink->ctx, "allocated_bytes", m->used_bytes);
	sink->counter(sink->ctx, "allocated_bytes_with_overhead", m->used_bytes);
	sink->counter(sink->ctx, "bytes_reserved", m->reserved_bytes);
	sink->counter(sink->ctx, "bytes_committed", m->capacity_bytes);
	for (uint32_t i = 0; i < m->narenas; i++)
		arena_bytes += m->arenas[i].size;
	sink->counter(sink->ctx, "pages", m->page_count);
	sink->counter(sink->ctx, "pages_retired", m->pages_retired);
	sink->counter(sink->ctx, "segments", m->segment_count);
	sink->counter(sink->ctx, "arenas", m->narenas);
	sink->counter(sink->ctx, "arena_reserved_bytes", arena_bytes + m->direct_bytes);
	sink->counter(sink->ctx, "segment_committed_bytes", m->committed_slices * MI_SLICE);
	sink->counter(sink->ctx, "slices_purged", m->purges);
	sink->counter(sink->ctx, "arena_blocks_purged", m->arena_purges);
	/* one row per bin with pages (all heaps), in bin order */
	memset(sums, 0, sizeof sums);
	for (uint32_t i = 0; i < m->npages; i++) {
		const struct page *pg = &m->pages[i];
		if (!pg->live)
			continue;
		sums[pg->bin][2]++;
		sums[pg->bin][3] += pg->used;
		sums[pg->bin][4] += pg->capacity;
		sums[pg->bin][5] += pg->reserved;
	}
	cells = xcalloc((size_t)MI_NQUEUES * NCOL, sizeof *cells);
	for (unsigned b = 0; b < MI_NQUEUES; b++) {
		if (!sums[b][2])
			continue;
		sums[b][0] = b;
		sums[b][1] = b == MI_BIN_HUGE ? 0 : bin_size(b);
		memcpy(&cells[nrows++ * NCOL], sums[b], sizeof sums[b]);
	}
	sink->table(sink->ctx, "bins", cols, NCOL, cells, nrows);
	free(cells);
}

static int mimalloc_check(void *state, char *msg, size_t msglen)
{
	const struct mimalloc *m = state;
	uint64_t used = 0, ubytes = 0, res = 0, cap = 0, n = 0;

	for (uint32_t hi = 0; hi < m->nheaps; hi++)
		for (uint32_t q = 0; q < MI_NQUEUES; q++)
			for (uint32_t id = m->heap[hi].q[q].first; id != NIL; id = m->pages[id].qnext) {
				const struct page *pg = &m->pages[id];
				uint32_t nfree = 0;
				if (pg->queue != q || pg->heap != hi) {
					snprintf(msg, msglen, "mimalloc: page %u in queue %u of heap %u "
						 "says %u/%u", id, q, hi, pg->queue, pg->heap);
					return -1;
				}
				for (uint16_t b = pg->free_head; b != LNIL && nfree <= pg->capacity; b = pg->link[b])
					nfree++;
				for (uint16_t b = pg->local_head; b != LNIL && nfree <= pg->capacity; b = pg->link[b])
					nfree++;
				if (pg->capacity > pg->reserved || pg->used + nfree != pg->capacity) {
					snprintf(msg, msglen, "mimalloc: page %u: used %u + free %u != "
						 "capacity %u (reserved %u)", id, pg->used, nfree,
						 pg->capacity, pg->reserved);
					return -1;
				}
				used += pg->used;
				ubytes += pg->used * pg->bsize;
				res += pg->reserved * pg->bsize;
				cap += pg->capacity * pg->bsize;
				n++;
			}
	if (used != m->used_blocks || ubytes != m->used_bytes || res != m->reserved_bytes ||
	    cap != m->capacity_bytes || n != m->page_count) {
		snprintf(msg, msglen, "mimalloc: running sums disagree with the pages "
			 "(blocks %llu/%llu, reserved %llu/%llu)", (unsigned long long)used,
			 (unsigned long long)m->used_blocks, (unsigned long long)res,
			 (unsigned long long)m->reserved_bytes);
		return -1;
	}
	return 0;
}

const struct alloc_policy alloc_mimalloc = {
	.name = "mimalloc",
	.summary = "mimalloc 2.1.2 as CPython 3.13 bundles it: bins, pages, segments, arenas",
	.knobs = mimalloc_knobs,
	.nknobs = sizeof mimalloc_knobs / sizeof mimalloc_knobs[0],
	.params_size = sizeof(struct mimalloc_params),
	.defaults = &mimalloc_defaults,
	.validate = mimalloc_validate,
	.create = mimalloc_create,
	.destroy = mimalloc_destroy,
	.alloc = mimalloc_alloc,
	.alloc_kind = mimalloc_alloc_kind,
	.resize = mimalloc_resize,
	.free = mimalloc_free,
	.block_size = mimalloc_block_size,
	.stats = mimalloc_stats,
	.details = mimalloc_details,
	.counters = mimalloc_counters,
	.ncounters = sizeof mimalloc_counters / sizeof mimalloc_counters[0],
	.check = mimalloc_check,
	.tick = mimalloc_tick,
};
