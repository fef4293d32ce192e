/*
 * cmd_replay.c - `memsim replay TRACE... -p POLICY...`: the comparison.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "progress.h"
#include "report.h"
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
		"either followed by ':KEY=VALUE[,KEY=VALUE...]' to change knobs, where\n"
		"KEY is a dotted path into the policy's JSON form.\n"
		"\n"
		"Options:\n"
		"  -p, --policy POLICY  add a policy to compare (repeatable)\n"
		"  -f, --format FMT     text (default), json or csv\n"
		"  -o, --output FILE    write the report to FILE (atomically)\n"
		"  -q, --quiet          no progress line\n"
		"  -h, --help           this help\n"
		"\n"
		"Examples:\n"
		"  memsim replay -p cpython-2.4 -p cpython-2.5 traces/seed-arenas.trace.gz\n"
		"  memsim replay -p cpython-3.11 -p cpython-3.11:allocator.arena_size=262144 app.trace\n"
		"  memsim replay -p my-policy.json --format json app.trace.gz > report.json\n"
		"  memsim replay -p malloc -p cpython-3.12 --format csv a.trace b.trace\n");
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
		 size_t n)
{
	struct report_opts opts = { .baseline = NULL };

	if (fmt == CLI_FORMAT_JSON)
		report_json(sb, runs, n, &opts);
	else if (fmt == CLI_FORMAT_CSV)
		report_csv(sb, runs, n, &opts);
	else
		report_text(sb, runs, n, &opts);
}

struct replay_args {
	struct policy **policies;
	size_t npolicies;
	enum cli_format fmt;
	const char *output;
	int quiet;
};

static int parse_args(int argc, char **argv, struct replay_args *a, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->policies = xreallocarray(a->policies, a->npolicies + 1,
						    sizeof *a->policies);
			if (policy_resolve(optarg, &a->policies[a->npolicies], err))
				return err->code;
			a->npolicies++;
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
	if (a->npolicies == 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "replay: no policy given: add -p PRESET, e.g. -p cpython-3.11 "
				    "(see 'memsim policies')");
	return 0;
}

static int replay_run(int argc, char **argv, struct ms_error *err)
{
	struct replay_args a = { .fmt = CLI_FORMAT_TEXT };
	struct replay_progress prog;
	struct engine_observer obs = { &prog, tick };
	struct engine_run *runs;
	size_t nruns = 0;
	struct strbuf sb;
	int status = parse_args(argc, argv, &a, err);

	if (status != 0) {
		for (size_t i = 0; i < a.npolicies; i++)
			policy_free(a.policies[i]);
		free(a.policies);
		return status < 0 ? 0 : status;
	}
	runs = xcalloc((size_t)(argc - optind), sizeof *runs);
	progress_start(&prog.bar, cli_want_progress(a.quiet));
	for (int i = optind; i < argc && status == 0; i++) {
		prog.label = argv[i];
		status = engine_replay(argv[i], a.policies, a.npolicies,
				       prog.bar.enabled ? &obs : NULL, &runs[nruns], err);
		progress_end(&prog.bar);
		if (status == 0)
			nruns++;
	}
	sb_init(&sb);
	if (status == 0) {
		emit(&sb, a.fmt, runs, nruns);
		status = cli_emit(a.output, &sb, err);
	}
	sb_free(&sb);
	for (size_t i = 0; i < nruns; i++)
		engine_run_free(&runs[i]);
	free(runs);
	for (size_t i = 0; i < a.npolicies; i++)
		policy_free(a.policies[i]);
	free(a.policies);
	return status;
}

const struct cli_command cmd_replay = {
	.name = "replay",
	.summary = "replay traces under policies and compare them side by side",
	.run = replay_run,
};
