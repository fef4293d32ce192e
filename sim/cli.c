/*
 * cli.c - helpers shared by the subcommands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int write_all(FILE *f, const struct strbuf *text)
{
	const char *s = sb_str(text);

	if (text->len && fwrite(s, 1, text->len, f) != text->len)
		return -1;
	return fflush(f);
}

int cli_emit(const char *path, const struct strbuf *text, struct ms_error *err)
{
	char *tmp;
	FILE *f;
	int fd;

	if (!path || strcmp(path, "-") == 0) {
		if (write_all(stdout, text) != 0)
			return ms_error_set(err, MS_EXIT_IOERR,
					    "cannot write to standard output: %s",
					    strerror(errno));
		return 0;
	}
	tmp = xmalloc(strlen(path) + 16);
	sprintf(tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ms_error_at(err, path, 0);
		ms_error_set(err, MS_EXIT_IOERR, "cannot create: %s", strerror(errno));
		free(tmp);
		return err->code;
	}
	f = fdopen(fd, "w");
	if (!f || write_all(f, text) != 0 || fsync(fileno(f)) != 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		if (!f)
			close(fd);
		unlink(tmp);
		free(tmp);
		ms_error_at(err, path, 0);
		return ms_error_set(err, MS_EXIT_IOERR, "cannot write: %s", strerror(e));
	}
	free(tmp);
	return 0;
}

int cli_parse_u64(const char *opt, const char *s, unsigned long long *out,
		  struct ms_error *err)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		goto bad;
	return 0;
bad:
	return ms_error_set(err, MS_EXIT_USAGE, "%s wants a whole number, not '%s'",
			    opt, s);
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
