/*
 * freelist.c - the registry of compiled-in free-list policies.
 *
 * The models live one per file (freelist_pertype.c, freelist_shared.c,
 * freelist_none.c); docs/freelists.md describes them and their sources.
 */
#include "freelist.h"

#include <stdio.h>
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

void freelist_type_counters(const struct alloc_sink *sink, const char *name,
			    const struct freelist_type_counts *c)
{
	char key[TYPETAB_NAME_MAX + 24];

	snprintf(key, sizeof key, "hits.%s", name);
	sink->counter(sink->ctx, key, c->hits);
	snprintf(key, sizeof key, "misses.%s", name);
	sink->counter(sink->ctx, key, c->misses);
	snprintf(key, sizeof key, "blocked_bytes.%s", name);
	sink->counter(sink->ctx, key, c->blocked);
	if (c->has_held) {
		snprintf(key, sizeof key, "held_bytes.%s", name);
		sink->counter(sink->ctx, key, c->held);
	}
}
