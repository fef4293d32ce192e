/*
 * policy.h - a complete simulated runtime configuration.
 *
 * A policy has one part per section: the object allocator ("allocator"),
 * the system allocator below it ("system"), the type free lists
 * ("freelists") and the cycle collector ("gc"). Each part names an
 * implementation (a const vtable compiled into memsim) and carries that
 * implementation's parameter struct, described by its knob table.
 *
 * Policies come from built-in presets (presets.c), from JSON files, and
 * from `PRESET:KEY=VALUE,...` derivations; all three go through the same
 * JSON reader, so a preset is exactly what `memsim policies --show`
 * prints and a file may name any preset as its `base`. docs/policies.md
 * describes the format.
 */
#ifndef MEMSIM_POLICY_H
#define MEMSIM_POLICY_H

#include <stddef.h>

#include "error.h"
#include "knob.h"
#include "strbuf.h"

enum policy_section {
	POLICY_ALLOCATOR,
	POLICY_SYSTEM,
	POLICY_FREELISTS,
	POLICY_GC,
	POLICY_SECTIONS
};

/* A generic view of one implementation of a section. */
struct policy_impl {
	const char *name;
	const char *summary;
	const struct knob *knobs;
	size_t nknobs;
	size_t params_size;
	const void *defaults;
	int (*validate)(const void *params, char *msg, size_t msglen);
	const void *vtable;     /* struct alloc_policy, gc_policy, ... */
};

struct policy_part {
	struct policy_impl impl;
	void *params;           /* impl.params_size bytes, owned */
};

struct policy {
	char *name;             /* as the user wrote it, e.g. "cpython-3.11:gc.threshold0=100" */
	char *summary;
	struct policy_part part[POLICY_SECTIONS];
};

/*
 * Resolves a policy specification: a preset name, or a path to a JSON
 * policy file (anything containing '/' or ending in ".json"), optionally
 * followed by ":KEY=VALUE[,KEY=VALUE...]" where KEY is a dotted path into
 * the JSON form (e.g. allocator.arena_size) and VALUE a JSON scalar (bare
 * words are strings). Returns 0 with *out set, or MS_EXIT_CONFIG (78) /
 * MS_EXIT_NOINPUT (66) with err filled.
 */
int policy_resolve(const char *spec, struct policy **out, struct ms_error *err);

void policy_free(struct policy *p);

/* Appends the policy's full JSON form (what --show prints). */
void policy_to_json(const struct policy *p, struct strbuf *sb);

/* Built-in presets, for `memsim policies`. */
size_t policy_preset_count(void);
const char *policy_preset_name(size_t i);
const char *policy_preset_summary(size_t i);

/* The section's JSON key ("allocator", ...). */
const char *policy_section_key(enum policy_section s);

#endif
