/*
 * report.h - the output layer: replay results as text, JSON or CSV.
 *
 * Every format expands the metric list of stats.h, so the same metrics
 * appear under the same names everywhere. Output is deterministic: no
 * host pointers, no hash order, C-locale number formatting, policies and
 * traces in the order given. docs/reports.md documents each format and
 * the JSON schema.
 */
#ifndef MEMSIM_REPORT_H
#define MEMSIM_REPORT_H

#include <stddef.h>

#include "engine.h"
#include "strbuf.h"

struct report_opts {
	const char *baseline;   /* policy name to compare the others with, or NULL */
};

void report_text(struct strbuf *sb, const struct engine_run *runs, size_t n,
		 const struct report_opts *opts);
void report_json(struct strbuf *sb, const struct engine_run *runs, size_t n,
		 const struct report_opts *opts);
void report_csv(struct strbuf *sb, const struct engine_run *runs, size_t n,
		const struct report_opts *opts);

/* The index of the policy named opts->baseline in `run`, or SIZE_MAX
 * when there is no baseline (or no such policy: cmd_replay checks names
 * before it reports). */
size_t report_baseline(const struct engine_run *run, const struct report_opts *opts);

/* Whether a metric has a meaningful difference to a baseline (not event
 * indices). */
int report_has_delta(int metric);

/* v - base and 100 * (v - base) / base; *pct is NAN when base is 0. */
void report_delta(double v, double base, double *delta, double *pct);

/* Formats a byte count for people: "512 B", "4.00 KiB", "1.50 MiB". */
void report_bytes(char *buf, size_t size, double bytes);

#endif
