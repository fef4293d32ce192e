/*
 * runtime.h - one simulated runtime: a policy instance fed by a trace.
 *
 * A runtime owns a heap and the layers a policy stacks under it:
 *
 *   trace event -> heap (objects, references, refcount deaths)
 *                    | on_alloc / on_free / on_resize
 *                    v
 *                  free lists -> allocator -> system allocator
 *   heap <-> collector (decides when cyclic garbage dies, and its pauses)
 *
 * and measures the run: peaks with the event where each happened, final
 * values and the fragmentation integrals (stats.h). Several runtimes are
 * fed the same events side by side; none shares state with another.
 */
#ifndef MEMSIM_RUNTIME_H
#define MEMSIM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"
#include "policy.h"
#include "stats.h"
#include "event.h"
#include "typetab.h"

struct runtime;

/* Creates a runtime for `p` (borrowed; must outlive the runtime) over the
 * type names of the trace being read (borrowed, may grow meanwhile). */
struct runtime *runtime_create(const struct policy *p, const struct typetab *types);
void runtime_destroy(struct runtime *rt);

/* Feeds one event. Returns 0, or MS_EXIT_DATAERR with err->msg set (the
 * caller adds the location). */
int runtime_apply(struct runtime *rt, const struct event *ev,
		  struct ms_error *err);

/*
 * Hints that `ev` comes some events later, in the heap's three stages
 * (heap.h, "Prefetching"): 0 the ID map buckets it names, 1 (later) the
 * objects and every layer's state of them, 2 (later still, for an event
 * that may free or move a block) what the layers will read beyond that.
 * No effect on results.
 */
void runtime_prefetch(const struct runtime *rt, const struct event *ev,
		      int stage);

/* Ends the run: takes the final measurements. Returns 0, or the exit
 * status of a failure outside the model (a real: allocator's process
 * died) with err->msg set. */
int runtime_finish(struct runtime *rt, struct ms_error *err);

/* A sample point: a policy that measures outside memsim (real:) takes
 * its measurement now, so runtime_now() reads current figures. */
void runtime_sync(struct runtime *rt);

/* The scalar metrics, indexed by enum stats_metric. */
void runtime_metrics(const struct runtime *rt, double out[STATS_COUNT_]);

/* The current values, cheap to read (for time series, series.h). The
 * event count is the number of events fed; peaks are exact, with the
 * 1-based event where each happened (stats.h). */
struct runtime_now {
	uint64_t events;
	uint64_t time_ns;       /* latest `@` time; 0 if untimed */
	int timed;              /* the trace has had an `@` */
	uint64_t live, allocated, footprint, rss;   /* bytes */
	uint64_t fl_held;       /* bytes held by free lists */
	uint64_t arenas;        /* arenas held (arena allocators; else 0) */
	struct stats_peak peak_rss, peak_footprint, peak_live;
};
void runtime_now(const struct runtime *rt, struct runtime_now *out);

struct gc_pause;
/* The collector's pause record so far (owned by the collector). */
const struct gc_pause *runtime_pauses(const struct runtime *rt, size_t *n);

/* Pools in use and usable per arena, in address order, at the event of
 * the peak footprint (exact: captured at each new peak). Returns the
 * number of arenas, or SIZE_MAX when the allocator has no arenas. The
 * arrays stay owned by the runtime. */
size_t runtime_peak_occupancy(const struct runtime *rt, const uint32_t **in_use,
			      const uint32_t **usable);

/* 1 when the allocator's figures are measured on a real allocator
 * (real: policies), not modelled: reports label them so. */
int runtime_measured(const struct runtime *rt);

/* The policy this runtime simulates. */
const struct policy *runtime_policy(const struct runtime *rt);

struct gc_stats;
/* The collector's statistics (gc.h). */
void runtime_gc_stats(const struct runtime *rt, struct gc_stats *out);

struct gc_space;
/* The collector's generations or spaces as rows (gc.h): fills out[0..max)
 * and returns how many it has. */
size_t runtime_gc_spaces(const struct runtime *rt, struct gc_space *out, size_t max);

struct freelist_type_counts;
/* The free lists' counters by trace type (freelist.h types()). */
void runtime_freelist_types(const struct runtime *rt, void *ctx,
			    void (*row)(void *ctx, const char *type,
					const struct freelist_type_counts *c));
/* The free lists' own counts, list by list (freelist.h lists()). */
void runtime_freelist_lists(const struct runtime *rt, void *ctx,
			    void (*row)(void *ctx, const char *list, uint64_t parked));

/* The top allocator instance (for its details() counters). */
const struct alloc_inst *runtime_allocator(const struct runtime *rt);

/* The cyclic garbage the runtime holds now: live objects that the root
 * set does not reach, which only its collector (if any) would free.
 * Returns their number and stores their requested bytes in *bytes and
 * the bytes the policy's allocator gives them (after rounding, as its
 * block_size says) in *allocated. O(live). */
uint64_t runtime_garbage(struct runtime *rt, uint64_t *bytes, uint64_t *allocated);

/* The system allocator below the top one, or NULL when the top one is
 * the system allocator (PYTHONMALLOC=malloc). */
const struct alloc_inst *runtime_system_allocator(const struct runtime *rt);

/* The system allocator instance under the top allocator (NULL when the
 * top allocator is the system one, as under `malloc`): a test may wrap it
 * in place right after runtime_create (alloc_fault.h) to inject
 * simulated out-of-memory. runtime_apply then fails the event with
 * MS_EXIT_FAIL and "simulated out of memory under policy NAME: ...". */
struct alloc_inst *runtime_system(struct runtime *rt);

/* Objects live in the heap now. */
uint64_t runtime_live_objects(const struct runtime *rt);

/* Checks the invariants of every layer (heap, allocators, collector);
 * 0, or MS_EXIT_SOFTWARE with err naming the layer and what is wrong.
 * Debug builds run it during every replay (engine.c). */
int runtime_check(const struct runtime *rt, struct ms_error *err);

/* Bytes memsim uses for this runtime's heap tables. */
uint64_t runtime_own_bytes(const struct runtime *rt);

#endif
