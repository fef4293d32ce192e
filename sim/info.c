/*
 * info.c - trace facts on a bare reference-counting heap (see info.h).
 */
#include "info.h"

#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "xalloc.h"

struct info_ctx {
	struct info_result *res;
	uint32_t cap;           /* entries allocated in res->types */
	uint64_t refs;          /* live edges between objects */
};

static struct info_type *type_entry(struct info_ctx *c, uint32_t type)
{
	struct info_result *res = c->res;

	if (type >= c->cap) {
		uint32_t cap = c->cap ? c->cap : 16;

		while (cap <= type)
			cap *= 2;
		res->types = xreallocarray(res->types, cap, sizeof *res->types);
		memset(res->types + c->cap, 0, (cap - c->cap) * sizeof *res->types);
		c->cap = cap;
	}
	if (type >= res->ntypes)
		res->ntypes = type + 1;
	return &res->types[type];
}

static void note_live(struct info_type *t, uint64_t live)
{
	t->live_bytes = live;
	if (live > t->peak_live_bytes)
		t->peak_live_bytes = live;
}

static void on_alloc(void *ctx, struct heap *h, uint32_t slot)
{
	const struct heap_obj *o = heap_obj(h, slot);
	struct info_type *t = type_entry(ctx, heap_obj_type(o));
	uint64_t size = heap_obj_size(h, o);

	t->objects++;
	t->bytes += size;
	note_live(t, t->live_bytes + size);
}

static void on_free(void *ctx, struct heap *h, uint32_t slot)
{
	const struct heap_obj *o = heap_obj(h, slot);
	struct info_type *t = type_entry(ctx, heap_obj_type(o));

	t->live_bytes -= heap_obj_size(h, o);
}

static void on_resize(void *ctx, struct heap *h, uint32_t slot, uint64_t old)
{
	const struct heap_obj *o = heap_obj(h, slot);
	struct info_type *t = type_entry(ctx, heap_obj_type(o));
	uint64_t size = heap_obj_size(h, o);

	t->bytes += size;
	note_live(t, t->live_bytes - old + size);
}

/* Edges between objects (not the root set's), for peak_live_refs. */
static void on_ref(void *ctx, struct heap *h, uint32_t src, uint32_t dst, int delta)
{
	struct info_ctx *c = ctx;

	(void)h, (void)dst;
	if (src == HEAP_NONE)
		return;
	c->refs += (uint64_t)(int64_t)delta;
	if (c->refs > c->res->peak_live_refs)
		c->res->peak_live_refs = c->refs;
}

unsigned info_bucket(uint64_t size)
{
	unsigned b = 0;

	while (size) {
		b++;
		size >>= 1;
	}
	return b;
}

uint64_t info_bucket_min(unsigned bucket)
{
	return bucket ? UINT64_C(1) << (bucket - 1) : 0;
}

uint64_t info_bucket_max(unsigned bucket)
{
	return bucket ? (UINT64_C(1) << bucket) - 1 : 0;
}

static void track_peaks(struct info_result *res, const struct heap *h, uint64_t now)
{
	uint64_t bytes = heap_live_bytes(h), objects = heap_live_objects(h);

	if (bytes > res->peak_live_bytes.value) {
		res->peak_live_bytes.value = bytes;
		res->peak_live_bytes.event = res->events_total;
		res->peak_live_bytes.time = now;
	}
	if (objects > res->peak_live_objects.value) {
		res->peak_live_objects.value = objects;
		res->peak_live_objects.event = res->events_total;
		res->peak_live_objects.time = now;
	}
}

#define INFO_TICK 65536u       /* events between observer calls */

int info_run(struct trace_reader *r, const struct info_observer *obs,
	     struct info_result *res, struct ms_error *err)
{
	struct info_ctx ctx = { .res = res };
	struct heap_hooks hooks = {
		.ctx = &ctx, .on_alloc = on_alloc, .on_free = on_free,
		.on_resize = on_resize, .on_ref = on_ref,
	};
	struct event ev;
	struct heap *h;
	uint32_t *garbage;
	int rc, status = 0;

	memset(res, 0, sizeof *res);
	type_entry(&ctx, TYPETAB_UNTYPED);
	h = heap_create(&hooks);
	while ((rc = trace_next(r, &ev, err)) > 0) {
		res->events[ev.kind]++;
		res->events_total++;
		if (obs && res->events_total % INFO_TICK == 0)
			obs->tick(obs->ctx, r);
		switch (ev.kind) {
		case EVENT_ALLOC:
			res->objects_allocated++;
			res->size_buckets[info_bucket(ev.u.size)]++;
			/* fall through */
		case EVENT_RESIZE:
			res->bytes_requested_total += ev.u.size;
			/* fall through */
		case EVENT_FREE:
		case EVENT_REF_ADD:
		case EVENT_REF_DROP:
			if (heap_apply(h, &ev, err) != 0) {
				trace_locate(r, err);
				status = err->code;
				goto out;
			}
			track_peaks(res, h, res->end_time);
			break;
		case EVENT_TIME:
			res->end_time = ev.u.time;
			res->has_time = 1;
			break;
		case EVENT_COLLECT:
		case EVENT_SAFEPOINT:
		case EVENT_KIND_COUNT:
			break;
		}
	}
	if (rc < 0) {
		status = err->code ? err->code : MS_EXIT_DATAERR;
		goto out;
	}
	res->final_live_bytes = heap_live_bytes(h);
	res->final_live_objects = heap_live_objects(h);
	res->cyclic_garbage_objects = heap_find_garbage(h, &garbage,
							&res->cyclic_garbage_bytes);
	free(garbage);
out:
	heap_destroy(h);
	return status;
}

void info_free(struct info_result *res)
{
	free(res->types);
	res->types = NULL;
	res->ntypes = 0;
}
