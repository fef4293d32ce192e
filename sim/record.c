/*
 * record.c - freezing a runtime into the results record (see record.h).
 *
 * Freezing reads each layer once through the runtime's read accessors:
 * the scalar metrics (stats.h), the collector's rows (gc.h spaces, or its
 * generations), the free lists by type, the allocators' details with the
 * units their policies declare (alloc.h), the series, the pause record
 * and the arena occupancy. Nothing in the record points into a runtime.
 */
#include "record.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "freelist.h"
#include "pause.h"
#include "policy.h"
#include "runtime.h"
#include "xalloc.h"

/* ---- building ---------------------------------------------------------- */

struct record_trace *record_add_trace(struct record *rec)
{
	rec->traces = xreallocarray(rec->traces, rec->ntraces + 1, sizeof *rec->traces);
	memset(&rec->traces[rec->ntraces], 0, sizeof rec->traces[0]);
	return &rec->traces[rec->ntraces++];
}

void record_warn(struct record_strings *w, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	w->v = xreallocarray(w->v, w->n + 1, sizeof *w->v);
	w->v[w->n++] = xstrdup(buf);
}

void record_add_mark(struct record_trace *t, const char *label, uint64_t event,
		     uint64_t time_ns)
{
	t->marks = xreallocarray(t->marks, t->nmarks + 1, sizeof *t->marks);
	t->marks[t->nmarks++] = (struct record_mark){
		.label = xstrdup(label), .event = event, .time_ns = time_ns,
	};
}

void record_add_collection(struct record_trace *t, const struct record_collection *c)
{
	size_t n = t->nrecorded;

	if ((n & (n - 1)) == 0)     /* doubling: a service records many */
		t->recorded = xreallocarray(t->recorded, n ? 2 * n : 1, sizeof *t->recorded);
	t->recorded[t->nrecorded++] = *c;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sums generation g's recorded collections into *s; `scratch` holds
 * t->nrecorded pauses. */
static void gen_summary(const struct record_trace *t, uint32_t g, uint64_t *scratch,
			struct record_gc_summary *s)
{
	size_t n = 0;

	*s = (struct record_gc_summary){ .generation = g };
	for (size_t i = 0; i < t->nrecorded; i++) {
		const struct record_collection *c = &t->recorded[i];

		if (c->generation != g)
			continue;
		s->collections++;
		s->freed += c->freed;
		s->pause_total_ns += c->pause_ns;
		scratch[n++] = c->pause_ns;
	}
	qsort(scratch, n, sizeof *scratch, cmp_u64);
	s->pause_p50_ns = pause_percentile(scratch, n, 50);
	s->pause_p95_ns = pause_percentile(scratch, n, 95);
	s->pause_p99_ns = pause_percentile(scratch, n, 99);
	s->pause_max_ns = n ? scratch[n - 1] : 0;
}

size_t record_recorded_gens(const struct record_trace *t, struct record_gc_summary **out)
{
	size_t n = 0;
	uint64_t *scratch;

	*out = NULL;
	if (!t->nrecorded)
		return 0;
	scratch = xreallocarray(NULL, t->nrecorded, sizeof *scratch);
	/* g: the lowest generation not summed yet; each pass finds the
	 * next one that has collections (CPython names 0-2) */
	for (uint64_t g = 0;; g++) {
		uint64_t next = UINT64_MAX;

		for (size_t i = 0; i < t->nrecorded; i++)
			if (t->recorded[i].generation >= g && t->recorded[i].generation < next)
				next = t->recorded[i].generation;
		if (next == UINT64_MAX)
			break;
		g = next;
		*out = xreallocarray(*out, n + 1, sizeof **out);
		gen_summary(t, (uint32_t)g, scratch, &(*out)[n++]);
	}
	free(scratch);
	return n;
}

struct record_table *record_add_table(struct record_policy *p, const char *name,
				      const char *row_key,
				      const struct record_column *cols, size_t ncols)
{
	struct record_table *t;

	p->tables = xreallocarray(p->tables, p->ntables + 1, sizeof *p->tables);
	t = &p->tables[p->ntables++];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	t->row_key = row_key ? xstrdup(row_key) : NULL;
	t->ncols = ncols;
	t->cols = xcalloc(ncols ? ncols : 1, sizeof *t->cols);
	for (size_t c = 0; c < ncols; c++)
		t->cols[c] = (struct record_column){
			.key = xstrdup(cols[c].key), .label = xstrdup(cols[c].label),
			.unit = cols[c].unit, .kind = cols[c].kind,
		};
	return t;
}

double *record_table_row(struct record_table *t, const char *name)
{
	double *row;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * (t->ncols ? t->ncols : 1),
				 sizeof *t->cells);
	if (t->row_key) {
		t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof *t->rows);
		t->rows[t->nrows] = xstrdup(name ? name : "");
	}
	row = &t->cells[t->nrows * t->ncols];
	for (size_t c = 0; c < t->ncols; c++)
		row[c] = NAN;
	t->nrows++;
	return row;
}

/* ---- lookups ----------------------------------------------------------- */

const struct record_table *record_table_find(const struct record_policy *p,
					     const char *name)
{
	for (size_t i = 0; i < p->ntables; i++)
		if (strcmp(p->tables[i].name, name) == 0)
			return &p->tables[i];
	return NULL;
}

int record_table_col(const struct record_table *t, const char *key)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c].key, key) == 0)
			return (int)c;
	return -1;
}

const struct record_occupancy *record_occupancy_find(const struct record_policy *p,
						     const char *at)
{
	for (size_t i = 0; i < p->noccupancy; i++)
		if (strcmp(p->occupancy[i].at, at) == 0)
			return &p->occupancy[i];
	return NULL;
}

size_t record_policy_index(const struct record_trace *t, const char *name)
{
	for (size_t i = 0; name && i < t->npol; i++)
		if (strcmp(t->pol[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

int record_has(const struct record_policy *p, int m)
{
	return m >= 0 && m < STATS_COUNT_ && !isnan(p->m[m]);
}

/* ---- freezing ---------------------------------------------------------- */

static void columns_of(struct record_column *out, const struct stats_column *in, size_t n)
{
	for (size_t c = 0; c < n; c++)
		out[c] = (struct record_column){
			.key = (char *)in[c].key, .label = (char *)in[c].label,
			.unit = in[c].unit, .kind = in[c].kind,
		};
}

/* The collector's rows, each with the pauses that collected it. */
static void freeze_gc(struct record_policy *out, const struct runtime *rt)
{
	struct record_column cols[STATS_GEN_NCOLS];
	struct gc_space sp[GC_SPACES_MAX];
	size_t n = runtime_gc_spaces(rt, sp, GC_SPACES_MAX), np;
	const struct gc_pause *p = runtime_pauses(rt, &np);
	struct record_table *t;

	if (n > GC_SPACES_MAX)
		n = GC_SPACES_MAX;
	columns_of(cols, stats_gen_columns, STATS_GEN_NCOLS);
	t = record_add_table(out, STATS_GEN_TABLE, STATS_GEN_ROW_KEY, cols, STATS_GEN_NCOLS);
	for (size_t i = 0; i < n; i++) {
		double *row = record_table_row(t, sp[i].name);

		row[STATS_GEN_COLLECTIONS] = (double)sp[i].collections;
		row[STATS_GEN_COLLECTED] = (double)sp[i].collected;
		row[STATS_GEN_COUNT] = (double)sp[i].count;
		row[STATS_GEN_PAUSES] = 0;
		row[STATS_GEN_PAUSE_TOTAL] = 0;
		row[STATS_GEN_PAUSE_MAX] = 0;
	}
	for (size_t k = 0; k < np; k++) {
		double *row;

		if (p[k].generation >= n)
			continue;
		row = &t->cells[p[k].generation * t->ncols];
		row[STATS_GEN_PAUSES] += 1;
		row[STATS_GEN_PAUSE_TOTAL] += (double)p[k].pause_ns;
		if ((double)p[k].pause_ns > row[STATS_GEN_PAUSE_MAX])
			row[STATS_GEN_PAUSE_MAX] = (double)p[k].pause_ns;
	}
}

static void type_row(void *ctx, const char *type, const struct freelist_type_counts *c)
{
	double *row = record_table_row(ctx, type);

	row[STATS_TYPE_HITS] = (double)c->hits;
	row[STATS_TYPE_MISSES] = (double)c->misses;
	row[STATS_TYPE_BLOCKED] = (double)c->blocked;
	if (c->has_held)
		row[STATS_TYPE_HELD] = (double)c->held;
	if (c->has_blocks) {
		row[STATS_TYPE_BLOCKS] = (double)c->blocks;
		row[STATS_TYPE_BLOCKS_FREED] = (double)c->blocks_freed;
	}
}

static void freeze_types(struct record_policy *out, const struct runtime *rt)
{
	struct record_column cols[STATS_TYPE_NCOLS];
	struct record_table *t;

	columns_of(cols, stats_type_columns, STATS_TYPE_NCOLS);
	t = record_add_table(out, STATS_TYPE_TABLE, STATS_TYPE_ROW_KEY, cols,
			     STATS_TYPE_NCOLS);
	runtime_freelist_types(rt, t, type_row);
}

struct list_ctx {
	struct record_policy *out;
	struct record_table *t; /* made at the first row */
};

static void list_row(void *ctx, const char *list, uint64_t parked)
{
	static const struct record_column col = {
		(char *)"parked", (char *)"parked at end", UNIT_COUNT, KIND_FINAL,
	};
	struct list_ctx *lc = ctx;

	if (!lc->t)
		lc->t = record_add_table(lc->out, STATS_LIST_TABLE, STATS_LIST_ROW_KEY, &col, 1);
	*record_table_row(lc->t, list) = (double)parked;
}

/* The lists' own counts (freelists.lists): a table only when a list
 * ever parked a block. */
static void freeze_lists(struct record_policy *out, const struct runtime *rt)
{
	struct list_ctx lc = { out, NULL };

	runtime_freelist_lists(rt, &lc, list_row);
}

/* The sink that turns one allocator's details() into counters and tables. */
struct detail_ctx {
	struct record_policy *out;
	const struct alloc_policy *ap;
};

static const struct alloc_counter_def *def_of(const struct alloc_policy *ap,
					      const char *key)
{
	for (size_t i = 0; i < ap->ncounters; i++)
		if (strcmp(ap->counters[i].key, key) == 0)
			return &ap->counters[i];
	return NULL;
}

static void detail_counter(void *ctx, const char *key, uint64_t value)
{
	struct detail_ctx *d = ctx;
	struct record_policy *p = d->out;
	const struct alloc_counter_def *def = def_of(d->ap, key);

	p->counters = xreallocarray(p->counters, p->ncounters + 1, sizeof *p->counters);
	p->counters[p->ncounters++] = (struct record_counter){
		.group = xstrdup(d->ap->name), .key = xstrdup(key),
		/* a key without a definition still shows, under its key */
		.label = xstrdup(def ? def->label : key),
		.unit = def ? def->unit : UNIT_COUNT,
		.kind = def ? def->kind : KIND_FINAL,
		.value = (double)value,
	};
}

static void detail_table(void *ctx, const char *name, const char *const *columns,
			 size_t ncols, const uint64_t *cells, size_t nrows)
{
	struct detail_ctx *d = ctx;
	struct record_column *cols = xcalloc(ncols ? ncols : 1, sizeof *cols);
	char path[200], key[200];
	struct record_table *t;

	for (size_t c = 0; c < ncols; c++) {
		const struct alloc_counter_def *def;

		snprintf(key, sizeof key, "%s.%s", name, columns[c]);
		def = def_of(d->ap, key);
		cols[c] = (struct record_column){
			.key = (char *)columns[c],
			.label = (char *)(def ? def->label : columns[c]),
			.unit = def ? def->unit : UNIT_COUNT,
			.kind = def ? def->kind : KIND_FINAL,
		};
	}
	snprintf(path, sizeof path, "%s.%s", d->ap->name, name);
	t = record_add_table(d->out, path, NULL, cols, ncols);
	for (size_t r = 0; r < nrows; r++) {
		double *row = record_table_row(t, NULL);

		for (size_t c = 0; c < ncols; c++)
			row[c] = (double)cells[r * ncols + c];
	}
	free(cols);
}

static void freeze_allocator(struct record_policy *out, const struct alloc_inst *a)
{
	struct detail_ctx d = { .out = out, .ap = a->policy };
	struct alloc_sink sink = { .ctx = &d, .counter = detail_counter,
				   .table = detail_table };

	if (a->policy->details)
		a->policy->details(a->state, &sink);
}

void record_add_occupancy(struct record_policy *out, const char *at, uint64_t event,
			  const uint32_t *in_use, const uint32_t *usable, size_t n)
{
	struct record_occupancy *o;

	out->occupancy = xreallocarray(out->occupancy, out->noccupancy + 1,
				       sizeof *out->occupancy);
	o = &out->occupancy[out->noccupancy++];
	o->at = xstrdup(at);
	o->event = event;
	o->n = n;
	o->in_use = xcalloc(n ? n : 1, sizeof *o->in_use);
	o->usable = xcalloc(n ? n : 1, sizeof *o->usable);
	if (n) {
		memcpy(o->in_use, in_use, n * sizeof *in_use);
		memcpy(o->usable, usable, n * sizeof *usable);
	}
}

void record_note_occupancy(struct record_policy *out, const struct runtime *rt,
			   const char *at, uint64_t event)
{
	const struct alloc_inst *a = runtime_allocator(rt);
	size_t n;
	uint32_t *in_use, *usable;

	if (!a->policy->occupancy)
		return;
	n = a->policy->occupancy(a->state, NULL, NULL, 0);
	in_use = xcalloc(n ? n : 1, sizeof *in_use);
	usable = xcalloc(n ? n : 1, sizeof *usable);
	n = a->policy->occupancy(a->state, in_use, usable, n);
	record_add_occupancy(out, at, event, in_use, usable, n);
	free(in_use);
	free(usable);
}

static void freeze_occupancy(struct record_policy *out, const struct runtime *rt)
{
	const uint32_t *in_use, *usable;
	size_t n = runtime_peak_occupancy(rt, &in_use, &usable);
	struct runtime_now now;

	if (n == SIZE_MAX)
		return;         /* no arenas in this allocator */
	runtime_now(rt, &now);
	record_add_occupancy(out, "peak_footprint", now.peak_footprint.event, in_use, usable, n);
	record_note_occupancy(out, rt, "end", now.events);
}

void record_freeze_policy(struct record_policy *out, const struct runtime *rt,
			  const struct series *s)
{
	const struct policy *p = runtime_policy(rt);
	const struct alloc_inst *sys = runtime_system_allocator(rt);
	const struct gc_pause *pauses;

	out->name = xstrdup(p->name);
	out->summary = xstrdup(p->summary ? p->summary : "");
	out->allocator = xstrdup(p->part[POLICY_ALLOCATOR].impl.name);
	out->system = xstrdup(p->part[POLICY_SYSTEM].impl.name);
	out->freelists = xstrdup(p->part[POLICY_FREELISTS].impl.name);
	out->gc = xstrdup(p->part[POLICY_GC].impl.name);
	out->measured = runtime_measured(rt);
	runtime_metrics(rt, out->m);
	freeze_gc(out, rt);
	freeze_types(out, rt);
	freeze_lists(out, rt);
	freeze_allocator(out, runtime_allocator(rt));
	if (sys && !out->measured)      /* a real: policy's calls never reach it */
		freeze_allocator(out, sys);
	if (s) {
		out->sampled = 1;
		out->nseries = s->n;
		out->series = xcalloc(s->n ? s->n : 1, sizeof *out->series);
		memcpy(out->series, s->pts, s->n * sizeof *s->pts);
	}
	pauses = runtime_pauses(rt, &out->npauses);
	out->pauses = xcalloc(out->npauses ? out->npauses : 1, sizeof *out->pauses);
	if (out->npauses)
		memcpy(out->pauses, pauses, out->npauses * sizeof *pauses);
	freeze_occupancy(out, rt);
}

/* ---- freeing ----------------------------------------------------------- */

static void strings_free(struct record_strings *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof *w);
}

static void table_free(struct record_table *t)
{
	for (size_t c = 0; c < t->ncols; c++) {
		free(t->cols[c].key);
		free(t->cols[c].label);
	}
	for (size_t r = 0; t->rows && r < t->nrows; r++)
		free(t->rows[r]);
	free(t->cols);
	free(t->rows);
	free(t->cells);
	free(t->name);
	free(t->row_key);
}

void record_policy_free(struct record_policy *p)
{
	free(p->name);
	free(p->summary);
	free(p->allocator);
	free(p->system);
	free(p->freelists);
	free(p->gc);
	for (size_t i = 0; i < p->ncounters; i++) {
		free(p->counters[i].group);
		free(p->counters[i].key);
		free(p->counters[i].label);
	}
	free(p->counters);
	for (size_t i = 0; i < p->ntables; i++)
		table_free(&p->tables[i]);
	free(p->tables);
	free(p->series);
	free(p->pauses);
	for (size_t i = 0; i < p->noccupancy; i++) {
		free(p->occupancy[i].at);
		free(p->occupancy[i].in_use);
		free(p->occupancy[i].usable);
	}
	free(p->occupancy);
	strings_free(&p->warnings);
	memset(p, 0, sizeof *p);
}

void record_trace_free(struct record_trace *t)
{
	free(t->name);
	free(t->metadata);
	for (size_t i = 0; i < t->nmarks; i++)
		free(t->marks[i].label);
	free(t->marks);
	free(t->recorded);
	strings_free(&t->warnings);
	for (size_t i = 0; i < t->npol; i++)
		record_policy_free(&t->pol[i]);
	free(t->pol);
	memset(t, 0, sizeof *t);
}

void record_free(struct record *rec)
{
	for (size_t i = 0; i < rec->ntraces; i++)
		record_trace_free(&rec->traces[i]);
	free(rec->traces);
	free(rec->baseline);
	strings_free(&rec->warnings);
	memset(rec, 0, sizeof *rec);
}

/* ---- checking ---------------------------------------------------------- */

static int check_policy(const struct record_policy *p, char *msg, size_t msglen)
{
	for (size_t i = 0; i < p->ntables; i++) {
		const struct record_table *t = &p->tables[i];

		if (!t->name || (t->nrows && !t->cells) || (t->row_key && t->nrows && !t->rows)) {
			snprintf(msg, msglen, "%s: table %zu is malformed", p->name, i);
			return -1;
		}
	}
	for (size_t i = 1; i < p->nseries; i++) {
		if (p->series[i - 1].v[SERIES_EVENT] >= p->series[i].v[SERIES_EVENT]) {
			snprintf(msg, msglen, "%s: series point %zu out of order", p->name, i);
			return -1;
		}
	}
	for (size_t i = 1; i < p->npauses; i++) {
		if (p->pauses[i - 1].start_ns > p->pauses[i].start_ns) {
			snprintf(msg, msglen, "%s: pause %zu out of order", p->name, i);
			return -1;
		}
	}
	for (size_t i = 0; i < p->noccupancy; i++) {
		const struct record_occupancy *o = &p->occupancy[i];

		for (size_t k = 0; k < o->n; k++) {
			if (o->in_use[k] > o->usable[k]) {
				snprintf(msg, msglen, "%s: occupancy %s: arena %zu has more "
					 "pools in use than it holds", p->name, o->at, k);
				return -1;
			}
		}
	}
	return 0;
}

int record_check(const struct record *rec, char *msg, size_t msglen)
{
	for (size_t t = 0; t < rec->ntraces; t++)
		for (size_t i = 0; i < rec->traces[t].npol; i++)
			if (check_policy(&rec->traces[t].pol[i], msg, msglen))
				return -1;
	return 0;
}
