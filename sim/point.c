/*
 * point.c - parsing points of a run and replaying up to one (point.h).
 */
#include "point.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "info.h"
#include "runtime.h"
#include "units.h"
#include "xalloc.h"

int point_parse(const char *opt, const char *s, struct point_spec *out,
		struct ms_error *err)
{
	const char *why;

	memset(out, 0, sizeof *out);
	if (strcmp(s, "peak") == 0) {
		out->kind = POINT_PEAK;
		return 0;
	}
	if (strcmp(s, "end") == 0) {
		out->kind = POINT_END;
		return 0;
	}
	if (isdigit((unsigned char)s[0])) {
		if (units_parse_str(s, &out->event, &why) != 0)
			return ms_error_set(err, MS_EXIT_USAGE,
					    "%s '%s': %s (peak, end, an event number or a mark)",
					    opt, s, why);
		if (out->event == 0)
			return ms_error_set(err, MS_EXIT_USAGE,
					    "%s 0: events are numbered from 1", opt);
		out->kind = POINT_EVENT;
		return 0;
	}
	if (strncmp(s, "mark:", 5) == 0)
		s += 5;
	if (!typetab_name_ok(s, strlen(s)))
		return ms_error_set(err, MS_EXIT_USAGE,
				    "%s '%s': not peak, end, an event number or a mark label "
				    "(labels are written like types: [A-Za-z_][A-Za-z0-9_.]*)",
				    opt, s);
	out->kind = POINT_MARK;
	out->label = s;
	return 0;
}

const char *point_kind_name(enum point_kind k)
{
	switch (k) {
	case POINT_PEAK:
		return "peak";
	case POINT_END:
		return "end";
	case POINT_EVENT:
		return "event";
	case POINT_MARK:
		return "mark";
	}
	return "?";
}

int point_find_peak(const char *path, uint64_t *event, uint64_t *bytes,
		    uint64_t *events, struct ms_error *err)
{
	struct trace_reader *r = trace_open(path, err);
	struct info_result res;
	int status;

	if (!r)
		return err->code;
	status = info_run(r, NULL, &res, err);
	if (status == 0) {
		*event = res.peak_live_bytes.event;
		*bytes = res.peak_live_bytes.value;
		*events = 0;    /* version-1 events, as points count them */
		for (int k = 0; k < EVENT_KIND_V1_COUNT; k++)
			*events += res.events[k];
	}
	info_free(&res);
	trace_close(r);
	return status;
}

/* The replay's state: the bare heap, the runtimes and the reader. */
struct walk {
	struct trace_reader *r;
	struct heap *heap;
	struct runtime **rt;
	size_t n;
	struct point_at at;
	uint64_t steps;         /* version-1 events fed */
	uint32_t *sites;        /* heap slot -> site index (at.sites) */
	uint32_t sites_cap;
};

/* After an a/r was applied: the object's site, as info.c counts it (an
 * `r` without ^SITE keeps the one it had). */
static void walk_site(struct walk *w, const struct event *ev)
{
	uint32_t slot = heap_lookup(w->heap, ev->id);

	if (slot == HEAP_NONE || (ev->kind == EVENT_RESIZE && ev->site == EVENT_NO_SITE))
		return;
	w->sites = xgrow(w->sites, &w->sites_cap, slot, sizeof *w->sites, 1024);
	w->sites[slot] = ev->site;
	w->at.sites = w->sites;
}

/* Feeds one event to the bare heap and every runtime. */
static int walk_event(struct walk *w, const struct event *ev, struct ms_error *err)
{
	switch (ev->kind) {
	case EVENT_ALLOC:
	case EVENT_FREE:
	case EVENT_RESIZE:
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		if (heap_apply(w->heap, ev, err) != 0)
			return err->code;
		if (ev->kind == EVENT_ALLOC || ev->kind == EVENT_RESIZE)
			walk_site(w, ev);
		break;
	case EVENT_TIME:
		w->at.time_ns = ev->u.time;
		w->at.timed = 1;
		break;
	default:
		break;
	}
	for (size_t i = 0; i < w->n; i++)
		if (runtime_apply(w->rt[i], ev, err) != 0)
			return err->code;
	return 0;
}

/* Whether the state after event `ev`, just fed, is the point asked for. */
static int walk_arrived(const struct walk *w, const struct point_spec *spec,
			const struct event *ev, uint64_t target)
{
	switch (spec->kind) {
	case POINT_PEAK:
	case POINT_EVENT:
		return ev->kind < EVENT_KIND_V1_COUNT && w->steps == target;
	case POINT_MARK:
		return ev->kind == EVENT_MARK &&
		       strcmp(typetab_name(trace_labels(w->r), ev->label), spec->label) == 0;
	case POINT_END:
		return 0;
	}
	return 0;
}

static int not_reached(const struct walk *w, const char *opt,
		       const struct point_spec *spec, struct ms_error *err)
{
	uint64_t n = w->steps;
	size_t marks = 0;

	trace_marks(w->r, &marks);
	if (spec->kind == POINT_MARK && marks == 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "%s: %s '%s': the trace has no mark '%s' (it has no "
				    "marks: `m LABEL` lines are trace format version 2)",
				    trace_name(w->r), opt, spec->label, spec->label);
	if (spec->kind == POINT_MARK)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "%s: %s '%s': the trace has no mark '%s' (it has %zu "
				    "other mark%s)", trace_name(w->r), opt, spec->label,
				    spec->label, marks, marks == 1 ? "" : "s");
	return ms_error_set(err, MS_EXIT_USAGE,
			    "%s: %s %llu: the trace has only %llu event%s",
			    trace_name(w->r), opt, (unsigned long long)spec->event,
			    (unsigned long long)n, n == 1 ? "" : "s");
}

static int walk_run(struct walk *w, const char *opt, const struct point_spec *spec,
		    uint64_t target, struct ms_error *err)
{
	struct event ev;
	int rc;

	if (target == 0 && spec->kind == POINT_PEAK)
		return 0;       /* nothing is ever live: the state before any event */
	while ((rc = trace_next(w->r, &ev, err)) > 0) {
		if (walk_event(w, &ev, err) != 0) {
			trace_locate(w->r, err);
			return err->code;
		}
		if (ev.kind < EVENT_KIND_V1_COUNT)
			w->steps++;
		w->at.event = w->steps;
		if (walk_arrived(w, spec, &ev, target))
			return 0;
	}
	if (rc < 0)
		return err->code ? err->code : MS_EXIT_DATAERR;
	if (spec->kind != POINT_END)
		return not_reached(w, opt, spec, err);
	w->at.trace_events = w->steps;
	return 0;
}

int point_replay(const char *path, const char *opt, const struct point_spec *spec,
		 struct policy *const *policies, size_t n,
		 const struct point_visit *visit, struct ms_error *err)
{
	struct walk w = { .n = n };
	uint64_t target = spec->event, peak_bytes = 0, total = 0;
	int status;

	if (spec->kind == POINT_PEAK) {
		if (strcmp(path, "-") == 0)
			return ms_error_set(err, MS_EXIT_USAGE,
					    "%s peak reads the trace twice (a first pass finds "
					    "the peak) and standard input cannot be read again: "
					    "give a file, or %s end, an event or a mark", opt, opt);
		status = point_find_peak(path, &target, &peak_bytes, &total, err);
		if (status != 0)
			return status;
	}
	w.r = trace_open(path, err);
	if (!w.r)
		return err->code;
	w.heap = heap_create(NULL);
	w.rt = xcalloc(n ? n : 1, sizeof *w.rt);
	for (size_t i = 0; i < n; i++)
		w.rt[i] = runtime_create(policies[i], trace_types(w.r));
	w.at.kind = spec->kind;
	w.at.label = spec->label;
	status = walk_run(&w, opt, spec, target, err);
	if (status == 0 && spec->kind == POINT_PEAK)
		w.at.trace_events = total;      /* the first pass read it all */
	if (status == 0)
		status = visit->at(visit->ctx, w.heap, w.rt, n, &w.at, w.r, err);
	for (size_t i = 0; i < n; i++)
		runtime_destroy(w.rt[i]);
	free(w.rt);
	heap_destroy(w.heap);
	free(w.sites);
	trace_close(w.r);
	return status;
}
