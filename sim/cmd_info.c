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
	"safepoint", "time",
};

static void info_help(FILE *out)
{
	fprintf(out,
		"usage: memsim info [--format text|json] [-o FILE] [-q] TRACE...\n"
		"\n"
		"Policy-independent facts of each trace: events by kind, objects and\n"
		"bytes requested, peak live bytes and objects (with the event and time\n"
		"of each peak), final live set, per-type totals, a histogram of request\n"
		"sizes and the cyclic garbage left at the end. TRACE may be plain or\n"
		"gzip text, or '-' for standard input.\n"
		"\n"
		"Options:\n"
		"  -f, --format FMT   text (default) or json\n"
		"  -o, --output FILE  write the report to FILE (atomically) instead of stdout\n"
		"  -q, --quiet        no progress line\n"
		"  -h, --help         this help\n"
		"\n"
		"Examples:\n"
		"  memsim info traces/cycle.trace\n"
		"  memsim info --format json app.trace.gz | jq .peak_live_bytes\n"
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

static void text_report(struct strbuf *sb, const char *name,
			const struct info_result *res, const struct typetab *types)
{
	sb_printf(sb, "trace: %s\n", name);
	sb_printf(sb, "%-22s %" PRIu64 "\n", "events", res->events_total);
	for (int k = 0; k < EVENT_KIND_COUNT; k++)
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

static cJSON *json_report(const char *name, const struct info_result *res,
			  const struct typetab *types, const char *metadata)
{
	cJSON *o = cJSON_CreateObject(), *ev, *arr, *meta;

	cJSON_AddStringToObject(o, "trace", name);
	meta = metadata ? cJSON_Parse(metadata) : NULL;
	cJSON_AddItemToObject(o, "metadata", meta ? meta : cJSON_CreateNull());
	ev = cJSON_AddObjectToObject(o, "events");
	for (int k = 0; k < EVENT_KIND_COUNT; k++)
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
	return o;
}

static void append_json(struct strbuf *sb, cJSON *doc)
{
	char *s = cJSON_Print(doc);

	if (!s) {
		fputs("memsim: out of memory printing JSON\n", stderr);
		exit(MS_EXIT_OSERR);
	}
	sb_puts(sb, s);
	sb_putc(sb, '\n');
	free(s);
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

static int info_one(const char *path, enum cli_format fmt, int quiet,
		    struct strbuf *sb, cJSON *all, struct ms_error *err)
{
	struct info_progress prog = { .label = path };
	struct info_observer obs = { &prog, tick };
	struct info_result res;
	struct trace_reader *r = trace_open(path, err);
	int status;

	if (!r)
		return err->code;
	progress_start(&prog.bar, cli_want_progress(quiet));
	status = info_run(r, prog.bar.enabled ? &obs : NULL, &res, err);
	progress_end(&prog.bar);
	if (status == 0) {
		if (fmt == CLI_FORMAT_JSON)
			cJSON_AddItemToArray(all, json_report(trace_name(r), &res,
							      trace_types(r),
							      trace_metadata(r)));
		else
			text_report(sb, trace_name(r), &res, trace_types(r));
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
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum cli_format fmt = CLI_FORMAT_TEXT;
	const char *output = NULL;
	struct strbuf sb;
	cJSON *all;
	int c, quiet = 0, status = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_parse_format(optarg, 3u, &fmt, err))
				return err->code;
			break;
		case 'o':
			output = optarg;
			break;
		case 'q':
			quiet = 1;
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
		if (i > optind && fmt == CLI_FORMAT_TEXT)
			sb_putc(&sb, '\n');
		status = info_one(argv[i], fmt, quiet, &sb, all, err);
	}
	if (status == 0 && fmt == CLI_FORMAT_JSON) {
		if (argc - optind == 1) {
			append_json(&sb, cJSON_GetArrayItem(all, 0));
		} else {
			cJSON *doc = cJSON_CreateObject();

			cJSON_AddItemReferenceToObject(doc, "traces", all);
			append_json(&sb, doc);
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
