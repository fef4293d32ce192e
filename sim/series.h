/*
 * series.h - memory over time for one runtime, in fixed memory.
 *
 * The engine samples every runtime at the same instants: every `step`
 * events, or, once the trace has `@` times, every `step` nanoseconds of
 * trace time (a sample is taken at the first event at or after each
 * multiple of the step). A series keeps at most SERIES_MAX_POINTS points,
 * so its memory does not grow with the trace:
 *
 *  1. With the automatic step the series starts at 1 event (1 us of trace
 *     time once timed) and records every instant.
 *  2. When the buffer fills, every other point is dropped (the ones at
 *     odd multiples of the step, so the kept points stay on multiples of
 *     the doubled step and the newest point survives) and the step
 *     doubles. A long run ends with between SERIES_MAX_POINTS/2 and
 *     SERIES_MAX_POINTS - 1 samples ("about a thousand"), plus a final
 *     point at the last event.
 *  3. A step given by the user is kept until the buffer fills; then the
 *     same halving applies, so a too-small step cannot exhaust memory.
 *
 * Peaks: a sample shows the state at its instant, so a spike between two
 * samples would be missed. Each point therefore also carries the running
 * peaks (RSS, footprint) with the event where each was reached, read from
 * the runtime, which notes them after every event: the peaks in a series
 * are exact wherever they fell, and the last point holds the run's peaks.
 *
 * Cumulative GC time is summed from the collector's pause record as it
 * grows (each pause is read once). The per-collection record and the MMU
 * curve come from the pause record at the end (series_mmu_curve).
 */
#ifndef MEMSIM_SERIES_H
#define MEMSIM_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "gc.h"
#include "runtime.h"

#define SERIES_MAX_POINTS 2048u         /* points kept, even (halving) */
#define SERIES_AUTO_STEP_NS 1000u       /* ns: first step of a timed series */

/* The columns of a point, defined once: X(id, key, unit). The keys name
 * the columns of the .dat files (docs/reports.md). */
#define SERIES_COLUMNS(X) \
	X(EVENT, "event", "events") \
	X(TIME, "time_ns", "ns") \
	X(LIVE, "live_bytes", "bytes") \
	X(ALLOCATED, "allocated_bytes", "bytes") \
	X(FL_HELD, "freelist_held_bytes", "bytes") \
	X(FOOTPRINT, "footprint_bytes", "bytes") \
	X(RSS, "rss_bytes", "bytes") \
	X(ARENAS, "arenas", "count") \
	X(GC_NS, "gc_time_ns", "ns") \
	X(PEAK_RSS, "peak_rss_bytes", "bytes") \
	X(PEAK_RSS_EVENT, "peak_rss_event", "events") \
	X(PEAK_FOOTPRINT, "peak_footprint_bytes", "bytes") \
	X(PEAK_FOOTPRINT_EVENT, "peak_footprint_event", "events")

enum series_column {
#define SERIES_ENUM_(id, key, unit) SERIES_##id,
	SERIES_COLUMNS(SERIES_ENUM_)
#undef SERIES_ENUM_
	SERIES_NCOLS
};

extern const char *const series_column_key[SERIES_NCOLS];

struct series_point {
	uint64_t v[SERIES_NCOLS];
};

enum series_mode { SERIES_BY_EVENTS, SERIES_BY_TIME };

struct series {
	enum series_mode mode;
	uint64_t time_step;     /* ns step to switch to at the first `@`; 0:
	                         * stay by events (a user's event step) */
	uint64_t step;          /* events or ns between samples */
	uint64_t next;          /* event count or time of the next sample */
	struct series_point *pts;       /* SERIES_MAX_POINTS */
	size_t n;
	size_t pauses_seen;     /* pause records already summed */
	uint64_t gc_ns;         /* their total */
	uint64_t halvings;      /* times the buffer was halved */
};

/*
 * Creates an empty series. step_events > 0: sample every step_events
 * events; step_ns > 0: sample every step_ns of trace time (events before
 * the first `@` are sampled as with the automatic step); both 0: the
 * automatic step (1. above). Free with series_destroy.
 */
struct series *series_create(uint64_t step_events, uint64_t step_ns);
void series_destroy(struct series *s);

/* Whether a sample is due after `events` events at trace time time_ns
 * (timed: the trace has had an `@`). Cheap; the engine asks after every
 * event. */
static inline int series_due(const struct series *s, uint64_t events,
			     uint64_t time_ns, int timed)
{
	if (s->mode == SERIES_BY_TIME)
		return time_ns >= s->next;
	if (timed && s->time_step)
		return 1;       /* series_sample switches to time */
	return events >= s->next;
}

/* Records the runtime's state `now` with the collector's pause record
 * p[0..np) (growing; earlier entries unchanged) and schedules the next
 * sample. */
void series_sample(struct series *s, const struct runtime_now *now,
		   const struct gc_pause *p, size_t np);

/* Records the final state unless the last point already is at its event. */
void series_finish(struct series *s, const struct runtime_now *now,
		   const struct gc_pause *p, size_t np);

/* Checks the invariants (points in event order, within capacity);
 * 0, or -1 with a message. */
int series_check(const struct series *s, char *msg, size_t msglen);

/*
 * The MMU curve: for n windows spaced evenly on a log scale from min_ns
 * to run_ns (or one window of run_ns if min_ns >= run_ns), fills
 * window_ns[i] and mmu[i] (pause_mmu over the pause record p[0..np) of a
 * run of run_ns). Returns the number of windows written (<= n).
 */
size_t series_mmu_curve(const struct gc_pause *p, size_t np, uint64_t run_ns,
			uint64_t min_ns, size_t n, uint64_t *window_ns, double *mmu);

#endif
