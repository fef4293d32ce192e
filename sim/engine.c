/*
 * engine.c - the replay loop (see engine.h).
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int engine_replay(const char *path, struct policy *const *policies, size_t n,
		  const struct engine_observer *obs, struct engine_run *out,
		  struct ms_error *err)
{
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
	while ((rc = trace_next(r, &ev, err)) > 0) {
		if (feed(out, &ev, r, err) != 0) {
			status = err->code;
			break;
		}
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
	for (size_t i = 0; i < run->n; i++)
		runtime_destroy(run->rt[i]);
	free(run->rt);
	trace_close(run->reader);
	free(run->trace);
	free(run->metadata);
	memset(run, 0, sizeof *run);
}
