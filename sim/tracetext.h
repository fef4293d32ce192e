/*
 * tracetext.h - the text form of a trace: formatter and writer.
 *
 * Writes version 1 of the text form (docs/trace-format.md, the contract in
 * ../shared/trace-format.md) one way only, the normalised text: a header
 * line `#memsim-trace 1` (followed by one space and the metadata JSON when
 * there is any), then one line per event, fields separated by one space,
 * numbers in decimal without leading zeros, `\n` line ends, no blank
 * lines; `c` without GEN when the event's gen is EVENT_GEN_DEFAULT.
 * Two traces with the same events and metadata have byte-identical
 * normalised texts, which is what the binary form's round-trip tests
 * compare (docs/binary-format.md). Comments are written only when a
 * producer asks for them (tracetext_comment).
 *
 * The API mirrors tracebin.h's encoder: start on a sink (sink.h: plain or
 * gzip, file or standard output) or create a file, then either events as a
 * reader returned them (tracetext_put, for `memsim convert`) or one call
 * per kind (for producers: the mtrace importer, tools/pyrec). The per-kind
 * calls check what can be checked without an object table, so a producer's
 * bug cannot yield a trace the reader rejects for syntax: ID 0 is never
 * allocated, freed, resized or referenced, sizes fit in 48 bits, type
 * names follow the TYPE syntax, time never goes backwards. Liveness is the
 * producer's job. Errors are sticky: after the first one every call
 * returns the same status, and tracetext_close() reports it.
 *
 * tools/memrec.c does not use the writer: inside malloc it may not call
 * malloc or stdio, so it keeps its own mmap-backed buffer and shares only
 * the number formatter (decimal.h).
 */
#ifndef MEMSIM_TRACETEXT_H
#define MEMSIM_TRACETEXT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sink.h"
#include "event.h"
#include "typetab.h"

/* Longest normalised event line, without its '\n': "a", an ID of 20
 * digits, a size of 15 digits, a type of TYPETAB_NAME_MAX characters and
 * three spaces. */
#define TRACETEXT_LINE_MAX (1 + 1 + 20 + 1 + 15 + 1 + TYPETAB_NAME_MAX)

/* Formats `ev` as one normalised line without '\n' into buf (at least
 * TRACETEXT_LINE_MAX + 1 bytes), NUL-terminated. `type_name` is the name
 * of ev->type for ALLOC (NULL or "" when untyped). The event must satisfy
 * the format's value rules (a reader's events do). Returns the length. */
size_t tracetext_format(char *buf, const struct event *ev,
			const char *type_name);

struct tracetext_writer;

/*
 * Starts a text trace on `out` (the writer owns it from now on and closes
 * it in tracetext_close) and writes the header with `metadata` (NULL:
 * none), a JSON object text that is not parsed but must hold no line
 * break. Returns NULL with err filled (70, "trace metadata must be one
 * line", located at the sink's name) when it does; `out` is then closed.
 */
struct tracetext_writer *tracetext_start(struct sink *out, const char *metadata,
					 struct ms_error *err);

/* tracetext_start on a new file `path` ("-": standard output), gzip when
 * `flags` has SINK_GZIP. NULL with err filled on failure: 74 "cannot
 * create: ..." or the metadata error above (then nothing is created). */
struct tracetext_writer *tracetext_create(const char *path, unsigned flags,
					  const char *metadata, struct ms_error *err);

/*
 * Events. Each returns 0, or the sticky error's code: 74 for a write
 * error ("cannot write: <system message>", located at the output's name),
 * 70 (MS_EXIT_SOFTWARE: the producer broke the contract) for ID 0, a size
 * above 2^48-1, a bad TYPE or time going backwards.
 *   tracetext_alloc     `a ID SIZE [TYPE]`  (type NULL or "": untyped)
 *   tracetext_free      `f ID`
 *   tracetext_resize    `r ID SIZE`
 *   tracetext_ref_add   `+ SRC DST`         (SRC 0: the root set)
 *   tracetext_ref_drop  `- SRC DST`
 *   tracetext_collect   `c [GEN]`           (EVENT_GEN_DEFAULT: no GEN)
 *   tracetext_safepoint `s`
 *   tracetext_time      `@ T`, written only when T is later than the last
 *                       time written (equal times are dropped; unlike
 *                       tracebin_time, which keeps them)
 *   tracetext_comment   `# TEXT` (TEXT one line, checked; not an event)
 */
int tracetext_alloc(struct tracetext_writer *w, uint64_t id, uint64_t size,
		    const char *type);
int tracetext_free(struct tracetext_writer *w, uint64_t id);
int tracetext_resize(struct tracetext_writer *w, uint64_t id, uint64_t size);
int tracetext_ref_add(struct tracetext_writer *w, uint64_t src, uint64_t dst);
int tracetext_ref_drop(struct tracetext_writer *w, uint64_t src, uint64_t dst);
int tracetext_collect(struct tracetext_writer *w, uint64_t gen);
int tracetext_safepoint(struct tracetext_writer *w);
int tracetext_time(struct tracetext_writer *w, uint64_t ns);
int tracetext_comment(struct tracetext_writer *w, const char *text);

/* Writes an event as a reader returned it, unchecked and losslessly
 * (equal times kept); ev->type indexes `types` (the reader's table). For
 * converters. Returns 0 or the sticky error's code. */
int tracetext_put(struct tracetext_writer *w, const struct event *ev,
		  const struct typetab *types);

/* Event lines written so far (the header and comments are not events;
 * `@` lines are). */
uint64_t tracetext_events(const struct tracetext_writer *w);

/* The sticky error, or NULL if none so far. */
const struct ms_error *tracetext_error(const struct tracetext_writer *w);

/*
 * Flushes and closes the sink (finishing a gzip stream) and frees the
 * writer. Returns 0, or the first error of the writer's life with `err`
 * filled (err may be NULL). After an error the file is left as far as it
 * got; the caller decides whether to remove it.
 */
int tracetext_close(struct tracetext_writer *w, struct ms_error *err);

#endif
