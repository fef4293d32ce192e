/*
 * tracetext.h - the normalised text form of a trace: formatter and writer.
 *
 * Normalised text is the text form of docs/trace-format.md written one way
 * only: a header line `#memsim-trace 1` (followed by one space and the
 * metadata JSON when there is any), then one line per event, fields
 * separated by one space, numbers in decimal without leading zeros, `\n`
 * line ends, no comments, no blank lines; `c` without GEN when the event's
 * gen is TRACE_GEN_DEFAULT. Two traces with the same events and metadata
 * have byte-identical normalised texts, which is what the binary form's
 * round-trip tests compare (docs/binary-format.md).
 *
 * This is memsim convert's text emitter. (Branch memrec has a general
 * text writer, tracewrite.c, for recorders; this one only has to print
 * events the reader already checked.)
 */
#ifndef MEMSIM_TRACETEXT_H
#define MEMSIM_TRACETEXT_H

#include <stddef.h>

#include "error.h"
#include "sink.h"
#include "trace.h"
#include "typetab.h"

/* Longest normalised event line, without its '\n': "a", an ID of 20
 * digits, a size of 15 digits, a type of TYPETAB_NAME_MAX characters and
 * three spaces. */
#define TRACETEXT_LINE_MAX (1 + 1 + 20 + 1 + 15 + 1 + TYPETAB_NAME_MAX)

/* Formats `ev` as one normalised line without '\n' into buf (at least
 * TRACETEXT_LINE_MAX + 1 bytes), NUL-terminated. `type_name` is the name
 * of ev->type for ALLOC (NULL or "" when untyped). Returns the length. */
size_t tracetext_format(char *buf, const struct trace_event *ev,
			const char *type_name);

struct tracetext_writer;

/*
 * Starts a normalised text trace on `out` (the writer owns it from now on
 * and closes it in tracetext_close) and writes the header with
 * `metadata` (NULL: none).
 */
struct tracetext_writer *tracetext_open(struct sink *out, const char *metadata);

/* Writes one event; ev->type is an index into `types` (the reader's
 * table). Returns 0 or the sink's error code (74) with err filled. */
int tracetext_event(struct tracetext_writer *w, const struct trace_event *ev,
		    const struct typetab *types, struct ms_error *err);

/* Flushes and closes the sink. Returns 0 or the first error with err
 * filled. Frees the writer either way. */
int tracetext_close(struct tracetext_writer *w, struct ms_error *err);

#endif
