/*
 * main.c - memsim: replay memory traces against runtime memory policies.
 *
 * The only place that prints errors and picks the exit status: commands
 * return an enum ms_exit value and fill a struct ms_error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"

#define MEMSIM_VERSION "0.1.0"

static const struct cli_command *const commands[] = {
	&cmd_info,
	&cmd_replay,
	&cmd_policies,
	&cmd_convert,

	NULL,
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: memsim COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"Replays recorded memory traces against allocator, free-list and\n"
		"garbage-collector policies modelled on CPython, and reports peak RSS,\n"
		"fragmentation and collector pauses side by side.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; commands[i]; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\n"
		"Examples:\n"
		"  memsim info traces/cycle.trace\n"
		"  memsim replay -p cpython-2.4 -p cpython-2.5 traces/seed-arenas.trace.gz\n"
		"  memsim replay -p cpython-3.11:allocator.arena_size=262144 --format json x.trace\n"
		"  memsim policies --show cpython-3.12\n"
		"\n"
		"Run 'memsim COMMAND --help' for a command's options.\n"
		"\n"
		"Exit status: 0 success, 64 bad command line, 65 bad trace or data,\n"
		"66 input cannot be opened, 70 internal error, 71 out of memory,\n"
		"74 I/O error, 78 bad policy.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; commands[i]; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct ms_error err;
	char line[1024];
	int status;

	if (argc < 2) {
		usage(stderr);
		return MS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return MS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("memsim %s\n", MEMSIM_VERSION);
		return MS_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "memsim: unknown command '%s' (see 'memsim --help')\n",
			argv[1]);
		return MS_EXIT_USAGE;
	}
	ms_error_clear(&err);
	status = cmd->run(argc - 1, argv + 1, &err);
	if (status != 0) {
		if (err.msg[0]) {
			ms_error_format(&err, line, sizeof line);
			fprintf(stderr, "memsim: %s\n", line);
		}
		if (status == MS_EXIT_USAGE && err.msg[0] && !strstr(err.msg, "--help"))
			fprintf(stderr, "memsim: see 'memsim %s --help'\n", cmd->name);
	}
	return status;
}
