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
#include <stdint.h>

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
	uint64_t chosen;        /* bit i: knob i (of impl.knobs, i < 64) was
	                         * set by the user, in a policy file or a
	                         * KEY=VALUE, not by a built-in preset */
};

struct policy {
	char *name;             /* as the user wrote it, e.g. "cpython-3.11:gc.threshold0=100" */
	char *summary;
	struct policy_part part[POLICY_SECTIONS];
};

/*
 * A policy specification, parsed (docs/policies.md, "Derivations"):
 *   BASE[:KEY=VALUE[:KEY=VALUE...]]    (',' separates as well as ':')
 * BASE is a preset name or a path to a JSON policy file (anything
 * containing '/' or ending in ".json"); KEY a dotted path SECTION.KNOB
 * into the JSON form (allocator.arena_size); VALUE a bare word up to the
 * next ':' or ',', a JSON string literal ("int,float", for text holding
 * those characters), or a sweep set {...} (sweep.h expands sets; a
 * single policy rejects them).
 */
struct policy_override {
	char *key;              /* "section.knob" */
	char *value;            /* the text; a quoted value decoded; a set with its braces */
	int quoted;             /* VALUE was a "..." literal */
	int set;                /* VALUE is a sweep set */
	size_t at, len;         /* KEY=VALUE's place in the spec, as written */
};

struct policy_spec {
	char *base;
	struct policy_override *ov;
	size_t n;
};

/* Parses spec into out (free with policy_spec_free, also after an
 * error). Returns 0 or MS_EXIT_CONFIG with err filled. */
int policy_spec_parse(const char *spec, struct policy_spec *out, struct ms_error *err);
void policy_spec_free(struct policy_spec *s);

/* Decodes the JSON string literal [a, b) into a new string, or NULL when
 * it is not exactly one. */
char *policy_unquote(const char *a, const char *b);

/*
 * Resolves a specification into one policy named `spec`. Every VALUE is
 * read by its knob's kind: whole numbers in units.h's syntax (4096, 64K,
 * 0x1000), numbers, true/false, a choice's name, text. Returns 0 with
 * *out set, or MS_EXIT_CONFIG (78) / MS_EXIT_NOINPUT (66) with err
 * filled.
 */
int policy_resolve(const char *spec, struct policy **out, struct ms_error *err);

/*
 * The value of knob `key` ("section.knob", or "section.policy" / "mode"
 * for the implementation) in p, as text: whole numbers in decimal,
 * numbers in the shortest form that reads back exactly, true/false, a
 * choice's name, text as is. Returns 0, or -1 when p has no such knob.
 */
int policy_knob_text(const struct policy *p, const char *key, struct strbuf *out);

struct cJSON;

/* The parsed JSON document of a base (a preset's or a policy file's);
 * the caller cJSON_Delete()s it. 0, or 78 / 66 / 74 with err filled. */
int policy_load_doc(const char *base, struct cJSON **out, struct ms_error *err);

/*
 * The policy a base document describes (`origin` names it in errors),
 * with ov[0..n) applied in order (none may be a set), validated and
 * named `name`. Returns 0 with *out set, or an exit status with err
 * filled.
 */
int policy_from_doc(const struct cJSON *doc, const char *origin,
		    const struct policy_override *ov, size_t n, const char *name,
		    struct policy **out, struct ms_error *err);

void policy_free(struct policy *p);

/* A copy of P (same name, same knobs, same record of what the user
 * chose). Free with policy_free. */
struct policy *policy_copy(const struct policy *p);

/* Whether the user chose knob `key` ("section.knob") of p (struct
 * policy_part's `chosen`): 1 if so, 0 if it has its preset's or default
 * value, -1 if p has no such knob. */
int policy_knob_chosen(const struct policy *p, const char *key);

/* Sets knob `key` ("section.knob") of *pp to VALUE as a KEY=VALUE of a
 * derivation would (so it counts as chosen), and validates the result.
 * 0, or 78 with err filled (*pp may then be half changed: give it a
 * copy and free that). */
int policy_set(struct policy **pp, const char *key, const char *value,
	       struct ms_error *err);

/* A copy of P (same name) whose section S is the implementation named
 * IMPL at its defaults (e.g. freelists "none"); NULL if there is no such
 * implementation. Free with policy_free. */
struct policy *policy_with_section(const struct policy *p, enum policy_section s,
				   const char *impl_name);

/* Appends the policy's full JSON form (what --show prints). */
void policy_to_json(const struct policy *p, struct strbuf *sb);

/* Built-in presets, for `memsim policies`. */
size_t policy_preset_count(void);
const char *policy_preset_name(size_t i);
const char *policy_preset_summary(size_t i);

/* The section's JSON key ("allocator", ...). */
const char *policy_section_key(enum policy_section s);

#endif
