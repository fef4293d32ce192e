/*
 * report_text.c - the side-by-side report people read (docs/reports.md).
 *
 * Per trace: a title line, then sections with one column per policy:
 *   memory          the metrics of section MEMORY (stats.h)
 *   fragmentation   Johnstone & Wilson's ratios, "n/a" below the floor
 *   free lists      totals, then by type (the busiest REPORT_TYPES_MAX)
 *   collector       totals, then by generation or space (as the
 *                   collector names them)
 *   allocator       each allocator's details with units, values at end
 *   difference to baseline NAME   (with --baseline)
 *   warnings
 * A row that is zero (or absent) under every policy is hidden, and a
 * note says how many and that --all shows them. Values have units
 * ("260 KiB", "1.50 ms", "28.1%"), three significant digits (the JSON
 * has exact values). The table keeps to 79 columns by wrapping
 * policies into blocks; columns are headed by policy names when they all
 * fit in one block, else by [N] with a legend. Paths are never cut.
 */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define TEXT_WIDTH 79           /* characters per line at most */
#define TEXT_CELL_MAX 24        /* bytes of one formatted cell */
#define TEXT_MIN_COL 7          /* a column's width without its gap */
#define REPORT_TYPES_MAX 8      /* types shown by type, unless --all */

enum line_kind { L_SECTION, L_SUB, L_ROW, L_NOTE };

struct line {
	enum line_kind kind;
	char *label;
	char (*cells)[TEXT_CELL_MAX];   /* L_ROW: one per policy */
	int idle;                       /* L_ROW: nothing under any policy */
	int parent;                     /* an "at event" row's row, or -1 */
	int visible;
};

struct page {
	struct line *v;
	size_t n, cap;
	size_t npol;
	int all;
	size_t hidden;          /* rows hidden as idle */
	int floor_used;         /* some cell is n/a below the floor */
};

/* ---- building ------------------------------------------------------------ */

static struct line *add_line(struct page *pg, enum line_kind kind, const char *label)
{
	struct line *l;

	if (pg->n == pg->cap) {
		pg->cap = pg->cap ? 2 * pg->cap : 64;
		pg->v = xreallocarray(pg->v, pg->cap, sizeof *pg->v);
	}
	l = &pg->v[pg->n++];
	memset(l, 0, sizeof *l);
	l->kind = kind;
	l->label = xstrdup(label);
	l->parent = -1;
	if (kind == L_ROW) {
		l->cells = xcalloc(pg->npol ? pg->npol : 1, sizeof *l->cells);
		l->idle = 1;
	}
	return l;
}

/* Sets cell i of row l to v in unit u; idle is the value that means
 * nothing happened. */
static void set_cell(struct line *l, size_t i, enum unit u, double v, double idle)
{
	report_value(l->cells[i], sizeof l->cells[i], u, v);
	if (!isnan(v) && v != idle)
		l->idle = 0;
}

static void metric_rows(struct page *pg, const struct record_trace *t, int section)
{
	int last_row = -1;

	for (int m = 0; m < STATS_COUNT_; m++) {
		const struct stats_def *d = &stats_defs[m];
		struct line *l;

		if ((int)d->section != section)
			continue;
		l = add_line(pg, L_ROW, d->label);
		l->label = xreallocarray(l->label, strlen(d->label) + 3, 1);
		memmove(l->label + 2, l->label, strlen(l->label) + 1);
		memcpy(l->label, "  ", 2);
		for (size_t i = 0; i < t->npol; i++) {
			if (report_below_floor(&t->pol[i], m)) {
				snprintf(l->cells[i], sizeof l->cells[i], "n/a");
				pg->floor_used = 1;
				l->idle = 0;
			} else {
				set_cell(l, i, d->unit, t->pol[i].m[m], d->idle);
			}
		}
		if (d->kind == KIND_AT)
			l->parent = last_row;
		else
			last_row = (int)(l - pg->v);
	}
}

/* Row names of table `name` over every policy, in first-seen order. */
static size_t table_rows(const struct record_trace *t, const char *name, char ***out)
{
	char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < t->npol; i++) {
		const struct record_table *tb = record_table_find(&t->pol[i], name);

		for (size_t r = 0; tb && tb->rows && r < tb->nrows; r++) {
			size_t k;

			for (k = 0; k < n; k++)
				if (strcmp(v[k], tb->rows[r]) == 0)
					break;
			if (k == n) {
				v = xreallocarray(v, n + 1, sizeof *v);
				v[n++] = tb->rows[r];
			}
		}
	}
	*out = v;
	return n;
}

/* The cell (row name, column key) of policy p's table, NaN if absent. */
static double table_cell(const struct record_policy *p, const char *name,
			 const char *row, const char *col)
{
	const struct record_table *tb = record_table_find(p, name);
	int c = tb ? record_table_col(tb, col) : -1;

	if (c < 0)
		return NAN;
	for (size_t r = 0; r < tb->nrows; r++)
		if (tb->rows && strcmp(tb->rows[r], row) == 0)
			return tb->cells[r * tb->ncols + (size_t)c];
	return NAN;
}

/* One sub-heading per row of a keyed table, then a line per column. */
/* The rows of table `name`, each a sub-heading and its columns; a row
 * named by a number is labelled "NUMBER_PREFIX NAME" ("generation 0"). */
static void keyed_rows(struct page *pg, const struct record_trace *t, const char *name,
		       const struct stats_column *cols, size_t ncols, char **rows,
		       size_t nrows, const char *number_prefix)
{
	char label[80];

	for (size_t r = 0; r < nrows; r++) {
		int number = rows[r][0] >= '0' && rows[r][0] <= '9';

		snprintf(label, sizeof label, "  %s%.*s", number ? number_prefix : "", 40,
			 rows[r]);
		add_line(pg, L_SUB, label);
		for (size_t c = 0; c < ncols; c++) {
			struct line *l;

			snprintf(label, sizeof label, "    %s", cols[c].label);
			l = add_line(pg, L_ROW, label);
			for (size_t i = 0; i < t->npol; i++)
				set_cell(l, i, cols[c].unit,
					 table_cell(&t->pol[i], name, rows[r], cols[c].key), 0);
		}
	}
}

static double type_activity(const struct record_trace *t, const char *type)
{
	double a = 0;

	for (size_t i = 0; i < t->npol; i++) {
		double h = table_cell(&t->pol[i], STATS_TYPE_TABLE, type, "hits");
		double m = table_cell(&t->pol[i], STATS_TYPE_TABLE, type, "misses");

		a += (isnan(h) ? 0 : h) + (isnan(m) ? 0 : m);
	}
	return a;
}

/* The free lists by type: the busiest REPORT_TYPES_MAX (hits + misses
 * under all policies; ties in table order) unless --all. */
static void type_rows(struct page *pg, const struct record_trace *t)
{
	char **rows;
	size_t n = table_rows(t, STATS_TYPE_TABLE, &rows), shown = n;

	if (!pg->all && n > REPORT_TYPES_MAX) {
		double *act = xcalloc(n, sizeof *act);
		char label[120];

		for (size_t r = 0; r < n; r++)
			act[r] = type_activity(t, rows[r]);
		for (size_t k = 0; k < REPORT_TYPES_MAX; k++) {
			size_t best = SIZE_MAX;

			for (size_t r = 0; r < n; r++)
				if (act[r] >= 0 && (best == SIZE_MAX || act[r] > act[best]))
					best = r;
			act[best] = -1;
		}
		/* in table order again */
		shown = 0;
		for (size_t r = 0; r < n; r++)
			if (act[r] < 0)
				rows[shown++] = rows[r];
		keyed_rows(pg, t, STATS_TYPE_TABLE, stats_type_columns, STATS_TYPE_NCOLS,
			   rows, shown, "");
		snprintf(label, sizeof label, "  (%zu more types: --all, JSON or CSV)",
			 n - REPORT_TYPES_MAX);
		add_line(pg, L_NOTE, label);
		free(act);
	} else {
		keyed_rows(pg, t, STATS_TYPE_TABLE, stats_type_columns, STATS_TYPE_NCOLS,
			   rows, shown, "");
	}
	free(rows);
}

static void gen_rows(struct page *pg, const struct record_trace *t)
{
	char **rows;
	size_t n = table_rows(t, STATS_GEN_TABLE, &rows);

	keyed_rows(pg, t, STATS_GEN_TABLE, stats_gen_columns, STATS_GEN_NCOLS, rows, n,
		   "generation ");
	free(rows);
}

/* Each allocator's counters (grouped by allocator, first-seen order). */
static void allocator_rows(struct page *pg, const struct record_trace *t)
{
	char label[120];
	const char **groups = NULL;
	size_t ng = 0;

	for (size_t i = 0; i < t->npol; i++)
		for (size_t c = 0; c < t->pol[i].ncounters; c++) {
			const char *g = t->pol[i].counters[c].group;
			size_t k;

			for (k = 0; k < ng && strcmp(groups[k], g) != 0; k++)
				;
			if (k == ng) {
				groups = xreallocarray(groups, ng + 1, sizeof *groups);
				groups[ng++] = g;
			}
		}
	for (size_t k = 0; k < ng; k++) {
		snprintf(label, sizeof label, "  %s, at end", groups[k]);
		add_line(pg, L_SUB, label);
		for (size_t i = 0; i < t->npol; i++)
			for (size_t c = 0; c < t->pol[i].ncounters; c++) {
				const struct record_counter *rc = &t->pol[i].counters[c];
				struct line *l;
				int seen = 0;

				if (strcmp(rc->group, groups[k]) != 0)
					continue;
				/* a row per key, made by the first policy that has it */
				for (size_t j = 0; j < i && !seen; j++)
					for (size_t e = 0; e < t->pol[j].ncounters && !seen; e++)
						seen = strcmp(t->pol[j].counters[e].group, rc->group) == 0 &&
						       strcmp(t->pol[j].counters[e].key, rc->key) == 0;
				if (seen)
					continue;
				snprintf(label, sizeof label, "    %s", rc->label);
				l = add_line(pg, L_ROW, label);
				for (size_t j = 0; j < t->npol; j++) {
					double v = NAN;

					for (size_t e = 0; e < t->pol[j].ncounters; e++)
						if (strcmp(t->pol[j].counters[e].group, rc->group) == 0 &&
						    strcmp(t->pol[j].counters[e].key, rc->key) == 0)
							v = t->pol[j].counters[e].value;
					set_cell(l, j, rc->unit, v, 0);
				}
			}
	}
	free(groups);
}

/* Tables other than the generations and types (allocator tables such as
 * pymalloc's size classes), only with --all: a sub-heading per row named
 * by its first column. */
static void other_tables(struct page *pg, const struct record_trace *t, size_t i)
{
	const struct record_policy *p = &t->pol[i];
	char label[160], first[TEXT_CELL_MAX];

	for (size_t k = 0; k < p->ntables; k++) {
		const struct record_table *tb = &p->tables[k];

		if (strcmp(tb->name, STATS_GEN_TABLE) == 0 ||
		    strcmp(tb->name, STATS_TYPE_TABLE) == 0 || tb->ncols < 2)
			continue;
		snprintf(label, sizeof label, "  %s under [%zu]", tb->name, i + 1);
		add_line(pg, L_SUB, label);
		for (size_t r = 0; r < tb->nrows; r++) {
			const double *row = &tb->cells[r * tb->ncols];

			report_value(first, sizeof first, tb->cols[0].unit, row[0]);
			for (size_t c = 1; c < tb->ncols; c++) {
				struct line *l;

				snprintf(label, sizeof label, "    %s %s: %s", tb->cols[0].label,
					 first, tb->cols[c].label);
				l = add_line(pg, L_ROW, label);
				set_cell(l, i, tb->cols[c].unit, row[c], 0);
			}
		}
	}
}

static void build(struct page *pg, const struct record_trace *t, const struct report_opts *o)
{
	for (int s = 0; s < STATS_NSECTIONS; s++) {
		if (!report_shows(o, s))
			continue;
		add_line(pg, L_SECTION, stats_section_title[s]);
		metric_rows(pg, t, s);
		if (s == STATS_SEC_FREELISTS)
			type_rows(pg, t);
		if (s == STATS_SEC_COLLECTOR)
			gen_rows(pg, t);
	}
	if (report_shows(o, REPORT_SEC_ALLOCATOR)) {
		add_line(pg, L_SECTION, "allocator detail");
		allocator_rows(pg, t);
	}
	if (o && o->all)
		for (size_t i = 0; i < t->npol; i++)
			other_tables(pg, t, i);
}

/* ---- visibility ------------------------------------------------------------ */

static void decide(struct page *pg)
{
	for (size_t k = 0; k < pg->n; k++) {
		struct line *l = &pg->v[k];

		if (l->kind != L_ROW)
			continue;
		if (l->parent >= 0)
			l->visible = pg->v[l->parent].visible;
		else
			l->visible = pg->all || !l->idle;
		if (!l->visible && l->parent < 0)
			pg->hidden++;
	}
	/* a heading shows when a row under it does */
	for (size_t k = pg->n; k-- > 0;) {
		struct line *l = &pg->v[k];

		if (l->kind == L_ROW || l->kind == L_NOTE) {
			l->visible |= l->kind == L_NOTE;
			continue;
		}
		for (size_t j = k + 1; j < pg->n; j++) {
			const struct line *u = &pg->v[j];

			if (u->kind == L_SECTION || (l->kind == L_SUB && u->kind == L_SUB))
				break;
			if (u->kind == L_ROW && u->visible) {
				l->visible = 1;
				break;
			}
		}
		if (l->kind == L_SECTION)
			l->visible = 1;         /* says "all zero" when empty */
	}
}

static void page_free(struct page *pg)
{
	for (size_t k = 0; k < pg->n; k++) {
		free(pg->v[k].label);
		free(pg->v[k].cells);
	}
	free(pg->v);
}

/* ---- layout ---------------------------------------------------------------- */

struct layout {
	size_t label_w, col_w, per_block;
	int names;              /* headers are policy names, else [N] */
};

static void plan(struct layout *ly, const struct page *pg, const struct record_trace *t)
{
	size_t vw = TEXT_MIN_COL, nw = 0, lw = 0;

	for (size_t k = 0; k < pg->n; k++) {
		const struct line *l = &pg->v[k];

		if (!l->visible || l->kind == L_NOTE)
			continue;
		if (strlen(l->label) > lw)
			lw = strlen(l->label);
		for (size_t i = 0; l->kind == L_ROW && i < pg->npol; i++)
			if (strlen(l->cells[i]) > vw)
				vw = strlen(l->cells[i]);
	}
	for (size_t i = 0; i < t->npol; i++)
		if (strlen(t->pol[i].name) + (t->pol[i].measured ? 1 : 0) > nw)
			nw = strlen(t->pol[i].name) + (t->pol[i].measured ? 1 : 0);
	ly->label_w = lw + 1;
	/* Names head the columns when all of them fit in one block; else [N]
	 * with a legend, and the gap between columns narrows to one space
	 * before policies wrap into a second block. */
	ly->names = nw <= 16 && ly->label_w + t->npol * ((nw > vw ? nw : vw) + 2) <= TEXT_WIDTH;
	ly->col_w = (ly->names && nw > vw ? nw : vw) + 2;
	if (!ly->names && ly->label_w + t->npol * ly->col_w > TEXT_WIDTH &&
	    ly->label_w + t->npol * (vw + 1) <= TEXT_WIDTH)
		ly->col_w = vw + 1;
	if (!ly->names && ly->col_w < 6)
		ly->col_w = 6;
	ly->per_block = ly->label_w + ly->col_w <= TEXT_WIDTH
		? (TEXT_WIDTH - ly->label_w) / ly->col_w : 1;
	if (ly->per_block == 0)
		ly->per_block = 1;
}

static void header(struct strbuf *sb, const struct layout *ly, const char *title,
		   const struct record_trace *t, size_t first, size_t count, size_t base)
{
	char name[300];

	sb_printf(sb, "%-*s", (int)ly->label_w, title);
	for (size_t i = first; i < first + count; i++) {
		if (ly->names)
			snprintf(name, sizeof name, "%s%s", t->pol[i].name,
				 t->pol[i].measured ? "*" : "");
		else
			snprintf(name, sizeof name, "[%zu]%s%s", i + 1,
				 t->pol[i].measured ? "*" : "", i == base ? "=" : "");
		sb_printf(sb, "%*s", (int)ly->col_w, name);
	}
	sb_putc(sb, '\n');
}

static void render_block(struct strbuf *sb, const struct page *pg, const struct layout *ly,
			 const struct record_trace *t, size_t first, size_t count, size_t base)
{
	for (size_t k = 0; k < pg->n; k++) {
		const struct line *l = &pg->v[k];

		if (!l->visible)
			continue;
		switch (l->kind) {
		case L_SECTION: {
			int any = 0;

			for (size_t j = k + 1; j < pg->n && pg->v[j].kind != L_SECTION; j++)
				any |= pg->v[j].kind == L_ROW && pg->v[j].visible;
			sb_putc(sb, '\n');
			if (any)
				header(sb, ly, l->label, t, first, count, base);
			else
				sb_printf(sb, "%s: zero under every policy\n", l->label);
			break;
		}
		case L_SUB:
		case L_NOTE:
			sb_printf(sb, "%s\n", l->label);
			break;
		case L_ROW:
			sb_printf(sb, "%-*s", (int)ly->label_w, l->label);
			for (size_t i = first; i < first + count; i++)
				sb_printf(sb, "%*s", (int)ly->col_w, l->cells[i]);
			sb_putc(sb, '\n');
			break;
		}
	}
}

/* Items joined by two spaces, wrapped before 80 columns (an item longer
 * than a line stands alone: names are never cut). */
static void wrapped(struct strbuf *sb, const char *lead, char **items, size_t n)
{
	size_t col = strlen(lead), indent = strlen(lead);

	sb_puts(sb, lead);
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(items[i]);

		if (i && col + 2 + w > TEXT_WIDTH) {
			sb_putc(sb, '\n');
			sb_pad(sb, ' ', indent);
			col = indent;
		} else if (i) {
			sb_puts(sb, "  ");
			col += 2;
		}
		sb_puts(sb, items[i]);
		col += w;
	}
	sb_putc(sb, '\n');
}

static void legend(struct strbuf *sb, const struct layout *ly, const struct record_trace *t,
		   size_t base)
{
	char **items;
	int measured = 0;

	for (size_t i = 0; i < t->npol; i++)
		measured |= t->pol[i].measured;
	if (!ly->names) {
		items = xcalloc(t->npol, sizeof *items);
		for (size_t i = 0; i < t->npol; i++) {
			items[i] = xmalloc(strlen(t->pol[i].name) + 40);
			sprintf(items[i], "[%zu] %s%s", i + 1, t->pol[i].name,
				i == base ? " (baseline)" : "");
		}
		wrapped(sb, "policies: ", items, t->npol);
		for (size_t i = 0; i < t->npol; i++)
			free(items[i]);
		free(items);
	} else if (base != SIZE_MAX) {
		sb_printf(sb, "baseline: %s\n", t->pol[base].name);
	}
	if (measured)
		sb_puts(sb, "* measured on the real allocator; other columns are modelled\n");
}

/* ---- the difference to the baseline ---------------------------------------- */

static void delta_cell(char *buf, size_t size, const struct stats_def *d, double v,
		       double base)
{
	double dl, pct;

	if (isnan(v) || isnan(base)) {
		snprintf(buf, size, "-");
		return;
	}
	report_delta(v, base, &dl, &pct);
	if (dl == 0) {
		snprintf(buf, size, "=");
	} else if (d->unit == UNIT_RATIO) {
		double pp = dl * 100;

		snprintf(buf, size, "%+.*fpp", fabs(pp) < 99.95 ? 1 : 0, pp);
	} else if (isnan(pct)) {
		char abs[TEXT_CELL_MAX - 1];

		report_value(abs, sizeof abs, d->unit, fabs(dl));
		snprintf(buf, size, "%s%s", dl > 0 ? "+" : "-", abs);
	} else {
		snprintf(buf, size, "%+.*f%%", fabs(pct) < 9.995 ? 2 : fabs(pct) < 99.95 ? 1 : 0,
			 pct);
	}
}

static void delta_rows(struct page *pg, const struct record_trace *t, size_t base)
{
	for (int m = 0; m < STATS_COUNT_; m++) {
		const struct stats_def *d = &stats_defs[m];
		struct line *l;
		char label[64];

		if (!report_has_delta(m))
			continue;
		snprintf(label, sizeof label, "  %s", d->label);
		l = add_line(pg, L_ROW, label);
		for (size_t i = 0; i < t->npol; i++) {
			if (i == base) {
				snprintf(l->cells[i], sizeof l->cells[i], "base");
				continue;
			}
			if (report_below_floor(&t->pol[i], m) ||
			    report_below_floor(&t->pol[base], m)) {
				snprintf(l->cells[i], sizeof l->cells[i], "n/a");
				continue;
			}
			delta_cell(l->cells[i], sizeof l->cells[i], d, t->pol[i].m[m],
				   t->pol[base].m[m]);
			if (strcmp(l->cells[i], "=") != 0 && strcmp(l->cells[i], "-") != 0)
				l->idle = 0;
		}
	}
}

/* ---- one trace --------------------------------------------------------------- */

static void title(struct strbuf *sb, const struct record_trace *t)
{
	sb_printf(sb, "trace %s: %llu event%s%s\n", t->name, (unsigned long long)t->events,
		  t->events == 1 ? "" : "s",
		  t->timed ? ", timed" : ", untimed");
	if (t->nmarks) {
		sb_printf(sb, "marks: %zu (", t->nmarks);
		for (size_t i = 0; i < t->nmarks && i < 4; i++)
			sb_printf(sb, "%s%s at event %llu", i ? ", " : "", t->marks[i].label,
				  (unsigned long long)t->marks[i].event);
		sb_puts(sb, t->nmarks > 4 ? ", ...)\n" : ")\n");
	}
	if (t->nrecorded) {
		uint64_t freed = 0;

		for (size_t i = 0; i < t->nrecorded; i++)
			freed += t->recorded[i].freed;
		sb_printf(sb, "recorded: %zu collection%s by the traced runtime, "
			  "%llu objects freed\n", t->nrecorded, t->nrecorded == 1 ? "" : "s",
			  (unsigned long long)freed);
	}
}

/* Appends `lead` and `text`, broken at spaces so that no line passes 79
 * columns; continuation lines are indented by four. A word longer than
 * a line (a path) is kept whole, never cut. */
static void wrap_words(struct strbuf *sb, const char *lead, const char *text)
{
	size_t col = strlen(lead);
	int fresh = 1;          /* at the start of a line: no space before */

	sb_puts(sb, lead);
	while (*text) {
		size_t w = strcspn(text, " ");

		if (!fresh && col + 1 + w > TEXT_WIDTH - 1) {
			sb_puts(sb, "\n    ");
			col = 4;
			fresh = 1;
		}
		if (!fresh) {
			sb_putc(sb, ' ');
			col++;
		}
		sb_printf(sb, "%.*s", (int)w, text);
		col += w;
		fresh = 0;
		text += w;
		while (*text == ' ')
			text++;
	}
	sb_putc(sb, '\n');
}

static void warnings(struct strbuf *sb, const struct record_trace *t)
{
	char lead[300];

	size_t n = t->warnings.n;

	for (size_t i = 0; i < t->npol; i++)
		n += t->pol[i].warnings.n;
	if (!n)
		return;
	sb_puts(sb, "warnings:\n");
	for (size_t k = 0; k < t->warnings.n; k++)
		wrap_words(sb, "  ", t->warnings.v[k]);
	for (size_t i = 0; i < t->npol; i++)
		for (size_t k = 0; k < t->pol[i].warnings.n; k++) {
			snprintf(lead, sizeof lead, "  [%zu] %s: ", i + 1, t->pol[i].name);
			wrap_words(sb, lead, t->pol[i].warnings.v[k]);
		}
}

static void render(struct strbuf *sb, struct page *pg, const struct record_trace *t,
		   size_t base, const struct layout *ly)
{
	for (size_t first = 0; first < t->npol; first += ly->per_block) {
		size_t count = t->npol - first < ly->per_block ? t->npol - first
							       : ly->per_block;

		if (first)
			sb_puts(sb, "\n--\n");
		render_block(sb, pg, ly, t, first, count, base);
	}
}

/* The recorded runtime's own collections by generation, after the
 * modelled collector's rows (docs/gc.md, "Recorded collections"). */
static void recorded_rows(struct strbuf *sb, const struct record_trace *t)
{
	static const char *const head[] = { "p50", "p95", "p99", "max" };
	struct record_gc_summary *g;
	size_t n = record_recorded_gens(t, &g);
	char cell[4][32];

	if (!n)
		return;
	sb_puts(sb, "\nrecorded collector (the traced runtime's own, from its g lines)\n");
	sb_printf(sb, "  %-12s %11s %11s", "generation", "collections", "collected");
	for (size_t k = 0; t->timed && k < 4; k++)
		sb_printf(sb, "   pause %s", head[k]);
	sb_putc(sb, '\n');
	for (size_t i = 0; i < n; i++) {
		const uint64_t v[4] = { g[i].pause_p50_ns, g[i].pause_p95_ns,
					g[i].pause_p99_ns, g[i].pause_max_ns };

		sb_printf(sb, "  %-12u %11llu %11llu", (unsigned)g[i].generation,
			  (unsigned long long)g[i].collections, (unsigned long long)g[i].freed);
		for (size_t k = 0; t->timed && k < 4; k++) {
			report_value(cell[k], sizeof cell[k], UNIT_NS, (double)v[k]);
			sb_printf(sb, " %11s", cell[k]);
		}
		sb_putc(sb, '\n');
	}
	free(g);
}

static void text_trace(struct strbuf *sb, const struct record_trace *t,
		       const struct report_opts *o)
{
	size_t base = report_baseline(t, o);
	struct page pg = { .npol = t->npol, .all = o && o->all };
	struct layout ly;

	title(sb, t);
	build(&pg, t, o);
	if (base != SIZE_MAX && t->npol > 1 && report_shows(o, REPORT_SEC_BASELINE)) {
		char head[300];

		snprintf(head, sizeof head, "vs baseline");
		add_line(&pg, L_SECTION, head);
		delta_rows(&pg, t, base);
	}
	decide(&pg);
	plan(&ly, &pg, t);
	legend(sb, &ly, t, base);
	warnings(sb, t);
	render(sb, &pg, t, base, &ly);
	if (report_shows(o, STATS_SEC_COLLECTOR))
		recorded_rows(sb, t);
	if (pg.floor_used)
		sb_puts(sb, "\nn/a: the live bytes under the ratio are below 1 MiB, where the\n"
			"allocator's granule (an arena, the heap's padding) decides the ratio\n"
			"(docs/metrics.md); JSON and CSV have the values.\n");
	if (pg.hidden)
		sb_printf(sb, "\n%zu row%s zero under every policy %s hidden (--all shows %s).\n",
			  pg.hidden, pg.hidden == 1 ? "" : "s", pg.hidden == 1 ? "is" : "are",
			  pg.hidden == 1 ? "it" : "them");
	page_free(&pg);
}

static void text_write(struct strbuf *sb, const struct record *rec,
		       const struct report_opts *o)
{
	for (size_t k = 0; k < rec->warnings.n; k++)
		sb_printf(sb, "warning: %s\n", rec->warnings.v[k]);
	for (size_t t = 0; t < rec->ntraces; t++) {
		if (t || rec->warnings.n)
			sb_puts(sb, "\n\n");
		text_trace(sb, &rec->traces[t], o);
	}
}

const struct report_format report_format_text = {
	.name = "text",
	.summary = "the side-by-side table people read (default)",
	.file = "report.txt",
	.write = text_write,
};
