/*
 * tracerules.h - the rules of a trace that span lines (format version 2).
 *
 * Most rules of docs/trace-format.md concern one line and are checked by
 * whoever parses it. Version 2 adds rules about the sequence of lines,
 * and these are the same for the text reader (trace.c), the binary
 * decoder (tracebin.c) and the writers (tracewrite.c), so they live here
 * once:
 *   - version-2 lines only in a version-2 trace;
 *   - a stack node (`k`) is defined once, numbered from 1, after its
 *     parent; a `^SITE` names a node already defined;
 *   - `g GEN` ... `g` do not nest, a closing `g` closes an open one, and
 *     none is open at the end;
 *   - `e` lines only directly after `h` or another `e` (comments and
 *     blank lines of the text form do not count: they are not kept by the
 *     binary form, so they cannot end a snapshot);
 *   - mark labels follow the TYPE syntax.
 * Each check returns 0, or 1 with the message in the caller's buffer
 * (exact texts: docs/trace-format.md, "Errors"); the caller adds the
 * location and the exit status (65 for a reader, 70 for a writer).
 *
 * The rules own the trace's stack-node table and mark-label table, which
 * readers expose as trace_sites() / trace_labels().
 */
#ifndef MEMSIM_TRACERULES_H
#define MEMSIM_TRACERULES_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "sitetab.h"
#include "typetab.h"

#define TRACE_VERSION_MAX 2     /* the newest version of the format */
#define TRACERULES_MSG_MAX 200  /* bytes a message needs at most */
#define TRACERULES_QUOTE_MAX 40 /* bytes of a field quoted in a message */

struct trace_rules {
	unsigned version;       /* 1 or 2 */
	struct sitetab *sites;  /* nodes defined so far */
	struct typetab *labels; /* mark labels seen so far */
	int keep_frames;        /* sites keep their FRAME texts (readers) */
	int gc_open;            /* inside `g GEN` ... `g` */
	uint64_t gc_gen;        /* its GEN */
	uint64_t gc_where;      /* the caller's location of the `g GEN` */
	uint64_t snap_next;     /* the record that may be an `e`: the one
	                         * after an `h` or `e` (0: none) */
};

/* Sets up the rules of a trace of `version` (1 or 2). keep_frames: store
 * the FRAME texts of stack nodes (a writer needs only their numbers). */
void tracerules_init(struct trace_rules *s, unsigned version, int keep_frames);
void tracerules_free(struct trace_rules *s);

/*
 * Called for every version-2 record before its own checks: rejects
 * version-2 kinds in a version-1 trace, `e` outside a snapshot, nested
 * `g` and a closing `g` with none open. `record` is the record's 1-based
 * number among the trace's records (lines that are not comments or
 * blank; an `e` line is one record), which tells whether an `e` follows
 * an `h` or `e` directly, so version-1 records need not be passed here.
 * For GC_BEGIN `gen` is its GEN and `where` the caller's location (line
 * or record number), remembered for tracerules_end; for GC_END *gen
 * receives the closed collection's GEN (gen may be NULL for other
 * kinds). SNAP_EDGE events are not passed (they are part of their `e`).
 */
int tracerules_record(struct trace_rules *s, enum event_kind kind,
		      uint64_t *gen, uint64_t record, uint64_t where,
		      char *msg, size_t size);

/*
 * `k SITE PARENT FRAME`: checks SITE >= 1 and new, PARENT defined (0 is
 * the outermost caller), the FRAME text frame[0, n) (sitetab_frame_error),
 * and adds the node. *index receives its sitetab index.
 */
int tracerules_site(struct trace_rules *s, uint64_t site, uint64_t parent,
		    const char *frame, size_t n, uint32_t *index,
		    char *msg, size_t size);

/* `^SITE` on `a`/`r`: the node must be defined (and the trace version
 * 2). *index receives its sitetab index. */
int tracerules_use_site(struct trace_rules *s, uint64_t site, uint32_t *index,
			char *msg, size_t size);

/* `m LABEL`: checks the label's syntax and interns it; *index receives
 * its index in the label table. */
int tracerules_mark(struct trace_rules *s, const char *label, size_t n,
		    uint32_t *index, char *msg, size_t size);

/* The end of the trace: a recorded collection still open is an error
 * (*where receives its location). */
int tracerules_end(const struct trace_rules *s, uint64_t *where,
		   char *msg, size_t size);

#endif
