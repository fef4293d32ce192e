/*
 * alloc_ptmalloc.c - glibc 2.36's malloc (ptmalloc2), main arena, exact.
 *
 * The policy named "glibc": the system allocator under pymalloc and the
 * whole allocator of the `malloc` preset (PYTHONMALLOC=malloc). It makes
 * the chunk decisions that malloc/malloc.c of glibc 2.36 (Debian 12's
 * 2.36-9+deb12u14, read from Debian's glibc-source package) makes for a
 * single-threaded process on x86-64, so the heap's size, its free
 * chunks and its mappings equal the real ones call for call
 * (tests/e2e/glibc_exact.sh checks that against the real library;
 * docs/policies.md, "Allocator: glibc", has the long version and the
 * fidelity table). Line numbers below are of that malloc.c.
 *
 * Constants (64-bit): SIZE_SZ 8, MALLOC_ALIGNMENT 16, MINSIZE 32;
 * request2size(n) = max(32, (n + 8 + 15) & ~15) (l. 1326). A chunk's user
 * pointer is its address + 16 (chunk2mem).
 *
 *  1. malloc (__libc_malloc, l. 3280): the first call allocates the
 *     thread's tcache struct (tcache_init, l. 3229: 640 bytes, a 656-byte
 *     chunk at the very start of the heap). A chunk size with a tcache
 *     bin (csize2tidx < tcache_bins: 64 bins, chunks 32..1040) whose bin
 *     holds a chunk is served from it, newest first (tcache_get).
 *  2. Otherwise _int_malloc (l. 3765), in this order:
 *     a. fastbins (chunks <= global_max_fast, 128 by default: DEFAULT_MXFAST
 *        64 * SIZE_SZ / 4 via set_max_fast): the newest chunk of the bin;
 *        the bin's other chunks then fill the tcache up to tcache_count.
 *     b. small bins (chunk < 1024, MIN_LARGE_SIZE): the oldest chunk of
 *        the exact bin (last), then the bin's others fill the tcache.
 *     c. a large request first consolidates the fastbins
 *        (malloc_consolidate, l. 4710: every fast chunk merges with free
 *        neighbours or top and goes to the front of the unsorted bin).
 *     d. the unsorted bin, oldest first (l. 3990): a small request takes
 *        the chunk that is alone in the bin and is the last remainder
 *        (av->last_remainder, an address) if it is more than nb +
 *        MINSIZE, splitting it (the remainder stays alone there); an
 *        exact fit fills the tcache first (return_cached) or is
 *        returned; every other chunk is sorted into its bin: small bins
 *        at the front, large bins kept sorted by size, largest first,
 *        a new size inserted as the leader of its size group (the
 *        fd_nextsize skip list), an existing size in second place. At
 *        most 10000 chunks per pass (MAX_ITERS); a cached exact fit is
 *        returned after the pass (tcache_unsorted_limit 0: no limit).
 *     e. a large request: the smallest chunk >= nb in its own bin,
 *        taking the second of its size group when there is one (so the
 *        skip list keeps its leader); split, the remainder (>= MINSIZE)
 *        to the front of the unsorted bin.
 *     f. the next non-empty bin above (the binmap, l. 4242): its last
 *        chunk (the smallest, the oldest of its size), split as in e; for
 *        a small request the remainder becomes the last remainder.
 *     g. top, when it holds nb + MINSIZE.
 *     h. if fast chunks exist: consolidate and repeat from d.
 *     i. sysmalloc (l. 2541): nb >= mmap_threshold (and fewer than
 *        mmap_max mappings): an own mapping of ALIGN_UP(nb + 8, 4096)
 *        (sysmalloc_mmap, l. 2414); else brk grows by ALIGN_UP(nb +
 *        top_pad + MINSIZE - top size, 4096) (the first time, without
 *        the subtraction: the heap starts at the page-aligned initial
 *        break), and top is split.
 *  3. free (__libc_free, l. 3345): an mmapped chunk is unmapped; if its
 *     size (with the IS_MMAPPED bit, chunksize_nomask) is above the mmap
 *     threshold and at most DEFAULT_MMAP_THRESHOLD_MAX (32 MiB), the
 *     threshold becomes its size and the trim threshold twice that.
 *     Other chunks: _int_free (l. 4416): to the tcache if its bin holds
 *     fewer than tcache_count; else to the front of a fastbin (chunk <=
 *     max_fast; have_fastchunks); else merged with a free previous and
 *     next chunk, then to the front of the unsorted bin, or into top.
 *     If the merged size (including top when it merged into top) is >=
 *     64 KiB (FASTBIN_CONSOLIDATION_THRESHOLD): consolidate the fastbins
 *     and, when top >= trim_threshold, systrim (l. 2971): brk shrinks
 *     by ALIGN_DOWN(top - MINSIZE - 1 - top_pad, 4096).
 *  4. realloc (__libc_realloc, l. 3393; _int_realloc, l. 4812): an
 *     mmapped chunk is mremap'ed to ALIGN_UP(nb + 8, 4096) (mremap_chunk,
 *     l. 3068; it stays mmapped, whatever the size). Otherwise: a chunk
 *     that is big enough is split; one before top grows into it if top
 *     keeps MINSIZE; one before a binned free chunk that together fits
 *     absorbs it; else _int_malloc(nb) (if that returns the next chunk,
 *     the two merge: brk growth right after the block), copy, _int_free
 *     of the old chunk. A split-off remainder >= MINSIZE goes through
 *     _int_free (tcache, fastbin or unsorted).
 *  5. map()/unmap(): anonymous mappings for the allocator above
 *     (pymalloc's arenas), placed top-down, first fit, like Linux.
 *
 * Accounting: footprint = brk heap (brk - heap start) + every mapping.
 * RSS = pages of the brk heap below the furthest address top's header
 * has been written to since the last trim (a block's user writes all of
 * it; free chunks stay resident), + the pages of mmapped chunks, +
 * nothing for map() regions (their user counts its pages).
 * docs/metrics.md says what that assumes. details() gives mallinfo2()'s
 * fields (int_mallinfo, l. 5149).
 *
 * Not modelled (docs/policies.md): other threads' arenas, calloc and
 * memalign (a trace does not tell them from malloc: calloc skips the
 * tcache, memalign splits), malloc_trim, a failing brk (the mmap
 * fallback and its fenceposts), a foreign sbrk, heap randomisation
 * (the heap starts at PTM_HEAP_BASE). `r ID 0` resizes to a minimum chunk
 * (realloc(p, 1)), as the real replayer does; glibc would free.
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define PTM_HEAP_BASE    0x0000555555a00000ull  /* bytes: first brk */
#define PTM_MMAP_TOP     0x00007ffff0000000ull  /* mappings grow down */
#define PTM_SIZE_SZ      8u       /* bytes */
#define PTM_ALIGN        16u      /* bytes: MALLOC_ALIGNMENT */
#define PTM_MINSIZE      32u      /* bytes */
#define PTM_HDR          16u      /* bytes: CHUNK_HDR_SZ, chunk2mem offset */
#define PTM_MIN_LARGE    1024u    /* bytes: MIN_LARGE_SIZE */
#define PTM_NBINS        128u     /* NBINS; bin 1 is the unsorted bin */
#define PTM_UNSORTED     1u
#define PTM_NFASTBINS    10u      /* fastbin_index(request2size(160)) + 1 */
#define PTM_MAX_FAST     160u     /* bytes: MAX_FAST_SIZE (M_MXFAST limit) */
#define PTM_TCACHE_BINS  64u      /* TCACHE_MAX_BINS */
#define PTM_TCACHE_MAX   1032u    /* bytes: tidx2usize(63), MAX_TCACHE_SIZE */
#define PTM_TCACHE_COUNT_MAX 65535u /* MAX_TCACHE_COUNT */
#define PTM_TCACHE_STRUCT 640u    /* bytes: 64 uint16 counts + 64 pointers */
#define PTM_CONSOLIDATE  65536u   /* bytes: FASTBIN_CONSOLIDATION_THRESHOLD */
#define PTM_DYN_MAX      (32ull << 20) /* bytes: DEFAULT_MMAP_THRESHOLD_MAX */
#define PTM_MAX_ITERS    10000u   /* unsorted chunks sorted per pass */
#define PTM_IS_MMAPPED   2u       /* the size field's IS_MMAPPED bit */
#define NIL              UINT32_MAX

_Static_assert(PTM_ALIGN == 2 * PTM_SIZE_SZ, "64-bit layout");
_Static_assert(PTM_TCACHE_STRUCT == PTM_TCACHE_BINS * (2 + 8), "tcache_perthread_struct");

struct ptm_params {
	uint64_t mmap_threshold;        /* bytes: M_MMAP_THRESHOLD */
	uint64_t trim_threshold;        /* bytes: M_TRIM_THRESHOLD */
	uint64_t top_pad;               /* bytes: M_TOP_PAD */
	uint64_t mmap_max;              /* mappings: M_MMAP_MAX */
	int dynamic_mmap_threshold;     /* bool: !mp_.no_dyn_threshold */
	uint64_t max_fast;              /* bytes (a request): M_MXFAST */
	uint64_t tcache_count;          /* chunks per bin: glibc.malloc.tcache_count */
	uint64_t tcache_max;            /* bytes (a request): glibc.malloc.tcache_max */
	uint64_t tcache_unsorted_limit; /* chunks: glibc.malloc.tcache_unsorted_limit */
};

/* Where a chunk record is. In glibc's terms, USED, TCACHE and FAST are
 * "in use" (the next chunk's PREV_INUSE bit is set); BIN chunks are free. */
enum where { W_NONE, W_USED, W_TCACHE, W_FAST, W_BIN, W_MMAP, W_MAP, W_SENTINEL };

/*
 * One chunk of the brk heap, one mmapped chunk, one raw mapping, or (the
 * first PTM_NBINS records) a bin's list head. Bins are glibc's circular
 * doubly linked lists through fd/bk; fdn/bkn are fd_nextsize/bk_nextsize
 * (NIL = NULL: set only on the first chunk of each size in a large bin).
 * Tcache and fastbins are singly linked through fd. Unused records are
 * chained through fd.
 */
struct pch {
	uint64_t addr;          /* chunk start (mapping start for mappings) */
	uint64_t size;          /* bytes: chunksize(); mapping length */
	uint64_t req;           /* bytes asked for (USED, MMAP) */
	uint32_t fd, bk, fdn, bkn;
	uint8_t where;          /* enum where */
	uint8_t bin;            /* W_BIN: its bin (PTM_UNSORTED or 2..126) */
};

/* Open addressing, linear probing: key -> record index. */
struct ptab {
	uint32_t *slot;         /* record index + 1; 0 = empty */
	uint64_t mask, used;
	int by_end;             /* key = addr + size instead of addr */
};

/* An address range held from the kernel, kept sorted by address. */
struct pmap {
	uint64_t addr, len;
};

struct ptm {
	struct ptm_params p;
	uint64_t mmap_threshold, trim_threshold;   /* current (dynamic) */
	uint64_t max_fast;              /* bytes: global_max_fast (a chunk size) */
	uint32_t tcache_bins;           /* mp_.tcache_bins */

	struct pch *c;
	uint32_t nc, capc, freerec;
	struct ptab at;                 /* every chunk and mapping by start */
	struct ptab end;                /* binned chunks by end (prev_size) */

	uint32_t fast[PTM_NFASTBINS];   /* fastbin heads */
	uint32_t tc[PTM_TCACHE_BINS];   /* tcache heads */
	uint16_t tcount[PTM_TCACHE_BINS];
	int tcache_on;                  /* tcache_init has run */
	int have_fastchunks;
	uint64_t nonempty[2];           /* bins holding chunks (exact binmap) */
	uint64_t last_remainder;        /* address; 0: none */

	uint64_t top, top_size;         /* the top chunk */
	uint64_t base;                  /* mp_.sbrk_base; 0 before the first brk */
	uint64_t max_system_mem;        /* bytes */
	uint64_t hw;                    /* resident below this address */

	struct pmap *maps;
	size_t nmaps, capmaps;
	uint64_t mapped_bytes;          /* every mapping */

	/* mallinfo2 and memsim's own counters */
	uint64_t n_mmaps, mmapped_mem;  /* mp_.n_mmaps, mp_.mmapped_mem */
	uint64_t nbinned, binned_bytes, nfast, fast_bytes;
	uint64_t ntcache, tcache_bytes;
	uint64_t requested, allocated, blocks;
	uint64_t os_maps, os_unmaps;
};

static const struct ptm_params ptm_defaults = {
	.mmap_threshold = 128 * 1024,   /* DEFAULT_MMAP_THRESHOLD_MIN */
	.trim_threshold = 128 * 1024,   /* DEFAULT_TRIM_THRESHOLD */
	.top_pad = 128 * 1024,          /* DEFAULT_TOP_PAD, malloc-machine.h */
	.mmap_max = 65536,              /* DEFAULT_MMAP_MAX */
	.dynamic_mmap_threshold = 1,
	.max_fast = 64 * PTM_SIZE_SZ / 4,  /* DEFAULT_MXFAST */
	.tcache_count = 7,              /* TCACHE_FILL_COUNT */
	.tcache_max = PTM_TCACHE_MAX,
	.tcache_unsorted_limit = 0,
};

#define PTM_OFF(f) offsetof(struct ptm_params, f)

static const struct knob ptm_knobs[] = {
	{ .name = "mmap_threshold", .kind = KNOB_UINT, .offset = PTM_OFF(mmap_threshold),
	  .min = 0, .max = PTM_DYN_MAX, .unit = "bytes",
	  .doc = "chunks at least this big get their own mapping (M_MMAP_THRESHOLD)" },
	{ .name = "trim_threshold", .kind = KNOB_UINT, .offset = PTM_OFF(trim_threshold),
	  .min = 0, .max = 1ull << 40, .unit = "bytes",
	  .doc = "a free top this big is returned with brk (M_TRIM_THRESHOLD)" },
	{ .name = "top_pad", .kind = KNOB_UINT, .offset = PTM_OFF(top_pad),
	  .min = 0, .max = 1ull << 40, .unit = "bytes",
	  .doc = "extra bytes asked for on brk growth and kept on trim (M_TOP_PAD)" },
	{ .name = "mmap_max", .kind = KNOB_UINT, .offset = PTM_OFF(mmap_max),
	  .min = 0, .max = INT32_MAX, .unit = "mappings",
	  .doc = "most mmapped chunks at once; then brk serves them (M_MMAP_MAX)" },
	{ .name = "dynamic_mmap_threshold", .kind = KNOB_BOOL,
	  .offset = PTM_OFF(dynamic_mmap_threshold), .min = 0, .max = 1,
	  .doc = "freeing a bigger mmapped chunk (<= 32 MiB) raises the thresholds "
		 "(glibc turns this off when any of the three above is set)" },
	{ .name = "max_fast", .kind = KNOB_UINT, .offset = PTM_OFF(max_fast),
	  .min = 0, .max = PTM_MAX_FAST, .unit = "bytes",
	  .doc = "largest request kept in fastbins (M_MXFAST)" },
	{ .name = "tcache_count", .kind = KNOB_UINT, .offset = PTM_OFF(tcache_count),
	  .min = 0, .max = PTM_TCACHE_COUNT_MAX, .unit = "chunks",
	  .doc = "chunks per tcache bin (glibc.malloc.tcache_count)" },
	{ .name = "tcache_max", .kind = KNOB_UINT, .offset = PTM_OFF(tcache_max),
	  .min = 0, .max = PTM_TCACHE_MAX, .unit = "bytes",
	  .doc = "largest request cached per thread (glibc.malloc.tcache_max)" },
	{ .name = "tcache_unsorted_limit", .kind = KNOB_UINT,
	  .offset = PTM_OFF(tcache_unsorted_limit), .min = 0, .max = 1ull << 32,
	  .unit = "chunks",
	  .doc = "unsorted chunks sorted before a cached fit is returned, 0: all "
		 "(glibc.malloc.tcache_unsorted_limit)" },
};

/* ---- sizes and bins (l. 1300-1620) ----------------------------------- */

static uint64_t request2size(uint64_t n)
{
	uint64_t nb = (n + PTM_SIZE_SZ + PTM_ALIGN - 1) & ~(uint64_t)(PTM_ALIGN - 1);

	return nb < PTM_MINSIZE ? PTM_MINSIZE : nb;
}

static uint64_t page_up(uint64_t x)
{
	return (x + ALLOC_PAGE_SIZE - 1) & ~(uint64_t)(ALLOC_PAGE_SIZE - 1);
}

static uint64_t page_down(uint64_t x)
{
	return x & ~(uint64_t)(ALLOC_PAGE_SIZE - 1);
}

static int in_smallbin_range(uint64_t sz)
{
	return sz < PTM_MIN_LARGE;
}

static uint32_t largebin_index(uint64_t sz)
{
	if ((sz >> 6) <= 48)
		return 48 + (uint32_t)(sz >> 6);
	if ((sz >> 9) <= 20)
		return 91 + (uint32_t)(sz >> 9);
	if ((sz >> 12) <= 10)
		return 110 + (uint32_t)(sz >> 12);
	if ((sz >> 15) <= 4)
		return 119 + (uint32_t)(sz >> 15);
	if ((sz >> 18) <= 2)
		return 124 + (uint32_t)(sz >> 18);
	return 126;
}

static uint32_t bin_index(uint64_t sz)
{
	return in_smallbin_range(sz) ? (uint32_t)(sz >> 4) : largebin_index(sz);
}

static uint32_t fastbin_index(uint64_t sz)
{
	return (uint32_t)(sz >> 4) - 2;
}

static uint32_t csize2tidx(uint64_t sz)
{
	return (uint32_t)((sz - PTM_MINSIZE + PTM_ALIGN - 1) / PTM_ALIGN);
}

static int ptm_validate(const void *params, char *msg, size_t msglen)
{
	(void)params;
	(void)msg;
	(void)msglen;
	return 0;       /* the knobs are independent; ranges say the rest */
}

/* ---- records and address tables ---------------------------------------- */

static uint64_t mix(uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return a;
}

static uint64_t tab_key(const struct ptm *m, const struct ptab *t, uint32_t i)
{
	return t->by_end ? m->c[i].addr + m->c[i].size : m->c[i].addr;
}

/* The record whose key is `key`, or NIL. */
static uint32_t tab_get(const struct ptm *m, const struct ptab *t, uint64_t key)
{
	for (uint64_t s = mix(key) & t->mask;; s = (s + 1) & t->mask) {
		uint32_t v = t->slot[s];

		if (!v)
			return NIL;
		if (tab_key(m, t, v - 1) == key)
			return v - 1;
	}
}

static void tab_put(struct ptm *m, struct ptab *t, uint32_t i);

static void tab_grow(struct ptm *m, struct ptab *t)
{
	uint32_t *old = t->slot;
	uint64_t n = t->mask + 1;

	t->mask = n * 2 - 1;
	t->slot = xcalloc(n * 2, sizeof *t->slot);
	t->used = 0;
	for (uint64_t s = 0; s < n; s++)
		if (old[s])
			tab_put(m, t, old[s] - 1);
	free(old);
}

static void tab_put(struct ptm *m, struct ptab *t, uint32_t i)
{
	if ((t->used + 1) * 2 > t->mask + 1)
		tab_grow(m, t);
	uint64_t s = mix(tab_key(m, t, i)) & t->mask;

	while (t->slot[s])
		s = (s + 1) & t->mask;
	t->slot[s] = i + 1;
	t->used++;
}

/* Removes record i, which must be in t under its current key
 * (backward-shift deletion keeps every probe chain unbroken). */
static void tab_del(struct ptm *m, struct ptab *t, uint32_t i)
{
	uint64_t s = mix(tab_key(m, t, i)) & t->mask;

	while (t->slot[s] != i + 1)
		s = (s + 1) & t->mask;
	for (uint64_t j = s;;) {
		j = (j + 1) & t->mask;
		if (!t->slot[j])
			break;
		uint64_t home = mix(tab_key(m, t, t->slot[j] - 1)) & t->mask;

		if (((j - home) & t->mask) >= ((j - s) & t->mask)) {
			t->slot[s] = t->slot[j];
			s = j;
		}
	}
	t->slot[s] = 0;
	t->used--;
}

/* A new record at addr (entered in the start table). */
static uint32_t rec_new(struct ptm *m, uint64_t addr, uint64_t size, int where)
{
	uint32_t i = m->freerec;

	if (i != NIL) {
		m->freerec = m->c[i].fd;
	} else {
		if (m->nc == m->capc) {
			m->capc *= 2;
			m->c = xreallocarray(m->c, m->capc, sizeof *m->c);
		}
		i = m->nc++;
	}
	m->c[i] = (struct pch){ .addr = addr, .size = size, .fd = NIL, .bk = NIL,
				.fdn = NIL, .bkn = NIL, .where = (uint8_t)where };
	tab_put(m, &m->at, i);
	return i;
}

static void rec_drop(struct ptm *m, uint32_t i)
{
	tab_del(m, &m->at, i);
	m->c[i].where = W_NONE;
	m->c[i].fd = m->freerec;
	m->freerec = i;
}

/* ---- bins ----------------------------------------------------------------- */

static void mark_bin(struct ptm *m, uint32_t b)
{
	m->nonempty[b >> 6] |= 1ull << (b & 63);
}

/* Links chunk i between bck and fwd of bin b (a free chunk). */
static void bin_link(struct ptm *m, uint32_t i, uint32_t b, uint32_t bck, uint32_t fwd)
{
	struct pch *c = &m->c[i];

	c->where = W_BIN;
	c->bin = (uint8_t)b;
	c->bk = bck;
	c->fd = fwd;
	m->c[fwd].bk = i;
	m->c[bck].fd = i;
	mark_bin(m, b);
	tab_put(m, &m->end, i);
	m->nbinned++;
	m->binned_bytes += c->size;
}

/* To the front of the unsorted bin (free, consolidation, remainders). */
static void unsorted_push(struct ptm *m, uint32_t i)
{
	m->c[i].fdn = m->c[i].bkn = NIL;
	bin_link(m, i, PTM_UNSORTED, PTM_UNSORTED, m->c[PTM_UNSORTED].fd);
}

static int is_leader(const struct ptm *m, uint32_t i)
{
	return i < PTM_NBINS || m->c[i].fdn != NIL;
}

/* unlink_chunk (l. 1620): takes i out of its bin, keeping the large
 * bins' skip list: a leader's place goes to the next chunk of its size. */
static void bin_unlink(struct ptm *m, uint32_t i)
{
	struct pch *p = &m->c[i];
	uint32_t fd = p->fd, bk = p->bk;

	m->c[fd].bk = bk;
	m->c[bk].fd = fd;
	if (!in_smallbin_range(p->size) && p->fdn != NIL) {
		if (!is_leader(m, fd)) {
			if (p->fdn == i) {
				m->c[fd].fdn = m->c[fd].bkn = fd;
			} else {
				m->c[fd].fdn = p->fdn;
				m->c[fd].bkn = p->bkn;
				m->c[p->fdn].bkn = fd;
				m->c[p->bkn].fdn = fd;
			}
		} else {
			m->c[p->fdn].bkn = p->bkn;
			m->c[p->bkn].fdn = p->fdn;
		}
	}
	if (m->c[p->bin].fd == p->bin)
		m->nonempty[p->bin >> 6] &= ~(1ull << (p->bin & 63));
	tab_del(m, &m->end, i);
	m->nbinned--;
	m->binned_bytes -= p->size;
	p->where = W_USED;
	p->fd = p->bk = p->fdn = p->bkn = NIL;
}

/* The sorting step of _int_malloc (l. 4081): chunk i, just taken from the
 * unsorted bin, into its small bin (front) or large bin (by size). */
static void bin_place(struct ptm *m, uint32_t i)
{
	uint64_t size = m->c[i].size;
	uint32_t b = bin_index(size), bck = b, fwd = m->c[b].fd;

	if (!in_smallbin_range(size)) {
		struct pch *v = &m->c[i];

		if (fwd == bck) {
			v->fdn = v->bkn = i;
		} else if (size < m->c[m->c[bck].bk].size) {
			/* smaller than the smallest: the new last leader */
			fwd = bck;
			bck = m->c[bck].bk;
			v->fdn = m->c[fwd].fd;
			v->bkn = m->c[v->fdn].bkn;
			m->c[v->fdn].bkn = i;
			m->c[v->bkn].fdn = i;
		} else {
			while (size < m->c[fwd].size)
				fwd = m->c[fwd].fdn;
			if (size == m->c[fwd].size) {
				fwd = m->c[fwd].fd;     /* second in its size group */
				v->fdn = v->bkn = NIL;
			} else {
				v->fdn = fwd;
				v->bkn = m->c[fwd].bkn;
				m->c[fwd].bkn = i;
				m->c[v->bkn].fdn = i;
			}
			bck = m->c[fwd].bk;
		}
	}
	bin_link(m, i, b, bck, fwd);
}

/* The first non-empty bin above b, or 0. */
static uint32_t next_nonempty(const struct ptm *m, uint32_t b)
{
	for (uint32_t w = (b + 1) >> 6; w < 2; w++) {
		uint64_t bits = m->nonempty[w];

		if (w == (b + 1) >> 6)
			bits &= ~0ull << ((b + 1) & 63);
		if (bits)
			return w * 64 + (uint32_t)__builtin_ctzll(bits);
	}
	return 0;
}

/* ---- tcache and fastbins ---------------------------------------------- */

static void tcache_put(struct ptm *m, uint32_t i, uint32_t tc)
{
	m->c[i].where = W_TCACHE;
	m->c[i].fd = m->tc[tc];
	m->tc[tc] = i;
	m->tcount[tc]++;
	m->ntcache++;
	m->tcache_bytes += m->c[i].size;
}

static uint32_t tcache_get(struct ptm *m, uint32_t tc)
{
	uint32_t i = m->tc[tc];

	m->tc[tc] = m->c[i].fd;
	m->tcount[tc]--;
	m->ntcache--;
	m->tcache_bytes -= m->c[i].size;
	m->c[i].where = W_USED;
	m->c[i].fd = NIL;
	return i;
}

/* A chunk of size nb may enter tcache bin *tc (csize2tidx < tcache_bins). */
static int tcache_bin(const struct ptm *m, uint64_t nb, uint32_t *tc)
{
	*tc = csize2tidx(nb);
	return m->tcache_on && *tc < m->tcache_bins;
}

static void fast_push(struct ptm *m, uint32_t i)
{
	uint32_t f = fastbin_index(m->c[i].size);

	m->c[i].where = W_FAST;
	m->c[i].fd = m->fast[f];
	m->fast[f] = i;
	m->nfast++;
	m->fast_bytes += m->c[i].size;
	m->have_fastchunks = 1;
}

static uint32_t fast_pop(struct ptm *m, uint32_t f)
{
	uint32_t i = m->fast[f];

	m->fast[f] = m->c[i].fd;
	m->nfast--;
	m->fast_bytes -= m->c[i].size;
	m->c[i].where = W_USED;
	m->c[i].fd = NIL;
	return i;
}

/* ---- top and the address space ---------------------------------------- */

/* top's header has been written: its page is resident. */
static void note_top(struct ptm *m)
{
	uint64_t e = m->top + PTM_HDR;

	if (e > m->hw)
		m->hw = e;
}

/* Top-down first fit below PTM_MMAP_TOP, as Linux places mmap(NULL). */
static uint64_t vm_map(struct ptm *m, uint64_t len)
{
	uint64_t hi = PTM_MMAP_TOP;
	size_t k = m->nmaps;

	for (; k > 0 && hi - (m->maps[k - 1].addr + m->maps[k - 1].len) < len; k--)
		hi = m->maps[k - 1].addr;
	if (m->nmaps == m->capmaps) {
		m->capmaps = m->capmaps ? m->capmaps * 2 : 64;
		m->maps = xreallocarray(m->maps, m->capmaps, sizeof *m->maps);
	}
	memmove(&m->maps[k + 1], &m->maps[k], (m->nmaps - k) * sizeof *m->maps);
	m->maps[k] = (struct pmap){ hi - len, len };
	m->nmaps++;
	m->mapped_bytes += len;
	m->os_maps++;
	return hi - len;
}

/* The index of the mapping that starts at addr (it exists). */
static size_t vm_find(const struct ptm *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nmaps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->maps[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void vm_unmap(struct ptm *m, uint64_t addr)
{
	size_t k = vm_find(m, addr);

	m->mapped_bytes -= m->maps[k].len;
	memmove(&m->maps[k], &m->maps[k + 1], (m->nmaps - k - 1) * sizeof *m->maps);
	m->nmaps--;
	m->os_unmaps++;
}

/* mremap(MREMAP_MAYMOVE): shrinks in place, grows in place when the
 * range after the mapping is free, else moves. Returns the address. */
static uint64_t vm_remap(struct ptm *m, uint64_t addr, uint64_t len)
{
	size_t k = vm_find(m, addr);
	struct pmap *p = &m->maps[k];
	uint64_t limit = k + 1 < m->nmaps ? m->maps[k + 1].addr : PTM_MMAP_TOP;

	if (len <= p->len || addr + len <= limit) {
		m->mapped_bytes += len - p->len;
		p->len = len;
		m->os_maps++;
		return addr;
	}
	uint64_t a = vm_map(m, len);    /* found while the old range is held */

	vm_unmap(m, addr);
	m->os_unmaps--;         /* one mremap call, counted as one map */
	return a;
}

/* ---- the allocator ------------------------------------------------------ */

static void *ptm_create(const void *params, const struct alloc_inst *lower)
{
	struct ptm *m = xcalloc(1, sizeof *m);

	(void)lower;
	memcpy(&m->p, params, sizeof m->p);
	m->mmap_threshold = m->p.mmap_threshold;
	m->trim_threshold = m->p.trim_threshold;
	/* set_max_fast (l. 1791) */
	m->max_fast = m->p.max_fast == 0 ? PTM_MINSIZE / 2 :
		((m->p.max_fast + PTM_SIZE_SZ) & ~(uint64_t)(PTM_ALIGN - 1));
	/* do_set_tcache_max: bins up to the one of tcache_max's chunk */
	m->tcache_bins = csize2tidx(request2size(m->p.tcache_max)) + 1;
	m->capc = 1024;
	m->c = xcalloc(m->capc, sizeof *m->c);
	m->nc = PTM_NBINS;
	m->freerec = NIL;
	for (uint32_t b = 0; b < PTM_NBINS; b++)
		m->c[b] = (struct pch){ .fd = b, .bk = b, .fdn = NIL, .bkn = NIL,
					.where = W_SENTINEL };
	m->at.mask = m->end.mask = 1023;
	m->at.slot = xcalloc(1024, sizeof *m->at.slot);
	m->end.slot = xcalloc(1024, sizeof *m->end.slot);
	m->end.by_end = 1;
	for (uint32_t f = 0; f < PTM_NFASTBINS; f++)
		m->fast[f] = NIL;
	for (uint32_t t = 0; t < PTM_TCACHE_BINS; t++)
		m->tc[t] = NIL;
	return m;
}

static void ptm_destroy(void *state)
{
	struct ptm *m = state;

	if (!m)
		return;
	free(m->c);
	free(m->at.slot);
	free(m->end.slot);
	free(m->maps);
	free(m);
}

/* systrim (l. 2971): gives brk back above top_pad. */
static void systrim(struct ptm *m)
{
	uint64_t pad = m->p.top_pad;

	if (m->top_size <= PTM_MINSIZE + 1 + pad)
		return;
	uint64_t extra = page_down(m->top_size - PTM_MINSIZE - 1 - pad);

	if (extra == 0)
		return;
	m->top_size -= extra;
	if (m->hw > m->top + m->top_size)
		m->hw = m->top + m->top_size;
	m->os_unmaps++;
}

/* sysmalloc (l. 2541): a chunk of nb bytes when no bin and not top can
 * serve it: its own mapping, or top after brk growth. */
static uint32_t sysmalloc(struct ptm *m, uint64_t nb)
{
	if (nb >= m->mmap_threshold && m->n_mmaps < m->p.mmap_max) {
		uint64_t len = page_up(nb + PTM_SIZE_SZ);
		uint32_t i = rec_new(m, vm_map(m, len), len, W_MMAP);

		m->n_mmaps++;
		m->mmapped_mem += len;
		return i;
	}
	if (m->base == 0) {
		/* the first brk: the heap starts at the initial break */
		m->base = m->top = PTM_HEAP_BASE;
		m->top_size = page_up(nb + m->p.top_pad + PTM_MINSIZE);
		note_top(m);
	} else {
		m->top_size += page_up(nb + m->p.top_pad + PTM_MINSIZE - m->top_size);
	}
	m->os_maps++;
	if (m->top + m->top_size - m->base > m->max_system_mem)
		m->max_system_mem = m->top + m->top_size - m->base;
	uint32_t i = rec_new(m, m->top, nb, W_USED);

	m->top += nb;
	m->top_size -= nb;
	note_top(m);
	return i;
}

/* Merges the free chunk i (its record, W_USED, not in the end table)
 * with a binned previous and next chunk, then puts it at the front of
 * the unsorted bin or into top. Returns the merged size (with top's when
 * it went into top), as _int_free compares it (l. 4668). */
static uint64_t coalesce(struct ptm *m, uint32_t i)
{
	uint32_t prev = tab_get(m, &m->end, m->c[i].addr);
	uint64_t next = m->c[i].addr + m->c[i].size;

	if (prev != NIL) {
		bin_unlink(m, prev);
		m->c[prev].size += m->c[i].size;
		rec_drop(m, i);
		i = prev;
	}
	if (next == m->top) {
		m->top = m->c[i].addr;
		m->top_size += m->c[i].size;
		rec_drop(m, i);
		note_top(m);
		return m->top_size;
	}
	uint32_t n = tab_get(m, &m->at, next);

	if (m->c[n].where == W_BIN) {
		bin_unlink(m, n);
		m->c[i].size += m->c[n].size;
		rec_drop(m, n);
	}
	unsorted_push(m, i);
	return m->c[i].size;
}

/* malloc_consolidate (l. 4710): every fast chunk, bin 0 first, each from
 * its head, merges with its free neighbours. */
static void consolidate(struct ptm *m)
{
	m->have_fastchunks = 0;
	for (uint32_t f = 0; f < PTM_NFASTBINS; f++)
		while (m->fast[f] != NIL)
			coalesce(m, fast_pop(m, f));
}

/* _int_free (l. 4416) of a brk chunk i (W_USED). */
static void int_free(struct ptm *m, uint32_t i)
{
	uint64_t size = m->c[i].size;
	uint32_t tc;

	if (tcache_bin(m, size, &tc) && m->tcount[tc] < m->p.tcache_count) {
		tcache_put(m, i, tc);
		return;
	}
	if (size <= m->max_fast) {
		fast_push(m, i);
		return;
	}
	if (coalesce(m, i) >= PTM_CONSOLIDATE) {
		if (m->have_fastchunks)
			consolidate(m);
		if (m->top_size >= m->trim_threshold)
			systrim(m);
	}
}

/* Splits binned-and-unlinked chunk i at nb: a remainder of at least
 * MINSIZE goes to the front of the unsorted bin and is returned (NIL if
 * the whole chunk is used). */
static uint32_t split(struct ptm *m, uint32_t i, uint64_t nb)
{
	uint64_t rest = m->c[i].size - nb;

	if (rest < PTM_MINSIZE)
		return NIL;
	m->c[i].size = nb;
	uint32_t r = rec_new(m, m->c[i].addr + nb, rest, W_USED);

	unsorted_push(m, r);
	return r;
}

/* Step d of _int_malloc: sorts the unsorted bin, oldest first. Returns a
 * chunk for nb when the last remainder or an exact fit serves it, else
 * NIL; *cached tells that exact fits went to the tcache. *sorted counts
 * the chunks binned during this malloc (tcache_unsorted_count, which
 * survives a consolidation and a second pass). */
static uint32_t sort_unsorted(struct ptm *m, uint64_t nb, int *cached,
				  uint64_t *sorted)
{
	uint32_t tc, iters = 0;
	int tcache_nb = tcache_bin(m, nb, &tc);

	for (uint32_t v; (v = m->c[PTM_UNSORTED].bk) != PTM_UNSORTED;) {
		uint64_t size = m->c[v].size;

		if (in_smallbin_range(nb) && m->c[v].bk == PTM_UNSORTED &&
		    m->c[v].addr == m->last_remainder && size > nb + PTM_MINSIZE) {
			bin_unlink(m, v);
			uint32_t r = split(m, v, nb);

			m->last_remainder = m->c[r].addr;
			return v;
		}
		bin_unlink(m, v);
		if (size == nb) {
			if (tcache_nb && m->tcount[tc] < m->p.tcache_count) {
				tcache_put(m, v, tc);
				*cached = 1;
				continue;
			}
			return v;
		}
		bin_place(m, v);
		++*sorted;
		if (*cached && m->p.tcache_unsorted_limit > 0 &&
		    *sorted > m->p.tcache_unsorted_limit)
			return tcache_get(m, tc);
		if (++iters >= PTM_MAX_ITERS)
			break;
	}
	if (*cached) {
		*cached = 0;
		return tcache_get(m, tc);
	}
	return NIL;
}

/* Steps e and f: best fit from the bins, or NIL. */
static uint32_t from_bins(struct ptm *m, uint64_t nb, uint32_t idx)
{
	uint32_t v;

	if (!in_smallbin_range(nb)) {
		v = m->c[idx].fd;
		if (v != idx && m->c[v].size >= nb) {
			v = m->c[v].bkn;
			while (m->c[v].size < nb)
				v = m->c[v].bkn;
			if (v != m->c[idx].bk && m->c[v].size == m->c[m->c[v].fd].size)
				v = m->c[v].fd;
			bin_unlink(m, v);
			split(m, v, nb);
			return v;
		}
	}
	uint32_t b = next_nonempty(m, idx);

	if (b == 0)
		return NIL;
	v = m->c[b].bk;
	bin_unlink(m, v);
	uint32_t r = split(m, v, nb);

	if (r != NIL && in_smallbin_range(nb))
		m->last_remainder = m->c[r].addr;
	return v;
}

/* Steps a and b: the fastbin or small bin of exactly nb, stashing the
 * bin's other chunks in the tcache. NIL if empty. */
static uint32_t from_exact(struct ptm *m, uint64_t nb)
{
	uint32_t v = NIL, tc;
	int stash = tcache_bin(m, nb, &tc);

	if (nb <= m->max_fast && m->fast[fastbin_index(nb)] != NIL) {
		uint32_t f = fastbin_index(nb);

		v = fast_pop(m, f);
		while (stash && m->tcount[tc] < m->p.tcache_count && m->fast[f] != NIL)
			tcache_put(m, fast_pop(m, f), tc);
	} else if (in_smallbin_range(nb) && m->c[nb >> 4].bk != (nb >> 4)) {
		uint32_t b = (uint32_t)(nb >> 4);

		v = m->c[b].bk;
		bin_unlink(m, v);
		while (stash && m->tcount[tc] < m->p.tcache_count && m->c[b].bk != b) {
			uint32_t x = m->c[b].bk;

			bin_unlink(m, x);
			tcache_put(m, x, tc);
		}
	}
	return v;
}

/* _int_malloc (l. 3765): a chunk (record, W_USED or W_MMAP) of at least
 * nb bytes. */
static uint32_t int_malloc(struct ptm *m, uint64_t nb)
{
	uint32_t v = from_exact(m, nb), idx;
	uint64_t sorted = 0;

	if (v != NIL)
		return v;
	if (in_smallbin_range(nb)) {
		idx = (uint32_t)(nb >> 4);
	} else {
		idx = largebin_index(nb);
		if (m->have_fastchunks)
			consolidate(m);
	}
	for (;;) {
		int cached = 0;

		if ((v = sort_unsorted(m, nb, &cached, &sorted)) != NIL)
			return v;
		if ((v = from_bins(m, nb, idx)) != NIL)
			return v;
		if (m->top_size >= nb + PTM_MINSIZE) {
			v = rec_new(m, m->top, nb, W_USED);
			m->top += nb;
			m->top_size -= nb;
			note_top(m);
			return v;
		}
		if (!m->have_fastchunks)
			return sysmalloc(m, nb);
		consolidate(m);
	}
}

static void account(struct ptm *m, uint32_t i, uint64_t req, int sign)
{
	uint64_t size = m->c[i].size;

	if (sign > 0) {
		m->c[i].req = req;
		m->requested += req;
		m->allocated += size;
		m->blocks++;
	} else {
		m->requested -= m->c[i].req;
		m->allocated -= size;
		m->blocks--;
	}
}

/* __libc_malloc (l. 3280): the tcache, then _int_malloc. */
static uint32_t libc_malloc(struct ptm *m, uint64_t bytes)
{
	uint64_t nb = request2size(bytes);
	uint32_t tc;

	if (!m->tcache_on) {
		/* tcache_init: its struct is the heap's first chunk, never freed */
		int_malloc(m, request2size(PTM_TCACHE_STRUCT));
		m->tcache_on = 1;
	}
	if (tcache_bin(m, nb, &tc) && m->tcount[tc] > 0)
		return tcache_get(m, tc);
	return int_malloc(m, nb);
}

static uint64_t ptm_alloc(void *state, uint64_t size)
{
	struct ptm *m = state;
	uint32_t i = libc_malloc(m, size);

	account(m, i, size, +1);
	return m->c[i].addr + PTM_HDR;
}

/* munmap_chunk after the dynamic threshold rule of __libc_free. */
static void free_mmapped(struct ptm *m, uint32_t i)
{
	uint64_t nomask = m->c[i].size | PTM_IS_MMAPPED;

	if (m->p.dynamic_mmap_threshold && nomask > m->mmap_threshold &&
	    nomask <= PTM_DYN_MAX) {
		m->mmap_threshold = m->c[i].size;
		m->trim_threshold = 2 * m->mmap_threshold;
	}
	m->n_mmaps--;
	m->mmapped_mem -= m->c[i].size;
	vm_unmap(m, m->c[i].addr);
	rec_drop(m, i);
}

/* The live chunk whose user pointer is addr, or NIL. */
static uint32_t live_chunk(const struct ptm *m, uint64_t addr)
{
	uint32_t i = addr >= PTM_HDR ? tab_get(m, &m->at, addr - PTM_HDR) : NIL;

	if (i != NIL && m->c[i].where != W_USED && m->c[i].where != W_MMAP)
		return NIL;
	return i;
}

static void ptm_free(void *state, uint64_t addr, uint64_t size)
{
	struct ptm *m = state;
	uint32_t i = live_chunk(m, addr);

	(void)size;
	if (i == NIL)
		return;
	account(m, i, 0, -1);
	if (m->c[i].where == W_MMAP)
		free_mmapped(m, i);
	else
		int_free(m, i);
}

/* The end of _int_realloc: chunk i holds newsize bytes; keep nb and free
 * a remainder of at least MINSIZE through _int_free. */
static void realloc_trim(struct ptm *m, uint32_t i, uint64_t newsize, uint64_t nb)
{
	m->c[i].size = newsize;
	if (newsize - nb < PTM_MINSIZE)
		return;
	m->c[i].size = nb;
	int_free(m, rec_new(m, m->c[i].addr + nb, newsize - nb, W_USED));
}

/* _int_realloc (l. 4812) of brk chunk i (W_USED) to nb bytes. */
static uint32_t int_realloc(struct ptm *m, uint32_t i, uint64_t nb)
{
	uint64_t oldsize = m->c[i].size, next = m->c[i].addr + oldsize;

	if (oldsize >= nb) {
		realloc_trim(m, i, oldsize, nb);
		return i;
	}
	if (next == m->top && oldsize + m->top_size >= nb + PTM_MINSIZE) {
		m->c[i].size = nb;
		m->top_size -= nb - oldsize;
		m->top = m->c[i].addr + nb;
		note_top(m);
		return i;
	}
	uint32_t n = next == m->top ? NIL : tab_get(m, &m->at, next);

	if (n != NIL && m->c[n].where == W_BIN && oldsize + m->c[n].size >= nb) {
		uint64_t newsize = oldsize + m->c[n].size;

		bin_unlink(m, n);
		rec_drop(m, n);
		realloc_trim(m, i, newsize, nb);
		return i;
	}
	n = int_malloc(m, nb);
	if (m->c[n].addr == next && m->c[n].where == W_USED) {
		uint64_t newsize = oldsize + m->c[n].size;

		rec_drop(m, n);
		realloc_trim(m, i, newsize, nb);
		return i;
	}
	int_free(m, i);
	return n;
}

/* mremap_chunk (l. 3068): the chunk stays mmapped at its new size. */
static void remap_chunk(struct ptm *m, uint32_t i, uint64_t nb)
{
	uint64_t len = page_up(nb + PTM_SIZE_SZ), old = m->c[i].size;

	if (len == old)
		return;
	uint64_t a = vm_remap(m, m->c[i].addr, len);

	m->mmapped_mem += len - old;
	if (a != m->c[i].addr) {
		tab_del(m, &m->at, i);
		m->c[i].addr = a;
		tab_put(m, &m->at, i);
	}
	m->c[i].size = len;
}

static uint64_t ptm_resize(void *state, uint64_t addr, uint64_t old_size,
			   uint64_t new_size)
{
	struct ptm *m = state;
	uint32_t i = live_chunk(m, addr);
	uint64_t nb = request2size(new_size);

	(void)old_size;
	if (i == NIL)
		return ptm_alloc(state, new_size);
	account(m, i, 0, -1);
	if (m->c[i].where == W_MMAP)
		remap_chunk(m, i, nb);
	else
		i = int_realloc(m, i, nb);
	account(m, i, new_size, +1);
	return m->c[i].addr + PTM_HDR;
}

static uint64_t ptm_block_size(void *state, uint64_t size)
{
	const struct ptm *m = state;
	uint64_t nb = request2size(size);

	return nb >= m->mmap_threshold ? page_up(nb + PTM_SIZE_SZ) : nb;
}

static uint64_t ptm_map(void *state, uint64_t bytes)
{
	struct ptm *m = state;
	uint64_t len = page_up(bytes ? bytes : 1);
	uint64_t a = vm_map(m, len);

	rec_new(m, a, len, W_MAP);
	return a;
}

static void ptm_unmap(void *state, uint64_t addr, uint64_t bytes)
{
	struct ptm *m = state;
	uint32_t i = tab_get(m, &m->at, addr);

	(void)bytes;
	if (i == NIL || m->c[i].where != W_MAP)
		return;
	vm_unmap(m, addr);
	rec_drop(m, i);
}

static uint64_t heap_bytes(const struct ptm *m)
{
	return m->base ? m->top + m->top_size - m->base : 0;
}

static void ptm_stats(void *state, struct alloc_stats *out)
{
	const struct ptm *m = state;
	uint64_t heap_rss = m->base ? page_up(m->hw - m->base) : 0;

	out->requested = m->requested;
	out->allocated = m->allocated;
	out->footprint = heap_bytes(m) + m->mapped_bytes;
	out->rss = heap_rss + m->mmapped_mem;
	out->blocks = m->blocks;
	out->os_maps = m->os_maps;
	out->os_unmaps = m->os_unmaps;
}

/* What ptm_details emits: mallinfo2()'s fields under their glibc names
 * (malloc/malloc.c 2.36, int_mallinfo), then memsim's own. */
static const struct alloc_counter_def ptm_counters[] = {
	{ "arena", "brk heap", UNIT_BYTES, KIND_FINAL },
	{ "ordblks", "free chunks", UNIT_COUNT, KIND_FINAL },
	{ "smblks", "fastbin chunks", UNIT_COUNT, KIND_FINAL },
	{ "hblks", "mmapped chunks", UNIT_COUNT, KIND_FINAL },
	{ "hblkhd", "in mmapped chunks", UNIT_BYTES, KIND_FINAL },
	{ "fsmblks", "in fastbins", UNIT_BYTES, KIND_FINAL },
	{ "uordblks", "in use", UNIT_BYTES, KIND_FINAL },
	{ "fordblks", "free", UNIT_BYTES, KIND_FINAL },
	{ "keepcost", "top chunk", UNIT_BYTES, KIND_FINAL },
	{ "tcache_chunks", "tcache chunks", UNIT_COUNT, KIND_FINAL },
	{ "tcache_bytes", "in tcache", UNIT_BYTES, KIND_FINAL },
	{ "max_system_mem", "largest brk heap", UNIT_BYTES, KIND_PEAK },
	{ "mmap_threshold", "mmap threshold", UNIT_BYTES, KIND_SETTING },
	{ "trim_threshold", "trim threshold", UNIT_BYTES, KIND_SETTING },
	{ "mapped_bytes", "all mappings", UNIT_BYTES, KIND_FINAL },
};

/* mallinfo2() as int_mallinfo computes it, then memsim's own counters. */
static void ptm_details(void *state, const struct alloc_sink *sink)
{
	const struct ptm *m = state;
	uint64_t avail = m->top_size + m->fast_bytes + m->binned_bytes;

	sink->counter(sink->ctx, "arena", heap_bytes(m));
	sink->counter(sink->ctx, "ordblks", m->nbinned + 1);  /* + top */
	sink->counter(sink->ctx, "smblks", m->nfast);
	sink->counter(sink->ctx, "hblks", m->n_mmaps);
	sink->counter(sink->ctx, "hblkhd", m->mmapped_mem);
	sink->counter(sink->ctx, "fsmblks", m->fast_bytes);
	sink->counter(sink->ctx, "uordblks", heap_bytes(m) - avail);
	sink->counter(sink->ctx, "fordblks", avail);
	sink->counter(sink->ctx, "keepcost", m->top_size);
	sink->counter(sink->ctx, "tcache_chunks", m->ntcache);
	sink->counter(sink->ctx, "tcache_bytes", m->tcache_bytes);
	sink->counter(sink->ctx, "max_system_mem", m->max_system_mem);
	sink->counter(sink->ctx, "mmap_threshold", m->mmap_threshold);
	sink->counter(sink->ctx, "trim_threshold", m->trim_threshold);
	sink->counter(sink->ctx, "mapped_bytes", m->mapped_bytes);
}

/* ---- check ----------------------------------------------------------------- */

static int fail(char *msg, size_t msglen, const char *what, uint64_t x)
{
	snprintf(msg, msglen, "glibc: %s (0x%llx)", what, (unsigned long long)x);
	return -1;
}

/* Bin b: a consistent circular list of chunks of its sizes; a large bin
 * sorted by size, largest first, with one leader per size on a ring. */
static int check_bin(const struct ptm *m, uint32_t b, uint64_t *n, char *msg, size_t msglen)
{
	uint64_t prev_size = UINT64_MAX, steps = 0;

	for (uint32_t i = m->c[b].fd; i != b; i = m->c[i].fd) {
		const struct pch *c = &m->c[i];

		if (++steps > m->nc || c->where != W_BIN || c->bin != b ||
		    m->c[c->fd].bk != i)
			return fail(msg, msglen, "broken bin list", b);
		if (b != PTM_UNSORTED && bin_index(c->size) != b)
			return fail(msg, msglen, "chunk in the wrong bin", c->addr);
		if (b != PTM_UNSORTED && !in_smallbin_range(c->size)) {
			if (c->size > prev_size)
				return fail(msg, msglen, "large bin out of order", c->addr);
			if ((c->size != prev_size) != (c->fdn != NIL))
				return fail(msg, msglen, "size group without one leader", c->addr);
			if (c->fdn != NIL && (m->c[c->fdn].bkn != i || m->c[c->bkn].fdn != i))
				return fail(msg, msglen, "broken skip list", c->addr);
			prev_size = c->size;
		}
		++*n;
	}
	if ((m->c[b].fd != b) != !!(m->nonempty[b >> 6] & (1ull << (b & 63))))
		return fail(msg, msglen, "binmap disagrees", b);
	return 0;
}

/* The singly linked caches: right sizes, counts as recorded. */
static int check_caches(const struct ptm *m, char *msg, size_t msglen)
{
	uint64_t nf = 0, nt = 0;

	for (uint32_t f = 0; f < PTM_NFASTBINS; f++)
		for (uint32_t i = m->fast[f]; i != NIL; i = m->c[i].fd, nf++)
			if (nf > m->nc || m->c[i].where != W_FAST ||
			    fastbin_index(m->c[i].size) != f)
				return fail(msg, msglen, "broken fastbin", f);
	for (uint32_t t = 0; t < PTM_TCACHE_BINS; t++) {
		uint64_t k = 0;

		for (uint32_t i = m->tc[t]; i != NIL; i = m->c[i].fd, k++)
			if (k > m->nc || m->c[i].where != W_TCACHE ||
			    csize2tidx(m->c[i].size) != t)
				return fail(msg, msglen, "broken tcache bin", t);
		if (k != m->tcount[t] || k > m->p.tcache_count)
			return fail(msg, msglen, "tcache count", t);
		nt += k;
	}
	if (nf != m->nfast || nt != m->ntcache)
		return fail(msg, msglen, "cache totals", nf);
	return 0;
}

/* Walks the heap from its start to top: chunks tile it, no two free
 * chunks touch (nor a free chunk and top), the bins hold exactly the
 * free chunks, and the live totals agree. */
static int ptm_check(void *state, char *msg, size_t msglen)
{
	const struct ptm *m = state;
	uint64_t a = m->base, live = 0, alloc = 0, req = 0, nfree = 0, nbinned = 0;
	int prev_free = 0;

	while (m->base && a < m->top) {
		uint32_t i = tab_get(m, &m->at, a);

		if (i == NIL || m->c[i].size < PTM_MINSIZE || m->c[i].size % PTM_ALIGN)
			return fail(msg, msglen, "no chunk at", a);
		const struct pch *c = &m->c[i];
		int is_free = c->where == W_BIN;

		if (is_free && prev_free)
			return fail(msg, msglen, "adjacent free chunks", a);
		if (is_free && tab_get(m, &m->end, a + c->size) != i)
			return fail(msg, msglen, "free chunk not found by its end", a);
		nfree += is_free;
		if (c->where == W_USED) {
			live++;
			alloc += c->size;
			req += c->req;
		}
		prev_free = is_free;
		a += c->size;
	}
	if (m->base && (a != m->top || prev_free || m->top_size < PTM_MINSIZE ||
			(m->top + m->top_size) % ALLOC_PAGE_SIZE))
		return fail(msg, msglen, "heap does not end in a top chunk", a);
	for (uint32_t b = 1; b < PTM_NBINS; b++)
		if (check_bin(m, b, &nbinned, msg, msglen))
			return -1;
	if (nbinned != nfree || nbinned != m->nbinned || m->end.used != nbinned)
		return fail(msg, msglen, "binned chunks", nbinned);
	if (check_caches(m, msg, msglen))
		return -1;
	for (uint32_t i = PTM_NBINS; i < m->nc; i++)
		if (m->c[i].where == W_MMAP) {
			live++;
			alloc += m->c[i].size;
			req += m->c[i].req;
		}
	/* the tcache struct is a live chunk that is no block of the program */
	if (m->tcache_on) {
		live--;
		alloc -= request2size(PTM_TCACHE_STRUCT);
	}
	if (live != m->blocks || alloc != m->allocated || req != m->requested)
		return fail(msg, msglen, "live totals disagree with chunks", live);
	return 0;
}

const struct alloc_policy alloc_ptmalloc = {
	.name = "glibc",
	.summary = "glibc 2.36 malloc, main arena, exact: tcache, fastbins, unsorted/small/large bins, brk, mmap",
	.knobs = ptm_knobs,
	.nknobs = sizeof ptm_knobs / sizeof ptm_knobs[0],
	.params_size = sizeof(struct ptm_params),
	.defaults = &ptm_defaults,
	.validate = ptm_validate,
	.create = ptm_create,
	.destroy = ptm_destroy,
	.alloc = ptm_alloc,
	.resize = ptm_resize,
	.free = ptm_free,
	.block_size = ptm_block_size,
	.stats = ptm_stats,
	.details = ptm_details,
	.counters = ptm_counters,
	.ncounters = sizeof ptm_counters / sizeof ptm_counters[0],
	.check = ptm_check,
	.map = ptm_map,
	.unmap = ptm_unmap,
};
