/*
 * runtime.c - one policy instance fed by a trace (see runtime.h).
 */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#include "freelist.h"
#include "gc.h"
#include "heap.h"
#include "xalloc.h"

struct runtime {
	const struct policy *policy;
	const struct typetab *types;
	struct heap *heap;
	struct alloc_inst sys;          /* the system allocator */
	struct alloc_inst top;          /* what objects are served from */
	int top_is_sys;
	const struct freelist_policy *fl;
	struct freelist_env fenv;       /* borrowed by the free-list instance */
	void *fl_state;
	const struct gc_policy *gc;
	void *gc_state;
	struct gc_clock clock;
	/* The allocator layer's per-object state, a heap side array: the
	 * block's address, and RT_CACHED when a free list served it. */
	uint64_t *blocks;
	int served_by_allocator;        /* how the object being born was served */
	uint64_t oom_size;              /* a request no allocator could serve */
	int oom;                        /* (alloc.h ALLOC_OOM): the run stops */
	int alloc_dirty;                /* the allocators were called since the
	                                 * last measure(): their totals moved */

	uint64_t events;                /* events fed so far */
	uint64_t now, last_time;        /* trace time (ns) */
	int has_time;

	struct stats_peak peak_rss, peak_footprint, peak_allocated, peak_live;
	struct stats_peak peak_objects;
	struct stats_frag frag_events;  /* steps of one event */
	struct stats_frag frag_time;    /* steps of trace nanoseconds */
	struct alloc_stats last;        /* allocator statistics after the last event */
	struct freelist_stats fl_last;  /* free-list statistics at the end */

	/* Pools in use per arena at the peak footprint (arena allocators
	 * only): re-captured at each new peak, which happens at most once per
	 * event that grows the footprint, at O(arenas) each. */
	uint32_t *occ_in_use, *occ_usable;
	size_t occ_n, occ_cap;
};

/* runtime.blocks: the block came from a free list, which may own it
 * outright (Python 2's int and float blocks). Simulated addresses are
 * below 2^63 (alloc.h). */
#define RT_CACHED (UINT64_C(1) << 63)
#define RT_ADDR (RT_CACHED - 1)

/* A block for object o from the top allocator, which hears the
 * request's kind when it keeps kinds apart (the free-threaded build's
 * mimalloc heaps): untyped blocks are PyMem memory, typed objects go by
 * how the collector sees their type. */
static uint64_t alloc_block(struct runtime *rt, uint32_t type, uint64_t size)
{
	const struct alloc_policy *ap = rt->top.policy;
	int kind = ALLOC_KIND_MEM;

	if (!ap->alloc_kind)
		return ap->alloc(rt->top.state, size);
	if (type != TYPETAB_UNTYPED) {
		int sees = rt->gc->sees ? rt->gc->sees(rt->gc_state, type) : GC_SEES_NOT;
		kind = sees == GC_SEES_BUILTIN ? ALLOC_KIND_GC
		     : sees == GC_SEES_OTHER ? ALLOC_KIND_GC_PRE : ALLOC_KIND_OBJECT;
	}
	return ap->alloc_kind(rt->top.state, size, kind);
}

/* The allocators could not serve `size` bytes: runtime_apply reports it
 * after the event (a hook cannot fail), and the run stops there, so no
 * layer above the allocator has to undo its part of the event. */
static void note_oom(struct runtime *rt, uint64_t size)
{
	if (!rt->oom)
		rt->oom_size = size;
	rt->oom = 1;
}

static void on_alloc(void *ctx, struct heap *h, uint32_t slot)
{
	struct runtime *rt = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	uint32_t type = heap_obj_type(o);
	uint64_t size = heap_obj_size(h, o), addr;

	rt->alloc_dirty = 1;
	if (rt->fl->take(rt->fl_state, type, size, &addr)) {
		if (addr == ALLOC_OOM)
			note_oom(rt, size);
		rt->blocks[slot] = addr | RT_CACHED;
		rt->served_by_allocator = 0;
		return;
	}
	addr = alloc_block(rt, type, size);
	if (addr == ALLOC_OOM)
		note_oom(rt, size);
	rt->blocks[slot] = addr;
	rt->served_by_allocator = 1;
}

/* A dying object's block goes to a free list if one takes it, else back
 * to the allocator; the collector hears which (gen 0's count moves only
 * on allocator traffic). */
static void on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct runtime *rt = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	uint64_t size = heap_obj_size(h, o), addr = rt->blocks[slot] & RT_ADDR;
	int parked = rt->fl->give(rt->fl_state, heap_obj_type(o), size, addr);

	rt->alloc_dirty = 1;
	if (!parked)
		rt->top.policy->free(rt->top.state, addr, size);
	rt->gc->on_free(rt->gc_state, slot, !parked);
}

/* The heap's hint (the block side array's `dying`): the object's block
 * may soon be freed or resized, so the top allocator may start loading
 * what that will read. A block a free list owns is skipped; one that goes
 * to a free list is prefetched in vain. */
static void prefetch_block(void *ctx, uint32_t slot)
{
	const struct runtime *rt = ctx;
	uint64_t b = rt->blocks[slot];

	if (!(b & RT_CACHED))
		rt->top.policy->prefetch(rt->top.state, b,
					 heap_obj_size(rt->heap, heap_obj(rt->heap, slot)));
}

static void clear_freelists(void *ctx)
{
	struct runtime *rt = ctx;

	rt->alloc_dirty = 1;
	rt->fl->clear(rt->fl_state);
}

static void on_ref(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int delta)
{
	struct runtime *rt = ctx;

	(void)h;
	rt->gc->on_ref(rt->gc_state, src, dst, delta);
}

static void on_resize(void *ctx, struct heap *h, uint32_t slot, uint64_t old_size)
{
	struct runtime *rt = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	uint64_t size = heap_obj_size(h, o), b = rt->blocks[slot];

	rt->alloc_dirty = 1;
	if ((b & RT_CACHED) && rt->fl->owns && !rt->fl->owns(rt->fl_state, b & RT_ADDR)) {
		b &= RT_ADDR;                   /* an ordinary block now */
		rt->blocks[slot] = b;
	}
	if (b & RT_CACHED) {
		/* A cached block may belong to the free list itself: move the
		 * object to a fresh allocator block and hand the old one back. */
		uint64_t old = b & RT_ADDR, n = alloc_block(rt, heap_obj_type(o), size);

		if (n == ALLOC_OOM) {
			note_oom(rt, size);     /* the object keeps its block */
			return;
		}
		rt->blocks[slot] = n;
		if (!rt->fl->give(rt->fl_state, heap_obj_type(o), old_size, old))
			rt->top.policy->free(rt->top.state, old, old_size);
		return;
	}
	uint64_t n = rt->top.policy->resize(rt->top.state, b, old_size, size);

	if (n == ALLOC_OOM)
		note_oom(rt, size);     /* the block stays (alloc.h) */
	else
		rt->blocks[slot] = n;
}

struct runtime *runtime_create(const struct policy *p, const struct typetab *types)
{
	struct runtime *rt = xcalloc(1, sizeof *rt);
	const struct alloc_policy *ap = p->part[POLICY_ALLOCATOR].impl.vtable;
	const struct alloc_policy *sp = p->part[POLICY_SYSTEM].impl.vtable;
	struct heap_hooks hooks = {
		.ctx = rt, .on_alloc = on_alloc, .on_free = on_free,
		.on_resize = on_resize,
	};
	struct gc_env env;

	rt->policy = p;
	rt->types = types;
	rt->alloc_dirty = 1;            /* the first measure() reads them */
	if (ap->map) {
		/* A system allocator at the top is the whole stack (PYTHONMALLOC=malloc). */
		rt->sys.policy = ap;
		rt->sys.state = ap->create(p->part[POLICY_ALLOCATOR].params, NULL);
		rt->top = rt->sys;
		rt->top_is_sys = 1;
	} else {
		rt->sys.policy = sp;
		rt->sys.state = sp->create(p->part[POLICY_SYSTEM].params, NULL);
		rt->top.policy = ap;
		rt->top.state = ap->create(p->part[POLICY_ALLOCATOR].params, &rt->sys);
	}
	rt->fenv = (struct freelist_env){ .types = types, .alloc = &rt->top, .sys = &rt->sys };
	rt->fl = p->part[POLICY_FREELISTS].impl.vtable;
	rt->fl_state = rt->fl->create(p->part[POLICY_FREELISTS].params, &rt->fenv);
	rt->gc = p->part[POLICY_GC].impl.vtable;
	if (rt->gc->on_ref)
		hooks.on_ref = on_ref;
	rt->heap = heap_create(&hooks);
	heap_side_add(rt->heap, sizeof *rt->blocks, (void **)&rt->blocks,
		      rt->top.policy->prefetch ? prefetch_block : NULL, rt);
	env = (struct gc_env){
		.heap = rt->heap, .types = types, .clock = &rt->clock, .ctx = rt,
		.clear_freelists = clear_freelists,
	};
	rt->gc_state = rt->gc->create(p->part[POLICY_GC].params, &env);
	return rt;
}

void runtime_destroy(struct runtime *rt)
{
	if (!rt)
		return;
	rt->gc->destroy(rt->gc_state);
	rt->fl->destroy(rt->fl_state);
	heap_destroy(rt->heap);
	if (!rt->top_is_sys)
		rt->top.policy->destroy(rt->top.state);
	rt->sys.policy->destroy(rt->sys.state);
	free(rt->occ_in_use);
	free(rt->occ_usable);
	free(rt);
}

static void capture_occupancy(struct runtime *rt)
{
	const struct alloc_policy *ap = rt->top.policy;
	size_t n = ap->occupancy(rt->top.state, NULL, NULL, 0);

	if (n > rt->occ_cap) {
		rt->occ_cap = n + n / 2;
		rt->occ_in_use = xreallocarray(rt->occ_in_use, rt->occ_cap,
					       sizeof *rt->occ_in_use);
		rt->occ_usable = xreallocarray(rt->occ_usable, rt->occ_cap,
					       sizeof *rt->occ_usable);
	}
	rt->occ_n = ap->occupancy(rt->top.state, rt->occ_in_use, rt->occ_usable, n);
}

/*
 * Measures after each event: every peak is exact, whenever it happens.
 * The allocators' totals move only when one of them was called (through
 * the heap's hooks or a free-list clear), so they are read only then; most
 * reference events call nothing. The last totals stand for the events in
 * between, which is what the fragmentation integral needs.
 */
static void measure(struct runtime *rt)
{
	struct alloc_stats *s = &rt->last;
	uint64_t live = heap_live_bytes(rt->heap);

	if (rt->alloc_dirty) {
		rt->alloc_dirty = 0;
		rt->top.policy->stats(rt->top.state, s);
		if (s->footprint > rt->peak_footprint.value && rt->top.policy->occupancy)
			capture_occupancy(rt);
		stats_peak_note(&rt->peak_rss, s->rss, rt->events);
		stats_peak_note(&rt->peak_footprint, s->footprint, rt->events);
		stats_peak_note(&rt->peak_allocated, s->allocated, rt->events);
	}
	stats_peak_note(&rt->peak_live, live, rt->events);
	stats_peak_note(&rt->peak_objects, heap_live_objects(rt->heap), rt->events);
	stats_frag_step(&rt->frag_events, live, s->footprint, 1.0);
}

/* A failure outside the model (alloc.h, fault) as the run's error. */
static int alloc_fault(const struct runtime *rt, struct ms_error *err)
{
	char msg[sizeof err->msg];
	int code = rt->top.policy->fault(rt->top.state, msg, sizeof msg);

	return code ? ms_error_set(err, code, "%s", msg) : 0;
}

static void advance_time(struct runtime *rt, uint64_t t)
{
	/* The state since the previous `@` lasted t - last_time ns. */
	stats_frag_step(&rt->frag_time, heap_live_bytes(rt->heap),
			rt->last.footprint, (double)(t - rt->last_time));
	rt->last_time = t;
	rt->now = t;
	rt->has_time = 1;
	rt->clock.time_ns = t;
	rt->clock.timed = 1;
}

int runtime_apply(struct runtime *rt, const struct event *ev,
		  struct ms_error *err)
{
	/* Version-2 annotations (k, m, g, h, e) change no state and are no
	 * step of the event clock (docs/trace-format.md), so annotating a
	 * trace leaves its results as they were; the frees inside `g` ...
	 * `g` are ordinary frees. */
	if (ev->kind >= EVENT_KIND_V1_COUNT)
		return 0;
	rt->clock.event = rt->events++;
	if (rt->top.policy->tick)
		rt->top.policy->tick(rt->top.state, rt->clock.event, rt->clock.time_ns,
				     rt->clock.timed);
	switch (ev->kind) {
	case EVENT_ALLOC:
		/* The collector hears of a birth last, once the heap is done
		 * with the event: it may collect (and free) right away. */
		if (heap_apply(rt->heap, ev, err) != 0)
			return err->code;
		rt->gc->on_alloc(rt->gc_state, heap_lookup(rt->heap, ev->id),
				 rt->served_by_allocator);
		break;
	case EVENT_FREE:
	case EVENT_RESIZE:
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		if (heap_apply(rt->heap, ev, err) != 0)
			return err->code;
		break;
	case EVENT_TIME:
		advance_time(rt, ev->u.time);
		break;
	case EVENT_COLLECT:
		if (rt->gc->collect(rt->gc_state, ev->u.gen, err) != 0)
			return err->code;
		break;
	case EVENT_SAFEPOINT:
		rt->gc->safepoint(rt->gc_state);
		break;
	default:        /* the annotations, which returned above */
		break;
	}
	if (rt->oom)
		return ms_error_set(err, MS_EXIT_FAIL,
				    "simulated out of memory under policy %s: its allocators could not serve a request of %llu bytes (the simulated memory is exhausted)",
				    rt->policy->name, (unsigned long long)rt->oom_size);
	measure(rt);
	if (rt->top.policy->fault)
		return alloc_fault(rt, err);
	return 0;
}

void runtime_prefetch(const struct runtime *rt, const struct event *ev,
		      int stage)
{
	heap_prefetch(rt->heap, ev, (enum heap_pf_stage)stage);
}

int runtime_measured(const struct runtime *rt)
{
	return rt->top.policy->sync != NULL;
}

void runtime_sync(struct runtime *rt)
{
	const struct alloc_policy *ap = rt->top.policy;

	if (!ap->sync)
		return;
	ap->sync(rt->top.state, 0);
	ap->stats(rt->top.state, &rt->last);
	stats_peak_note(&rt->peak_rss, rt->last.rss, rt->events);
	stats_peak_note(&rt->peak_footprint, rt->last.footprint, rt->events);
}

/* A measuring policy's own peaks replace those read after each event
 * (theirs are at least as high and as exact as it can measure). */
static void measured_peaks(struct runtime *rt)
{
	struct alloc_peaks pk = { 0, 0, 0, 0 };

	rt->top.policy->peaks(rt->top.state, &pk);
	if (pk.footprint_event && pk.footprint >= rt->peak_footprint.value)
		rt->peak_footprint = (struct stats_peak){ pk.footprint, pk.footprint_event };
	if (pk.rss_event && pk.rss >= rt->peak_rss.value)
		rt->peak_rss = (struct stats_peak){ pk.rss, pk.rss_event };
}

int runtime_finish(struct runtime *rt, struct ms_error *err)
{
	const struct alloc_policy *ap = rt->top.policy;

	rt->clock.event = rt->events;
	rt->fl->stats(rt->fl_state, &rt->fl_last);
	if (ap->sync)
		ap->sync(rt->top.state, 1);
	if (ap->fault && alloc_fault(rt, err))
		return err->code;
	ap->stats(rt->top.state, &rt->last);
	if (ap->peaks)
		measured_peaks(rt);
	return 0;
}

static void gc_metrics(const struct runtime *rt, double v[STATS_COUNT_])
{
	struct gc_stats g;

	rt->gc->stats(rt->gc_state, &g);
	for (uint32_t i = 0; i < g.generations && i < GC_GENERATIONS_MAX; i++) {
		v[STATS_GC_COLLECTIONS] += (double)g.collections[i];
		v[STATS_GC_COLLECTED] += (double)g.collected[i];
	}
	v[STATS_GC_EXAMINED] = (double)g.examined;
	v[STATS_GC_TRAVERSED] = (double)g.traversed;
	v[STATS_GC_TRACKED] = (double)g.tracked;
	v[STATS_GC_PAUSES] = (double)g.pauses;
	v[STATS_GC_PAUSE_TOTAL] = (double)g.pause_total_ns;
	v[STATS_GC_PAUSE_MEAN] = (double)g.pause_mean_ns;
	v[STATS_GC_PAUSE_P50] = (double)g.pause_p50_ns;
	v[STATS_GC_PAUSE_P95] = (double)g.pause_p95_ns;
	v[STATS_GC_PAUSE_P99] = (double)g.pause_p99_ns;
	v[STATS_GC_PAUSE_MAX] = (double)g.pause_max_ns;
	v[STATS_GC_SHARE] = g.gc_share;
	v[STATS_GC_RUN] = (double)g.run_ns;
	v[STATS_MMU_1MS] = g.mmu[0];
	v[STATS_MMU_10MS] = g.mmu[1];
	v[STATS_MMU_100MS] = g.mmu[2];
	v[STATS_MMU_1S] = g.mmu[3];
}

void runtime_metrics(const struct runtime *rt, double v[STATS_COUNT_])
{
	const struct stats_frag *f = rt->has_time && rt->frag_time.sum_live > 0
		? &rt->frag_time : &rt->frag_events;

	memset(v, 0, STATS_COUNT_ * sizeof *v);
	v[STATS_PEAK_RSS] = (double)rt->peak_rss.value;
	v[STATS_PEAK_RSS_EVENT] = (double)rt->peak_rss.event;
	v[STATS_FINAL_RSS] = (double)rt->last.rss;
	v[STATS_PEAK_FOOTPRINT] = (double)rt->peak_footprint.value;
	v[STATS_PEAK_FOOTPRINT_EVENT] = (double)rt->peak_footprint.event;
	v[STATS_FINAL_FOOTPRINT] = (double)rt->last.footprint;
	v[STATS_PEAK_ALLOCATED] = (double)rt->peak_allocated.value;
	v[STATS_FINAL_ALLOCATED] = (double)rt->last.allocated;
	v[STATS_PEAK_LIVE] = (double)rt->peak_live.value;
	v[STATS_PEAK_LIVE_EVENT] = (double)rt->peak_live.event;
	v[STATS_FINAL_LIVE] = (double)heap_live_bytes(rt->heap);
	v[STATS_PEAK_LIVE_OBJECTS] = (double)rt->peak_objects.value;
	v[STATS_FINAL_LIVE_OBJECTS] = (double)heap_live_objects(rt->heap);
	v[STATS_JW1] = stats_jw1(f);
	v[STATS_JW2] = stats_jw2(&rt->frag_events);
	v[STATS_JW3] = stats_jw3(&rt->frag_events);
	v[STATS_JW4] = stats_jw4(&rt->frag_events);
	v[STATS_MEAN_LIVE] = stats_mean_live(f);
	v[STATS_LIVE_AT_PEAK_FOOTPRINT] = (double)rt->frag_events.live_at_peak_footprint;
	gc_metrics(rt, v);
	v[STATS_FL_HELD_PEAK] = (double)rt->fl_last.held_peak;
	v[STATS_FL_HELD_FINAL] = (double)rt->fl_last.held_bytes;
	v[STATS_FL_HITS] = (double)rt->fl_last.hits;
	v[STATS_FL_MISSES] = (double)rt->fl_last.misses;
	v[STATS_FL_BLOCKED] = (double)rt->fl_last.blocked_bytes;
}

void runtime_now(const struct runtime *rt, struct runtime_now *out)
{
	const struct alloc_policy *ap = rt->top.policy;
	struct freelist_stats fl;

	/* Free lists keep their own exact peak, so they are read only here
	 * (a sample) and at the end, not after every event. */
	rt->fl->stats(rt->fl_state, &fl);
	out->events = rt->events;
	out->time_ns = rt->now;
	out->timed = rt->has_time;
	out->live = heap_live_bytes(rt->heap);
	out->allocated = rt->last.allocated;
	out->footprint = rt->last.footprint;
	out->rss = rt->last.rss;
	out->fl_held = fl.held_bytes;
	out->arenas = ap->occupancy ? ap->occupancy(rt->top.state, NULL, NULL, 0) : 0;
	out->peak_rss = rt->peak_rss;
	out->peak_footprint = rt->peak_footprint;
	out->peak_live = rt->peak_live;
}

const struct gc_pause *runtime_pauses(const struct runtime *rt, size_t *n)
{
	return rt->gc->pauses(rt->gc_state, n);
}

size_t runtime_peak_occupancy(const struct runtime *rt, const uint32_t **in_use,
			      const uint32_t **usable)
{
	if (!rt->top.policy->occupancy)
		return SIZE_MAX;
	*in_use = rt->occ_in_use;
	*usable = rt->occ_usable;
	return rt->occ_n;
}

const struct policy *runtime_policy(const struct runtime *rt)
{
	return rt->policy;
}

void runtime_gc_stats(const struct runtime *rt, struct gc_stats *out)
{
	rt->gc->stats(rt->gc_state, out);
}

size_t runtime_gc_spaces(const struct runtime *rt, struct gc_space *out, size_t max)
{
	struct gc_stats g;

	if (rt->gc->spaces)
		return rt->gc->spaces(rt->gc_state, out, max);
	rt->gc->stats(rt->gc_state, &g);
	return gc_spaces_from_stats(&g, NULL, out, max);
}

void runtime_freelist_types(const struct runtime *rt, void *ctx,
			    void (*row)(void *ctx, const char *type,
					const struct freelist_type_counts *c))
{
	if (rt->fl->types)
		rt->fl->types(rt->fl_state, ctx, row);
}

void runtime_freelist_lists(const struct runtime *rt, void *ctx,
			    void (*row)(void *ctx, const char *list, uint64_t parked))
{
	if (rt->fl->lists)
		rt->fl->lists(rt->fl_state, ctx, row);
}

const struct alloc_inst *runtime_allocator(const struct runtime *rt)
{
	return &rt->top;
}

uint64_t runtime_garbage(struct runtime *rt, uint64_t *bytes, uint64_t *allocated)
{
	const struct alloc_inst *top = &rt->top;
	uint32_t *slots;
	uint64_t n = heap_find_garbage(rt->heap, &slots, bytes);

	*allocated = 0;
	for (uint64_t i = 0; i < n; i++) {
		const struct heap_obj *o = heap_obj(rt->heap, slots[i]);

		*allocated += top->policy->block_size(top->state, heap_obj_size(rt->heap, o));
	}
	free(slots);
	return n;
}

const struct alloc_inst *runtime_system_allocator(const struct runtime *rt)
{
	return rt->top_is_sys ? NULL : &rt->sys;
}

struct alloc_inst *runtime_system(struct runtime *rt)
{
	return rt->top_is_sys ? NULL : &rt->sys;
}

uint64_t runtime_live_objects(const struct runtime *rt)
{
	return heap_live_objects(rt->heap);
}

int runtime_check(const struct runtime *rt, struct ms_error *err)
{
	char msg[200] = "";

	if (heap_check(rt->heap, err))
		return err->code;
	if (rt->top.policy->check && rt->top.policy->check(rt->top.state, msg, sizeof msg))
		return ms_error_set(err, MS_EXIT_SOFTWARE, "%s: %s",
				    rt->top.policy->name, msg);
	if (rt->gc->check && rt->gc->check(rt->gc_state, msg, sizeof msg))
		return ms_error_set(err, MS_EXIT_SOFTWARE, "gc %s: %s", rt->gc->name, msg);
	if (!rt->top_is_sys && rt->sys.policy->check &&
	    rt->sys.policy->check(rt->sys.state, msg, sizeof msg))
		return ms_error_set(err, MS_EXIT_SOFTWARE, "%s: %s",
				    rt->sys.policy->name, msg);
	return 0;
}

uint64_t runtime_own_bytes(const struct runtime *rt)
{
	return heap_own_bytes(rt->heap);
}
