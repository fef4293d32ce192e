/*
 * cli.c - helpers shared by the subcommands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "units.h"
#include "xalloc.h"

int cli_parse_format(const char *s, unsigned allowed, enum cli_format *out,
		     struct ms_error *err)
{
	static const char *const names[] = { "text", "json", "csv" };

	for (unsigned i = 0; i < 3; i++) {
		if ((allowed & (1u << i)) && strcmp(s, names[i]) == 0) {
			*out = (enum cli_format)i;
			return 0;
		}
	}
	return ms_error_set(err, MS_EXIT_USAGE, "unknown format '%s' (use %s)", s,
			    (allowed & 4u) ? "text, json or csv" : "text or json");
}

int cli_emit(const char *path, const struct strbuf *text, struct ms_error *err)
{
	return outfile_write(path, text, err);
}

int cli_outdir_commit(struct outdir *d, int quiet, const char *what,
		      struct ms_error *err)
{
	if (d->notes.len)
		fprintf(stderr, "memsim: %s", sb_str(&d->notes));
	if (!quiet)
		fprintf(stderr, "memsim: %s in %s/index.html\n", what, d->final);
	return outdir_commit(d, err);
}

int cli_parse_u64(const char *opt, const char *s, unsigned long long *out,
		  struct ms_error *err)
{
	const char *why;
	uint64_t v;

	if (units_parse_str(s, &v, &why) != 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "%s wants a whole number (e.g. 4096, 64K, 0x1000), not '%s'%s%s",
				    opt, s, strcmp(why, "not a whole number") ? ": " : "",
				    strcmp(why, "not a whole number") ? why : "");
	*out = v;
	return 0;
}

int cli_want_progress(int quiet)
{
	return !quiet && isatty(STDERR_FILENO);
}

int cli_bad_option(const char *cmd, int c, const char *arg, struct ms_error *err)
{
	if (c == ':')
		return ms_error_set(err, MS_EXIT_USAGE,
				    "%s: option '%s' needs a value (see 'memsim %s --help')",
				    cmd, arg, cmd);
	return ms_error_set(err, MS_EXIT_USAGE,
			    "%s: unknown option '%s' (see 'memsim %s --help')",
			    cmd, arg, cmd);
}
