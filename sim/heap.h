/*
 * heap.h - the simulated object graph and its reference counting.
 *
 * Glossary (docs/architecture.md has the picture, docs/heap.md the layout):
 *   object    a live allocation of the trace, named by a 64-bit ID
 *   slot      the heap's own 32-bit handle of a live object; stable while
 *             the object lives, recycled after it dies
 *   core      the 32 bytes the heap keeps per slot (struct heap_obj): ID,
 *             size, type, counts, edges; nothing of any other layer
 *   side array  a layer's own per-object state: an array indexed by slot
 *             that the heap allocates and grows beside the core for the
 *             layer that asks for it (heap_side_add), and never reads
 *   roots     references held by the root set (ID 0): `a` gives one,
 *             `+ 0 ID` adds one, `- 0 ID` drops one
 *   incoming  `+ SRC ID` edges from live objects
 *   refcount  roots + incoming; reaching 0 frees the object at once
 *   out       the object's outgoing edges, a multiset of slots in the
 *             order they were added (the same edge may appear twice)
 *
 * Semantics are exactly those of the trace format's "Reference
 * semantics": `f` frees regardless of roots but is an error while another
 * live object holds an edge to it; edges from the object to itself do not
 * block `f` (they die with it, as a list containing itself can be freed). Deaths cascade through outgoing edges
 * iteratively (an explicit stack, never the C stack), in CPython's order:
 * an object's referents are released last to first and any that die are
 * fully released before the object's own memory goes (list_dealloc in
 * Objects/listobject.c drops items from the end, then frees the list).
 * CPython's trashcan (deferral of deallocations nested deeper than ~50)
 * is not modelled: docs/heap.md says how the order differs.
 *
 * The heap knows nothing of allocators, free lists or collectors. It tells
 * one listener (struct heap_hooks) what happens; each layer keeps what it
 * needs per object in its own side array (gc.h: "Per-object state").
 *
 * Invariants (heap_check): every edge joins two live objects; each
 * object's incoming equals the number of edges pointing at it; every live
 * object has refcount > 0 except during the listener's on_free callback;
 * the ID map and the slot array agree; live_bytes is the sum of sizes.
 */
#ifndef MEMSIM_HEAP_H
#define MEMSIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"

#define HEAP_NONE UINT32_MAX    /* "no slot" */
#define HEAP_TYPE_MAX ((UINT32_C(1) << 24) - 1) /* largest type index */
#define HEAP_SIZE_BIG UINT32_MAX /* heap_obj.size of an object of 2^32-1
                                  * bytes or more: see heap_obj_size */

/* heap_obj.tf: the low 8 bits are flags, the type index is above them. */
#define HEAP_TF_TYPE_SHIFT 8u
#define HEAP_TF_NOUT 0x03u      /* inline edges 0..2; 3: out.vec */
#define HEAP_TF_VEC 0x03u
/* The other flag bits are private to heap.c (cascade and mark state). */

/*
 * The core of one object: 32 bytes, two per cache line (the slot array is
 * 64-byte aligned). What every layer needs and nothing more; read it
 * through the accessors below. Edges live inline while there are at most
 * two (most objects hold none or few); more move to a vector whose first
 * two words are the count and the capacity.
 */
struct heap_obj {
	uint64_t id;            /* 0: the slot is free */
	uint32_t size;          /* bytes requested, or HEAP_SIZE_BIG */
	uint32_t tf;            /* type << HEAP_TF_TYPE_SHIFT | flags */
	uint32_t roots;
	uint32_t incoming;
	union {
		uint32_t *vec;  /* HEAP_TF_VEC: [nout, cap, edges...] */
		uint32_t inl[2];/* else the first (tf & HEAP_TF_NOUT) edges */
	} out;
};

static inline int heap_obj_live(const struct heap_obj *o)
{
	return o->id != 0;
}

static inline uint32_t heap_obj_type(const struct heap_obj *o)
{
	return o->tf >> HEAP_TF_TYPE_SHIFT;
}

static inline uint64_t heap_obj_refcount(const struct heap_obj *o)
{
	return (uint64_t)o->roots + o->incoming;
}

/* The number of outgoing edges. */
static inline uint32_t heap_obj_nout(const struct heap_obj *o)
{
	uint32_t n = o->tf & HEAP_TF_NOUT;

	return n != HEAP_TF_VEC ? n : o->out.vec[0];
}

/* The object's outgoing edges (referent slots, insertion order). */
static inline uint32_t *heap_obj_edges(struct heap_obj *o)
{
	return (o->tf & HEAP_TF_NOUT) == HEAP_TF_VEC ? o->out.vec + 2 : o->out.inl;
}

static inline const uint32_t *heap_obj_cedges(const struct heap_obj *o)
{
	return (o->tf & HEAP_TF_NOUT) == HEAP_TF_VEC ? o->out.vec + 2 : o->out.inl;
}

struct heap;

/* The size of an object of 2^32-1 bytes or more (kept beside the core). */
uint64_t heap_big_size(const struct heap *h, const struct heap_obj *o);

/* The object's size in bytes, as requested. */
static inline uint64_t heap_obj_size(const struct heap *h, const struct heap_obj *o)
{
	return o->size != HEAP_SIZE_BIG ? o->size : heap_big_size(h, o);
}

/*
 * What the heap reports. Every callback is optional (NULL). They run
 * synchronously; a callback must not call back into the heap except as
 * documented.
 *   on_alloc   after `a` has entered the object (roots 1, no edges).
 *   on_free    when the object dies (refcount 0, `f`, or released as
 *              garbage): its referents have already been released, and its
 *              slot is recycled after the call returns. The core and the
 *              side arrays' elements are still valid here.
 *   on_resize  after `r` changed the size; old_size is the size before.
 *   on_ref     after an edge is added (+1) or dropped (-1); src HEAP_NONE
 *              is the root set. Edges dropped by a cascade are reported
 *              too (before the referent's death); the root given by `a`
 *              and roots that go with `f` are not.
 * Callbacks may call heap_lookup, heap_obj and the read-only queries.
 */
struct heap_hooks {
	void *ctx;
	void (*on_alloc)(void *ctx, struct heap *h, uint32_t slot);
	void (*on_free)(void *ctx, struct heap *h, uint32_t slot);
	void (*on_resize)(void *ctx, struct heap *h, uint32_t slot, uint64_t old_size);
	void (*on_ref)(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int delta);
};

/* Creates an empty heap; `hooks` is copied (NULL for none). */
struct heap *heap_create(const struct heap_hooks *hooks);
void heap_destroy(struct heap *h);

/*
 * Gives a layer its own per-object state: an array of `elem`-byte
 * elements indexed by slot, which the heap allocates now and grows with
 * its slot array, so that the element of every slot the heap hands out
 * exists. The heap stores the array's address in *base now and again
 * whenever the array moves, which happens only while heap_apply() enters
 * a new object (before on_alloc), so a pointer read from *base stays valid
 * until the next `a`. The heap never reads or writes the elements except
 * to zero new memory, and frees the array in heap_destroy() (without
 * reading *base); *base must stay writable while the heap may grow. An element's content belongs
 * to the layer: it is kept while the object lives and is stale after its
 * death (the layer writes it again in its on_alloc). elem > 0; any number
 * of layers may add arrays.
 *
 * `dying` (NULL for none) is the layer's part in prefetching (below):
 * called with `ctx` when the object in `slot` may soon die or move its
 * block, once its core and element have arrived, it may start loading
 * what the layer's on_free will read beyond the element (the allocator's
 * records of the block, a collector's list neighbours). A hint: it must
 * not change state and must be safe for any live slot.
 */
void heap_side_add(struct heap *h, size_t elem, void **base,
		   void (*dying)(void *ctx, uint32_t slot), void *ctx);

/*
 * Applies one trace event of kind ALLOC, FREE, RESIZE, REF_ADD or
 * REF_DROP (other kinds are the caller's). Returns 0, or MS_EXIT_DATAERR
 * with err->msg saying what is wrong (the table of messages is in
 * docs/heap.md, e.g. "object 7 is already live", "object 3 holds no
 * reference to object 9"); the caller adds the location. On error the
 * heap is unchanged. Another kind returns MS_EXIT_SOFTWARE.
 */
int heap_apply(struct heap *h, const struct event *ev, struct ms_error *err);

/*
 * Prefetching, the one mechanism that hides memory latency (docs/
 * performance.md). Every event names random objects of big tables, and
 * the events are known ahead (the engine reads them in batches), so a
 * caller asks for an event's data in stages, some events before it is
 * applied, each stage using what the one before brought:
 *   HEAP_PF_MAP    the ID map buckets of the IDs the event names;
 *   HEAP_PF_OBJ    the objects found there: their cores, and for `f`
 *                  and `r` their elements of every side array (a `+` or
 *                  `-` that frees nothing reads the cores alone);
 *   HEAP_PF_DYING  for `f` and `r`, and for a `-` whose destination has
 *                  one reference left, each layer's `dying` hint
 *                  (heap_side_add) for that object; for both deaths the
 *                  cores and side elements of its last few referents,
 *                  which the cascade releases first.
 * A death cascade prefetches its own referents the same way. Hints only:
 * no effect on the state, safe for any event (a guess that misses costs
 * one useless load).
 */
enum heap_pf_stage { HEAP_PF_MAP, HEAP_PF_OBJ, HEAP_PF_DYING };
void heap_prefetch(const struct heap *h, const struct event *ev, enum heap_pf_stage stage);

/* The slot of a live ID, or HEAP_NONE. */
uint32_t heap_lookup(const struct heap *h, uint64_t id);

/* The object in a slot (live, or being freed inside on_free). The pointer
 * is valid until the next `a` event (the slot array may move). */
struct heap_obj *heap_obj(const struct heap *h, uint32_t slot);

/* The slot array itself, for loops over many objects (a collection): the
 * object in slot s is heap_objs(h)[s]. Valid until the next `a` event. */
struct heap_obj *heap_objs(const struct heap *h);

/*
 * Releases a set of objects found to be garbage by a collector: for each
 * slot in order that is still live, drops all of its outgoing edges (as
 * CPython's tp_clear does); objects reaching refcount 0 die through the
 * usual cascade and on_free. Returns the number of objects freed. Slots
 * that died earlier in the same call are skipped, so the caller may pass a
 * set whose members free each other. Objects still referenced after all
 * edges are cleared (not garbage after all) stay live and are counted in
 * the return value's complement; the caller decides whether that is a bug.
 * As CPython's delete_garbage does, each object is held by a temporary
 * reference while its edges go, so it dies (if at all) after them. The
 * count includes objects freed by the cascades, listed or not.
 */
uint64_t heap_release(struct heap *h, const uint32_t *slots, size_t n);

/*
 * Finds the live objects not reachable from the root set (objects with
 * roots > 0 and everything reachable from them through edges). Returns
 * their number and stores a newly allocated array of their slots in
 * *out (caller frees; NULL when none); *bytes receives their total size.
 * Iterative; uses a private mark bit and leaves it clear.
 */
uint64_t heap_find_garbage(struct heap *h, uint32_t **out, uint64_t *bytes);

/* Number of live objects and their total requested size (bytes). */
uint64_t heap_live_objects(const struct heap *h);
uint64_t heap_live_bytes(const struct heap *h);

/* One past the highest slot ever used: slots below it may be iterated
 * (check heap_obj_live). */
uint32_t heap_slot_limit(const struct heap *h);

/* Checks every invariant above; O(live objects + edges). Returns 0, or
 * MS_EXIT_SOFTWARE with err->msg naming the first broken one. */
int heap_check(const struct heap *h, struct ms_error *err);

/* Bytes memsim itself uses for this heap: its tables, the side arrays
 * and the edge vectors. */
uint64_t heap_own_bytes(const struct heap *h);

#endif
