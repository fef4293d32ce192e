/*
 * gc_none.c - no cycle collector: reference counting only.
 *
 * What CPython does with gc.disable() (or what a runtime without a cycle
 * collector does): objects die when their reference count reaches zero
 * (the heap does that), and cycles unreachable from the roots stay
 * allocated until the end. `c` is accepted and does nothing, like
 * gc.collect() would not exist. No pauses are recorded; the statistics
 * report zero generations and an MMU of 1.
 */
#include "gc.h"

#include <stdlib.h>

#include "pause.h"
#include "xalloc.h"

struct none_params {
	double mutator_ns_per_event;    /* ns */
};

static const struct knob none_knobs[] = {
	{ .name = "mutator_ns_per_event", .kind = KNOB_DOUBLE,
	  .offset = offsetof(struct none_params, mutator_ns_per_event),
	  .min = 0, .max = 1000000000, .unit = "ns",
	  .doc = "mutator time per trace event when the trace has no `@` times" },
};

static const struct none_params none_defaults = {
	.mutator_ns_per_event = 50.0,
};

struct none_state {
	struct none_params p;
	struct gc_env env;
};

static int none_validate(const void *params, char *msg, size_t msglen)
{
	(void)params; (void)msg; (void)msglen;
	return 0;
}

static void *none_create(const void *params, const struct gc_env *env)
{
	struct none_state *s = xcalloc(1, sizeof *s);

	s->p = *(const struct none_params *)params;
	s->env = *env;
	return s;
}

static void none_destroy(void *state)
{
	free(state);
}

static void none_on_alloc(void *state, uint32_t slot, int from_allocator)
{
	(void)state; (void)slot; (void)from_allocator;
}

static void none_on_free(void *state, uint32_t slot, int to_allocator)
{
	(void)state; (void)slot; (void)to_allocator;
}

static void none_safepoint(void *state)
{
	(void)state;
}

static int none_collect(void *state, uint64_t gen, struct ms_error *err)
{
	(void)state; (void)gen; (void)err;
	return 0;
}

static void none_stats(void *state, struct gc_stats *out)
{
	struct none_state *s = state;
	const struct gc_clock *c = s->env.clock;
	struct pause_log empty;
	uint64_t mutator = 0;

	if (c)
		mutator = c->timed ? c->time_ns
			: (uint64_t)((double)c->event * s->p.mutator_ns_per_event + 0.5);
	*out = (struct gc_stats){0};
	pause_log_init(&empty);
	pause_summary(&empty, mutator, out);
}

static const struct gc_pause *none_pauses(void *state, size_t *n)
{
	(void)state;
	*n = 0;
	return NULL;
}

static int none_check(void *state, char *msg, size_t msglen)
{
	(void)state; (void)msg; (void)msglen;
	return 0;
}

const struct gc_policy gc_none = {
	.name = "none",
	.summary = "reference counting only; cycles are never freed",
	.knobs = none_knobs,
	.nknobs = sizeof none_knobs / sizeof none_knobs[0],
	.params_size = sizeof(struct none_params),
	.defaults = &none_defaults,
	.validate = none_validate,
	.create = none_create,
	.destroy = none_destroy,
	.on_alloc = none_on_alloc,
	.on_free = none_on_free,
	.safepoint = none_safepoint,
	.collect = none_collect,
	.stats = none_stats,
	.pauses = none_pauses,
	.check = none_check,
};
