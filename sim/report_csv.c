/*
 * report_csv.c - one CSV row per (trace, policy) with every scalar metric.
 *
 * Columns: trace, policy, then each metric of stats.h by its JSON key,
 * prefixed with its group ("fragmentation.jw1"). Fields containing a
 * comma, quote or newline are quoted as RFC 4180 says.
 */
#include "report.h"

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

void report_csv(struct strbuf *sb, const struct engine_run *runs, size_t n,
		const struct report_opts *opts)
{
	(void)opts;
	sb_puts(sb, "trace,policy");
	for (int m = 0; m < STATS_COUNT_; m++) {
		sb_putc(sb, ',');
		if (stats_defs[m].group)
			sb_printf(sb, "%s.", stats_defs[m].group);
		sb_puts(sb, stats_defs[m].key);
	}
	sb_putc(sb, '\n');
	for (size_t t = 0; t < n; t++) {
		for (size_t i = 0; i < runs[t].n; i++) {
			double v[STATS_COUNT_];

			runtime_metrics(runs[t].rt[i], v);
			field(sb, runs[t].trace);
			sb_putc(sb, ',');
			field(sb, runtime_policy(runs[t].rt[i])->name);
			for (int m = 0; m < STATS_COUNT_; m++)
				sb_printf(sb, stats_defs[m].kind == STATS_RATIO ? ",%.17g"
										 : ",%.0f", v[m]);
			sb_putc(sb, '\n');
		}
	}
}
