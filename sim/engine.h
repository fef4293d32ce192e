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
#include "runtime.h"
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

struct series;

/* The outcome of one trace. */
struct engine_run {
	char *trace;            /* name as the reader reports it */
	char *metadata;         /* header JSON or NULL */
	uint64_t events;
	struct runtime **rt;    /* one per policy, in the order given */
	struct series **series; /* one per policy when sampling, else NULL */
	size_t n;
	/* Kept open until engine_run_free: the runtimes report type names
	 * from its type table. */
	struct trace_reader *reader;
	/* What the report must say about this trace's replay (facts.h):
	 * policies adjusted to the trace's facts, families with nothing to
	 * act on. Sentences, in order. */
	char **warnings;
	size_t nwarnings;
	struct policy **adjusted;   /* per policy: the one replayed, or NULL */
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
 * Replays `path` under policies[0..n). Returns 0 with *out filled (free
 * with engine_run_free), or an exit status with err filled; nothing is
 * kept on error.
 */
int engine_replay_opts(const char *path, struct policy *const *policies,
		       size_t n, const struct engine_opts *opts,
		       struct engine_run *out, struct ms_error *err);

/* engine_replay_opts with the observer only and the default threads. */
int engine_replay(const char *path, struct policy *const *policies, size_t n,
		  const struct engine_observer *obs, struct engine_run *out,
		  struct ms_error *err);

void engine_run_free(struct engine_run *run);

#endif
