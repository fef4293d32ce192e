/*
 * alloc_fault.c - a fault-injecting wrapper around a system allocator
 * (alloc_fault.h).
 *
 * The wrapper's state holds the wrapped instance and the plan; each
 * request that can fail (alloc, alloc_kind, resize to a bigger size, map)
 * is counted, and those the plan names return ALLOC_OOM without reaching
 * the wrapped instance, which is how alloc.h says a failure must look:
 * nothing changed below. A resize that does not grow the block is not
 * counted and never fails: the tests inject failures where memory is
 * asked for. Everything else is forwarded.
 */
#include "alloc_fault.h"

#include <stdlib.h>

#include "xalloc.h"

struct fault {
	struct alloc_inst inner;        /* the wrapped instance */
	struct alloc_fault_plan plan;
	uint64_t requests, failed;
};

/* Counts a request; 1 when the plan makes it fail. */
static int fault_fails(struct fault *f)
{
	uint64_t n = ++f->requests;

	if (f->plan.count && n >= f->plan.first && n - f->plan.first < f->plan.count) {
		f->failed++;
		return 1;
	}
	return 0;
}

/* The wrapper owns the wrapped instance from alloc_fault_wrap on. */
static void fault_destroy(void *state)
{
	struct fault *f = state;

	f->inner.policy->destroy(f->inner.state);
	free(f);
}

static uint64_t fault_alloc(void *state, uint64_t size)
{
	struct fault *f = state;

	if (fault_fails(f))
		return ALLOC_OOM;
	return f->inner.policy->alloc(f->inner.state, size);
}

static uint64_t fault_alloc_kind(void *state, uint64_t size, int kind)
{
	struct fault *f = state;
	const struct alloc_policy *p = f->inner.policy;

	if (fault_fails(f))
		return ALLOC_OOM;
	return p->alloc_kind ? p->alloc_kind(f->inner.state, size, kind)
			     : p->alloc(f->inner.state, size);
}

static uint64_t fault_resize(void *state, uint64_t addr, uint64_t old_size,
			     uint64_t new_size)
{
	struct fault *f = state;

	if (new_size > old_size && fault_fails(f))
		return ALLOC_OOM;
	return f->inner.policy->resize(f->inner.state, addr, old_size, new_size);
}

static void fault_free(void *state, uint64_t addr, uint64_t size)
{
	struct fault *f = state;

	f->inner.policy->free(f->inner.state, addr, size);
}

static uint64_t fault_block_size(void *state, uint64_t size)
{
	struct fault *f = state;

	return f->inner.policy->block_size(f->inner.state, size);
}

static void fault_stats(void *state, struct alloc_stats *out)
{
	struct fault *f = state;

	f->inner.policy->stats(f->inner.state, out);
}

static void fault_details(void *state, const struct alloc_sink *sink)
{
	struct fault *f = state;

	if (f->inner.policy->details)
		f->inner.policy->details(f->inner.state, sink);
}

static int fault_check(void *state, char *msg, size_t msglen)
{
	struct fault *f = state;

	return f->inner.policy->check ? f->inner.policy->check(f->inner.state, msg, msglen) : 0;
}

static void fault_tick(void *state, uint64_t event, uint64_t time_ns, int timed)
{
	struct fault *f = state;

	if (f->inner.policy->tick)
		f->inner.policy->tick(f->inner.state, event, time_ns, timed);
}

static uint64_t fault_map(void *state, uint64_t bytes)
{
	struct fault *f = state;

	if (fault_fails(f))
		return ALLOC_OOM;
	return f->inner.policy->map(f->inner.state, bytes);
}

static void fault_unmap(void *state, uint64_t addr, uint64_t bytes)
{
	struct fault *f = state;

	f->inner.policy->unmap(f->inner.state, addr, bytes);
}

/* Not in the registry (alloc.c): only alloc_fault_wrap creates one. */
static const struct alloc_policy alloc_fault = {
	.name = "fault",
	.summary = "fault-injecting wrapper of a system allocator (tests)",
	.destroy = fault_destroy,
	.alloc = fault_alloc,
	.alloc_kind = fault_alloc_kind,
	.resize = fault_resize,
	.free = fault_free,
	.block_size = fault_block_size,
	.stats = fault_stats,
	.details = fault_details,
	.check = fault_check,
	.tick = fault_tick,
	.map = fault_map,
	.unmap = fault_unmap,
};

void alloc_fault_wrap(struct alloc_inst *inst, const struct alloc_fault_plan *plan)
{
	struct fault *f = xcalloc(1, sizeof *f);

	f->inner = *inst;
	f->plan = *plan;
	inst->policy = &alloc_fault;
	inst->state = f;
}

void alloc_fault_unwrap(struct alloc_inst *inst)
{
	struct fault *f = inst->state;

	if (inst->policy != &alloc_fault)
		return;
	*inst = f->inner;
	free(f);
}

uint64_t alloc_fault_requests(const struct alloc_inst *inst)
{
	const struct fault *f = inst->state;

	return inst->policy == &alloc_fault ? f->requests : 0;
}

uint64_t alloc_fault_failed(const struct alloc_inst *inst)
{
	const struct fault *f = inst->state;

	return inst->policy == &alloc_fault ? f->failed : 0;
}
