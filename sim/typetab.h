/*
 * typetab.h - interned type names.
 *
 * Trace lines name object types (`a 7 56 list`); the simulator works with
 * small integers instead. Index 0 is the untyped object (no TYPE field);
 * names get 1, 2, ... in order of first appearance, so the numbering is
 * deterministic for a given trace. The table only grows.
 */
#ifndef MEMSIM_TYPETAB_H
#define MEMSIM_TYPETAB_H

#include <stddef.h>
#include <stdint.h>

#define TYPETAB_UNTYPED 0u
#define TYPETAB_NAME_MAX 63     /* characters, as in the trace format */

struct typetab;

struct typetab *typetab_create(void);
void typetab_destroy(struct typetab *t);

/* 1 when s[0, n) is a TYPE of docs/trace-format.md: [A-Za-z_][A-Za-z0-9_.]*,
 * 1 to TYPETAB_NAME_MAX characters; else 0. */
int typetab_name_ok(const char *s, size_t n);

/* 1 when s[0, n) has the TYPE syntax whatever its length (n >= 1), so
 * that a name that is only too long can be told from a malformed one. */
int typetab_syntax_ok(const char *s, size_t n);

/* Returns the index of the name (len bytes, not NUL-terminated), adding
 * it when new. The caller has already checked the name's syntax. */
uint32_t typetab_intern(struct typetab *t, const char *name, size_t len);

/* Returns the index of a NUL-terminated name, or UINT32_MAX if absent. */
uint32_t typetab_find(const struct typetab *t, const char *name);

/* Name of an index; "" for TYPETAB_UNTYPED. */
const char *typetab_name(const struct typetab *t, uint32_t index);

/* Number of indices in use, counting the untyped one. */
uint32_t typetab_count(const struct typetab *t);

#endif
