/*
 * knob.h - named, typed, bounded parameters of a policy.
 *
 * Every pluggable policy (allocator, free lists, collector) describes its
 * parameter struct with a const table of knobs. One generic piece of code
 * (policy.c) then reads them from JSON policy files and `-p NAME:KEY=VALUE`
 * options, checks their ranges, and prints them for `memsim policies
 * --show`, so a parameter is declared exactly once. Values arrive as
 * JSON values or, from `-p` and from strings in files, as text that
 * policy.c reads by the knob's kind: KNOB_UINT in units.h's syntax
 * (700, 64K, 0x1000; K = 1024), KNOB_DOUBLE as a whole strtod number,
 * KNOB_BOOL as true/false; anything else, trailing text included, is an
 * error naming the knob, never a partial reading.
 */
#ifndef MEMSIM_KNOB_H
#define MEMSIM_KNOB_H

#include <stddef.h>
#include <stdint.h>

enum knob_kind {
	KNOB_UINT,      /* uint64_t within [min, max] */
	KNOB_BOOL,      /* int, 0 or 1; JSON true/false */
	KNOB_ENUM,      /* int index into choices; JSON string */
	KNOB_DOUBLE,    /* double within [min, max] (as doubles) */
	KNOB_STRING,    /* char array of `max` bytes (NUL included); JSON
	                 * string; a policy parses its contents (e.g. a
	                 * comma-separated list of type names) in validate() */
};

struct knob {
	const char *name;               /* JSON key */
	enum knob_kind kind;
	size_t offset;                  /* offsetof(params struct, field) */
	uint64_t min, max;              /* KNOB_UINT and KNOB_DOUBLE bounds */
	const char *const *choices;     /* KNOB_ENUM, NULL-terminated */
	const char *unit;               /* "bytes", "objects", "ns", or NULL */
	const char *doc;                /* one line, for --show and docs */
};

/* Typed access to a knob's field inside a params struct. */
static inline uint64_t *knob_uint(void *params, const struct knob *k)
{
	return (uint64_t *)(void *)((char *)params + k->offset);
}

static inline int *knob_int(void *params, const struct knob *k)
{
	return (int *)(void *)((char *)params + k->offset);
}

static inline double *knob_double(void *params, const struct knob *k)
{
	return (double *)(void *)((char *)params + k->offset);
}

static inline char *knob_str(void *params, const struct knob *k)
{
	return (char *)params + k->offset;
}

#endif
