/*
 * cmd_convert.c - `memsim convert [--to text|binary] [--gzip] IN OUT`:
 * rewrite a trace in the other form (docs/binary-format.md).
 *
 * The input is read with trace_open(), so it may be text or binary, plain
 * or gzip, or "-"; every event is checked as a replay would check it
 * (syntax and value rules; liveness is not checked). The output form comes
 * from --to, else from OUT's name: "*.msb" or "*.msb.gz" is binary,
 * anything else (and "-") is text; a ".gz" ending, or --gzip, compresses.
 * Text output is the normalised text of tracetext.h. The output file is
 * written to a temporary file beside OUT and renamed over it only once
 * complete, so a failed conversion never leaves a partial trace under
 * OUT's name.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "heaptrack.h"
#include "mtrace.h"
#include "progress.h"
#include "sink.h"
#include "trace.h"
#include "tracewrite.h"
#include "xalloc.h"

enum convert_to { TO_AUTO, TO_TEXT, TO_BINARY };

static void convert_help(FILE *out)
{
	fprintf(out,
		"usage: memsim convert [--to text|binary] [--gzip] [-q] [-v] IN OUT\n"
		"       memsim convert --from mtrace [--lenient] [--to ...] LOG OUT\n"
		"       memsim convert --from heaptrack [--to ...] HEAPTRACK-FILE OUT\n"
		"\n"
		"Rewrites the trace IN (text or binary, plain or gzip, '-' for standard\n"
		"input) as OUT ('-' for standard output), losslessly: the events and the\n"
		"header's metadata are kept; comments and spacing are not (text output is\n"
		"normalised: one space between fields, decimal numbers). Every event is\n"
		"checked as a replay checks it, so a bad trace stops the conversion with\n"
		"the reader's message. OUT is written atomically (a temporary file\n"
		"renamed when complete).\n"
		"\n"
		"The output form: --to, else OUT's name: *.msb and *.msb.gz are binary\n"
		"(docs/binary-format.md), anything else is text; a name ending in .gz,\n"
		"or --gzip, is gzip-compressed. Standard output gets text by default.\n"
		"\n"
		"Options:\n"
		"  -t, --to FORM      text or binary, whatever OUT is called\n"
		"  -z, --gzip         compress the output with gzip\n"
		"  -f, --from FORM    memsim (default: a memsim trace in either form),\n"
		"                     mtrace (a glibc mtrace(3) log, docs/recording.md) or\n"
		"                     heaptrack (heaptrack 1.x's data file, zstd, gzip or\n"
		"                     plain, e.g. heaptrack.app.1234.zst; docs/interop.md)\n"
		"      --lenient      with --from mtrace: skip inconsistent lines\n"
		"  -q, --quiet        no progress line\n"
		"  -v, --verbose      print events and bytes per event on stderr at the end\n"
		"  -h, --help         this help\n"
		"\n"
		"Examples:\n"
		"  memsim convert app.trace.gz app.msb\n"
		"  memsim convert app.msb app.trace\n"
		"  memsim convert --to binary --gzip - out.bin < app.trace\n"
		"  memsim convert app.msb - | head\n"
		"  memsim convert --from mtrace --lenient malloc.log app.trace.gz\n"
		"  memsim convert --from heaptrack heaptrack.app.1234.zst app.trace.gz\n");
}

/* The form OUT's name asks for. */
static enum convert_to form_of(const char *out)
{
	return tracewrite_form_of(out) == &tracewrite_binary ? TO_BINARY : TO_TEXT;
}

struct convert_args {
	enum convert_to to;
	int gzip, quiet, verbose;
	const char *in, *out;
};

/* Opens OUT's sink: stdout, or a temporary file beside OUT (*tmp). */
static struct sink *open_out(const struct convert_args *a, char **tmp,
			     struct ms_error *err)
{
	unsigned flags = a->gzip ? SINK_GZIP : 0;
	int fd;

	*tmp = NULL;
	if (strcmp(a->out, "-") == 0)
		return sink_fd(STDOUT_FILENO, 0, "<stdout>", flags);
	*tmp = xmalloc(strlen(a->out) + 16);
	sprintf(*tmp, "%s.tmp.XXXXXX", a->out);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		ms_error_clear(err);
		ms_error_at(err, a->out, 0);
		ms_error_set(err, MS_EXIT_IOERR, "cannot create: %s", strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	/* mkstemp makes the file 0600; give OUT the mode a plain create
	 * would (0666 less the umask), since it replaces OUT. */
	{
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	return sink_fd(fd, 1, a->out, flags);
}

/* The writer for OUT: the form asked for, the input's version. */
static struct trace_writer *start_writer(const struct convert_args *a,
					 struct sink *out, unsigned version,
					 const char *metadata, struct ms_error *err)
{
	const struct tracewrite_form *form =
		a->to == TO_BINARY ? &tracewrite_binary : &tracewrite_text;

	return tracewrite_start(out, form, version, metadata, err);
}

/* Closes the writer, renames the temporary file over OUT when all went
 * well (or removes it), and returns the first error's status. */
static int finish_out(const struct convert_args *a, struct trace_writer *w,
		      char *tmp, int status, struct ms_error *err)
{
	struct ms_error werr;
	int rc;

	ms_error_clear(&werr);
	rc = tracewrite_close(w, &werr);
	if (rc && status == 0) {
		*err = werr;
		status = rc;
	}
	if (tmp) {
		if (status == 0 && rename(tmp, a->out) != 0) {
			ms_error_clear(err);
			ms_error_at(err, a->out, 0);
			status = ms_error_set(err, MS_EXIT_IOERR, "cannot write: %s",
					      strerror(errno));
		}
		if (status != 0)
			unlink(tmp);
		free(tmp);
	}
	return status;
}

static int convert(const struct convert_args *a, struct ms_error *err)
{
	struct trace_reader *r = trace_open(a->in, err);
	struct trace_writer *w;
	struct trace_names names;
	struct event ev;
	struct progress bar;
	struct sink *out;
	char *tmp;
	int rc, status = 0;

	if (!r)
		return err->code;
	out = open_out(a, &tmp, err);
	if (!out) {
		trace_close(r);
		return err->code;
	}
	w = start_writer(a, out, trace_version(r), trace_metadata(r), err);
	if (!w) {               /* the sink is closed */
		if (tmp)
			unlink(tmp);
		free(tmp);
		trace_close(r);
		return err->code;
	}
	names = (struct trace_names){ trace_types(r), trace_sites(r), trace_labels(r) };
	progress_start(&bar, cli_want_progress(a->quiet));
	while ((rc = trace_next(r, &ev, err)) > 0) {
		if (tracewrite_put(w, &ev, &names)) {
			*err = *tracewrite_error(w);
			status = err->code;
			break;
		}
		if (progress_due(&bar, trace_event_count(r)))
			progress_draw(&bar, trace_name(r), trace_event_count(r),
				      trace_bytes_read(r), trace_file_size(r));
	}
	progress_end(&bar);
	if (rc < 0)
		status = err->code;
	if (a->verbose && status == 0)
		fprintf(stderr, "memsim: %s: %" PRIu64 " events, %s\n",
			trace_name(r), trace_event_count(r),
			trace_is_binary(r) ? "binary" : "text");
	status = finish_out(a, w, tmp, status, err);
	trace_close(r);
	return status;
}

/* One importer of another tool's file: writes its events to `w`. */
typedef int (*import_fn)(void *ctx, struct trace_writer *w, int quiet,
			 struct ms_error *err);

/*
 * --from FORM: the importer writes OUT's form directly, through the same
 * writer and the same temporary file beside OUT as convert(), so OUT
 * appears only complete. `version` and `meta` make the converted trace's
 * header.
 */
static int convert_import(const struct convert_args *a, unsigned version,
			  const char *meta, import_fn run, void *ctx,
			  struct ms_error *err)
{
	struct trace_writer *w;
	struct sink *out;
	char *tmp;

	out = open_out(a, &tmp, err);
	w = out ? start_writer(a, out, version, meta, err) : NULL;
	if (!w) {               /* the sink is closed */
		if (tmp)
			unlink(tmp);
		free(tmp);
		return err->code;
	}
	return finish_out(a, w, tmp, run(ctx, w, a->quiet, err), err);
}

struct mtrace_import {
	FILE *in;
	const char *name;
	int lenient;
	struct mtrace_counts counts;
};

static int run_mtrace(void *ctx, struct trace_writer *w, int quiet,
		      struct ms_error *err)
{
	struct mtrace_import *m = ctx;

	(void)quiet;
	return mtrace_convert(m->in, m->name, w, m->lenient, &m->counts, err);
}

static int convert_mtrace(const struct convert_args *a, int lenient,
			  struct ms_error *err)
{
	struct mtrace_import m = { .name = a->in, .lenient = lenient };
	char meta[512], line[512];
	int status;

	m.in = strcmp(a->in, "-") == 0 ? stdin : fopen(a->in, "r");
	if (!m.in) {
		ms_error_at(err, a->in, 0);
		return ms_error_set(err, MS_EXIT_NOINPUT, "cannot open: %s", strerror(errno));
	}
	mtrace_metadata(a->in, meta, sizeof meta);
	status = convert_import(a, 1, meta, run_mtrace, &m, err);
	if (status == 0 && !a->quiet) {
		mtrace_counts_format(&m.counts, line, sizeof line);
		fprintf(stderr, "memsim: converted %s: %s\n", a->in, line);
	}
	if (m.in != stdin)
		fclose(m.in);
	return status;
}

/* One heaptrack event as trace lines: its call-stack nodes become `k`
 * lines and each allocation names its node as `^SITE`. */
static int put_heaptrack(struct trace_writer *w, const struct heaptrack_event *ev)
{
	switch (ev->kind) {
	case HEAPTRACK_ALLOC:
		return tracewrite_alloc(w, ev->id, ev->size, NULL, ev->site);
	case HEAPTRACK_FREE:
		return tracewrite_free(w, ev->id);
	case HEAPTRACK_TIME:
		return tracewrite_time(w, ev->time);
	case HEAPTRACK_SITE:
		return tracewrite_site(w, ev->site, ev->parent, ev->frame);
	}
	return 0;
}

static int run_heaptrack(void *ctx, struct trace_writer *w, int quiet,
			 struct ms_error *err)
{
	struct heaptrack_reader *h = ctx;
	struct heaptrack_event ev;
	struct progress bar;
	uint64_t events = 0;
	int rc, status = 0;

	progress_start(&bar, cli_want_progress(quiet));
	while ((rc = heaptrack_next(h, &ev, err)) > 0) {
		if (put_heaptrack(w, &ev)) {
			*err = *tracewrite_error(w);
			status = err->code;
			break;
		}
		if (progress_due(&bar, ++events))
			progress_draw(&bar, heaptrack_name(h), events,
				      heaptrack_bytes_read(h), heaptrack_file_size(h));
	}
	progress_end(&bar);
	return status ? status : rc < 0 ? err->code : 0;
}

/* --from heaptrack: a version-2 trace (its stacks are sites). */
static int convert_heaptrack(const struct convert_args *a, struct ms_error *err)
{
	struct heaptrack_reader *h = heaptrack_open(a->in, err);
	struct heaptrack_counts counts;
	char line[512], *meta;
	int status;

	if (!h)
		return err->code;
	meta = heaptrack_metadata(h, a->in);
	status = convert_import(a, 2, meta, run_heaptrack, h, err);
	if (status == 0 && !a->quiet) {
		heaptrack_counts(h, &counts);
		heaptrack_counts_format(&counts, line, sizeof line);
		fprintf(stderr, "memsim: converted %s: %s\n", heaptrack_name(h), line);
	}
	free(meta);
	heaptrack_close(h);
	return status;
}

static int convert_run(int argc, char **argv, struct ms_error *err)
{
	enum { OPT_LENIENT = 256 };
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "gzip", no_argument, NULL, 'z' },
		{ "from", required_argument, NULL, 'f' },
		{ "lenient", no_argument, NULL, OPT_LENIENT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct convert_args a = { .to = TO_AUTO };
	enum { FROM_MEMSIM, FROM_MTRACE, FROM_HEAPTRACK } from = FROM_MEMSIM;
	int c, lenient = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:zf:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "text") == 0)
				a.to = TO_TEXT;
			else if (strcmp(optarg, "binary") == 0)
				a.to = TO_BINARY;
			else
				return ms_error_set(err, MS_EXIT_USAGE,
						    "convert: unknown form '%s' (use text or binary)",
						    optarg);
			break;
		case 'z':
			a.gzip = 1;
			break;
		case 'f':
			if (strcmp(optarg, "mtrace") == 0)
				from = FROM_MTRACE;
			else if (strcmp(optarg, "heaptrack") == 0)
				from = FROM_HEAPTRACK;
			else if (strcmp(optarg, "memsim") == 0)
				from = FROM_MEMSIM;
			else
				return ms_error_set(err, MS_EXIT_USAGE,
						    "convert: unknown input form '%s' "
						    "(use memsim, mtrace or heaptrack)", optarg);
			break;
		case OPT_LENIENT:
			lenient = 1;
			break;
		case 'q':
			a.quiet = 1;
			break;
		case 'v':
			a.verbose = 1;
			break;
		case 'h':
			convert_help(stdout);
			return 0;
		default:
			return cli_bad_option("convert", c, argv[optind - 1], err);
		}
	}
	if (argc - optind != 2)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "convert: wants IN and OUT (see 'memsim convert --help')");
	if (lenient && from != FROM_MTRACE)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "convert: --lenient applies only to --from mtrace");
	a.in = argv[optind];
	a.out = argv[optind + 1];
	if (a.to == TO_AUTO)
		a.to = form_of(a.out);
	if (sink_name_wants_gzip(a.out))
		a.gzip = 1;
	switch (from) {
	case FROM_MTRACE:
		return convert_mtrace(&a, lenient, err);
	case FROM_HEAPTRACK:
		return convert_heaptrack(&a, err);
	case FROM_MEMSIM:
		break;
	}
	return convert(&a, err);
}

const struct cli_command cmd_convert = {
	.name = "convert",
	.summary = "rewrite a trace as text or binary (lossless), plain or gzip",
	.run = convert_run,
};
