/*
 * cmd_replay.c - `memsim replay TRACE... -p POLICY...`: the comparison,
 * and with --out DIR the report directory (docs/reports.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "engine.h"
#include "html.h"
#include "plot.h"
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
		"fragmentation and the allocator's own counters side by side.\n"
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
		"  -f, --format FMT     text (default), json or csv\n"
		"  -o, --output FILE    write the report to FILE (atomically)\n"
		"  -b, --baseline NAME  add each other policy's difference to policy NAME\n"
		"                       (absolute and percent)\n"
		"      --out DIR        also write DIR/report.txt, report.json, report.csv,\n"
		"                       time series and pause data (DIR/data), gnuplot\n"
		"                       scripts and, if gnuplot is installed, PNG and SVG\n"
		"                       plots (DIR/plots) and DIR/index.html\n"
		"      --sample-step N  with --out: sample memory every N events\n"
		"                       (default: automatic, about 1000 points per trace)\n"
		"      --sample-ns N    with --out: sample every N ns of trace time once\n"
		"                       the trace has '@' times (default: automatic)\n"
		"  -j, --jobs N         simulation threads beside the reading thread\n"
		"                       (default: one per CPU, at most one per policy;\n"
		"                       0 reads and simulates in one thread); the\n"
		"                       results are the same for every N\n"
		"  -q, --quiet          no progress line\n"
		"  -h, --help           this help\n"
		"\n"
		"Examples:\n"
		"  memsim replay -p cpython-2.4 -p cpython-2.5 traces/seed-arenas.trace.gz\n"
		"  memsim replay -p cpython-3.11 -p cpython-3.11:allocator.arena_size=256K app.trace\n"
		"  memsim replay -p 'cpython-3.11:allocator.arena_size={256K,1M}:gc.threshold0={700,2000}' \\\n"
		"      --format csv app.trace\n"
		"  memsim replay -p malloc -p real:glibc -p real:jemalloc -p real:mimalloc \\\n"
		"      -p real:tcmalloc -p cpython-3.13 --out report/ app.trace\n"
		"  memsim replay -p my-policy.json --format json app.trace.gz > report.json\n"
		"  memsim replay -p malloc -p cpython-3.12 --format csv a.trace b.trace\n"
		"  memsim replay -p cpython-2.7 -p cpython-3.13 --baseline cpython-2.7 \\\n"
		"      --out out/ traces/list-churn.trace.gz\n");
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

static void emit(struct strbuf *sb, enum cli_format fmt, const struct engine_run *runs,
		 size_t n, const char *baseline)
{
	struct report_opts opts = { .baseline = baseline };

	if (fmt == CLI_FORMAT_JSON)
		report_json(sb, runs, n, &opts);
	else if (fmt == CLI_FORMAT_CSV)
		report_csv(sb, runs, n, &opts);
	else
		report_text(sb, runs, n, &opts);
}

struct replay_args {
	const char **specs;     /* -p as given */
	size_t nspecs;
	struct sweep_list variants;
	struct policy **policies; /* the variants', borrowed */
	size_t npolicies;
	int force;
	enum cli_format fmt;
	const char *output;
	const char *baseline;
	const char *out_dir;
	struct engine_sampling sampling;
	int jobs;
	int quiet;
};

enum { OPT_OUT = 256, OPT_SAMPLE_STEP, OPT_SAMPLE_NS, OPT_FORCE };

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
			if (cli_parse_format(optarg, 7u, &a->fmt, err))
				return err->code;
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
	if ((a->sampling.step_events || a->sampling.step_ns) && !a->out_dir)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "replay: --sample-step and --sample-ns need --out DIR");
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
	a->sampling.on = a->out_dir != NULL;
	return 0;
}

static int emit_file(const char *dir, const char *name, const struct strbuf *sb,
		     struct ms_error *err)
{
	char *path = xmalloc(strlen(dir) + strlen(name) + 2);
	int rc;

	sprintf(path, "%s/%s", dir, name);
	rc = cli_emit(path, sb, err);
	free(path);
	return rc;
}

/* --out DIR: the reports, data, scripts, images and index.html. Called
 * only after every trace replayed, so a failed replay writes nothing. */
static int write_dir(const struct replay_args *a, const struct engine_run *runs,
		     size_t n, struct ms_error *err)
{
	static const struct { const char *file; enum cli_format fmt; } reports[] = {
		{ "report.txt", CLI_FORMAT_TEXT },
		{ "report.json", CLI_FORMAT_JSON },
		{ "report.csv", CLI_FORMAT_CSV },
	};
	struct plot_list plots;
	struct strbuf sb, text;
	int rc = 0;

	if (mkdir(a->out_dir, 0777) != 0 && errno != EEXIST) {
		ms_error_at(err, a->out_dir, 0);
		return ms_error_set(err, MS_EXIT_IOERR, "cannot create directory: %s",
				    strerror(errno));
	}
	sb_init(&text);
	emit(&text, CLI_FORMAT_TEXT, runs, n, a->baseline);
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		sb_init(&sb);
		emit(&sb, reports[i].fmt, runs, n, a->baseline);
		rc = emit_file(a->out_dir, reports[i].file, &sb, err);
		sb_free(&sb);
	}
	if (rc == 0)
		rc = plot_write(a->out_dir, runs, n, &plots, err);
	else
		memset(&plots, 0, sizeof plots);
	if (rc == 0)
		rc = plot_render(a->out_dir, getenv("MEMSIM_GNUPLOT"), &plots, err);
	if (rc == 0) {
		sb_init(&sb);
		html_index(&sb, sb_str(&text), runs, n, &plots);
		rc = emit_file(a->out_dir, "index.html", &sb, err);
		sb_free(&sb);
	}
	if (rc == 0 && !plots.rendered)
		fprintf(stderr, "memsim: %s\n", plots.note);
	if (rc == 0 && !a->quiet)
		fprintf(stderr, "memsim: report in %s/index.html (%zu plot%s%s)\n",
			a->out_dir, plots.n, plots.n == 1 ? "" : "s",
			plots.rendered ? "" : ", scripts only");
	plot_list_free(&plots);
	sb_free(&text);
	return rc;
}

static void args_free(struct replay_args *a)
{
	sweep_list_free(&a->variants);
	free(a->policies);
	free(a->specs);
}

static int replay_run(int argc, char **argv, struct ms_error *err)
{
	struct replay_args a = { .fmt = CLI_FORMAT_TEXT, .jobs = ENGINE_JOBS_AUTO };
	struct replay_progress prog;
	struct engine_observer obs = { &prog, tick };
	struct engine_opts opts;
	struct engine_run *runs;
	size_t nruns = 0;
	struct strbuf sb;
	int status = parse_args(argc, argv, &a, err);

	if (status != 0) {
		args_free(&a);
		return status < 0 ? 0 : status;
	}
	runs = xcalloc((size_t)(argc - optind), sizeof *runs);
	progress_start(&prog.bar, cli_want_progress(a.quiet));
	for (int i = optind; i < argc && status == 0; i++) {
		prog.label = argv[i];
		opts = (struct engine_opts){
			.obs = prog.bar.enabled ? &obs : NULL,
			.sampling = &a.sampling, .jobs = a.jobs,
		};
		status = engine_replay_opts(argv[i], a.policies, a.npolicies, &opts,
					    &runs[nruns], err);
		progress_end(&prog.bar);
		if (status == 0)
			nruns++;
	}
	sb_init(&sb);
	if (status == 0 && a.out_dir)
		status = write_dir(&a, runs, nruns, err);
	if (status == 0) {
		emit(&sb, a.fmt, runs, nruns, a.baseline);
		status = cli_emit(a.output, &sb, err);
	}
	sb_free(&sb);
	for (size_t i = 0; i < nruns; i++)
		engine_run_free(&runs[i]);
	free(runs);
	args_free(&a);
	return status;
}

const struct cli_command cmd_replay = {
	.name = "replay",
	.summary = "replay traces under policies and compare them side by side",
	.run = replay_run,
};
