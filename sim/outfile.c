/*
 * outfile.c - whole-or-nothing output files and report directories (see
 * outfile.h for the rules).
 */
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* ---- removal on a signal (rule 4) -------------------------------------- */

/*
 * The paths to remove if SIGINT, SIGTERM or SIGHUP arrives, in creation
 * order (a directory before what it holds, so the handler goes
 * backwards). Process-wide because a signal handler can reach nothing
 * else; unlink(2), rmdir(2), signal(2) and raise(3) are async-signal-safe.
 * The list changes only with the signals blocked.
 */
static const int out_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define OUT_NSIGNALS (sizeof out_signals / sizeof out_signals[0])
static char **volatile track_v;
static volatile size_t track_n;
static size_t track_cap;
static struct sigaction track_old[OUT_NSIGNALS];

static void on_signal(int sig)
{
	for (size_t i = track_n; i-- > 0;)
		if (unlink(track_v[i]) != 0)
			rmdir(track_v[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < OUT_NSIGNALS; i++)
		sigaddset(&set, out_signals[i]);
	sigprocmask(how, &set, NULL);
}

/* Adds a path to remove on a signal; the first one installs the
 * handler. A signal the caller ignores (nohup) stays ignored. */
static void track(const char *path)
{
	char *copy = xstrdup(path);

	mask(SIG_BLOCK);
	if (track_n == track_cap) {
		size_t cap = track_cap ? 2 * track_cap : 16;

		track_v = xreallocarray(track_v, cap, sizeof *track_v);
		track_cap = cap;
	}
	if (track_n == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < OUT_NSIGNALS; i++) {
			sigaction(out_signals[i], NULL, &track_old[i]);
			if (track_old[i].sa_handler != SIG_IGN)
				sigaction(out_signals[i], &sa, NULL);
		}
	}
	track_v[track_n++] = copy;
	mask(SIG_UNBLOCK);
}

/* Forgets `path` and everything tracked after it (done with them: kept
 * or already removed); the last one restores the handlers. */
static void untrack_from(const char *path)
{
	size_t k;

	mask(SIG_BLOCK);
	for (k = 0; k < track_n; k++)
		if (strcmp(track_v[k], path) == 0)
			break;
	while (track_n > k)
		free(track_v[--track_n]);
	if (track_n == 0) {
		for (size_t i = 0; i < OUT_NSIGNALS; i++)
			sigaction(out_signals[i], &track_old[i], NULL);
		free(track_v);
		track_v = NULL;
		track_cap = 0;
	}
	mask(SIG_UNBLOCK);
}

/* ---- files -------------------------------------------------------------- */

static int write_fd(int fd, const struct strbuf *text)
{
	const char *s = sb_str(text);
	size_t left = text->len;

	while (left > 0) {
		ssize_t w = write(fd, s, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		s += w;
		left -= (size_t)w;
	}
	return 0;
}

static int io_error(struct ms_error *err, const char *path, const char *what, int e)
{
	ms_error_at(err, path, 0);
	return ms_error_set(err, MS_EXIT_IOERR, "%s: %s", what, strerror(e));
}

/* Rule 2: a device or pipe, written in place. */
static int write_special(const char *path, const struct strbuf *text, struct ms_error *err)
{
	int fd = open(path, O_WRONLY | O_NOCTTY);

	if (fd < 0)
		return io_error(err, path, "cannot open", errno);
	if (write_fd(fd, text) != 0) {
		int e = errno;

		close(fd);
		return io_error(err, path, "cannot write", e);
	}
	if (close(fd) != 0)
		return io_error(err, path, "cannot write", errno);
	return 0;
}

/* Rule 1: beside the target, fsync, rename. */
static int write_atomic(const char *path, const struct strbuf *text, struct ms_error *err)
{
	char *tmp = xmalloc(strlen(path) + 16);
	int fd, rc = 0;

	sprintf(tmp, "%s.tmp.XXXXXX", path);
	mask(SIG_BLOCK);        /* the file and its tracking appear together */
	fd = mkstemp(tmp);
	if (fd >= 0)
		track(tmp);
	mask(SIG_UNBLOCK);
	if (fd < 0) {
		rc = io_error(err, path, "cannot create", errno);
		free(tmp);
		return rc;
	}
	if (write_fd(fd, text) != 0 || fsync(fd) != 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		rc = io_error(err, path, "cannot write", e);
	} else if (close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		rc = io_error(err, path, "cannot write", e);
	}
	untrack_from(tmp);
	free(tmp);
	return rc;
}

int outfile_write(const char *path, const struct strbuf *text, struct ms_error *err)
{
	struct stat st;

	if (!path || strcmp(path, "-") == 0) {
		const char *s = sb_str(text);

		if ((text->len && fwrite(s, 1, text->len, stdout) != text->len) ||
		    fflush(stdout) != 0)
			return ms_error_set(err, MS_EXIT_IOERR,
					    "cannot write to standard output: %s",
					    strerror(errno));
		return 0;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return io_error(err, path, "cannot write", EISDIR);
		if (!S_ISREG(st.st_mode))
			return write_special(path, text, err);
	}
	return write_atomic(path, text, err);
}

/* The directory part of path ("." for a bare name); caller frees. */
static char *parent_of(const char *path)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	while (n > 0 && p[n - 1] != '/')
		n--;
	if (n == 0) {
		free(p);
		return xstrdup(".");
	}
	while (n > 1 && p[n - 1] == '/')
		n--;
	p[n] = '\0';
	return p;
}

/* The last component of path without trailing slashes; caller frees. */
static char *base_of(const char *path)
{
	size_t n = strlen(path), b;
	char *out;

	while (n > 1 && path[n - 1] == '/')
		n--;
	b = n;
	while (b > 0 && path[b - 1] != '/')
		b--;
	out = xmalloc(n - b + 1);
	memcpy(out, path + b, n - b);
	out[n - b] = '\0';
	return out;
}

static int check_parent(const char *path, const char *what, struct ms_error *err)
{
	char *dir = parent_of(path);
	struct stat st;
	int rc = 0;

	if (stat(dir, &st) != 0)
		rc = io_error(err, path, what, errno);
	else if (!S_ISDIR(st.st_mode))
		rc = io_error(err, path, what, ENOTDIR);
	free(dir);
	return rc;
}

int outfile_check(const char *path, struct ms_error *err)
{
	struct stat st;

	if (!path || strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return io_error(err, path, "cannot write", EISDIR);
	return check_parent(path, "cannot create", err);
}

/* ---- trees --------------------------------------------------------------- */

/*
 * Files are unlinked as they are met and directories collected in the
 * order they are met (parents first), then removed in reverse: an
 * explicit list instead of recursion.
 */
void outfile_remove_tree(const char *path)
{
	char **dirs = NULL;
	size_t n = 0, cap = 0;
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	dirs = xreallocarray(NULL, cap = 8, sizeof *dirs);
	dirs[n++] = xstrdup(path);
	for (size_t i = 0; i < n; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;

		while (d && (e = readdir(d)) != NULL) {
			char *p;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			p = xmalloc(strlen(dirs[i]) + strlen(e->d_name) + 2);
			sprintf(p, "%s/%s", dirs[i], e->d_name);
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
				if (n == cap)
					dirs = xreallocarray(dirs, cap *= 2, sizeof *dirs);
				dirs[n++] = p;
				continue;
			}
			unlink(p);
			free(p);
		}
		if (d)
			closedir(d);
	}
	while (n-- > 0) {
		rmdir(dirs[n]);
		free(dirs[n]);
	}
	free(dirs);
}

/* ---- report directories (rule 3) ----------------------------------------- */

/* Whether an entry of an existing DIR is one memsim writes there: the
 * page, data/ and plots/, replay's report.* and retain's retain.*. */
static int ours(const char *name)
{
	return strcmp(name, "index.html") == 0 || strcmp(name, "data") == 0 ||
	       strcmp(name, "plots") == 0 || strncmp(name, "report.", 7) == 0 ||
	       strncmp(name, "retain.", 7) == 0;
}

/* An existing DIR may be replaced when it holds only what memsim
 * writes; 0, or MS_EXIT_IOERR naming the first foreign entry. */
static int replaceable(const char *dir, struct ms_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return io_error(err, dir, "cannot read directory", errno);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    ours(e->d_name))
			continue;
		ms_error_at(err, dir, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR,
				  "holds '%.60s', which memsim did not write: give --out a new "
				  "or empty directory, or an earlier memsim report to replace",
				  e->d_name);
		break;
	}
	closedir(d);
	return rc;
}

int outdir_begin(struct outdir *d, const char *dir, struct ms_error *err)
{
	char *parent, *base;
	struct stat st;
	int rc = 0;

	memset(d, 0, sizeof *d);
	base = base_of(dir);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strcmp(base, "/") == 0) {
		ms_error_at(err, dir, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create directory: name a "
				  "directory to create or replace, e.g. --out report");
		free(base);
		return rc;
	}
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			rc = io_error(err, dir, "cannot create directory", ENOTDIR);
		else
			rc = replaceable(dir, err);
		d->replace = 1;
	} else if (errno != ENOENT) {
		rc = io_error(err, dir, "cannot create directory", errno);
	} else {
		rc = check_parent(dir, "cannot create directory", err);
	}
	if (rc) {
		free(base);
		return rc;
	}
	parent = parent_of(dir);
	d->stage = xmalloc(strlen(parent) + strlen(base) + 24);
	sprintf(d->stage, "%s/.%s.memsim-XXXXXX", parent, base);
	free(parent);
	free(base);
	mask(SIG_BLOCK);
	if (mkdtemp(d->stage))
		track(d->stage);
	else
		rc = errno;
	mask(SIG_UNBLOCK);
	if (rc) {
		rc = io_error(err, dir, "cannot create directory", rc);
		free(d->stage);
		d->stage = NULL;
		return rc;
	}
	d->final = xstrdup(dir);
	sb_init(&d->notes);
	return 0;
}

char *outdir_path(const struct outdir *d, const char *rel)
{
	char *p = xmalloc(strlen(d->stage) + strlen(rel) + 2);

	sprintf(p, "%s/%s", d->stage, rel);
	return p;
}

/* The user-facing name of a staged file: DIR/rel. */
static char *final_path(const struct outdir *d, const char *rel)
{
	char *p = xmalloc(strlen(d->final) + strlen(rel) + 2);

	sprintf(p, "%s/%s", d->final, rel);
	return p;
}

static int stage_error(struct outdir *d, const char *rel, const char *what, int e,
		       struct ms_error *err)
{
	char *shown = final_path(d, rel);
	int rc = io_error(err, shown, what, e);

	free(shown);
	return rc;
}

int outdir_mkdir(struct outdir *d, const char *rel, struct ms_error *err)
{
	char *p = outdir_path(d, rel);
	int rc = 0;

	mask(SIG_BLOCK);
	if (mkdir(p, 0777) == 0)
		track(p);
	else if (errno != EEXIST)
		rc = errno;
	mask(SIG_UNBLOCK);
	free(p);
	return rc ? stage_error(d, rel, "cannot create directory", rc, err) : 0;
}

/* Creates the staged file rel for writing; -1 with errno. */
static int stage_open(struct outdir *d, const char *rel)
{
	char *p = outdir_path(d, rel);
	int fd;

	mask(SIG_BLOCK);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd >= 0)
		track(p);
	mask(SIG_UNBLOCK);
	free(p);
	return fd;
}

static int stage_close(struct outdir *d, const char *rel, int fd, int failed_errno,
		       struct ms_error *err)
{
	int e = failed_errno;

	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	return e ? stage_error(d, rel, "cannot write", e, err) : 0;
}

int outdir_write(struct outdir *d, const char *rel, const struct strbuf *text,
		 struct ms_error *err)
{
	int fd = stage_open(d, rel);

	if (fd < 0)
		return stage_error(d, rel, "cannot create", errno, err);
	return stage_close(d, rel, fd, write_fd(fd, text) ? errno : 0, err);
}

int outdir_copy(struct outdir *d, const char *rel, const char *src, struct ms_error *err)
{
	int in = open(src, O_RDONLY), out, e = 0;
	char buf[65536];
	ssize_t r;

	if (in < 0)
		return io_error(err, src, "cannot open", errno);
	out = stage_open(d, rel);
	if (out < 0) {
		e = errno;
		close(in);
		return stage_error(d, rel, "cannot create", e, err);
	}
	while ((r = read(in, buf, sizeof buf)) != 0) {
		struct strbuf chunk = { .buf = buf, .len = 0, .cap = 0 };

		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		chunk.len = (size_t)r;
		if (write_fd(out, &chunk) != 0) {
			e = errno;
			break;
		}
	}
	close(in);
	return stage_close(d, rel, out, e, err);
}

static void outdir_free(struct outdir *d)
{
	free(d->stage);
	free(d->final);
	sb_free(&d->notes);
	memset(d, 0, sizeof *d);
}

void outdir_abort(struct outdir *d)
{
	if (!d->stage)
		return;
	outfile_remove_tree(d->stage);
	untrack_from(d->stage);
	outdir_free(d);
}

int outdir_commit(struct outdir *d, struct ms_error *err)
{
	char *old = NULL;
	int rc = 0;

	if (d->replace) {
		/* DIR moves aside onto an empty directory of its own (rename
		 * replaces an empty directory), the stage takes its name, and
		 * the old report goes. */
		char *parent = parent_of(d->final), *base = base_of(d->final);

		old = xmalloc(strlen(parent) + strlen(base) + 28);
		sprintf(old, "%s/.%s.memsim-old-XXXXXX", parent, base);
		free(parent);
		free(base);
		if (!mkdtemp(old) || rename(d->final, old) != 0) {
			rc = io_error(err, d->final, "cannot replace directory", errno);
			rmdir(old);
		}
	}
	if (rc == 0 && rename(d->stage, d->final) != 0) {
		rc = io_error(err, d->final, "cannot create directory", errno);
		if (old)
			rename(old, d->final);
	}
	if (rc) {
		free(old);
		outdir_abort(d);
		return rc;
	}
	untrack_from(d->stage);
	if (old) {
		outfile_remove_tree(old);
		free(old);
	}
	outdir_free(d);
	return 0;
}
