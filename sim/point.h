/*
 * point.h - points of a run at which analyses look at the simulated
 * state: the peak of live bytes, the end, an event, a mark.
 *
 * `memsim retain --at SPEC` and `memsim replay --explain=SPEC` name a
 * point the same way (docs/retention.md):
 *   peak        after the event where live bytes first reach their peak,
 *               on the bare reference-counting heap of `memsim info`
 *               (the program's own live set, whatever the policy), so
 *               every policy is looked at on the same event
 *   end         after the last event
 *   N           after event N (1-based; K/M/G and 0x as everywhere),
 *               counting the version-1 events only (a f r + - c s @), as
 *               `memsim info` numbers its peaks: the version-2
 *               annotations (k m g h e) are no step
 *   LABEL       after the first `m LABEL` mark (trace format version 2);
 *   mark:LABEL  the same, for a mark named like a keyword ("peak")
 *
 * For `peak` the trace is read twice (the first pass finds the event),
 * so it needs a file: standard input cannot be read again.
 */
#ifndef MEMSIM_POINT_H
#define MEMSIM_POINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"
#include "trace.h"

enum point_kind { POINT_PEAK, POINT_END, POINT_EVENT, POINT_MARK };

struct point_spec {
	enum point_kind kind;
	uint64_t event;         /* POINT_EVENT: 1-based */
	const char *label;      /* POINT_MARK (borrowed) */
};

/*
 * Parses `s`, the value of option `opt` (for messages: "--at"). Returns
 * 0, or MS_EXIT_USAGE with err saying what is wrong ("--at 0: events are
 * numbered from 1", "--at '': ...").
 */
int point_parse(const char *opt, const char *s, struct point_spec *out,
		struct ms_error *err);

/* The point reached. */
struct point_at {
	enum point_kind kind;
	uint64_t event;         /* the state after this 1-based event; 0:
	                         * before any (an empty trace, or one whose
	                         * peak of live bytes is 0) */
	uint64_t time_ns;       /* the latest `@` time by then */
	int timed;              /* the trace had an `@` by then */
	const char *label;      /* POINT_MARK: the mark's label */
	uint64_t trace_events;  /* the trace's events, when it was read to
	                         * its end (peak, end), else 0 */
	const uint32_t *sites;  /* heap slot -> sitetab index (trace_sites)
	                         * of the live object there: where its last
	                         * `a` or `r` with ^SITE was made, as in
	                         * `memsim info`; EVENT_NO_SITE if none */
};

/* "the peak of live bytes", "the end", "event 17", "mark 'burst'". */
const char *point_kind_name(enum point_kind k);

/*
 * First pass of `peak` (policy-independent, as `memsim info`): the
 * 1-based event at which live bytes first reached their maximum (0 when
 * nothing is ever live), that maximum, and the trace's number of
 * events. Reads the whole trace; 0 or an exit status with err located.
 */
int point_find_peak(const char *path, uint64_t *event, uint64_t *bytes,
		    uint64_t *events, struct ms_error *err);

struct heap;
struct runtime;

/*
 * What point_replay hands over at the point: the bare heap (no
 * allocator, free lists or collector: the trace's own graph), and a
 * runtime per policy fed the same events (each with its own heap). All
 * are valid during the call only; the visitor may read them, and call
 * read-only queries that use private marks (heap_find_garbage).
 */
struct point_visit {
	void *ctx;
	int (*at)(void *ctx, struct heap *h, struct runtime *const *rt, size_t n,
		  const struct point_at *where, const struct trace_reader *r,
		  struct ms_error *err);
};

/*
 * Opens `path` and replays its events from the start on a bare heap and
 * on one runtime per policy up to the point `spec` (resolving `peak`
 * with point_find_peak first), then calls visit->at once and returns
 * its status. Errors: the trace's own (located), and with MS_EXIT_USAGE
 * a point the trace does not have: "--at 500: the trace has only 312
 * events", "--at 'burst': the trace has no mark 'burst' (its marks:
 * ...)", `peak` on standard input. `opt` names the option in messages.
 */
int point_replay(const char *path, const char *opt, const struct point_spec *spec,
		 struct policy *const *policies, size_t n,
		 const struct point_visit *visit, struct ms_error *err);

#endif
