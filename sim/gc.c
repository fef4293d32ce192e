/*
 * gc.c - the registry of compiled-in collector policies.
 */
#include "gc.h"

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
