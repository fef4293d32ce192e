/*
 * report_text.c - the side-by-side text table.
 *
 * One block of columns per group of policies that fits an 80-column
 * terminal (REPORT_COLUMNS per block); a legend names each policy in
 * full, since derived policy names can be long. Rows are the metrics of
 * stats.h, then the allocator's own counters (alloc_sink). With a
 * baseline, a last section gives each other policy's difference to it,
 * absolute and in percent, two policies per block.
 */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "xalloc.h"

#define REPORT_LABEL_WIDTH 30   /* the longest counter key has 29 */
#define REPORT_COL_WIDTH 16
#define REPORT_COLUMNS 3        /* 30 + 3 * 16 = 78 columns */
#define REPORT_DELTA_WIDTH 24
#define REPORT_DELTA_COLUMNS 2  /* 30 + 2 * 24 = 78 columns */
#define REPORT_KEYS_MAX 64

void report_bytes(char *buf, size_t size, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	int u = -1;

	if (fabs(bytes) < 1024) {
		snprintf(buf, size, "%.0f B", bytes);
		return;
	}
	while (fabs(v) >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.2f %s", v, units[u]);
}

size_t report_baseline(const struct engine_run *run, const struct report_opts *opts)
{
	if (!opts || !opts->baseline)
		return SIZE_MAX;
	for (size_t i = 0; i < run->n; i++)
		if (strcmp(runtime_policy(run->rt[i])->name, opts->baseline) == 0)
			return i;
	return SIZE_MAX;
}

int report_has_delta(int metric)
{
	return stats_defs[metric].kind != STATS_EVENT;
}

void report_delta(double v, double base, double *delta, double *pct)
{
	*delta = v - base;
	*pct = base != 0 ? 100 * (v - base) / base : NAN;
}

static void format_value(char *buf, size_t size, enum stats_kind kind, double v)
{
	switch (kind) {
	case STATS_BYTES:
		report_bytes(buf, size, v);
		break;
	case STATS_RATIO:
		snprintf(buf, size, "%.2f%%", v * 100);
		break;
	case STATS_NS:
		snprintf(buf, size, "%.3f ms", v / 1e6);
		break;
	case STATS_COUNT:
	case STATS_EVENT:
		snprintf(buf, size, "%.0f", v);
		break;
	}
}

/* Counters from the allocators, gathered by key in first-seen order. */
struct counters {
	const char *keys[REPORT_KEYS_MAX];
	size_t nkeys;
	double (*values)[REPORT_KEYS_MAX];  /* [policy][key] */
	unsigned char (*have)[REPORT_KEYS_MAX];
	size_t current;
};

static void counter_cb(void *ctx, const char *key, uint64_t value)
{
	struct counters *c = ctx;
	size_t k;

	for (k = 0; k < c->nkeys; k++)
		if (strcmp(c->keys[k], key) == 0)
			break;
	if (k == c->nkeys) {
		if (c->nkeys == REPORT_KEYS_MAX)
			return;
		c->keys[c->nkeys++] = key;
	}
	c->values[c->current][k] = (double)value;
	c->have[c->current][k] = 1;
}

static void table_cb(void *ctx, const char *name, const char *const *columns,
		     size_t ncols, const uint64_t *cells, size_t nrows)
{
	(void)ctx, (void)name, (void)columns, (void)ncols, (void)cells, (void)nrows;
}

static void row(struct strbuf *sb, const char *label, char cells[][32],
		size_t first, size_t count)
{
	sb_printf(sb, "%-*s", REPORT_LABEL_WIDTH, label);
	for (size_t i = first; i < first + count; i++)
		sb_printf(sb, "%*s", REPORT_COL_WIDTH, cells[i]);
	sb_putc(sb, '\n');
}

static void header(struct strbuf *sb, const struct engine_run *run, size_t first,
		   size_t count)
{
	sb_printf(sb, "%-*s", REPORT_LABEL_WIDTH, "");
	for (size_t i = first; i < first + count; i++) {
		const char *name = runtime_policy(run->rt[i])->name;
		char tag[32];

		if (strlen(name) < REPORT_COL_WIDTH) {
			sb_printf(sb, "%*s", REPORT_COL_WIDTH, name);
		} else {
			snprintf(tag, sizeof tag, "[%zu]", i + 1);
			sb_printf(sb, "%*s", REPORT_COL_WIDTH, tag);
		}
	}
	sb_putc(sb, '\n');
	for (size_t i = first; i < first + count; i++)
		if (runtime_measured(run->rt[i]))
			break;
		else if (i + 1 == first + count)
			return;
	/* A real: column is a measurement: say which are. */
	sb_printf(sb, "%-*s", REPORT_LABEL_WIDTH, "");
	for (size_t i = first; i < first + count; i++)
		sb_printf(sb, "%*s", REPORT_COL_WIDTH,
			  runtime_measured(run->rt[i]) ? "(measured)" : "(model)");
	sb_putc(sb, '\n');
}

static void block(struct strbuf *sb, const struct engine_run *run, size_t first,
		  size_t count, double (*metrics)[STATS_COUNT_],
		  const struct counters *c)
{
	char (*cells)[32] = xcalloc(run->n, sizeof *cells);

	header(sb, run, first, count);
	for (int m = 0; m < STATS_COUNT_; m++) {
		for (size_t i = first; i < first + count; i++)
			format_value(cells[i], sizeof cells[i], stats_defs[m].kind,
				     metrics[i][m]);
		row(sb, stats_defs[m].label, cells, first, count);
	}
	for (size_t k = 0; k < c->nkeys; k++) {
		for (size_t i = first; i < first + count; i++) {
			if (c->have[i][k])
				snprintf(cells[i], sizeof cells[i], "%.0f", c->values[i][k]);
			else
				snprintf(cells[i], sizeof cells[i], "-");
		}
		row(sb, c->keys[k], cells, first, count);
	}
	free(cells);
}

/* "+1.50 MiB (+12.3%)": the sign always shown, ratios in percentage
 * points, "n/a" for a percentage of a zero baseline. */
static void format_delta(char *buf, size_t size, enum stats_kind kind, double v,
			 double base)
{
	char abs[32], pct[24];
	double d, p;
	const char *sign;

	report_delta(v, base, &d, &p);
	sign = d > 0 ? "+" : d < 0 ? "-" : "";
	if (kind == STATS_RATIO)
		snprintf(abs, sizeof abs, "%.2f pp", fabs(d) * 100);
	else
		format_value(abs, sizeof abs, kind, fabs(d));
	if (isnan(p))
		snprintf(pct, sizeof pct, "n/a");
	else
		snprintf(pct, sizeof pct, "%+.1f%%", p);
	snprintf(buf, size, "%s%s (%s)", d != 0 ? sign : "", abs, pct);
}

static void delta_blocks(struct strbuf *sb, const struct engine_run *run,
			 size_t base, double (*metrics)[STATS_COUNT_])
{
	size_t *others = xcalloc(run->n, sizeof *others), n = 0;
	char cell[64];

	for (size_t i = 0; i < run->n; i++)
		if (i != base)
			others[n++] = i;
	sb_printf(sb, "\ndifference to baseline %s\n",
		  runtime_policy(run->rt[base])->name);
	for (size_t first = 0; first < n; first += REPORT_DELTA_COLUMNS) {
		size_t count = n - first < REPORT_DELTA_COLUMNS ? n - first
							      : REPORT_DELTA_COLUMNS;

		sb_printf(sb, "\n%-*s", REPORT_LABEL_WIDTH, "");
		for (size_t k = first; k < first + count; k++) {
			const char *name = runtime_policy(run->rt[others[k]])->name;

			if (strlen(name) < REPORT_DELTA_WIDTH)
				snprintf(cell, sizeof cell, "%s", name);
			else
				snprintf(cell, sizeof cell, "[%zu]", others[k] + 1);
			sb_printf(sb, "%*s", REPORT_DELTA_WIDTH, cell);
		}
		sb_putc(sb, '\n');
		for (int m = 0; m < STATS_COUNT_; m++) {
			if (!report_has_delta(m))
				continue;
			sb_printf(sb, "%-*s", REPORT_LABEL_WIDTH, stats_defs[m].label);
			for (size_t k = first; k < first + count; k++) {
				format_delta(cell, sizeof cell, stats_defs[m].kind,
					     metrics[others[k]][m], metrics[base][m]);
				sb_printf(sb, "%*s", REPORT_DELTA_WIDTH, cell);
			}
			sb_putc(sb, '\n');
		}
	}
	free(others);
}

static void text_run(struct strbuf *sb, const struct engine_run *run,
		     const struct report_opts *opts)
{
	size_t base = report_baseline(run, opts);
	double (*metrics)[STATS_COUNT_] = xcalloc(run->n, sizeof *metrics);
	struct counters c = { .nkeys = 0 };
	struct alloc_sink sink = { &c, counter_cb, table_cb };

	c.values = xcalloc(run->n, sizeof *c.values);
	c.have = xcalloc(run->n, sizeof *c.have);
	sb_printf(sb, "trace: %s (%" PRIu64 " events)\n", run->trace, run->events);
	for (size_t k = 0; k < run->nwarnings; k++)
		sb_printf(sb, "  warning: %s\n", run->warnings[k]);
	for (size_t i = 0; i < run->n; i++) {
		const struct alloc_inst *a = runtime_allocator(run->rt[i]);
		const char *name = runtime_policy(run->rt[i])->name;

		runtime_metrics(run->rt[i], metrics[i]);
		c.current = i;
		if (a->policy->details)
			a->policy->details(a->state, &sink);
		if (strlen(name) >= REPORT_COL_WIDTH)
			sb_printf(sb, "  [%zu] %s\n", i + 1, name);
	}
	for (size_t first = 0; first < run->n; first += REPORT_COLUMNS) {
		size_t count = run->n - first < REPORT_COLUMNS ? run->n - first
							      : REPORT_COLUMNS;

		sb_putc(sb, '\n');
		block(sb, run, first, count, metrics, &c);
	}
	if (base != SIZE_MAX && run->n > 1)
		delta_blocks(sb, run, base, metrics);
	free(c.values);
	free(c.have);
	free(metrics);
}

void report_text(struct strbuf *sb, const struct engine_run *runs, size_t n,
		 const struct report_opts *opts)
{
	for (size_t t = 0; t < n; t++) {
		if (t)
			sb_putc(sb, '\n');
		text_run(sb, &runs[t], opts);
	}
}
