/*
 * sweep.h - sweep sets: one policy specification, many policies.
 *
 * A VALUE written {...} in a `-p` derivation, or a string "{...}" as a
 * knob's value in a policy file, is a sweep set; a specification with
 * sets stands for the cross product of its sets, one policy (a variant)
 * per point. docs/sweeps.md is the user's description. Items:
 *   700 / 64K / 0x1000 / shared / "int,float"   one value each
 *   A..B+S   A, A+S, A+2S, ... while <= B  (whole numbers, S >= 1)
 *   A..B*F   A, A*F, A*F^2, ... while <= B (whole numbers, A >= 1, F >= 2)
 *   A..B     A..B+1
 * The first set varies slowest (sets nest in the order written, files'
 * sets before the derivation's). Each variant is named by its settings:
 *   SPEC-WITHOUT-ITS-SETS[knob=value,knob=value]
 * with the value each knob really took (decimal, after K/M/G and 0x),
 * and a knob's section prefixed where two sets name knobs alike.
 *
 * Errors (all located at the specification): a set with no value, a
 * range that is empty (A > B) or that would not end (+0, *1, *0, or 0*F)
 * exit 78 like any bad policy; more variants than the limit exits 64
 * (--force raises it to SWEEP_LIMIT_FORCED); two policies of one name
 * exit 64.
 */
#ifndef MEMSIM_SWEEP_H
#define MEMSIM_SWEEP_H

#include <stddef.h>

#include "error.h"
#include "policy.h"

#define SWEEP_LIMIT 10000               /* variants without --force */
#define SWEEP_LIMIT_FORCED 100000       /* variants with it */

/* One swept knob of a variant: "allocator.arena_size" = "65536". */
struct sweep_setting {
	char *key;
	char *value;
};

struct sweep_variant {
	struct policy *policy;          /* owned; named as above */
	size_t source;                  /* index of the specification */
	struct sweep_setting *set;      /* the swept knobs, in set order */
	size_t nset;
};

struct sweep_list {
	struct sweep_variant *v;
	size_t n;
};

/*
 * Expands specs[0..nspecs) in order into *out (every specification
 * yields one policy, or one per point of its sets), at most `limit`
 * policies in all. Returns 0, or an exit status with err filled; *out
 * is then empty. Free with sweep_list_free.
 */
int sweep_expand(const char *const *specs, size_t nspecs, size_t limit,
		 struct sweep_list *out, struct ms_error *err);

void sweep_list_free(struct sweep_list *list);

/* The policies of a list as an array (borrowed: the list owns them). */
struct policy **sweep_policies(const struct sweep_list *list);

#endif
