/*
 * alloc.c - the registry of compiled-in allocator policies.
 */
#include "alloc.h"

#include <string.h>

extern const struct alloc_policy alloc_pymalloc;
extern const struct alloc_policy alloc_ptmalloc;
extern const struct alloc_policy alloc_mimalloc;
extern const struct alloc_policy alloc_real;

const struct alloc_policy *const alloc_policies[] = {
	&alloc_pymalloc,
	&alloc_ptmalloc,
	&alloc_mimalloc,
	&alloc_real,
	NULL,
};

const struct alloc_policy *alloc_find(const char *name)
{
	for (size_t i = 0; alloc_policies[i]; i++)
		if (strcmp(alloc_policies[i]->name, name) == 0)
			return alloc_policies[i];
	return NULL;
}
