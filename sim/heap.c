/*
 * heap.c - the simulated object graph and its reference counting (see
 * heap.h; the essay with examples is docs/heap.md).
 *
 * What is modelled: CPython's reference counting as the trace format's
 * "Reference semantics" state it. An object dies the moment its count
 * (roots + incoming edges) reaches zero, and its death releases its
 * outgoing references in CPython's order:
 *
 *   1. When X dies, its referents are released from the LAST edge to the
 *      FIRST, as list_dealloc does (Objects/listobject.c, 2.7 to 3.13:
 *      "Do it backwards, for Christian Tismer").
 *   2. A referent that reaches zero is released completely (its own
 *      referents, by rule 1) before X's next referent is released, as the
 *      nested Py_DECREF -> tp_dealloc calls do.
 *   3. X's memory goes (on_free) after all of its referents are released,
 *      then its slot is recycled.
 *
 * The cascade runs on an explicit stack of dying slots; the cursor of each
 * frame is the object's own edge count (edges are popped off the end), so
 * a frame costs 4 bytes and the C stack never grows with the depth.
 *
 * Not modelled: CPython's trashcan (Py_TRASHCAN_BEGIN/END, Include/
 * cpython/object.h and Objects/object.c; a nesting limit of 50 in 2.7 to
 * 3.12, Py_TRASHCAN_HEADROOM in 3.13) defers deallocations nested deeper
 * than about 50 levels to a list that is emptied when the outer call
 * unwinds. For a chain 1 -> 2 -> ... -> N (N > 50) CPython therefore frees
 * roughly 50..1, then 100..51, and so on, where memsim frees N..1. The set
 * of objects freed by one event is the same; only the order of on_free
 * calls (and so which free-list entries and addresses get reused first)
 * differs for chains deeper than the limit.
 *
 * Collector release (heap_release) follows delete_garbage (Modules/
 * gcmodule.c, 2.7 to 3.12; Python/gc.c in 3.13): the object is held by
 * one extra reference while its tp_clear drops its edges (list tp_clear,
 * _list_clear, drops them last to first), then the hold is dropped and the
 * object dies if nothing else refers to it.
 *
 * Data structures (docs/heap.md has the table with their costs):
 *   - objs: one array of 32-byte struct heap_obj cores indexed by slot.
 *     Free slots have ID 0 and form a LIFO list threaded through
 *     FREE_NEXT (the `incoming` field, meaningless in a free slot), so a
 *     freed slot is reused first, while it is still warm in the cache.
 *   - side arrays: the layers' per-object state (heap_side_add), and the
 *     heap's own array of sizes of 4 GiB or more (created at the first
 *     such object; the core keeps 32 bits of size). They are allocated
 *     and grown together with objs, to the same capacity.
 *   - map: the ID map, open addressing with linear probing and
 *     backward-shift deletion (no tombstones), 4-byte entries ("The ID
 *     map" below: an entry packs the slot, the entry's distance from its
 *     home bucket and a few hash bits, the widths set by the slot
 *     capacity). The load stays at most 3/4.
 *   - out: up to two edges inside the core; beyond, a malloc'ed vector
 *     [count, capacity, edges...] of 2^k words (capacity 2^k - 2: 6, 14,
 *     30, ...), doubling.
 *   - stack: the cascade / mark stack, reused across calls.
 */
/* mremap: the slot array grows in place of the kernel's page tables
 * instead of being copied (a copy would hold old + new at once). */
#define _GNU_SOURCE
#include "heap.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xalloc.h"

#ifdef MEMSIM_DEBUG
#define HEAP_ASSERT(x) assert(x)
#else
#define HEAP_ASSERT(x) ((void)0)
#endif

/* Private flag bits of heap_obj.tf (heap.h reserves the low two). */
#define F_DYING 0x04u   /* refcount reached 0 (or `f`): on the cascade stack */
#define F_HELD  0x08u   /* heap_release is clearing it: cannot die yet */
#define F_MARK  0x10u   /* heap_find_garbage's mark; clear between calls */
#define F_FLAGS 0xffu   /* every flag bit: below the type */

#define FREE_NEXT(o) ((o)->incoming)   /* free-list link of a free slot */

#define MAP_MIN_BITS 4u
#define MAP_MAX_BITS 32u        /* the home bucket comes from a 32-bit tag */
/* Live objects at most: 3/4 of the largest map, below HEAP_NONE. */
#define HEAP_MAX_LIVE (UINT32_C(3) << 30)
#define SLOTS_MIN 64u           /* objects */
#define OUT_INLINE 2u           /* edges held inside heap_obj */
#define VEC_HEADER 2u           /* words before a vector's edges */
#define VEC_MIN_SHIFT 3u        /* the first vector: 2^3 words, 6 edges */
#define BIG_TABLE (UINT64_C(4) << 20) /* bytes: tables this big get huge pages */
#define HUGE_PAGE (UINT64_C(2) << 20)

_Static_assert(sizeof(struct heap_obj) == 32, "heap_obj is half a cache line");
_Static_assert(HEAP_TYPE_MAX <= UINT32_MAX >> HEAP_TF_TYPE_SHIFT,
	       "the type index fits above the flags");

/* The ID map's empty entry (no occupied entry has all slot bits set). */
#define MAP_EMPTY UINT32_MAX
#define MAP_DIST_BITS 4u        /* distance from home kept in an entry */

/*
 * An array indexed by slot: the cores, a layer's side array, or the big
 * sizes. All have slot_cap elements. Small ones are malloc'ed (64-byte
 * aligned inside raw); big ones live in their own mapping, which grows
 * with mremap (no copy, no moment with both arrays resident) and is
 * marked for huge pages.
 */
struct slotarr {
	void *mem;              /* the array */
	void **base;            /* where its address is published */
	size_t elem;            /* bytes per slot */
	void (*dying)(void *ctx, uint32_t slot); /* the layer's hint, or NULL */
	void *ctx;
	void *raw;              /* malloc'ed block, or NULL when mapped */
	uint64_t mapped;        /* bytes of the mapping, or 0 */
};

struct heap {
	struct heap_hooks hooks;

	struct heap_obj *objs;  /* the cores: arrs[0] */
	uint64_t *big;          /* sizes >= HEAP_SIZE_BIG, or NULL */
	struct slotarr *arrs;   /* the cores, then side arrays and big */
	unsigned narrs;
	uint32_t slot_limit;    /* one past the highest slot ever used */
	uint32_t slot_cap;
	uint32_t free_head;     /* first free slot below slot_limit, or NONE */

	uint32_t *map;          /* entries: [tag | dist | slot], MAP_EMPTY */
	void *map_raw;
	uint32_t map_bits;      /* the map has 2^map_bits entries */
	uint32_t map_shift;     /* 64 - map_bits: home = hash >> map_shift */
	uint64_t map_mask;
	/* The entry layout (below: "The ID map"), all in place: */
	uint32_t m_sbits;       /* slot bits, the low end */
	uint32_t m_dsat;        /* largest distance, meaning "it or more" */
	uint32_t m_dstep;       /* distance 1 (0 with no distance bits) */
	uint32_t m_dfield;      /* the distance bits: m_dsat * m_dstep */
	uint32_t m_tmask;       /* the tag bits, the high end */
	uint32_t m_hmask;       /* distance and tag: all but the slot */

	uint32_t *stack;
	size_t stack_n, stack_cap;

	uint64_t live_objects;
	uint64_t live_bytes;
	uint64_t freed;         /* objects freed since creation */
	uint64_t edge_bytes;    /* capacity of all live edge vectors */
	uint64_t side_bytes;    /* bytes per slot of the side arrays */
};

/*
 * The slot arrays and the ID map are memsim's big tables: 64-byte aligned
 * (two cores per cache line, never one split over two), and above
 * BIG_TABLE 2 MiB aligned and marked for transparent huge pages, since
 * every event lands at a random place in them and 4 KiB pages would add
 * a TLB miss to each cache miss. *raw receives what to free.
 */
static void *table_alloc(uint64_t bytes, void **raw)
{
	uint64_t align = bytes >= BIG_TABLE ? HUGE_PAGE : 64;
	char *p = xmalloc((size_t)(bytes + align));
	uintptr_t a = ((uintptr_t)p + (uintptr_t)align - 1) & ~(uintptr_t)(align - 1);

	*raw = p;
#ifdef MADV_HUGEPAGE
	if (align == HUGE_PAGE)
		(void)madvise((void *)a, (size_t)(bytes & ~(HUGE_PAGE - 1)), MADV_HUGEPAGE);
#endif
	return (void *)a;
}

/* ---- slot arrays ---- */

/*
 * Stores an array's address where its layer reads it. *base is really a
 * `struct heap_obj *`, a `uint64_t *`, a `struct gen_obj *`...: storing
 * through a `void **` breaks C's aliasing rule (C11 6.5p7), and GCC -O2
 * may then keep using a pointer it loaded before the array moved (it
 * did in a first version of the 4-byte ID map, whose slot_take also
 * re-encoded the map: objects went missing past 2^19 slots, not at -O1
 * or with -fno-strict-aliasing). memcpy may change any object's
 * representation, so every reader sees the store.
 */
static void slotarr_publish(void **base, void *p)
{
	memcpy(base, &p, sizeof p);
}

/* Gives the array `cap` elements; the first `keep` keep their content,
 * the rest are zero. */
static void slotarr_resize(struct slotarr *a, uint64_t keep, uint64_t cap)
{
	uint64_t bytes = cap * a->elem, old = keep * a->elem;
	void *raw = NULL, *m = MAP_FAILED;
	char *p;

	if (bytes >= BIG_TABLE && a->mapped)
		m = mremap(a->mem, (size_t)a->mapped, (size_t)bytes, MREMAP_MAYMOVE);
	else if (bytes >= BIG_TABLE)
		m = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		/* Fresh pages of a mapping are zero already. */
		p = m;
#ifdef MADV_HUGEPAGE
		(void)madvise(m, (size_t)bytes, MADV_HUGEPAGE);
#endif
		if (!a->mapped && a->mem) {
			memcpy(p, a->mem, (size_t)old);
			free(a->raw);
		}
		a->mapped = bytes;
	} else {
		/* Small, or the kernel refused: malloc (which dies saying
		 * so when memory is really out). */
		p = table_alloc(bytes, &raw);
		if (a->mem)
			memcpy(p, a->mem, (size_t)old);
		memset(p + old, 0, (size_t)(bytes - old));
		if (a->mapped)
			munmap(a->mem, (size_t)a->mapped);
		else
			free(a->raw);
		a->mapped = 0;
	}
	a->raw = raw;
	a->mem = p;
	slotarr_publish(a->base, p);
}

static void slotarr_free(struct slotarr *a)
{
	if (a->mapped)
		munmap(a->mem, (size_t)a->mapped);
	else
		free(a->raw);
}

/* Registers an array and gives it the heap's capacity. */
static struct slotarr *slotarr_add(struct heap *h, void **base, size_t elem)
{
	struct slotarr *a;

	h->arrs = xreallocarray(h->arrs, h->narrs + 1, sizeof *h->arrs);
	a = &h->arrs[h->narrs++];
	slotarr_publish(base, NULL);
	*a = (struct slotarr){ .base = base, .elem = elem };
	slotarr_resize(a, 0, h->slot_cap);
	return a;
}

static uint32_t slot_take(struct heap *h)
{
	uint32_t s = h->free_head;

	if (s != HEAP_NONE) {
		h->free_head = FREE_NEXT(&h->objs[s]);
		return s;
	}
	if (h->slot_limit == h->slot_cap) {
		uint64_t cap = (uint64_t)h->slot_cap * 2;

		if (cap > HEAP_MAX_LIVE)
			cap = HEAP_MAX_LIVE;
		for (unsigned i = 0; i < h->narrs; i++)
			slotarr_resize(&h->arrs[i], h->slot_limit, cap);
		h->slot_cap = (uint32_t)cap;
	}
	return h->slot_limit++;
}

void heap_side_add(struct heap *h, size_t elem, void **base,
		   void (*dying)(void *ctx, uint32_t slot), void *ctx)
{
	struct slotarr *a;

	HEAP_ASSERT(elem > 0);
	a = slotarr_add(h, base, elem);
	a->dying = dying;
	a->ctx = ctx;
	h->side_bytes += elem;
}

/* ---- accessors ---- */

static inline struct heap_obj *obj(const struct heap *h, uint32_t slot)
{
	HEAP_ASSERT(slot < h->slot_limit);
	return &h->objs[slot];
}

static inline uint32_t obj_flags(const struct heap_obj *o)
{
	return o->tf & F_FLAGS;
}

uint64_t heap_big_size(const struct heap *h, const struct heap_obj *o)
{
	HEAP_ASSERT(h->big != NULL);
	return h->big[o - h->objs];
}

/* Stores the size, in the core or, from 2^32-1 bytes, the big array. */
static void obj_set_size(struct heap *h, struct heap_obj *o, uint64_t size)
{
	if (size < HEAP_SIZE_BIG) {
		o->size = (uint32_t)size;
		return;
	}
	if (!h->big)
		(void)slotarr_add(h, (void **)&h->big, sizeof *h->big);
	o->size = HEAP_SIZE_BIG;
	h->big[o - h->objs] = size;
}

/* ---- the ID map ---- */

/*
 * The ID map: ID -> slot, open addressing with linear probing over
 * 2^map_bits entries of 4 bytes, backward-shift deletion, load at most 3/4
 * (so 5.3 to 10.7 bytes per live object; the 8-byte entries before took
 * 10.7 to 21).
 *
 *   1. The ID is mixed into 64 bits (id_hash). Its top map_bits bits are
 *      the home bucket, its low 32 bits the source of the tag.
 *   2. An entry packs, from the low end: the slot (m_sbits = map_bits
 *      bits: every slot is below the most objects ever live, so below
 *      3/4 of the map's size, and none has all the bits set, so
 *      MAP_EMPTY, all ones, is never an entry), the distance from home
 *      (at most MAP_DIST_BITS; the largest value m_dsat means "m_dsat
 *      or more"), and in the bits left above (m_tmask) the same bits of
 *      the hash's low half: the tag. With 2^20 slots: 21 + 4 + 7 bits.
 *   3. A probe at distance k from home accepts an entry only if its
 *      distance field is min(k, m_dsat) (it has the same home) and its tag
 *      is the ID's; only then is the core's ID compared. So a miss rarely
 *      touches objs, as with the 32-bit tags before: linear probing puts
 *      fewer than one other entry of the same home in a run on average,
 *      and a tag of t bits rejects all but 1/2^t of those.
 *   4. Deletion needs the home of each entry it may shift back: home =
 *      position - distance, or for a saturated distance (rare: a run
 *      that long at load 3/4) the hash of the core's ID.
 *   5. Growth (map_bits + 1, with the slot field one bit wider and the
 *      tag one narrower) rebuilds from the slot array, a sequential read
 *      of the cores. From 2^28 entries (201M live objects) on, the
 *      distance and then the tag shrink to nothing and more probes
 *      compare core IDs: correct, slower.
 *
 * Sequential IDs and 16-byte-aligned recorded addresses both keep their
 * entropy in a few low bits; two multiply-xorshift rounds (the constants
 * of splitmix64's finaliser) spread it over all 64 bits.
 */
static inline uint64_t id_hash(uint64_t id)
{
	uint64_t x = id;

	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static inline uint64_t map_home(const struct heap *h, uint64_t x)
{
	return x >> h->map_shift;
}

/* The tag field of hash x, in place (shifted to the top of the entry). */
static inline uint32_t map_tag(const struct heap *h, uint64_t x)
{
	return (uint32_t)x & h->m_tmask;
}

static inline uint32_t map_slot(const struct heap *h, uint32_t e)
{
	return e & ~h->m_hmask;
}

static inline uint32_t map_dist(const struct heap *h, uint32_t e)
{
	return (uint32_t)((uint64_t)(e & h->m_dfield) >> h->m_sbits);
}

/* An entry for slot at distance k from home, with tag field tf. */
static inline uint32_t map_entry(const struct heap *h, uint32_t tf, uint64_t k,
				 uint32_t slot)
{
	uint32_t d = k < h->m_dsat ? (uint32_t)k : h->m_dsat;

	HEAP_ASSERT(slot < ~h->m_hmask);        /* never MAP_EMPTY */

	return tf | d * h->m_dstep | slot;
}

/* Index of the entry for `id` (hash x), or of the empty entry where it
 * would go. */
static inline uint64_t map_probe(const struct heap *h, uint64_t id, uint64_t x)
{
	uint64_t i = map_home(h, x);
	uint32_t key = map_tag(h, x), kmax = key | h->m_dfield;

	for (;;) {
		uint32_t e = h->map[i];

		if (e == MAP_EMPTY)
			return i;
		if ((e & h->m_hmask) == key && h->objs[map_slot(h, e)].id == id)
			return i;
		if (key != kmax)
			key += h->m_dstep;
		i = (i + 1) & h->map_mask;
	}
}

/* Sets the entry layout of a map of 2^s entries (step 2 above). */
static void map_layout(struct heap *h, uint32_t s)
{
	uint32_t d = 32u - s < MAP_DIST_BITS ? 32u - s : MAP_DIST_BITS;

	h->m_sbits = s;
	h->m_dsat = (UINT32_C(1) << d) - 1;
	h->m_dstep = (uint32_t)((uint64_t)1 << s);
	h->m_dfield = h->m_dsat * h->m_dstep;
	h->m_hmask = (uint32_t)~(((uint64_t)1 << s) - 1);
	h->m_tmask = (uint32_t)~(((uint64_t)1 << (s + d)) - 1);
}

/* An empty map of 2^bits entries. */
static void map_init(struct heap *h, uint32_t bits)
{
	uint64_t n = UINT64_C(1) << bits;

	if (n > SIZE_MAX / sizeof *h->map)
		xreallocarray(NULL, (size_t)n, sizeof *h->map); /* dies saying so */
	h->map = table_alloc(n * sizeof *h->map, &h->map_raw);
	memset(h->map, 0xff, (size_t)(n * sizeof *h->map));   /* MAP_EMPTY */
	h->map_bits = bits;
	h->map_shift = 64u - bits;
	h->map_mask = n - 1;
	map_layout(h, bits);
}

/* Enters a slot whose ID is not in the map. */
static void map_insert(struct heap *h, uint32_t slot)
{
	uint64_t x = id_hash(h->objs[slot].id), home = map_home(h, x), i = home;

	while (h->map[i] != MAP_EMPTY)
		i = (i + 1) & h->map_mask;
	h->map[i] = map_entry(h, map_tag(h, x), (i - home) & h->map_mask, slot);
}

/* Doubles the map, entering the live slots anew (step 5). The old map
 * goes first: nothing is read from it, so old and new are never
 * resident together (the peak RSS of a growth was 3 x the old map). */
static void map_grow(struct heap *h)
{
	free(h->map_raw);
	map_init(h, h->map_bits + 1);
	for (uint32_t s = 0; s < h->slot_limit; s++)
		if (heap_obj_live(&h->objs[s]))
			map_insert(h, s);
}

/* The home bucket of the entry at index j (step 4). */
static inline uint64_t map_entry_home(const struct heap *h, uint64_t j, uint32_t e)
{
	uint32_t d = map_dist(h, e);

	if (d < h->m_dsat)
		return (j - d) & h->map_mask;
	return map_home(h, id_hash(h->objs[map_slot(h, e)].id));
}

/*
 * Removes the entry at index i and closes the gap: each following entry
 * of the run moves back into the hole unless its home lies cyclically
 * after the hole (it would then become unreachable from its home); a
 * moved entry's distance shrinks by how far it moved.
 */
static void map_delete_at(struct heap *h, uint64_t i)
{
	uint64_t j = i;

	for (;;) {
		uint64_t home;
		uint32_t e;

		j = (j + 1) & h->map_mask;
		e = h->map[j];
		if (e == MAP_EMPTY)
			break;
		home = map_entry_home(h, j, e);
		if (((j - home) & h->map_mask) >= ((j - i) & h->map_mask)) {
			h->map[i] = map_entry(h, e & h->m_tmask,
					      (i - home) & h->map_mask, map_slot(h, e));
			i = j;
		}
	}
	h->map[i] = MAP_EMPTY;
}
/* ---- edges ---- */

static inline uint32_t out_nout(const struct heap_obj *o)
{
	return heap_obj_nout(o);
}

static inline int out_is_vec(const struct heap_obj *o)
{
	return (o->tf & HEAP_TF_NOUT) == HEAP_TF_VEC;
}

static inline void out_set_nout(struct heap_obj *o, uint32_t n)
{
	if (out_is_vec(o))
		o->out.vec[0] = n;
	else
		o->tf = (o->tf & ~HEAP_TF_NOUT) | n;
}

/* Edge capacity: OUT_INLINE inline, else the vector's. */
static inline uint64_t out_cap(const struct heap_obj *o)
{
	return out_is_vec(o) ? o->out.vec[1] : OUT_INLINE;
}

/* Bytes of the object's edge vector (inline edges cost nothing extra). */
static inline uint64_t out_bytes(const struct heap_obj *o)
{
	return out_is_vec(o) ? ((uint64_t)o->out.vec[1] + VEC_HEADER) * sizeof(uint32_t) : 0;
}

/* Appends an edge. The caller has checked that nout < UINT32_MAX. */
static void out_push(struct heap *h, struct heap_obj *o, uint32_t dst)
{
	uint32_t n = out_nout(o);

	if (n == out_cap(o)) {
		/* inline (2) -> 2^3 words (6 edges) -> 2^4 (14) ...; the
		 * capacity of the last one is capped at nout's limit */
		uint64_t words = out_is_vec(o) ? (uint64_t)(o->out.vec[1] + VEC_HEADER) * 2
			: UINT64_C(1) << VEC_MIN_SHIFT;
		uint64_t cap = words - VEC_HEADER, old = out_bytes(o);
		uint32_t *v;

		if (cap > UINT32_MAX)
			cap = UINT32_MAX, words = cap + VEC_HEADER;
		if (out_is_vec(o)) {
			v = xreallocarray(o->out.vec, (size_t)words, sizeof *v);
		} else {
			v = xreallocarray(NULL, (size_t)words, sizeof *v);
			memcpy(v + VEC_HEADER, o->out.inl, n * sizeof *v);
			v[0] = n;
		}
		h->edge_bytes += words * sizeof *v - old;
		v[1] = (uint32_t)cap;
		o->out.vec = v;
		o->tf |= HEAP_TF_VEC;
	}
	heap_obj_edges(o)[n] = dst;
	out_set_nout(o, n + 1);
}

/* Releases the object's edge storage (it has no edges left to keep). */
static void out_free(struct heap *h, struct heap_obj *o)
{
	if (out_is_vec(o)) {
		h->edge_bytes -= out_bytes(o);
		free(o->out.vec);
	}
	o->out.vec = NULL;
	o->tf &= ~HEAP_TF_NOUT;
}

static void stack_push(struct heap *h, uint32_t slot)
{
	if (h->stack_n == h->stack_cap) {
		h->stack_cap = h->stack_cap ? h->stack_cap * 2 : 256;
		h->stack = xreallocarray(h->stack, h->stack_cap, sizeof *h->stack);
	}
	h->stack[h->stack_n++] = slot;
}

/* ---- the death cascade ---- */

/* Called once the object's referents are all released. */
static void obj_bury(struct heap *h, uint32_t slot)
{
	struct heap_obj *o = obj(h, slot);

	HEAP_ASSERT(out_nout(o) == 0 && o->incoming == 0);
	if (h->hooks.on_free)
		h->hooks.on_free(h->hooks.ctx, h, slot);
	/* The listener may have looked the ID up; it goes now. */
	map_delete_at(h, map_probe(h, o->id, id_hash(o->id)));
	h->live_objects--;
	h->live_bytes -= heap_obj_size(h, o);
	h->freed++;
	out_free(h, o);
	o->id = 0;
	o->tf = 0;
	o->roots = 0;
	FREE_NEXT(o) = h->free_head;
	h->free_head = slot;
}

/* ---- prefetching (heap.h: "Prefetching") ---- */

/*
 * The pieces of an object to load: its core (arrs[0]), its elements of
 * the side arrays, and what the layers read beyond them (their hints).
 * Only what the event will read is loaded: a `+` or a `-` that frees
 * nothing reads the cores alone, and each side element is a cache line
 * of its own. always_inline here and below: GCC 12 deems a function that
 * only prefetches free of effects and deletes calls to it before it
 * would be inlined.
 */
__attribute__((always_inline))
static inline void prefetch_core(const struct heap *h, uint32_t s)
{
	__builtin_prefetch(&h->objs[s]);
}

__attribute__((always_inline))
static inline void prefetch_sides(const struct heap *h, uint32_t s)
{
	for (unsigned i = 1; i < h->narrs; i++)
		__builtin_prefetch((const char *)h->arrs[i].mem + (size_t)s * h->arrs[i].elem);
}

__attribute__((always_inline))
static inline void prefetch_hints(const struct heap *h, uint32_t s)
{
	for (unsigned i = 1; i < h->narrs; i++)
		if (h->arrs[i].dying)
			h->arrs[i].dying(h->arrs[i].ctx, s);
}

/* Whether a referent whose core has arrived looks about to die: its
 * holder is dying and holds its only reference. */
static inline int looks_dying(const struct heap *h, uint32_t s)
{
	return heap_obj_refcount(&h->objs[s]) == 1;
}

/*
 * Latency hiding in the cascade. A dying container's referents are
 * popped one by one, and each costs serial cache misses: its core (a
 * random slot), and, if it dies, its ID map bucket (map_delete_at), its
 * side elements and what the layers' on_free read beyond them. While a
 * frame has edges left, the edge CASCADE_OBJ_AHEAD positions further down
 * gets its core and side elements prefetched; the one CASCADE_MAP_AHEAD
 * down (whose core has arrived by then), if it looks about to die, its
 * map bucket and the layers' hints.
 * A survivor costs no more than its core. On gen-bench -m seed-rc (lists
 * of 1000 ints dying) the objects and buckets took cascade_run from 23%
 * to 7% of the replay; distances from 8/4 to 32/16 measured the same.
 */
#define CASCADE_OBJ_AHEAD 16u   /* edges */
#define CASCADE_MAP_AHEAD 8u    /* edges; < CASCADE_OBJ_AHEAD */

__attribute__((always_inline))
static inline void cascade_prefetch(const struct heap *h, const uint32_t *e,
				    uint32_t n)
{
	uint32_t s;

	if (n >= CASCADE_OBJ_AHEAD) {
		prefetch_core(h, e[n - CASCADE_OBJ_AHEAD]);
		prefetch_sides(h, e[n - CASCADE_OBJ_AHEAD]);
	}
	if (looks_dying(h, s = e[n - CASCADE_MAP_AHEAD])) {
		__builtin_prefetch(&h->map[map_home(h, id_hash(h->objs[s].id))]);
		prefetch_hints(h, s);
	}
}

/*
 * Runs the stack until it is empty. Each frame is a slot flagged DYING
 * (refcount 0, to be freed) or HELD (heap_release: only its edges go).
 * The top frame drops its last edge; a referent that thereby reaches zero
 * is pushed and so fully released before the frame's next edge.
 */
static void cascade_run(struct heap *h)
{
	void (*on_ref)(void *, struct heap *, uint32_t, uint32_t, int) = h->hooks.on_ref;

	while (h->stack_n > 0) {
		uint32_t x = h->stack[h->stack_n - 1];
		struct heap_obj *o = &h->objs[x];
		uint32_t n = out_nout(o);

		if (n > 0) {
			uint32_t *e = heap_obj_edges(o);
			uint32_t t = e[--n];
			struct heap_obj *ot = &h->objs[t];

			out_set_nout(o, n);
			if (n >= CASCADE_MAP_AHEAD)
				cascade_prefetch(h, e, n);

			HEAP_ASSERT(heap_obj_live(ot) && ot->incoming > 0);
			ot->incoming--;
			if (on_ref)
				on_ref(h->hooks.ctx, h, x, t, -1);
			if (ot->incoming == 0 && ot->roots == 0 &&
			    !(ot->tf & (F_DYING | F_HELD))) {
				ot->tf |= F_DYING;
				stack_push(h, t);
			}
			continue;
		}
		h->stack_n--;
		if (o->tf & F_DYING)
			obj_bury(h, x);
	}
}

/* Kills a slot whose refcount is 0 (or that `f` frees) with its cascade. */
static void obj_kill(struct heap *h, uint32_t slot)
{
	h->objs[slot].tf |= F_DYING;
	stack_push(h, slot);
	cascade_run(h);
}

/* ---- public interface ---- */

struct heap *heap_create(const struct heap_hooks *hooks)
{
	struct heap *h = xcalloc(1, sizeof *h);

	if (hooks)
		h->hooks = *hooks;
	h->slot_cap = SLOTS_MIN;
	(void)slotarr_add(h, (void **)&h->objs, sizeof *h->objs);
	h->free_head = HEAP_NONE;
	map_init(h, MAP_MIN_BITS);
	return h;
}

void heap_destroy(struct heap *h)
{
	if (!h)
		return;
	for (uint32_t s = 0; s < h->slot_limit; s++)
		if (out_is_vec(&h->objs[s]))
			free(h->objs[s].out.vec);
	for (unsigned i = 0; i < h->narrs; i++)
		slotarr_free(&h->arrs[i]);
	free(h->arrs);
	free(h->map_raw);
	free(h->stack);
	free(h);
}

static int err_root(struct ms_error *err)
{
	return ms_error_set(err, MS_EXIT_DATAERR,
			    "ID 0 is the root set, not an object");
}

static int err_not_live(struct ms_error *err, uint64_t id)
{
	return ms_error_set(err, MS_EXIT_DATAERR, "object %llu is not live",
			    (unsigned long long)id);
}

static int err_bytes(struct ms_error *err)
{
	return ms_error_set(err, MS_EXIT_DATAERR,
			    "total live size would exceed 2^64-1 bytes");
}

static int apply_alloc(struct heap *h, const struct event *ev,
		       struct ms_error *err)
{
	uint64_t id = ev->id, size = ev->u.size;
	uint64_t x = id_hash(id), pos;
	uint32_t slot;
	struct heap_obj *o;

	if (id == EVENT_ID_ROOT)
		return err_root(err);
	pos = map_probe(h, id, x);
	if (h->map[pos] != MAP_EMPTY)
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "object %llu is already live",
				    (unsigned long long)id);
	if (h->live_bytes + size < h->live_bytes)
		return err_bytes(err);
	if (h->live_objects == HEAP_MAX_LIVE)
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "too many live objects (limit %lu)",
				    (unsigned long)HEAP_MAX_LIVE);
	if (ev->type > HEAP_TYPE_MAX)
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "too many type names (limit %lu)",
				    (unsigned long)HEAP_TYPE_MAX);
	/* Keep the load at most 3/4. */
	if ((h->live_objects + 1) * 4 > (h->map_mask + 1) * 3 &&
	    h->map_bits < MAP_MAX_BITS) {
		map_grow(h);
		pos = map_probe(h, id, x);
	}
	slot = slot_take(h);
	o = &h->objs[slot];
	memset(o, 0, sizeof *o);
	o->id = id;
	o->tf = ev->type << HEAP_TF_TYPE_SHIFT;
	obj_set_size(h, o, size);
	o->roots = 1;
	h->map[pos] = map_entry(h, map_tag(h, x), (pos - map_home(h, x)) & h->map_mask, slot);
	h->live_objects++;
	h->live_bytes += size;
	if (h->hooks.on_alloc)
		h->hooks.on_alloc(h->hooks.ctx, h, slot);
	return 0;
}

static int apply_free(struct heap *h, uint64_t id, struct ms_error *err)
{
	uint32_t slot, self = 0;
	struct heap_obj *o;

	if (id == EVENT_ID_ROOT)
		return err_root(err);
	slot = heap_lookup(h, id);
	if (slot == HEAP_NONE)
		return err_not_live(err, id);
	o = &h->objs[slot];
	/* Edges from the object to itself die with it (like a list that
	 * contains itself and is freed); only other holders block `f`. */
	{
		const uint32_t *e = heap_obj_cedges(o);
		uint32_t n = out_nout(o);

		for (uint32_t i = 0; i < n; i++)
			self += e[i] == slot;
	}
	if (o->incoming > self) {
		uint32_t n = o->incoming - self;

		return ms_error_set(err, MS_EXIT_DATAERR,
				    "object %llu is still referenced by other live objects (%lu reference%s)",
				    (unsigned long long)id, (unsigned long)n,
				    n == 1 ? "" : "s");
	}
	o->roots = 0;   /* its root references go with it, silently */
	obj_kill(h, slot);
	return 0;
}

static int apply_resize(struct heap *h, uint64_t id, uint64_t size,
			struct ms_error *err)
{
	uint32_t slot;
	struct heap_obj *o;
	uint64_t old;

	if (id == EVENT_ID_ROOT)
		return err_root(err);
	slot = heap_lookup(h, id);
	if (slot == HEAP_NONE)
		return err_not_live(err, id);
	o = &h->objs[slot];
	old = heap_obj_size(h, o);
	if (size > old && h->live_bytes + (size - old) < h->live_bytes)
		return err_bytes(err);
	h->live_bytes = h->live_bytes - old + size;
	obj_set_size(h, o, size);
	if (h->hooks.on_resize)
		h->hooks.on_resize(h->hooks.ctx, h, slot, old);
	return 0;
}

static int apply_ref(struct heap *h, uint64_t src_id, uint64_t dst_id,
		     int delta, struct ms_error *err)
{
	uint32_t src = HEAP_NONE, dst;
	struct heap_obj *d;

	if (dst_id == EVENT_ID_ROOT)
		return err_root(err);
	if (src_id != EVENT_ID_ROOT) {
		src = heap_lookup(h, src_id);
		if (src == HEAP_NONE)
			return err_not_live(err, src_id);
	}
	dst = heap_lookup(h, dst_id);
	if (dst == HEAP_NONE)
		return err_not_live(err, dst_id);
	d = &h->objs[dst];

	if (delta > 0) {
		if (src == HEAP_NONE) {
			if (d->roots == UINT32_MAX)
				goto overflow;
			d->roots++;
		} else {
			struct heap_obj *s = &h->objs[src];

			if (d->incoming == UINT32_MAX)
				goto overflow;
			if (out_nout(s) == UINT32_MAX)
				return ms_error_set(err, MS_EXIT_DATAERR,
						    "object %llu would hold too many references",
						    (unsigned long long)src_id);
			out_push(h, s, dst);
			d->incoming++;
		}
		if (h->hooks.on_ref)
			h->hooks.on_ref(h->hooks.ctx, h, src, dst, 1);
		return 0;
	}

	if (src == HEAP_NONE) {
		if (d->roots == 0)
			return ms_error_set(err, MS_EXIT_DATAERR,
					    "object %llu has no root reference to drop",
					    (unsigned long long)dst_id);
		d->roots--;
	} else {
		struct heap_obj *s = &h->objs[src];
		uint32_t n = out_nout(s), i = n;
		uint32_t *e = heap_obj_edges(s);

		/* The last occurrence goes: a list's most recent append. */
		while (i > 0 && e[i - 1] != dst)
			i--;
		if (i == 0)
			return ms_error_set(err, MS_EXIT_DATAERR,
					    "object %llu holds no reference to object %llu",
					    (unsigned long long)src_id,
					    (unsigned long long)dst_id);
		memmove(e + i - 1, e + i, (size_t)(n - i) * sizeof *e);
		out_set_nout(s, n - 1);
		d->incoming--;
	}
	if (h->hooks.on_ref)
		h->hooks.on_ref(h->hooks.ctx, h, src, dst, -1);
	if (d->roots == 0 && d->incoming == 0)
		obj_kill(h, dst);
	return 0;

overflow:
	return ms_error_set(err, MS_EXIT_DATAERR,
			    "reference count of object %llu would overflow",
			    (unsigned long long)dst_id);
}

int heap_apply(struct heap *h, const struct event *ev, struct ms_error *err)
{
	switch (ev->kind) {
	case EVENT_ALLOC:
		return apply_alloc(h, ev, err);
	case EVENT_FREE:
		return apply_free(h, ev->id, err);
	case EVENT_RESIZE:
		return apply_resize(h, ev->id, ev->u.size, err);
	case EVENT_REF_ADD:
		return apply_ref(h, ev->id, ev->u.dst, 1, err);
	case EVENT_REF_DROP:
		return apply_ref(h, ev->id, ev->u.dst, -1, err);
	default:
		return ms_error_set(err, MS_EXIT_SOFTWARE,
				    "heap_apply: event kind %d is not a heap event",
				    (int)ev->kind);
	}
}

uint32_t heap_lookup(const struct heap *h, uint64_t id)
{
	uint32_t e = h->map[map_probe(h, id, id_hash(id))];

	return e != MAP_EMPTY ? map_slot(h, e) : HEAP_NONE;
}

/* The slot of the first entry with id's home and tag among the first 4
 * of its run, or HEAP_NONE: the ID's own entry almost always (a hint's
 * lookup, which reads no core). */
static inline uint32_t map_guess(const struct heap *h, uint64_t id)
{
	uint64_t x = id_hash(id), i = map_home(h, x);
	uint32_t key = map_tag(h, x);

	for (uint32_t k = 0; k < 4; k++, i = (i + 1) & h->map_mask) {
		uint32_t e = h->map[i];

		if (e == MAP_EMPTY)
			break;
		if ((e & h->m_hmask) == key)
			return map_slot(h, e);
		if (k < h->m_dsat)
			key += h->m_dstep;
	}
	return HEAP_NONE;
}

/* The live object named id, if the guess finds it (its core is in the
 * cache by HEAP_PF_DYING), else HEAP_NONE. */
static inline uint32_t map_peek(const struct heap *h, uint64_t id)
{
	uint32_t s = map_guess(h, id);

	return s != HEAP_NONE && h->objs[s].id == id ? s : HEAP_NONE;
}

/* The cascade of a dying object takes its edges last to first: its last
 * DYING_REFERENTS referents are the first it releases, and a short
 * cascade is too short for cascade_prefetch. */
#define DYING_REFERENTS 4u

static void prefetch_referents(const struct heap *h, uint32_t s)
{
	uint32_t n = out_nout(&h->objs[s]), k = n < DYING_REFERENTS ? n : DYING_REFERENTS;
	const uint32_t *e = heap_obj_cedges(&h->objs[s]);

	for (uint32_t i = n - k; i < n; i++)
		if (e[i] < h->slot_limit) {     /* never read out of bounds */
			prefetch_core(h, e[i]);
			prefetch_sides(h, e[i]);
		}
}

/* HEAP_PF_MAP: the bucket of one ID. */
static inline void pf_map(const struct heap *h, uint64_t id)
{
	__builtin_prefetch(&h->map[map_home(h, id_hash(id))]);
}

/* HEAP_PF_OBJ: the core of one ID, and with `all` its side elements. */
static inline void pf_obj(const struct heap *h, uint64_t id, int all)
{
	uint32_t s = map_guess(h, id);

	if (s == HEAP_NONE)
		return;
	prefetch_core(h, s);
	if (all)
		prefetch_sides(h, s);
}

void heap_prefetch(const struct heap *h, const struct event *ev, enum heap_pf_stage stage)
{
	uint32_t s;

	switch (ev->kind) {
	case EVENT_ALLOC:
		/* A new object goes to a warm recycled slot: only the bucket
		 * its ID will go to is worth loading. */
		if (stage == HEAP_PF_MAP)
			pf_map(h, ev->id);
		break;
	case EVENT_FREE:
	case EVENT_RESIZE:
		/* It dies or its block moves: every layer reads its state. */
		if (stage == HEAP_PF_MAP) {
			pf_map(h, ev->id);
		} else if (stage == HEAP_PF_OBJ) {
			pf_obj(h, ev->id, 1);
		} else if ((s = map_peek(h, ev->id)) != HEAP_NONE) {
			prefetch_hints(h, s);
			if (ev->kind == EVENT_FREE)
				prefetch_referents(h, s);
		}
		break;
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		if (stage == HEAP_PF_MAP) {
			if (ev->id != EVENT_ID_ROOT)
				pf_map(h, ev->id);
			pf_map(h, ev->u.dst);
		} else if (stage == HEAP_PF_OBJ) {
			/* a drop's destination may die: its state too */
			if (ev->id != EVENT_ID_ROOT)
				pf_obj(h, ev->id, ev->kind == EVENT_REF_ADD);
			pf_obj(h, ev->u.dst, ev->kind == EVENT_REF_DROP);
		} else if (ev->kind == EVENT_REF_DROP &&
			   (s = map_peek(h, ev->u.dst)) != HEAP_NONE && looks_dying(h, s)) {
			/* the drop frees it (unless the edge is missing) */
			prefetch_hints(h, s);
			prefetch_referents(h, s);
		}
		break;
	default:
		break;
	}
}

struct heap_obj *heap_obj(const struct heap *h, uint32_t slot)
{
	return obj(h, slot);
}

struct heap_obj *heap_objs(const struct heap *h)
{
	return h->objs;
}

uint64_t heap_release(struct heap *h, const uint32_t *slots, size_t n)
{
	uint64_t before = h->freed;

	for (size_t i = 0; i < n; i++) {
		uint32_t s = slots[i];
		struct heap_obj *o;

		/* No allocation happens during the call, so a slot that died
		 * earlier in it is still free here. */
		if (s >= h->slot_limit || !heap_obj_live(&h->objs[s]))
			continue;
		o = &h->objs[s];
		o->tf |= F_HELD;
		stack_push(h, s);
		cascade_run(h);
		o = &h->objs[s];
		o->tf &= ~F_HELD;
		if (o->roots == 0 && o->incoming == 0)
			obj_kill(h, s);
	}
	return h->freed - before;
}

uint64_t heap_find_garbage(struct heap *h, uint32_t **out, uint64_t *bytes)
{
	uint64_t count = 0, sum = 0, k = 0;
	uint32_t *res = NULL;

	/* Mark: everything reachable from an object with roots. */
	for (uint32_t s = 0; s < h->slot_limit; s++) {
		struct heap_obj *o = &h->objs[s];

		if (!heap_obj_live(o) || o->roots == 0 || (o->tf & F_MARK))
			continue;
		o->tf |= F_MARK;
		stack_push(h, s);
		while (h->stack_n > 0) {
			const struct heap_obj *x = &h->objs[h->stack[--h->stack_n]];
			const uint32_t *e = heap_obj_cedges(x);
			uint32_t n = out_nout(x);

			for (uint32_t i = 0; i < n; i++) {
				struct heap_obj *t = &h->objs[e[i]];

				if (!(t->tf & F_MARK)) {
					t->tf |= F_MARK;
					stack_push(h, e[i]);
					/* stack_push may move the stack, not objs */
				}
			}
		}
	}
	for (uint32_t s = 0; s < h->slot_limit; s++) {
		const struct heap_obj *o = &h->objs[s];

		if (heap_obj_live(o) && !(o->tf & F_MARK)) {
			count++;
			sum += heap_obj_size(h, o);
		}
	}
	if (count)
		res = xreallocarray(NULL, (size_t)count, sizeof *res);
	for (uint32_t s = 0; s < h->slot_limit; s++) {
		struct heap_obj *o = &h->objs[s];

		if (!heap_obj_live(o))
			continue;
		if (o->tf & F_MARK)
			o->tf &= ~F_MARK;
		else
			res[k++] = s;
	}
	*out = res;
	if (bytes)
		*bytes = sum;
	return count;
}

uint64_t heap_live_objects(const struct heap *h)
{
	return h->live_objects;
}

uint64_t heap_live_bytes(const struct heap *h)
{
	return h->live_bytes;
}

uint32_t heap_slot_limit(const struct heap *h)
{
	return h->slot_limit;
}

/* The message may read `in`, so it is formatted before `in` goes. */
#define CHECK_FAIL(...) \
	do { \
		ms_error_set(err, MS_EXIT_SOFTWARE, "heap_check: " __VA_ARGS__); \
		free(in); \
		return MS_EXIT_SOFTWARE; \
	} while (0)

int heap_check(const struct heap *h, struct ms_error *err)
{
	uint32_t *in = NULL;
	uint64_t live = 0, bytes = 0, edges = 0, mapped = 0, dead = 0;

	if (h->slot_limit > h->slot_cap)
		CHECK_FAIL("slot limit %lu above capacity %lu",
			   (unsigned long)h->slot_limit, (unsigned long)h->slot_cap);
	if (h->stack_n != 0)
		CHECK_FAIL("cascade stack not empty (%zu)", h->stack_n);
	in = xcalloc(h->slot_limit ? h->slot_limit : 1, sizeof *in);

	/* Objects and their edges; incoming counted from the edges. */
	for (uint32_t s = 0; s < h->slot_limit; s++) {
		const struct heap_obj *o = &h->objs[s];
		uint32_t n;

		if (!heap_obj_live(o)) {
			if (o->tf != 0)
				CHECK_FAIL("free slot %lu has flags %#x or a type",
					   (unsigned long)s, (unsigned)o->tf);
			continue;
		}
		live++;
		bytes += heap_obj_size(h, o);
		if (obj_flags(o) & ~HEAP_TF_NOUT)
			CHECK_FAIL("object %llu has stray flags %#x",
				   (unsigned long long)o->id, obj_flags(o));
		if (o->size == HEAP_SIZE_BIG && (!h->big || h->big[s] < HEAP_SIZE_BIG))
			CHECK_FAIL("object %llu has no size of 4 GiB or more",
				   (unsigned long long)o->id);
		if (heap_lookup(h, o->id) != s)
			CHECK_FAIL("ID map does not find object %llu in slot %lu",
				   (unsigned long long)o->id, (unsigned long)s);
		if (heap_obj_refcount(o) == 0)
			CHECK_FAIL("object %llu is live with refcount 0",
				   (unsigned long long)o->id);
		n = out_nout(o);
		if (out_is_vec(o) &&
		    (o->out.vec == NULL || n > o->out.vec[1] ||
		     o->out.vec[1] < (1u << VEC_MIN_SHIFT) - VEC_HEADER ||
		     (o->out.vec[1] != UINT32_MAX &&
		      (((uint64_t)o->out.vec[1] + VEC_HEADER) & (o->out.vec[1] + 1)))))
			CHECK_FAIL("object %llu has %lu edges in capacity %llu",
				   (unsigned long long)o->id, (unsigned long)n,
				   (unsigned long long)out_cap(o));
		edges += out_bytes(o) / sizeof(uint32_t);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t t = heap_obj_cedges(o)[i];

			if (t >= h->slot_limit || !heap_obj_live(&h->objs[t]))
				CHECK_FAIL("object %llu has an edge to free slot %lu",
					   (unsigned long long)o->id, (unsigned long)t);
			in[t]++;
		}
	}
	if (live != h->live_objects)
		CHECK_FAIL("%llu live objects counted, %llu recorded",
			   (unsigned long long)live, (unsigned long long)h->live_objects);
	if (bytes != h->live_bytes)
		CHECK_FAIL("%llu live bytes counted, %llu recorded",
			   (unsigned long long)bytes, (unsigned long long)h->live_bytes);
	if (edges * sizeof(uint32_t) != h->edge_bytes)
		CHECK_FAIL("edge vectors hold %llu bytes, %llu recorded",
			   (unsigned long long)(edges * sizeof(uint32_t)),
			   (unsigned long long)h->edge_bytes);
	for (uint32_t s = 0; s < h->slot_limit; s++) {
		const struct heap_obj *o = &h->objs[s];

		if (heap_obj_live(o) && o->incoming != in[s])
			CHECK_FAIL("object %llu has incoming %lu but %lu edges point at it",
				   (unsigned long long)o->id, (unsigned long)o->incoming,
				   (unsigned long)in[s]);
	}

	/* Every map entry is a live object whose tag and distance from home
	 * are right; with the per-object lookups above this makes map and
	 * slots a bijection. */
	for (uint64_t i = 0; i <= h->map_mask; i++) {
		uint32_t e = h->map[i], s = map_slot(h, e);
		uint64_t x;

		if (e == MAP_EMPTY)
			continue;
		mapped++;
		if (s >= h->slot_limit || !heap_obj_live(&h->objs[s]))
			CHECK_FAIL("ID map entry %llu names free slot %lu",
				   (unsigned long long)i, (unsigned long)s);
		x = id_hash(h->objs[s].id);
		if (map_entry(h, map_tag(h, x), (i - map_home(h, x)) & h->map_mask, s) != e)
			CHECK_FAIL("ID map entry %llu (%#lx) has the wrong tag or distance for object %llu",
				   (unsigned long long)i, (unsigned long)e,
				   (unsigned long long)h->objs[s].id);
	}
	if (mapped != live)
		CHECK_FAIL("ID map has %llu entries for %llu live objects",
			   (unsigned long long)mapped, (unsigned long long)live);
	if (live * 4 > (h->map_mask + 1) * 3)
		CHECK_FAIL("ID map load above 3/4");

	/* The free list holds exactly the free slots, without a cycle. */
	for (uint32_t s = h->free_head; s != HEAP_NONE; s = FREE_NEXT(&h->objs[s])) {
		if (s >= h->slot_limit || heap_obj_live(&h->objs[s]) ||
		    ++dead > h->slot_limit - live)
			CHECK_FAIL("free-slot list is corrupt at slot %lu",
				   (unsigned long)s);
	}
	if (dead != h->slot_limit - live)
		CHECK_FAIL("free-slot list has %llu slots, %llu are free",
			   (unsigned long long)dead,
			   (unsigned long long)(h->slot_limit - live));
	free(in);
	return 0;
}

uint64_t heap_own_bytes(const struct heap *h)
{
	return sizeof *h +
	       (uint64_t)h->slot_cap * (sizeof *h->objs + h->side_bytes +
					(h->big ? sizeof *h->big : 0)) +
	       (h->map_mask + 1) * sizeof *h->map +
	       (uint64_t)h->stack_cap * sizeof *h->stack +
	       h->edge_bytes;
}
