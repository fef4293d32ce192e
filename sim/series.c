/*
 * series.c - fixed-memory time series and the MMU curve (see series.h).
 */
#include "series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pause.h"
#include "xalloc.h"

_Static_assert(SERIES_MAX_POINTS % 2 == 0, "halving keeps every other point");

const char *const series_column_key[SERIES_NCOLS] = {
#define SERIES_KEY_(id, key, unit) [SERIES_##id] = key,
	SERIES_COLUMNS(SERIES_KEY_)
#undef SERIES_KEY_
};

struct series *series_create(uint64_t step_events, uint64_t step_ns)
{
	struct series *s = xcalloc(1, sizeof *s);

	s->pts = xcalloc(SERIES_MAX_POINTS, sizeof *s->pts);
	s->mode = SERIES_BY_EVENTS;
	s->step = step_events ? step_events : 1;
	s->next = s->step;
	if (step_ns)
		s->time_step = step_ns;
	else if (!step_events)
		s->time_step = SERIES_AUTO_STEP_NS;
	return s;
}

void series_destroy(struct series *s)
{
	if (!s)
		return;
	free(s->pts);
	free(s);
}

/* Keeps points 1, 3, 5, ...: with samples at k*step those are the even
 * multiples, i.e. the multiples of the doubled step, and the newest point
 * (index n-1, n even) stays. Running peaks are monotone, so the kept
 * points still carry every peak up to them. */
static void halve(struct series *s)
{
	for (size_t i = 1, j = 0; i < s->n; i += 2, j++)
		s->pts[j] = s->pts[i];
	s->n /= 2;
	s->step *= 2;
	s->halvings++;
}

/* Appends a point; the caller ensures there is room. */
static void record(struct series *s, const struct runtime_now *now,
		   const struct gc_pause *p, size_t np)
{
	uint64_t *v;

	for (; s->pauses_seen < np; s->pauses_seen++)
		s->gc_ns += p[s->pauses_seen].pause_ns;
	v = s->pts[s->n++].v;
	v[SERIES_EVENT] = now->events;
	v[SERIES_TIME] = now->time_ns;
	v[SERIES_LIVE] = now->live;
	v[SERIES_ALLOCATED] = now->allocated;
	v[SERIES_FL_HELD] = now->fl_held;
	v[SERIES_FOOTPRINT] = now->footprint;
	v[SERIES_RSS] = now->rss;
	v[SERIES_ARENAS] = now->arenas;
	v[SERIES_GC_NS] = s->gc_ns;
	v[SERIES_PEAK_RSS] = now->peak_rss.value;
	v[SERIES_PEAK_RSS_EVENT] = now->peak_rss.event;
	v[SERIES_PEAK_FOOTPRINT] = now->peak_footprint.value;
	v[SERIES_PEAK_FOOTPRINT_EVENT] = now->peak_footprint.event;
}

void series_sample(struct series *s, const struct runtime_now *now,
		   const struct gc_pause *p, size_t np)
{
	if (s->mode == SERIES_BY_EVENTS && now->timed && s->time_step) {
		s->mode = SERIES_BY_TIME;
		s->step = s->time_step;
	}
	record(s, now, p, np);
	/* Halve as soon as the buffer fills, so the point just taken (on a
	 * multiple of the old step, the newest) is among those kept, and
	 * series_finish always has room. */
	if (s->n == SERIES_MAX_POINTS)
		halve(s);
	if (s->mode == SERIES_BY_TIME)
		s->next = (now->time_ns / s->step + 1) * s->step;
	else
		s->next = (now->events / s->step + 1) * s->step;
}

void series_finish(struct series *s, const struct runtime_now *now,
		   const struct gc_pause *p, size_t np)
{
	if (s->n && s->pts[s->n - 1].v[SERIES_EVENT] == now->events)
		return;
	record(s, now, p, np);  /* n < SERIES_MAX_POINTS: see series_sample */
}

int series_check(const struct series *s, char *msg, size_t msglen)
{
	if (s->n > SERIES_MAX_POINTS || s->step == 0) {
		snprintf(msg, msglen, "series: %zu points, more than %u", s->n,
			 SERIES_MAX_POINTS);
		return -1;
	}
	for (size_t i = 1; i < s->n; i++) {
		const uint64_t *a = s->pts[i - 1].v, *b = s->pts[i].v;

		if (a[SERIES_EVENT] >= b[SERIES_EVENT] || a[SERIES_TIME] > b[SERIES_TIME] ||
		    a[SERIES_PEAK_RSS] > b[SERIES_PEAK_RSS] ||
		    a[SERIES_GC_NS] > b[SERIES_GC_NS]) {
			snprintf(msg, msglen, "series: point %zu (event %llu) out of order",
				 i, (unsigned long long)b[SERIES_EVENT]);
			return -1;
		}
	}
	return 0;
}

size_t series_mmu_curve(const struct gc_pause *p, size_t np, uint64_t run_ns,
			uint64_t min_ns, size_t n, uint64_t *window_ns, double *mmu)
{
	size_t k = 0;
	uint64_t prev = 0;

	if (n == 0 || run_ns == 0)
		return 0;
	if (min_ns == 0)
		min_ns = 1;
	if (min_ns >= run_ns || n == 1) {
		window_ns[0] = run_ns;
		mmu[0] = pause_mmu(p, np, run_ns, run_ns);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		/* min * (run/min)^(i/(n-1)): the ends are exact */
		double f = (double)i / (double)(n - 1);
		uint64_t w = i == n - 1 ? run_ns
			: (uint64_t)llround((double)min_ns *
					    pow((double)run_ns / (double)min_ns, f));

		if (k && w <= prev)
			continue;       /* rounding made two windows equal */
		window_ns[k] = w;
		mmu[k] = pause_mmu(p, np, run_ns, w);
		prev = w;
		k++;
	}
	return k;
}
