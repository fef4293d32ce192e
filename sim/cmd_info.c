/*
 * cmd_info.c - `memsim info TRACE...`: policy-independent trace facts.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "info.h"
#include "progress.h"
#include "xalloc.h"

static const char *const kind_keys[EVENT_KIND_COUNT] = {
	"alloc", "free", "resize", "ref_add", "ref_drop", "collect",
	"safepoint", "time", "site", "mark", "gc_begin", "gc_end",
	"snapshot", "snapshot_refs", "snapshot_edge",
};

#define INFO_TOP_SITES 10       /* sites listed unless --sites says */
#define INFO_PATH_TEXT 16       /* frames of a site's path in the text form */
#define INFO_FRAME_TEXT 160     /* bytes of a frame shown in the text form */

/* What the report shows, from the command line. */
struct info_opts {
	enum cli_format fmt;
	uint32_t top_sites;     /* 0: all */
	int quiet;
};

/* Kinds a trace of `version` can have (the version-2 ones are left out
 * of a version-1 trace's report, which stays as it always was). */
static int kinds_of(unsigned version)
{
	return version >= 2 ? EVENT_KIND_COUNT : EVENT_KIND_V1_COUNT;
}

static void info_help(FILE *out)
{
	fprintf(out,
		"usage: memsim info [--format text|json] [--sites N] [-o FILE] [-q] TRACE...\n"
		"\n"
		"Policy-independent facts of each trace: events by kind, objects and\n"
		"bytes requested, peak live bytes and objects (with the event and time\n"
		"of each peak), final live set, per-type totals, a histogram of request\n"
		"sizes and the cyclic garbage left at the end. For a version-2 trace\n"
		"also the top allocation sites by peak live bytes (innermost frame and\n"
		"its callers), the marks, the recorded collections per generation and\n"
		"the heap snapshots. TRACE may be text or binary, plain or gzip, or '-'\n"
		"for standard input.\n"
		"\n"
		"Options:\n"
		"  -f, --format FMT   text (default) or json\n"
		"  -s, --sites N      list the N sites with the highest peak (default 10;\n"
		"                     0 lists every site)\n"
		"  -o, --output FILE  write the report to FILE (atomically) instead of stdout\n"
		"  -q, --quiet        no progress line\n"
		"  -h, --help         this help\n"
		"\n"
		"Examples:\n"
		"  memsim info traces/cycle.trace\n"
		"  memsim info --format json app.trace.gz | jq .peak_live_bytes\n"
		"  memsim info --sites 3 app.msb\n"
		"  zcat big.trace.gz | memsim info -\n");
}

static const char *type_label(const struct typetab *t, uint32_t i)
{
	return i == TYPETAB_UNTYPED ? "(untyped)" : typetab_name(t, i);
}

static void text_peak(struct strbuf *sb, const char *what,
		      const struct info_peak *p, int has_time)
{
	sb_printf(sb, "%-22s %" PRIu64, what, p->value);
	if (p->event)
		sb_printf(sb, " at event %" PRIu64, p->event);
	if (p->event && has_time)
		sb_printf(sb, " (t=%" PRIu64 " ns)", p->time);
	sb_putc(sb, '\n');
}

/* How many sites an `a` or `r` named. */
static uint32_t sites_used(const struct info_result *res)
{
	uint32_t n = 0;

	for (uint32_t i = 1; i < res->nsites; i++)
		n += res->sites[i].objects || res->sites[i].resizes;
	return n;
}

/* The frame of a site for the text form: %XX escapes of printable bytes
 * decoded, cut to INFO_FRAME_TEXT bytes. */
static const char *frame_text(const struct sitetab *sites, uint32_t i, char *buf,
			      size_t size)
{
	sitetab_frame_display(sitetab_frame(sites, i), buf, size);
	return buf;
}

static void text_sites(struct strbuf *sb, const struct info_result *res,
		       const struct sitetab *sites, const struct info_opts *o)
{
	char frame[INFO_FRAME_TEXT + 1];
	uint32_t n, *top = info_top_sites(res, o->top_sites, &n);
	uint32_t total = sites_used(res);

	sb_printf(sb, "\ntop sites by peak live bytes (%" PRIu32 " of %" PRIu32 " sites)\n",
		  n, total);
	if (n)
		sb_printf(sb, "%4s %16s %12s %14s  %s\n", "#", "peak live bytes",
			  "objects", "bytes", "site: innermost frame, then its callers");
	for (uint32_t k = 0; k < n; k++) {
		const struct info_site *st = &res->sites[top[k]];
		uint32_t i = sitetab_parent(sites, top[k]), shown = 1;

		sb_printf(sb, "%4" PRIu32 " %16" PRIu64 " %12" PRIu64 " %14" PRIu64 "  %s\n",
			  k + 1, st->peak_live_bytes, st->objects, st->bytes,
			  frame_text(sites, top[k], frame, sizeof frame));
		for (; i != EVENT_NO_SITE; i = sitetab_parent(sites, i), shown++) {
			if (shown == INFO_PATH_TEXT) {
				sb_printf(sb, "%51s<- ... (%" PRIu32 " more)\n", "",
					  sitetab_depth(sites, i));
				break;
			}
			sb_printf(sb, "%51s<- %s\n", "", frame_text(sites, i, frame, sizeof frame));
		}
	}
	free(top);
}

static void text_marks(struct strbuf *sb, const struct trace_reader *r, int has_time)
{
	size_t n;
	const struct trace_mark *m = trace_marks(r, &n);

	sb_printf(sb, "\nmarks (%zu)\n", n);
	if (n)
		sb_printf(sb, "  %-32s %14s%s\n", "label", "event", has_time ? "      time (ns)" : "");
	for (size_t i = 0; i < n; i++) {
		sb_printf(sb, "  %-32s %14" PRIu64, typetab_name(trace_labels(r), m[i].label),
			  m[i].event);
		if (has_time)
			sb_printf(sb, " %14" PRIu64, m[i].time);
		sb_putc(sb, '\n');
	}
}

static void text_v2(struct strbuf *sb, const struct trace_reader *r,
		    const struct info_result *res, const struct info_opts *o)
{
	text_sites(sb, res, trace_sites(r), o);
	text_marks(sb, r, res->has_time);
	sb_printf(sb, "\nrecorded collections (%zu generation%s)\n", res->ngcs,
		  res->ngcs == 1 ? "" : "s");
	if (res->ngcs)
		sb_printf(sb, "  %10s %12s %14s %14s%s\n", "generation", "collections",
			  "freed objects", "freed bytes",
			  res->has_time ? " pause total (ns) pause max (ns)" : "");
	for (size_t i = 0; i < res->ngcs; i++) {
		const struct info_gc *g = &res->gcs[i];

		sb_printf(sb, "  %10" PRIu64 " %12" PRIu64 " %14" PRIu64 " %14" PRIu64,
			  g->gen, g->collections, g->freed_objects, g->freed_bytes);
		if (res->has_time)
			sb_printf(sb, " %16" PRIu64 " %14" PRIu64, g->pause_total, g->pause_max);
		sb_putc(sb, '\n');
	}
	sb_printf(sb, "\n%-22s %" PRIu64, "heap snapshots", res->snapshots);
	if (res->snapshots)
		sb_printf(sb, " (the last lists %" PRIu64 " objects and %" PRIu64
			  " references)", res->last_snapshot_refs, res->last_snapshot_edges);
	sb_putc(sb, '\n');
}

static void text_report(struct strbuf *sb, const struct trace_reader *r,
			const struct info_result *res, const struct info_opts *o)
{
	const struct typetab *types = trace_types(r);

	sb_printf(sb, "trace: %s\n", trace_name(r));
	sb_printf(sb, "%-22s %" PRIu64 "\n", "events", res->events_total);
	for (int k = 0; k < kinds_of(trace_version(r)); k++)
		sb_printf(sb, "  %-20s %" PRIu64 "\n", kind_keys[k], res->events[k]);
	sb_printf(sb, "%-22s %" PRIu64 "\n", "objects allocated", res->objects_allocated);
	sb_printf(sb, "%-22s %" PRIu64 "\n", "bytes requested", res->bytes_requested_total);
	text_peak(sb, "peak live bytes", &res->peak_live_bytes, res->has_time);
	text_peak(sb, "peak live objects", &res->peak_live_objects, res->has_time);
	sb_printf(sb, "%-22s %" PRIu64 "\n", "peak live references", res->peak_live_refs);
	sb_printf(sb, "%-22s %" PRIu64 "\n", "final live bytes", res->final_live_bytes);
	sb_printf(sb, "%-22s %" PRIu64 "\n", "final live objects", res->final_live_objects);
	sb_printf(sb, "%-22s %" PRIu64 " objects, %" PRIu64 " bytes\n",
		  "cyclic garbage at end", res->cyclic_garbage_objects,
		  res->cyclic_garbage_bytes);
	sb_printf(sb, "\n%-24s %12s %14s %16s\n", "type", "objects", "bytes",
		  "peak live bytes");
	for (uint32_t i = 0; i < res->ntypes; i++) {
		const struct info_type *t = &res->types[i];

		if (!t->objects)
			continue;
		sb_printf(sb, "%-24s %12" PRIu64 " %14" PRIu64 " %16" PRIu64 "\n",
			  type_label(types, i), t->objects, t->bytes, t->peak_live_bytes);
	}
	sb_printf(sb, "\n%-24s %12s\n", "request size (bytes)", "allocations");
	for (unsigned b = 0; b < INFO_BUCKETS; b++) {
		char range[48];

		if (!res->size_buckets[b])
			continue;
		snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64,
			 info_bucket_min(b), info_bucket_max(b));
		sb_printf(sb, "%-24s %12" PRIu64 "\n", range, res->size_buckets[b]);
	}
	if (trace_version(r) >= 2)
		text_v2(sb, r, res, o);
}

static void json_peak(cJSON *o, const char *key, const struct info_peak *p,
		      int has_time)
{
	char k[64];

	cJSON_AddNumberToObject(o, key, (double)p->value);
	snprintf(k, sizeof k, "%s_event", key);
	cJSON_AddNumberToObject(o, k, (double)p->event);
	if (has_time) {
		snprintf(k, sizeof k, "%s_time_ns", key);
		cJSON_AddNumberToObject(o, k, (double)p->time);
	}
}

static cJSON *json_sites(const struct info_result *res, const struct sitetab *sites,
			 const struct info_opts *o)
{
	uint32_t n, *top = info_top_sites(res, o->top_sites, &n);
	cJSON *arr = cJSON_CreateArray();

	for (uint32_t k = 0; k < n; k++) {
		const struct info_site *st = &res->sites[top[k]];
		cJSON *e = cJSON_CreateObject(), *path;

		cJSON_AddNumberToObject(e, "site", (double)sitetab_number(sites, top[k]));
		cJSON_AddStringToObject(e, "frame", sitetab_frame(sites, top[k]));
		path = cJSON_AddArrayToObject(e, "path");
		for (uint32_t i = top[k]; i != EVENT_NO_SITE; i = sitetab_parent(sites, i))
			cJSON_AddItemToArray(path, cJSON_CreateString(sitetab_frame(sites, i)));
		cJSON_AddNumberToObject(e, "objects", (double)st->objects);
		cJSON_AddNumberToObject(e, "resizes", (double)st->resizes);
		cJSON_AddNumberToObject(e, "bytes", (double)st->bytes);
		cJSON_AddNumberToObject(e, "peak_live_bytes", (double)st->peak_live_bytes);
		cJSON_AddNumberToObject(e, "final_live_bytes", (double)st->live_bytes);
		cJSON_AddItemToArray(arr, e);
	}
	free(top);
	return arr;
}

static void json_v2(cJSON *o, const struct trace_reader *r,
		    const struct info_result *res, const struct info_opts *opts)
{
	size_t nm;
	const struct trace_mark *m = trace_marks(r, &nm);
	cJSON *arr, *snap;

	cJSON_AddNumberToObject(o, "sites_total", (double)sites_used(res));
	cJSON_AddItemToObject(o, "sites", json_sites(res, trace_sites(r), opts));
	arr = cJSON_AddArrayToObject(o, "marks");
	for (size_t i = 0; i < nm; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "label", typetab_name(trace_labels(r), m[i].label));
		cJSON_AddNumberToObject(e, "event", (double)m[i].event);
		if (res->has_time)
			cJSON_AddNumberToObject(e, "time_ns", (double)m[i].time);
		cJSON_AddItemToArray(arr, e);
	}
	arr = cJSON_AddArrayToObject(o, "recorded_collections");
	for (size_t i = 0; i < res->ngcs; i++) {
		const struct info_gc *g = &res->gcs[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "generation", (double)g->gen);
		cJSON_AddNumberToObject(e, "collections", (double)g->collections);
		cJSON_AddNumberToObject(e, "freed_objects", (double)g->freed_objects);
		cJSON_AddNumberToObject(e, "freed_bytes", (double)g->freed_bytes);
		if (res->has_time) {
			cJSON_AddNumberToObject(e, "pause_total_ns", (double)g->pause_total);
			cJSON_AddNumberToObject(e, "pause_max_ns", (double)g->pause_max);
		}
		cJSON_AddItemToArray(arr, e);
	}
	snap = cJSON_AddObjectToObject(o, "snapshots");
	cJSON_AddNumberToObject(snap, "count", (double)res->snapshots);
	cJSON_AddNumberToObject(snap, "refs", (double)res->snapshot_refs);
	cJSON_AddNumberToObject(snap, "edges", (double)res->snapshot_edges);
	cJSON_AddNumberToObject(snap, "last_refs", (double)res->last_snapshot_refs);
	cJSON_AddNumberToObject(snap, "last_edges", (double)res->last_snapshot_edges);
}

static cJSON *json_report(const struct trace_reader *r, const struct info_result *res,
			  const struct info_opts *opts)
{
	const struct typetab *types = trace_types(r);
	const char *metadata = trace_metadata(r);
	cJSON *o = cJSON_CreateObject(), *ev, *arr, *meta;

	cJSON_AddStringToObject(o, "trace", trace_name(r));
	cJSON_AddNumberToObject(o, "version", (double)trace_version(r));
	meta = metadata ? cJSON_Parse(metadata) : NULL;
	cJSON_AddItemToObject(o, "metadata", meta ? meta : cJSON_CreateNull());
	ev = cJSON_AddObjectToObject(o, "events");
	for (int k = 0; k < kinds_of(trace_version(r)); k++)
		cJSON_AddNumberToObject(ev, kind_keys[k], (double)res->events[k]);
	cJSON_AddNumberToObject(ev, "total", (double)res->events_total);
	cJSON_AddNumberToObject(o, "objects_allocated", (double)res->objects_allocated);
	cJSON_AddNumberToObject(o, "bytes_requested_total",
				(double)res->bytes_requested_total);
	json_peak(o, "peak_live_bytes", &res->peak_live_bytes, res->has_time);
	json_peak(o, "peak_live_objects", &res->peak_live_objects, res->has_time);
	cJSON_AddNumberToObject(o, "peak_live_refs", (double)res->peak_live_refs);
	cJSON_AddNumberToObject(o, "final_live_bytes", (double)res->final_live_bytes);
	cJSON_AddNumberToObject(o, "final_live_objects", (double)res->final_live_objects);
	cJSON_AddNumberToObject(o, "cyclic_garbage_objects",
				(double)res->cyclic_garbage_objects);
	cJSON_AddNumberToObject(o, "cyclic_garbage_bytes",
				(double)res->cyclic_garbage_bytes);
	if (res->has_time)
		cJSON_AddNumberToObject(o, "end_time_ns", (double)res->end_time);
	arr = cJSON_AddArrayToObject(o, "types");
	for (uint32_t i = 0; i < res->ntypes; i++) {
		const struct info_type *t = &res->types[i];
		cJSON *e;

		if (!t->objects)
			continue;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", type_label(types, i));
		cJSON_AddNumberToObject(e, "objects", (double)t->objects);
		cJSON_AddNumberToObject(e, "bytes", (double)t->bytes);
		cJSON_AddNumberToObject(e, "peak_live_bytes", (double)t->peak_live_bytes);
		cJSON_AddItemToArray(arr, e);
	}
	arr = cJSON_AddArrayToObject(o, "size_histogram");
	for (unsigned b = 0; b < INFO_BUCKETS; b++) {
		cJSON *e;

		if (!res->size_buckets[b])
			continue;
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "min", (double)info_bucket_min(b));
		cJSON_AddNumberToObject(e, "max", (double)info_bucket_max(b));
		cJSON_AddNumberToObject(e, "count", (double)res->size_buckets[b]);
		cJSON_AddItemToArray(arr, e);
	}
	if (trace_version(r) >= 2)
		json_v2(o, r, res, opts);
	return o;
}

struct info_progress {
	struct progress bar;
	const char *label;
};

static void tick(void *ctx, const struct trace_reader *r)
{
	struct info_progress *p = ctx;

	if (progress_due(&p->bar, trace_event_count(r)))
		progress_draw(&p->bar, p->label, trace_event_count(r),
			      trace_bytes_read(r), trace_file_size(r));
}

static int info_one(const char *path, const struct info_opts *o,
		    struct strbuf *sb, cJSON *all, struct ms_error *err)
{
	struct info_progress prog = { .label = path };
	struct info_observer obs = { &prog, tick };
	struct info_result res;
	struct trace_reader *r = trace_open(path, err);
	int status;

	if (!r)
		return err->code;
	progress_start(&prog.bar, cli_want_progress(o->quiet));
	status = info_run(r, prog.bar.enabled ? &obs : NULL, &res, err);
	progress_end(&prog.bar);
	if (status == 0) {
		if (o->fmt == CLI_FORMAT_JSON)
			cJSON_AddItemToArray(all, json_report(r, &res, o));
		else
			text_report(sb, r, &res, o);
	}
	info_free(&res);
	trace_close(r);
	return status;
}

static int info_run_cmd(int argc, char **argv, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "sites", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct info_opts o = { .fmt = CLI_FORMAT_TEXT, .top_sites = INFO_TOP_SITES };
	const char *output = NULL;
	unsigned long long v;
	struct strbuf sb;
	cJSON *all;
	int c, status = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_parse_format(optarg, 3u, &o.fmt, err))
				return err->code;
			break;
		case 's':
			if (cli_parse_u64("--sites", optarg, &v, err))
				return err->code;
			o.top_sites = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
			break;
		case 'o':
			output = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			info_help(stdout);
			return 0;
		default:
			return cli_bad_option("info", c, argv[optind - 1], err);
		}
	}
	if (optind >= argc)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "info: no trace given (see 'memsim info --help')");
	sb_init(&sb);
	all = cJSON_CreateArray();
	for (int i = optind; i < argc && status == 0; i++) {
		if (i > optind && o.fmt == CLI_FORMAT_TEXT)
			sb_putc(&sb, '\n');
		status = info_one(argv[i], &o, &sb, all, err);
	}
	if (status == 0 && o.fmt == CLI_FORMAT_JSON) {
		if (argc - optind == 1) {
			sb_put_json(&sb, cJSON_GetArrayItem(all, 0));
		} else {
			cJSON *doc = cJSON_CreateObject();

			cJSON_AddItemReferenceToObject(doc, "traces", all);
			sb_put_json(&sb, doc);
			cJSON_Delete(doc);
		}
	}
	if (status == 0)
		status = cli_emit(output, &sb, err);
	cJSON_Delete(all);
	sb_free(&sb);
	return status;
}

const struct cli_command cmd_info = {
	.name = "info",
	.summary = "policy-independent facts of traces (peaks, types, sizes, garbage)",
	.run = info_run_cmd,
};
