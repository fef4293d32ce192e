/*
 * pause.c - pause record, percentiles and MMU (see pause.h).
 */
#include "pause.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

const uint64_t gc_mmu_window_ns[GC_MMU_WINDOWS] = {
	UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
	UINT64_C(1000000000),
};
const char *const gc_mmu_window_name[GC_MMU_WINDOWS] = {
	"1ms", "10ms", "100ms", "1s",
};

void pause_log_init(struct pause_log *log)
{
	memset(log, 0, sizeof *log);
}

void pause_log_free(struct pause_log *log)
{
	free(log->v);
	memset(log, 0, sizeof *log);
}

void pause_log_add(struct pause_log *log, const struct gc_pause *p)
{
	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 64;
		log->v = xreallocarray(log->v, log->cap, sizeof *log->v);
	}
	log->v[log->n++] = *p;
	log->total_ns += p->pause_ns;
}

uint64_t pause_cost(double a, double b, double c, uint64_t examined,
		    uint64_t traversed)
{
	double ns = a * (double)examined + b * (double)traversed + c;

	if (!(ns > 0.0))
		return 0;
	if (ns >= 1.8e19)
		return UINT64_MAX;
	return (uint64_t)llround(ns);
}

uint64_t pause_costs_ns(const struct pause_costs *c, uint64_t examined,
			uint64_t traversed, int fixed)
{
	return pause_cost(c->object_ns, c->ref_ns, fixed ? c->fixed_ns : 0.0,
			  examined, traversed);
}

uint64_t pause_mutator_now(const struct gc_clock *clock,
			   const struct pause_costs *c, uint64_t *last_ns)
{
	uint64_t m = 0;

	if (clock)
		m = clock->timed ? clock->time_ns
			: (uint64_t)((double)clock->event * c->mutator_ns_per_event + 0.5);
	if (m < *last_ns)
		m = *last_ns;
	*last_ns = m;
	return m;
}

uint64_t pause_percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
	size_t rank;

	if (n == 0)
		return 0;
	/* ceil(pct * n / 100) in integers; at least rank 1 */
	rank = (pct * n + 99) / 100;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

/* Paused time in [0, x]: pauses before the first one starting at or after
 * x are whole, the one containing x is partial. `prefix[i]` is the total
 * of the first i pauses. */
static uint64_t paused_before(const struct gc_pause *p, size_t n,
			      const uint64_t *prefix, uint64_t x)
{
	size_t lo = 0, hi = n;  /* first pause with start_ns >= x */
	uint64_t t;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p[mid].start_ns < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	t = prefix[lo - 1];
	/* pause lo-1 starts before x: count the part up to x */
	{
		uint64_t s = p[lo - 1].start_ns, e = s + p[lo - 1].pause_ns;
		t += (e < x ? e : x) - s;
	}
	return t;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double pause_mmu(const struct gc_pause *p, size_t n, uint64_t run_ns,
		 uint64_t window_ns)
{
	uint64_t *prefix, *cand, worst = 0, w = window_ns;
	size_t nc = 0;

	if (run_ns == 0)
		return 1.0;
	if (w == 0)
		return n ? 0.0 : 1.0;
	if (w >= run_ns) {
		uint64_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += p[i].pause_ns;
		return 1.0 - (double)total / (double)run_ns;
	}
	prefix = xcalloc(n + 1, sizeof *prefix);
	for (size_t i = 0; i < n; i++)
		prefix[i + 1] = prefix[i] + p[i].pause_ns;
	/* prefix[i] = pauses before i; paused_before wants "first i" */
	cand = xcalloc(4 * n + 2, sizeof *cand);
	cand[nc++] = 0;
	cand[nc++] = run_ns - w;
	for (size_t i = 0; i < n; i++) {
		uint64_t b[2] = { p[i].start_ns, p[i].start_ns + p[i].pause_ns };
		for (int k = 0; k < 2; k++) {
			if (b[k] <= run_ns - w)
				cand[nc++] = b[k];
			if (b[k] >= w && b[k] - w <= run_ns - w)
				cand[nc++] = b[k] - w;
		}
	}
	qsort(cand, nc, sizeof *cand, cmp_u64);
	for (size_t i = 0; i < nc; i++) {
		uint64_t t = cand[i];
		uint64_t paused;

		if (i > 0 && cand[i - 1] == t)
			continue;
		paused = paused_before(p, n, prefix, t + w) -
			 paused_before(p, n, prefix, t);
		if (paused > worst)
			worst = paused;
	}
	free(cand);
	free(prefix);
	return 1.0 - (double)worst / (double)w;
}

void pause_summary(const struct pause_log *log, uint64_t mutator_ns,
		   struct gc_stats *out)
{
	uint64_t *sorted = NULL;

	out->pauses = log->n;
	out->pause_total_ns = log->total_ns;
	out->run_ns = mutator_ns + log->total_ns;
	out->pause_mean_ns = log->n ? (log->total_ns + log->n / 2) / log->n : 0;
	if (log->n) {
		sorted = xcalloc(log->n, sizeof *sorted);
		for (size_t i = 0; i < log->n; i++)
			sorted[i] = log->v[i].pause_ns;
		qsort(sorted, log->n, sizeof *sorted, cmp_u64);
	}
	out->pause_p50_ns = pause_percentile(sorted, log->n, 50);
	out->pause_p95_ns = pause_percentile(sorted, log->n, 95);
	out->pause_p99_ns = pause_percentile(sorted, log->n, 99);
	out->pause_max_ns = log->n ? sorted[log->n - 1] : 0;
	out->gc_share = out->run_ns ? (double)log->total_ns / (double)out->run_ns : 0.0;
	for (int i = 0; i < GC_MMU_WINDOWS; i++)
		out->mmu[i] = pause_mmu(log->v, log->n, out->run_ns,
					gc_mmu_window_ns[i]);
	free(sorted);
}
