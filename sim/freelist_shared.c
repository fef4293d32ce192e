/*
 * freelist_shared.c - one free-list cache keyed by size class, shared by
 * every type.
 *
 * Not a CPython release: the design proposed in faster-cpython/ideas#89
 * ("free lists per size, not per class") and #717, and the fix that seed
 * 002 asks for (memory parked by one type blocks another, e.g. a million
 * dead Python 2 ints that floats cannot reuse). docs/freelists.md.
 *
 *  1. A typed object of 1 .. max_size bytes belongs to size class
 *     ceil(size / granularity). With types "listed" only the type names
 *     the per-type policy knows (int, float, list, dict, dictkeys, tuple,
 *     frame) take part; with "all" every typed object does. Untyped
 *     objects always go to the allocator.
 *  2. A death parks the block on its class's LIFO stack unless that would
 *     make the bytes parked in the whole cache exceed max_bytes; then the
 *     block is freed.
 *  3. A creation pops the top of its class's stack, whichever type parked
 *     it. When the parked block's size differs from the request (same
 *     class, other size) the block is resized through the allocator, so
 *     the allocator's books stay exact; pymalloc may move it.
 *  4. clear() (a full collection) empties the cache when gc_clears.
 */
#include "freelist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

enum { SH_TYPES_ALL, SH_TYPES_LISTED };

struct shared_params {
	uint64_t granularity;   /* bytes; width of a size class */
	uint64_t max_size;      /* bytes; largest object cached */
	uint64_t max_bytes;     /* bytes; bound on everything parked */
	int types;              /* SH_TYPES_* */
	int gc_clears;          /* a full collection empties the cache */
};

static const struct shared_params shared_defaults = {
	.granularity = 16,
	.max_size = 512,
	.max_bytes = 256 * 1024,
	.types = SH_TYPES_ALL,
	.gc_clears = 1,
};

static const char *const shared_type_choices[] = { "all", "listed", NULL };

#define SH_OFF(f) offsetof(struct shared_params, f)
static const struct knob shared_knobs[] = {
	{ .name = "granularity", .kind = KNOB_UINT, .offset = SH_OFF(granularity),
	  .min = 1, .max = 4096, .unit = "bytes",
	  .doc = "width of a size class (16: pymalloc's 3.8+ alignment)" },
	{ .name = "max_size", .kind = KNOB_UINT, .offset = SH_OFF(max_size),
	  .min = 1, .max = 1u << 20, .unit = "bytes",
	  .doc = "largest object kept (512: pymalloc's small-request threshold)" },
	{ .name = "max_bytes", .kind = KNOB_UINT, .offset = SH_OFF(max_bytes),
	  .min = 0, .max = UINT64_C(1) << 40, .unit = "bytes",
	  .doc = "bound on the bytes parked in the whole cache" },
	{ .name = "types", .kind = KNOB_ENUM, .offset = SH_OFF(types),
	  .choices = shared_type_choices,
	  .doc = "which typed objects use the cache: all, or the per-type policy's listed names" },
	{ .name = "gc_clears", .kind = KNOB_BOOL, .offset = SH_OFF(gc_clears),
	  .doc = "a full collection frees everything parked" },
};

static int shared_validate(const void *params, char *msg, size_t msglen)
{
	const struct shared_params *p = params;

	if (p->max_size / p->granularity > (1u << 20)) {
		snprintf(msg, msglen, "shared: max_size / granularity must be at most %u classes",
			 1u << 20);
		return -1;
	}
	return 0;
}

struct sparked {
	uint64_t addr, size;
	uint32_t type;          /* who parked it */
};

struct sstack {
	struct sparked *v;
	size_t n, cap;
};

struct stype {
	uint64_t hits, misses, blocked, held;
	int eligible;           /* -1: not yet resolved */
};

struct shared {
	struct shared_params p;
	const struct freelist_env *env;
	struct sstack *cls;     /* nclass stacks */
	size_t ncls;
	struct freelist_stats tot;      /* what stats() reports */
	struct stype *ts;
	uint32_t nts;
};

static void *shared_create(const void *params, const struct freelist_env *env)
{
	struct shared *s = xcalloc(1, sizeof *s);

	s->p = *(const struct shared_params *)params;
	s->env = env;
	s->ncls = (size_t)((s->p.max_size + s->p.granularity - 1) / s->p.granularity) + 1;
	s->cls = xcalloc(s->ncls, sizeof *s->cls);
	return s;
}

static void shared_destroy(void *state)
{
	struct shared *s = state;

	if (!s)
		return;
	for (size_t i = 0; i < s->ncls; i++)
		free(s->cls[i].v);
	free(s->cls);
	free(s->ts);
	free(s);
}

static int listed_name(const char *name)
{
	static const char *const names[] = {
		"int", "float", "list", "dict", "dictkeys", "tuple", "frame", NULL,
	};

	for (size_t i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

static struct stype *stype_of(struct shared *s, uint32_t type)
{
	if (type >= s->nts) {
		uint32_t n = type + 1 > 2 * s->nts ? type + 1 : 2 * s->nts;

		s->ts = xreallocarray(s->ts, n, sizeof *s->ts);
		for (uint32_t i = s->nts; i < n; i++)
			s->ts[i] = (struct stype){ .eligible = -1 };
		s->nts = n;
	}
	struct stype *t = &s->ts[type];

	if (t->eligible < 0) {
		const char *name = s->env && s->env->types ?
			typetab_name(s->env->types, type) : "";

		t->eligible = s->p.types == SH_TYPES_ALL || listed_name(name);
	}
	return t;
}

/* The class of a size, or -1 when the size is not cached. */
static long class_of(const struct shared *s, uint64_t size)
{
	if (size == 0 || size > s->p.max_size)
		return -1;
	return (long)((size + s->p.granularity - 1) / s->p.granularity);
}

static int shared_take(void *state, uint32_t type, uint64_t size, uint64_t *addr)
{
	struct shared *s = state;

	if (type == TYPETAB_UNTYPED)
		return 0;
	struct stype *t = stype_of(s, type);
	long c = t->eligible ? class_of(s, size) : -1;

	if (c < 0 || !s->cls[c].n) {
		t->misses++;
		s->tot.misses++;
		if (s->tot.held_bytes - t->held >= size) {
			t->blocked += size;
			s->tot.blocked_bytes += size;
		}
		return 0;
	}
	struct sparked pk = s->cls[c].v[--s->cls[c].n];

	s->tot.held_bytes -= pk.size;
	s->tot.held_blocks--;
	s->ts[pk.type].held -= pk.size;
	if (pk.size != size) {
		const struct alloc_inst *al = s->env->alloc;

		pk.addr = al->policy->resize(al->state, pk.addr, pk.size, size);
	}
	*addr = pk.addr;
	t->hits++;
	s->tot.hits++;
	return 1;
}

static int shared_give(void *state, uint32_t type, uint64_t size, uint64_t addr)
{
	struct shared *s = state;

	if (type == TYPETAB_UNTYPED)
		return 0;
	struct stype *t = stype_of(s, type);
	long c = t->eligible ? class_of(s, size) : -1;

	if (c < 0 || s->tot.held_bytes + size > s->p.max_bytes)
		return 0;
	struct sstack *st = &s->cls[c];

	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 16;
		st->v = xreallocarray(st->v, st->cap, sizeof *st->v);
	}
	st->v[st->n++] = (struct sparked){ addr, size, type };
	s->tot.held_bytes += size;
	s->tot.held_blocks++;
	t->held += size;
	if (s->tot.held_bytes > s->tot.held_peak)
		s->tot.held_peak = s->tot.held_bytes;
	return 1;
}

static void shared_clear(void *state)
{
	struct shared *s = state;
	const struct alloc_inst *al = s->env->alloc;

	if (!s->p.gc_clears)
		return;
	for (size_t c = 0; c < s->ncls; c++) {
		struct sstack *st = &s->cls[c];

		while (st->n) {
			struct sparked pk = st->v[--st->n];

			al->policy->free(al->state, pk.addr, pk.size);
			s->ts[pk.type].held -= pk.size;
		}
	}
	s->tot.held_bytes = 0;
	s->tot.held_blocks = 0;
}

static void shared_stats(void *state, struct freelist_stats *out)
{
	const struct shared *s = state;

	*out = s->tot;
}

/* Rows for every trace type with a creation or a parked block: hits,
 * misses, blocked bytes and held bytes (what that type parked and nobody
 * took yet). */
static void shared_types(void *state, void *ctx,
			 void (*row)(void *ctx, const char *type,
				     const struct freelist_type_counts *c))
{
	const struct shared *s = state;

	if (!s->env || !s->env->types)
		return;
	for (uint32_t ty = 1; ty < s->nts; ty++) {
		const struct stype *t = &s->ts[ty];
		const struct freelist_type_counts c = {
			.hits = t->hits, .misses = t->misses, .blocked = t->blocked,
			.held = t->held, .has_held = 1,
		};

		if (t->eligible < 0 || (!t->hits && !t->misses && !t->held))
			continue;
		row(ctx, typetab_name(s->env->types, ty), &c);
	}
}

const struct freelist_policy freelist_shared = {
	.name = "shared",
	.summary = "one LIFO cache per size class shared by all types, bounded in bytes",
	.knobs = shared_knobs,
	.nknobs = sizeof shared_knobs / sizeof shared_knobs[0],
	.params_size = sizeof(struct shared_params),
	.defaults = &shared_defaults,
	.validate = shared_validate,
	.create = shared_create,
	.destroy = shared_destroy,
	.take = shared_take,
	.give = shared_give,
	.clear = shared_clear,
	.stats = shared_stats,
	.types = shared_types,
};
