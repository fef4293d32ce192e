/*
 * gc.c - the registry of compiled-in collector policies.
 */
#include "gc.h"

#include <stdio.h>
#include <string.h>

const struct gc_policy *const gc_policies[] = {
	&gc_none,
	&gc_generational,
	&gc_incremental,
	&gc_freethreaded,
	NULL,
};

const struct gc_policy *gc_find(const char *name)
{
	for (size_t i = 0; gc_policies[i]; i++)
		if (strcmp(gc_policies[i]->name, name) == 0)
			return gc_policies[i];
	return NULL;
}

size_t gc_spaces_from_stats(const struct gc_stats *st, const char *const *names,
			    struct gc_space *out, size_t max)
{
	for (uint32_t i = 0; i < st->generations && i < max; i++) {
		memset(&out[i], 0, sizeof out[i]);
		if (names)
			snprintf(out[i].name, sizeof out[i].name, "%s", names[i]);
		else
			snprintf(out[i].name, sizeof out[i].name, "%u", i);
		out[i].collections = st->collections[i];
		out[i].collected = st->collected[i];
		out[i].count = st->count[i];
	}
	return st->generations;
}
