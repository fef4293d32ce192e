/*
 * alloc_pymalloc.c - CPython's small-object allocator (obmalloc).
 *
 * One model, with knobs, of Objects/obmalloc.c from Python 2.4 to 3.13 on
 * 64-bit Linux (read at 3.14-dev; 3.12/3.13 constants from
 * Include/internal/pycore_obmalloc.h; older behaviour from the sources'
 * history and measured with sys._debugmallocstats() on 3.6 .. 3.13).
 * docs/policies.md ("pymalloc") gives each knob per version with sources.
 *
 *  1. A request of 1 .. small_request_threshold bytes is served from size
 *     class (n - 1) / alignment, whose blocks are (class + 1) * alignment
 *     bytes. Anything else, size 0 included (CPython redirects it to
 *     malloc(1)), goes to the lower (system) allocator.
 *  2. Blocks live in pools of pool_size bytes; a pool starts with a
 *     pool_header (POOL_OVERHEAD) and holds (pool_size - header) / size
 *     blocks of one class. Blocks are carved lazily: a pool's free list
 *     is LIFO and a new block is carved only when it runs dry.
 *  3. usedpools[class] lists pools with a free block; allocation takes
 *     the head. A pool that fills leaves the list; a block freed in a full
 *     pool puts the pool back at the head; a pool that empties goes to its
 *     arena's free pools (LIFO).
 *  4. Pools come from arenas of arena_size bytes obtained from the lower
 *     allocator (malloc: alloc(); mmap: map()). When the arena base is not
 *     pool-aligned its first partial pool is skipped (one pool lost).
 *  5. arena_selection "fullest-first" (2.5+): usable arenas are kept sorted
 *     by free pools, fewest first; new pools come from the head. An arena
 *     that becomes wholly free is returned (arena_release "empty", 2.5 ..
 *     3.8) unless it is the last in that list ("keep-one", 3.9+,
 *     bpo-37257), or never ("never").
 *     "current-arena" (2.3/2.4): empty pools go to one global LIFO list;
 *     new pools come from it, then from the newest arena, then a new arena.
 *  6. realloc keeps a block in place when the new size fits it and
 *     4 * new > 3 * block; otherwise allocate-copy-free. Blocks from the
 *     lower allocator are resized there (size 0 becomes 1).
 *
 * RSS: for mmap arenas this model tracks the pages it writes (pool headers,
 * handed-out blocks in full, free-list links of carved blocks) per arena;
 * the glibc model counts nothing for map() regions. Arenas from alloc()
 * are counted by the lower allocator's rule instead (docs/metrics.md).
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define NONE32  UINT32_MAX
#define USED32  (UINT32_MAX - 1)

enum { SRC_MALLOC, SRC_MMAP };
enum { REL_NEVER, REL_EMPTY, REL_KEEP_ONE };
enum { SEL_CURRENT, SEL_FULLEST };
enum { ALN_ADDRESS, ALN_ALIGNED, ALN_UNALIGNED };

struct pymalloc_params {
	uint64_t small_request_threshold;   /* bytes */
	uint64_t alignment;                 /* bytes */
	uint64_t pool_size;                 /* bytes */
	uint64_t arena_size;                /* bytes */
	uint64_t pool_header;               /* bytes (POOL_OVERHEAD) */
	int arena_source;                   /* SRC_* */
	int arena_release;                  /* REL_* */
	int arena_selection;                /* SEL_* */
	int arena_alignment;                /* ALN_* */
};

struct arena;

struct pool {
	struct arena *arena;
	struct pool *next, *prev;   /* usedpools ring, or free-pool chain */
	uint32_t count;             /* blocks in use */
	uint32_t szidx;             /* size class; NONE32 before first use */
	uint32_t ncarved;           /* blocks carved so far */
	uint32_t nblocks;           /* blocks the pool holds in its class */
	uint32_t freehead;          /* block index, NONE32 if the list is dry */
	uint32_t *link;             /* per block: next free, NONE32, USED32 */
	uint32_t linkcap;
};

struct arena {
	uint64_t base;              /* as returned by the lower allocator */
	uint64_t first_pool;        /* address of pool 0 */
	uint64_t lower_alloc;       /* bytes lower's `allocated` grew by */
	uint32_t ntotal;            /* usable pools */
	uint32_t ncarved;           /* pools handed out at least once */
	uint32_t nfree;             /* never-carved + cached free pools */
	struct pool *freepools;     /* LIFO (fullest-first mode) */
	struct arena *next, *prev;  /* usable_arenas, sorted by nfree */
	struct pool *pools;         /* ntotal records */
	uint64_t *touched;          /* page bitmap (mmap source) */
	uint64_t ntouched;          /* pages */
};

struct pymalloc {
	struct pymalloc_params p;
	const struct alloc_inst *lower;
	uint32_t nclasses;
	struct pool *used;          /* nclasses ring sentinels */

	struct arena **arenas;      /* sorted by base */
	uint64_t *bases;            /* arenas[i]->base, for arena_of: a
				     * search that chases no pointers */
	size_t narenas, caparenas;
	struct arena *usable;       /* fullest-first list head */
	struct arena *current;      /* current-arena mode */
	struct pool *gfreepools;    /* current-arena mode: global LIFO */

	uint64_t ntimes_arena_allocated, narenas_highwater;
	uint64_t requested, allocated, blocks;  /* pymalloc blocks */
	uint64_t nzero;             /* live size-0 requests sent down as 1 */
	uint64_t touched_pages;     /* over all arenas */
	uint64_t arena_lower_alloc; /* sum of lower_alloc (malloc source) */
};

static const char *const src_choices[] = { "malloc", "mmap", NULL };
static const char *const rel_choices[] = { "never", "empty", "keep-one", NULL };
static const char *const sel_choices[] = { "current-arena", "fullest-first", NULL };
static const char *const aln_choices[] = { "address", "aligned", "unaligned", NULL };

/* CPython 3.11 on 64-bit Linux. */
static const struct pymalloc_params pymalloc_defaults = {
	.small_request_threshold = 512,
	.alignment = 16,
	.pool_size = 16384,
	.arena_size = 1048576,
	.pool_header = 48,
	.arena_source = SRC_MMAP,
	.arena_release = REL_KEEP_ONE,
	.arena_selection = SEL_FULLEST,
	.arena_alignment = ALN_UNALIGNED,
};

#define PM_OFF(f) offsetof(struct pymalloc_params, f)
static const struct knob pymalloc_knobs[] = {
	{ .name = "small_request_threshold", .kind = KNOB_UINT,
	  .offset = PM_OFF(small_request_threshold), .min = 8, .max = 65536,
	  .unit = "bytes", .doc = "largest request served from pools (SMALL_REQUEST_THRESHOLD)" },
	{ .name = "alignment", .kind = KNOB_UINT, .offset = PM_OFF(alignment),
	  .min = 8, .max = 4096, .unit = "bytes",
	  .doc = "block alignment and size-class spacing (ALIGNMENT)" },
	{ .name = "pool_size", .kind = KNOB_UINT, .offset = PM_OFF(pool_size),
	  .min = 1024, .max = 1u << 24, .unit = "bytes", .doc = "pool size (POOL_SIZE)" },
	{ .name = "arena_size", .kind = KNOB_UINT, .offset = PM_OFF(arena_size),
	  .min = 4096, .max = 1u << 30, .unit = "bytes", .doc = "arena size (ARENA_SIZE)" },
	{ .name = "pool_header", .kind = KNOB_UINT, .offset = PM_OFF(pool_header),
	  .min = 8, .max = 4096, .unit = "bytes",
	  .doc = "pool header rounded up to the alignment (POOL_OVERHEAD)" },
	{ .name = "arena_source", .kind = KNOB_ENUM, .offset = PM_OFF(arena_source),
	  .choices = src_choices, .doc = "arenas from malloc (2.x .. 3.3) or mmap (3.4+)" },
	{ .name = "arena_release", .kind = KNOB_ENUM, .offset = PM_OFF(arena_release),
	  .choices = rel_choices,
	  .doc = "free a wholly free arena: never (<= 2.4), empty (2.5 .. 3.8), keep-one (3.9+)" },
	{ .name = "arena_selection", .kind = KNOB_ENUM, .offset = PM_OFF(arena_selection),
	  .choices = sel_choices,
	  .doc = "pools from the newest arena (<= 2.4) or the arena with fewest free pools (2.5+)" },
	{ .name = "arena_alignment", .kind = KNOB_ENUM, .offset = PM_OFF(arena_alignment),
	  .choices = aln_choices,
	  .doc = "lose the first pool if the base is not pool-aligned (address), never, or always" },
};

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int pymalloc_validate(const void *params, char *msg, size_t msglen)
{
	const struct pymalloc_params *p = params;
	const char *why = NULL;

	if (!is_pow2(p->alignment))
		why = "alignment must be a power of two";
	else if (!is_pow2(p->pool_size))
		why = "pool_size must be a power of two";
	else if (!is_pow2(p->arena_size))
		why = "arena_size must be a power of two";
	else if (p->arena_size < 4 * p->pool_size)
		why = "arena_size must hold at least 4 pools";
	else if (p->pool_header % p->alignment)
		why = "pool_header must be a multiple of alignment";
	else if (p->small_request_threshold % p->alignment)
		why = "small_request_threshold must be a multiple of alignment";
	else if (p->pool_header >= p->pool_size ||
		 (p->pool_size - p->pool_header) / p->small_request_threshold < 2)
		why = "a pool must hold at least 2 blocks of the largest class";
	else if (p->arena_selection == SEL_CURRENT && p->arena_release != REL_NEVER)
		why = "arena_selection current-arena requires arena_release never "
		      "(Python 2.4 never freed arenas)";
	if (!why)
		return 0;
	snprintf(msg, msglen, "pymalloc: %s", why);
	return -1;
}

/* ---- geometry ------------------------------------------------------------- */

static uint64_t class_size(const struct pymalloc *m, uint32_t szidx)
{
	return (uint64_t)(szidx + 1) * m->p.alignment;
}

/* The size class of a small request (size 1 .. the threshold). */
static uint32_t class_of(const struct pymalloc *m, uint64_t size)
{
	return (uint32_t)((size - 1) / m->p.alignment);
}

static uint32_t numblocks(const struct pymalloc *m, uint32_t szidx)
{
	return (uint32_t)((m->p.pool_size - m->p.pool_header) / class_size(m, szidx));
}

static uint64_t pool_addr(const struct pymalloc *m, const struct pool *pl)
{
	const struct arena *a = pl->arena;

	return a->first_pool + (uint64_t)(pl - a->pools) * m->p.pool_size;
}

static uint64_t block_addr(const struct pymalloc *m, const struct pool *pl,
			   uint32_t i)
{
	return pool_addr(m, pl) + m->p.pool_header + i * class_size(m, pl->szidx);
}

/* Marks [addr, addr + len) of arena a as written (mmap arenas only). */
static void touch(struct pymalloc *m, struct arena *a, uint64_t addr,
		  uint64_t len)
{
	if (!a->touched || !len)
		return;
	uint64_t page0 = a->base / ALLOC_PAGE_SIZE;
	uint64_t lo = addr / ALLOC_PAGE_SIZE - page0;
	uint64_t hi = (addr + len - 1) / ALLOC_PAGE_SIZE - page0;

	for (uint64_t pg = lo; pg <= hi; pg++) {
		uint64_t bit = 1ull << (pg % 64);

		if (!(a->touched[pg / 64] & bit)) {
			a->touched[pg / 64] |= bit;
			a->ntouched++;
			m->touched_pages++;
		}
	}
}

/* ---- arenas ----------------------------------------------------------------- */

/*
 * The arena holding addr, or NULL. A binary search over the sorted bases
 * whose steps are conditional moves, not branches: the addresses freed
 * are random, so a branch per step would be mispredicted half the time.
 */
static struct arena *arena_of(const struct pymalloc *m, uint64_t addr)
{
	const uint64_t *b = m->bases;
	size_t n = m->narenas;

	if (n == 0 || b[0] > addr)
		return NULL;
	while (n > 1) {
		size_t half = n / 2;

		b = b[half] <= addr ? b + half : b;
		n -= half;
	}
	/* b is the last base <= addr. */
	if (addr - *b >= m->p.arena_size)
		return NULL;
	return m->arenas[b - m->bases];
}

/* new_arena(): gets arena_size bytes from below and lays out its pools;
 * NULL, with nothing changed, when the lower allocator is out of memory
 * (new_arena returns NULL when mmap fails: Objects/obmalloc.c). */
static struct arena *arena_new(struct pymalloc *m)
{
	const struct alloc_inst *lo = m->lower;
	struct arena *a;
	uint64_t excess, npools = m->p.arena_size / m->p.pool_size, base;
	struct alloc_stats before = { 0 }, after;

	if (m->p.arena_source == SRC_MMAP) {
		base = lo->policy->map(lo->state, m->p.arena_size);
	} else {
		lo->policy->stats(lo->state, &before);
		base = lo->policy->alloc(lo->state, m->p.arena_size);
	}
	if (base == ALLOC_OOM)
		return NULL;
	a = xcalloc(1, sizeof *a);
	a->base = base;
	if (m->p.arena_source == SRC_MMAP) {
		uint64_t pages = (m->p.arena_size + 2 * ALLOC_PAGE_SIZE) / ALLOC_PAGE_SIZE;

		a->touched = xcalloc((size_t)((pages + 63) / 64), sizeof *a->touched);
	} else {
		lo->policy->stats(lo->state, &after);
		a->lower_alloc = after.allocated - before.allocated;
		m->arena_lower_alloc += a->lower_alloc;
	}
	excess = a->base % m->p.pool_size;
	a->first_pool = a->base;
	if (m->p.arena_alignment == ALN_ADDRESS) {
		if (excess) {
			npools--;
			a->first_pool += m->p.pool_size - excess;
		}
	} else if (m->p.arena_alignment == ALN_UNALIGNED) {
		npools--;
		a->first_pool += m->p.pool_size - excess;
	}
	a->ntotal = (uint32_t)npools;
	a->nfree = a->ntotal;
	a->pools = xcalloc(a->ntotal, sizeof *a->pools);
	for (uint32_t i = 0; i < a->ntotal; i++) {
		a->pools[i].arena = a;
		a->pools[i].szidx = NONE32;
	}

	if (m->narenas == m->caparenas) {
		m->caparenas = m->caparenas ? m->caparenas * 2 : 16;
		m->arenas = xreallocarray(m->arenas, m->caparenas, sizeof *m->arenas);
		m->bases = xreallocarray(m->bases, m->caparenas, sizeof *m->bases);
	}
	size_t k = m->narenas;

	while (k > 0 && m->bases[k - 1] > a->base)
		k--;
	memmove(&m->arenas[k + 1], &m->arenas[k], (m->narenas - k) * sizeof *m->arenas);
	memmove(&m->bases[k + 1], &m->bases[k], (m->narenas - k) * sizeof *m->bases);
	m->arenas[k] = a;
	m->bases[k] = a->base;
	m->narenas++;
	m->ntimes_arena_allocated++;
	if (m->narenas > m->narenas_highwater)
		m->narenas_highwater = m->narenas;
	return a;
}

static void arena_release(struct pymalloc *m, struct arena *a)
{
	const struct alloc_inst *lo = m->lower;
	size_t k = 0;

	while (m->arenas[k] != a)
		k++;
	memmove(&m->arenas[k], &m->arenas[k + 1], (m->narenas - k - 1) * sizeof *m->arenas);
	memmove(&m->bases[k], &m->bases[k + 1], (m->narenas - k - 1) * sizeof *m->bases);
	m->narenas--;
	if (m->p.arena_source == SRC_MMAP)
		lo->policy->unmap(lo->state, a->base, m->p.arena_size);
	else
		lo->policy->free(lo->state, a->base, m->p.arena_size);
	m->touched_pages -= a->ntouched;
	m->arena_lower_alloc -= a->lower_alloc;
	for (uint32_t i = 0; i < a->ntotal; i++)
		free(a->pools[i].link);
	free(a->pools);
	free(a->touched);
	free(a);
}

static void list_unlink(struct pymalloc *m, struct arena *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		m->usable = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
}

/* ---- pools ------------------------------------------------------------------ */

static void ring_push_head(struct pool *sentinel, struct pool *pl)
{
	pl->next = sentinel->next;
	pl->prev = sentinel;
	sentinel->next->prev = pl;
	sentinel->next = pl;
}

static void ring_unlink(struct pool *pl)
{
	pl->prev->next = pl->next;
	pl->next->prev = pl->prev;
	pl->next = pl->prev = NULL;
}

/* A free pool for a new size class (allocate_from_new_pool's first half),
 * or NULL when no arena can be had. */
static struct pool *take_free_pool(struct pymalloc *m)
{
	struct arena *a;
	struct pool *pl;

	if (m->p.arena_selection == SEL_CURRENT) {
		if (m->gfreepools) {
			pl = m->gfreepools;
			m->gfreepools = pl->next;
			pl->arena->nfree--;
			return pl;
		}
		a = m->current;
		if (!a || a->ncarved == a->ntotal) {
			if (!(a = arena_new(m)))
				return NULL;
			m->current = a;
		}
		a->nfree--;
		return &a->pools[a->ncarved++];
	}
	if (!m->usable && !(m->usable = arena_new(m)))
		return NULL;
	a = m->usable;
	if (a->freepools) {
		pl = a->freepools;
		a->freepools = pl->next;
	} else {
		pl = &a->pools[a->ncarved++];
	}
	/* The head has the fewest free pools, so it stays first until full. */
	if (--a->nfree == 0)
		list_unlink(m, a);
	return pl;
}

/* Hands out a block of class szidx (pymalloc_alloc), or ALLOC_OOM. */
static uint64_t small_alloc(struct pymalloc *m, uint32_t szidx)
{
	struct pool *sent = &m->used[szidx];
	struct pool *pl = sent->next;
	uint32_t b;
	uint64_t size = class_size(m, szidx);

	if (pl != sent) {
		b = pl->freehead;
		pl->freehead = pl->link[b];
		if (pl->freehead == NONE32) {
			if (pl->ncarved < pl->nblocks) {
				/* pymalloc_pool_extend: carve the next block. */
				uint32_t c = pl->ncarved++;

				pl->link[c] = NONE32;
				pl->freehead = c;
				touch(m, pl->arena, block_addr(m, pl, c), 8);
			} else {
				ring_unlink(pl);        /* pool is full */
			}
		}
	} else {
		if (!(pl = take_free_pool(m)))
			return ALLOC_OOM;
		ring_push_head(sent, pl);
		if (pl->szidx != szidx) {
			/* Initialise: header, first block out, second on the list. */
			pl->szidx = szidx;
			pl->nblocks = numblocks(m, szidx);
			if (pl->linkcap < pl->nblocks) {
				pl->link = xreallocarray(pl->link, pl->nblocks, sizeof *pl->link);
				pl->linkcap = pl->nblocks;
			}
			pl->ncarved = 2;
			pl->link[1] = NONE32;
			pl->freehead = 1;
			b = 0;
			touch(m, pl->arena, pool_addr(m, pl), m->p.pool_header);
			touch(m, pl->arena, block_addr(m, pl, 1), 8);
		} else {
			b = pl->freehead;
			pl->freehead = pl->link[b];
		}
	}
	pl->count++;
	pl->link[b] = USED32;
	touch(m, pl->arena, block_addr(m, pl, b), size);
	return block_addr(m, pl, b);
}

/* insert_to_freepool's arena management for fullest-first mode. */
static void pool_emptied(struct pymalloc *m, struct pool *pl)
{
	struct arena *a = pl->arena;

	if (m->p.arena_selection == SEL_CURRENT) {
		pl->next = m->gfreepools;
		m->gfreepools = pl;
		a->nfree++;
		return;
	}
	pl->next = a->freepools;
	a->freepools = pl;
	uint32_t nf = ++a->nfree;

	if (nf == a->ntotal &&
	    (m->p.arena_release == REL_EMPTY ||
	     (m->p.arena_release == REL_KEEP_ONE && a->next != NULL))) {
		list_unlink(m, a);
		arena_release(m, a);
		return;
	}
	if (nf == 1) {
		a->prev = NULL;
		a->next = m->usable;
		if (m->usable)
			m->usable->prev = a;
		m->usable = a;
		return;
	}
	/* Keep the list sorted: slide right past arenas with fewer free pools
	 * (stops before the first with as many; bpo-37029 only made this
	 * constant-time, the resulting order is the same). */
	if (!a->next || a->next->nfree >= nf)
		return;
	struct arena *after = a->next;

	list_unlink(m, a);
	while (after->next && after->next->nfree < nf)
		after = after->next;
	a->prev = after;
	a->next = after->next;
	if (a->next)
		a->next->prev = a;
	after->next = a;
}

/* The carved pool whose span holds addr, or NULL (addr is not ours). */
static struct pool *pool_of(const struct pymalloc *m, uint64_t addr)
{
	const struct arena *a = arena_of(m, addr);

	if (!a || addr < a->first_pool)
		return NULL;
	uint64_t pi = (addr - a->first_pool) / m->p.pool_size;

	return pi < a->ncarved ? &a->pools[pi] : NULL;
}

/* Returns the block at addr to its pool (pymalloc_free); 0 if not ours. */
static int small_free(struct pymalloc *m, uint64_t addr)
{
	struct pool *pl = pool_of(m, addr);

	if (!pl || pl->count == 0)
		return 0;
	uint64_t off = addr - pool_addr(m, pl);

	if (off < m->p.pool_header)
		return 0;
	uint64_t size = class_size(m, pl->szidx);
	uint64_t bi = (off - m->p.pool_header) / size;

	if ((off - m->p.pool_header) % size || bi >= pl->ncarved ||
	    pl->link[bi] != USED32)
		return 0;
	uint32_t lastfree = pl->freehead;

	pl->link[bi] = lastfree;
	pl->freehead = (uint32_t)bi;
	pl->count--;
	m->allocated -= size;
	m->blocks--;
	if (lastfree == NONE32) {
		/* The pool was full: back at the head of usedpools. */
		ring_push_head(&m->used[pl->szidx], pl);
		if (pl->count)
			return 1;
	} else if (pl->count) {
		return 1;
	}
	ring_unlink(pl);
	pool_emptied(m, pl);
	return 1;
}

/* ---- the interface ----------------------------------------------------------- */

static void *pymalloc_create(const void *params, const struct alloc_inst *lower)
{
	struct pymalloc *m;

	if (!lower)
		return NULL;    /* pymalloc always sits on a system allocator */
	m = xcalloc(1, sizeof *m);
	memcpy(&m->p, params, sizeof m->p);
	m->lower = lower;
	m->nclasses = (uint32_t)(m->p.small_request_threshold / m->p.alignment);
	m->used = xcalloc(m->nclasses, sizeof *m->used);
	for (uint32_t i = 0; i < m->nclasses; i++)
		m->used[i].next = m->used[i].prev = &m->used[i];
	return m;
}

static void pymalloc_destroy(void *state)
{
	struct pymalloc *m = state;

	if (!m)
		return;
	for (size_t i = 0; i < m->narenas; i++) {
		struct arena *a = m->arenas[i];

		for (uint32_t k = 0; k < a->ntotal; k++)
			free(a->pools[k].link);
		free(a->pools);
		free(a->touched);
		free(a);
	}
	free(m->arenas);
	free(m->bases);
	free(m->used);
	free(m);
}

static int is_small(const struct pymalloc *m, uint64_t size)
{
	return size >= 1 && size <= m->p.small_request_threshold;
}

static uint64_t pymalloc_alloc(void *state, uint64_t size)
{
	struct pymalloc *m = state;
	const struct alloc_inst *lo = m->lower;

	if (!is_small(m, size)) {
		/* PyMem_RawMalloc(0) asks malloc for 1 byte. */
		uint64_t addr = lo->policy->alloc(lo->state, size ? size : 1);

		if (size == 0 && addr != ALLOC_OOM)
			m->nzero++;
		return addr;
	}
	uint32_t szidx = class_of(m, size);
	uint64_t addr = small_alloc(m, szidx);

	if (addr == ALLOC_OOM)
		return ALLOC_OOM;
	m->requested += size;
	m->allocated += class_size(m, szidx);
	m->blocks++;
	return addr;
}

static void pymalloc_free(void *state, uint64_t addr, uint64_t size)
{
	struct pymalloc *m = state;
	const struct alloc_inst *lo = m->lower;

	if (small_free(m, addr)) {
		m->requested -= size;
		return;
	}
	if (size == 0 && m->nzero)
		m->nzero--;
	lo->policy->free(lo->state, addr, size ? size : 1);
}

/*
 * The free/resize hint (alloc.h). A small block's free finds its arena
 * (arena_of: a binary search over arena headers that stay cached), reads
 * its pool record, then the block's link word in the pool's link array:
 * two dependent cache misses. The hint loads the pool record, the one the
 * address alone locates; the link word needs the record first, and the
 * one-stage protocol (heap.h, "Prefetching") leaves it to the free.
 * Blocks of the system allocator get its hint.
 */
static void pymalloc_prefetch(void *state, uint64_t addr, uint64_t size)
{
	const struct pymalloc *m = state;
	const struct alloc_inst *lo = m->lower;

	if (!is_small(m, size)) {
		if (lo->policy->prefetch)
			lo->policy->prefetch(lo->state, addr, size ? size : 1);
		return;
	}
	const struct pool *pl = pool_of(m, addr);

	if (pl)
		__builtin_prefetch(pl);
}

static uint64_t pymalloc_resize(void *state, uint64_t addr, uint64_t old_size,
				uint64_t new_size)
{
	struct pymalloc *m = state;
	const struct alloc_inst *lo = m->lower;
	struct arena *a = arena_of(m, addr);

	if (a && addr >= a->first_pool) {
		/* Ours: stay when it fits and at most a quarter is shaved off. */
		struct pool *pl = &a->pools[(addr - a->first_pool) / m->p.pool_size];
		uint64_t size = class_size(m, pl->szidx);

		if (new_size <= size && 4 * new_size > 3 * size) {
			m->requested += new_size - old_size;
			return addr;
		}
		uint64_t n = pymalloc_alloc(state, new_size);

		if (n != ALLOC_OOM)     /* else the block stays (alloc.h) */
			pymalloc_free(state, addr, old_size);
		return n;
	}
	/* The system's block stays with the system, even when it shrinks
	 * below the threshold (bug 1185883, 2.5+). */
	uint64_t n = lo->policy->resize(lo->state, addr, old_size ? old_size : 1,
					new_size ? new_size : 1);

	if (n == ALLOC_OOM)
		return ALLOC_OOM;
	if (old_size == 0 && m->nzero)
		m->nzero--;
	if (new_size == 0)
		m->nzero++;
	return n;
}

static uint64_t pymalloc_block_size(void *state, uint64_t size)
{
	struct pymalloc *m = state;
	const struct alloc_inst *lo = m->lower;

	if (is_small(m, size))
		return class_size(m, class_of(m, size));
	return lo->policy->block_size(lo->state, size ? size : 1);
}

static void pymalloc_stats(void *state, struct alloc_stats *out)
{
	const struct pymalloc *m = state;
	const struct alloc_inst *lo = m->lower;

	/* The lower allocator's totals, adjusted in place: copying them
	 * through a local struct stalled on store forwarding (measure()
	 * calls this after most events). */
	lo->policy->stats(lo->state, out);
	out->requested += m->requested - m->nzero;
	out->allocated += m->allocated;
	out->blocks += m->blocks;
	if (m->p.arena_source == SRC_MALLOC) {
		/* The arenas are blocks of the lower allocator, not of ours. */
		out->requested -= m->narenas * m->p.arena_size;
		out->allocated -= m->arena_lower_alloc;
		out->blocks -= m->narenas;
	} else {
		out->rss += m->touched_pages * ALLOC_PAGE_SIZE;
	}
}

/* The lines of _PyObject_DebugMallocStats() and its size-class table. */
static const struct alloc_counter_def pymalloc_counters[] = {
	{ "arenas_allocated_total", "arenas obtained", UNIT_COUNT, KIND_TOTAL },
	{ "arenas_reclaimed", "arenas released", UNIT_COUNT, KIND_TOTAL },
	{ "arenas_highwater", "most arenas at once", UNIT_COUNT, KIND_PEAK },
	{ "arenas_allocated_current", "arenas", UNIT_COUNT, KIND_FINAL },
	{ "arena_bytes", "arena bytes", UNIT_BYTES, KIND_FINAL },
	{ "bytes_in_allocated_blocks", "in allocated blocks", UNIT_BYTES, KIND_FINAL },
	{ "bytes_in_available_blocks", "in available blocks", UNIT_BYTES, KIND_FINAL },
	{ "unused_pools", "unused pools", UNIT_COUNT, KIND_FINAL },
	{ "unused_pool_bytes", "in unused pools", UNIT_BYTES, KIND_FINAL },
	{ "bytes_lost_to_pool_headers", "pool headers", UNIT_BYTES, KIND_FINAL },
	{ "bytes_lost_to_quantization", "quantization", UNIT_BYTES, KIND_FINAL },
	{ "bytes_lost_to_arena_alignment", "arena alignment", UNIT_BYTES, KIND_FINAL },
	{ "total", "total", UNIT_BYTES, KIND_FINAL },
	{ "size_classes.size_class", "size class", UNIT_COUNT, KIND_SETTING },
	{ "size_classes.size", "block size", UNIT_BYTES, KIND_SETTING },
	{ "size_classes.pools", "pools", UNIT_COUNT, KIND_FINAL },
	{ "size_classes.blocks_in_use", "blocks in use", UNIT_COUNT, KIND_FINAL },
	{ "size_classes.available_blocks", "available blocks", UNIT_COUNT, KIND_FINAL },
};

/* What _PyObject_DebugMallocStats() prints, by its formulas. */
static void pymalloc_details(void *state, const struct alloc_sink *sink)
{
	const struct pymalloc *m = state;
	uint32_t nc = m->nclasses;
	uint64_t *npools = xcalloc(nc, sizeof *npools);
	uint64_t *nblocks = xcalloc(nc, sizeof *nblocks);
	uint64_t *nfreeb = xcalloc(nc, sizeof *nfreeb);
	uint64_t unused = 0, align_lost = 0;
	uint64_t allocated = 0, available = 0, headers = 0, quant = 0;
	uint64_t rows = 0;

	for (size_t i = 0; i < m->narenas; i++) {
		const struct arena *a = m->arenas[i];

		unused += a->nfree;
		align_lost += m->p.arena_size - (uint64_t)a->ntotal * m->p.pool_size;
		for (uint32_t k = 0; k < a->ncarved; k++) {
			const struct pool *pl = &a->pools[k];

			if (pl->count == 0)
				continue;
			npools[pl->szidx]++;
			nblocks[pl->szidx] += pl->count;
			nfreeb[pl->szidx] += numblocks(m, pl->szidx) - pl->count;
		}
	}
	for (uint32_t c = 0; c < nc; c++)
		rows += npools[c] != 0;
	uint64_t *cells = xcalloc((size_t)(rows ? rows : 1) * 5, sizeof *cells);
	uint64_t r = 0;

	for (uint32_t c = 0; c < nc; c++) {
		uint64_t size = class_size(m, c);

		if (!npools[c])
			continue;
		cells[r * 5 + 0] = c;
		cells[r * 5 + 1] = size;
		cells[r * 5 + 2] = npools[c];
		cells[r * 5 + 3] = nblocks[c];
		cells[r * 5 + 4] = nfreeb[c];
		r++;
		allocated += nblocks[c] * size;
		available += nfreeb[c] * size;
		headers += npools[c] * m->p.pool_header;
		quant += npools[c] * ((m->p.pool_size - m->p.pool_header) % size);
	}
	static const char *const cols[] = {
		"size_class", "size", "pools", "blocks_in_use", "available_blocks",
	};

	sink->counter(sink->ctx, "arenas_allocated_total", m->ntimes_arena_allocated);
	sink->counter(sink->ctx, "arenas_reclaimed", m->ntimes_arena_allocated - m->narenas);
	sink->counter(sink->ctx, "arenas_highwater", m->narenas_highwater);
	sink->counter(sink->ctx, "arenas_allocated_current", m->narenas);
	sink->counter(sink->ctx, "arena_bytes", m->narenas * m->p.arena_size);
	sink->counter(sink->ctx, "bytes_in_allocated_blocks", allocated);
	sink->counter(sink->ctx, "bytes_in_available_blocks", available);
	sink->counter(sink->ctx, "unused_pools", unused);
	sink->counter(sink->ctx, "unused_pool_bytes", unused * m->p.pool_size);
	sink->counter(sink->ctx, "bytes_lost_to_pool_headers", headers);
	sink->counter(sink->ctx, "bytes_lost_to_quantization", quant);
	sink->counter(sink->ctx, "bytes_lost_to_arena_alignment", align_lost);
	sink->counter(sink->ctx, "total", allocated + available +
		      unused * m->p.pool_size + headers + quant + align_lost);
	if (sink->table)
		sink->table(sink->ctx, "size_classes", cols, 5, cells, (size_t)rows);
	free(cells);
	free(npools);
	free(nblocks);
	free(nfreeb);
}

static int fail(char *msg, size_t msglen, const char *what, uint64_t a, uint64_t b)
{
	snprintf(msg, msglen, "pymalloc: %s (%llu vs %llu)", what,
		 (unsigned long long)a, (unsigned long long)b);
	return -1;
}

/* Counts agree with lists; a block is either on a free list or used. */
static int pymalloc_check(void *state, char *msg, size_t msglen)
{
	const struct pymalloc *m = state;
	uint64_t blocks = 0, bytes = 0;

	for (size_t i = 0; i < m->narenas; i++) {
		const struct arena *a = m->arenas[i];
		uint64_t cached = 0, touched = 0;

		if (i && m->arenas[i - 1]->base + m->p.arena_size > a->base)
			return fail(msg, msglen, "arenas overlap", i, 0);
		if (m->bases[i] != a->base)
			return fail(msg, msglen, "arena base index stale", i, m->bases[i]);
		for (const struct pool *pl = a->freepools; pl; pl = pl->next)
			cached++;
		for (const struct pool *pl = m->gfreepools; pl; pl = pl->next)
			cached += pl->arena == a;
		if (a->nfree != a->ntotal - a->ncarved + cached)
			return fail(msg, msglen, "arena free pools", a->nfree,
				    a->ntotal - a->ncarved + cached);
		for (uint32_t k = 0; k < a->ncarved; k++) {
			const struct pool *pl = &a->pools[k];
			uint64_t onlist = 0, used = 0;

			if (pl->szidx == NONE32)
				continue;
			for (uint32_t b = pl->freehead; b != NONE32; b = pl->link[b]) {
				if (b >= pl->ncarved || pl->link[b] == USED32 ||
				    ++onlist > pl->ncarved)
					return fail(msg, msglen, "bad free list", k, b);
			}
			for (uint32_t b = 0; b < pl->ncarved; b++)
				used += pl->link[b] == USED32;
			if (used != pl->count || used + onlist != pl->ncarved)
				return fail(msg, msglen, "pool count", used, pl->count);
			blocks += used;
			bytes += used * class_size(m, pl->szidx);
		}
		if (a->touched) {
			uint64_t words = (m->p.arena_size + 2 * ALLOC_PAGE_SIZE) /
					 ALLOC_PAGE_SIZE / 64 + 1;

			for (uint64_t w = 0; w < words; w++)
				touched += (uint64_t)__builtin_popcountll(a->touched[w]);
			if (touched != a->ntouched)
				return fail(msg, msglen, "touched pages", touched, a->ntouched);
		}
	}
	if (blocks != m->blocks || bytes != m->allocated)
		return fail(msg, msglen, "live blocks", blocks, m->blocks);
	/* usable_arenas is sorted by free pools and holds exactly the arenas
	 * with a free pool. */
	if (m->p.arena_selection == SEL_FULLEST) {
		uint64_t n = 0, want = 0;

		for (const struct arena *a = m->usable; a; a = a->next) {
			n++;
			if (a->nfree == 0 || (a->next && a->next->nfree < a->nfree))
				return fail(msg, msglen, "usable_arenas order", a->nfree,
					    a->next ? a->next->nfree : 0);
		}
		for (size_t i = 0; i < m->narenas; i++)
			want += m->arenas[i]->nfree > 0;
		if (n != want)
			return fail(msg, msglen, "usable_arenas length", n, want);
	}
	return m->lower->policy->check ? m->lower->policy->check(m->lower->state, msg, msglen) : 0;
}

/* A pool is in use while it holds a block: nfree counts the arena's
 * never-carved and emptied pools, the rest hold at least one block. */
static size_t pymalloc_occupancy(void *state, uint32_t *in_use, uint32_t *usable,
				 size_t max)
{
	const struct pymalloc *m = state;

	for (size_t i = 0; i < m->narenas && i < max; i++) {
		in_use[i] = m->arenas[i]->ntotal - m->arenas[i]->nfree;
		usable[i] = m->arenas[i]->ntotal;
	}
	return m->narenas;
}

const struct alloc_policy alloc_pymalloc = {
	.name = "pymalloc",
	.summary = "CPython's obmalloc: size classes in pools in arenas over a system allocator",
	.knobs = pymalloc_knobs,
	.nknobs = sizeof pymalloc_knobs / sizeof pymalloc_knobs[0],
	.params_size = sizeof(struct pymalloc_params),
	.defaults = &pymalloc_defaults,
	.validate = pymalloc_validate,
	.create = pymalloc_create,
	.destroy = pymalloc_destroy,
	.alloc = pymalloc_alloc,
	.resize = pymalloc_resize,
	.free = pymalloc_free,
	.block_size = pymalloc_block_size,
	.stats = pymalloc_stats,
	.details = pymalloc_details,
	.counters = pymalloc_counters,
	.ncounters = sizeof pymalloc_counters / sizeof pymalloc_counters[0],
	.check = pymalloc_check,
	.occupancy = pymalloc_occupancy,
	.prefetch = pymalloc_prefetch,
};
