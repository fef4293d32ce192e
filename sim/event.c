/*
 * event.c - the letters of the trace format's event lines (event.h).
 */
#include "event.h"

char event_letter(enum event_kind kind)
{
	static const char letters[EVENT_KIND_COUNT] = {
		[EVENT_ALLOC] = 'a', [EVENT_FREE] = 'f', [EVENT_RESIZE] = 'r',
		[EVENT_REF_ADD] = '+', [EVENT_REF_DROP] = '-',
		[EVENT_COLLECT] = 'c', [EVENT_SAFEPOINT] = 's',
		[EVENT_TIME] = '@', [EVENT_SITE] = 'k', [EVENT_MARK] = 'm',
		[EVENT_GC_BEGIN] = 'g', [EVENT_GC_END] = 'g',
		[EVENT_SNAPSHOT] = 'h', [EVENT_SNAP_REFS] = 'e',
		[EVENT_SNAP_EDGE] = 'e',
	};

	return (unsigned)kind < EVENT_KIND_COUNT ? letters[kind] : '?';
}
