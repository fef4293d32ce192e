/*
 * alloc.h - the allocator interface.
 *
 * An allocator policy turns requests (allocate N bytes, resize, free) into
 * simulated addresses and keeps the books on how much memory that costs:
 * bytes handed out after rounding, memory held from the operating system
 * (footprint) and pages actually touched (modelled RSS). docs/metrics.md
 * defines each quantity; docs/policies.md describes each policy.
 *
 * Each policy is one file exporting one `const struct alloc_policy`; all
 * state lives behind the opaque pointer that create() returns, so any
 * number of instances run side by side. Addresses are simulated: they
 * only need to be unique among live blocks and consistent with the
 * policy's own layout (pymalloc finds a block's pool and arena from its
 * address, as CPython does).
 *
 * Layering: a small-object allocator (pymalloc) sends what it does not
 * serve, and asks for its arenas, to a lower "system" allocator instance
 * (the glibc model), which is what the operating system sees. A policy
 * that fills the map/unmap slots is a system allocator. The instance at
 * the top reports the footprint and RSS of the whole stack (its own plus
 * the lower one's), so callers read one set of statistics.
 */
#ifndef MEMSIM_ALLOC_H
#define MEMSIM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "knob.h"
#include "unit.h"

#define ALLOC_PAGE_SIZE 4096u   /* bytes; the modelled machine's page */

/*
 * What alloc, alloc_kind, resize and map return when the simulated
 * memory cannot serve the request (a lower allocator said so: the
 * machine's memory is exhausted). The instance is then exactly as before
 * the call (a failed resize leaves the block where it was, at its old
 * size), so the caller may report the failure and stop, or go on. No
 * policy runs out by itself today; sim/alloc_fault.h injects failures.
 */
#define ALLOC_OOM 0u

/*
 * What a request is for, where a policy keeps kinds apart (the
 * free-threaded CPython gives each its own mimalloc heap; values as
 * _Py_mimalloc_heap_id in Include/internal/pycore_mimalloc.h of 3.13).
 */
enum alloc_kind {
	ALLOC_KIND_MEM = 0,     /* PyMem_Malloc and friends; untyped blocks */
	ALLOC_KIND_OBJECT = 1,  /* objects the cycle collector does not track */
	ALLOC_KIND_GC = 2,      /* collector-tracked objects */
	ALLOC_KIND_GC_PRE = 3,  /* tracked objects with a pre-header (managed
	                         * dict or weakref slots) */
};

/* Statistics common to every allocator (bytes unless noted). */
struct alloc_stats {
	uint64_t requested;     /* bytes asked for by live blocks */
	uint64_t allocated;     /* bytes of live blocks after rounding */
	uint64_t footprint;     /* bytes held from the OS (mapped or brk) */
	uint64_t rss;           /* bytes of held pages that were touched */
	uint64_t blocks;        /* live blocks (count) */
	uint64_t os_maps;       /* mmap/brk-growth calls so far (count) */
	uint64_t os_unmaps;     /* munmap/trim calls so far (count) */
};

/*
 * Where a policy writes its own counters and tables (pymalloc's arena
 * counters, its per-size-class table). The report layer implements the
 * sink; the policy never formats output itself. Keys are JSON keys.
 */
struct alloc_sink {
	void *ctx;
	void (*counter)(void *ctx, const char *key, uint64_t value);
	/* A table of nrows x ncols cells, row-major. */
	void (*table)(void *ctx, const char *name, const char *const *columns,
		      size_t ncols, const uint64_t *cells, size_t nrows);
};

/* Peaks an allocator measured itself (the real: policies), with the
 * 1-based event after which each was seen (0: not measured). */
struct alloc_peaks {
	uint64_t footprint, footprint_event;
	uint64_t rss, rss_event;
};

/*
 * What one of a policy's details() counters, or a column of one of its
 * tables (key "TABLE.COLUMN"), means: its label in the text report, its
 * unit and kind (unit.h). Every key details() emits has one (a unit test
 * checks), so reports show allocator details with units.
 */
struct alloc_counter_def {
	const char *key;
	const char *label;      /* at most 24 characters */
	enum unit unit;
	enum kind kind;
};

/* A running allocator: its policy and its state. */
struct alloc_inst {
	const struct alloc_policy *policy;
	void *state;
};

struct alloc_policy {
	const char *name;       /* as in policy files: "pymalloc", "glibc" */
	const char *summary;    /* one line */

	/* Parameters: a struct of params_size bytes described by knobs. */
	const struct knob *knobs;
	size_t nknobs;
	size_t params_size;
	const void *defaults;

	/* Checks relations between knobs (e.g. arena a multiple of pool);
	 * returns 0, or -1 with a message in msg. */
	int (*validate)(const void *params, char *msg, size_t msglen);

	/* Creates an instance over `lower` (NULL for a system allocator).
	 * `params` is copied. The instance does not own `lower`. */
	void *(*create)(const void *params, const struct alloc_inst *lower);
	void (*destroy)(void *state);

	/* Returns the block's address (never 0, below 2^63: the runtime keeps
	 * a flag in the top bit), or ALLOC_OOM. Size 0 is a legal request. */
	uint64_t (*alloc)(void *state, uint64_t size);
	/* Optional (NULL: alloc serves every kind alike): alloc() for a
	 * request of `kind` (enum alloc_kind). */
	uint64_t (*alloc_kind)(void *state, uint64_t size, int kind);
	/* Resizes the block at addr from old_size to new_size bytes (sizes as
	 * requested); returns its address, which may differ, or ALLOC_OOM. */
	uint64_t (*resize)(void *state, uint64_t addr, uint64_t old_size,
			   uint64_t new_size);
	/* Frees the block at addr that was requested with `size` bytes. */
	void (*free)(void *state, uint64_t addr, uint64_t size);
	/* Bytes a request of `size` occupies once served (its block). */
	uint64_t (*block_size)(void *state, uint64_t size);

	/* Statistics of this instance and everything below it. */
	void (*stats)(void *state, struct alloc_stats *out);
	/* Policy-specific counters and tables; optional (NULL). */
	void (*details)(void *state, const struct alloc_sink *sink);
	/* The definitions of what details() emits (NULL when no details). */
	const struct alloc_counter_def *counters;
	size_t ncounters;
	/* Checks the policy's invariants; 0, or -1 with a message. */
	int (*check)(void *state, char *msg, size_t msglen);
	/* Arena-based policies only (optional, NULL elsewhere): returns the
	 * number of arenas held now and, for the first `max` of them in
	 * address order, fills pools_in_use[i] (pools with a block in use)
	 * and pools_usable[i] (pools the arena holds). max 0 just counts,
	 * in O(1); otherwise O(arenas). For the occupancy histogram of
	 * reports (docs/reports.md). */
	size_t (*occupancy)(void *state, uint32_t *pools_in_use,
			    uint32_t *pools_usable, size_t max);

	/* Optional (NULL: no hint): the block at addr, requested with `size`
	 * bytes, may soon be freed or resized (a few events ahead: the
	 * heap's HEAP_PF_DYING stage); start loading what free/resize will
	 * read first, that the address alone locates. A hint: it changes
	 * nothing, and it must be safe for any addr and size. */
	void (*prefetch)(void *state, uint64_t addr, uint64_t size);

	/* Optional (NULL: the policy keeps no time): called before every
	 * event with its index and the trace clock (time_ns of the latest `@`,
	 * timed 0 while the trace has none), for time-based rules such as
	 * mimalloc's delayed purging. */
	void (*tick)(void *state, uint64_t event, uint64_t time_ns, int timed);

	/* Optional (NULL: the figures are modelled, always current): for a
	 * policy that measures something outside memsim (alloc_real.c),
	 * take a measurement now, so stats() is current: at the engine's
	 * sample points, and with final 1 once at the end. */
	void (*sync)(void *state, int final);
	/* Optional: 0, or the exit status (sysexits) of a failure outside
	 * the model (the real allocator's process died) with a message;
	 * the run then stops with it and reports no numbers. */
	int (*fault)(void *state, char *msg, size_t msglen);
	/* Optional: the peaks the policy measured itself, more exact than
	 * stats() read after each event (valid after sync(final 1)). */
	void (*peaks)(void *state, struct alloc_peaks *out);

	/* System allocators only: map `bytes` (a multiple of the page) of
	 * fresh zero pages (or ALLOC_OOM); unmap them. NULL in other
	 * policies. */
	uint64_t (*map)(void *state, uint64_t bytes);
	void (*unmap)(void *state, uint64_t addr, uint64_t bytes);
};

/* The compiled-in allocator policies, NULL-terminated. */
extern const struct alloc_policy *const alloc_policies[];

/* The policy named `name`, or NULL. */
const struct alloc_policy *alloc_find(const char *name);

#endif
