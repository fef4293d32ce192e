/*
 * freelist_none.c - no free lists: every death goes to the allocator.
 *
 * The baseline the other policies are compared with. Nothing is parked, so
 * held_bytes stays 0; every creation of a typed object counts as a miss
 * (it takes memory from the allocator), untyped ones are not counted.
 * blocked_bytes stays 0 because no cache ever holds anything.
 */
#include "freelist.h"

#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

struct none_params {
	int unused;     /* the policy has no knobs */
};

static const struct none_params none_defaults = { 0 };

struct none_state {
	const struct freelist_env *env;
	uint64_t misses;
	uint64_t *type_misses;  /* per trace type index */
	uint32_t ntypes;
};

static void *none_create(const void *params, const struct freelist_env *env)
{
	struct none_state *s = xcalloc(1, sizeof *s);

	(void)params;
	s->env = env;
	return s;
}

static void none_destroy(void *state)
{
	struct none_state *s = state;

	if (!s)
		return;
	free(s->type_misses);
	free(s);
}

static int none_take(void *state, uint32_t type, uint64_t size, uint64_t *addr)
{
	struct none_state *s = state;

	(void)size;
	(void)addr;
	if (type == TYPETAB_UNTYPED)
		return 0;
	if (type >= s->ntypes) {
		uint32_t n = type + 1 > 2 * s->ntypes ? type + 1 : 2 * s->ntypes;

		s->type_misses = xreallocarray(s->type_misses, n, sizeof *s->type_misses);
		for (uint32_t i = s->ntypes; i < n; i++)
			s->type_misses[i] = 0;
		s->ntypes = n;
	}
	s->type_misses[type]++;
	s->misses++;
	return 0;
}

static int none_give(void *state, uint32_t type, uint64_t size, uint64_t addr)
{
	(void)state;
	(void)type;
	(void)size;
	(void)addr;
	return 0;
}

static void none_clear(void *state)
{
	(void)state;
}

static void none_stats(void *state, struct freelist_stats *out)
{
	const struct none_state *s = state;

	*out = (struct freelist_stats){ .misses = s->misses };
}

/* A row for every trace type that had a creation: its misses. */
static void none_types(void *state, void *ctx,
		       void (*row)(void *ctx, const char *type,
				   const struct freelist_type_counts *c))
{
	const struct none_state *s = state;

	if (!s->env || !s->env->types)
		return;
	for (uint32_t t = 1; t < s->ntypes; t++) {
		const struct freelist_type_counts c = { .misses = s->type_misses[t] };

		if (!s->type_misses[t])
			continue;
		row(ctx, typetab_name(s->env->types, t), &c);
	}
}

const struct freelist_policy freelist_none = {
	.name = "none",
	.summary = "no type free lists: every death is freed, every creation allocated",
	.knobs = NULL,
	.nknobs = 0,
	.params_size = sizeof(struct none_params),
	.defaults = &none_defaults,
	.create = none_create,
	.destroy = none_destroy,
	.take = none_take,
	.give = none_give,
	.clear = none_clear,
	.stats = none_stats,
	.types = none_types,
};
