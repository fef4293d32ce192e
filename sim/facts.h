/*
 * facts.h - what a trace says about the run it came from (its header's
 * metadata, docs/trace-format.md), and what that means for a replay.
 *
 * A recording knows things the simulator must respect unless the user
 * says otherwise (docs/reports.md, "Warnings"):
 *   - "level" (/work/shared/trace-format.md, version 2 metadata): at
 *     "allocator" level the recorded runtime's free lists have already
 *     acted, so a free-list policy must not act a second time; every
 *     policy's free lists become `none` for such a trace;
 *   - facts about the recorded machine that are knobs of a policy, such
 *     as "arena_alignment" (tools/pyrec: where the arenas really were
 *     placed): a policy whose allocator has that knob takes the trace's
 *     value, unless the user chose the knob (a -p KEY=VALUE or a policy
 *     file; a preset's value is no choice);
 *   - "runtime" (or, in tools/pyrec's older headers, "python"): a trace
 *     recorded under CPython A.B replayed under cpython presets of which
 *     none models A.B is worth a warning (with one that does, the others
 *     are a comparison the user asked for).
 * Each change made is one sentence for the report. Unknown keys are
 * ignored, and so is a fact whose value the knob does not accept
 * (metadata is informational).
 */
#ifndef MEMSIM_FACTS_H
#define MEMSIM_FACTS_H

#include <stddef.h>

#include "policy.h"
#include "trace.h"

#define FACTS_VALUE_MAX 32      /* bytes of a fact's value kept */
#define FACTS_NOTE_MAX 512      /* bytes of one sentence */
#define FACTS_NOTES_MAX 4       /* changes facts_adjust can make */

struct trace_facts {
	enum trace_level level; /* TRACE_LEVEL_UNKNOWN: no "level" key
	                         * (hand-made, memrec, ...) */
	char arena_alignment[FACTS_VALUE_MAX]; /* "" when absent */
	char runtime[FACTS_VALUE_MAX]; /* "cpython-3.13.0"; "" when unknown */
};

/* The sentences facts_adjust writes, one per change. */
struct facts_notes {
	char text[FACTS_NOTES_MAX][FACTS_NOTE_MAX];
	size_t n;
};

/* Reads the facts of an open trace: "level" from what its reader parsed
 * (trace_level(); in a version-1 trace a malformed value reads as
 * unknown, in a version-2 trace the reader refused it), the others from
 * its metadata (a value that is not a short string is ignored). */
void facts_read(const struct trace_reader *r, struct trace_facts *out);

/*
 * The policy a trace with FACTS is replayed under in place of P: NULL
 * when P is used as it is; otherwise a new policy (free with
 * policy_free) and, in notes, the sentences the report prints, each
 * naming the policy.
 */
struct policy *facts_adjust(const struct trace_facts *facts, const struct policy *p,
			    struct facts_notes *notes);

/*
 * The warning for replaying a trace with FACTS under policies[0, n), or
 * 0 when none is due (see above; a policy's preset is the BASE of its
 * name, docs/policies.md "Derivations"). Writes the sentence to out.
 */
int facts_runtime_note(const struct trace_facts *facts, struct policy *const *policies,
		       size_t n, char *out, size_t size);

#endif
