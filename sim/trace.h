/*
 * trace.h - streaming reader for memsim traces.
 *
 * Reads versions 1 and 2 of the text form of ../shared/trace-format.md
 * (docs/trace-format.md) and the binary form (docs/binary-format.md,
 * sim/tracebin.h), plain or gzip- or zstd-compressed (detected from the
 * first bytes, not the name), from a file or from standard input ("-"). The
 * reader checks everything that can be checked without the object table:
 * syntax, number ranges, name syntax, a header only on the first line,
 * extra fields, time going backwards, and the version-2 rules that span
 * lines (tracerules.h: stack nodes defined once and before use, `g` not
 * nested and closed by the end, `e` only in a snapshot). What needs the
 * object table (an ID that is not live, an edge that does not exist) is
 * checked by the heap; the engine then asks trace_locate() to put the
 * reader's file, line and text in the error.
 *
 * Memory is bounded by the buffer and the reader's tables (type names,
 * stack nodes, mark labels, the marks seen): the reader never keeps more
 * than the current line, and not even that of an `e` line, which it reads
 * field by field.
 */
#ifndef MEMSIM_TRACE_H
#define MEMSIM_TRACE_H

#include <stdint.h>

#include <stddef.h>

#include "error.h"
#include "event.h"
#include "sitetab.h"
#include "typetab.h"

struct trace_reader;

/*
 * A `m LABEL` line as the reader saw it (trace_marks). Its place is
 * given in the numbering of the simulation's clock and of its peaks,
 * which counts the version-1 events only (a f r + - c s @; the
 * annotations k m g h e are no step of it): `event` events came before
 * the mark, so on an event axis it sits at x = event, right after the
 * event that a peak at index `event` names.
 */
struct trace_mark {
	uint64_t event;         /* version-1 events before it */
	uint64_t time;          /* ns: the last `@` before it (0 if none) */
	uint32_t label;         /* index in trace_labels() */
};

/* The header metadata's "level" (docs/trace-format.md, "Metadata"). */
enum trace_level {
	TRACE_LEVEL_UNKNOWN,    /* absent */
	TRACE_LEVEL_OBJECT,     /* "object": every object's birth and death */
	TRACE_LEVEL_ALLOCATOR,  /* "allocator": the calls the runtime's free
	                         * lists let through */
};

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

/* The stack nodes (`k`) read so far: ev.site of `a`/`r` and `k` events
 * index it. Owned by the reader; safe to read from other threads while
 * the reader adds nodes (sitetab.h). Empty for a version-1 trace. */
const struct sitetab *trace_sites(const struct trace_reader *r);

/* The mark labels read so far: ev.label of `m` events indexes it. */
const struct typetab *trace_labels(const struct trace_reader *r);

/*
 * The marks read so far, in trace order (*n of them). For the reports:
 * the engine keeps the reader of a finished replay open
 * (engine_run.reader), so after engine_replay() the marks of the whole
 * trace are trace_marks(run.reader, &n). The array is the reader's and
 * grows while it reads: call it from the reading thread or after the
 * replay, not while another thread reads.
 */
const struct trace_mark *trace_marks(const struct trace_reader *r, size_t *n);

/* The trace format's version: 1 or 2 (the header's; 1 without one). */
unsigned trace_version(const struct trace_reader *r);

/* The header's metadata JSON text, or NULL when the trace has none. */
const char *trace_metadata(const struct trace_reader *r);

/* What the metadata says: "level" (TRACE_LEVEL_UNKNOWN when absent),
 * "runtime" (e.g. "cpython-3.13.0") and "recorder" (NULL when absent).
 * In a version-2 trace malformed values are an error at open. */
enum trace_level trace_level(const struct trace_reader *r);
const char *trace_runtime(const struct trace_reader *r);
const char *trace_recorder(const struct trace_reader *r);

/* Whether the trace is in the binary form (docs/binary-format.md). */
int trace_is_binary(const struct trace_reader *r);

/* Whether any `@` event has been seen so far. */
int trace_has_time(const struct trace_reader *r);

/* Bytes consumed from the file so far (compressed bytes for gzip) and the
 * file's size (0 when unknown, e.g. a pipe): for progress and ETA. */
uint64_t trace_bytes_read(const struct trace_reader *r);
uint64_t trace_file_size(const struct trace_reader *r);

/* Number of events returned so far, of every kind (an `e` line counts
 * one plus one per DST). */
uint64_t trace_event_count(const struct trace_reader *r);

void trace_close(struct trace_reader *r);

#endif
