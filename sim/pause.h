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

/*
 * The cost model's and the clock's parameters, which every collector
 * has: pause = object_ns x examined + ref_ns x traversed + fixed_ns per
 * collection (docs/gc.md, "Cost model and time"), and the mutator time
 * of an event when the trace has no `@` times.
 */
struct pause_costs {
	double object_ns;               /* ns per examined object */
	double ref_ns;                  /* ns per traversed reference */
	double fixed_ns;                /* ns per collection */
	double mutator_ns_per_event;    /* ns */
};

/* tools/calibrate-gc's fit for CPython 3.13.0 (the cpython-3.13 preset
 * sets the same) and the mutator default of gc_generational.c: the
 * defaults of the collectors after 3.13 (3.14.0, 3.13t), for which no
 * interpreter is at hand to calibrate against (docs/gc.md). */
#define PAUSE_COSTS_CPYTHON_3_13 \
	{ .object_ns = 12.98, .ref_ns = 2.25, .fixed_ns = 690.0, \
	  .mutator_ns_per_event = 15.0 }

/* The knob-table entries of a struct pause_costs at byte offset OFF of
 * a policy's parameters. */
#define PAUSE_COST_KNOBS(OFF) \
	{ .name = "cost_object_ns", .kind = KNOB_DOUBLE, \
	  .offset = (OFF) + offsetof(struct pause_costs, object_ns), \
	  .min = 0, .max = 1000000, .unit = "ns", \
	  .doc = "pause cost per examined object" }, \
	{ .name = "cost_ref_ns", .kind = KNOB_DOUBLE, \
	  .offset = (OFF) + offsetof(struct pause_costs, ref_ns), \
	  .min = 0, .max = 1000000, .unit = "ns", \
	  .doc = "pause cost per traversed reference" }, \
	{ .name = "cost_fixed_ns", .kind = KNOB_DOUBLE, \
	  .offset = (OFF) + offsetof(struct pause_costs, fixed_ns), \
	  .min = 0, .max = 1000000000, .unit = "ns", \
	  .doc = "pause cost per collection" }, \
	{ .name = "mutator_ns_per_event", .kind = KNOB_DOUBLE, \
	  .offset = (OFF) + offsetof(struct pause_costs, mutator_ns_per_event), \
	  .min = 0, .max = 1000000000, .unit = "ns", \
	  .doc = "mutator time per trace event when the trace has no `@` times" }

/* pause_cost() with c's coefficients; `fixed` is 1 to add fixed_ns. */
uint64_t pause_costs_ns(const struct pause_costs *c, uint64_t examined,
			uint64_t traversed, int fixed);

/* The mutator time now (gc.h, struct gc_clock): the `@` time, or event x
 * mutator_ns_per_event; never below *last_ns (a trace whose first `@`
 * comes late must not move time backwards), which it updates. clock may
 * be NULL (time 0). */
uint64_t pause_mutator_now(const struct gc_clock *clock,
			   const struct pause_costs *c, uint64_t *last_ns);

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
