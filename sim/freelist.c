/*
 * freelist.c - the registry of compiled-in free-list policies.
 *
 * The models live one per file (freelist_pertype.c, freelist_shared.c,
 * freelist_none.c); docs/freelists.md describes them and their sources.
 */
#include "freelist.h"

#include <string.h>

extern const struct freelist_policy freelist_pertype;
extern const struct freelist_policy freelist_shared;
extern const struct freelist_policy freelist_none;

const struct freelist_policy *const freelist_policies[] = {
	&freelist_pertype,
	&freelist_shared,
	&freelist_none,
	NULL,
};

const struct freelist_policy *freelist_find(const char *name)
{
	for (size_t i = 0; freelist_policies[i]; i++)
		if (strcmp(freelist_policies[i]->name, name) == 0)
			return freelist_policies[i];
	return NULL;
}
