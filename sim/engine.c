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

/*
 * Read-ahead: the simulation is bound by memory latency (every event lands
 * on a random object of a large table), so the engine decodes events
 * ENGINE_AHEAD ahead of the one it applies, asks every runtime to start
 * loading the ID map entries they name at once (stage 0) and the objects
 * themselves ENGINE_NEAR events before their turn (stage 1), when the map
 * entries have arrived. For events that may free or resize a block, the
 * allocator's tables follow ENGINE_FREE0 events before (stage 2, once the
 * object has arrived) and ENGINE_FREE1 (stage 3, the next level): see
 * runtime_prefetch. Events are still applied one by one, in order.
 * An error in an event applied while later ones were already read is
 * located by reading the trace again up to it (engine_locate); standard
 * input cannot be read twice, so it is replayed without read-ahead.
 */
#define ENGINE_AHEAD 16u        /* a power of two */
#define ENGINE_NEAR 8u
#define ENGINE_FREE0 5u         /* < ENGINE_NEAR */
#define ENGINE_FREE1 2u         /* < ENGINE_FREE0 */

/* Fills err's location with that of event number `index` (from 0) of
 * the trace at `path`, by reading it again; the message is kept. */
static void engine_locate(const char *path, uint64_t index,
			  const struct trace_reader *fallback, struct ms_error *err)
{
	struct ms_error e2;
	struct trace_reader *r = trace_open(path, &e2);
	struct trace_event ev;
	uint64_t n = 0;

	if (r) {
		while (n <= index && trace_next(r, &ev, &e2) > 0)
			n++;
		if (n == index + 1) {
			trace_locate(r, err);
			trace_close(r);
			return;
		}
		trace_close(r);
	}
	trace_locate(fallback, err);    /* the file changed under us */
}

static int feed(struct engine_run *run, const struct trace_event *ev,
		struct ms_error *err)
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
			return err->code;
		}
	}
	return 0;
}

static void prefetch(struct engine_run *run, const struct trace_event *ev, int stage)
{
	for (size_t i = 0; i < run->n; i++)
		runtime_prefetch(run->rt[i], ev, stage);
}

/* Stages 2 and 3 concern only events that may free or resize a block;
 * the others are filtered here, once for all runtimes. */
static int may_free(const struct trace_event *ev)
{
	return ev->kind == TRACE_FREE || ev->kind == TRACE_RESIZE ||
	       ev->kind == TRACE_REF_DROP;
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

/* Sampling is due after the event just fed: by events (fed so far; the
 * reader itself runs ahead) or, once the trace has `@`, by trace time. */
static void maybe_sample(struct engine_run *out, const struct trace_event *ev,
			 uint64_t fed, uint64_t *time_ns, int *timed)
{
	if (ev->kind == TRACE_TIME) {
		*time_ns = ev->u.time;
		*timed = 1;
	}
	if (out->series && series_due(out->series[0], fed, *time_ns, *timed))
		sample(out, 0);
}

int engine_replay_sampled(const char *path, struct policy *const *policies,
			  size_t n, const struct engine_observer *obs,
			  const struct engine_sampling *samp,
			  struct engine_run *out, struct ms_error *err)
{
	struct trace_reader *r = trace_open(path, err);
	struct trace_event ring[ENGINE_AHEAD];
	struct ms_error rerr;           /* the reader's error, once reached */
	uint64_t next_tick = ENGINE_TICK, fed = 0, time_ns = 0;
	unsigned head = 0, nbuf = 0, ahead;
	int rc = 1, status = 0, timed = 0;

	memset(out, 0, sizeof *out);
	memset(&rerr, 0, sizeof rerr);
	if (!r)
		return err->code;
	ahead = strcmp(path, "-") == 0 ? 1u : ENGINE_AHEAD;
	out->n = n;
	out->rt = xcalloc(n, sizeof *out->rt);
	for (size_t i = 0; i < n; i++)
		out->rt[i] = runtime_create(policies[i], trace_types(r));
	if (samp && samp->on && n > 0) {
		out->series = xcalloc(n, sizeof *out->series);
		for (size_t i = 0; i < n; i++)
			out->series[i] = series_create(samp->step_events, samp->step_ns);
	}
	for (;;) {
		while (rc > 0 && nbuf < ahead) {
			struct trace_event *ev = &ring[(head + nbuf) & (ENGINE_AHEAD - 1)];

			rc = trace_next(r, ev, &rerr);
			if (rc > 0) {
				if (ahead > 1)
					prefetch(out, ev, 0);
				nbuf++;
			}
		}
		if (nbuf == 0)
			break;
		if (nbuf > ENGINE_NEAR)
			prefetch(out, &ring[(head + ENGINE_NEAR) & (ENGINE_AHEAD - 1)], 1);
		if (nbuf > ENGINE_FREE0 &&
		    may_free(&ring[(head + ENGINE_FREE0) & (ENGINE_AHEAD - 1)]))
			prefetch(out, &ring[(head + ENGINE_FREE0) & (ENGINE_AHEAD - 1)], 2);
		if (nbuf > ENGINE_FREE1 &&
		    may_free(&ring[(head + ENGINE_FREE1) & (ENGINE_AHEAD - 1)]))
			prefetch(out, &ring[(head + ENGINE_FREE1) & (ENGINE_AHEAD - 1)], 3);
		if (feed(out, &ring[head], err) != 0) {
			status = err->code;
			if (ahead > 1 && nbuf + (rc < 0) > 1)
				engine_locate(path, fed, r, err);
			else
				trace_locate(r, err);
			break;
		}
		fed++;
		maybe_sample(out, &ring[head], fed, &time_ns, &timed);
		head = (head + 1) & (ENGINE_AHEAD - 1);
		nbuf--;
		if (obs && fed >= next_tick) {
			next_tick += ENGINE_TICK;
			obs->tick(obs->ctx, r);
		}
	}
	if (status == 0 && rc < 0) {
		*err = rerr;
		status = err->code ? err->code : MS_EXIT_DATAERR;
	}
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
