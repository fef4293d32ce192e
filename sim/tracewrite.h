/*
 * tracewrite.h - buffered writer for the memsim text trace.
 *
 * Writes version 1 of the text form (docs/trace-format.md, the contract in
 * ../shared/trace-format.md): the `#memsim-trace 1 {...}` header with the
 * caller's metadata, then one line per event. Output is plain text or gzip
 * (chosen by the caller, e.g. from a ".gz" name via tracewrite_wants_gzip),
 * to a file or to standard output ("-").
 *
 * The writer checks what it can without an object table, so a producer's
 * bug cannot yield a trace the reader rejects for syntax: ID 0 is never
 * allocated, sizes fit in 48 bits, type names follow the TYPE syntax, time
 * never goes backwards. Liveness (no event on a dead ID) is the producer's
 * job. Errors are sticky: after the first one every call returns the same
 * status, and tracewrite_close() reports it.
 *
 * Used by the converters (mtrace.c) and generators. tools/memrec.c does not
 * use it: inside malloc it may not call malloc or stdio, so it has its own
 * mmap-backed copy of the same line formats.
 */
#ifndef MEMSIM_TRACEWRITE_H
#define MEMSIM_TRACEWRITE_H

#include <stdint.h>

#include "error.h"

#define TRACEWRITE_GZIP 1u      /* flag: compress with gzip (zlib) */

struct tracewrite;

/* 1 when `path` ends in ".gz", the convention for compressed traces. */
int tracewrite_wants_gzip(const char *path);

/*
 * Creates (truncates) `path`, "-" for standard output, and writes the
 * header. `metadata` is a JSON object text put after "#memsim-trace 1 ",
 * or NULL for a bare header; it must be one line (checked) and is not
 * otherwise parsed. `flags` is 0 or TRACEWRITE_GZIP. Returns NULL with
 * `err` filled (74 MS_EXIT_IOERR when the file cannot be created, 70 for
 * metadata with a newline).
 */
struct tracewrite *tracewrite_open(const char *path, unsigned flags,
				   const char *metadata, struct ms_error *err);

/*
 * Events. Each returns 0, or the sticky error's code: 74 for a write
 * error, 70 (MS_EXIT_SOFTWARE: the producer broke the contract) for ID 0,
 * a size above 2^48-1, a bad TYPE or time going backwards.
 *   tracewrite_alloc     `a ID SIZE [TYPE]`  (type NULL or "": untyped)
 *   tracewrite_free      `f ID`
 *   tracewrite_resize    `r ID SIZE`
 *   tracewrite_ref_add   `+ SRC DST`         (SRC 0: the root set)
 *   tracewrite_ref_drop  `- SRC DST`
 *   tracewrite_collect   `c [GEN]`           (gen < 0: no GEN field)
 *   tracewrite_safepoint `s`
 *   tracewrite_time      `@ T`, written only when T is later than the
 *                        last time written (equal times are dropped)
 *   tracewrite_comment   `# TEXT` (TEXT one line, checked)
 */
int tracewrite_alloc(struct tracewrite *w, uint64_t id, uint64_t size, const char *type);
int tracewrite_free(struct tracewrite *w, uint64_t id);
int tracewrite_resize(struct tracewrite *w, uint64_t id, uint64_t size);
int tracewrite_ref_add(struct tracewrite *w, uint64_t src, uint64_t dst);
int tracewrite_ref_drop(struct tracewrite *w, uint64_t src, uint64_t dst);
int tracewrite_collect(struct tracewrite *w, int gen);
int tracewrite_safepoint(struct tracewrite *w);
int tracewrite_time(struct tracewrite *w, uint64_t ns);
int tracewrite_comment(struct tracewrite *w, const char *text);

/* Number of event lines written so far (the header and comments are not
 * events; `@` lines are). */
uint64_t tracewrite_events(const struct tracewrite *w);

/* The sticky error, or NULL if none so far. */
const struct ms_error *tracewrite_error(const struct tracewrite *w);

/*
 * Flushes, finishes the gzip stream, closes the file (not standard output)
 * and frees the writer. Returns 0, or the first error of the writer's life
 * with `err` filled (err may be NULL). After an error the file is left
 * as far as it got; the caller decides whether to remove it.
 */
int tracewrite_close(struct tracewrite *w, struct ms_error *err);

#endif
