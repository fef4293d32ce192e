/*
 * report.c - the registry of output formats and what they share (see
 * report.h).
 */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The order --out writes them: documents first, then plots (whose
 * images the page shows), then the page. */
const struct report_format *const report_formats[] = {
	&report_format_text,
	&report_format_json,
	&report_format_csv,
	&report_format_plots,
	&report_format_html,
	NULL,
};

const struct report_format *report_format_find(const char *name)
{
	for (size_t i = 0; report_formats[i]; i++)
		if (report_formats[i]->write && strcmp(report_formats[i]->name, name) == 0)
			return report_formats[i];
	return NULL;
}

void report_format_names(struct strbuf *sb)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; report_formats[i]; i++)
		n += report_formats[i]->write != NULL;
	for (size_t i = 0; report_formats[i]; i++) {
		if (!report_formats[i]->write)
			continue;
		if (k)
			sb_puts(sb, k + 1 == n ? " or " : ", ");
		sb_puts(sb, report_formats[i]->name);
		k++;
	}
}

int report_write_dir(struct outdir *d, const struct record *rec,
		     const struct report_opts *o, struct ms_error *err)
{
	int rc = 0;

	for (size_t i = 0; report_formats[i] && rc == 0; i++) {
		const struct report_format *f = report_formats[i];

		if (f->write && f->file) {
			struct strbuf sb;

			sb_init(&sb);
			f->write(&sb, rec, o);
			rc = outdir_write(d, f->file, &sb, err);
			sb_free(&sb);
		}
	}
	for (size_t i = 0; report_formats[i] && rc == 0; i++)
		if (report_formats[i]->write_dir)
			rc = report_formats[i]->write_dir(d, rec, o, err);
	return rc;
}

static const char *section_name(int s)
{
	return s < STATS_NSECTIONS ? stats_section_name[s]
	       : s == REPORT_SEC_ALLOCATOR ? "allocator" : "baseline";
}

int report_sections_parse(const char *list, unsigned *bits, struct ms_error *err)
{
	const char *p = list;

	*bits = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		int s;

		for (s = 0; s < REPORT_NSECTIONS; s++)
			if (strlen(section_name(s)) == n && strncmp(p, section_name(s), n) == 0)
				break;
		if (s == REPORT_NSECTIONS) {
			struct strbuf names;

			sb_init(&names);
			for (s = 0; s < REPORT_NSECTIONS; s++)
				sb_printf(&names, "%s%s", s ? ", " : "", section_name(s));
			ms_error_set(err, MS_EXIT_USAGE, "--sections: unknown section '%.*s' in '%s' "
				     "(use %s)", (int)n, p, list, sb_str(&names));
			sb_free(&names);
			return err->code;
		}
		*bits |= 1u << s;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int report_shows(const struct report_opts *o, int s)
{
	return !o || !o->sections || (o->sections >> s & 1u);
}

size_t report_baseline(const struct record_trace *t, const struct report_opts *opts)
{
	if (!opts || !opts->baseline)
		return SIZE_MAX;
	return record_policy_index(t, opts->baseline);
}

int report_has_delta(int metric)
{
	return stats_defs[metric].kind != KIND_AT && stats_defs[metric].kind != KIND_SETTING;
}

void report_delta(double v, double base, double *delta, double *pct)
{
	*delta = v - base;
	*pct = base != 0 ? 100 * (v - base) / base : NAN;
}

/* x (>= 0) with three significant digits and the suffix. */
static void sig3(char *buf, size_t size, double x, const char *suffix)
{
	int prec = x < 9.995 ? 2 : x < 99.95 ? 1 : 0;

	snprintf(buf, size, "%.*f%s", prec, x, suffix);
}

/* Scales |v| by `step` until below it, through the units; sign kept. */
static void scaled(char *buf, size_t size, double v, double step,
		   const char *const *units, int nunits)
{
	double x = fabs(v);
	int u = 0;
	char tmp[32];

	while (x >= step * 0.9995 && u + 1 < nunits) {
		x /= step;
		u++;
	}
	sig3(tmp, sizeof tmp, x, units[u]);
	snprintf(buf, size, "%s%s", v < 0 ? "-" : "", tmp);
}

void report_value(char *buf, size_t size, enum unit u, double v)
{
	static const char *const bytes[] = { " B", " KiB", " MiB", " GiB", " TiB", " PiB" };
	static const char *const si[] = { "", "K", "M", "G", "T", "P" };
	static const char *const ns[] = { " ns", " us", " ms", " s" };

	if (isnan(v)) {
		snprintf(buf, size, "-");
		return;
	}
	switch (u) {
	case UNIT_BYTES:
		if (fabs(v) < 1024)
			snprintf(buf, size, "%.0f B", v);
		else
			scaled(buf, size, v, 1024, bytes, 6);
		break;
	case UNIT_RATIO: {
		double pct = v * 100;
		char tmp[32];

		if (fabs(pct) >= 1e7)
			snprintf(buf, size, "%.1e%%", pct);
		else if (fabs(pct) >= 99.95)
			snprintf(buf, size, "%.0f%%", pct);
		else {
			sig3(tmp, sizeof tmp, fabs(pct), "%");
			snprintf(buf, size, "%s%s", pct < 0 ? "-" : "", tmp);
		}
		break;
	}
	case UNIT_NS:
		if (fabs(v) < 1000)
			snprintf(buf, size, "%.0f ns", v);
		else if (fabs(v) < 1e9)
			scaled(buf, size, v, 1000, ns, 3);
		else if (fabs(v) < 999.5e9)
			sig3(buf, size, fabs(v) / 1e9, " s");
		else if (fabs(v) < 999999.5e9)
			snprintf(buf, size, "%.0f s", fabs(v) / 1e9);
		else
			snprintf(buf, size, "%.0e s", fabs(v) / 1e9);
		break;
	case UNIT_COUNT:
	case UNIT_OBJECTS:
	case UNIT_REFERENCES:
	case UNIT_EVENT:
	case UNIT_N:
		if (fabs(v) < 1e7)
			snprintf(buf, size, "%.0f", v);
		else
			scaled(buf, size, v, 1000, si, 6);
		break;
	}
}

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

int report_below_floor(const struct record_policy *p, int m)
{
	int base = stats_defs[m].base;

	return base != STATS_NONE && record_has(p, base) &&
	       p->m[base] < REPORT_FRAG_FLOOR_BYTES;
}
