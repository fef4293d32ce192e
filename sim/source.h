/*
 * source.h - a file's bytes, decompressed: plain, gzip or zstd, told apart
 * by their first bytes, never by the name.
 *
 * The byte layer under the trace reader (trace.c) and the importers of
 * other tools' files (heaptrack.c): heaptrack writes its data through
 * `gzip -c` or `zstd -c` (src/track/heaptrack.sh.cmake of heaptrack 1.4),
 * so one reader takes all three forms, and memsim traces may be zstd
 * too. Magic numbers: gzip 1f 8b (RFC 1952, section 2.3.1),
 * zstd frames 28 b5 2f fd (RFC 8878, section 3.1.1). Concatenated members
 * or frames are one stream, as gzip(1) and zstd(1) treat them.
 *
 * Errors are values (error.h), located at the source's name with no line:
 *   66 "cannot open: <system message>" (a directory: "Is a directory")
 *   74 "read error: ..."
 *   65 "truncated gzip stream", "corrupt gzip stream: ...",
 *      "truncated zstd stream", "corrupt zstd stream: ..."
 * After an error every read returns -1 again.
 */
#ifndef MEMSIM_SOURCE_H
#define MEMSIM_SOURCE_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum source_form { SOURCE_PLAIN, SOURCE_GZIP, SOURCE_ZSTD };

struct source;

/* Opens `path` ("-": standard input, named "<stdin>") and reads its first
 * bytes to learn the form. NULL with err filled on failure (66, 74, or 65
 * when the first bytes do not decompress). */
struct source *source_open(const char *path, struct ms_error *err);

/* Reads up to n decompressed bytes into dst. Returns the number read (at
 * least 1), 0 at the clean end, -1 with err filled. */
ssize_t source_read(struct source *s, void *dst, size_t n, struct ms_error *err);

enum source_form source_form(const struct source *s);

/* "plain", "gzip" or "zstd". */
const char *source_form_name(enum source_form form);

/* The name used in errors: the path, or "<stdin>". */
const char *source_name(const struct source *s);

/* Bytes read from the file so far (compressed bytes for gzip and zstd),
 * and the file's size (0 when unknown, e.g. a pipe): for progress. */
uint64_t source_bytes_read(const struct source *s);
uint64_t source_file_size(const struct source *s);

/* Closes the file (not standard input) and frees everything. NULL is a
 * no-op. */
void source_close(struct source *s);

#endif
