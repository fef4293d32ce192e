/*
 * facts.c - what a trace says about its run, and what that changes in a
 * replay (facts.h; docs/trace-format.md, "Metadata"; docs/reports.md, "Warnings").
 *
 *  1. facts_read takes "level" from the reader (trace.c parses the
 *     header's metadata once, for every user).
 *  2. facts_adjust: at allocator level, a policy whose free lists are
 *     anything but `none` is replayed with `none` (the recording's
 *     allocator calls are what the runtime's own free lists let through;
 *     parking them again would count each parked object twice), and the
 *     report says so for that policy.
 */
#include "facts.h"

#include <stdio.h>
#include <string.h>

void facts_read(const struct trace_reader *r, struct trace_facts *out)
{
	memset(out, 0, sizeof *out);
	out->level = trace_level(r);
}

struct policy *facts_adjust(const struct trace_facts *facts, const struct policy *p,
			    char *why, size_t whylen)
{
	const struct policy_part *fl = &p->part[POLICY_FREELISTS];
	struct policy *q;

	if (facts->level != TRACE_LEVEL_ALLOCATOR || strcmp(fl->impl.name, "none") == 0)
		return NULL;
	q = policy_with_section(p, POLICY_FREELISTS, "none");
	if (q)
		snprintf(why, whylen, "%s: the trace is at allocator level (its runtime's free "
			 "lists already acted), so its free lists (%s) were not applied: none",
			 p->name ? p->name : "policy", fl->impl.name);
	return q;
}
