/*
 * gc.h - the collector interface.
 *
 * A collector policy watches the simulated object graph (heap.h) and
 * decides when to look for garbage that reference counting cannot free
 * (cycles), finds it, and releases it with heap_release(). It also keeps
 * the pause record: every collection costs simulated time, which is added
 * to the run's timeline, and the statistics (pause percentiles, minimum
 * mutator utilisation) are computed from that record (pause.h).
 * docs/gc.md has the model, its sources and what is not modelled.
 *
 * Each policy is one file exporting one `const struct gc_policy`
 * (gc_none.c, gc_generational.c, gc_incremental.c, gc_freethreaded.c);
 * all state lives behind the pointer
 * create() returns. Parameters are a struct described by knobs (knob.h).
 *
 * How the runtime drives a collector (the order matters; docs/gc.md):
 *   `a`   heap_apply(), then the allocator or a type free list serves the
 *         object, the runtime stores what it needs, and LAST it calls
 *         on_alloc(slot, from_allocator). on_alloc may run a collection,
 *         so heap on_free callbacks (and thus on_free below) can arrive
 *         re-entrantly from inside on_alloc. Every `a` gets on_alloc.
 *   death when the heap reports an object's death (refcount 0, `f`, or a
 *         collection's heap_release), the runtime parks it in a free list
 *         or returns it to the allocator, then calls on_free(slot,
 *         to_allocator) while the slot is still valid. Every death gets
 *         on_free.
 *   `+`/`-` after heap_apply(), on_ref(src, dst, +1/-1) (src HEAP_NONE
 *         for the root set); optional slot.
 *   `s`   safepoint().      `c [GEN]`  collect(gen, err).
 *   `@`   the runtime updates the clock (struct gc_clock) before the next
 *         event; it sets clock->event before applying every event.
 *   end   the runtime sets clock->event to the number of events and calls
 *         stats().
 * Full collections call env->clear_freelists (when not NULL) after the
 * garbage is released, as CPython clears its type free lists then.
 *
 * Per-object state. The heap's object core (struct heap_obj: ID, size,
 * type, roots, incoming, edges) holds nothing of any collector. A
 * collector that needs state per object (list links, gc_refs, a
 * generation, colour bits, an incremental collector's visited flag...)
 * declares its own struct and asks the heap for an array of them in
 * create():
 *
 *     struct my_obj { uint32_t next; uint8_t colour; };
 *     struct my_state { struct my_obj *objs; ... };
 *     heap_side_add(env->heap, sizeof *s->objs, (void **)&s->objs, NULL, NULL);
 *
 * s->objs[slot] then exists for every slot the heap hands out: the heap
 * grows the array with its slot array and rewrites s->objs when it moves
 * (only inside the heap_apply() of an `a`, so a pointer taken during a
 * collection stays valid). The heap never reads the elements; an
 * element is the collector's from its on_alloc (which must initialise
 * it, since the slot may have been used before) until its on_free. Only
 * a collector that is present creates its array (gc_none has none), and
 * adding a collector touches no file of the heap. Read the core through
 * heap.h's accessors (heap_obj_type, heap_obj_refcount, heap_obj_nout,
 * heap_obj_edges; heap_objs for loops over many objects).
 */
#ifndef MEMSIM_GC_H
#define MEMSIM_GC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "heap.h"
#include "knob.h"
#include "typetab.h"

#define GC_GENERATIONS_MAX 3    /* CPython's NUM_GENERATIONS */
#define GC_MMU_WINDOWS 4        /* MMU windows: 1 ms, 10 ms, 100 ms, 1 s */

/* Window widths of the MMU statistics, ns, in gc_stats.mmu order. */
extern const uint64_t gc_mmu_window_ns[GC_MMU_WINDOWS];
/* Their JSON keys: "1ms", "10ms", "100ms", "1s". */
extern const char *const gc_mmu_window_name[GC_MMU_WINDOWS];

/*
 * The run's mutator clock, owned and updated by the runtime. The
 * collector reads it when a collection starts and at the end.
 *   mutator time = time_ns                         when timed
 *                = event * mutator_ns_per_event    otherwise (a knob)
 * Pauses extend the timeline: a pause starting when the mutator time is
 * M begins at M + (sum of earlier pauses) and lasts pause_ns; the run
 * lasts final mutator time + all pauses.
 */
struct gc_clock {
	uint64_t event;         /* index of the event being applied, from 0;
	                         * at the end, the number of events */
	uint64_t time_ns;       /* the latest `@` time, ns */
	int timed;              /* the trace has `@` events (sticky) */
};

/* What the runtime gives a collector instance. Copied by create(). */
struct gc_env {
	struct heap *heap;
	const struct typetab *types;    /* names of heap_obj.type indices */
	const struct gc_clock *clock;
	void *ctx;                      /* passed to the callbacks below */
	/* Empties every type free list (their objects go to the allocator).
	 * NULL when the run has no free-list layer. */
	void (*clear_freelists)(void *ctx);
};

/* One collection. */
struct gc_pause {
	uint64_t event;         /* index of the event during which it ran */
	uint64_t start_ns;      /* on the extended timeline */
	uint64_t pause_ns;      /* a*examined + b*traversed + c, rounded */
	uint64_t stw_ns;        /* of pause_ns, the time every other thread
	                         * is stopped as well: all of it where the
	                         * collector holds the GIL, the stop-the-world
	                         * phases in the free-threaded build */
	uint64_t examined;      /* tracked objects in the collected generations */
	uint64_t traversed;     /* references visited (docs/gc.md) */
	uint64_t unreachable;   /* tracked objects found unreachable
	                         * (CPython's "collected") */
	uint64_t freed;         /* objects freed by releasing them, including
	                         * untracked ones that died with them */
	uint32_t generation;
	uint32_t explicit_;     /* 1 for `c`, 0 for an automatic collection */
};

/*
 * Scalar statistics, defined once: X(field, json_key, unit). Units: "ns",
 * "objects", "count" ("references" for traversed).
 */
#define GC_STATS_SCALARS(X) \
	X(pauses, "pauses", "count") \
	X(pause_total_ns, "pause_total_ns", "ns") \
	X(pause_mean_ns, "pause_mean_ns", "ns") \
	X(pause_p50_ns, "pause_p50_ns", "ns") \
	X(pause_p95_ns, "pause_p95_ns", "ns") \
	X(pause_p99_ns, "pause_p99_ns", "ns") \
	X(pause_max_ns, "pause_max_ns", "ns") \
	X(run_ns, "run_ns", "ns") \
	X(examined, "examined", "objects") \
	X(traversed, "traversed", "references") \
	X(freed, "freed", "objects") \
	X(tracked, "tracked", "objects")

struct gc_stats {
#define GC_STATS_FIELD_(field, key, unit) uint64_t field;
	GC_STATS_SCALARS(GC_STATS_FIELD_)
#undef GC_STATS_FIELD_
	uint32_t generations;   /* entries used in the arrays below (0: none) */
	uint64_t collections[GC_GENERATIONS_MAX]; /* JSON "collections" */
	uint64_t collected[GC_GENERATIONS_MAX];   /* JSON "collected" */
	uint64_t count[GC_GENERATIONS_MAX];       /* JSON "count": the counters
	                                           * at the end (gc.get_count()) */
	double gc_share;        /* JSON "gc_share": pause_total_ns / run_ns */
	double mmu[GC_MMU_WINDOWS]; /* JSON "mmu": {"1ms": ..., ...} */
};

/*
 * One generation or space of a collector as reports show it: a row of
 * the table STATS_GEN_COLUMNS (stats.h) describes. A collector names its
 * rows ("0", "1", "2" for CPython's generations; an incremental collector
 * may have "young", "old[0]", "old[1]"), so reports show whatever a
 * collector has. A pause's `generation` is the index of the row it
 * collected (the oldest, when it collected several).
 */
#define GC_SPACE_NAME_MAX 24    /* bytes, NUL included */
#define GC_SPACES_MAX 16        /* rows a report takes from one collector */
struct gc_space {
	char name[GC_SPACE_NAME_MAX];
	uint64_t collections;   /* collections of this row */
	uint64_t collected;     /* objects they found unreachable */
	uint64_t count;         /* the row's counter at the end (gc.get_count()) */
};

struct gc_policy {
	const char *name;       /* "none", "generational" */
	const char *summary;    /* one line */

	const struct knob *knobs;
	size_t nknobs;
	size_t params_size;
	const void *defaults;

	/* Checks relations between knobs; 0, or -1 with a message. */
	int (*validate)(const void *params, char *msg, size_t msglen);

	/* `params` and `env` are copied; env->heap etc. must outlive the
	 * instance. */
	void *(*create)(const void *params, const struct gc_env *env);
	void (*destroy)(void *state);

	/* See "How the runtime drives a collector" above. from_allocator: 1
	 * when the allocator served the object, 0 when a type free list did;
	 * to_allocator likewise for a death. */
	void (*on_alloc)(void *state, uint32_t slot, int from_allocator);
	void (*on_free)(void *state, uint32_t slot, int to_allocator);
	void (*on_ref)(void *state, uint32_t src, uint32_t dst, int delta);
	void (*safepoint)(void *state);
	/* `c [GEN]`; gen EVENT_GEN_DEFAULT means the oldest. Returns 0, or
	 * MS_EXIT_DATAERR when gen is out of range (err->msg says so). */
	int (*collect)(void *state, uint64_t gen, struct ms_error *err);

	void (*stats)(void *state, struct gc_stats *out);
	/* The pause record so far (owned by the instance). */
	const struct gc_pause *(*pauses)(void *state, size_t *n);
	/* Checks the policy's invariants; 0, or -1 with a message. */
	int (*check)(void *state, char *msg, size_t msglen);
	/* Optional (NULL: the collector tracks nothing): how it sees objects
	 * of `type` (a typetab index), for allocators that keep tracked
	 * objects apart (alloc.h enum alloc_kind): GC_SEES_NOT, GC_SEES_BUILTIN
	 * (a listed container type), GC_SEES_OTHER (tracked, not listed: a
	 * class defined in Python, whose instances CPython 3.12+ give a
	 * pre-header for the managed dict and weakrefs). */
	int (*sees)(void *state, uint32_t type);
	/* Optional: the generation holding the live object in `slot`, or -1
	 * when the collector does not track it (for tests and analyses). */
	int (*generation)(void *state, uint32_t slot);
	/* Optional: fills out[0..max) with the collector's rows and returns
	 * how many it has. NULL: the rows are gc_stats' generations, named
	 * "0", "1", ... (gc_spaces_from_stats). */
	size_t (*spaces)(void *state, struct gc_space *out, size_t max);
};

enum { GC_SEES_NOT, GC_SEES_BUILTIN, GC_SEES_OTHER };

/* Generation i of `st` as row names[i], or "i" when names is NULL (the
 * rows of a collector without a spaces() slot). Returns st->generations
 * (at most max written). */
size_t gc_spaces_from_stats(const struct gc_stats *st, const char *const *names,
			    struct gc_space *out, size_t max);

extern const struct gc_policy gc_none, gc_generational, gc_incremental,
	gc_freethreaded;

/* The compiled-in collector policies, NULL-terminated. */
extern const struct gc_policy *const gc_policies[];

/* The policy named `name`, or NULL. */
const struct gc_policy *gc_find(const char *name);

#endif
