/*
 * report_csv.c - one CSV row per (trace, policy) with every scalar metric.
 *
 * Columns: trace, policy, then each metric of stats.h by its JSON key,
 * prefixed with its group ("fragmentation.jw1"). With a baseline, two
 * more columns per metric that has a difference (not event indices):
 * "vs_baseline.delta.KEY" and "vs_baseline.percent.KEY", empty in the
 * baseline's own row and for a percentage of a zero baseline. Fields
 * containing a comma, quote or newline are quoted as RFC 4180 says.
 */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "stats.h"

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

static void column(struct strbuf *sb, const char *prefix, int m)
{
	sb_printf(sb, ",%s", prefix);
	if (stats_defs[m].group)
		sb_printf(sb, "%s.", stats_defs[m].group);
	sb_puts(sb, stats_defs[m].key);
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
		sb_printf(sb, stats_defs[m].kind == STATS_RATIO ? ",%.17g" : ",%.0f", d);
		if (isnan(p))
			sb_putc(sb, ',');
		else
			sb_printf(sb, ",%.17g", p);
	}
}

void report_csv(struct strbuf *sb, const struct engine_run *runs, size_t n,
		const struct report_opts *opts)
{
	int with_base = opts && opts->baseline;

	sb_puts(sb, "trace,policy");
	for (int m = 0; m < STATS_COUNT_; m++)
		column(sb, "", m);
	for (int m = 0; with_base && m < STATS_COUNT_; m++) {
		if (report_has_delta(m)) {
			column(sb, "vs_baseline.delta.", m);
			column(sb, "vs_baseline.percent.", m);
		}
	}
	sb_puts(sb, ",measured\n");
	for (size_t t = 0; t < n; t++) {
		size_t base = report_baseline(&runs[t], opts);
		double b[STATS_COUNT_];

		if (base != SIZE_MAX)
			runtime_metrics(runs[t].rt[base], b);
		for (size_t i = 0; i < runs[t].n; i++) {
			double v[STATS_COUNT_];

			runtime_metrics(runs[t].rt[i], v);
			field(sb, runs[t].trace);
			sb_putc(sb, ',');
			field(sb, runtime_policy(runs[t].rt[i])->name);
			for (int m = 0; m < STATS_COUNT_; m++)
				sb_printf(sb, stats_defs[m].kind == STATS_RATIO ? ",%.17g"
										 : ",%.0f", v[m]);
			if (with_base)
				deltas(sb, v, base != SIZE_MAX && i != base ? b : NULL);
			sb_printf(sb, ",%d\n", runtime_measured(runs[t].rt[i]));
		}
	}
}
