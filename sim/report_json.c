/*
 * report_json.c - the JSON report: a lossless serialisation of the
 * results record, and its loader (schema in docs/reports.md).
 *
 *   { "schema": "memsim-report-2", "baseline": NAME|null, "warnings": [..],
 *     "traces": [ { "trace", "metadata", "events", "timed", "warnings",
 *                   "marks": [{label, event, time_ns}],
 *                   "recorded_collections": [{event, time_ns, generation, freed}],
 *                   "policies": [ { "name", "summary", "measured",
 *                                   "layers": {allocator, system, freelists, gc},
 *                                   <metrics by group and key; null = absent>,
 *                                   "freelists": {"mode", ..., "types": [rows]},
 *                                   "gc": {"policy", ..., "generations": [rows]},
 *                                   "<allocator>": {counters, "<table>": [rows]},
 *                                   "series": {"columns", "points"},
 *                                   "pauses": {"columns", "rows"},
 *                                   "occupancy": [{at, event, pools_in_use,
 *                                                  pools_usable}],
 *                                   "warnings": [..],
 *                                   "vs_baseline": {...} } ] } ] }
 *
 * vs_baseline is derived (every policy but the baseline: "delta" and
 * "percent" with the metrics' groups and keys, event indices left out,
 * percent null where the baseline's value is 0); the loader ignores it
 * and the writer derives it again, so write(load(write(r))) is
 * write(r) byte for byte. Numbers are printed so that they read back as
 * the same double (cJSON: %.15g, else %.17g).
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "xalloc.h"

#define REPORT_SCHEMA "memsim-report-2"

/* The columns of a series point and of a pause, in JSON order. */
static const char *const pause_columns[] = {
	"event", "start_ns", "pause_ns", "generation", "explicit", "examined",
	"traversed", "unreachable", "freed",
};
#define PAUSE_NCOLS (sizeof pause_columns / sizeof pause_columns[0])

static void pause_get(const struct gc_pause *p, double out[PAUSE_NCOLS])
{
	out[0] = (double)p->event;
	out[1] = (double)p->start_ns;
	out[2] = (double)p->pause_ns;
	out[3] = (double)p->generation;
	out[4] = (double)p->explicit_;
	out[5] = (double)p->examined;
	out[6] = (double)p->traversed;
	out[7] = (double)p->unreachable;
	out[8] = (double)p->freed;
}

static void pause_set(struct gc_pause *p, const double in[PAUSE_NCOLS])
{
	p->event = (uint64_t)in[0];
	p->start_ns = (uint64_t)in[1];
	p->pause_ns = (uint64_t)in[2];
	p->generation = (uint32_t)in[3];
	p->explicit_ = (uint32_t)in[4];
	p->examined = (uint64_t)in[5];
	p->traversed = (uint64_t)in[6];
	p->unreachable = (uint64_t)in[7];
	p->freed = (uint64_t)in[8];
}

/* ---- writing --------------------------------------------------------------- */

/* The object for a dotted group path ("gc.pauses"), made on first use. */
static cJSON *group_of(cJSON *obj, const char *group)
{
	char part[64];

	while (group && *group) {
		size_t n = strcspn(group, ".");
		cJSON *g;

		snprintf(part, sizeof part, "%.*s", (int)n, group);
		g = cJSON_GetObjectItemCaseSensitive(obj, part);
		obj = g ? g : cJSON_AddObjectToObject(obj, part);
		group += n + (group[n] == '.');
	}
	return obj;
}

/* A number printed so that it reads back as the same double: the
 * shortest of %.15g, %.16g, %.17g that does (cJSON's own printer accepts
 * a near miss, which would break the round trip); null for NaN. */
static cJSON *number(double v)
{
	char buf[40];

	if (isnan(v) || isinf(v))
		return cJSON_CreateNull();
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(buf, sizeof buf, "%.0f", v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	return cJSON_CreateRaw(buf);
}

static void add_number(cJSON *obj, const char *key, double v)
{
	cJSON_AddItemToObject(obj, key, number(v));
}

static cJSON *strings_json(const struct record_strings *w)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < w->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(w->v[i]));
	return a;
}

/* A table as an array of row objects, the row's name first; absent
 * cells are left out. Its path's last part is its key under the group. */
static void table_json(cJSON *pol, const struct record_table *t)
{
	const char *dot = strrchr(t->name, '.');
	char group[200];
	cJSON *arr;

	snprintf(group, sizeof group, "%.*s", dot ? (int)(dot - t->name) : 0, t->name);
	arr = cJSON_AddArrayToObject(group_of(pol, group), dot ? dot + 1 : t->name);
	for (size_t r = 0; r < t->nrows; r++) {
		cJSON *row = cJSON_CreateObject();

		if (t->row_key)
			cJSON_AddStringToObject(row, t->row_key, t->rows[r]);
		for (size_t c = 0; c < t->ncols; c++) {
			double v = t->cells[r * t->ncols + c];

			if (!isnan(v))
				add_number(row, t->cols[c].key, v);
		}
		cJSON_AddItemToArray(arr, row);
	}
}

static cJSON *columns_json(const char *const *cols, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t c = 0; c < n; c++)
		cJSON_AddItemToArray(a, cJSON_CreateString(cols[c]));
	return a;
}

static void series_json(cJSON *pol, const struct record_policy *p)
{
	cJSON *s = cJSON_AddObjectToObject(pol, "series"), *pts;

	cJSON_AddItemToObject(s, "columns", columns_json(series_column_key, SERIES_NCOLS));
	pts = cJSON_AddArrayToObject(s, "points");
	for (size_t i = 0; i < p->nseries; i++) {
		cJSON *row = cJSON_CreateArray();

		for (int c = 0; c < SERIES_NCOLS; c++)
			cJSON_AddItemToArray(row, number((double)p->series[i].v[c]));
		cJSON_AddItemToArray(pts, row);
	}
}

static void pauses_json(cJSON *pol, const struct record_policy *p)
{
	cJSON *s = cJSON_AddObjectToObject(pol, "pauses"), *rows;

	cJSON_AddItemToObject(s, "columns", columns_json(pause_columns, PAUSE_NCOLS));
	rows = cJSON_AddArrayToObject(s, "rows");
	for (size_t i = 0; i < p->npauses; i++) {
		cJSON *row = cJSON_CreateArray();
		double v[PAUSE_NCOLS];

		pause_get(&p->pauses[i], v);
		for (size_t c = 0; c < PAUSE_NCOLS; c++)
			cJSON_AddItemToArray(row, number(v[c]));
		cJSON_AddItemToArray(rows, row);
	}
}

static void occupancy_json(cJSON *pol, const struct record_policy *p)
{
	cJSON *arr = cJSON_AddArrayToObject(pol, "occupancy");

	for (size_t i = 0; i < p->noccupancy; i++) {
		const struct record_occupancy *o = &p->occupancy[i];
		cJSON *s = cJSON_CreateObject();
		cJSON *in, *us;

		cJSON_AddStringToObject(s, "at", o->at);
		add_number(s, "event", (double)o->event);
		in = cJSON_AddArrayToObject(s, "pools_in_use");
		us = cJSON_AddArrayToObject(s, "pools_usable");
		for (size_t k = 0; k < o->n; k++) {
			cJSON_AddItemToArray(in, number(o->in_use[k]));
			cJSON_AddItemToArray(us, number(o->usable[k]));
		}
		cJSON_AddItemToArray(arr, s);
	}
}

static void vs_baseline(cJSON *pol, const struct record_policy *p,
			const struct record_policy *base)
{
	cJSON *vs = cJSON_AddObjectToObject(pol, "vs_baseline");
	cJSON *delta, *pct;

	cJSON_AddStringToObject(vs, "baseline", base->name);
	delta = cJSON_AddObjectToObject(vs, "delta");
	pct = cJSON_AddObjectToObject(vs, "percent");
	for (int m = 0; m < STATS_COUNT_; m++) {
		double d, pc;

		if (!report_has_delta(m))
			continue;
		report_delta(p->m[m], base->m[m], &d, &pc);
		cJSON_AddItemToObject(group_of(delta, stats_defs[m].group),
				      stats_defs[m].key, number(d));
		cJSON_AddItemToObject(group_of(pct, stats_defs[m].group),
				      stats_defs[m].key, number(pc));
	}
}

static cJSON *policy_json(const struct record_policy *p)
{
	cJSON *o = cJSON_CreateObject(), *layers;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "summary", p->summary);
	cJSON_AddBoolToObject(o, "measured", p->measured);
	layers = cJSON_AddObjectToObject(o, "layers");
	cJSON_AddStringToObject(layers, "allocator", p->allocator);
	cJSON_AddStringToObject(layers, "system", p->system);
	cJSON_AddStringToObject(layers, "freelists", p->freelists);
	cJSON_AddStringToObject(layers, "gc", p->gc);
	cJSON_AddStringToObject(group_of(o, "freelists"), "mode", p->freelists);
	cJSON_AddStringToObject(group_of(o, "gc"), "policy", p->gc);
	for (int m = 0; m < STATS_COUNT_; m++)
		cJSON_AddItemToObject(group_of(o, stats_defs[m].group), stats_defs[m].key,
				      number(p->m[m]));
	for (size_t i = 0; i < p->ncounters; i++)
		add_number(group_of(o, p->counters[i].group), p->counters[i].key,
					p->counters[i].value);
	for (size_t i = 0; i < p->ntables; i++)
		table_json(o, &p->tables[i]);
	if (p->sampled)
		series_json(o, p);
	pauses_json(o, p);
	occupancy_json(o, p);
	cJSON_AddItemToObject(o, "warnings", strings_json(&p->warnings));
	return o;
}


/* The recorded collections summed by generation (derived: the loader
 * rebuilds them from "recorded_collections"). */
static void recorded_gens_json(cJSON *tr, const struct record_trace *t)
{
	struct record_gc_summary *g;
	size_t n = record_recorded_gens(t, &g);
	cJSON *arr = cJSON_AddArrayToObject(tr, "recorded_generations");

	for (size_t i = 0; i < n; i++) {
		cJSON *m = cJSON_CreateObject();

		add_number(m, "generation", g[i].generation);
		add_number(m, "collections", (double)g[i].collections);
		add_number(m, "collected", (double)g[i].freed);
		add_number(m, "pause_total_ns", (double)g[i].pause_total_ns);
		add_number(m, "pause_p50_ns", (double)g[i].pause_p50_ns);
		add_number(m, "pause_p95_ns", (double)g[i].pause_p95_ns);
		add_number(m, "pause_p99_ns", (double)g[i].pause_p99_ns);
		add_number(m, "pause_max_ns", (double)g[i].pause_max_ns);
		cJSON_AddItemToArray(arr, m);
	}
	free(g);
}
static cJSON *trace_json(const struct record_trace *t, const struct report_opts *opts)
{
	cJSON *tr = cJSON_CreateObject(), *meta, *arr, *pols;
	size_t base = report_baseline(t, opts);

	cJSON_AddStringToObject(tr, "trace", t->name);
	meta = t->metadata ? cJSON_Parse(t->metadata) : NULL;
	cJSON_AddItemToObject(tr, "metadata", meta ? meta : cJSON_CreateNull());
	add_number(tr, "events", (double)t->events);
	cJSON_AddBoolToObject(tr, "timed", t->timed);
	arr = cJSON_AddArrayToObject(tr, "marks");
	for (size_t i = 0; i < t->nmarks; i++) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "label", t->marks[i].label);
		add_number(m, "event", (double)t->marks[i].event);
		add_number(m, "time_ns", (double)t->marks[i].time_ns);
		cJSON_AddItemToArray(arr, m);
	}
	arr = cJSON_AddArrayToObject(tr, "recorded_collections");
	for (size_t i = 0; i < t->nrecorded; i++) {
		const struct record_collection *c = &t->recorded[i];
		cJSON *m = cJSON_CreateObject();

		add_number(m, "event", (double)c->event);
		add_number(m, "time_ns", (double)c->time_ns);
		add_number(m, "generation", c->generation);
		add_number(m, "freed", (double)c->freed);
		add_number(m, "pause_ns", (double)c->pause_ns);
		cJSON_AddItemToArray(arr, m);
	}
	recorded_gens_json(tr, t);
	cJSON_AddItemToObject(tr, "warnings", strings_json(&t->warnings));
	pols = cJSON_AddArrayToObject(tr, "policies");
	for (size_t i = 0; i < t->npol; i++) {
		cJSON *pol = policy_json(&t->pol[i]);

		if (base != SIZE_MAX && i != base)
			vs_baseline(pol, &t->pol[i], &t->pol[base]);
		cJSON_AddItemToArray(pols, pol);
	}
	return tr;
}

static void define(cJSON *defs, const char *path, const char *label, enum unit u,
		   enum kind k)
{
	cJSON *d;

	if (cJSON_GetObjectItemCaseSensitive(defs, path))
		return;
	d = cJSON_AddObjectToObject(defs, path);
	cJSON_AddStringToObject(d, "label", label);
	cJSON_AddStringToObject(d, "unit", unit_name(u));
	cJSON_AddStringToObject(d, "kind", kind_name(k));
}

/* Label, unit and kind of every counter ("pymalloc.arena_bytes") and of
 * every column of the tables stats.h does not define
 * ("pymalloc.size_classes.size"): the document describes itself. */
static cJSON *definitions(const struct record *rec)
{
	cJSON *defs = cJSON_CreateObject();
	char path[400];

	for (size_t t = 0; t < rec->ntraces; t++)
		for (size_t i = 0; i < rec->traces[t].npol; i++) {
			const struct record_policy *p = &rec->traces[t].pol[i];

			for (size_t c = 0; c < p->ncounters; c++) {
				snprintf(path, sizeof path, "%s.%s", p->counters[c].group,
					 p->counters[c].key);
				define(defs, path, p->counters[c].label, p->counters[c].unit,
				       p->counters[c].kind);
			}
			for (size_t k = 0; k < p->ntables; k++) {
				const struct record_table *tb = &p->tables[k];

				if (strcmp(tb->name, STATS_GEN_TABLE) == 0 ||
				    strcmp(tb->name, STATS_TYPE_TABLE) == 0)
					continue;
				for (size_t c = 0; c < tb->ncols; c++) {
					snprintf(path, sizeof path, "%s.%s", tb->name, tb->cols[c].key);
					define(defs, path, tb->cols[c].label, tb->cols[c].unit,
					       tb->cols[c].kind);
				}
			}
		}
	return defs;
}

static void json_write(struct strbuf *sb, const struct record *rec,
		       const struct report_opts *opts)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *traces;

	cJSON_AddStringToObject(doc, "schema", REPORT_SCHEMA);
	cJSON_AddItemToObject(doc, "baseline", opts && opts->baseline
			      ? cJSON_CreateString(opts->baseline) : cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "warnings", strings_json(&rec->warnings));
	traces = cJSON_AddArrayToObject(doc, "traces");
	for (size_t t = 0; t < rec->ntraces; t++)
		cJSON_AddItemToArray(traces, trace_json(&rec->traces[t], opts));
	cJSON_AddItemToObject(doc, "definitions", definitions(rec));
	sb_put_json(sb, doc);
	cJSON_Delete(doc);
}

const struct report_format report_format_json = {
	.name = "json",
	.summary = "every result, losslessly (what `memsim merge` reads back)",
	.file = "report.json",
	.write = json_write,
};

/* ---- loading --------------------------------------------------------------- */

struct loader {
	const char *file;
	struct ms_error *err;
	const cJSON *defs;      /* the document's "definitions" */
	char where[160];        /* "trace 2, policy 1" */
};

static int bad(struct loader *ld, const char *fmt, const char *what)
{
	ms_error_at(ld->err, ld->file, 0);
	return ms_error_set(ld->err, MS_EXIT_DATAERR, "%s%s%s: %s", ld->where,
			    ld->where[0] ? ": " : "", what, fmt);
}

static const cJSON *item(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/*
 * The label, unit and kind of `path` from the document's definitions,
 * else from the allocator policy's own table (key `key`), else the key
 * itself as a count. The strings stay owned by the document or policy.
 */
static void describe(const struct loader *ld, const char *path,
		     const struct alloc_policy *ap, const char *key,
		     const char **label, enum unit *u, enum kind *k)
{
	const cJSON *d = item(ld->defs, path);
	const cJSON *l = item(d, "label"), *un = item(d, "unit"), *kd = item(d, "kind");

	*label = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
	*u = UNIT_COUNT;
	*k = KIND_FINAL;
	for (size_t i = 0; ap && i < ap->ncounters; i++)
		if (strcmp(ap->counters[i].key, key) == 0) {
			*label = ap->counters[i].label;
			*u = ap->counters[i].unit;
			*k = ap->counters[i].kind;
		}
	if (cJSON_IsString(l))
		*label = l->valuestring;
	if (cJSON_IsString(un) && unit_find(un->valuestring) >= 0)
		*u = (enum unit)unit_find(un->valuestring);
	if (cJSON_IsString(kd) && kind_find(kd->valuestring) >= 0)
		*k = (enum kind)kind_find(kd->valuestring);
}

/* A required string member, copied. */
static int get_str(struct loader *ld, const cJSON *obj, const char *key, char **out)
{
	const cJSON *v = item(obj, key);

	if (!cJSON_IsString(v))
		return bad(ld, "missing or not a string", key);
	*out = xstrdup(v->valuestring);
	return 0;
}

/* A number member (null: NaN); absent is an error unless optional. */
static int get_num(struct loader *ld, const cJSON *obj, const char *key, double *out,
		   int optional)
{
	const cJSON *v = item(obj, key);

	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsNull(v) || (!v && optional)) {
		*out = NAN;
		return 0;
	}
	return bad(ld, "missing or not a number", key);
}

static int get_u64(struct loader *ld, const cJSON *obj, const char *key, uint64_t *out)
{
	double v;

	if (get_num(ld, obj, key, &v, 0))
		return ld->err->code;
	if (isnan(v) || v < 0 || v != floor(v))
		return bad(ld, "not a whole number", key);
	*out = (uint64_t)v;
	return 0;
}

static int get_strings(struct loader *ld, const cJSON *obj, struct record_strings *w)
{
	const cJSON *a = item(obj, "warnings"), *e;

	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return bad(ld, "not an array", "warnings");
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e))
			return bad(ld, "holds a value that is not a string", "warnings");
		record_warn(w, "%s", e->valuestring);
	}
	return 0;
}

/* The member at a dotted group path, or NULL. */
static const cJSON *at_group(const cJSON *obj, const char *group)
{
	char part[64];

	while (obj && group && *group) {
		size_t n = strcspn(group, ".");

		snprintf(part, sizeof part, "%.*s", (int)n, group);
		obj = item(obj, part);
		group += n + (group[n] == '.');
	}
	return obj;
}

/* A table from an array of row objects. Keyed tables (rows named by
 * row_key) take their columns from `cols`; others from their rows'
 * members in first-seen order, with labels and units from `ap`. */
static int load_table(struct loader *ld, struct record_policy *p, const char *name,
		      const cJSON *arr, const char *row_key,
		      const struct stats_column *cols, size_t ncols,
		      const struct alloc_policy *ap)
{
	struct record_column *rc = NULL;
	size_t n = 0;
	struct record_table *t;
	const cJSON *row, *cell;

	if (!cJSON_IsArray(arr))
		return bad(ld, "not an array of rows", name);
	if (cols) {
		rc = xcalloc(ncols, sizeof *rc);
		for (size_t c = 0; c < ncols; c++)
			rc[c] = (struct record_column){ (char *)cols[c].key, (char *)cols[c].label,
							cols[c].unit, cols[c].kind };
		n = ncols;
	} else {
		/* a table of its own names its rows by its one string member */
		cJSON_ArrayForEach(row, arr)
			cJSON_ArrayForEach(cell, row)
				if (cJSON_IsString(cell) && !row_key)
					row_key = cell->string;
		cJSON_ArrayForEach(row, arr) {
			cJSON_ArrayForEach(cell, row) {
				size_t k;

				if (row_key && strcmp(cell->string, row_key) == 0)
					continue;
				for (k = 0; k < n && strcmp(rc[k].key, cell->string) != 0; k++)
					;
				if (k < n)
					continue;
				rc = xreallocarray(rc, n + 1, sizeof *rc);
				rc[n++] = (struct record_column){ cell->string, cell->string,
								  UNIT_COUNT, KIND_FINAL };
			}
		}
		/* a table with no rows keeps its columns through the definitions
		 * ("NAME.COLUMN", in column order) */
		if (n == 0 && cJSON_GetArraySize(arr) == 0)
			cJSON_ArrayForEach(cell, ld->defs) {
				size_t len = strlen(name);

				if (strncmp(cell->string, name, len) != 0 || cell->string[len] != '.' ||
				    strchr(cell->string + len + 1, '.'))
					continue;
				rc = xreallocarray(rc, n + 1, sizeof *rc);
				rc[n++] = (struct record_column){ cell->string + len + 1,
								  cell->string + len + 1,
								  UNIT_COUNT, KIND_FINAL };
			}
		for (size_t k = 0; k < n; k++) {
			const char *last = strrchr(name, '.');
			char key[200], path[400];
			const char *label;

			snprintf(key, sizeof key, "%s.%s", last ? last + 1 : name, rc[k].key);
			snprintf(path, sizeof path, "%s.%s", name, rc[k].key);
			describe(ld, path, ap, key, &label, &rc[k].unit, &rc[k].kind);
			rc[k].label = (char *)label;
		}
	}
	t = record_add_table(p, name, row_key, rc, n);
	free(rc);
	cJSON_ArrayForEach(row, arr) {
		const cJSON *rn = row_key ? item(row, row_key) : NULL;
		double *cells;

		if (!cJSON_IsObject(row) || (row_key && !cJSON_IsString(rn)))
			return bad(ld, "a row is not an object with its name", name);
		cells = record_table_row(t, rn ? rn->valuestring : NULL);
		cJSON_ArrayForEach(cell, row) {
			int c = record_table_col(t, cell->string);

			if (row_key && strcmp(cell->string, row_key) == 0)
				continue;
			if (c < 0 || !cJSON_IsNumber(cell))
				return bad(ld, "a row has an unknown or non-numeric cell", name);
			cells[c] = cell->valuedouble;
		}
	}
	return 0;
}

/* Rows of numbers with `ncols` columns: fills a newly allocated
 * double[n * ncols]. */
static int load_rows(struct loader *ld, const cJSON *obj, const char *key,
		     size_t ncols, double **out, size_t *n)
{
	const cJSON *rows = item(obj, key), *row, *cell;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(rows))
		return bad(ld, "missing or not an array", key);
	*n = (size_t)cJSON_GetArraySize(rows);
	*out = xcalloc(*n ? *n * ncols : 1, sizeof **out);
	cJSON_ArrayForEach(row, rows) {
		size_t c = 0;

		if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != ncols)
			return bad(ld, "a row has the wrong number of columns", key);
		cJSON_ArrayForEach(cell, row) {
			if (!cJSON_IsNumber(cell) || cell->valuedouble < 0)
				return bad(ld, "a row holds a value that is not a count", key);
			(*out)[k * ncols + c++] = cell->valuedouble;
		}
		k++;
	}
	return 0;
}

static int check_columns(struct loader *ld, const cJSON *obj, const char *what,
			 const char *const *cols, size_t n)
{
	const cJSON *a = item(obj, "columns"), *e;
	size_t k = 0;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		return bad(ld, "columns differ from this memsim's", what);
	cJSON_ArrayForEach(e, a)
		if (!cJSON_IsString(e) || strcmp(e->valuestring, cols[k++]) != 0)
			return bad(ld, "columns differ from this memsim's", what);
	return 0;
}

static int load_series(struct loader *ld, struct record_policy *p, const cJSON *s)
{
	double *v;
	int rc;

	if (check_columns(ld, s, "series", series_column_key, SERIES_NCOLS))
		return ld->err->code;
	rc = load_rows(ld, s, "points", SERIES_NCOLS, &v, &p->nseries);
	p->sampled = 1;
	p->series = xcalloc(p->nseries ? p->nseries : 1, sizeof *p->series);
	for (size_t i = 0; rc == 0 && i < p->nseries; i++)
		for (int c = 0; c < SERIES_NCOLS; c++)
			p->series[i].v[c] = (uint64_t)v[i * SERIES_NCOLS + (size_t)c];
	free(v);
	return rc;
}

static int load_pauses(struct loader *ld, struct record_policy *p, const cJSON *s)
{
	double *v;
	int rc;

	if (!s) {
		p->pauses = xcalloc(1, sizeof *p->pauses);
		return 0;
	}
	if (check_columns(ld, s, "pauses", pause_columns, PAUSE_NCOLS))
		return ld->err->code;
	rc = load_rows(ld, s, "rows", PAUSE_NCOLS, &v, &p->npauses);
	p->pauses = xcalloc(p->npauses ? p->npauses : 1, sizeof *p->pauses);
	for (size_t i = 0; rc == 0 && i < p->npauses; i++)
		pause_set(&p->pauses[i], &v[i * PAUSE_NCOLS]);
	free(v);
	return rc;
}

static int load_counts(struct loader *ld, const cJSON *a, const char *what,
		       uint32_t **out, size_t n)
{
	const cJSON *e;
	size_t k = 0;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != n)
		return bad(ld, "missing, or not as long as the others", what);
	*out = xcalloc(n ? n : 1, sizeof **out);
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > UINT32_MAX)
			return bad(ld, "holds a value that is not a count", what);
		(*out)[k++] = (uint32_t)e->valuedouble;
	}
	return 0;
}

static int load_occupancy(struct loader *ld, struct record_policy *p, const cJSON *arr)
{
	const cJSON *e;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return bad(ld, "not an array", "occupancy");
	cJSON_ArrayForEach(e, arr) {
		struct record_occupancy *o;
		const cJSON *in = item(e, "pools_in_use");

		p->occupancy = xreallocarray(p->occupancy, p->noccupancy + 1,
					     sizeof *p->occupancy);
		o = &p->occupancy[p->noccupancy++];
		memset(o, 0, sizeof *o);
		o->n = cJSON_IsArray(in) ? (size_t)cJSON_GetArraySize(in) : 0;
		if (get_str(ld, e, "at", &o->at) || get_u64(ld, e, "event", &o->event) ||
		    load_counts(ld, in, "occupancy.pools_in_use", &o->in_use, o->n) ||
		    load_counts(ld, item(e, "pools_usable"), "occupancy.pools_usable",
				&o->usable, o->n))
			return ld->err->code;
	}
	return 0;
}

/* Whether a policy member is one the record names itself (the rest are
 * allocator groups). */
static int known_member(const char *key)
{
	static const char *const keys[] = {
		"name", "summary", "measured", "layers", "series", "pauses", "occupancy",
		"warnings", "vs_baseline", "freelists", "gc", NULL,
	};

	for (size_t i = 0; keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return 1;
	for (int m = 0; m < STATS_COUNT_; m++) {
		const char *g = stats_defs[m].group;
		size_t n = g ? strcspn(g, ".") : 0;

		if (g ? strlen(key) == n && strncmp(g, key, n) == 0
		      : strcmp(stats_defs[m].key, key) == 0)
			return 1;
	}
	return 0;
}

/* An allocator group: its numbers are counters, its arrays tables. */
static int load_group(struct loader *ld, struct record_policy *p, const cJSON *g)
{
	const struct alloc_policy *ap = alloc_find(g->string);
	const cJSON *e;
	char name[200];

	if (!cJSON_IsObject(g))
		return bad(ld, "not an allocator's object", g->string);
	cJSON_ArrayForEach(e, g) {
		if (cJSON_IsArray(e)) {
			snprintf(name, sizeof name, "%s.%s", g->string, e->string);
			if (load_table(ld, p, name, e, NULL, NULL, 0, ap))
				return ld->err->code;
		} else if (cJSON_IsNumber(e)) {
			struct record_counter *c;
			const char *label;
			enum unit u;
			enum kind k;

			snprintf(name, sizeof name, "%s.%s", g->string, e->string);
			describe(ld, name, ap, e->string, &label, &u, &k);
			p->counters = xreallocarray(p->counters, p->ncounters + 1,
						    sizeof *p->counters);
			c = &p->counters[p->ncounters++];
			*c = (struct record_counter){
				.group = xstrdup(g->string), .key = xstrdup(e->string),
				.label = xstrdup(label), .unit = u, .kind = k,
				.value = e->valuedouble,
			};
		} else {
			return bad(ld, "holds a value that is neither a count nor a table",
				   g->string);
		}
	}
	return 0;
}

static int load_policy(struct loader *ld, struct record_policy *p, const cJSON *o)
{
	const cJSON *layers = item(o, "layers"), *e, *types, *gens;

	if (!cJSON_IsObject(o))
		return bad(ld, "not an object", "policy");
	if (get_str(ld, o, "name", &p->name) || get_str(ld, o, "summary", &p->summary))
		return ld->err->code;
	p->measured = cJSON_IsTrue(item(o, "measured"));
	if (!cJSON_IsObject(layers))
		return bad(ld, "missing or not an object", "layers");
	if (get_str(ld, layers, "allocator", &p->allocator) ||
	    get_str(ld, layers, "system", &p->system) ||
	    get_str(ld, layers, "freelists", &p->freelists) ||
	    get_str(ld, layers, "gc", &p->gc))
		return ld->err->code;
	for (int m = 0; m < STATS_COUNT_; m++) {
		const cJSON *g = at_group(o, stats_defs[m].group);

		if (!g || get_num(ld, g, stats_defs[m].key, &p->m[m], 0))
			return g ? ld->err->code : bad(ld, "missing", stats_defs[m].group);
	}
	gens = at_group(o, STATS_GEN_TABLE);
	types = at_group(o, STATS_TYPE_TABLE);
	if (load_table(ld, p, STATS_GEN_TABLE, gens, STATS_GEN_ROW_KEY, stats_gen_columns,
		       STATS_GEN_NCOLS, NULL) ||
	    load_table(ld, p, STATS_TYPE_TABLE, types, STATS_TYPE_ROW_KEY,
		       stats_type_columns, STATS_TYPE_NCOLS, NULL) ||
	    (at_group(o, STATS_LIST_TABLE) &&
	     load_table(ld, p, STATS_LIST_TABLE, at_group(o, STATS_LIST_TABLE),
			STATS_LIST_ROW_KEY, NULL, 0, NULL)))
		return ld->err->code;
	cJSON_ArrayForEach(e, o)
		if (!known_member(e->string) && load_group(ld, p, e))
			return ld->err->code;
	if (item(o, "series") && load_series(ld, p, item(o, "series")))
		return ld->err->code;
	if (load_pauses(ld, p, item(o, "pauses")) ||
	    load_occupancy(ld, p, item(o, "occupancy")) || get_strings(ld, o, &p->warnings))
		return ld->err->code;
	return 0;
}

static int load_marks(struct loader *ld, struct record_trace *t, const cJSON *tr)
{
	const cJSON *a = item(tr, "marks"), *e;

	cJSON_ArrayForEach(e, a) {
		char *label = NULL;
		uint64_t ev, ns;

		if (get_str(ld, e, "label", &label))
			return ld->err->code;
		if (get_u64(ld, e, "event", &ev) || get_u64(ld, e, "time_ns", &ns)) {
			free(label);
			return ld->err->code;
		}
		record_add_mark(t, label, ev, ns);
		free(label);
	}
	a = item(tr, "recorded_collections");
	cJSON_ArrayForEach(e, a) {
		struct record_collection c = { 0 };
		uint64_t g;

		if (get_u64(ld, e, "event", &c.event) || get_u64(ld, e, "time_ns", &c.time_ns) ||
		    get_u64(ld, e, "generation", &g) || get_u64(ld, e, "freed", &c.freed) ||
		    get_u64(ld, e, "pause_ns", &c.pause_ns))
			return ld->err->code;
		c.generation = (uint32_t)g;
		record_add_collection(t, &c);
	}
	return 0;
}

static int load_trace(struct loader *ld, struct record_trace *t, const cJSON *tr)
{
	const cJSON *meta = item(tr, "metadata"), *pols = item(tr, "policies"), *e;
	size_t i = 0;
	size_t len = strlen(ld->where);

	if (get_str(ld, tr, "trace", &t->name) || get_u64(ld, tr, "events", &t->events))
		return ld->err->code;
	t->timed = cJSON_IsTrue(item(tr, "timed"));
	if (cJSON_IsObject(meta)) {
		char *text = cJSON_PrintUnformatted(meta);

		t->metadata = xstrdup(text);
		free(text);
	}
	if (load_marks(ld, t, tr) || get_strings(ld, tr, &t->warnings))
		return ld->err->code;
	if (!cJSON_IsArray(pols))
		return bad(ld, "missing or not an array", "policies");
	t->npol = (size_t)cJSON_GetArraySize(pols);
	t->pol = xcalloc(t->npol ? t->npol : 1, sizeof *t->pol);
	cJSON_ArrayForEach(e, pols) {
		snprintf(ld->where + len, sizeof ld->where - len, ", policy %zu", i + 1);
		if (load_policy(ld, &t->pol[i++], e))
			return ld->err->code;
	}
	return 0;
}

int record_load_json(const char *text, size_t len, const char *file,
		     struct record *out, struct ms_error *err)
{
	struct loader ld = { .file = file, .err = err };
	cJSON *doc = cJSON_ParseWithLength(text, len);
	const cJSON *schema, *traces, *tr;
	size_t i = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!doc) {
		ms_error_at(err, file, 0);
		return ms_error_set(err, MS_EXIT_DATAERR, "not a JSON document");
	}
	schema = item(doc, "schema");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, REPORT_SCHEMA) != 0) {
		rc = bad(&ld, "missing, or not \"" REPORT_SCHEMA "\" (a memsim replay "
			 "--format json report of this version)", "schema");
		goto out;
	}
	ld.defs = item(doc, "definitions");
	traces = item(doc, "traces");
	if (!cJSON_IsArray(traces)) {
		rc = bad(&ld, "missing or not an array", "traces");
		goto out;
	}
	if ((rc = get_strings(&ld, doc, &out->warnings)))
		goto out;
	if (cJSON_IsString(item(doc, "baseline")))
		out->baseline = xstrdup(item(doc, "baseline")->valuestring);
	cJSON_ArrayForEach(tr, traces) {
		snprintf(ld.where, sizeof ld.where, "trace %zu", ++i);
		if ((rc = load_trace(&ld, record_add_trace(out), tr)))
			break;
	}
out:
	cJSON_Delete(doc);
	if (rc)
		record_free(out);
	return rc;
}
