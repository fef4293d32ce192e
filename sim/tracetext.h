/*
 * tracetext.h - the text form of a trace: its formatter and its writer.
 *
 * The text form is written one way only, the normalised text: a header
 * line `#memsim-trace V` (followed by one space and the metadata JSON
 * when there is any), then one line per record, fields separated by one
 * space, numbers in decimal without leading zeros, `\n` line ends, no
 * blank lines; `c` without GEN when the event's gen is
 * EVENT_GEN_DEFAULT; an `e` line with all its DSTs on one line. Two traces
 * with the same events and metadata have byte-identical normalised texts,
 * which is what the round-trip tests compare (docs/binary-format.md).
 * Comments are written only when a producer asks for them.
 *
 * The writer is the form `tracewrite_text` of tracewrite.h (producers
 * and converters use that interface). tools/memrec.c does not: inside
 * malloc it may not call malloc or stdio, so it keeps its own buffer and
 * shares only the number formatter (decimal.h).
 */
#ifndef MEMSIM_TRACETEXT_H
#define MEMSIM_TRACETEXT_H

#include <stddef.h>

#include "event.h"
#include "tracewrite.h"

/* Longest normalised line of any kind but `k` (whose FRAME may be up to
 * the line limit), without '\n': "a", an ID of 20 digits, a size of 15
 * digits, a type of TYPETAB_NAME_MAX characters, "^" and a SITE of 20
 * digits, four spaces. */
#define TRACETEXT_LINE_MAX (1 + 1 + 20 + 1 + 15 + 1 + TYPETAB_NAME_MAX + 2 + 20)

/*
 * Formats `ev` (as a reader returned it; its indices refer to `names`) as
 * its normalised line without '\n' into buf (`size` bytes, NUL
 * terminated), cut to fit: a `k` line's FRAME is cut, and an `e` DST
 * (EVENT_SNAP_EDGE) is shown as "e SRC ... DST". For messages (the
 * binary form quotes its events this way). Returns the length.
 */
size_t tracetext_format(char *buf, size_t size, const struct event *ev,
			const struct trace_names *names);

#endif
