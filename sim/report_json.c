/*
 * report_json.c - the JSON report (schema in docs/reports.md).
 *
 *   { "traces": [ { "trace", "metadata", "events",
 *                   "policies": [ { "name", "summary", <metrics>,
 *                                   "fragmentation": {jw1..jw4},
 *                                   "<allocator>": {counters, tables} } ] } ] }
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "stats.h"

static void counter_cb(void *ctx, const char *key, uint64_t value)
{
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

static cJSON *policy_json(const struct runtime *rt)
{
	const struct policy *p = runtime_policy(rt);
	const struct alloc_inst *a = runtime_allocator(rt);
	cJSON *o = cJSON_CreateObject();
	double v[STATS_COUNT_];

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "summary", p->summary);
	runtime_metrics(rt, v);
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
	cJSON *traces = cJSON_AddArrayToObject(doc, "traces");
	char *text;

	(void)opts;
	for (size_t t = 0; t < n; t++) {
		cJSON *tr = cJSON_CreateObject(), *pols, *meta;

		cJSON_AddStringToObject(tr, "trace", runs[t].trace);
		meta = runs[t].metadata ? cJSON_Parse(runs[t].metadata) : NULL;
		cJSON_AddItemToObject(tr, "metadata", meta ? meta : cJSON_CreateNull());
		cJSON_AddNumberToObject(tr, "events", (double)runs[t].events);
		pols = cJSON_AddArrayToObject(tr, "policies");
		for (size_t i = 0; i < runs[t].n; i++)
			cJSON_AddItemToArray(pols, policy_json(runs[t].rt[i]));
		cJSON_AddItemToArray(traces, tr);
	}
	text = cJSON_Print(doc);
	sb_puts(sb, text ? text : "{}");
	sb_putc(sb, '\n');
	free(text);
	cJSON_Delete(doc);
}
