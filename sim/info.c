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
	uint32_t site_cap;      /* entries allocated in res->sites */
	uint32_t *slot_site;    /* heap slot -> site index of its object */
	uint32_t slot_cap;
	uint32_t cur_site;      /* the site of the `a`/`r` being applied */
	struct info_gc *gc;     /* the recorded collection open, or NULL */
	uint64_t gc_start;      /* ns */
	size_t gc_cap;
};

static struct info_type *type_entry(struct info_ctx *c, uint32_t type)
{
	struct info_result *res = c->res;

	res->types = xgrow(res->types, &c->cap, type, sizeof *res->types, 16);
	if (type >= res->ntypes)
		res->ntypes = type + 1;
	return &res->types[type];
}

static struct info_site *site_entry(struct info_ctx *c, uint32_t site)
{
	struct info_result *res = c->res;

	res->sites = xgrow(res->sites, &c->site_cap, site, sizeof *res->sites, 64);
	if (site >= res->nsites)
		res->nsites = site + 1;
	return &res->sites[site];
}

/* Where the site of the object in `slot` is kept. */
static uint32_t *slot_site(struct info_ctx *c, uint32_t slot)
{
	c->slot_site = xgrow(c->slot_site, &c->slot_cap, slot, sizeof *c->slot_site, 1024);
	return &c->slot_site[slot];
}

static void note_live(struct info_type *t, uint64_t live)
{
	t->live_bytes = live;
	if (live > t->peak_live_bytes)
		t->peak_live_bytes = live;
}

static void site_live(struct info_site *s, uint64_t live)
{
	s->live_bytes = live;
	if (live > s->peak_live_bytes)
		s->peak_live_bytes = live;
}

static void on_alloc(void *ctx, struct heap *h, uint32_t slot)
{
	struct info_ctx *c = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	struct info_type *t = type_entry(c, heap_obj_type(o));
	struct info_site *s = site_entry(c, c->cur_site);
	uint64_t size = heap_obj_size(h, o);

	t->objects++;
	t->bytes += size;
	note_live(t, t->live_bytes + size);
	*slot_site(c, slot) = c->cur_site;
	s->objects++;
	s->bytes += size;
	site_live(s, s->live_bytes + size);
}

static void on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct info_ctx *c = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	struct info_type *t = type_entry(c, heap_obj_type(o));
	uint64_t size = heap_obj_size(h, o);

	t->live_bytes -= size;
	c->res->sites[*slot_site(c, slot)].live_bytes -= size;
	if (c->gc) {
		c->gc->freed_objects++;
		c->gc->freed_bytes += size;
	}
}

/* A resize with ^SITE moves the object's bytes to that site (the new
 * block was asked for there, as heaptrack counts a realloc); one without
 * keeps them where they were. */
static void on_resize(void *ctx, struct heap *h, uint32_t slot, uint64_t old)
{
	struct info_ctx *c = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	struct info_type *t = type_entry(c, heap_obj_type(o));
	uint32_t *where = slot_site(c, slot);
	uint64_t size = heap_obj_size(h, o);
	struct info_site *s;

	t->bytes += size;
	note_live(t, t->live_bytes - old + size);
	c->res->sites[*where].live_bytes -= old;
	if (c->cur_site != EVENT_NO_SITE)
		*where = c->cur_site;
	s = site_entry(c, *where);
	s->resizes++;
	s->bytes += size;
	site_live(s, s->live_bytes + size);
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

/* The record of generation `gen`'s recorded collections (the array is
 * kept in order of generation; a trace has a handful). */
static struct info_gc *gc_entry(struct info_ctx *c, uint64_t gen)
{
	struct info_result *res = c->res;
	size_t i = 0;

	while (i < res->ngcs && res->gcs[i].gen < gen)
		i++;
	if (i < res->ngcs && res->gcs[i].gen == gen)
		return &res->gcs[i];
	if (res->ngcs == c->gc_cap) {
		c->gc_cap = c->gc_cap ? c->gc_cap * 2 : 4;
		res->gcs = xreallocarray(res->gcs, c->gc_cap, sizeof *res->gcs);
	}
	memmove(res->gcs + i + 1, res->gcs + i, (res->ngcs - i) * sizeof *res->gcs);
	res->ngcs++;
	res->gcs[i] = (struct info_gc){ .gen = gen };
	return &res->gcs[i];
}

/* The version-2 annotations: recorded collections and snapshots. */
static void note_annotation(struct info_ctx *c, const struct event *ev)
{
	struct info_result *res = c->res;

	switch (ev->kind) {
	case EVENT_GC_BEGIN:
		c->gc = gc_entry(c, ev->u.gen);
		c->gc->collections++;
		c->gc_start = res->end_time;
		break;
	case EVENT_GC_END:
		if (c->gc) {
			uint64_t pause = res->end_time - c->gc_start;

			c->gc->pause_total += pause;
			if (pause > c->gc->pause_max)
				c->gc->pause_max = pause;
		}
		c->gc = NULL;
		break;
	case EVENT_SNAPSHOT:
		res->snapshots++;
		res->last_snapshot_refs = res->last_snapshot_edges = 0;
		break;
	case EVENT_SNAP_REFS:
		res->snapshot_refs++;
		res->last_snapshot_refs++;
		break;
	case EVENT_SNAP_EDGE:
		res->snapshot_edges++;
		res->last_snapshot_edges++;
		break;
	default:
		break;
	}
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

/* Peaks are numbered as the simulation numbers events: version-1
 * events only (`clock`, 1-based), so that annotations move no peak. */
static void track_peaks(struct info_result *res, const struct heap *h, uint64_t now,
			uint64_t clock)
{
	uint64_t bytes = heap_live_bytes(h), objects = heap_live_objects(h);

	if (bytes > res->peak_live_bytes.value) {
		res->peak_live_bytes.value = bytes;
		res->peak_live_bytes.event = clock;
		res->peak_live_bytes.time = now;
	}
	if (objects > res->peak_live_objects.value) {
		res->peak_live_objects.value = objects;
		res->peak_live_objects.event = clock;
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
	uint64_t clock = 0;     /* version-1 events so far */
	int rc, status = 0;

	memset(res, 0, sizeof *res);
	type_entry(&ctx, TYPETAB_UNTYPED);
	site_entry(&ctx, EVENT_NO_SITE);
	h = heap_create(&hooks);
	while ((rc = trace_next(r, &ev, err)) > 0) {
		res->events[ev.kind]++;
		res->events_total++;
		clock += ev.kind < EVENT_KIND_V1_COUNT;
		if (obs && res->events_total % INFO_TICK == 0)
			obs->tick(obs->ctx, r);
		switch (ev.kind) {
		case EVENT_ALLOC:
			res->objects_allocated++;
			res->size_buckets[info_bucket(ev.u.size)]++;
			/* fall through */
		case EVENT_RESIZE:
			res->bytes_requested_total += ev.u.size;
			ctx.cur_site = ev.site;
			/* fall through */
		case EVENT_FREE:
		case EVENT_REF_ADD:
		case EVENT_REF_DROP:
			if (heap_apply(h, &ev, err) != 0) {
				trace_locate(r, err);
				status = err->code;
				goto out;
			}
			track_peaks(res, h, res->end_time, clock);
			break;
		case EVENT_TIME:
			res->end_time = ev.u.time;
			res->has_time = 1;
			break;
		case EVENT_COLLECT:
		case EVENT_SAFEPOINT:
		case EVENT_SITE:
		case EVENT_MARK:
		case EVENT_KIND_COUNT:
			break;
		case EVENT_GC_BEGIN:
		case EVENT_GC_END:
		case EVENT_SNAPSHOT:
		case EVENT_SNAP_REFS:
		case EVENT_SNAP_EDGE:
			note_annotation(&ctx, &ev);
			break;
		}
		ctx.cur_site = EVENT_NO_SITE;
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
	free(ctx.slot_site);
	return status;
}

void info_free(struct info_result *res)
{
	free(res->types);
	free(res->sites);
	free(res->gcs);
	res->types = NULL;
	res->sites = NULL;
	res->gcs = NULL;
	res->ntypes = res->nsites = 0;
	res->ngcs = 0;
}

struct ranked {
	uint64_t peak;          /* bytes */
	uint32_t index;
};

/* Largest peak first, then the older site. */
static int by_peak(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->peak != y->peak)
		return x->peak < y->peak ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

uint32_t *info_top_sites(const struct info_result *res, uint32_t max, uint32_t *n)
{
	size_t cap = res->nsites ? res->nsites : 1;
	struct ranked *r = xreallocarray(NULL, cap, sizeof *r);
	uint32_t *idx = xreallocarray(NULL, cap, sizeof *idx);
	uint32_t k = 0;

	for (uint32_t i = 1; i < res->nsites; i++)
		if (res->sites[i].objects || res->sites[i].resizes)
			r[k++] = (struct ranked){ res->sites[i].peak_live_bytes, i };
	qsort(r, k, sizeof *r, by_peak);
	*n = max && k > max ? max : k;
	for (uint32_t i = 0; i < *n; i++)
		idx[i] = r[i].index;
	free(r);
	return idx;
}
