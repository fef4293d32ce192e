/*
 * heap.h - the simulated object graph and its reference counting.
 *
 * Glossary (docs/architecture.md has the picture):
 *   object    a live allocation of the trace, named by a 64-bit ID
 *   slot      the heap's own 32-bit handle of a live object; stable while
 *             the object lives, recycled after it dies
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
 * one listener (struct heap_hooks) what happens; the listener stores its
 * per-object data in the fields marked "owned by the listener".
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

/* Object flags. */
#define HEAP_F_LIVE   0x01u     /* slot holds a live object */
#define HEAP_F_MARK   0x02u     /* scratch bit for traversals
                                 * (heap_find_garbage); clear between them */
/* Other bits of `flags` are private to heap.c (cascade state). */

/*
 * One object: exactly one 64-byte cache line (the slot array is aligned),
 * so every event touches one line per object it names. Edges live inline
 * while there are at most two (most objects hold none or few); more move
 * to a vector. Read them through heap_obj_edges().
 */
struct heap_obj {
	uint64_t id;
	uint64_t size;          /* bytes requested */
	/* Owned by the listener (the policy instance), zero on allocation. */
	uint64_t addr;          /* allocator's block address */
	union {
		uint32_t *vec;  /* capshift > 0: 2^capshift slots */
		uint32_t inl[2];/* capshift 0: up to two edges inline */
	} out;                  /* nout referent slots; see heap_obj_edges */
	uint32_t type;          /* typetab index */
	uint32_t roots;
	uint32_t incoming;
	uint32_t nout;
	/* Owned by the listener, zero on allocation. */
	uint32_t gc_prev, gc_next; /* collector's generation list */
	uint32_t gc_refs;       /* collector scratch */
	uint8_t flags;          /* HEAP_F_*, and heap.c's private bits */
	uint8_t capshift;       /* heap.c private: edge storage, see out */
	uint8_t gc_gen;         /* listener: generation, or 0xff untracked */
	uint8_t user_flags;     /* listener */
};

/* The object's nout outgoing edges (referent slots, insertion order). */
static inline uint32_t *heap_obj_edges(struct heap_obj *o)
{
	return o->capshift ? o->out.vec : o->out.inl;
}

static inline const uint32_t *heap_obj_cedges(const struct heap_obj *o)
{
	return o->capshift ? o->out.vec : o->out.inl;
}

struct heap;

/*
 * What the heap reports. Every callback is optional (NULL). They run
 * synchronously; a callback must not call back into the heap except as
 * documented.
 *   on_alloc   after `a` has entered the object (roots 1, no edges).
 *   on_free    when the object dies (refcount 0, `f`, or released as
 *              garbage): its referents have already been released, and its
 *              slot is recycled after the call returns. The fields owned by
 *              the listener are still valid here.
 *   on_resize  after `r` changed the size; old_size is the size before.
 *   on_ref     after an edge is added (+1) or dropped (-1); src HEAP_NONE
 *              is the root set. Edges dropped by a cascade are reported
 *              too (before the referent's death); the root given by `a`
 *              and roots that go with `f` are not.
 *   prefetch_free  see below.
 * Callbacks may call heap_lookup, heap_obj and the read-only queries.
 */
struct heap_hooks {
	void *ctx;
	void (*on_alloc)(void *ctx, struct heap *h, uint32_t slot);
	void (*on_free)(void *ctx, struct heap *h, uint32_t slot);
	void (*on_resize)(void *ctx, struct heap *h, uint32_t slot, uint64_t old_size);
	void (*on_ref)(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int delta);
	/* A hint, not an event: the object is about to die in a running
	 * cascade (its refcount is 1 and its holder is dying), so the
	 * listener may start loading what its on_free will read. Step 0
	 * comes some deaths ahead, step 1 a few. It must not change state. */
	void (*prefetch_free)(void *ctx, const struct heap_obj *o, int step);
};

/* Creates an empty heap; `hooks` is copied (NULL for none). */
struct heap *heap_create(const struct heap_hooks *hooks);
void heap_destroy(struct heap *h);

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
 * Latency hiding for a caller that knows upcoming IDs (the engine reads
 * ahead): heap_prefetch_map starts loading the ID map bucket of `id`;
 * heap_prefetch_obj, some events later when that bucket has arrived,
 * starts loading the object itself. Hints only: no effect on the state.
 */
void heap_prefetch_map(const struct heap *h, uint64_t id);
void heap_prefetch_obj(const struct heap *h, uint64_t id);

/*
 * For the stage after heap_prefetch_obj, when map entry and object are
 * in the cache: the live object named `id` if the first entry with its
 * tag among the first few of its probe run is it, else NULL (even when
 * the object lives). No probing beyond: a miss would cost more than the
 * hint saves. The pointer is valid until the heap next changes.
 */
const struct heap_obj *heap_peek(const struct heap *h, uint64_t id);

/* For an object about to die (found with heap_peek): step 0 starts
 * loading the last few objects it refers to, which its death releases
 * first; step 1, later, the ID map buckets and allocator data of those
 * that will die with it. Hints only. */
void heap_prefetch_referents(const struct heap *h, const struct heap_obj *o, int step);

/* The slot of a live ID, or HEAP_NONE. */
uint32_t heap_lookup(const struct heap *h, uint64_t id);

/* The object in a slot (live, or being freed inside on_free). The pointer
 * is valid until the next `a` event (the slot array may move). */
struct heap_obj *heap_obj(const struct heap *h, uint32_t slot);

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
 * Iterative; uses HEAP_F_MARK and leaves it clear.
 */
uint64_t heap_find_garbage(struct heap *h, uint32_t **out, uint64_t *bytes);

/* Number of live objects and their total requested size (bytes). */
uint64_t heap_live_objects(const struct heap *h);
uint64_t heap_live_bytes(const struct heap *h);

/* One past the highest slot ever used: slots below it may be iterated
 * (check HEAP_F_LIVE). */
uint32_t heap_slot_limit(const struct heap *h);

/* Checks every invariant above; O(live objects + edges). Returns 0, or
 * MS_EXIT_SOFTWARE with err->msg naming the first broken one. */
int heap_check(const struct heap *h, struct ms_error *err);

/* Bytes memsim itself uses for this heap (tables and edge vectors). */
uint64_t heap_own_bytes(const struct heap *h);

#endif
