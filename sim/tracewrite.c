/*
 * tracewrite.c - buffered writer for the memsim text trace (tracewrite.h).
 *
 * Lines are formatted by hand into one buffer (no printf per event: a
 * converter writes tens of millions of lines) and handed to stdio or zlib
 * in TRACEWRITE_BUF_SIZE pieces, always at line boundaries, so a trace cut
 * short by a crash is a valid prefix.
 */
#include "tracewrite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "xalloc.h"

#define TRACEWRITE_BUF_SIZE (256u * 1024u)  /* bytes buffered before a write */
#define TRACEWRITE_LINE_MAX 128u            /* bytes: longest event line */
#define TRACEWRITE_SIZE_MAX ((UINT64_C(1) << 48) - 1)  /* bytes */
#define TRACEWRITE_TYPE_MAX 63u             /* characters */

_Static_assert(TRACEWRITE_LINE_MAX < TRACEWRITE_BUF_SIZE,
	       "a whole event line must fit in the buffer");

/*
 * Invariants: `len` <= TRACEWRITE_BUF_SIZE; exactly one of `file` and `gz`
 * is set while open; once `err.code` is non-zero nothing more is written.
 */
struct tracewrite {
	FILE *file;          /* plain output */
	gzFile gz;           /* gzip output */
	int is_stdout;
	size_t len;          /* bytes used in buf */
	uint64_t events;
	uint64_t last_time;  /* ns; last `@` written */
	int have_time;
	struct ms_error err;
	char path[MS_ERROR_FILE_MAX];
	char buf[TRACEWRITE_BUF_SIZE];
};

int tracewrite_wants_gzip(const char *path)
{
	size_t n = strlen(path);

	return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

static int fail(struct tracewrite *w, int code, const char *what)
{
	if (!w->err.code) {
		ms_error_at(&w->err, w->path, 0);
		ms_error_set(&w->err, code, "%s", what);
	}
	return w->err.code;
}

static int flush_buf(struct tracewrite *w)
{
	if (w->err.code)
		return w->err.code;
	if (w->len == 0)
		return 0;
	if (w->gz) {
		if (gzwrite(w->gz, w->buf, (unsigned)w->len) != (int)w->len) {
			int zerr;
			const char *m = gzerror(w->gz, &zerr);
			char msg[MS_ERROR_MSG_MAX];

			snprintf(msg, sizeof msg, "cannot write: %s",
				 zerr == Z_ERRNO ? strerror(errno) : m);
			return fail(w, MS_EXIT_IOERR, msg);
		}
	} else if (fwrite(w->buf, 1, w->len, w->file) != w->len) {
		char msg[MS_ERROR_MSG_MAX];

		snprintf(msg, sizeof msg, "cannot write: %s", strerror(errno));
		return fail(w, MS_EXIT_IOERR, msg);
	}
	w->len = 0;
	return 0;
}

/* Makes room for one line; returns where to write it or NULL on error. */
static char *line_start(struct tracewrite *w)
{
	if (w->err.code)
		return NULL;
	if (TRACEWRITE_BUF_SIZE - w->len < TRACEWRITE_LINE_MAX && flush_buf(w))
		return NULL;
	return w->buf + w->len;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static int line_end(struct tracewrite *w, char *end)
{
	*end++ = '\n';
	w->len = (size_t)(end - w->buf);
	w->events++;
	return 0;
}

/* Writes "L X" or "L X Y" (nfields 1 or 2). */
static int put_event(struct tracewrite *w, char letter, int nfields,
		     uint64_t x, uint64_t y)
{
	char *p = line_start(w);

	if (!p)
		return w->err.code;
	*p++ = letter;
	if (nfields >= 1) {
		*p++ = ' ';
		p = put_u64(p, x);
	}
	if (nfields >= 2) {
		*p++ = ' ';
		p = put_u64(p, y);
	}
	return line_end(w, p);
}

static int is_one_line(const char *s)
{
	return strchr(s, '\n') == NULL && strchr(s, '\r') == NULL;
}

struct tracewrite *tracewrite_open(const char *path, unsigned flags,
				   const char *metadata, struct ms_error *err)
{
	struct tracewrite *w;
	int is_stdout = strcmp(path, "-") == 0;

	if (metadata && !is_one_line(metadata)) {
		ms_error_at(err, path, 0);
		ms_error_set(err, MS_EXIT_SOFTWARE,
			     "trace metadata must be one line");
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	snprintf(w->path, sizeof w->path, "%s", is_stdout ? "<stdout>" : path);
	w->is_stdout = is_stdout;
	if (flags & TRACEWRITE_GZIP) {
		/* zlib closes the descriptor it is given: give it a copy of
		 * stdout so the caller's stdout stays usable. */
		int fd = is_stdout ? dup(STDOUT_FILENO) : -1;

		w->gz = is_stdout ? (fd >= 0 ? gzdopen(fd, "wb6") : NULL)
				  : gzopen(path, "wb6");
		if (!w->gz && fd >= 0)
			close(fd);
	} else {
		w->file = is_stdout ? stdout : fopen(path, "w");
	}
	if (!w->gz && !w->file) {
		ms_error_at(err, w->path, 0);
		ms_error_set(err, MS_EXIT_IOERR, "cannot create: %s",
			     strerror(errno ? errno : ENOMEM));
		free(w);
		return NULL;
	}
	/* The header: printf is fine here, once. */
	{
		int n = snprintf(w->buf, TRACEWRITE_BUF_SIZE, "#memsim-trace 1%s%s\n",
				 metadata ? " " : "", metadata ? metadata : "");

		if (n < 0 || (size_t)n >= TRACEWRITE_BUF_SIZE) {
			ms_error_at(err, w->path, 0);
			ms_error_set(err, MS_EXIT_SOFTWARE,
				     "trace metadata longer than %u bytes",
				     TRACEWRITE_BUF_SIZE - 32u);
			tracewrite_close(w, NULL);
			return NULL;
		}
		w->len = (size_t)n;
	}
	return w;
}

int tracewrite_alloc(struct tracewrite *w, uint64_t id, uint64_t size, const char *type)
{
	char *p;
	size_t tlen = type ? strlen(type) : 0;

	if (id == 0)
		return fail(w, MS_EXIT_SOFTWARE, "ID 0 (the root set) cannot be allocated");
	if (size > TRACEWRITE_SIZE_MAX)
		return fail(w, MS_EXIT_SOFTWARE, "size does not fit in 48 bits");
	if (tlen) {
		if (tlen > TRACEWRITE_TYPE_MAX)
			return fail(w, MS_EXIT_SOFTWARE, "type name longer than 63 characters");
		for (size_t i = 0; i < tlen; i++) {
			char c = type[i];
			int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
				 (i > 0 && ((c >= '0' && c <= '9') || c == '.'));

			if (!ok)
				return fail(w, MS_EXIT_SOFTWARE,
					    "type name is not [A-Za-z_][A-Za-z0-9_.]*");
		}
	}
	if (!(p = line_start(w)))
		return w->err.code;
	*p++ = 'a';
	*p++ = ' ';
	p = put_u64(p, id);
	*p++ = ' ';
	p = put_u64(p, size);
	if (tlen) {
		*p++ = ' ';
		memcpy(p, type, tlen);
		p += tlen;
	}
	return line_end(w, p);
}

int tracewrite_free(struct tracewrite *w, uint64_t id)
{
	if (id == 0)
		return fail(w, MS_EXIT_SOFTWARE, "ID 0 (the root set) cannot be freed");
	return put_event(w, 'f', 1, id, 0);
}

int tracewrite_resize(struct tracewrite *w, uint64_t id, uint64_t size)
{
	if (id == 0)
		return fail(w, MS_EXIT_SOFTWARE, "ID 0 (the root set) cannot be resized");
	if (size > TRACEWRITE_SIZE_MAX)
		return fail(w, MS_EXIT_SOFTWARE, "size does not fit in 48 bits");
	return put_event(w, 'r', 2, id, size);
}

int tracewrite_ref_add(struct tracewrite *w, uint64_t src, uint64_t dst)
{
	if (dst == 0)
		return fail(w, MS_EXIT_SOFTWARE, "a reference to ID 0 (the root set)");
	return put_event(w, '+', 2, src, dst);
}

int tracewrite_ref_drop(struct tracewrite *w, uint64_t src, uint64_t dst)
{
	if (dst == 0)
		return fail(w, MS_EXIT_SOFTWARE, "a reference to ID 0 (the root set)");
	return put_event(w, '-', 2, src, dst);
}

int tracewrite_collect(struct tracewrite *w, int gen)
{
	return gen < 0 ? put_event(w, 'c', 0, 0, 0)
		       : put_event(w, 'c', 1, (uint64_t)gen, 0);
}

int tracewrite_safepoint(struct tracewrite *w)
{
	return put_event(w, 's', 0, 0, 0);
}

int tracewrite_time(struct tracewrite *w, uint64_t ns)
{
	if (w->err.code)
		return w->err.code;
	if (w->have_time && ns < w->last_time)
		return fail(w, MS_EXIT_SOFTWARE, "time going backwards");
	if (w->have_time && ns == w->last_time)
		return 0;
	w->have_time = 1;
	w->last_time = ns;
	return put_event(w, '@', 1, ns, 0);
}

int tracewrite_comment(struct tracewrite *w, const char *text)
{
	size_t n = strlen(text);

	if (!is_one_line(text))
		return fail(w, MS_EXIT_SOFTWARE, "a comment must be one line");
	if (w->err.code)
		return w->err.code;
	if (TRACEWRITE_BUF_SIZE - w->len < n + 3 && flush_buf(w))
		return w->err.code;
	if (n + 3 > TRACEWRITE_BUF_SIZE)
		return fail(w, MS_EXIT_SOFTWARE, "comment longer than the buffer");
	w->buf[w->len++] = '#';
	w->buf[w->len++] = ' ';
	memcpy(w->buf + w->len, text, n);
	w->len += n;
	w->buf[w->len++] = '\n';
	return 0;
}

uint64_t tracewrite_events(const struct tracewrite *w)
{
	return w->events;
}

const struct ms_error *tracewrite_error(const struct tracewrite *w)
{
	return w->err.code ? &w->err : NULL;
}

int tracewrite_close(struct tracewrite *w, struct ms_error *err)
{
	int code;

	flush_buf(w);
	if (w->gz) {
		int zr = gzclose(w->gz);

		if (zr != Z_OK)
			fail(w, MS_EXIT_IOERR, zr == Z_ERRNO ? strerror(errno)
							     : "cannot finish the gzip stream");
	} else if (w->file) {
		int r = w->is_stdout ? fflush(w->file) : fclose(w->file);

		if (r != 0) {
			char msg[MS_ERROR_MSG_MAX];

			snprintf(msg, sizeof msg, "cannot write: %s", strerror(errno));
			fail(w, MS_EXIT_IOERR, msg);
		}
	}
	code = w->err.code;
	if (err && code)
		*err = w->err;
	free(w);
	return code;
}
