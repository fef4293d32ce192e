/*
 * stats.h - the metrics of one replay under one policy, defined once.
 *
 * STATS_METRICS lists every scalar a report shows; STATS_GEN_COLUMNS and
 * STATS_TYPE_COLUMNS the columns of the two tables every policy has (its
 * collector's generations or spaces, its free lists by type), whose rows
 * the layers name. The enum, the record (record.h), the JSON keys, the
 * CSV columns, the text rows and docs/metrics.md's lists all come from
 * these tables (tests/unit/test_metrics.c checks the docs against them).
 *
 * Columns of STATS_METRICS:
 *   id       STATS_<id>
 *   section  where the text report shows it
 *   group    the JSON object it lives in (NULL: the policy object; a
 *            dotted path nests), also the CSV column's prefix
 *   key      its JSON key
 *   label    its text row (at most STATS_LABEL_MAX characters)
 *   unit     enum unit (unit.h)
 *   kind     enum kind (unit.h): peak, final, total, ...
 *   idle     the value that means "nothing happened" (a row idle under
 *            every policy is hidden in text): 0, or 1 for MMU
 *   base     for a fragmentation ratio, the live-bytes metric that is
 *            its denominator (the text shows "n/a" below a floor,
 *            docs/metrics.md); NONE elsewhere
 * docs/metrics.md gives each definition and formula.
 */
#ifndef MEMSIM_STATS_H
#define MEMSIM_STATS_H

#include <stdint.h>

#include "unit.h"

#define STATS_LABEL_MAX 24      /* characters, indentation included */

/* X(id, name, title) */
#define STATS_SECTIONS(X) \
	X(MEMORY, "memory", "memory") \
	X(FRAGMENTATION, "fragmentation", "fragmentation") \
	X(FREELISTS, "freelists", "free lists") \
	X(COLLECTOR, "collector", "collector")

enum stats_section {
#define STATS_SEC_ENUM_(id, name, title) STATS_SEC_##id,
	STATS_SECTIONS(STATS_SEC_ENUM_)
#undef STATS_SEC_ENUM_
	STATS_NSECTIONS
};

/* X(id, section, group, key, label, unit, kind, idle, base) */
#define STATS_METRICS(X) \
	X(PEAK_RSS, MEMORY, NULL, "peak_rss_bytes", "peak RSS", BYTES, PEAK, 0, NONE) \
	X(PEAK_RSS_EVENT, MEMORY, NULL, "peak_rss_event", "  at event", EVENT, AT, 0, NONE) \
	X(FINAL_RSS, MEMORY, NULL, "final_rss_bytes", "RSS at end", BYTES, FINAL, 0, NONE) \
	X(PEAK_FOOTPRINT, MEMORY, NULL, "peak_footprint_bytes", "peak footprint", BYTES, PEAK, 0, NONE) \
	X(PEAK_FOOTPRINT_EVENT, MEMORY, NULL, "peak_footprint_event", "  at event", EVENT, AT, 0, NONE) \
	X(FINAL_FOOTPRINT, MEMORY, NULL, "final_footprint_bytes", "footprint at end", BYTES, FINAL, 0, NONE) \
	X(PEAK_ALLOCATED, MEMORY, NULL, "peak_allocated_bytes", "peak allocated", BYTES, PEAK, 0, NONE) \
	X(FINAL_ALLOCATED, MEMORY, NULL, "final_allocated_bytes", "allocated at end", BYTES, FINAL, 0, NONE) \
	X(PEAK_LIVE, MEMORY, NULL, "peak_live_bytes", "peak live", BYTES, PEAK, 0, NONE) \
	X(PEAK_LIVE_EVENT, MEMORY, NULL, "peak_live_event", "  at event", EVENT, AT, 0, NONE) \
	X(FINAL_LIVE, MEMORY, NULL, "final_live_bytes", "live at end", BYTES, FINAL, 0, NONE) \
	X(PEAK_LIVE_OBJECTS, MEMORY, NULL, "peak_live_objects", "peak live objects", OBJECTS, PEAK, 0, NONE) \
	X(FINAL_LIVE_OBJECTS, MEMORY, NULL, "final_live_objects", "live objects at end", OBJECTS, FINAL, 0, NONE) \
	X(JW1, FRAGMENTATION, "fragmentation", "jw1", "#1 time-averaged", RATIO, DIST, 0, MEAN_LIVE) \
	X(JW2, FRAGMENTATION, "fragmentation", "jw2", "#2 at peak live", RATIO, PEAK, 0, PEAK_LIVE) \
	X(JW3, FRAGMENTATION, "fragmentation", "jw3", "#3 at peak footprint", RATIO, PEAK, 0, LIVE_AT_PEAK_FOOTPRINT) \
	X(JW4, FRAGMENTATION, "fragmentation", "jw4", "#4 max vs max", RATIO, PEAK, 0, PEAK_LIVE) \
	X(MEAN_LIVE, FRAGMENTATION, "fragmentation", "mean_live_bytes", "mean live", BYTES, DIST, 0, NONE) \
	X(LIVE_AT_PEAK_FOOTPRINT, FRAGMENTATION, "fragmentation", "live_at_peak_footprint_bytes", "live at peak footprint", BYTES, PEAK, 0, NONE) \
	X(FL_HELD_PEAK, FREELISTS, "freelists", "held_bytes_peak", "peak held", BYTES, PEAK, 0, NONE) \
	X(FL_HELD_FINAL, FREELISTS, "freelists", "held_bytes_final", "held at end", BYTES, FINAL, 0, NONE) \
	X(FL_HITS, FREELISTS, "freelists", "hits", "hits", COUNT, TOTAL, 0, NONE) \
	X(FL_MISSES, FREELISTS, "freelists", "misses", "misses", COUNT, TOTAL, 0, NONE) \
	X(FL_BLOCKED, FREELISTS, "freelists", "blocked_bytes", "blocked by idle caches", BYTES, TOTAL, 0, NONE) \
	X(GC_COLLECTIONS, COLLECTOR, "gc", "collections_total", "collections", COUNT, TOTAL, 0, NONE) \
	X(GC_COLLECTED, COLLECTOR, "gc", "collected_total", "objects collected", OBJECTS, TOTAL, 0, NONE) \
	X(GC_EXAMINED, COLLECTOR, "gc", "examined_total", "objects examined", OBJECTS, TOTAL, 0, NONE) \
	X(GC_TRAVERSED, COLLECTOR, "gc", "traversed_total", "references traversed", REFERENCES, TOTAL, 0, NONE) \
	X(GC_TRACKED, COLLECTOR, "gc", "tracked_final", "tracked at end", OBJECTS, FINAL, 0, NONE) \
	X(GC_PAUSES, COLLECTOR, "gc.pauses", "count", "pauses", COUNT, TOTAL, 0, NONE) \
	X(GC_PAUSE_TOTAL, COLLECTOR, "gc.pauses", "total_ns", "pause total", NS, TOTAL, 0, NONE) \
	X(GC_PAUSE_MEAN, COLLECTOR, "gc.pauses", "mean_ns", "pause mean", NS, DIST, 0, NONE) \
	X(GC_PAUSE_P50, COLLECTOR, "gc.pauses", "p50_ns", "pause p50", NS, DIST, 0, NONE) \
	X(GC_PAUSE_P95, COLLECTOR, "gc.pauses", "p95_ns", "pause p95", NS, DIST, 0, NONE) \
	X(GC_PAUSE_P99, COLLECTOR, "gc.pauses", "p99_ns", "pause p99", NS, DIST, 0, NONE) \
	X(GC_PAUSE_MAX, COLLECTOR, "gc.pauses", "max_ns", "pause max", NS, DIST, 0, NONE) \
	X(GC_SHARE, COLLECTOR, "gc", "gc_share", "share of run time", RATIO, DIST, 0, NONE) \
	X(GC_RUN, COLLECTOR, "gc", "run_ns", "run time (modelled)", NS, TOTAL, 0, NONE) \
	X(MMU_1MS, COLLECTOR, "gc.mmu", "1ms", "MMU, 1 ms window", RATIO, DIST, 1, NONE) \
	X(MMU_10MS, COLLECTOR, "gc.mmu", "10ms", "MMU, 10 ms window", RATIO, DIST, 1, NONE) \
	X(MMU_100MS, COLLECTOR, "gc.mmu", "100ms", "MMU, 100 ms window", RATIO, DIST, 1, NONE) \
	X(MMU_1S, COLLECTOR, "gc.mmu", "1s", "MMU, 1 s window", RATIO, DIST, 1, NONE)

enum stats_metric {
	STATS_NONE = -1,
#define STATS_ENUM(id, sec, group, key, label, unit, kind, idle, base) STATS_##id,
	STATS_METRICS(STATS_ENUM)
#undef STATS_ENUM
	STATS_COUNT_
};

struct stats_def {
	enum stats_section section;
	const char *group;
	const char *key;
	const char *label;
	enum unit unit;
	enum kind kind;
	double idle;
	int base;               /* enum stats_metric, or STATS_NONE */
};

/* The definitions, indexed by enum stats_metric. */
extern const struct stats_def stats_defs[STATS_COUNT_];

/* Section names ("memory") and titles ("free lists"), by enum stats_section. */
extern const char *const stats_section_name[STATS_NSECTIONS];
extern const char *const stats_section_title[STATS_NSECTIONS];

/*
 * The two tables every policy reports, by columns: X(id, key, label,
 * unit, kind). Rows are named by the layer: a collector names its
 * generations or spaces ("0", "1", "2"; docs/gc.md), the free lists the
 * trace's types. A cell a layer does not have is absent (NaN in the
 * record, left out of JSON).
 */
#define STATS_GEN_TABLE "gc.generations"        /* JSON gc.generations */
#define STATS_GEN_ROW_KEY "name"
#define STATS_GEN_COLUMNS(X) \
	X(COLLECTIONS, "collections", "collections", COUNT, TOTAL) \
	X(COLLECTED, "collected", "collected", OBJECTS, TOTAL) \
	X(COUNT, "count", "count at end", COUNT, FINAL) \
	X(PAUSES, "pauses", "pauses", COUNT, TOTAL) \
	X(PAUSE_TOTAL, "pause_total_ns", "pause total", NS, TOTAL) \
	X(PAUSE_MAX, "pause_max_ns", "pause max", NS, DIST)

/* The free lists' own counts, list by list (freelist.h lists()): one
 * column, "parked" (count, final); rows named by the list. */
#define STATS_LIST_TABLE "freelists.lists"
#define STATS_LIST_ROW_KEY "list"

#define STATS_TYPE_TABLE "freelists.types"      /* JSON freelists.types */
#define STATS_TYPE_ROW_KEY "type"
#define STATS_TYPE_COLUMNS(X) \
	X(HITS, "hits", "hits", COUNT, TOTAL) \
	X(MISSES, "misses", "misses", COUNT, TOTAL) \
	X(BLOCKED, "blocked_bytes", "blocked", BYTES, TOTAL) \
	X(HELD, "held_bytes", "held at end", BYTES, FINAL) \
	X(BLOCKS, "blocks", "blocks at end", COUNT, FINAL) \
	X(BLOCKS_FREED, "blocks_freed", "blocks freed", COUNT, TOTAL)

enum stats_gen_column {
#define STATS_GEN_ENUM_(id, key, label, unit, kind) STATS_GEN_##id,
	STATS_GEN_COLUMNS(STATS_GEN_ENUM_)
#undef STATS_GEN_ENUM_
	STATS_GEN_NCOLS
};

enum stats_type_column {
#define STATS_TYPE_ENUM_(id, key, label, unit, kind) STATS_TYPE_##id,
	STATS_TYPE_COLUMNS(STATS_TYPE_ENUM_)
#undef STATS_TYPE_ENUM_
	STATS_TYPE_NCOLS
};

/* A column of a table: its JSON key, text label, unit and kind. */
struct stats_column {
	const char *key;
	const char *label;
	enum unit unit;
	enum kind kind;
};

extern const struct stats_column stats_gen_columns[STATS_GEN_NCOLS];
extern const struct stats_column stats_type_columns[STATS_TYPE_NCOLS];

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
	double sum_dt;                      /* the run's length in steps' weight */
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
/* The live bytes averaged over the run (jw1's denominator); 0 for an
 * empty run. */
double stats_mean_live(const struct stats_frag *f);

#endif
