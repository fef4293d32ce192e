/*
 * test_series.c - the fixed-memory time series (series.c): sampling
 * schedule, halving, exact peaks between samples, cumulative GC time,
 * the switch to trace time, and the MMU curve. The runtime is faked by
 * filling struct runtime_now by hand; every expected value is derived in
 * the comment beside it.
 */
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "test.h"

/* A fake run: after event i the live bytes are 10*i and RSS is 4096*i,
 * except for one spike; the caller feeds events 1..n. */
struct fake {
	struct runtime_now now;
	struct gc_pause pauses[16];
	size_t np;
};

static void fake_event(struct fake *f, uint64_t i, uint64_t rss)
{
	f->now.events = i;
	f->now.live = 10 * i;
	f->now.allocated = 16 * i;
	f->now.footprint = 8192 * i;
	f->now.rss = rss;
	stats_peak_note(&f->now.peak_rss, rss, i);
	stats_peak_note(&f->now.peak_footprint, f->now.footprint, i);
	stats_peak_note(&f->now.peak_live, f->now.live, i);
}

static void feed(struct series *s, struct fake *f, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i <= to; i++) {
		fake_event(f, i, 4096 * i);
		if (series_due(s, i, f->now.time_ns, f->now.timed))
			series_sample(s, &f->now, f->pauses, f->np);
	}
}

static void check_ok(const struct series *s)
{
	char msg[200] = "";

	CHECK(series_check(s, msg, sizeof msg) == 0);
	if (msg[0])
		printf("# %s\n", msg);
}

/* Automatic step over 5000 events:
 *   step 1: events 1..2048 are sampled; the 2048th point fills the buffer,
 *     so points 2, 4, .., 2048 stay (1024) and the step becomes 2;
 *   step 2: events 2050 .. 4096, (4096-2048)/2 = 1024 more: 2048 again,
 *     halved to 4, 8, .., 4096 (1024 points), step 4;
 *   step 4: events 4100 .. 5000, (5000-4096)/4 = 226 points: n = 1250.
 * The last event (5000) is a sample already, so finish adds nothing. */
static void test_auto_step_halves(void)
{
	struct series *s = series_create(0, 0);
	struct fake f;

	memset(&f, 0, sizeof f);
	feed(s, &f, 1, 5000);
	series_finish(s, &f.now, f.pauses, f.np);
	CHECK_U64(s->n, 1250);
	CHECK_U64(s->step, 4);
	CHECK_U64(s->halvings, 2);
	CHECK_U64(s->pts[0].v[SERIES_EVENT], 4);
	CHECK_U64(s->pts[1023].v[SERIES_EVENT], 4096);
	CHECK_U64(s->pts[1024].v[SERIES_EVENT], 4100);
	CHECK_U64(s->pts[1249].v[SERIES_EVENT], 5000);
	/* the values are those of the sampled event: live 10*i */
	CHECK_U64(s->pts[1249].v[SERIES_LIVE], 50000);
	CHECK_U64(s->pts[0].v[SERIES_ALLOCATED], 64);
	check_ok(s);
	series_destroy(s);
}

/* A user step of 100 over 1050 events: samples at 100, 200, .., 1000 (10
 * points) and the final point at 1050: 11 points, no halving. */
static void test_user_step_and_final_point(void)
{
	struct series *s = series_create(100, 0);
	struct fake f;

	memset(&f, 0, sizeof f);
	feed(s, &f, 1, 1050);
	series_finish(s, &f.now, f.pauses, f.np);
	CHECK_U64(s->n, 11);
	CHECK_U64(s->pts[0].v[SERIES_EVENT], 100);
	CHECK_U64(s->pts[9].v[SERIES_EVENT], 1000);
	CHECK_U64(s->pts[10].v[SERIES_EVENT], 1050);
	CHECK_U64(s->pts[10].v[SERIES_FOOTPRINT], 8192u * 1050);
	check_ok(s);
	series_destroy(s);
}

/* A spike of 1 MiB RSS at event 150, between the samples at 100 and 200
 * (step 100), where RSS is 4096*i otherwise (at most 4096*300 = 1.17 MiB
 * later, above the spike only from event 257: 4096*257 > 1048576 =
 * 4096*256). The sample at 200 shows RSS 4096*200 but carries the running
 * peak 1048576 at event 150; the one at 300 carries 4096*300 at 300. */
static void test_peak_between_samples(void)
{
	struct series *s = series_create(100, 0);
	struct fake f;

	memset(&f, 0, sizeof f);
	for (uint64_t i = 1; i <= 300; i++) {
		fake_event(&f, i, i == 150 ? 1048576 : 4096 * i);
		if (series_due(s, i, 0, 0))
			series_sample(s, &f.now, f.pauses, f.np);
	}
	CHECK_U64(s->n, 3);
	CHECK_U64(s->pts[1].v[SERIES_RSS], 4096u * 200);
	CHECK_U64(s->pts[1].v[SERIES_PEAK_RSS], 1048576);
	CHECK_U64(s->pts[1].v[SERIES_PEAK_RSS_EVENT], 150);
	CHECK_U64(s->pts[2].v[SERIES_PEAK_RSS], 4096u * 300);
	CHECK_U64(s->pts[2].v[SERIES_PEAK_RSS_EVENT], 300);
	series_destroy(s);
}

/* Cumulative GC time: pauses of 7 ns and 11 ns appear before the sample
 * at 10, one of 5 ns before the sample at 20; each is summed once:
 * 18 at event 10, 23 at event 20, still 23 at event 30. */
static void test_cumulative_gc_time(void)
{
	struct series *s = series_create(10, 0);
	struct fake f;

	memset(&f, 0, sizeof f);
	f.pauses[0].pause_ns = 7;
	f.pauses[1].pause_ns = 11;
	f.np = 2;
	feed(s, &f, 1, 10);
	f.pauses[2].pause_ns = 5;
	f.np = 3;
	feed(s, &f, 11, 30);
	CHECK_U64(s->n, 3);
	CHECK_U64(s->pts[0].v[SERIES_GC_NS], 18);
	CHECK_U64(s->pts[1].v[SERIES_GC_NS], 23);
	CHECK_U64(s->pts[2].v[SERIES_GC_NS], 23);
	series_destroy(s);
}

/* Automatic step on a timed trace: events 1..4 untimed are sampled one by
 * one; at event 5 the trace reaches t = 5500 ns: the series switches to
 * time with a 1000 ns step and samples (point 5), next due at 6000.
 * Events 6..8 at t = 5900 are not due; event 9 at t = 6000 is, next
 * 7000; event 10 at t = 9999 is, next 10000. Points: 1,2,3,4,5,9,10. */
static void test_switch_to_time(void)
{
	static const uint64_t t[11] = { 0, 0, 0, 0, 0, 5500, 5900, 5900, 5900,
					6000, 9999 };
	struct series *s = series_create(0, 0);
	struct fake f;
	static const uint64_t want[7] = { 1, 2, 3, 4, 5, 9, 10 };

	memset(&f, 0, sizeof f);
	for (uint64_t i = 1; i <= 10; i++) {
		fake_event(&f, i, 4096);
		f.now.time_ns = t[i];
		f.now.timed = t[i] > 0;
		if (series_due(s, i, f.now.time_ns, f.now.timed))
			series_sample(s, &f.now, f.pauses, f.np);
	}
	CHECK(s->mode == SERIES_BY_TIME);
	CHECK_U64(s->step, 1000);
	CHECK_U64(s->next, 10000);
	CHECK_U64(s->n, 7);
	for (size_t i = 0; i < 7 && i < s->n; i++)
		CHECK_U64(s->pts[i].v[SERIES_EVENT], want[i]);
	CHECK_U64(s->pts[5].v[SERIES_TIME], 6000);
	check_ok(s);
	series_destroy(s);
}

/* One pause of 100 ns at the start of a 1000 ns run. Windows from 10 ns,
 * 3 on a log scale: 10, 10*sqrt(100) = 100, 1000. Any window of 10 or
 * 100 ns can lie inside the pause: MMU 0; the whole run: 1 - 100/1000. */
static void test_mmu_curve(void)
{
	struct gc_pause p = { .start_ns = 0, .pause_ns = 100 };
	uint64_t w[3];
	double m[3];

	CHECK_U64(series_mmu_curve(&p, 1, 1000, 10, 3, w, m), 3);
	CHECK_U64(w[0], 10);
	CHECK_U64(w[1], 100);
	CHECK_U64(w[2], 1000);
	CHECK_DBL(m[0], 0.0, 1e-12);
	CHECK_DBL(m[1], 0.0, 1e-12);
	CHECK_DBL(m[2], 0.9, 1e-12);
	/* a window floor above the run: the run itself */
	CHECK_U64(series_mmu_curve(&p, 1, 1000, 5000, 3, w, m), 1);
	CHECK_U64(w[0], 1000);
	CHECK_U64(series_mmu_curve(&p, 1, 0, 10, 3, w, m), 0);
}

/* A long run keeps memory bounded: 10^6 events with the automatic step
 * leave between 1024 and 2048 points, the first after event 1. */
static void test_bounded(void)
{
	struct series *s = series_create(0, 0);
	struct fake f;

	memset(&f, 0, sizeof f);
	feed(s, &f, 1, 1000000);
	series_finish(s, &f.now, f.pauses, f.np);
	CHECK(s->n >= SERIES_MAX_POINTS / 2 && s->n <= SERIES_MAX_POINTS);
	CHECK_U64(s->pts[s->n - 1].v[SERIES_EVENT], 1000000);
	CHECK_U64(s->pts[s->n - 1].v[SERIES_PEAK_RSS], 4096u * 1000000);
	check_ok(s);
	series_destroy(s);
}

int main(void)
{
	TEST_RUN(test_auto_step_halves);
	TEST_RUN(test_user_step_and_final_point);
	TEST_RUN(test_peak_between_samples);
	TEST_RUN(test_cumulative_gc_time);
	TEST_RUN(test_switch_to_time);
	TEST_RUN(test_mmu_curve);
	TEST_RUN(test_bounded);
	return test_done();
}
