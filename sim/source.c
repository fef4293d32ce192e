/*
 * source.c - decompressing byte source (see source.h).
 *
 * 1. The file is read with read(2) in chunks of SOURCE_CHUNK bytes into
 *    one input buffer; the first chunk (at least 4 bytes, unless the file
 *    is shorter) decides the form by its magic number.
 * 2. Plain: the buffered bytes are handed out, then further reads go
 *    straight into the caller's buffer.
 * 3. gzip: zlib's inflate with the gzip wrapper (windowBits 16 + 15),
 *    reset after each member's end so that concatenated members continue.
 *    Input ending inside a member is "truncated"; bytes inflate rejects
 *    (including garbage after a member, read as a bad next header) are
 *    "corrupt".
 * 4. zstd: libzstd's streaming decoder (ZSTD_decompressStream, zstd.h of
 *    zstd 1.5), which moves from one frame to the next by itself; it
 *    returns 0 exactly when a frame is complete and flushed, so input
 *    ending while the last return was not 0 is "truncated".
 *
 * Memory: the input chunk and the decoder's state (zlib: about 40 KiB;
 * zstd: its window, at most 128 MiB by the frame's own declaration and
 * ZSTD_d_windowLogMax's default of 2^27). Nothing grows with the file.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "xalloc.h"

#define SOURCE_CHUNK ((size_t)256 << 10)   /* bytes per read(2) */
#define SOURCE_MAGIC_MIN 4                 /* bytes that tell the form */

struct source {
	int fd, own_fd;
	char *name;
	enum source_form form;
	uint64_t bytes_read, file_size;
	int failed, in_eof;
	struct ms_error err;        /* repeated after a failure */

	unsigned char *in;          /* SOURCE_CHUNK bytes */
	size_t in_pos, in_len;      /* unread input: in[in_pos, in_len) */

	z_stream z;
	int member_done;            /* gzip: inflate ended a member */
	ZSTD_DStream *zs;
	size_t zret;                /* zstd: last ZSTD_decompressStream() */
};

/* Records a failure; the source answers -1 with it from now on. */
static int fail(struct source *s, struct ms_error *err, int code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct source *s, struct ms_error *err, int code,
		const char *fmt, ...)
{
	va_list ap;

	ms_error_clear(&s->err);
	s->err.code = code;
	va_start(ap, fmt);
	vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
	va_end(ap);
	ms_error_at(&s->err, s->name, 0);
	s->failed = 1;
	*err = s->err;
	return -1;
}

/* read(2) retried on EINTR. Bytes, 0 at the end, -1 with err filled. */
static ssize_t read_fd(struct source *s, void *dst, size_t n, struct ms_error *err)
{
	ssize_t got;

	do
		got = read(s->fd, dst, n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return fail(s, err, MS_EXIT_IOERR, "read error: %s", strerror(errno));
	s->bytes_read += (uint64_t)got;
	return got;
}

/* Makes unread input available unless the file is at its end. Returns 1
 * when there is some, 0 at the end, -1 on error. */
static int fill_input(struct source *s, struct ms_error *err)
{
	ssize_t got;

	if (s->in_pos < s->in_len)
		return 1;
	if (s->in_eof)
		return 0;
	got = read_fd(s, s->in, SOURCE_CHUNK, err);
	if (got < 0)
		return -1;
	s->in_pos = 0;
	s->in_len = (size_t)got;
	if (got == 0)
		s->in_eof = 1;
	return got > 0;
}

static ssize_t read_gzip(struct source *s, unsigned char *dst, size_t n,
			 struct ms_error *err)
{
	z_stream *z = &s->z;
	uInt want = n > UINT32_MAX ? UINT32_MAX : (uInt)n;

	z->next_out = dst;
	z->avail_out = want;
	while (z->avail_out == want) {
		int have = fill_input(s, err), ret;

		if (have < 0)
			return -1;
		if (have == 0) {
			if (s->member_done)
				return 0;
			return fail(s, err, MS_EXIT_DATAERR, "truncated gzip stream");
		}
		if (s->member_done) {
			inflateReset(z);
			s->member_done = 0;
		}
		z->next_in = s->in + s->in_pos;
		z->avail_in = (uInt)(s->in_len - s->in_pos);
		ret = inflate(z, Z_NO_FLUSH);
		s->in_pos = s->in_len - z->avail_in;
		if (ret == Z_STREAM_END)
			s->member_done = 1;
		else if (ret != Z_OK && ret != Z_BUF_ERROR)
			return fail(s, err, MS_EXIT_DATAERR, "corrupt gzip stream: %s",
				    z->msg ? z->msg : zError(ret));
	}
	return (ssize_t)(want - z->avail_out);
}

static ssize_t read_zstd(struct source *s, unsigned char *dst, size_t n,
			 struct ms_error *err)
{
	ZSTD_outBuffer out = { dst, n, 0 };

	while (out.pos == 0) {
		ZSTD_inBuffer in;
		int have = fill_input(s, err);

		if (have < 0)
			return -1;
		if (have == 0) {
			if (s->zret == 0)
				return 0;
			return fail(s, err, MS_EXIT_DATAERR, "truncated zstd stream");
		}
		in.src = s->in;
		in.size = s->in_len;
		in.pos = s->in_pos;
		s->zret = ZSTD_decompressStream(s->zs, &out, &in);
		s->in_pos = in.pos;
		if (ZSTD_isError(s->zret))
			return fail(s, err, MS_EXIT_DATAERR, "corrupt zstd stream: %s",
				    ZSTD_getErrorName(s->zret));
	}
	return (ssize_t)out.pos;
}

static ssize_t read_plain(struct source *s, unsigned char *dst, size_t n,
			  struct ms_error *err)
{
	if (s->in_pos < s->in_len) {
		size_t k = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;

		memcpy(dst, s->in + s->in_pos, k);
		s->in_pos += k;
		return (ssize_t)k;
	}
	if (s->in_eof)
		return 0;
	return read_fd(s, dst, n, err);
}

ssize_t source_read(struct source *s, void *dst, size_t n, struct ms_error *err)
{
	if (s->failed) {
		*err = s->err;
		return -1;
	}
	if (n == 0)
		return 0;
	switch (s->form) {
	case SOURCE_GZIP:
		return read_gzip(s, dst, n, err);
	case SOURCE_ZSTD:
		return read_zstd(s, dst, n, err);
	case SOURCE_PLAIN:
		break;
	}
	return read_plain(s, dst, n, err);
}

/* Reads until SOURCE_MAGIC_MIN bytes are buffered or the file ends, then
 * sets the form and starts its decoder. Returns 0 or -1. */
static int detect(struct source *s, struct ms_error *err)
{
	static const unsigned char gz[] = { 0x1f, 0x8b };
	static const unsigned char zst[] = { 0x28, 0xb5, 0x2f, 0xfd };

	while (!s->in_eof && s->in_len < SOURCE_MAGIC_MIN) {
		ssize_t got = read_fd(s, s->in + s->in_len, SOURCE_CHUNK - s->in_len, err);

		if (got < 0)
			return -1;
		if (got == 0)
			s->in_eof = 1;
		s->in_len += (size_t)got;
	}
	if (s->in_len >= 2 && memcmp(s->in, gz, 2) == 0) {
		s->form = SOURCE_GZIP;
		s->z.zalloc = xalloc_zcalloc;
		s->z.zfree = xalloc_zfree;
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
			return fail(s, err, MS_EXIT_SOFTWARE, "cannot start zlib");
	} else if (s->in_len >= 4 && memcmp(s->in, zst, 4) == 0) {
		s->form = SOURCE_ZSTD;
		s->zs = ZSTD_createDStream();
		if (!s->zs)
			return fail(s, err, MS_EXIT_OSERR,
				    "out of memory for the zstd decoder");
		ZSTD_initDStream(s->zs);
		s->zret = 1;    /* nothing decoded yet: an empty frame is truncated */
	} else {
		s->form = SOURCE_PLAIN;
	}
	return 0;
}

struct source *source_open(const char *path, struct ms_error *err)
{
	struct source *s = xcalloc(1, sizeof *s);
	struct stat st;

	if (strcmp(path, "-") == 0) {
		s->fd = STDIN_FILENO;
		s->name = xstrdup("<stdin>");
	} else {
		s->name = xstrdup(path);
		s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			fail(s, err, MS_EXIT_NOINPUT, "cannot open: %s", strerror(errno));
			source_close(s);
			return NULL;
		}
		s->own_fd = 1;
	}
	if (fstat(s->fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			fail(s, err, MS_EXIT_NOINPUT, "cannot open: %s", strerror(EISDIR));
			source_close(s);
			return NULL;
		}
		if (S_ISREG(st.st_mode)) {
			s->file_size = (uint64_t)st.st_size;
			posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		}
	}
	s->in = xmalloc(SOURCE_CHUNK);
	if (detect(s, err) < 0) {
		source_close(s);
		return NULL;
	}
	return s;
}

enum source_form source_form(const struct source *s)
{
	return s->form;
}

const char *source_form_name(enum source_form form)
{
	switch (form) {
	case SOURCE_GZIP:
		return "gzip";
	case SOURCE_ZSTD:
		return "zstd";
	case SOURCE_PLAIN:
		break;
	}
	return "plain";
}

const char *source_name(const struct source *s)
{
	return s->name;
}

uint64_t source_bytes_read(const struct source *s)
{
	return s->bytes_read;
}

uint64_t source_file_size(const struct source *s)
{
	return s->file_size;
}

void source_close(struct source *s)
{
	if (!s)
		return;
	if (s->form == SOURCE_GZIP)
		inflateEnd(&s->z);
	ZSTD_freeDStream(s->zs);
	if (s->own_fd)
		close(s->fd);
	free(s->in);
	free(s->name);
	free(s);
}
