/*
 * report_csv.c - one CSV row per (trace, policy) with every fact of the
 * record that is a number.
 *
 * Columns: trace, policy, measured (0/1); each metric of stats.h as
 * GROUP.KEY ("fragmentation.jw1"); each allocator counter as
 * ALLOCATOR.KEY ("pymalloc.arena_bytes"); each table cell as
 * TABLE.ROW.COLUMN ("gc.generations.0.collections",
 * "freelists.types.list.hits"; a table without row names is keyed by its
 * first column: "pymalloc.size_classes.3.pools"). Counter and table
 * columns are the union over every row of the file, in first-seen
 * order, so collectors with other generations or spaces add theirs; a
 * cell a policy does not have is empty. With a baseline, two more
 * columns per metric that has a difference: "vs_baseline.delta.KEY" and
 * "vs_baseline.percent.KEY", empty in the baseline's row and for a
 * percentage of a zero baseline. Numbers are exact (%.17g). Fields with
 * a comma, quote or newline are quoted as RFC 4180 says.
 */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void field(struct strbuf *sb, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		sb_puts(sb, s);
		return;
	}
	sb_putc(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			sb_putc(sb, '"');
		sb_putc(sb, *s);
	}
	sb_putc(sb, '"');
}

static void num(struct strbuf *sb, double v)
{
	sb_putc(sb, ',');
	if (!isnan(v))
		sb_printf(sb, "%.17g", v);
}

static void metric_key(struct strbuf *sb, const char *prefix, int m)
{
	sb_putc(sb, ',');
	sb_puts(sb, prefix);
	if (stats_defs[m].group)
		sb_printf(sb, "%s.", stats_defs[m].group);
	sb_puts(sb, stats_defs[m].key);
}

/* The union of extra columns: counter and table-cell keys. */
struct extra {
	char **keys;
	size_t n, cap;
};

static size_t extra_find(const struct extra *x, const char *key)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->keys[i], key) == 0)
			return i;
	return SIZE_MAX;
}

static void extra_add(struct extra *x, const char *key)
{
	if (extra_find(x, key) != SIZE_MAX)
		return;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->keys = xreallocarray(x->keys, x->cap, sizeof *x->keys);
	}
	x->keys[x->n++] = xstrdup(key);
}

/* Calls fn(ctx, key, value) for every counter and table cell of p. */
static void each_extra(const struct record_policy *p, void *ctx,
		       void (*fn)(void *ctx, const char *key, double v))
{
	char key[512], rowname[64];

	for (size_t i = 0; i < p->ncounters; i++) {
		snprintf(key, sizeof key, "%s.%s", p->counters[i].group, p->counters[i].key);
		fn(ctx, key, p->counters[i].value);
	}
	for (size_t k = 0; k < p->ntables; k++) {
		const struct record_table *t = &p->tables[k];

		for (size_t r = 0; r < t->nrows; r++) {
			const double *row = &t->cells[r * t->ncols];
			size_t c0 = t->row_key ? 0 : 1;

			if (!t->row_key && t->ncols)
				snprintf(rowname, sizeof rowname, "%.17g", row[0]);
			for (size_t c = c0; c < t->ncols; c++) {
				snprintf(key, sizeof key, "%s.%s.%s", t->name,
					 t->row_key ? t->rows[r] : rowname, t->cols[c].key);
				fn(ctx, key, row[c]);
			}
		}
	}
}

static void collect(void *ctx, const char *key, double v)
{
	(void)v;
	extra_add(ctx, key);
}

struct fill {
	const struct extra *x;
	double *v;
};

static void fill_one(void *ctx, const char *key, double v)
{
	struct fill *f = ctx;

	f->v[extra_find(f->x, key)] = v;
}

static void deltas(struct strbuf *sb, const double *v, const double *b)
{
	for (int m = 0; m < STATS_COUNT_; m++) {
		double d, p;

		if (!report_has_delta(m))
			continue;
		if (!b) {
			sb_puts(sb, ",,");
			continue;
		}
		report_delta(v[m], b[m], &d, &p);
		num(sb, d);
		num(sb, p);
	}
}

static void csv_write(struct strbuf *sb, const struct record *rec,
		      const struct report_opts *opts)
{
	int with_base = opts && opts->baseline;
	struct extra x = { 0 };
	double *vals;

	for (size_t t = 0; t < rec->ntraces; t++)
		for (size_t i = 0; i < rec->traces[t].npol; i++)
			each_extra(&rec->traces[t].pol[i], &x, collect);
	sb_puts(sb, "trace,policy,measured");
	for (int m = 0; m < STATS_COUNT_; m++)
		metric_key(sb, "", m);
	for (size_t k = 0; k < x.n; k++) {
		sb_putc(sb, ',');
		field(sb, x.keys[k]);
	}
	for (int m = 0; with_base && m < STATS_COUNT_; m++) {
		if (report_has_delta(m)) {
			metric_key(sb, "vs_baseline.delta.", m);
			metric_key(sb, "vs_baseline.percent.", m);
		}
	}
	sb_putc(sb, '\n');
	vals = xcalloc(x.n ? x.n : 1, sizeof *vals);
	for (size_t t = 0; t < rec->ntraces; t++) {
		const struct record_trace *tr = &rec->traces[t];
		size_t base = report_baseline(tr, opts);

		for (size_t i = 0; i < tr->npol; i++) {
			const struct record_policy *p = &tr->pol[i];
			struct fill f = { &x, vals };

			for (size_t k = 0; k < x.n; k++)
				vals[k] = NAN;
			each_extra(p, &f, fill_one);
			field(sb, tr->name);
			sb_putc(sb, ',');
			field(sb, p->name);
			sb_printf(sb, ",%d", p->measured);
			for (int m = 0; m < STATS_COUNT_; m++)
				num(sb, p->m[m]);
			for (size_t k = 0; k < x.n; k++)
				num(sb, vals[k]);
			if (with_base)
				deltas(sb, p->m, base != SIZE_MAX && i != base
				       ? tr->pol[base].m : NULL);
			sb_putc(sb, '\n');
		}
	}
	free(vals);
	for (size_t k = 0; k < x.n; k++)
		free(x.keys[k]);
	free(x.keys);
}

const struct report_format report_format_csv = {
	.name = "csv",
	.summary = "one row per trace and policy, every number (spreadsheets)",
	.file = "report.csv",
	.write = csv_write,
};
