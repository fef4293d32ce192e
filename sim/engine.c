/*
 * engine.c - the replay loop (see engine.h).
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xalloc.h"

#define ENGINE_TICK 65536u      /* events between observer calls */

static int feed(struct engine_run *run, const struct trace_event *ev,
		const struct trace_reader *r, struct ms_error *err)
{
	for (size_t i = 0; i < run->n; i++) {
		if (runtime_apply(run->rt[i], ev, err) != 0) {
			if (i > 0) {
				/* Only a collector can make the policies disagree
				 * about what is live: say which one did. */
				size_t len = strlen(err->msg);

				snprintf(err->msg + len, sizeof err->msg - len,
					 " (under policy %s)",
					 runtime_policy(run->rt[i])->name);
			}
			trace_locate(r, err);
			return err->code;
		}
	}
	return 0;
}

/* Samples every runtime at the instant series[0] says is due: the
 * runtimes see the same events, so one schedule serves them all. */
static void sample(struct engine_run *run, int final)
{
	for (size_t i = 0; i < run->n; i++) {
		struct runtime_now now;
		const struct gc_pause *p;
		size_t np;

		runtime_now(run->rt[i], &now);
		p = runtime_pauses(run->rt[i], &np);
		if (final)
			series_finish(run->series[i], &now, p, np);
		else
			series_sample(run->series[i], &now, p, np);
	}
}

int engine_replay(const char *path, struct policy *const *policies, size_t n,
		  const struct engine_observer *obs, struct engine_run *out,
		  struct ms_error *err)
{
	return engine_replay_sampled(path, policies, n, obs, NULL, out, err);
}

int engine_replay_sampled(const char *path, struct policy *const *policies,
			  size_t n, const struct engine_observer *obs,
			  const struct engine_sampling *samp,
			  struct engine_run *out, struct ms_error *err)
{
	uint64_t time_ns = 0;
	int timed = 0;
	struct trace_reader *r = trace_open(path, err);
	struct trace_event ev;
	uint64_t next_tick = ENGINE_TICK;
	int rc, status = 0;

	memset(out, 0, sizeof *out);
	if (!r)
		return err->code;
	out->n = n;
	out->rt = xcalloc(n, sizeof *out->rt);
	for (size_t i = 0; i < n; i++)
		out->rt[i] = runtime_create(policies[i], trace_types(r));
	if (samp && samp->on && n > 0) {
		out->series = xcalloc(n, sizeof *out->series);
		for (size_t i = 0; i < n; i++)
			out->series[i] = series_create(samp->step_events, samp->step_ns);
	}
	while ((rc = trace_next(r, &ev, err)) > 0) {
		if (feed(out, &ev, r, err) != 0) {
			status = err->code;
			break;
		}
		if (ev.kind == TRACE_TIME) {
			time_ns = ev.u.time;
			timed = 1;
		}
		if (out->series &&
		    series_due(out->series[0], trace_event_count(r), time_ns, timed))
			sample(out, 0);
		if (obs && trace_event_count(r) >= next_tick) {
			next_tick += ENGINE_TICK;
			obs->tick(obs->ctx, r);
		}
	}
	if (rc < 0)
		status = err->code ? err->code : MS_EXIT_DATAERR;
	if (status == 0) {
		for (size_t i = 0; i < n; i++)
			runtime_finish(out->rt[i]);
		if (out->series)
			sample(out, 1);
		out->trace = xstrdup(trace_name(r));
		out->metadata = trace_metadata(r) ? xstrdup(trace_metadata(r)) : NULL;
		out->events = trace_event_count(r);
	}
	out->reader = r;
	if (status != 0)
		engine_run_free(out);
	return status;
}

void engine_run_free(struct engine_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		runtime_destroy(run->rt[i]);
		if (run->series)
			series_destroy(run->series[i]);
	}
	free(run->rt);
	free(run->series);
	trace_close(run->reader);
	free(run->trace);
	free(run->metadata);
	memset(run, 0, sizeof *run);
}
