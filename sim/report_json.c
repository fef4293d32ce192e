/*
 * report_json.c - the JSON report (schema in docs/reports.md).
 *
 *   { "baseline": NAME|null,
 *     "traces": [ { "trace", "metadata", "events", "warnings",
 *                   "policies": [ { "name", "summary", <metrics>,
 *                                   "fragmentation": {jw1..jw4},
 *                                   "<allocator>": {counters, tables},
 *                                   "vs_baseline": { "baseline",
 *                                     "delta": <metrics>,
 *                                     "percent": <metrics> } } ] } ] }
 *
 * vs_baseline appears in every policy but the baseline; its "delta" and
 * "percent" objects have the metrics' own groups and keys (event indices
 * left out), percent null where the baseline's value is 0.
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "stats.h"

/* A counter a layer reports under a key the metric table also uses
 * replaces it (they measure the same thing), so keys stay unique. */
static void counter_cb(void *ctx, const char *key, uint64_t value)
{
	if (cJSON_GetObjectItemCaseSensitive(ctx, key))
		cJSON_ReplaceItemInObjectCaseSensitive(ctx, key,
						       cJSON_CreateNumber((double)value));
	else
		cJSON_AddNumberToObject(ctx, key, (double)value);
}

static void table_cb(void *ctx, const char *name, const char *const *columns,
		     size_t ncols, const uint64_t *cells, size_t nrows)
{
	cJSON *arr = cJSON_AddArrayToObject(ctx, name);

	for (size_t r = 0; r < nrows; r++) {
		cJSON *row = cJSON_CreateObject();

		for (size_t c = 0; c < ncols; c++)
			cJSON_AddNumberToObject(row, columns[c], (double)cells[r * ncols + c]);
		cJSON_AddItemToArray(arr, row);
	}
}

/* The object for a dotted group path ("gc.pauses"), made on first use. */
static cJSON *group_of(cJSON *pol, const char *group)
{
	char part[64];

	while (group && *group) {
		size_t n = strcspn(group, ".");
		cJSON *g;

		snprintf(part, sizeof part, "%.*s", (int)n, group);
		g = cJSON_GetObjectItemCaseSensitive(pol, part);
		pol = g ? g : cJSON_AddObjectToObject(pol, part);
		group += n + (group[n] == '.');
	}
	return pol;
}

static void gc_arrays(cJSON *pol, const struct runtime *rt)
{
	const struct policy *p = runtime_policy(rt);
	cJSON *gc = group_of(pol, "gc");
	struct gc_stats g;
	cJSON *c, *d, *n;

	runtime_gc_stats(rt, &g);
	cJSON_AddStringToObject(gc, "policy", p->part[POLICY_GC].impl.name);
	c = cJSON_AddArrayToObject(gc, "collections");
	d = cJSON_AddArrayToObject(gc, "collected");
	n = cJSON_AddArrayToObject(gc, "count");
	for (uint32_t i = 0; i < g.generations; i++) {
		cJSON_AddItemToArray(c, cJSON_CreateNumber((double)g.collections[i]));
		cJSON_AddItemToArray(d, cJSON_CreateNumber((double)g.collected[i]));
		cJSON_AddItemToArray(n, cJSON_CreateNumber((double)g.count[i]));
	}
}

static void vs_baseline(cJSON *pol, const struct runtime *rt,
			const struct runtime *base)
{
	cJSON *vs = cJSON_AddObjectToObject(pol, "vs_baseline");
	cJSON *delta, *pct;
	double v[STATS_COUNT_], b[STATS_COUNT_];

	cJSON_AddStringToObject(vs, "baseline", runtime_policy(base)->name);
	delta = cJSON_AddObjectToObject(vs, "delta");
	pct = cJSON_AddObjectToObject(vs, "percent");
	runtime_metrics(rt, v);
	runtime_metrics(base, b);
	for (int m = 0; m < STATS_COUNT_; m++) {
		double d, p;

		if (!report_has_delta(m))
			continue;
		report_delta(v[m], b[m], &d, &p);
		cJSON_AddNumberToObject(group_of(delta, stats_defs[m].group),
					stats_defs[m].key, d);
		cJSON_AddItemToObject(group_of(pct, stats_defs[m].group),
				      stats_defs[m].key,
				      isnan(p) ? cJSON_CreateNull() : cJSON_CreateNumber(p));
	}
}

static cJSON *policy_json(const struct runtime *rt)
{
	const struct policy *p = runtime_policy(rt);
	const struct alloc_inst *a = runtime_allocator(rt);
	cJSON *o = cJSON_CreateObject();
	double v[STATS_COUNT_];

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "summary", p->summary);
	cJSON_AddBoolToObject(o, "measured", runtime_measured(rt));
	runtime_metrics(rt, v);
	cJSON_AddStringToObject(group_of(o, "freelists"), "mode",
				p->part[POLICY_FREELISTS].impl.name);
	{
		struct alloc_sink fs = { group_of(o, "freelists"), counter_cb, table_cb };

		runtime_freelist_details(rt, &fs);
	}
	gc_arrays(o, rt);
	for (int m = 0; m < STATS_COUNT_; m++)
		cJSON_AddNumberToObject(group_of(o, stats_defs[m].group),
					stats_defs[m].key, v[m]);
	if (a->policy->details) {
		struct alloc_sink sink = {
			cJSON_AddObjectToObject(o, a->policy->name), counter_cb, table_cb,
		};

		a->policy->details(a->state, &sink);
	}
	return o;
}

void report_json(struct strbuf *sb, const struct engine_run *runs, size_t n,
		 const struct report_opts *opts)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *traces = cJSON_CreateArray();

	cJSON_AddItemToObject(doc, "baseline", opts && opts->baseline
			      ? cJSON_CreateString(opts->baseline) : cJSON_CreateNull());
	cJSON_AddItemToObject(doc, "traces", traces);
	for (size_t t = 0; t < n; t++) {
		cJSON *tr = cJSON_CreateObject(), *pols, *meta;
		size_t base = report_baseline(&runs[t], opts);

		cJSON_AddStringToObject(tr, "trace", runs[t].trace);
		meta = runs[t].metadata ? cJSON_Parse(runs[t].metadata) : NULL;
		cJSON_AddItemToObject(tr, "metadata", meta ? meta : cJSON_CreateNull());
		cJSON_AddNumberToObject(tr, "events", (double)runs[t].events);
		{
			cJSON *w = cJSON_AddArrayToObject(tr, "warnings");

			for (size_t k = 0; k < runs[t].nwarnings; k++)
				cJSON_AddItemToArray(w, cJSON_CreateString(runs[t].warnings[k]));
		}
		pols = cJSON_AddArrayToObject(tr, "policies");
		for (size_t i = 0; i < runs[t].n; i++) {
			cJSON *pol = policy_json(runs[t].rt[i]);

			if (base != SIZE_MAX && i != base)
				vs_baseline(pol, runs[t].rt[i], runs[t].rt[base]);
			cJSON_AddItemToArray(pols, pol);
		}
		cJSON_AddItemToArray(traces, tr);
	}
	sb_put_json(sb, doc);
	cJSON_Delete(doc);
}
