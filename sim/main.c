/*
 * main.c - memsim: replay memory traces against runtime memory policies.
 *
 * The only place that prints errors and picks the exit status: commands
 * return an enum ms_exit value and fill a struct ms_error.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "error.h"
#include "units.h"
#include "xalloc.h"

static const struct cli_command *const commands[] = {
	&cmd_info,
	&cmd_replay,
	&cmd_policies,
	&cmd_convert,
	&cmd_sweep,
	&cmd_retain,

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
		"Global options (before COMMAND):\n"
		"  --max-memory SIZE  stop with status 71 when memsim itself would use more\n"
		"                     than SIZE bytes of address space (K, M, G, T suffixes;\n"
		"                     also the environment variable MEMSIM_MAX_MEMORY)\n"
		"\n"
		"Examples:\n"
		"  memsim info traces/cycle.trace\n"
		"  memsim replay -p cpython-2.7 -p cpython-2.7:freelists.mode=shared \\\n"
		"      traces/int-then-float.trace.gz\n"
		"  memsim replay -p cpython-3.11:allocator.arena_size=256K --format json \\\n"
		"      traces/list-churn.trace.gz\n"
		"  memsim policies --show cpython-3.12\n"
		"  memsim policies --expand 'cpython-3.11:gc.threshold0={700..2100+700}'\n"
		"  memsim --max-memory 2G replay -p cpython-3.11 traces/cycles.trace.gz\n"
		"\n"
		"Run 'memsim COMMAND --help' for a command's options.\n"
		"\n"
		"Exit status: 0 success, 64 bad command line, 65 bad trace or data,\n"
		"66 input cannot be opened, 70 internal error, 71 out of memory,\n"
		"74 I/O error, 78 bad policy.\n");
}

/* Parses SIZE for --max-memory: a whole number of bytes in units.h's
 * syntax (2G, 512M, 0x80000000). Returns 0, or -1 when malformed or zero. */
static int parse_size(const char *s, uint64_t *out)
{
	const char *why;

	return units_parse_str(s, out, &why) == 0 && *out > 0 ? 0 : -1;
}

/*
 * The --max-memory guard: a soft RLIMIT_AS, so that memsim's own
 * allocations fail (and xalloc stops with status 71 naming the size and
 * this limit) before the machine swaps. RLIMIT_AS counts address space,
 * not resident pages, which over-counts a little (mapped libraries,
 * reserved but untouched buffers); the limit is a ceiling, not a target.
 * AddressSanitizer and ThreadSanitizer reserve terabytes of shadow
 * address space at start, so under them the guard is ignored with a
 * warning.
 */
#if defined(__SANITIZE_ADDRESS__)
#define MEMSIM_SANITIZER "AddressSanitizer"
#elif defined(__SANITIZE_THREAD__)
#define MEMSIM_SANITIZER "ThreadSanitizer"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMSIM_SANITIZER "AddressSanitizer"
#elif __has_feature(thread_sanitizer)
#define MEMSIM_SANITIZER "ThreadSanitizer"
#endif
#endif

#ifdef MEMSIM_SANITIZER
static int apply_limit(uint64_t bytes, const char *value, const char *source,
		       struct ms_error *err)
{
	(void)bytes, (void)value, (void)err;
	fprintf(stderr, "memsim: %s is ignored under " MEMSIM_SANITIZER "\n", source);
	return 0;
}
#else
static int apply_limit(uint64_t bytes, const char *value, const char *source,
		       struct ms_error *err)
{
	static char note[160];  /* read by xalloc until exit */
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) != 0)
		return ms_error_set(err, MS_EXIT_OSERR, "%s: getrlimit: %s", source,
				    strerror(errno));
	if (rl.rlim_max != RLIM_INFINITY && bytes > rl.rlim_max)
		bytes = rl.rlim_max;
	rl.rlim_cur = (rlim_t)bytes;
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		return ms_error_set(err, MS_EXIT_OSERR, "%s: setrlimit: %s", source,
				    strerror(errno));
	snprintf(note, sizeof note, "(limit %s=%s)", source, value);
	xalloc_set_note(note);
	return 0;
}
#endif

static int set_max_memory(const char *value, const char *source, struct ms_error *err)
{
	uint64_t bytes;

	if (parse_size(value, &bytes) != 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "%s wants a size like 512M or 2G, not '%s'", source, value);
	return apply_limit(bytes, value, source, err);
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
	const char *env = getenv("MEMSIM_MAX_MEMORY");
	int status;

	/* cJSON's memory is memsim's own memory too: it fails the same way. */
	cJSON_InitHooks(&(cJSON_Hooks){ .malloc_fn = xmalloc, .free_fn = free });
	ms_error_clear(&err);
	if (env && *env && set_max_memory(env, "MEMSIM_MAX_MEMORY", &err) != 0)
		goto fail;
	while (argc >= 2 && strncmp(argv[1], "--max-memory", 12) == 0 &&
	       (argv[1][12] == '\0' || argv[1][12] == '=')) {
		const char *value = argv[1][12] == '=' ? argv[1] + 13 : argv[2];
		int used = argv[1][12] == '=' ? 1 : 2;

		if (!value) {
			ms_error_set(&err, MS_EXIT_USAGE, "--max-memory needs a SIZE, e.g. 2G");
			goto fail;
		}
		if (set_max_memory(value, "--max-memory", &err) != 0)
			goto fail;
		argv[used] = argv[0];
		argv += used;
		argc -= used;
	}
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
fail:
	ms_error_format(&err, line, sizeof line);
	fprintf(stderr, "memsim: %s\n", line);
	return err.code;
}
