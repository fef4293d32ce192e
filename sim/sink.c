/*
 * sink.c - buffered plain or gzip output to a file descriptor (sink.h).
 *
 * Plain bytes are gathered in a SINK_BUF buffer and written with write(2)
 * (retrying on EINTR and short writes). For gzip, the bytes go through
 * deflate (level 6, zlib's default, or 1 with SINK_GZIP_FAST; 16 +
 * MAX_WBITS for the gzip wrapper) and the compressed output is written
 * from the same buffer.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "xalloc.h"

#define SINK_BUF ((size_t)1 << 18)      /* bytes */

struct sink {
	int fd;
	int own_fd;
	int gzip;
	char *name;
	unsigned char *buf;     /* plain: pending bytes; gzip: deflate output */
	size_t len;             /* bytes pending in buf (plain only) */
	z_stream z;
	unsigned long long out; /* bytes written to fd */
	struct ms_error err;    /* sticky; err.code 0 while all is well */
};

int sink_name_wants_gzip(const char *path)
{
	size_t n = strlen(path);

	return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

static int fail(struct sink *s, struct ms_error *err, const char *what, int e)
{
	if (!s->err.code) {
		ms_error_clear(&s->err);
		ms_error_at(&s->err, s->name, 0);
		ms_error_set(&s->err, MS_EXIT_IOERR, "%s: %s", what, strerror(e));
	}
	if (err)
		*err = s->err;
	return s->err.code;
}

static int write_fd(struct sink *s, const unsigned char *p, size_t n,
		    struct ms_error *err)
{
	while (n) {
		ssize_t w = write(s->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail(s, err, "cannot write", errno);
		p += w;
		n -= (size_t)w;
		s->out += (unsigned long long)w;
	}
	return 0;
}

struct sink *sink_fd(int fd, int own_fd, const char *name, unsigned flags)
{
	struct sink *s = xcalloc(1, sizeof *s);

	s->fd = fd;
	s->own_fd = own_fd;
	s->name = xstrdup(name);
	s->buf = xmalloc(SINK_BUF);
	if (flags & SINK_GZIP) {
		int level = flags & SINK_GZIP_FAST ? 1 : Z_DEFAULT_COMPRESSION;

		s->gzip = 1;
		s->z.zalloc = xalloc_zcalloc;
		s->z.zfree = xalloc_zfree;
		if (deflateInit2(&s->z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			/* Only a broken zlib gets here (memory comes from
			 * xcalloc, which does not return NULL). */
			s->gzip = 0;
			ms_error_at(&s->err, s->name, 0);
			ms_error_set(&s->err, MS_EXIT_SOFTWARE,
				     "zlib deflateInit2 failed");
		}
	}
	return s;
}

struct sink *sink_open(const char *path, unsigned flags, struct ms_error *err)
{
	int fd;

	if (strcmp(path, "-") == 0)
		return sink_fd(STDOUT_FILENO, 0, "<stdout>", flags);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		ms_error_clear(err);
		ms_error_at(err, path, 0);
		ms_error_set(err, MS_EXIT_IOERR, "cannot create: %s", strerror(errno));
		return NULL;
	}
	return sink_fd(fd, 1, path, flags);
}

/* Runs deflate over the pending input with `flush` and writes what it
 * produces (zlib's zpipe.c pattern: loop while the output buffer fills). */
static int deflate_some(struct sink *s, int flush, struct ms_error *err)
{
	do {
		size_t have;

		s->z.next_out = s->buf;
		s->z.avail_out = (uInt)SINK_BUF;
		if (deflate(&s->z, flush) == Z_STREAM_ERROR)
			return fail(s, err, "deflate failed", EIO);
		have = SINK_BUF - s->z.avail_out;
		if (have && write_fd(s, s->buf, have, err))
			return s->err.code;
	} while (s->z.avail_out == 0);
	return 0;
}

int sink_write(struct sink *s, const void *p, size_t n, struct ms_error *err)
{
	if (s->err.code) {
		if (err)
			*err = s->err;
		return s->err.code;
	}
	if (s->gzip) {
		const unsigned char *src = p;

		/* avail_in is an unsigned int: feed large blocks in pieces. */
		while (n) {
			size_t k = n < ((size_t)1 << 30) ? n : (size_t)1 << 30;

			s->z.next_in = (Bytef *)(uintptr_t)src;
			s->z.avail_in = (uInt)k;
			if (deflate_some(s, Z_NO_FLUSH, err))
				return s->err.code;
			src += k;
			n -= k;
		}
		return 0;
	}
	if (s->len + n > SINK_BUF) {
		if (s->len && write_fd(s, s->buf, s->len, err))
			return s->err.code;
		s->len = 0;
		if (n > SINK_BUF)
			return write_fd(s, p, n, err);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

const char *sink_name(const struct sink *s)
{
	return s->name;
}

unsigned long long sink_bytes_out(const struct sink *s)
{
	return s->out + (s->gzip ? 0 : s->len);
}

int sink_close(struct sink *s, struct ms_error *err)
{
	int status;

	if (!s)
		return 0;
	if (!s->err.code) {
		if (s->gzip) {
			s->z.next_in = NULL;
			s->z.avail_in = 0;
			deflate_some(s, Z_FINISH, NULL);
		} else if (s->len) {
			write_fd(s, s->buf, s->len, NULL);
		}
	}
	if (s->gzip)
		deflateEnd(&s->z);
	if (s->own_fd && close(s->fd) != 0 && !s->err.code)
		fail(s, NULL, "cannot write", errno);
	status = s->err.code;
	if (status && err)
		*err = s->err;
	free(s->buf);
	free(s->name);
	free(s);
	return status;
}
