/*
 * cmd_retain.c - `memsim retain [--at POINT] TRACE`: what keeps memory
 * alive at a point of the run (docs/retention.md).
 *
 * Replays the trace up to the point on the bare heap (point.h), copies
 * the live graph, computes its dominator tree (retain.h) and reports
 * the top retainers with their shortest reference paths, the same by
 * type and by site, and the cyclic garbage, also under each -p policy.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "heap.h"
#include "html.h"
#include "outfile.h"
#include "plot.h"
#include "point.h"
#include "report.h"
#include "retain.h"
#include "runtime.h"
#include "sitetab.h"
#include "sweep.h"
#include "xalloc.h"

#define RETAIN_TOP_DEFAULT 10
#define RETAIN_PATH_JSON 1024   /* nodes of a path JSON lists in full */
#define RETAIN_PATH_TEXT 8      /* nodes of a path the text shows in full */
/* The accumulation point: follow the biggest dominator child while it
 * keeps this share of its parent's retained bytes (retain.h). */
#define RETAIN_SUSPECT_SHARE 80
/* The icicle chart of --out: dominator levels shown, and the smallest
 * cell drawn, in parts per thousand of the reachable bytes. */
#define RETAIN_ICICLE_DEPTH 8
#define RETAIN_ICICLE_MIN_PERMILLE 5

enum retain_by { BY_OBJECT, BY_TYPE, BY_SITE };

static void retain_help(FILE *out)
{
	fprintf(out,
		"usage: memsim retain [OPTIONS] TRACE\n"
		"\n"
		"What keeps memory alive at one point of the run: the dominator tree of\n"
		"the live object graph from the root set. An object's retained bytes are\n"
		"what would be freed if it lost all its incoming references. Reports the\n"
		"top retainers with type, site and the shortest reference path from the\n"
		"root set, the same grouped by type and by allocation site, and the\n"
		"cyclic garbage that only a collector would free (docs/retention.md).\n"
		"\n"
		"Options:\n"
		"      --at POINT     where to look: peak (default: the first event at\n"
		"                     which live bytes peak, as 'memsim info' reports it),\n"
		"                     end, an event number N (the state after event N), or\n"
		"                     a mark LABEL (mark:LABEL for a label named like a\n"
		"                     keyword); peak reads the trace twice\n"
		"  -n, --top N        list N retainers and N groups (default %d)\n"
		"      --by WHAT      the text's main table: object (default), type or site\n"
		"                     (JSON always has all three)\n"
		"  -p, --policy POL   also replay policy POL to the point and report the\n"
		"                     cyclic garbage its collector has left (repeatable)\n"
		"  -f, --format FMT   text (default) or json\n"
		"  -o, --output FILE  write the report to FILE (atomically)\n"
		"      --out DIR      also write DIR/retain.txt, retain.json, the icicle\n"
		"                     chart of the dominator tree (data/retain.dat,\n"
		"                     plots/retain.gp and, with gnuplot, .png/.svg) and\n"
		"                     DIR/index.html; DIR is new, empty or an earlier\n"
		"                     memsim report (replaced whole), checked first\n"
		"  -q, --quiet        no line saying where --out wrote its report\n"
		"  -h, --help         this help\n"
		"\n"
		"Examples:\n"
		"  memsim retain traces/lingering.trace.gz\n"
		"  memsim retain --at end --by type traces/lingering.trace.gz\n"
		"  memsim retain --at end --out retained/ traces/lingering.trace.gz\n"
		"  memsim retain --at 5000 --top 3 --format json app.trace | jq .retainers\n"
		"  memsim retain --at end -p cpython-3.12 -p cpython-3.12:gc.mode=none x.trace\n",
		RETAIN_TOP_DEFAULT);
}

struct retain_args {
	struct point_spec at;
	const char *at_text;
	size_t top;
	enum retain_by by;
	enum cli_format fmt;
	const char *output;
	const char *out_dir;
	const char **specs;
	size_t nspecs;
	struct sweep_list variants;
	struct policy **policies;
	const char *trace;
	int quiet;
};

/* Garbage a policy's collector left at the point. */
struct policy_garbage {
	const char *name;
	uint64_t objects, bytes;
	uint64_t allocated;     /* the policy's block sizes for them */
};

/* Everything the report shows, computed at the point. */
struct analysis {
	const struct retain_args *args;
	const char *trace;
	const char *metadata;
	const struct typetab *types;
	const struct sitetab *sites;    /* the trace's stack nodes */
	struct point_at at;
	struct retain_graph g;
	struct retain_result res;
	uint64_t live_bytes;
	uint64_t refs;                  /* references between objects */
	uint32_t *top;
	size_t ntop;
	uint32_t suspect;               /* the accumulation point, 0: none */
	uint64_t suspect_children;
	struct retain_group *by_type, *by_site;
	size_t ntype, nsite;
	int has_sites;
	struct policy_garbage *pg;
	size_t npg;
};

/* ---- formatting helpers ---- */

static const char *type_label(const struct typetab *t, uint32_t i)
{
	return i == TYPETAB_UNTYPED ? "(untyped)" : typetab_name(t, i);
}

static void bytes_text(char *buf, size_t size, uint64_t v)
{
	report_bytes(buf, size, (double)v);
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* JSON numbers for 64-bit values, exact beyond 2^53 (cJSON's doubles
 * are not). */
static void json_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	cJSON_AddRawToObject(o, key, buf);
}

static cJSON *json_u64_item(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return cJSON_CreateRaw(buf);
}

static void point_text(struct strbuf *sb, const struct analysis *a)
{
	const struct point_at *p = &a->at;

	switch (p->kind) {
	case POINT_PEAK:
		sb_puts(sb, "at: the peak of live bytes");
		break;
	case POINT_END:
		sb_puts(sb, "at: the end");
		break;
	case POINT_EVENT:
		sb_puts(sb, "at: an event");
		break;
	case POINT_MARK:
		sb_printf(sb, "at: mark '%s'", p->label);
		break;
	}
	if (p->event)
		sb_printf(sb, ", after event %" PRIu64, p->event);
	else
		sb_puts(sb, ", before the first event");
	if (p->trace_events)
		sb_printf(sb, " of %" PRIu64, p->trace_events);
	if (p->timed)
		sb_printf(sb, " (t=%" PRIu64 " ns)", p->time_ns);
	sb_putc(sb, '\n');
}

/* "0 -> 17 dict -> 9041 list", the middle cut when long. */
static void path_text(struct strbuf *sb, const struct analysis *a, uint32_t v)
{
	size_t len = retain_path(&a->res, v, NULL, 0);
	uint32_t *p = xmalloc(len * sizeof *p);

	retain_path(&a->res, v, p, len);
	sb_puts(sb, "0");
	for (size_t i = 1; i < len; i++) {
		if (len > RETAIN_PATH_TEXT && i == 4) {
			sb_printf(sb, " -> ... (%zu more) ...", len - 7);
			i = len - 4;
			continue;
		}
		sb_printf(sb, " -> %" PRIu64 " %s", a->g.id[p[i]],
			  type_label(a->types, a->g.type[p[i]]));
	}
	free(p);
}

/* ---- the analysis ---- */

struct retain_note_list {
	const char *v[8];
	size_t n;
};

static void note(struct retain_note_list *l, const char *s)
{
	if (l->n < sizeof l->v / sizeof l->v[0])
		l->v[l->n++] = s;
}

/* The explicit notes: what the numbers cannot show by themselves. */
static void notes_for(const struct analysis *a, struct retain_note_list *l)
{
	memset(l, 0, sizeof *l);
	if (a->g.n == 0)
		note(l, "no object is live at this point: nothing is retained");
	else if (a->res.reachable == 0)
		note(l, "no live object is reachable from the root set: all of them "
			"are cyclic garbage, and none retains anything");
	else if (a->refs == 0)
		note(l, "no references between live objects at this point (the trace "
			"has no + lines here): retention is by root objects only, each "
			"object retains just itself");
	if (a->npg == 0 && a->res.garbage_objects)
		note(l, "garbage is counted on the trace's graph without a collector; "
			"add -p POLICY to see what a policy's collector has left");
	if (!a->has_sites)
		note(l, "the trace has no allocation sites (^SITE, trace format "
			"version 2): no grouping by site");
	for (size_t i = 0; i < a->ntype; i++)
		if (!a->by_type[i].exact) {
			note(l, "some groups are too many to measure exactly: their "
				"retained sizes are lower bounds (exact: false)");
			break;
		}
}

/* "suspect: 3 dict retains 129.59 KiB (94.5%) in 401 objects under 200
 * dominator children; path ..." */
static void text_suspect(struct strbuf *sb, const struct analysis *a)
{
	uint32_t v = a->suspect;
	char rb[32];

	if (v == 0) {
		if (a->res.reachable)
			sb_printf(sb, "suspect: none (no single object retains %d%% of the "
				  "reachable bytes)\n", RETAIN_SUSPECT_SHARE);
		return;
	}
	bytes_text(rb, sizeof rb, a->res.retained_bytes[v]);
	sb_printf(sb, "suspect (where retention spreads out): %" PRIu64 " %s retains %s "
		  "(%.1f%%) in %" PRIu32 " objects under %" PRIu64 " dominator children\n",
		  a->g.id[v], type_label(a->types, a->g.type[v]), rb,
		  share(a->res.retained_bytes[v], a->live_bytes),
		  a->res.retained_objects[v], a->suspect_children);
	sb_puts(sb, "  path: ");
	path_text(sb, a, v);
	sb_putc(sb, '\n');
}

static void text_retainers(struct strbuf *sb, const struct analysis *a)
{
	char rb[32], own[32];

	if (a->ntop == 0) {
		sb_puts(sb, "\nno retainers: no live object is reachable from the root set\n");
		return;
	}

	sb_printf(sb, "\ntop %zu retainers (retained: what would be freed if the object "
		  "lost its references)\n", a->ntop);
	sb_printf(sb, "%4s %10s %6s %10s %10s %-18s %-16s %s\n", "#", "retained", "share",
		  "objects", "own", "id", "type", "site");
	for (size_t i = 0; i < a->ntop; i++) {
		uint32_t v = a->top[i];
		char site[24] = "-";

		bytes_text(rb, sizeof rb, a->res.retained_bytes[v]);
		bytes_text(own, sizeof own, a->g.size[v]);
		if (a->g.site[v])
			snprintf(site, sizeof site, "^%" PRIu64, sitetab_number(a->sites, a->g.site[v]));
		sb_printf(sb, "%4zu %10s %5.1f%% %10" PRIu32 " %10s %-18" PRIu64 " %-16s %s\n",
			  i + 1, rb, share(a->res.retained_bytes[v], a->live_bytes),
			  a->res.retained_objects[v], own, a->g.id[v],
			  type_label(a->types, a->g.type[v]), site);
		sb_puts(sb, "     path: ");
		path_text(sb, a, v);
		sb_putc(sb, '\n');
	}
}

static void text_groups(struct strbuf *sb, const struct analysis *a, int by_site)
{
	const struct retain_group *grp = by_site ? a->by_site : a->by_type;
	size_t n = by_site ? a->nsite : a->ntype;
	char rb[32], own[32];

	if (by_site && !a->has_sites) {
		sb_puts(sb, "\nby site: the trace has no allocation sites\n");
		return;
	}
	if (n > a->args->top)
		n = a->args->top;
	sb_printf(sb, "\nby %s (retained: what would be freed if every object of the "
		  "group died)\n", by_site ? "site" : "type");
	sb_printf(sb, "%-24s %11s %6s %10s %10s %10s\n", by_site ? "site" : "type",
		  "retained", "share", "objects", "own", "live objs");
	for (size_t i = 0; i < n; i++) {
		char site[24];

		bytes_text(rb, sizeof rb, grp[i].retained_bytes);
		bytes_text(own, sizeof own, grp[i].bytes);
		snprintf(site, sizeof site, "^%" PRIu64, sitetab_number(a->sites, grp[i].key));
		sb_printf(sb, "%-24s %s%10s %5.1f%% %10" PRIu64 " %10s %10" PRIu64 "\n",
			  by_site ? site : type_label(a->types, grp[i].key),
			  grp[i].exact ? " " : ">", rb, share(grp[i].retained_bytes, a->live_bytes),
			  grp[i].retained_objects, own, grp[i].objects);
	}
}

static void text_garbage(struct strbuf *sb, const struct analysis *a)
{
	char b[32];

	bytes_text(b, sizeof b, a->res.garbage_bytes);
	sb_printf(sb, "\ngarbage only a collector would free: %" PRIu64 " objects, %s\n",
		  a->res.garbage_objects, b);
	sb_printf(sb, "  %-30s %10" PRIu64 " objects %12s\n", "without a collector",
		  a->res.garbage_objects, b);
	for (size_t i = 0; i < a->npg; i++) {
		char al[32];

		bytes_text(b, sizeof b, a->pg[i].bytes);
		bytes_text(al, sizeof al, a->pg[i].allocated);
		sb_printf(sb, "  %-30s %10" PRIu64 " objects %12s (%s in its allocator's "
			  "blocks)\n", a->pg[i].name, a->pg[i].objects, b, al);
	}
}

static void text_report(struct strbuf *sb, const struct analysis *a)
{
	struct retain_note_list notes;
	char live[32], reach[32];

	notes_for(a, &notes);
	bytes_text(live, sizeof live, a->live_bytes);
	bytes_text(reach, sizeof reach, a->res.reachable_bytes);
	sb_printf(sb, "trace: %s\n", a->trace);
	point_text(sb, a);
	sb_printf(sb, "live: %" PRIu32 " object%s, %s (%" PRIu64 " bytes); %" PRIu64
		  " reference%s between them\n", a->g.n, a->g.n == 1 ? "" : "s", live,
		  a->live_bytes, a->refs, a->refs == 1 ? "" : "s");
	sb_printf(sb, "reachable from the root set: %" PRIu32 " objects, %s\n",
		  a->res.reachable, reach);
	for (size_t i = 0; i < notes.n; i++)
		sb_printf(sb, "note: %s\n", notes.v[i]);
	text_suspect(sb, a);
	switch (a->args->by) {
	case BY_OBJECT:
		text_retainers(sb, a);
		break;
	case BY_TYPE:
		text_groups(sb, a, 0);
		break;
	case BY_SITE:
		text_groups(sb, a, 1);
		break;
	}
	text_garbage(sb, a);
}

static cJSON *json_path(const struct analysis *a, uint32_t v, cJSON *e)
{
	size_t len = retain_path(&a->res, v, NULL, 0), half = RETAIN_PATH_JSON / 2;
	uint32_t *p = xmalloc(len * sizeof *p);
	cJSON *ids = cJSON_CreateArray(), *types = cJSON_CreateArray();

	retain_path(&a->res, v, p, len);
	for (size_t i = 0; i < len; i++) {
		if (len > RETAIN_PATH_JSON && i == half)
			i = len - half;
		cJSON_AddItemToArray(ids, json_u64_item(i ? a->g.id[p[i]] : 0));
		cJSON_AddItemToArray(types, i ? cJSON_CreateString(type_label(a->types,
								a->g.type[p[i]]))
					      : cJSON_CreateNull());
	}
	cJSON_AddItemToObject(e, "path", ids);
	cJSON_AddItemToObject(e, "path_types", types);
	json_u64(e, "path_length", len - 1);
	if (len > RETAIN_PATH_JSON)
		json_u64(e, "path_elided", len - RETAIN_PATH_JSON);
	free(p);
	return e;
}

static cJSON *json_groups(const struct analysis *a, int by_site)
{
	const struct retain_group *grp = by_site ? a->by_site : a->by_type;
	size_t n = by_site ? a->nsite : a->ntype;
	cJSON *arr = cJSON_CreateArray();

	if (n > a->args->top)
		n = a->args->top;
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();

		if (by_site)
			json_u64(e, "site", sitetab_number(a->sites, grp[i].key));
		else
			cJSON_AddStringToObject(e, "type", type_label(a->types, grp[i].key));
		json_u64(e, "retained_bytes", grp[i].retained_bytes);
		json_u64(e, "retained_objects", grp[i].retained_objects);
		json_u64(e, "objects", grp[i].objects);
		json_u64(e, "bytes", grp[i].bytes);
		cJSON_AddBoolToObject(e, "exact", grp[i].exact);
		cJSON_AddItemToArray(arr, e);
	}
	return arr;
}

static cJSON *json_report(const struct analysis *a)
{
	cJSON *o = cJSON_CreateObject(), *at, *arr, *gar, *meta;
	struct retain_note_list notes;

	notes_for(a, &notes);
	cJSON_AddStringToObject(o, "trace", a->trace);
	meta = a->metadata ? cJSON_Parse(a->metadata) : NULL;
	cJSON_AddItemToObject(o, "metadata", meta ? meta : cJSON_CreateNull());
	at = cJSON_AddObjectToObject(o, "at");
	json_u64(at, "event", a->at.event);
	cJSON_AddStringToObject(at, "what", point_kind_name(a->at.kind));
	if (a->at.kind == POINT_MARK)
		cJSON_AddStringToObject(at, "label", a->at.label);
	if (a->at.timed)
		json_u64(at, "time_ns", a->at.time_ns);
	if (a->at.trace_events)
		json_u64(at, "trace_events", a->at.trace_events);
	json_u64(o, "live_bytes", a->live_bytes);
	json_u64(o, "live_objects", a->g.n);
	json_u64(o, "references", a->refs);
	json_u64(o, "reachable_bytes", a->res.reachable_bytes);
	json_u64(o, "reachable_objects", a->res.reachable);
	arr = cJSON_AddArrayToObject(o, "notes");
	for (size_t i = 0; i < notes.n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(notes.v[i]));
	if (a->suspect) {
		cJSON *e = cJSON_AddObjectToObject(o, "suspect");

		json_u64(e, "id", a->g.id[a->suspect]);
		cJSON_AddStringToObject(e, "type", type_label(a->types, a->g.type[a->suspect]));
		json_u64(e, "retained_bytes", a->res.retained_bytes[a->suspect]);
		json_u64(e, "retained_objects", a->res.retained_objects[a->suspect]);
		json_u64(e, "dominator_children", a->suspect_children);
		json_path(a, a->suspect, e);
	} else {
		cJSON_AddNullToObject(o, "suspect");
	}
	arr = cJSON_AddArrayToObject(o, "retainers");
	for (size_t i = 0; i < a->ntop; i++) {
		uint32_t v = a->top[i], d = a->res.idom[v];
		cJSON *e = cJSON_CreateObject();

		json_u64(e, "id", a->g.id[v]);
		cJSON_AddStringToObject(e, "type", type_label(a->types, a->g.type[v]));
		if (a->g.site[v])
			json_u64(e, "site", sitetab_number(a->sites, a->g.site[v]));
		else
			cJSON_AddNullToObject(e, "site");
		json_u64(e, "retained_bytes", a->res.retained_bytes[v]);
		json_u64(e, "retained_objects", a->res.retained_objects[v]);
		json_u64(e, "own_bytes", a->g.size[v]);
		json_u64(e, "dominator", d ? a->g.id[d] : 0);
		json_path(a, v, e);
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddItemToObject(o, "by_type", json_groups(a, 0));
	cJSON_AddItemToObject(o, "by_site", a->has_sites ? json_groups(a, 1)
							 : cJSON_CreateArray());
	gar = cJSON_AddObjectToObject(o, "garbage");
	json_u64(gar, "objects", a->res.garbage_objects);
	json_u64(gar, "bytes", a->res.garbage_bytes);
	arr = cJSON_AddArrayToObject(gar, "policies");
	for (size_t i = 0; i < a->npg; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "policy", a->pg[i].name);
		json_u64(e, "objects", a->pg[i].objects);
		json_u64(e, "bytes", a->pg[i].bytes);
		json_u64(e, "allocated_bytes", a->pg[i].allocated);
		cJSON_AddItemToArray(arr, e);
	}
	return o;
}

/* ---- at the point ---- */

struct retain_run {
	const struct retain_args *args;
	struct strbuf *sb;
	struct outdir *dir;     /* --out's staged directory, or NULL */
};

static void analyse(struct analysis *a, struct heap *h, struct runtime *const *rt,
		    size_t n)
{
	uint32_t nsites = 1;

	a->pg = xcalloc(n ? n : 1, sizeof *a->pg);
	a->npg = n;
	for (size_t i = 0; i < n; i++) {
		a->pg[i].name = runtime_policy(rt[i])->name;
		a->pg[i].objects = runtime_garbage(rt[i], &a->pg[i].bytes, &a->pg[i].allocated);
	}
	a->live_bytes = heap_live_bytes(h);
	retain_graph_from_heap(&a->g, h, a->at.sites);
	a->refs = retain_graph_refs(&a->g);
	retain_compute(&a->g, &a->res);
	a->top = xmalloc((a->args->top ? a->args->top : 1) * sizeof *a->top);
	a->ntop = retain_top(&a->g, &a->res, a->top, a->args->top);
	a->suspect = retain_accumulation(&a->g, &a->res, RETAIN_SUSPECT_SHARE,
					 &a->suspect_children);
	a->ntype = retain_groups(&a->g, &a->res, a->g.type, typetab_count(a->types),
				 a->args->top, &a->by_type);
	for (uint32_t v = 1; v <= a->g.n; v++) {
		if (a->g.site[v] >= nsites)
			nsites = a->g.site[v] + 1;
		if (a->g.site[v])
			a->has_sites = 1;
	}
	if (a->has_sites)
		a->nsite = retain_groups(&a->g, &a->res, a->g.site, nsites, a->args->top,
					 &a->by_site);
}

static void analysis_free(struct analysis *a)
{
	retain_result_free(&a->res);
	retain_graph_free(&a->g);
	free(a->top);
	free(a->by_type);
	free(a->by_site);
	free(a->pg);
}

/* ---- --out DIR ---- */

static void point_title(char *buf, size_t size, const struct analysis *a)
{
	const struct point_at *p = &a->at;

	if (p->kind == POINT_MARK)
		snprintf(buf, size, "what keeps memory alive: %s at mark '%s' (after event %"
			 PRIu64 ")", a->trace, p->label, p->event);
	else if (p->kind == POINT_EVENT)
		snprintf(buf, size, "what keeps memory alive: %s after event %" PRIu64,
			 a->trace, p->event);
	else
		snprintf(buf, size, "what keeps memory alive: %s at %s (after event %" PRIu64 ")",
			 a->trace, point_kind_name(p->kind), p->event);
}

/* The caption under the chart on the page, in the report's figures. */
static void icicle_caption(char *buf, size_t size, const struct analysis *a, uint64_t min)
{
	char total[32], small[32];

	bytes_text(total, sizeof total, a->res.reachable_bytes);
	bytes_text(small, sizeof small, min);
	snprintf(buf, size, "The dominator tree of the %s reachable from the root set "
		 "(the top bar): below each object, the objects it alone keeps alive, "
		 "as wide as their retained bytes, biggest first, coloured by type; "
		 "%d levels at most, objects retaining less than %s (%d.%d%%) not drawn.",
		 total, RETAIN_ICICLE_DEPTH, small, RETAIN_ICICLE_MIN_PERMILLE / 10,
		 RETAIN_ICICLE_MIN_PERMILLE % 10);
}

/* The icicle: the dominator tree's top levels, cells as wide as their
 * share of the reachable bytes, coloured by type. */
static int write_icicle(struct outdir *d, const struct analysis *a, struct plot_list *plots,
			struct ms_error *err)
{
	uint64_t total = a->res.reachable_bytes, min = total * RETAIN_ICICLE_MIN_PERMILLE / 1000;
	struct retain_cell *cells;
	size_t n = retain_icicle(&a->g, &a->res, RETAIN_ICICLE_DEPTH, min ? min : 1, &cells);
	struct plot_cell *pc = xcalloc(n, sizeof *pc);
	char (*labels)[128] = xcalloc(n, sizeof *labels), title[700], caption[600], b[32];
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint32_t v = cells[i].node;

		bytes_text(b, sizeof b, a->res.retained_bytes[v]);
		if (v == 0)
			snprintf(labels[i], sizeof labels[i], "root set %s", b);
		else
			snprintf(labels[i], sizeof labels[i], "%" PRIu64 " %s %s", a->g.id[v],
				 type_label(a->types, a->g.type[v]), b);
		pc[i].x0 = total ? (double)cells[i].start / (double)total : 0;
		pc[i].x1 = total ? (double)(cells[i].start + a->res.retained_bytes[v]) /
			(double)total : 1;
		pc[i].depth = cells[i].depth;
		pc[i].color = v == 0 ? 8 : a->g.type[v];       /* 8: the palette's grey */
		pc[i].label = labels[i];
	}
	point_title(title, sizeof title, a);
	icicle_caption(caption, sizeof caption, a, min ? min : 1);
	rc = plot_write_icicle(d, "retain", title, caption, pc, n, cells[n - 1].depth, plots,
			       err);
	free(cells);
	free(pc);
	free(labels);
	return rc;
}

/*
 * --out DIR: retain.txt, retain.json, the chart and index.html into the
 * staged directory d (outfile.h rule 3); the caller commits it. 0, or
 * an exit status with err filled.
 */
static int write_out_dir(struct outdir *d, const struct analysis *a, struct ms_error *err)
{
	struct strbuf text, json;
	struct plot_list plots = { 0 };
	cJSON *doc = json_report(a);
	int rc;

	sb_init(&text);
	sb_init(&json);
	text_report(&text, a);
	sb_put_json(&json, doc);
	cJSON_Delete(doc);
	rc = outdir_write(d, "retain.txt", &text, err);
	if (rc == 0)
		rc = outdir_write(d, "retain.json", &json, err);
	if (rc == 0)
		rc = write_icicle(d, a, &plots, err);
	if (rc == 0)
		rc = plot_render(d, &plots, err);
	if (rc == 0)
		rc = html_retain(d, sb_str(&text), &plots, err);
	plot_list_free(&plots);
	sb_free(&json);
	sb_free(&text);
	return rc;
}

static int at_point(void *ctx, struct heap *h, struct runtime *const *rt, size_t n,
		    const struct point_at *where, const struct trace_reader *r,
		    struct ms_error *err)
{
	struct retain_run *run = ctx;
	struct analysis a = {
		.args = run->args, .trace = trace_name(r), .metadata = trace_metadata(r),
		.types = trace_types(r), .sites = trace_sites(r), .at = *where,
	};

	analyse(&a, h, rt, n);
	if (run->args->by == BY_SITE && !a.has_sites) {
		analysis_free(&a);
		return ms_error_set(err, MS_EXIT_USAGE,
				    "retain: --by site: %s has no allocation sites (^SITE on "
				    "a and r lines, trace format version 2)", trace_name(r));
	}
	if (run->dir) {
		int rc = write_out_dir(run->dir, &a, err);

		if (rc) {
			analysis_free(&a);
			return rc;
		}
	}
	if (run->args->fmt == CLI_FORMAT_JSON) {
		cJSON *doc = json_report(&a);

		sb_put_json(run->sb, doc);
		cJSON_Delete(doc);
	} else {
		text_report(run->sb, &a);
	}
	analysis_free(&a);
	return 0;
}

/* ---- the command ---- */

enum { OPT_AT = 256, OPT_BY, OPT_OUT };

static int parse_by(const char *s, enum retain_by *out, struct ms_error *err)
{
	static const char *const names[] = { "object", "type", "site" };

	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum retain_by)i;
			return 0;
		}
	return ms_error_set(err, MS_EXIT_USAGE,
			    "retain: --by '%s': choose object, type or site", s);
}

static int parse_args(int argc, char **argv, struct retain_args *a, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, OPT_AT },
		{ "top", required_argument, NULL, 'n' },
		{ "by", required_argument, NULL, OPT_BY },
		{ "policy", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:p:f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_AT:
			if (point_parse("--at", optarg, &a->at, err))
				return err->code;
			a->at_text = optarg;
			break;
		case 'n':
			if (cli_parse_u64("--top", optarg, &v, err))
				return err->code;
			if (v == 0 || v > UINT32_MAX)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "retain: --top %s: give 1 to %u", optarg,
						    (unsigned)UINT32_MAX);
			a->top = (size_t)v;
			break;
		case OPT_BY:
			if (parse_by(optarg, &a->by, err))
				return err->code;
			break;
		case 'p':
			a->specs = xreallocarray(a->specs, a->nspecs + 1, sizeof *a->specs);
			a->specs[a->nspecs++] = optarg;
			break;
		case 'f':
			if (cli_parse_format(optarg, 3u, &a->fmt, err))
				return err->code;
			break;
		case 'o':
			a->output = optarg;
			break;
		case OPT_OUT:
			if (!*optarg)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "retain: --out wants a directory name");
			a->out_dir = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'h':
			retain_help(stdout);
			return -1;
		default:
			return cli_bad_option("retain", c, argv[optind - 1], err);
		}
	}
	if (optind >= argc)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "retain: no trace given (see 'memsim retain --help')");
	if (argc - optind > 1)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "retain: one trace at a time ('%s' is a second one)",
				    argv[optind + 1]);
	a->trace = argv[optind];
	if (sweep_expand(a->specs, a->nspecs, SWEEP_LIMIT, &a->variants, err))
		return err->code;
	a->policies = sweep_policies(&a->variants);
	return 0;
}

static int retain_cmd(int argc, char **argv, struct ms_error *err)
{
	struct retain_args a = {
		.at = { .kind = POINT_PEAK }, .top = RETAIN_TOP_DEFAULT,
		.fmt = CLI_FORMAT_TEXT,
	};
	struct strbuf sb;
	struct outdir dir = { 0 };
	struct retain_run run = { .args = &a, .sb = &sb };
	struct point_visit visit = { &run, at_point };
	int status = parse_args(argc, argv, &a, err);

	sb_init(&sb);
	/* Where the results go is checked before the replay, not after it. */
	if (status == 0)
		status = outfile_check(a.output, err);
	if (status == 0 && a.out_dir && (status = outdir_begin(&dir, a.out_dir, err)) == 0)
		run.dir = &dir;
	if (status == 0)
		status = point_replay(a.trace, "--at", &a.at, a.policies, a.variants.n,
				      &visit, err);
	if (run.dir && status != 0)
		outdir_abort(&dir);
	else if (run.dir)
		status = cli_outdir_commit(&dir, a.quiet, "retention report", err);
	if (status == 0)
		status = cli_emit(a.output, &sb, err);
	sb_free(&sb);
	sweep_list_free(&a.variants);
	free(a.policies);
	free(a.specs);
	return status < 0 ? 0 : status;
}

const struct cli_command cmd_retain = {
	.name = "retain",
	.summary = "what keeps memory alive: dominators, retained sizes, paths from roots",
	.run = retain_cmd,
};
