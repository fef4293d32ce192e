/*
 * sink.h - buffered output to a file descriptor, plain or gzip.
 *
 * The byte layer under the trace writers (tracebin.c, tracetext.c): they
 * format events into their own small buffers and hand the bytes here in
 * large blocks. Compression is zlib's deflate with a gzip wrapper (RFC
 * 1952), so the result reads back with gzip -d and with memsim's reader.
 * Errors are sticky values: after the first failed write every call
 * returns the same code and sink_close() reports it.
 */
#ifndef MEMSIM_SINK_H
#define MEMSIM_SINK_H

#include <stddef.h>

#include "error.h"

#define SINK_GZIP 1u            /* flag: gzip-compress the output */
#define SINK_GZIP_FAST 2u       /* flag, with SINK_GZIP: deflate level 1
                                 * instead of zlib's default 6 (recorders:
                                 * speed over the last fifth of size) */

struct sink;

/* 1 when `path` ends in ".gz", the convention for compressed traces. */
int sink_name_wants_gzip(const char *path);

/*
 * Wraps `fd` (written with write(2); closed by sink_close when own_fd).
 * `name` is used in messages. `flags`: 0 or SINK_GZIP. Never fails except
 * on out-of-memory for zlib's state (fatal, like xmalloc).
 */
struct sink *sink_fd(int fd, int own_fd, const char *name, unsigned flags);

/*
 * Creates or truncates `path` ("-": standard output) and wraps it. Returns
 * NULL with err filled (74, "cannot create: <system message>") on failure.
 */
struct sink *sink_open(const char *path, unsigned flags, struct ms_error *err);

/* The name given to sink_fd, or the path given to sink_open ("<stdout>"
 * for "-"): where errors about the output are located. */
const char *sink_name(const struct sink *s);

/* Appends n bytes. Returns 0 or the sticky error code (74, "cannot write:
 * <system message>") with err filled (err may be NULL). */
int sink_write(struct sink *s, const void *p, size_t n, struct ms_error *err);

/* Bytes written to the file so far (compressed bytes for gzip). */
unsigned long long sink_bytes_out(const struct sink *s);

/*
 * Finishes the gzip stream, flushes, closes an owned fd and frees the sink.
 * Returns 0 or the first error of the sink's life with err filled (err may
 * be NULL).
 */
int sink_close(struct sink *s, struct ms_error *err);

#endif
