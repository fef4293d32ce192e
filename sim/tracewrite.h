/*
 * tracewrite.h - one interface for writing traces, in either form.
 *
 * Every producer of traces (`memsim convert`, the mtrace importer,
 * tools/pyrec, importers of other tools' files) writes through this
 * interface and never branches on the form: it picks a form once
 * (tracewrite_form_of() maps a file name to one) and makes the same calls
 * for text (docs/trace-format.md) and binary (docs/binary-format.md).
 *
 * Two kinds of call:
 *   - per-kind calls for producers, one per line of the format
 *     (tracewrite_alloc ... tracewrite_refs), with names as strings and
 *     stack nodes as SITE numbers;
 *   - tracewrite_put() for converters: an event as a reader returned it,
 *     with the reader's name tables, written losslessly (equal times and
 *     every snapshot edge kept).
 * Both go through the same checks, so a producer's bug cannot yield a
 * trace that a reader rejects for anything a writer can see: ID 0 never
 * allocated, freed, resized or referenced, sizes within 48 bits, TYPE,
 * LABEL and FRAME syntax, time never going backwards, every version-2
 * rule of tracerules.h (nodes defined once and before use, `g` not
 * nested and closed by the end, `e` only in a snapshot, at least one DST
 * per `e` line), version-2 lines only in a version-2 trace. Liveness of
 * objects is the producer's job. A broken rule is error 70
 * (MS_EXIT_SOFTWARE: the producer has a bug), a failed write 74. Errors
 * are sticky: after the first, every call returns the same code, nothing
 * more is written, and tracewrite_close() reports it.
 *
 * Behind the interface each form is one const `struct tracewrite_form`
 * (tracewrite_text in tracetext.c, tracewrite_binary in tracebin.c): it
 * is handed one checked record at a time in the writer's own numbering
 * of types and stack nodes, with the names it needs.
 */
#ifndef MEMSIM_TRACEWRITE_H
#define MEMSIM_TRACEWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "sink.h"
#include "sitetab.h"
#include "typetab.h"

/* The tables a reader's events index (trace_types, trace_sites,
 * trace_labels of trace.h), for tracewrite_put and tracetext_format.
 * `sites` and `labels` may be NULL for a version-1 source. */
struct trace_names {
	const struct typetab *types;
	const struct sitetab *sites;
	const struct typetab *labels;
};

/* One record as a form writes it: ev in the writer's numbering (ev.type
 * and ev.site are the writer's indices) and the names it needs. */
struct tracewrite_rec {
	struct event ev;
	const char *type;       /* ALLOC: the type's name, or NULL (untyped) */
	size_t type_len;
	int type_new;           /* ALLOC: the writer's first use of this type */
	uint64_t site_number;   /* ALLOC/RESIZE: the SITE of ev.site (0: none) */
	uint32_t parent;        /* SITE: the parent's index (0: outermost) */
	const char *text;       /* SITE: FRAME as written; MARK: LABEL */
	size_t text_len;
};

/* A form: one per file, everything else in it static. */
struct tracewrite_form {
	const char *name;       /* "text", "binary" */
	/* Writes the header for `version` with `metadata` (NULL: none, else
	 * an already checked one-line JSON object) and returns the form's
	 * state; write errors stay sticky in the sink. */
	void *(*start)(struct sink *out, unsigned version, const char *metadata);
	/* Writes one record. Returns 0, or 74 with err filled. */
	int (*emit)(void *state, const struct tracewrite_rec *rec,
		    struct ms_error *err);
	/* `# TEXT` (checked to be one line), or NULL when the form keeps no
	 * comments (binary). */
	int (*comment)(void *state, const char *text, size_t n,
		       struct ms_error *err);
	/* Ends the trace (closes an open `e` line; the end record counting
	 * `records`) when `ok`, writes what it holds, frees the state (the
	 * writer then closes the sink). Returns 0 or the first write error
	 * with err filled. */
	int (*finish)(void *state, int ok, uint64_t records, struct ms_error *err);
};

extern const struct tracewrite_form tracewrite_text;
extern const struct tracewrite_form tracewrite_binary;

/* The form a file name asks for: binary for *.msb and *.msb.gz, text
 * otherwise (and for "-"). */
const struct tracewrite_form *tracewrite_form_of(const char *path);

struct trace_writer;

/*
 * Starts a trace of format `version` (1 or 2) in `form` on `out` (the
 * writer owns it from now on). `metadata` is NULL or a JSON object text
 * on one line, from '{' to '}', at most TRACEWRITE_METADATA_MAX bytes.
 * Returns NULL with err filled (70, "trace metadata must be ...", or
 * "unsupported trace version N") when not; `out` is then closed.
 */
#define TRACEWRITE_METADATA_MAX ((size_t)16 << 20)   /* bytes */
struct trace_writer *tracewrite_start(struct sink *out,
				      const struct tracewrite_form *form,
				      unsigned version, const char *metadata,
				      struct ms_error *err);

/* tracewrite_start on a new file `path` ("-": standard output), gzip when
 * `flags` has SINK_GZIP (sink.h). Nothing is created when the arguments
 * are bad. NULL with err filled (74 or 70) on failure. */
struct trace_writer *tracewrite_create(const char *path,
				       const struct tracewrite_form *form,
				       unsigned flags, unsigned version,
				       const char *metadata, struct ms_error *err);

/*
 * Per-kind calls. Each returns 0 or the sticky error's code.
 *   tracewrite_alloc     `a ID SIZE [TYPE] [^SITE]`  type NULL or "": untyped;
 *                        site 0: none (else a SITE defined by tracewrite_site)
 *   tracewrite_resize    `r ID SIZE [^SITE]`
 *   tracewrite_collect   `c [GEN]`  (EVENT_GEN_DEFAULT: no GEN)
 *   tracewrite_time      `@ T`, written only when T is later than the last
 *                        time written (an equal time is dropped)
 *   tracewrite_site      `k SITE PARENT FRAME`, FRAME as it must appear in
 *                        the trace (escaped: sitetab_frame_escape)
 *   tracewrite_mark      `m LABEL`
 *   tracewrite_gc_begin  `g GEN`; tracewrite_gc_end `g`
 *   tracewrite_snapshot  `h`
 *   tracewrite_refs      one `e SRC DST...` line with n >= 1 DSTs (right
 *                        after tracewrite_snapshot or another _refs)
 *   tracewrite_comment   `# TEXT` in text (one line, checked); dropped by
 *                        the binary form, which keeps no comments
 */
int tracewrite_alloc(struct trace_writer *w, uint64_t id, uint64_t size,
		     const char *type, uint64_t site);
int tracewrite_free(struct trace_writer *w, uint64_t id);
int tracewrite_resize(struct trace_writer *w, uint64_t id, uint64_t size,
		      uint64_t site);
int tracewrite_ref_add(struct trace_writer *w, uint64_t src, uint64_t dst);
int tracewrite_ref_drop(struct trace_writer *w, uint64_t src, uint64_t dst);
int tracewrite_collect(struct trace_writer *w, uint64_t gen);
int tracewrite_safepoint(struct trace_writer *w);
int tracewrite_time(struct trace_writer *w, uint64_t ns);
int tracewrite_site(struct trace_writer *w, uint64_t site, uint64_t parent,
		    const char *frame);
int tracewrite_mark(struct trace_writer *w, const char *label);
int tracewrite_gc_begin(struct trace_writer *w, uint64_t gen);
int tracewrite_gc_end(struct trace_writer *w);
int tracewrite_snapshot(struct trace_writer *w);
int tracewrite_refs(struct trace_writer *w, uint64_t src, const uint64_t *dst,
		    size_t n);
int tracewrite_comment(struct trace_writer *w, const char *text);

/*
 * Writes an event as a reader returned it; its indices refer to `names`
 * (the reader's tables). An `e` line arrives as EVENT_SNAP_REFS followed
 * by its EVENT_SNAP_EDGE events and is written as one line. Lossless:
 * equal times are kept. Returns 0 or the sticky error's code.
 */
int tracewrite_put(struct trace_writer *w, const struct event *ev,
		   const struct trace_names *names);

/* Records (lines, not counting the header and comments) written so far. */
uint64_t tracewrite_records(const struct trace_writer *w);

/* The sticky error, or NULL if none so far. */
const struct ms_error *tracewrite_error(const struct trace_writer *w);

/*
 * Ends the trace and closes the sink (finishing gzip), frees the writer.
 * Returns 0 or the first error of the writer's life with err filled (err
 * may be NULL); a recorded collection still open or an `e` line without
 * a DST is an error (70) here. A binary trace whose writer was not closed
 * cleanly lacks its end record, so every reader rejects it as truncated.
 */
int tracewrite_close(struct trace_writer *w, struct ms_error *err);

#endif
