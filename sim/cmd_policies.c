/*
 * cmd_policies.c - `memsim policies [--show POLICY | --expand POLICY...]`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "policy.h"
#include "sweep.h"
#include "xalloc.h"

static void policies_help(FILE *out)
{
	fprintf(out,
		"usage: memsim policies [--show POLICY | --expand POLICY...]\n"
		"\n"
		"Lists the built-in presets with a one-line summary, or prints one\n"
		"policy in full as JSON (the form policy files use), or the names of\n"
		"the policies a sweep stands for. POLICY may be a preset, a JSON file,\n"
		"or either with ':KEY=VALUE' changes; a VALUE '{...}' is a sweep set\n"
		"(docs/sweeps.md).\n"
		"\n"
		"Options:\n"
		"  -s, --show POLICY    print POLICY as JSON\n"
		"  -e, --expand POLICY  print the name of each policy POLICY stands for,\n"
		"                       one a line (repeatable, as replay's -p)\n"
		"      --force          with --expand: allow more than 10000 policies\n"
		"  -h, --help           this help\n"
		"\n"
		"Examples:\n"
		"  memsim policies\n"
		"  memsim policies --show cpython-3.12\n"
		"  memsim policies --show cpython-2.7:freelists.mode=shared > mine.json\n"
		"  memsim policies --expand 'cpython-3.11:allocator.arena_size={256K..4M*2}'\n");
}

/* --expand: one name a line, in the order replay would run them. */
static int expand(const char **specs, size_t n, int force, struct strbuf *sb,
		  struct ms_error *err)
{
	struct sweep_list list;

	if (sweep_expand(specs, n, force ? SWEEP_LIMIT_FORCED : SWEEP_LIMIT, &list, err))
		return err->code;
	for (size_t i = 0; i < list.n; i++)
		sb_printf(sb, "%s\n", list.v[i].policy->name);
	sweep_list_free(&list);
	return 0;
}

enum { OPT_FORCE = 256 };

static int policies_run(int argc, char **argv, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "show", required_argument, NULL, 's' },
		{ "expand", required_argument, NULL, 'e' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *show = NULL;
	const char **specs = NULL;
	size_t nspecs = 0;
	struct strbuf sb;
	int c, force = 0, status = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:e:h", longopts, NULL)) != -1 && status == 0) {
		switch (c) {
		case 's':
			show = optarg;
			break;
		case 'e':
			specs = xreallocarray(specs, nspecs + 1, sizeof *specs);
			specs[nspecs++] = optarg;
			break;
		case OPT_FORCE:
			force = 1;
			break;
		case 'h':
			policies_help(stdout);
			free(specs);
			return 0;
		default:
			status = cli_bad_option("policies", c, argv[optind - 1], err);
		}
	}
	if (status == 0 && optind < argc)
		status = ms_error_set(err, MS_EXIT_USAGE,
				      "policies: unexpected argument '%s'", argv[optind]);
	if (status == 0 && show && nspecs)
		status = ms_error_set(err, MS_EXIT_USAGE,
				      "policies: --show and --expand do not go together");
	sb_init(&sb);
	if (status == 0 && nspecs) {
		status = expand(specs, nspecs, force, &sb, err);
	} else if (status == 0 && show) {
		struct policy *p;

		status = policy_resolve(show, &p, err);
		if (status == 0) {
			policy_to_json(p, &sb);
			policy_free(p);
		}
	} else if (status == 0) {
		/* one column as wide as the longest name */
		int w = 0;

		for (size_t i = 0; i < policy_preset_count(); i++)
			if ((int)strlen(policy_preset_name(i)) > w)
				w = (int)strlen(policy_preset_name(i));
		for (size_t i = 0; i < policy_preset_count(); i++)
			sb_printf(&sb, "%-*s %s\n", w, policy_preset_name(i),
				  policy_preset_summary(i));
	}
	if (status == 0)
		status = cli_emit(NULL, &sb, err);
	sb_free(&sb);
	free(specs);
	return status;
}

const struct cli_command cmd_policies = {
	.name = "policies",
	.summary = "list the built-in policies, or show one as JSON",
	.run = policies_run,
};
