/*
 * cli.c - helpers shared by the subcommands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int write_all(FILE *f, const struct strbuf *text)
{
	const char *s = sb_str(text);

	if (text->len && fwrite(s, 1, text->len, f) != text->len)
		return -1;
	return fflush(f);
}

/*
 * An interrupted write must not leave its temporary file behind: while
 * cli_emit holds one, SIGINT, SIGTERM and SIGHUP remove it and then end
 * the process by the same signal (so the shell still sees 128 + N). The
 * path is process-wide state because a signal handler can reach nothing
 * else; unlink(2) and raise(3) are async-signal-safe.
 */
static const int emit_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define EMIT_NSIGNALS (sizeof emit_signals / sizeof emit_signals[0])
static char *volatile emit_pending;

static void emit_on_signal(int sig)
{
	char *tmp = emit_pending;

	if (tmp)
		unlink(tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Blocks (how = SIG_BLOCK) or unblocks the signals above, so that the
 * temporary file and emit_pending change together. */
static void emit_mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < EMIT_NSIGNALS; i++)
		sigaddset(&set, emit_signals[i]);
	sigprocmask(how, &set, NULL);
}

int cli_emit(const char *path, const struct strbuf *text, struct ms_error *err)
{
	struct sigaction sa, old[EMIT_NSIGNALS];
	char *tmp;
	FILE *f;
	int fd, rc = 0;

	if (!path || strcmp(path, "-") == 0) {
		if (write_all(stdout, text) != 0)
			return ms_error_set(err, MS_EXIT_IOERR,
					    "cannot write to standard output: %s",
					    strerror(errno));
		return 0;
	}
	tmp = xmalloc(strlen(path) + 16);
	sprintf(tmp, "%s.tmp.XXXXXX", path);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = emit_on_signal;
	sigemptyset(&sa.sa_mask);
	emit_mask(SIG_BLOCK);
	for (size_t i = 0; i < EMIT_NSIGNALS; i++) {
		/* A signal the caller ignores (nohup, a background job) stays
		 * ignored: it cannot interrupt the write. */
		sigaction(emit_signals[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(emit_signals[i], &sa, NULL);
	}
	fd = mkstemp(tmp);
	if (fd >= 0)
		emit_pending = tmp;
	emit_mask(SIG_UNBLOCK);
	if (fd < 0) {
		ms_error_at(err, path, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create: %s", strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f || write_all(f, text) != 0 || fsync(fileno(f)) != 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		if (!f)
			close(fd);
		unlink(tmp);
		ms_error_at(err, path, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot write: %s", strerror(e));
	}
out:
	emit_mask(SIG_BLOCK);
	emit_pending = NULL;
	for (size_t i = 0; i < EMIT_NSIGNALS; i++)
		sigaction(emit_signals[i], &old[i], NULL);
	emit_mask(SIG_UNBLOCK);
	free(tmp);
	return rc;
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
