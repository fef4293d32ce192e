/*
 * progress.c - progress line (see progress.h).
 */
#include "progress.h"

#include <stdio.h>
#include <time.h>

#define PROGRESS_EVERY 65536u   /* events between clock reads */
#define PROGRESS_PERIOD 0.25    /* seconds between redraws */
#define PROGRESS_DELAY 1.0      /* seconds before the first draw */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_start(struct progress *p, int enabled)
{
	p->enabled = enabled;
	p->start = p->last = enabled ? now_seconds() : 0;
	p->next_check = PROGRESS_EVERY;
	p->drawn = 0;
}

void progress_draw(struct progress *p, const char *label, uint64_t events,
		   uint64_t done, uint64_t total)
{
	double t = now_seconds(), elapsed = t - p->start;
	double rate;

	p->next_check = events + PROGRESS_EVERY;
	if (elapsed < PROGRESS_DELAY || t - p->last < PROGRESS_PERIOD)
		return;
	p->last = t;
	rate = (double)events / elapsed;
	fprintf(stderr, "\r\033[K%s: %.1fM events, %.0f MB, %.1fM events/s",
		label, (double)events / 1e6, (double)done / 1e6, rate / 1e6);
	if (total > done && done > 0) {
		double eta = elapsed * (double)(total - done) / (double)done;

		fprintf(stderr, ", ETA %d:%02d", (int)(eta / 60), (int)eta % 60);
	}
	fflush(stderr);
	p->drawn = 1;
}

void progress_end(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = 0;
}
