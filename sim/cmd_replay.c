/*
 * cmd_replay.c - `memsim replay TRACE... -p POLICY...`: the comparison,
 * and with --out DIR the report directory (docs/reports.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "outfile.h"
#include "progress.h"
#include "report.h"
#include "sweep.h"
#include "xalloc.h"

static void replay_help(FILE *out)
{
	fprintf(out,
		"usage: memsim replay [OPTIONS] -p POLICY [-p POLICY...] TRACE...\n"
		"\n"
		"Replays each TRACE once, feeding every event to every policy, and\n"
		"reports peak and final RSS, footprint, allocated and live bytes,\n"
		"fragmentation, free lists by type, the collector by generation and the\n"
		"allocators' own counters side by side.\n"
		"\n"
		"POLICY is a preset (see 'memsim policies'), a JSON policy file, or\n"
		"either followed by ':KEY=VALUE[:KEY=VALUE...]' to change knobs, where\n"
		"KEY is a dotted path into the policy's JSON form and VALUE may use\n"
		"K/M/G suffixes and 0x. A VALUE '{A,B,...}' or '{START..END+STEP}' /\n"
		"'{START..END*FACTOR}' is a sweep: one policy per value, named by its\n"
		"settings (docs/sweeps.md; 'memsim policies --expand' lists them).\n"
		"\n"
		"real:glibc, real:jemalloc, real:tcmalloc and real:mimalloc are measured,\n"
		"not modelled: malloc's free lists and collector, with the allocator calls\n"
		"replayed on the real library in a child process (knobs allocator.touch=\n"
		"all|first|none, allocator.measure_every=N); reports label them measured.\n"
		"\n"
		"Options:\n"
		"  -p, --policy POLICY  add a policy to compare (repeatable)\n"
		"      --force          allow more than 10000 policies (at most 100000)\n"
		"  -f, --format FMT     the report on stdout or -o:\n");
	for (size_t i = 0; report_formats[i]; i++)
		if (report_formats[i]->write)
			fprintf(out, "                         %-5s %s\n", report_formats[i]->name,
				report_formats[i]->summary);
	fprintf(out,
		"  -o, --output FILE    write the report to FILE (whole, or not at all)\n"
		"  -b, --baseline NAME  add each other policy's difference to policy NAME\n"
		"      --all            text: also show rows that are zero under every policy\n"
		"      --sections LIST  text: only these sections, comma-separated, of memory,\n"
		"                       fragmentation, freelists, collector, allocator, baseline\n"
		"      --out DIR        also write the report directory DIR (created, or an\n"
		"                       earlier report replaced whole):\n");
	for (size_t i = 0; report_formats[i]; i++)
		fprintf(out, "                         %-12s %s\n",
			report_formats[i]->file ? report_formats[i]->file : report_formats[i]->name,
			report_formats[i]->summary);
	fprintf(out,
		"      --series         sample memory over time into the JSON report too\n"
		"                       (implied by --out; for 'memsim merge' plots)\n"
		"      --sample-step N  with --out or --series: sample every N events\n"
		"                       (default: automatic, about 1000 points per trace)\n"
		"      --sample-ns N    with --out or --series: sample every N ns of trace\n"
		"                       time once the trace has '@' times (default: automatic)\n"
		"  -j, --jobs N         simulation threads beside the reading thread\n"
		"                       (default: one per CPU, at most one per policy;\n"
		"                       0 reads and simulates in one thread); the\n"
		"                       results are the same for every N\n"
		"  -q, --quiet          no progress line\n"
		"  -h, --help           this help\n"
		"\n"
		"Examples:\n"
		"  memsim replay -p cpython-2.7 -p cpython-2.7:freelists.mode=shared \\\n"
		"      traces/int-then-float.trace.gz\n"
		"  memsim replay -p cpython-3.11 -p cpython-3.11:allocator.arena_size=256K \\\n"
		"      traces/list-churn.trace.gz\n"
		"  memsim replay -p 'cpython-3.11:allocator.arena_size={256K,1M}:gc.threshold0={700,2000}' \\\n"
		"      --format csv traces/list-churn.trace.gz\n"
		"  memsim replay -p malloc -p real:glibc -p real:jemalloc -p real:mimalloc \\\n"
		"      -p real:tcmalloc --out report/ traces/list-churn.trace.gz\n"
		"  memsim replay -p cpython-2.4 -p cpython-2.7 -p cpython-3.11 -p cpython-3.13 \\\n"
		"      -p malloc -p cpython-2.7:freelists.mode=shared --sections memory,collector \\\n"
		"      traces/cycles.trace.gz\n"
		"  memsim replay -p cpython-3.13 --format json traces/cycles.trace.gz > report.json\n"
		"  memsim replay -p malloc -p cpython-3.12 --format csv traces/cycle.trace \\\n"
		"      traces/list-churn.trace.gz\n"
		"  memsim replay -p cpython-2.7 -p cpython-3.13 --baseline cpython-2.7 \\\n"
		"      --out out/ traces/cycles.trace.gz\n");
}

struct replay_progress {
	struct progress bar;
	const char *label;
};

static void tick(void *ctx, const struct trace_reader *r)
{
	struct replay_progress *p = ctx;

	progress_draw(&p->bar, p->label, trace_event_count(r), trace_bytes_read(r),
		      trace_file_size(r));
}

struct replay_args {
	const char **specs;     /* -p as given */
	size_t nspecs;
	struct sweep_list variants;
	struct policy **policies; /* the variants', borrowed */
	size_t npolicies;
	int force;
	const struct report_format *fmt;
	const char *output;
	const char *baseline;
	const char *out_dir;
	struct engine_sampling sampling;
	int jobs;
	int quiet;
	int all;
	unsigned sections;      /* --sections, REPORT_SEC_* bits (0: all) */
	int series;
};

enum { OPT_OUT = 256, OPT_SAMPLE_STEP, OPT_SAMPLE_NS, OPT_FORCE, OPT_ALL, OPT_SERIES,
       OPT_SECTIONS };

#define REPLAY_MAX_JOBS 1024

static int parse_args(int argc, char **argv, struct replay_args *a, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "sample-step", required_argument, NULL, OPT_SAMPLE_STEP },
		{ "sample-ns", required_argument, NULL, OPT_SAMPLE_NS },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "sections", required_argument, NULL, OPT_SECTIONS },
		{ "series", no_argument, NULL, OPT_SERIES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:f:o:b:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->specs = xreallocarray(a->specs, a->nspecs + 1, sizeof *a->specs);
			a->specs[a->nspecs++] = optarg;
			break;
		case OPT_FORCE:
			a->force = 1;
			break;
		case 'f':
			a->fmt = report_format_find(optarg);
			if (!a->fmt) {
				struct strbuf names;

				sb_init(&names);
				report_format_names(&names);
				ms_error_set(err, MS_EXIT_USAGE, "unknown format '%s' (use %s)",
					     optarg, sb_str(&names));
				sb_free(&names);
				return err->code;
			}
			break;
		case OPT_ALL:
			a->all = 1;
			break;
		case OPT_SECTIONS:
			if (report_sections_parse(optarg, &a->sections, err))
				return err->code;
			break;
		case OPT_SERIES:
			a->series = 1;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'j':
			if (cli_parse_u64("--jobs", optarg, &v, err))
				return err->code;
			if (v > REPLAY_MAX_JOBS)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "replay: --jobs %llu is more than %d threads",
						    v, REPLAY_MAX_JOBS);
			a->jobs = (int)v;
			break;
		case 'b':
			a->baseline = optarg;
			break;
		case OPT_OUT:
			if (!*optarg)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "replay: --out wants a directory name");
			a->out_dir = optarg;
			break;
		case OPT_SAMPLE_STEP:
		case OPT_SAMPLE_NS:
			if (cli_parse_u64(c == OPT_SAMPLE_NS ? "--sample-ns" : "--sample-step",
					  optarg, &v, err))
				return err->code;
			if (v == 0)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "replay: %s must be at least 1",
						    c == OPT_SAMPLE_NS ? "--sample-ns"
								       : "--sample-step");
			if (c == OPT_SAMPLE_NS)
				a->sampling.step_ns = v;
			else
				a->sampling.step_events = v;
			break;
		case 'h':
			replay_help(stdout);
			return -1;
		default:
			return cli_bad_option("replay", c, argv[optind - 1], err);
		}
	}
	if (optind >= argc)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "replay: no trace given (see 'memsim replay --help')");
	if (a->nspecs == 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "replay: no policy given: add -p PRESET, e.g. -p cpython-3.11 "
				    "(see 'memsim policies')");
	if (sweep_expand(a->specs, a->nspecs, a->force ? SWEEP_LIMIT_FORCED : SWEEP_LIMIT,
			 &a->variants, err))
		return err->code;
	a->policies = sweep_policies(&a->variants);
	a->npolicies = a->variants.n;
	if ((a->sampling.step_events || a->sampling.step_ns) && !a->out_dir && !a->series)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "replay: --sample-step and --sample-ns need --out DIR or --series");
	if (a->baseline) {
		size_t i;

		for (i = 0; i < a->npolicies; i++)
			if (strcmp(a->policies[i]->name, a->baseline) == 0)
				break;
		if (i == a->npolicies)
			return ms_error_set(err, MS_EXIT_USAGE,
					    "replay: --baseline '%s' is not one of the policies "
					    "given with -p (name it exactly as -p does)",
					    a->baseline);
	}
	a->sampling.on = a->out_dir != NULL || a->series;
	return 0;
}

/* Warnings in the record also go to stderr: a script reading only the
 * exit status and the numbers still hears of them. */
static void tell_warnings(const struct record *rec)
{
	for (size_t t = 0; t < rec->ntraces; t++) {
		const struct record_trace *tr = &rec->traces[t];

		for (size_t k = 0; k < tr->warnings.n; k++)
			fprintf(stderr, "memsim: warning: %s: %s\n", tr->name, tr->warnings.v[k]);
		for (size_t i = 0; i < tr->npol; i++)
			for (size_t k = 0; k < tr->pol[i].warnings.n; k++)
				fprintf(stderr, "memsim: warning: %s under %s: %s\n", tr->name,
					tr->pol[i].name, tr->pol[i].warnings.v[k]);
	}
}

/* --out DIR: every format of the registry into the staged directory,
 * then the stage swapped in. */
static int write_dir(const struct replay_args *a, struct outdir *d,
		     const struct record *rec, const struct report_opts *opts,
		     struct ms_error *err)
{
	int rc = report_write_dir(d, rec, opts, err);

	if (rc) {
		outdir_abort(d);
		return rc;
	}
	return cli_outdir_commit(d, a->quiet, "report", err);
}

static int replay_traces(struct replay_args *a, int argc, char **argv, struct record *rec,
			 struct ms_error *err)
{
	struct replay_progress prog;
	struct engine_observer obs = { &prog, tick };
	int status = 0;

	progress_start(&prog.bar, cli_want_progress(a->quiet));
	for (int i = optind; i < argc && status == 0; i++) {
		struct engine_opts opts = {
			.obs = prog.bar.enabled ? &obs : NULL,
			.sampling = &a->sampling, .jobs = a->jobs,
		};
		struct record_trace t;

		prog.label = argv[i];
		status = engine_replay_opts(argv[i], a->policies, a->npolicies, &opts, &t, err);
		progress_end(&prog.bar);
		if (status == 0)
			*record_add_trace(rec) = t;
	}
	return status;
}

static void args_free(struct replay_args *a)
{
	sweep_list_free(&a->variants);
	free(a->policies);
	free(a->specs);
}

static int replay_run(int argc, char **argv, struct ms_error *err)
{
	struct replay_args a = { .fmt = &report_format_text, .jobs = ENGINE_JOBS_AUTO };
	struct record rec = { 0 };
	struct outdir dir = { 0 };
	struct report_opts opts;
	struct strbuf sb;
	int status = parse_args(argc, argv, &a, err);

	if (status != 0) {
		args_free(&a);
		return status < 0 ? 0 : status;
	}
	/* Where the results go is checked before the replay, not after it. */
	status = outfile_check(a.output, err);
	if (status == 0 && a.out_dir)
		status = outdir_begin(&dir, a.out_dir, err);
	if (status == 0)
		status = replay_traces(&a, argc, argv, &rec, err);
	opts = (struct report_opts){ .baseline = a.baseline, .all = a.all,
				     .sections = a.sections };
	if (status == 0)
		tell_warnings(&rec);
	if (a.out_dir && status != 0)
		outdir_abort(&dir);
	else if (a.out_dir)
		status = write_dir(&a, &dir, &rec, &opts, err);
	if (status == 0) {
		sb_init(&sb);
		a.fmt->write(&sb, &rec, &opts);
		status = cli_emit(a.output, &sb, err);
		sb_free(&sb);
	}
	record_free(&rec);
	args_free(&a);
	return status;
}

const struct cli_command cmd_replay = {
	.name = "replay",
	.summary = "replay traces under policies and compare them side by side",
	.run = replay_run,
};
