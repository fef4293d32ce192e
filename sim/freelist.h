/*
 * freelist.h - the type free-list layer between the heap and the allocator.
 *
 * When a typed object dies, a free-list policy may park its block in a
 * cache instead of freeing it (the memory stays allocated and counts as
 * held by free lists); when one is created, it may serve it from a cache
 * instead of the allocator. CPython's per-type lists, a shared cache keyed
 * by size class, and no caching at all are the policies (docs/policies.md).
 *
 * The runtime calls, for every typed or untyped object:
 *   creation:  take(type, size, &addr) -> 1: served from a cache (addr set,
 *              the allocator is not asked); 0: the runtime allocates.
 *   death:     give(type, size, addr) -> 1: parked (the allocator is not
 *              told); 0: the runtime frees the block.
 *   full gc:   clear() releases what the version releases at a full
 *              collection (CPython 2.6+ / 3.x clear the type free lists).
 * A policy that keeps private block allocators (Python 2's int and float)
 * serves those types entirely itself: take() always returns 1, getting
 * blocks from the system allocator through env->sys; give() always 1.
 * Whether an object was served from or parked in a cache matters to the
 * collector (generation 0's count only moves on allocator traffic).
 */
#ifndef MEMSIM_FREELIST_H
#define MEMSIM_FREELIST_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "knob.h"
#include "typetab.h"

struct freelist_env {
	const struct typetab *types;    /* the trace's type names (grows) */
	const struct alloc_inst *alloc; /* the object allocator (pymalloc) */
	const struct alloc_inst *sys;   /* the system allocator below it */
};

struct freelist_stats {
	uint64_t held_bytes;            /* bytes parked in caches now */
	uint64_t held_peak;             /* the most ever parked at once (bytes);
					 * kept exact by the policy itself */
	uint64_t held_blocks;
	uint64_t hits, misses;          /* creations served / not served */
	uint64_t blocked_bytes;         /* see docs/metrics.md: bytes taken from
					 * the allocator while other types' caches
					 * held at least that much */
};

/* Per-type counters of one trace type (docs/freelists.md); the has_
 * flags say which the policy keeps for that type. */
struct freelist_type_counts {
	uint64_t hits, misses;
	uint64_t blocked;       /* bytes */
	uint64_t held;          /* bytes parked now; if has_held */
	uint64_t blocks;        /* Python 2 int/float blocks held now; if has_blocks */
	uint64_t blocks_freed;  /* blocks returned so far; if has_blocks */
	int has_held, has_blocks;
};

struct freelist_policy {
	const char *name;               /* "per-type", "shared", "none" */
	const char *summary;
	const struct knob *knobs;
	size_t nknobs;
	size_t params_size;
	const void *defaults;
	int (*validate)(const void *params, char *msg, size_t msglen);

	/* `params` is copied; `env` is borrowed and must outlive the instance. */
	void *(*create)(const void *params, const struct freelist_env *env);
	void (*destroy)(void *state);   /* releases nothing to the allocator */
	int (*take)(void *state, uint32_t type, uint64_t size, uint64_t *addr);
	int (*give)(void *state, uint32_t type, uint64_t size, uint64_t addr);
	void (*clear)(void *state);
	void (*stats)(void *state, struct freelist_stats *out);
	/* The per-type counters: calls row(ctx, TYPE, counts) for every
	 * trace type with a creation or a parked block, in type-table order.
	 * Optional. These are the rows of the table STATS_TYPE_COLUMNS
	 * (stats.h) describes. */
	void (*types)(void *state, void *ctx,
		      void (*row)(void *ctx, const char *type,
				  const struct freelist_type_counts *c));
	/* The lists' own counts: calls row(ctx, LIST, parked) for every list
	 * that ever parked a block, with the blocks it holds now (CPython's
	 * "N free PyFloatObjects" lines of sys._debugmallocstats()), in a
	 * fixed order. The rows of the table freelists.lists. Optional. */
	void (*lists)(void *state, void *ctx,
		      void (*row)(void *ctx, const char *list, uint64_t parked));
	/* Whether the block at ADDR, which take() served, still lies in
	 * memory the policy owns (a Python 2 int block), so that resizing
	 * its object must move it to a fresh allocator block; 0: it is an
	 * ordinary allocator block the object now owns (CPython's lists:
	 * _PyTuple_Resize reallocs a tuple whatever its origin). Optional;
	 * absent means 1. */
	int (*owns)(void *state, uint64_t addr);
};

extern const struct freelist_policy *const freelist_policies[];
const struct freelist_policy *freelist_find(const char *name);

#endif
