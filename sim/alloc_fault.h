/*
 * alloc_fault.h - a fault-injecting wrapper around a system allocator.
 *
 * A simulated machine runs out of memory where the system allocator asks
 * the operating system for more (brk, mmap). This wrapper stands in for
 * a system allocator instance and makes chosen requests fail the way
 * alloc.h lets an allocator fail: alloc, alloc_kind, a growing resize or
 * map returns ALLOC_OOM and the wrapped instance is not called, so its
 * state does not change. Everything else is passed through. The tests
 * use it to check that every layer above (pymalloc, the runtime) turns
 * such a failure into a clear report and keeps its books straight; it is
 * not a policy of the registry.
 */
#ifndef MEMSIM_ALLOC_FAULT_H
#define MEMSIM_ALLOC_FAULT_H

#include <stdint.h>

#include "alloc.h"

/* Requests are counted from 1 (alloc, alloc_kind, resize, map calls);
 * those numbered first .. first + count - 1 fail. count 0: none. */
struct alloc_fault_plan {
	uint64_t first;
	uint64_t count;
};

/*
 * Wraps the system allocator instance *inst in place: afterwards *inst
 * is the wrapper, so every layer holding the pointer `inst` (an upper
 * allocator's `lower`) goes through it. inst->policy must have map (a
 * system allocator). The wrapper owns the original from then on: its
 * destroy destroys both; alloc_fault_unwrap gives the original back.
 */
void alloc_fault_wrap(struct alloc_inst *inst, const struct alloc_fault_plan *plan);
void alloc_fault_unwrap(struct alloc_inst *inst);

/* Requests seen and requests failed so far by the wrapper at *inst. */
uint64_t alloc_fault_requests(const struct alloc_inst *inst);
uint64_t alloc_fault_failed(const struct alloc_inst *inst);

#endif
