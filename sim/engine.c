/*
 * engine.c - the replay loop (see engine.h).
 *
 * The trace is decoded once, into batches of events. Each policy instance
 * (a runtime) is a "lane" that consumes every batch in order. With
 * simulation threads (the default), the calling thread only reads: it
 * fills a ring of batches while worker threads, each owning a fixed set of
 * lanes, simulate the batches already published. Runtimes share nothing
 * mutable (the type table's names never move, typetab.c), so the lanes
 * need no locking beyond the hand-over of batches. With jobs = 0 one
 * thread reads a batch, then feeds it to every lane itself.
 *
 * Within a batch a lane runs alone over all its events (runtime-major),
 * so its own tables stay in the cache, and it hides memory latency by
 * prefetching: every event names a random object of a large table, so
 * the lane asks its runtime to start loading, in the heap's three stages
 * (heap.h, "Prefetching"), the ID map entries of the event ENGINE_AHEAD
 * ahead, the objects and the layers' state of them ENGINE_NEAR ahead once
 * those entries have arrived, and, for events that may free or move a
 * block, what the layers will read beyond that ENGINE_DYING ahead.
 * Events are still applied one by one, in order.
 *
 * Errors: each lane stops at the first event its runtime rejects; the
 * replay reports the earliest such event, and among lanes failing on the
 * same event the first policy, which is what feeding every event to every
 * policy in turn would report. Events after the earliest failure need not
 * be read or simulated. The failing event is located by reading the trace
 * again up to it (engine_locate), since the reader has moved on; standard
 * input cannot be read twice, so it is read one event per batch and the
 * reader still stands on the failing event.
 */
#include "engine.h"

#include "facts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "series.h"
#include "xalloc.h"

#define ENGINE_TICK 65536u      /* events between observer calls */
/* Prefetch distances of the heap's stages (heap.h), in events; -D may
 * set them for a measurement build (docs/performance.md). */
#ifndef ENGINE_AHEAD
#define ENGINE_AHEAD 16u        /* HEAP_PF_MAP */
#endif
#ifndef ENGINE_NEAR
#define ENGINE_NEAR 8u          /* HEAP_PF_OBJ */
#endif
#ifndef ENGINE_DYING
#define ENGINE_DYING 4u         /* HEAP_PF_DYING */
#endif
#define BATCH_EVENTS 4096u      /* 128 KiB of events: stays in L2 */
#define RING_BATCHES 8u         /* batches in flight between threads */
#define NO_FAILURE UINT64_MAX

struct batch {
	uint64_t first;         /* index of ev[0] in the trace */
	uint32_t n;
	struct event ev[BATCH_EVENTS];
};

/* One runtime's progress through the trace. */
struct lane {
	size_t policy;          /* index in the run, for the error's suffix */
	struct runtime *rt;
	struct series *series;  /* NULL unless sampling */
	uint64_t time_ns;       /* the last `@` seen */
	int timed;
	uint64_t fail_at;       /* event it rejected, or NO_FAILURE */
	struct ms_error err;
	uint64_t next_check;    /* debug builds: events fed at the next check */
	/* Arena occupancy at each `m` mark, in trace order, under the
	 * placeholder name "mark": the label table belongs to the reading
	 * thread, so finish() names them once reading is over. */
	struct record_policy at_marks;
	uint64_t marks_seen;
};

struct pipeline;

struct worker {
	struct pipeline *p;
	pthread_t thread;
	size_t index;           /* owns lanes index, index + nworkers, ... */
	uint64_t done;          /* batches finished */
};

/* The ring of batches between the reader and the workers. */
struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t more;    /* a batch was published, or the end */
	pthread_cond_t room;    /* a batch was finished by every worker */
	struct batch *ring;
	uint64_t published;     /* batches */
	int finished;           /* the reader published its last batch */
	uint64_t stop_at;       /* earliest failed event so far */
	struct worker *workers;
	size_t nworkers;
	struct lane *lanes;
	struct policy **adjusted; /* per lane: the policy replayed in place of
				   * the one given (facts_adjust), or NULL */
	size_t nlanes;
};

/* Fills err's location with that of event number `index` (from 0) of
 * the trace at `path`, by reading it again; the message is kept. */
static void engine_locate(const char *path, uint64_t index,
			  const struct trace_reader *fallback, struct ms_error *err)
{
	struct ms_error e2;
	struct trace_reader *r = trace_open(path, &e2);
	struct event ev;
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

/* ---- one lane over one batch ---- */

/* Records the lane's state now into its series: a sample, or the final
 * point. */
static void lane_record(const struct lane *l, int final)
{
	struct runtime_now now;
	const struct gc_pause *p;
	size_t np;

	if (!final)
		runtime_sync(l->rt);    /* a real: policy measures here */
	runtime_now(l->rt, &now);
	p = runtime_pauses(l->rt, &np);
	if (final)
		series_finish(l->series, &now, p, np);
	else
		series_sample(l->series, &now, p, np);
}

/* Samples the lane when its series says so, after event number fed - 1. */
static void lane_sample(struct lane *l, const struct event *ev, uint64_t fed)
{
	if (ev->kind == EVENT_TIME) {
		l->time_ns = ev->u.time;
		l->timed = 1;
	}
	if (series_due(l->series, fed, l->time_ns, l->timed))
		lane_record(l, 0);
}

static void lane_fail(struct lane *l, uint64_t index, const struct ms_error *err,
		      const char *policy_name)
{
	l->fail_at = index;
	l->err = *err;
	if (l->policy > 0) {
		/* Only a collector can make the policies disagree about
		 * what is live: say which one did. */
		size_t len = strlen(l->err.msg);

		snprintf(l->err.msg + len, sizeof l->err.msg - len,
			 " (under policy %s)", policy_name);
	}
}

#ifdef MEMSIM_DEBUG
/*
 * Debug builds (make check, make asan, the fuzzers) run every layer's
 * validator (runtime_check) after every ENGINE_CHECK_MIN events or, once
 * the live set is bigger, after as many events as there are live objects:
 * a check reads the whole state, so its cost per event stays bounded
 * (docs/testing.md). A broken invariant fails the lane at the event after
 * which it was found, with status 70 (MS_EXIT_SOFTWARE).
 */
#define ENGINE_CHECK_MIN 4096u

/* Checks the lane's runtime after event `index`; 0, or the failure. */
static int lane_check(struct lane *l, uint64_t index)
{
	struct ms_error err;
	uint64_t live = runtime_live_objects(l->rt), every = index + 1;

	/* 1, 2, 4, ... events, then every ENGINE_CHECK_MIN: short traces
	 * (the tests' and the fuzzers') are checked early and often. */
	if (every > ENGINE_CHECK_MIN)
		every = ENGINE_CHECK_MIN;
	if (every < live)
		every = live;
	ms_error_clear(&err);
	l->next_check = index + 1 + every;
	if (runtime_check(l->rt, &err) == 0)
		return 0;
	lane_fail(l, index, &err, runtime_policy(l->rt)->name);
	return err.code;
}
#define LANE_CHECK_DUE(l, index) ((index) + 1 >= (l)->next_check)
#define ENGINE_CHECK_FIRST 1u
#else
#define lane_check(l, index) 0
#define LANE_CHECK_DUE(l, index) 0
#define ENGINE_CHECK_FIRST 0u
#endif

/* Stage 2 concerns only events that may free or resize a block. */
static int may_free(const struct event *ev)
{
	return ev->kind == EVENT_FREE || ev->kind == EVENT_RESIZE ||
	       ev->kind == EVENT_REF_DROP;
}

/*
 * Occupancy snapshots are taken at the first ENGINE_MARK_SNAPSHOTS marks
 * only: each holds two counts per arena, so a trace that marks every
 * request would otherwise grow the record with its length; the report
 * says when marks were left without one.
 */
#define ENGINE_MARK_SNAPSHOTS 8u

/* At a mark: the allocator's arena occupancy now, named in finish(). */
static void lane_mark(struct lane *l)
{
	struct runtime_now now;

	if (l->marks_seen++ >= ENGINE_MARK_SNAPSHOTS)
		return;
	runtime_now(l->rt, &now);
	record_note_occupancy(&l->at_marks, l->rt, "mark", now.events);
}

/* Feeds the batch's events up to index `stop` (inclusive) to the lane. */
static void lane_feed(struct lane *l, const struct batch *b, uint64_t stop)
{
	const struct event *ev = b->ev;
	struct ms_error err;
	uint32_t n = b->n;

	if (l->fail_at != NO_FAILURE || stop < b->first)
		return;
	ms_error_clear(&err);   /* a runtime sets the code and message only */
	if (stop - b->first < n)
		n = (uint32_t)(stop - b->first + 1);
	for (uint32_t k = 0; k < n && k < ENGINE_AHEAD; k++)
		runtime_prefetch(l->rt, &ev[k], 0);
	for (uint32_t k = 0; k < n; k++) {
		if (k + ENGINE_AHEAD < n)
			runtime_prefetch(l->rt, &ev[k + ENGINE_AHEAD], 0);
		if (k + ENGINE_NEAR < n)
			runtime_prefetch(l->rt, &ev[k + ENGINE_NEAR], 1);
		if (k + ENGINE_DYING < n && may_free(&ev[k + ENGINE_DYING]))
			runtime_prefetch(l->rt, &ev[k + ENGINE_DYING], 2);
		if (runtime_apply(l->rt, &ev[k], &err) != 0) {
			lane_fail(l, b->first + k, &err, runtime_policy(l->rt)->name);
			return;
		}
		if (LANE_CHECK_DUE(l, b->first + k) && lane_check(l, b->first + k))
			return;
		if (ev[k].kind == EVENT_MARK)
			lane_mark(l);
		if (l->series)
			lane_sample(l, &ev[k], b->first + k + 1);
	}
}

/* Feeds the batch to lanes first, first + step, ...; returns the
 * earliest event any of them has failed on (NO_FAILURE if none). */
static uint64_t lanes_feed(struct pipeline *p, size_t first, size_t step,
			   const struct batch *b, uint64_t stop)
{
	uint64_t failed = NO_FAILURE;

	for (size_t i = first; i < p->nlanes; i += step) {
		lane_feed(&p->lanes[i], b, stop);
		if (p->lanes[i].fail_at < failed)
			failed = p->lanes[i].fail_at;
	}
	return failed;
}

/* ---- the threads ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *p = w->p;

	for (uint64_t s = 0;; s++) {
		uint64_t stop, failed;

		pthread_mutex_lock(&p->mu);
		while (p->published <= s && !p->finished)
			pthread_cond_wait(&p->more, &p->mu);
		if (p->published <= s) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		stop = p->stop_at;
		pthread_mutex_unlock(&p->mu);

		failed = lanes_feed(p, w->index, p->nworkers,
				    &p->ring[s % RING_BATCHES], stop);

		pthread_mutex_lock(&p->mu);
		if (failed < p->stop_at)
			p->stop_at = failed;
		w->done = s + 1;
		pthread_cond_broadcast(&p->room);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Waits (holding mu) until batch s's place in the ring is free. */
static void wait_room(struct pipeline *p, uint64_t s)
{
	for (;;) {
		uint64_t slowest = UINT64_MAX;

		for (size_t i = 0; i < p->nworkers; i++)
			if (p->workers[i].done < slowest)
				slowest = p->workers[i].done;
		if (s - slowest < RING_BATCHES)
			return;
		pthread_cond_wait(&p->room, &p->mu);
	}
}

/* Reads up to `max` events into b; returns trace_next's last result. */
static int fill(struct trace_reader *r, struct batch *b, uint32_t max,
		uint64_t first, struct ms_error *rerr)
{
	int rc = 1;

	b->first = first;
	b->n = 0;
	while (b->n < max && (rc = trace_next(r, &b->ev[b->n], rerr)) > 0)
		b->n++;
	return rc;
}

/* The recorded runtime's own collections (`g GEN` ... `g`), as the
 * reading thread passes them: numbered like marks (version-1 events
 * before the opening line), timed by the last `@` before each line. */
struct recorded_scan {
	struct record_trace *out;   /* NULL: a version-1 trace, no scan */
	struct record_collection cur;
	int open;
	uint64_t v1;            /* version-1 events read so far */
	uint64_t last_time;
};

struct reading {
	struct trace_reader *r;
	const struct engine_observer *obs;
	uint64_t events;        /* read so far */
	uint64_t next_tick;
	struct ms_error rerr;   /* the reader's error, once reached */
	int rc;                 /* trace_next's last result */
	struct recorded_scan gcs;
};

/* Notes the batch's recorded collections; the frees inside one are the
 * objects the runtime's collector freed (docs/trace-format.md). Only a
 * version-2 trace pays for the pass. */
static void scan_recorded(struct recorded_scan *s, const struct batch *b)
{
	if (!s->out)
		return;
	for (uint32_t k = 0; k < b->n; k++) {
		const struct event *ev = &b->ev[k];

		switch (ev->kind) {
		case EVENT_TIME:
			s->last_time = ev->u.time;
			break;
		case EVENT_FREE:
			s->cur.freed += s->open;
			break;
		case EVENT_GC_BEGIN:
			s->cur = (struct record_collection){
				.event = s->v1, .time_ns = s->last_time,
				.generation = (uint32_t)ev->u.gen,
			};
			s->open = 1;
			break;
		case EVENT_GC_END:
			s->cur.pause_ns = s->last_time - s->cur.time_ns;
			record_add_collection(s->out, &s->cur);
			s->open = 0;
			break;
		default:
			break;
		}
		s->v1 += ev->kind < EVENT_KIND_V1_COUNT;
	}
}

static void observe(struct reading *rd)
{
	if (rd->obs && rd->events >= rd->next_tick) {
		rd->next_tick = rd->events - rd->events % ENGINE_TICK + ENGINE_TICK;
		rd->obs->tick(rd->obs->ctx, rd->r);
	}
}

/* The reading thread's side of a threaded replay. */
static void read_threaded(struct pipeline *p, struct reading *rd)
{
	for (uint64_t s = 0; rd->rc > 0; s++) {
		struct batch *b = &p->ring[s % RING_BATCHES];
		uint64_t stop;

		pthread_mutex_lock(&p->mu);
		wait_room(p, s);
		stop = p->stop_at;
		pthread_mutex_unlock(&p->mu);
		if (stop != NO_FAILURE && rd->events > stop)
			break;  /* nothing later can matter */
		rd->rc = fill(rd->r, b, BATCH_EVENTS, rd->events, &rd->rerr);
		rd->events += b->n;
		scan_recorded(&rd->gcs, b);
		pthread_mutex_lock(&p->mu);
		p->published = s + 1;
		pthread_cond_broadcast(&p->more);
		pthread_mutex_unlock(&p->mu);
		observe(rd);
	}
	pthread_mutex_lock(&p->mu);
	p->finished = 1;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->mu);
}

/* Starts the workers, reads the whole trace, and waits for them. If a
 * thread cannot be started, the lanes it would own are fed by the
 * workers that did start: a replay never depends on getting threads. */
static void run_threaded(struct pipeline *p, struct reading *rd, size_t jobs)
{
	size_t started = 0;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->more, NULL);
	pthread_cond_init(&p->room, NULL);
	p->ring = xcalloc(RING_BATCHES, sizeof *p->ring);
	p->workers = xcalloc(jobs, sizeof *p->workers);
	p->nworkers = jobs;
	pthread_mutex_lock(&p->mu);     /* no worker runs before all exist */
	for (size_t i = 0; i < jobs; i++) {
		p->workers[started] = (struct worker){ .p = p, .index = started };
		if (pthread_create(&p->workers[started].thread, NULL, worker_main,
				   &p->workers[started]) == 0)
			started++;
	}
	p->nworkers = started;
	pthread_mutex_unlock(&p->mu);
	if (started > 0)
		read_threaded(p, rd);
	for (size_t i = 0; i < started; i++)
		pthread_join(p->workers[i].thread, NULL);
	pthread_cond_destroy(&p->room);
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->mu);
	free(p->ring);
	free(p->workers);
}

/* One thread reads a batch, feeds it to every lane, and so on. */
static void run_inline(struct pipeline *p, struct reading *rd, uint32_t batch)
{
	struct batch *b = xmalloc(sizeof *b);

	while (rd->rc > 0 && p->stop_at == NO_FAILURE) {
		rd->rc = fill(rd->r, b, batch, rd->events, &rd->rerr);
		rd->events += b->n;
		scan_recorded(&rd->gcs, b);
		p->stop_at = lanes_feed(p, 0, 1, b, p->stop_at);
		observe(rd);
	}
	free(b);
}

/* ---- the replay ---- */

/* Debug builds: the validators once more after the last event. */
static void lanes_check_end(struct pipeline *p, const struct reading *rd)
{
	if (rd->rc != 0 || p->stop_at != NO_FAILURE)
		return;
	for (size_t i = 0; i < p->nlanes; i++)
		if (p->lanes[i].fail_at == NO_FAILURE)
			(void)lane_check(&p->lanes[i], rd->events ? rd->events - 1 : 0);
}

/* The replay's error: the earliest failing lane's, else the reader's. */
static int outcome(const struct pipeline *p, const struct reading *rd,
		   const char *path, int located, struct ms_error *err)
{
	const struct lane *first = NULL;

	for (size_t i = 0; i < p->nlanes; i++)
		if (p->lanes[i].fail_at != NO_FAILURE &&
		    (!first || p->lanes[i].fail_at < first->fail_at))
			first = &p->lanes[i];
	if (first) {
		*err = first->err;
		if (located)
			trace_locate(rd->r, err);
		else
			engine_locate(path, first->fail_at, rd->r, err);
		return err->code;
	}
	if (rd->rc < 0) {
		*err = rd->rerr;
		return err->code ? err->code : MS_EXIT_DATAERR;
	}
	return 0;
}

static size_t default_jobs(size_t nlanes)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? (size_t)cpus : 1;

	return n < nlanes ? n : nlanes;
}

/* After the replay: families of policies the trace gave nothing to act
 * on (docs/reports.md, "Warnings"). */
static void warn_inert(struct record_trace *out, const struct typetab *types)
{
	if (out->events && typetab_count(types) <= 1)
		record_warn(&out->warnings, "the trace has no typed objects: free-list "
			    "policies had nothing to act on, and collectors see no untyped object");
}

/* The trace's marks into the record, and each lane's occupancy at them
 * after its peak and end snapshots ("mark:LABEL"), as plot.c orders
 * them. A lane whose allocator has no arenas took no snapshot. */
static void add_marks(struct record_trace *out, const struct pipeline *p,
		      const struct trace_reader *r)
{
	size_t n;
	const struct trace_mark *m = trace_marks(r, &n);
	const struct typetab *labels = trace_labels(r);

	for (size_t k = 0; k < n; k++)
		record_add_mark(out, typetab_name(labels, m[k].label), m[k].event, m[k].time);
	if (n > ENGINE_MARK_SNAPSHOTS)
		record_warn(&out->warnings, "arena occupancy is shown at the first %u of "
			    "the trace's %zu marks", ENGINE_MARK_SNAPSHOTS, n);
	for (size_t i = 0; i < p->nlanes; i++) {
		const struct record_policy *at = &p->lanes[i].at_marks;

		for (size_t k = 0; k < at->noccupancy && k < n; k++) {
			const struct record_occupancy *o = &at->occupancy[k];
			const char *label = typetab_name(labels, m[k].label);
			size_t len = strlen(label) + sizeof "mark:";
			char *name = xmalloc(len);

			snprintf(name, len, "mark:%s", label);
			record_add_occupancy(&out->pol[i], name, o->event, o->in_use,
					     o->usable, o->n);
			free(name);
		}
	}
}

/* Ends every lane and freezes it into the record (lanes_free then frees
 * its runtime and series: the record is all that outlives the replay);
 * 0, or the first lane's failure at the end (a real: policy's process
 * that died), located at the trace's last event. */
static int finish(struct record_trace *out, const struct pipeline *p,
		  struct trace_reader *r, struct ms_error *err)
{
	int status = 0;

	out->name = xstrdup(trace_name(r));
	out->metadata = trace_metadata(r) ? xstrdup(trace_metadata(r)) : NULL;
	out->events = trace_event_count(r);
	for (size_t i = 0; i < p->nlanes; i++) {
		const struct lane *l = &p->lanes[i];
		struct ms_error e;

		struct runtime_now now;

		ms_error_clear(&e);
		if (runtime_finish(l->rt, &e) != 0) {
			if (!status) {
				*err = e;
				trace_locate(r, err);
				status = e.code;
			}
			continue;
		}
		if (l->series)
			lane_record(l, 1);
		runtime_now(l->rt, &now);
		out->timed |= now.timed;
		record_freeze_policy(&out->pol[i], l->rt, l->series);
	}
	if (status)
		return status;
	add_marks(out, p, r);
	if (out->events == 0)
		record_warn(&out->warnings, "the trace has no events: every value is 0");
	warn_inert(out, trace_types(r));
	return 0;
}

static void lanes_free(struct pipeline *p)
{
	for (size_t i = 0; i < p->nlanes; i++) {
		runtime_destroy(p->lanes[i].rt);
		series_destroy(p->lanes[i].series);
		record_policy_free(&p->lanes[i].at_marks);
		policy_free(p->adjusted[i]);
	}
	free(p->lanes);
	free(p->adjusted);
}

static void lanes_create(struct pipeline *p, struct record_trace *out,
			 struct policy *const *policies, size_t n,
			 const struct engine_sampling *samp, const struct typetab *types,
			 const struct trace_facts *facts)
{
	int sampling = samp && samp->on;
	char note[FACTS_NOTE_MAX];

	out->npol = n;
	out->pol = xcalloc(n ? n : 1, sizeof *out->pol);
	p->lanes = xcalloc(n ? n : 1, sizeof *p->lanes);
	p->adjusted = xcalloc(n ? n : 1, sizeof *p->adjusted);
	p->nlanes = n;
	p->stop_at = NO_FAILURE;
	if (facts_runtime_note(facts, policies, n, note, sizeof note))
		record_warn(&out->warnings, "%s", note);
	for (size_t i = 0; i < n; i++) {
		struct facts_notes notes;

		p->adjusted[i] = facts_adjust(facts, policies[i], &notes);
		for (size_t k = 0; k < notes.n; k++)
			record_warn(&out->warnings, "%s", notes.text[k]);
		p->lanes[i] = (struct lane){
			.policy = i,
			.rt = runtime_create(p->adjusted[i] ? p->adjusted[i] : policies[i], types),
			.fail_at = NO_FAILURE,
			.next_check = ENGINE_CHECK_FIRST,
			.series = sampling ? series_create(samp->step_events, samp->step_ns)
					   : NULL,
		};
	}
}

int engine_replay(const char *path, struct policy *const *policies, size_t n,
		  const struct engine_observer *obs, struct record_trace *out,
		  struct ms_error *err)
{
	struct engine_opts opts = { .obs = obs, .jobs = ENGINE_JOBS_AUTO };

	return engine_replay_opts(path, policies, n, &opts, out, err);
}

int engine_replay_opts(const char *path, struct policy *const *policies,
		       size_t n, const struct engine_opts *opts,
		       struct record_trace *out, struct ms_error *err)
{
	struct pipeline p = { 0 };
	struct reading rd = { .obs = opts->obs, .next_tick = ENGINE_TICK, .rc = 1 };
	int from_stdin = strcmp(path, "-") == 0;
	size_t jobs = opts->jobs == ENGINE_JOBS_AUTO ? default_jobs(n) : (size_t)opts->jobs;
	int status;

	struct trace_facts facts;

	memset(out, 0, sizeof *out);
	rd.r = trace_open(path, err);
	if (!rd.r)
		return err->code;
	facts_read(rd.r, &facts);
	if (trace_version(rd.r) >= 2)
		rd.gcs.out = out;
	lanes_create(&p, out, policies, n, opts->sampling, trace_types(rd.r), &facts);
	if (from_stdin || jobs == 0)
		run_inline(&p, &rd, from_stdin ? 1u : BATCH_EVENTS);
	else
		run_threaded(&p, &rd, jobs < n ? jobs : n);
	if (rd.rc > 0 && p.stop_at == NO_FAILURE)    /* no thread started */
		run_inline(&p, &rd, BATCH_EVENTS);
	lanes_check_end(&p, &rd);
	status = outcome(&p, &rd, path, from_stdin, err);
	if (status == 0)
		status = finish(out, &p, rd.r, err);
	lanes_free(&p);
	trace_close(rd.r);
	if (status != 0)
		record_trace_free(out);
	return status;
}
