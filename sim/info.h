/*
 * info.h - policy-independent facts of a trace (`memsim info`).
 *
 * Replays the trace on a bare reference-counting heap (no allocator, no
 * free lists, no collector) and measures what the program itself did:
 * events by kind, objects and bytes requested, live-byte and live-object
 * peaks with where they happened, the peak of references between objects,
 * per-type totals, the request-size histogram, and the cyclic garbage
 * left at the end; for version-2 traces also live bytes per stack node
 * (site) with each one's peak, the collections the recorded runtime made
 * (per generation: how many, what they freed, how long they took) and the
 * heap snapshots. docs/info.md defines every field.
 */
#ifndef MEMSIM_INFO_H
#define MEMSIM_INFO_H

#include <stdint.h>

#include "error.h"
#include "trace.h"

#define INFO_BUCKETS 50         /* size buckets: 0, 1, 2-3, ..., 2^48-1 */

struct info_type {
	uint64_t objects;       /* `a` events of this type */
	uint64_t bytes;         /* bytes requested by them (a and r sizes) */
	uint64_t live_bytes;
	uint64_t peak_live_bytes;
};

/* Per stack node (sitetab index), for `a`/`r` with ^SITE; an object's
 * bytes count at the site of its last `a` or `r` with a site. */
struct info_site {
	uint64_t objects;       /* `a` events at this site */
	uint64_t resizes;       /* `r` events at this site */
	uint64_t bytes;         /* bytes requested there (a and r sizes) */
	uint64_t live_bytes;
	uint64_t peak_live_bytes;
};

/* The recorded collections (`g GEN` ... `g`) of one generation. */
struct info_gc {
	uint64_t gen;
	uint64_t collections;
	uint64_t freed_objects; /* objects that died inside them */
	uint64_t freed_bytes;
	uint64_t pause_total;   /* ns between `g GEN` and `g`, by `@` times */
	uint64_t pause_max;     /* ns */
};

struct info_peak {
	uint64_t value;
	uint64_t event;         /* 1-based index of the event that reached it,
	                         * counting version-1 events only */
	uint64_t time;          /* trace time (ns) then; valid if has_time */
};

struct info_result {
	uint64_t events[EVENT_KIND_COUNT];
	uint64_t events_total;
	uint64_t objects_allocated;
	uint64_t bytes_requested_total;
	struct info_peak peak_live_bytes, peak_live_objects;
	uint64_t peak_live_refs;        /* most edges between live objects at once */
	uint64_t final_live_bytes, final_live_objects;
	uint64_t cyclic_garbage_objects, cyclic_garbage_bytes;
	uint64_t end_time;      /* last `@` time */
	int has_time;
	uint64_t size_buckets[INFO_BUCKETS]; /* `a` requests per bucket */
	struct info_type *types; /* indexed by the trace's typetab index */
	uint32_t ntypes;
	struct info_site *sites; /* indexed by the trace's sitetab index */
	uint32_t nsites;
	struct info_gc *gcs;    /* one per generation seen, by generation */
	size_t ngcs;
	uint64_t snapshots;     /* `h` lines */
	uint64_t snapshot_refs, snapshot_edges;          /* all `e` lines, DSTs */
	uint64_t last_snapshot_refs, last_snapshot_edges; /* the last snapshot's */
};

/* Called every so often while reading (for a progress line); may be NULL. */
struct info_observer {
	void *ctx;
	void (*tick)(void *ctx, const struct trace_reader *r);
};

/* Reads the whole trace. Returns 0, or an exit status with err filled and
 * located (file:line). The result owns its arrays: release with
 * info_free. */
int info_run(struct trace_reader *r, const struct info_observer *obs,
	     struct info_result *res, struct ms_error *err);
void info_free(struct info_result *res);

/* Bucket of a request size: 0 for 0, else 1 + floor(log2(size)); and the
 * smallest and largest size in a bucket. */
unsigned info_bucket(uint64_t size);
uint64_t info_bucket_min(unsigned bucket);
uint64_t info_bucket_max(unsigned bucket);

/* The indices of the sites with the most peak live bytes, largest first
 * (ties: older site first): at most `max` of them (0: all that any `a`
 * or `r` named) in a new array (free it), *n of them. */
uint32_t *info_top_sites(const struct info_result *res, uint32_t max, uint32_t *n);

#endif
