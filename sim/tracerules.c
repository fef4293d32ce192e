/*
 * tracerules.c - rules that span lines (see tracerules.h; the messages
 * are listed in docs/trace-format.md).
 */
#include "tracerules.h"

#include <inttypes.h>
#include <stdio.h>

#include "error.h"

void tracerules_init(struct trace_rules *s, unsigned version, int keep_frames)
{
	*s = (struct trace_rules){
		.version = version, .keep_frames = keep_frames,
		.sites = sitetab_create(), .labels = typetab_create(),
	};
}

void tracerules_free(struct trace_rules *s)
{
	sitetab_destroy(s->sites);
	typetab_destroy(s->labels);
	s->sites = NULL;
	s->labels = NULL;
}

int tracerules_record(struct trace_rules *s, enum event_kind kind,
		      uint64_t *gen, uint64_t record, uint64_t where,
		      char *msg, size_t size)
{
	if (kind >= EVENT_KIND_V1_COUNT && s->version < 2) {
		snprintf(msg, size, "version-2 line '%c' in a version-1 trace",
			 event_letter(kind));
		return 1;
	}
	if (kind == EVENT_SNAP_REFS && record != s->snap_next) {
		snprintf(msg, size,
			 "'e' outside a heap snapshot (it must follow 'h' or another 'e')");
		return 1;
	}
	if (kind == EVENT_SNAP_REFS || kind == EVENT_SNAPSHOT)
		s->snap_next = record + 1;
	if (kind == EVENT_GC_BEGIN) {
		if (s->gc_open) {
			snprintf(msg, size,
				 "nested 'g': the recorded collection of generation %" PRIu64
				 " is still open", s->gc_gen);
			return 1;
		}
		s->gc_open = 1;
		s->gc_gen = *gen;
		s->gc_where = where;
	} else if (kind == EVENT_GC_END) {
		if (!s->gc_open) {
			snprintf(msg, size,
				 "'g' without GEN ends a recorded collection, but none is open");
			return 1;
		}
		s->gc_open = 0;
		*gen = s->gc_gen;
	}
	return 0;
}

int tracerules_site(struct trace_rules *s, uint64_t site, uint64_t parent,
		    const char *frame, size_t n, uint32_t *index,
		    char *msg, size_t size)
{
	uint32_t p = EVENT_NO_SITE;

	if (site == 0) {
		snprintf(msg, size,
			 "SITE 0 is the outermost caller; stack nodes are numbered from 1");
		return 1;
	}
	if (sitetab_find(s->sites, site) != EVENT_NO_SITE) {
		snprintf(msg, size, "stack node %" PRIu64 " is already defined", site);
		return 1;
	}
	if (parent != 0 && (p = sitetab_find(s->sites, parent)) == EVENT_NO_SITE) {
		snprintf(msg, size, "parent %" PRIu64 " of stack node %" PRIu64
			 " is not defined", parent, site);
		return 1;
	}
	if (sitetab_frame_error(frame, n, msg, size))
		return 1;
	*index = sitetab_add(s->sites, site, p, s->keep_frames ? frame : NULL, n);
	if (*index == EVENT_NO_SITE) {
		snprintf(msg, size, "too many stack nodes (limit %" PRIu32 ")",
			 (uint32_t)SITETAB_MAX);
		return 1;
	}
	return 0;
}

int tracerules_use_site(struct trace_rules *s, uint64_t site, uint32_t *index,
			char *msg, size_t size)
{
	if (s->version < 2) {
		snprintf(msg, size, "version-2 field '^%" PRIu64 "' in a version-1 trace",
			 site);
		return 1;
	}
	if (site == 0) {
		snprintf(msg, size, "'^0' names no stack node (they are numbered from 1)");
		return 1;
	}
	*index = sitetab_find(s->sites, site);
	if (*index == EVENT_NO_SITE) {
		snprintf(msg, size, "stack node %" PRIu64 " is used before its 'k' line",
			 site);
		return 1;
	}
	return 0;
}

int tracerules_mark(struct trace_rules *s, const char *label, size_t n,
		    uint32_t *index, char *msg, size_t size)
{
	if (!typetab_name_ok(label, n)) {
		char q[TRACERULES_QUOTE_MAX * 4 + 8];

		if (n > TYPETAB_NAME_MAX && typetab_syntax_ok(label, n)) {
			snprintf(msg, size, "mark label longer than %d characters",
				 TYPETAB_NAME_MAX);
			return 1;
		}
		ms_error_quote(q, sizeof q, label, n, TRACERULES_QUOTE_MAX);
		snprintf(msg, size, "bad mark label '%s'", q);
		return 1;
	}
	*index = typetab_intern(s->labels, label, n);
	return 0;
}

int tracerules_end(const struct trace_rules *s, uint64_t *where,
		   char *msg, size_t size)
{
	if (!s->gc_open)
		return 0;
	*where = s->gc_where;
	snprintf(msg, size,
		 "the recorded collection of generation %" PRIu64
		 " is never closed (no 'g' before the end of the trace)", s->gc_gen);
	return 1;
}
