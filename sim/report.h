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

/* Formats a byte count for people: "512 B", "4.00 KiB", "1.50 MiB". */
void report_bytes(char *buf, size_t size, double bytes);

#endif
