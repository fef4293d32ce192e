/*
 * facts.h - what a trace says about the run it came from (its header's
 * metadata, docs/trace-format.md), and what that means for a replay.
 *
 * A recording knows things the simulator must respect unless the user
 * says otherwise. Today: "level" (/work/shared/trace-format.md, version
 * 2 metadata): at "allocator" level the recorded runtime's free lists
 * have already acted, so a free-list policy must not act a second time;
 * the engine replays such a trace with the free lists of every policy
 * set to `none` and says so (facts_adjust). Unknown keys are ignored.
 */
#ifndef MEMSIM_FACTS_H
#define MEMSIM_FACTS_H

#include "policy.h"
#include "trace.h"

struct trace_facts {
	enum trace_level level; /* TRACE_LEVEL_UNKNOWN: no "level" key
	                         * (hand-made, memrec, ...) */
};

/* Reads the facts of an open trace from what its reader parsed of the
 * header (trace_level(); in a version-1 trace a malformed value reads as
 * unknown, in a version-2 trace the reader refused it). */
void facts_read(const struct trace_reader *r, struct trace_facts *out);

/*
 * The policy a trace with FACTS is replayed under in place of P: NULL
 * when P is used as it is; otherwise a new policy (free with
 * policy_free) and, in WHY (WHYLEN bytes), the sentence the report
 * prints, naming the policy.
 */
struct policy *facts_adjust(const struct trace_facts *facts, const struct policy *p,
			    char *why, size_t whylen);

#endif
