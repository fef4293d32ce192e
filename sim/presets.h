/*
 * presets.h - the built-in policies, as JSON documents.
 *
 * Each preset is the JSON form of a policy (docs/policies.md), usually a
 * small difference from an older preset named as its "base", so the
 * history of CPython's memory policies reads as a chain of diffs.
 */
#ifndef MEMSIM_PRESETS_H
#define MEMSIM_PRESETS_H

#include <stddef.h>

/* The JSON text of a preset, or NULL. */
const char *presets_find(const char *name);
size_t presets_count(void);
const char *presets_name(size_t i);
const char *presets_summary(size_t i);

#endif
