/*
 * record.h - the results of a replay, frozen: what every output reads.
 *
 * When a replay ends, each runtime is frozen into a record_policy (its
 * metrics, tables, allocator details with units, series, pauses, arena
 * occupancy snapshots, warnings), and the runtimes and the trace reader
 * are freed. Every output format (report.h: text, JSON, CSV, plots, the
 * HTML page, and later ones) reads only the record; none calls into a
 * live simulation object. The JSON form is a lossless serialisation:
 * record_load_json (report.h) reads it back into an equal record, so
 * results of many replays can be merged and reported as one
 * (docs/reports.md documents the schema).
 *
 *   record                      one report: its traces, in the order given
 *     warnings                  strings (about the whole report)
 *     record_trace              one trace
 *       name, metadata, events, timed
 *       marks                   named points of the run (label, event, time)
 *       recorded                the recorded runtime's own collections (`g`)
 *       warnings
 *       record_policy           one policy on that trace, in -p order
 *         name, summary, the layers' policy names, measured
 *         m[STATS_COUNT_]       the scalar metrics (stats.h), NaN = absent
 *         counters              allocator details: group, key, label,
 *                               unit, kind, value
 *         tables                named tables with typed columns: the
 *                               collector's generations, the free lists by
 *                               type, allocator tables; later explained
 *                               RSS and retention
 *         series                sampled memory over time (when sampled)
 *         pauses                every collection (event, start, pause, ...)
 *         occupancy             arenas' pools in use at the peak
 *                               footprint, at the end and at marks
 *         warnings
 *
 * Ownership: a record owns every string and array in it; record_free
 * releases them. Values are doubles (counts below 2^53 are exact).
 */
#ifndef MEMSIM_RECORD_H
#define MEMSIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "gc.h"
#include "series.h"
#include "stats.h"
#include "unit.h"

/* A list of owned strings. */
struct record_strings {
	char **v;
	size_t n;
};

/* A named point of the run (trace `m LABEL`): plots place it on their
 * time axes. */
struct record_mark {
	char *label;
	uint64_t event;         /* 1-based event of the mark */
	uint64_t time_ns;       /* trace time then (0 if untimed) */
};

/* A collection the recorded runtime made itself (trace `g GEN ... g`). */
struct record_collection {
	uint64_t event;         /* 1-based event of the opening `g` */
	uint64_t time_ns;
	uint32_t generation;
	uint64_t freed;         /* objects freed between the two lines */
	uint64_t pause_ns;      /* the `@` time at the closing line minus
				 * time_ns (0 in an untimed trace) */
};

/* One allocator counter (details()): in JSON "<group>": {"<key>": value}. */
struct record_counter {
	char *group;            /* the allocator policy: "pymalloc", "glibc" */
	char *key;
	char *label;
	enum unit unit;
	enum kind kind;
	double value;
};

struct record_column {
	char *key;
	char *label;
	enum unit unit;
	enum kind kind;
};

/*
 * A table: rows of typed columns. `name` is a dotted JSON path
 * ("gc.generations", "freelists.types", "pymalloc.size_classes"); rows
 * are named under `row_key` ("name", "type") unless row_key is NULL
 * (then rows are only numbered). cells[r * ncols + c]; NaN = absent.
 */
struct record_table {
	char *name;
	char *row_key;
	struct record_column *cols;
	size_t ncols;
	char **rows;            /* row names (NULL when row_key is NULL) */
	double *cells;
	size_t nrows;
};

/* Pools in use and usable per arena, in address order, at one instant. */
struct record_occupancy {
	char *at;               /* "peak_footprint", "end", or "mark:LABEL" */
	uint64_t event;         /* 1-based event it was taken after */
	uint32_t *in_use, *usable;
	size_t n;               /* arenas */
};

struct record_policy {
	char *name, *summary;
	char *allocator, *system, *freelists, *gc;  /* the layers' policy names */
	int measured;           /* 1: the allocator's numbers were measured on a
	                         * real allocator, not modelled */
	double m[STATS_COUNT_];
	struct record_counter *counters;
	size_t ncounters;
	struct record_table *tables;
	size_t ntables;
	int sampled;            /* series is meaningful */
	struct series_point *series;
	size_t nseries;
	struct gc_pause *pauses;
	size_t npauses;
	struct record_occupancy *occupancy;
	size_t noccupancy;
	struct record_strings warnings;
};

struct record_trace {
	char *name;
	char *metadata;         /* the header's JSON object as text, or NULL */
	uint64_t events;
	int timed;              /* the trace has `@` times */
	struct record_mark *marks;
	size_t nmarks;
	struct record_collection *recorded;
	size_t nrecorded;
	struct record_strings warnings;
	struct record_policy *pol;
	size_t npol;
};

struct record {
	struct record_trace *traces;
	size_t ntraces;
	struct record_strings warnings;
	char *baseline;         /* the baseline a loaded report was written
	                         * with (record_load_json), or NULL */
};

struct runtime;

/*
 * Freezes a finished runtime (runtime_finish called) and its series
 * (NULL when not sampled) into *out. The runtime is only read; the
 * caller may destroy it and the series afterwards.
 */
void record_freeze_policy(struct record_policy *out, const struct runtime *rt,
			  const struct series *s);

/*
 * Adds a snapshot of the runtime's arena occupancy now, taken after
 * 1-based event `event`, under the name `at` (e.g. "mark:LABEL" while a
 * replay passes a mark). Nothing for an allocator without arenas.
 */
void record_note_occupancy(struct record_policy *out, const struct runtime *rt,
			   const char *at, uint64_t event);

/* Adds a snapshot from arrays (copied) of n arenas. */
void record_add_occupancy(struct record_policy *out, const char *at, uint64_t event,
			  const uint32_t *in_use, const uint32_t *usable, size_t n);

/* Appends a trace (zeroed) to rec and returns it. */
struct record_trace *record_add_trace(struct record *rec);

void record_trace_free(struct record_trace *t);
void record_policy_free(struct record_policy *p);
/* Frees everything rec holds; rec itself is left empty. */
void record_free(struct record *rec);

/* Appends a copy of the printf-formatted string to the list. */
void record_warn(struct record_strings *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void record_add_mark(struct record_trace *t, const char *label, uint64_t event,
		     uint64_t time_ns);
void record_add_collection(struct record_trace *t, const struct record_collection *c);

/* The recorded collections of one generation, summed: what reports put
 * beside the modelled collector's rows. Pause percentiles are nearest
 * rank, as the modelled ones (pause.h); all 0 in an untimed trace. */
struct record_gc_summary {
	uint32_t generation;
	uint64_t collections, freed;
	uint64_t pause_total_ns, pause_p50_ns, pause_p95_ns, pause_p99_ns, pause_max_ns;
};

/* One summary per generation the trace's recorded collections name, in
 * increasing generation order, into a new array *out (free() it);
 * returns how many (0, and *out NULL, when there are none). */
size_t record_recorded_gens(const struct record_trace *t, struct record_gc_summary **out);

/*
 * Adds an empty table with `ncols` columns copied from cols (keys,
 * labels) and returns it; rows are added with record_table_row.
 */
struct record_table *record_add_table(struct record_policy *p, const char *name,
				      const char *row_key,
				      const struct record_column *cols, size_t ncols);
/* Appends a row (name copied; NULL for an unnamed table) whose cells
 * are all absent, and returns its cells. */
double *record_table_row(struct record_table *t, const char *name);

/* The table named `name`, or NULL. */
const struct record_table *record_table_find(const struct record_policy *p,
					     const char *name);
/* The column of t with `key`, or -1. */
int record_table_col(const struct record_table *t, const char *key);

/* The occupancy snapshot taken `at` ("peak_footprint", "end"), or NULL. */
const struct record_occupancy *record_occupancy_find(const struct record_policy *p,
						     const char *at);

/* Index of the policy named `name` in t, or SIZE_MAX. */
size_t record_policy_index(const struct record_trace *t, const char *name);

/* Whether metric m is present (not NaN) for p. */
int record_has(const struct record_policy *p, int m);

/* Checks the record's invariants (tables' shapes, series in order,
 * pauses sorted by start); 0, or -1 with a message. */
int record_check(const struct record *rec, char *msg, size_t msglen);

#endif
