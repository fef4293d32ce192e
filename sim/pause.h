/*
 * pause.h - the record of collector pauses and its statistics.
 *
 * A collector appends one struct gc_pause per collection; at the end the
 * record yields the pause distribution (count, total, mean, nearest-rank
 * percentiles, max), the share of run time spent collecting and the
 * minimum mutator utilisation (MMU) for a set of window widths.
 *
 * MMU(w) (Cheng and Blelloch, PLDI 2001): over every window [t, t+w] of
 * the run's timeline [0, T] (0 <= t <= T-w), the least fraction of the
 * window not spent in pauses. Pauses are disjoint intervals on the
 * timeline (they extend it, gc.h). The paused time in [t, t+w] is
 * P(t+w) - P(t) with P(x) the paused time in [0, x], a piecewise-linear
 * function whose slope changes only at pause boundaries; so the worst
 * window starts at 0, at T-w, at a pause boundary b or at b - w. The
 * computation evaluates exactly those candidates, O(n log n). A window
 * wider than the run is the run itself: MMU = 1 - paused / T.
 */
#ifndef MEMSIM_PAUSE_H
#define MEMSIM_PAUSE_H

#include <stddef.h>
#include <stdint.h>

#include "gc.h"

struct pause_log {
	struct gc_pause *v;     /* in timeline order */
	size_t n, cap;
	uint64_t total_ns;      /* sum of pause_ns */
};

void pause_log_init(struct pause_log *log);
void pause_log_free(struct pause_log *log);

/* Appends a pause; the caller fills every field (start_ns already on the
 * extended timeline: mutator time + log->total_ns before the append). */
void pause_log_add(struct pause_log *log, const struct gc_pause *p);

/* pause_ns = a*examined + b*traversed + c, rounded to the nearest ns
 * (never negative). a: ns per object, b: ns per reference, c: ns. */
uint64_t pause_cost(double a, double b, double c, uint64_t examined,
		    uint64_t traversed);

/* The nearest-rank percentile of n sorted values: the value of rank
 * ceil(pct/100 * n) (1-based), 0 for n == 0. pct in 1..100. */
uint64_t pause_percentile(const uint64_t *sorted, size_t n, unsigned pct);

/* MMU for window w (ns) over the timeline [0, run_ns] with the n pauses
 * (disjoint, sorted by start, inside the timeline). 1.0 for an empty
 * timeline. */
double pause_mmu(const struct gc_pause *p, size_t n, uint64_t run_ns,
		 uint64_t window_ns);

/* Fills the pause fields of `out` (pauses, pause_*_ns, run_ns, gc_share,
 * mmu) from the log, for a run whose mutator time is mutator_ns. */
void pause_summary(const struct pause_log *log, uint64_t mutator_ns,
		   struct gc_stats *out);

#endif
