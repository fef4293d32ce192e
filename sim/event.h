/*
 * event.h - one trace event, as every layer sees it (a leaf: it includes
 * nothing of memsim's).
 *
 * The trace format (../shared/trace-format.md; docs/trace-format.md says
 * it again) is a stream of lines; readers (trace.c, tracebin.c) turn each
 * line into one `struct event`, the simulation (heap, runtime) consumes
 * them and writers turn them back into lines. Names of types are indices
 * into the reader's type table (typetab.h), so an event is a small fixed
 * record that can be batched and handed between threads by value.
 */
#ifndef MEMSIM_EVENT_H
#define MEMSIM_EVENT_H

#include <stdint.h>

enum event_kind {
	EVENT_ALLOC,     /* a ID SIZE [TYPE] */
	EVENT_FREE,      /* f ID */
	EVENT_RESIZE,    /* r ID SIZE */
	EVENT_REF_ADD,   /* + SRC DST */
	EVENT_REF_DROP,  /* - SRC DST */
	EVENT_COLLECT,   /* c [GEN] */
	EVENT_SAFEPOINT, /* s */
	EVENT_TIME,      /* @ T */
	EVENT_KIND_COUNT
};

#define EVENT_ID_ROOT 0u                         /* the root set */
#define EVENT_SIZE_MAX ((UINT64_C(1) << 48) - 1) /* bytes */
#define EVENT_GEN_DEFAULT UINT64_MAX             /* `c` without GEN (so
                                                  * `c 2^64-1` reads the same) */

/*
 * One event. Field use by kind:
 *   ALLOC:  id, size, type      FREE: id        RESIZE: id, size
 *   REF_*:  id = SRC, dst = DST COLLECT: gen (EVENT_GEN_DEFAULT if absent)
 *   TIME:   time (ns)           SAFEPOINT: nothing
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
	} u;
};

/* The letter that starts a line of this kind ('a', 'f', ...), '?' for a
 * value outside the enum. */
char event_letter(enum event_kind kind);

#endif
