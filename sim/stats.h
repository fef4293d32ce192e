/*
 * stats.h - the scalar metrics of one replay under one policy, defined once.
 *
 * STATS_METRICS lists every scalar a report shows: its identifier, the
 * JSON object it lives in (NULL: the policy object itself), its JSON and
 * CSV key, its label in the text table and its kind (which decides the
 * unit and formatting). The text table, the JSON writer and the CSV
 * columns all expand this one list, so they cannot drift apart.
 * docs/metrics.md gives each definition and formula.
 */
#ifndef MEMSIM_STATS_H
#define MEMSIM_STATS_H

#include <stdint.h>

enum stats_kind {
	STATS_BYTES,    /* bytes, shown in KiB/MiB/GiB in text */
	STATS_COUNT,    /* a count */
	STATS_EVENT,    /* a 1-based event index */
	STATS_RATIO,    /* a fraction, shown as a percentage in text */
	STATS_NS,       /* nanoseconds, shown in ms in text */
};

/* X(id, json_group, key, label, kind) */
#define STATS_METRICS(X) \
	X(PEAK_RSS, NULL, "peak_rss_bytes", "peak RSS", STATS_BYTES) \
	X(PEAK_RSS_EVENT, NULL, "peak_rss_event", "  at event", STATS_EVENT) \
	X(FINAL_RSS, NULL, "final_rss_bytes", "final RSS", STATS_BYTES) \
	X(PEAK_FOOTPRINT, NULL, "peak_footprint_bytes", "peak footprint", STATS_BYTES) \
	X(PEAK_FOOTPRINT_EVENT, NULL, "peak_footprint_event", "  at event", STATS_EVENT) \
	X(FINAL_FOOTPRINT, NULL, "final_footprint_bytes", "final footprint", STATS_BYTES) \
	X(PEAK_ALLOCATED, NULL, "peak_allocated_bytes", "peak allocated", STATS_BYTES) \
	X(FINAL_ALLOCATED, NULL, "final_allocated_bytes", "final allocated", STATS_BYTES) \
	X(PEAK_LIVE, NULL, "peak_live_bytes", "peak live", STATS_BYTES) \
	X(PEAK_LIVE_EVENT, NULL, "peak_live_event", "  at event", STATS_EVENT) \
	X(FINAL_LIVE, NULL, "final_live_bytes", "final live", STATS_BYTES) \
	X(PEAK_LIVE_OBJECTS, NULL, "peak_live_objects", "peak live objects", STATS_COUNT) \
	X(FINAL_LIVE_OBJECTS, NULL, "final_live_objects", "final live objects", STATS_COUNT) \
	X(JW1, "fragmentation", "jw1", "frag #1 time-averaged", STATS_RATIO) \
	X(JW2, "fragmentation", "jw2", "frag #2 at peak live", STATS_RATIO) \
	X(JW3, "fragmentation", "jw3", "frag #3 at peak footprint", STATS_RATIO) \
	X(JW4, "fragmentation", "jw4", "frag #4 max vs max", STATS_RATIO) \
	X(GC_COLL0, "gc", "collections_gen0", "gc collections, gen 0", STATS_COUNT) \
	X(GC_COLL1, "gc", "collections_gen1", "gc collections, gen 1", STATS_COUNT) \
	X(GC_COLL2, "gc", "collections_gen2", "gc collections, gen 2", STATS_COUNT) \
	X(GC_COLLECTED, "gc", "collected_total", "gc objects collected", STATS_COUNT) \
	X(GC_PAUSES, "gc.pauses", "count", "gc pauses", STATS_COUNT) \
	X(GC_PAUSE_TOTAL, "gc.pauses", "total_ns", "gc pause total", STATS_NS) \
	X(GC_PAUSE_MEAN, "gc.pauses", "mean_ns", "gc pause mean", STATS_NS) \
	X(GC_PAUSE_P50, "gc.pauses", "p50_ns", "gc pause p50", STATS_NS) \
	X(GC_PAUSE_P95, "gc.pauses", "p95_ns", "gc pause p95", STATS_NS) \
	X(GC_PAUSE_P99, "gc.pauses", "p99_ns", "gc pause p99", STATS_NS) \
	X(GC_PAUSE_MAX, "gc.pauses", "max_ns", "gc pause max", STATS_NS) \
	X(GC_SHARE, "gc", "gc_share", "gc share of run time", STATS_RATIO) \
	X(GC_RUN, "gc", "run_ns", "run time (modelled)", STATS_NS) \
	X(MMU_1MS, "gc.mmu", "1ms", "MMU, 1 ms window", STATS_RATIO) \
	X(MMU_10MS, "gc.mmu", "10ms", "MMU, 10 ms window", STATS_RATIO) \
	X(MMU_100MS, "gc.mmu", "100ms", "MMU, 100 ms window", STATS_RATIO) \
	X(MMU_1S, "gc.mmu", "1s", "MMU, 1 s window", STATS_RATIO)

enum stats_metric {
#define STATS_ENUM(id, group, key, label, kind) STATS_##id,
	STATS_METRICS(STATS_ENUM)
#undef STATS_ENUM
	STATS_COUNT_
};

struct stats_def {
	const char *group;
	const char *key;
	const char *label;
	enum stats_kind kind;
};

/* The definitions, indexed by enum stats_metric. */
extern const struct stats_def stats_defs[STATS_COUNT_];

/* A peak and where it happened. */
struct stats_peak {
	uint64_t value;
	uint64_t event;
};

static inline void stats_peak_note(struct stats_peak *p, uint64_t value, uint64_t event)
{
	if (value > p->value) {
		p->value = value;
		p->event = event;
	}
}

/*
 * Johnstone & Wilson's fragmentation measures ("The Memory Fragmentation
 * Problem: Solved?", ISMM 1998, section 5.1) over a run, fed one step at
 * a time. "Memory used" is the footprint (bytes held from the OS), "memory
 * requested" the live bytes. Steps are weighted by `dt` (events, or
 * nanoseconds for traces with `@` times).
 */
struct stats_frag {
	double sum_live, sum_footprint;     /* integrals over the run */
	uint64_t peak_live, footprint_at_peak_live;
	uint64_t peak_footprint, live_at_peak_footprint;
};

void stats_frag_step(struct stats_frag *f, uint64_t live, uint64_t footprint,
		     double dt);
/* The four measures as fractions (0.25 = 25% more than requested); 0
 * where the denominator is 0. */
double stats_jw1(const struct stats_frag *f);
double stats_jw2(const struct stats_frag *f);
double stats_jw3(const struct stats_frag *f);
double stats_jw4(const struct stats_frag *f);

#endif
