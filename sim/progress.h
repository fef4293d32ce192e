/*
 * progress.h - the progress line on stderr during long replays.
 *
 * Drawn only when the command allows it (stderr is a terminal and no
 * --quiet, see cli_want_progress), redrawn at most a few times a second,
 * erased when done: events, MB read, rate and ETA (when the input size is
 * known). Part of the CLI layer; the simulation never prints.
 */
#ifndef MEMSIM_PROGRESS_H
#define MEMSIM_PROGRESS_H

#include <stdint.h>

struct progress {
	int enabled;
	double start, last;     /* seconds (monotonic) */
	uint64_t next_check;    /* event count at which to look at the clock */
	int drawn;
};

void progress_start(struct progress *p, int enabled);

/* Cheap to call for every event: it looks at the clock only every 64Ki
 * events. `done` and `total` are bytes of input (total 0: unknown). */
static inline int progress_due(const struct progress *p, uint64_t events)
{
	return p->enabled && events >= p->next_check;
}

void progress_draw(struct progress *p, const char *label, uint64_t events,
		   uint64_t done, uint64_t total);

/* Erases the line if one was drawn. */
void progress_end(struct progress *p);

#endif
