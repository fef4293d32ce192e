/*
 * cmd_policies.c - `memsim policies [--show POLICY]`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "policy.h"

static void policies_help(FILE *out)
{
	fprintf(out,
		"usage: memsim policies [--show POLICY]\n"
		"\n"
		"Lists the built-in presets with a one-line summary, or prints one\n"
		"policy in full as JSON (the form policy files use). POLICY may be a\n"
		"preset, a JSON file, or either with ':KEY=VALUE' changes.\n"
		"\n"
		"Options:\n"
		"  -s, --show POLICY   print POLICY as JSON\n"
		"  -h, --help          this help\n"
		"\n"
		"Examples:\n"
		"  memsim policies\n"
		"  memsim policies --show cpython-3.12\n"
		"  memsim policies --show cpython-2.7:freelists.mode=shared > mine.json\n");
}

static int policies_run(int argc, char **argv, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "show", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *show = NULL;
	struct strbuf sb;
	int c, status;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			show = optarg;
			break;
		case 'h':
			policies_help(stdout);
			return 0;
		default:
			return cli_bad_option("policies", c, argv[optind - 1], err);
		}
	}
	if (optind < argc)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "policies: unexpected argument '%s'", argv[optind]);
	sb_init(&sb);
	if (show) {
		struct policy *p;

		if (policy_resolve(show, &p, err)) {
			sb_free(&sb);
			return err->code;
		}
		policy_to_json(p, &sb);
		policy_free(p);
	} else {
		/* one column as wide as the longest name */
		int w = 0;

		for (size_t i = 0; i < policy_preset_count(); i++)
			if ((int)strlen(policy_preset_name(i)) > w)
				w = (int)strlen(policy_preset_name(i));
		for (size_t i = 0; i < policy_preset_count(); i++)
			sb_printf(&sb, "%-*s %s\n", w, policy_preset_name(i),
				  policy_preset_summary(i));
	}
	status = cli_emit(NULL, &sb, err);
	sb_free(&sb);
	return status;
}

const struct cli_command cmd_policies = {
	.name = "policies",
	.summary = "list the built-in policies, or show one as JSON",
	.run = policies_run,
};
