/*
 * report.h - the output layer: every format reads only the results record
 * (record.h), through one registry.
 *
 * A format is one file (report_text.c, report_json.c, report_csv.c,
 * plot.c, html.c) exporting one `const struct report_format`; the table
 * report_formats[] lists them, and `--format`, `--help` and `--out` loop
 * over it: a document format (one file of text) can be chosen with
 * --format and is written to its `file` under --out; a directory format
 * (plots, the HTML page) writes several files under --out only. Adding a
 * format is adding its file and one line to the table (report.c).
 *
 * Output is deterministic: no host pointers, no hash order, C-locale
 * number formatting, policies and traces in the order given.
 * docs/reports.md documents each format and the JSON schema.
 */
#ifndef MEMSIM_REPORT_H
#define MEMSIM_REPORT_H

#include <stddef.h>

#include "error.h"
#include "outfile.h"
#include "record.h"
#include "stats.h"
#include "strbuf.h"

struct report_opts {
	const char *baseline;   /* policy name to compare the others with, or NULL */
	int all;                /* text: also the rows that are zero everywhere */
	unsigned sections;      /* text: a bit per REPORT_SEC_*, 0 = all of them */
};

/* The text report's sections, as --sections names them: the metric
 * sections of stats.h (memory, fragmentation, freelists, collector),
 * then these. */
enum {
	REPORT_SEC_ALLOCATOR = STATS_NSECTIONS,  /* allocator detail */
	REPORT_SEC_BASELINE,                     /* vs baseline */
	REPORT_NSECTIONS
};

/* Reads a comma-separated list of section names into *bits; a name
 * that is none is an error (64) naming it and the valid ones. */
int report_sections_parse(const char *list, unsigned *bits, struct ms_error *err);

/* 1 if section s is shown under o (every section when o->sections is 0). */
int report_shows(const struct report_opts *o, int s);

struct report_format {
	const char *name;       /* --format NAME */
	const char *summary;    /* one line for --help */
	const char *file;       /* its file under --out DIR, or NULL */
	/* A document format: the whole report into sb. */
	void (*write)(struct strbuf *sb, const struct record *rec,
		      const struct report_opts *o);
	/* A directory format: its files into the staged directory d; runs
	 * after every document format, in table order. 0 or an exit status
	 * with err filled. */
	int (*write_dir)(struct outdir *d, const struct record *rec,
			 const struct report_opts *o, struct ms_error *err);
};

extern const struct report_format report_format_text, report_format_json,
	report_format_csv, report_format_plots, report_format_html;

/* Every format, NULL-terminated, in the order --out writes them. */
extern const struct report_format *const report_formats[];

/* The document format named `name`, or NULL (directory formats are not
 * chosen by name). */
const struct report_format *report_format_find(const char *name);

/* "text, json or csv": the names --format takes, for messages. */
void report_format_names(struct strbuf *sb);

/* Writes every format of the registry into d (documents to their files,
 * then the directory formats). */
int report_write_dir(struct outdir *d, const struct record *rec,
		     const struct report_opts *o, struct ms_error *err);

/*
 * Reads a JSON report (report_format_json's output, schema
 * "memsim-report-2") back into *out: the same record that was written,
 * so every format renders it byte for byte as the replay did. `file`
 * names the input in errors. Returns 0, or MS_EXIT_DATAERR with err
 * filled (file, what is wrong and where) and *out empty.
 */
int record_load_json(const char *text, size_t len, const char *file,
		     struct record *out, struct ms_error *err);

/* ---- helpers the formats share ---- */

/* The index of the baseline policy in t, or SIZE_MAX when none. */
size_t report_baseline(const struct record_trace *t, const struct report_opts *opts);

/* Whether metric m has a meaningful difference to a baseline (not event
 * indices or settings). */
int report_has_delta(int metric);

/* v - base and 100 * (v - base) / base; *pct is NAN when base is 0. */
void report_delta(double v, double base, double *delta, double *pct);

/*
 * A value for people in at most 8 characters: bytes as "512 B",
 * "8.92 KiB", "260 KiB"; counts exact below 10^7, then "10.5M"; ratios as
 * percentages; ns as "543 ns", "1.50 ms", "12.3 s"; "-" for an absent
 * (NaN) value. Three significant digits; the JSON has exact values.
 */
void report_value(char *buf, size_t size, enum unit u, double v);

/* Formats a byte count for people: "512 B", "4.00 KiB", "1.50 MiB". */
void report_bytes(char *buf, size_t size, double bytes);

/*
 * Fragmentation below this many live bytes (the ratio's denominator) is
 * shown as n/a in text: the allocator's granule (a 1 MiB arena, glibc's
 * 128 KiB heap padding) then dominates, and the ratio says more about
 * the granule than about fragmentation (docs/metrics.md).
 */
#define REPORT_FRAG_FLOOR_BYTES (1024.0 * 1024.0)

/* Whether metric m of p is shown as n/a in text (below the floor). */
int report_below_floor(const struct record_policy *p, int m);

#endif
