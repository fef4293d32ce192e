/*
 * trace.h - streaming reader for memsim traces.
 *
 * Reads the text form of ../shared/trace-format.md (docs/trace-format.md)
 * and the binary form (docs/binary-format.md, sim/tracebin.h), plain or
 * gzip-compressed (both detected from the first bytes, not the name), from
 * a file or from standard input ("-"). The reader checks everything
 * that can be checked line by line: syntax, number ranges, type-name
 * syntax, a header only on the first line, extra fields on `s`/`c`, time
 * going backwards. What needs the object table (an ID that is not live, an
 * edge that does not exist) is checked by the heap; the engine then asks
 * trace_locate() to put the reader's file, line and text in the error.
 *
 * Memory is bounded by the buffer and the type table: the reader never
 * keeps more than the current line.
 */
#ifndef MEMSIM_TRACE_H
#define MEMSIM_TRACE_H

#include <stdint.h>

#include "error.h"
#include "event.h"
#include "typetab.h"

struct trace_reader;

/*
 * Opens `path` ("-" for standard input) and reads up to the end of the
 * first line, to tell gzip from text and to check a header. On failure
 * returns NULL and fills `err` (66 when the file cannot be opened or is a
 * directory, 65 for a bad header or undecodable gzip data, 74 for a read
 * error). Messages: docs/trace-format.md.
 */
struct trace_reader *trace_open(const char *path, struct ms_error *err);

/*
 * Reads the next event into *ev. Returns 1 for an event, 0 at the end of
 * the trace, -1 on error with `err` filled and located (file, line, text;
 * read and gzip errors have no line). Codes: 65 for bad data, including a
 * truncated or corrupt gzip stream, 74 for a read error. After an error or
 * the end, further calls return the same result (the same error).
 */
int trace_next(struct trace_reader *r, struct event *ev, struct ms_error *err);

/* Fills err's file, line and text with those of the event last returned,
 * for errors found downstream (e.g. by the heap). */
void trace_locate(const struct trace_reader *r, struct ms_error *err);

/* The name the reader reports in errors ("-" reads as "<stdin>"). */
const char *trace_name(const struct trace_reader *r);

/* Interned type names of this trace (owned by the reader). */
const struct typetab *trace_types(const struct trace_reader *r);

/* The header's metadata JSON text, or NULL when the trace has none. */
const char *trace_metadata(const struct trace_reader *r);

/* Whether the trace is in the binary form (docs/binary-format.md). */
int trace_is_binary(const struct trace_reader *r);

/* Whether any `@` event has been seen so far. */
int trace_has_time(const struct trace_reader *r);

/* Bytes consumed from the file so far (compressed bytes for gzip) and the
 * file's size (0 when unknown, e.g. a pipe): for progress and ETA. */
uint64_t trace_bytes_read(const struct trace_reader *r);
uint64_t trace_file_size(const struct trace_reader *r);

/* Number of events returned so far. */
uint64_t trace_event_count(const struct trace_reader *r);

void trace_close(struct trace_reader *r);

#endif
