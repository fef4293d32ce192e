/*
 * event.h - one trace event, as every layer sees it (a leaf: it includes
 * nothing of memsim's).
 *
 * The trace format (../shared/trace-format.md; docs/trace-format.md says
 * it again) is a stream of lines; readers (trace.c, tracebin.c) turn each
 * line into one `struct event` (an `e` line of a heap snapshot into one
 * EVENT_SNAP_REFS and one EVENT_SNAP_EDGE per DST, so that a line of any
 * length is a stream of fixed-size records), the simulation (heap,
 * runtime) consumes them and writers (tracewrite.h) turn them back into
 * lines. Names are indices into the reader's tables: types and mark
 * labels into typetab.h tables, stack nodes into a sitetab.h table, so an
 * event is a small fixed record that can be batched and handed between
 * threads by value.
 *
 * Kinds below EVENT_SITE are version 1 of the format; EVENT_SITE and
 * later exist only in version-2 traces (`#memsim-trace 2`).
 */
#ifndef MEMSIM_EVENT_H
#define MEMSIM_EVENT_H

#include <stdint.h>

enum event_kind {
	EVENT_ALLOC,     /* a ID SIZE [TYPE] [^SITE] */
	EVENT_FREE,      /* f ID */
	EVENT_RESIZE,    /* r ID SIZE [^SITE] */
	EVENT_REF_ADD,   /* + SRC DST */
	EVENT_REF_DROP,  /* - SRC DST */
	EVENT_COLLECT,   /* c [GEN] */
	EVENT_SAFEPOINT, /* s */
	EVENT_TIME,      /* @ T */
	/* version 2 */
	EVENT_SITE,      /* k SITE PARENT FRAME */
	EVENT_MARK,      /* m LABEL */
	EVENT_GC_BEGIN,  /* g GEN: a recorded collection starts */
	EVENT_GC_END,    /* g: it ends */
	EVENT_SNAPSHOT,  /* h: a heap snapshot starts */
	EVENT_SNAP_REFS, /* e SRC DST...: the start of one `e` line */
	EVENT_SNAP_EDGE, /* one DST of that line */
	EVENT_KIND_COUNT
};

#define EVENT_KIND_V1_COUNT EVENT_SITE   /* kinds a version-1 trace has */

#define EVENT_ID_ROOT 0u                         /* the root set */
#define EVENT_SIZE_MAX ((UINT64_C(1) << 48) - 1) /* bytes */
#define EVENT_GEN_DEFAULT UINT64_MAX             /* `c` without GEN (so
                                                  * `c 2^64-1` reads the same) */
#define EVENT_NO_SITE 0u                         /* `site` of an a/r without
                                                  * ^SITE; also the outermost
                                                  * node's parent index */

/*
 * One event. Field use by kind:
 *   ALLOC:  id, size, type, site     FREE: id
 *   RESIZE: id, size, site           REF_*: id = SRC, dst = DST
 *   COLLECT: gen (EVENT_GEN_DEFAULT if absent)
 *   TIME:   time (ns)                SAFEPOINT, SNAPSHOT: nothing
 *   SITE:   id = SITE as written, parent = PARENT as written (0: the
 *           outermost), site = the node's index in the reader's sitetab
 *   MARK:   label (index in the reader's label table)
 *   GC_BEGIN: gen                    GC_END: gen of the collection it ends
 *   SNAP_REFS: id = SRC              SNAP_EDGE: id = SRC, dst = one DST
 * `site` is a sitetab index (EVENT_NO_SITE when absent), never the SITE
 * number of the line; `type` and `label` are 0 where unused.
 */
struct event {
	enum event_kind kind;
	uint32_t type;           /* typetab index; TYPETAB_UNTYPED when absent */
	uint64_t id;
	union {
		uint64_t size;   /* bytes */
		uint64_t dst;
		uint64_t gen;
		uint64_t time;   /* ns since the trace began */
		uint64_t parent;
	} u;
	uint32_t site;           /* sitetab index, EVENT_NO_SITE when absent */
	uint32_t label;          /* label-table index (MARK) */
};

_Static_assert(sizeof(struct event) == 32, "events are 32-byte records");

/* The letter that starts a line of this kind ('a', 'f', ...), '?' for a
 * value outside the enum. Both GC kinds are 'g', both snapshot-line
 * kinds 'e'. */
char event_letter(enum event_kind kind);

#endif
