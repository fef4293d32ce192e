/*
 * engine.h - the replay loop: one pass over a trace, every event to every
 * policy instance.
 *
 * The trace is decoded once and every event is fed to every runtime, so
 * comparing N policies costs one parse plus N simulations, spread over
 * threads (engine.c says how). An error stops the replay: the earliest
 * event any runtime rejects names the problem (the first such policy
 * when several reject it), located at its file, line and text.
 */
#ifndef MEMSIM_ENGINE_H
#define MEMSIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"
#include "record.h"
#include "trace.h"

/* Called every so often during a replay (for a progress line). */
struct engine_observer {
	void *ctx;
	void (*tick)(void *ctx, const struct trace_reader *r);
};

/* Time series sampling (series.h): off unless `on`; steps of 0 choose
 * the automatic step. */
struct engine_sampling {
	int on;
	uint64_t step_events;   /* events between samples, or 0 */
	uint64_t step_ns;       /* trace ns between samples, or 0 */
};

/* How to run a replay. */
#define ENGINE_JOBS_AUTO (-1)
struct engine_opts {
	const struct engine_observer *obs;      /* NULL: none */
	const struct engine_sampling *sampling; /* NULL: no sampling */
	/*
	 * Simulation threads beside the reading thread: ENGINE_JOBS_AUTO
	 * for one per CPU (at most one per policy), 0 to read and simulate
	 * in the calling thread. Results do not depend on it.
	 */
	int jobs;
};

/*
 * Marks (trace version 2): the engine adds the trace's marks to the
 * record (record_add_mark) and, at each of the first 8 marks, snapshots
 * every lane's arena occupancy into its record policy ("mark:LABEL",
 * after "peak_footprint" and "end"), with a warning when a trace has
 * more marks. The reading thread adds every recorded collection
 * (`g GEN` ... `g`: its generation, the frees inside, its pause) with
 * record_add_collection; a version-1 trace skips that pass.
 *
 * Replays `path` under policies[0..n). Returns 0 with *out filled: the
 * trace's frozen results (record.h; free with record_trace_free), the
 * runtimes and the reader already freed. On error returns an exit status
 * with err filled, and *out is left empty.
 */
int engine_replay_opts(const char *path, struct policy *const *policies,
		       size_t n, const struct engine_opts *opts,
		       struct record_trace *out, struct ms_error *err);

/* engine_replay_opts with the observer only and the default threads. */
int engine_replay(const char *path, struct policy *const *policies, size_t n,
		  const struct engine_observer *obs, struct record_trace *out,
		  struct ms_error *err);

#endif
