/*
 * plot.c - data files, gnuplot scripts and rendering (see plot.h).
 *
 * Units on the plots: bytes as KiB/MiB/GiB as the values need,
 * nanoseconds as ms; the x axis of memory plots is the trace's time in ms
 * when it has `@` times, else the event index. Marks (trace `m LABEL`)
 * are dashed vertical lines with their label on every memory plot, and
 * collections recorded in the trace (`g`) are grey ticks at its foot.
 * Scripts switch enhanced text off so policy names such as
 * "cpython-2.7:freelists.mode=shared" print as they are. Titles and
 * captions are made from the record, like the plots themselves.
 */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outfile.h"
#include "pause.h"
#include "report.h"
#include "series.h"
#include "strbuf.h"
#include "xalloc.h"

#define PLOT_MMU_POINTS 60      /* windows on the MMU curve */
#define PLOT_MMU_MIN_NS 10000u  /* smallest MMU window: 10 us */
#define PLOT_SIZE "960,540"     /* pixels (PNG) and points (SVG) */

static const char *const gp_colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
	"#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
};
#define GP_NCOLORS (sizeof gp_colors / sizeof gp_colors[0])

/* Generations (or spaces) by row index: young blue, then warmer. */
static const char *const gen_colors[] = {
	"#4c9be8", "#f0a030", "#d62728", "#2ca02c", "#9467bd", "#8c564b",
};
#define GEN_NCOLORS (sizeof gen_colors / sizeof gen_colors[0])

/* Snapshot colours on the occupancy plot: peak, end, then marks. */
static const char *const occ_colors[] = {
	"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
};
#define OCC_NCOLORS (sizeof occ_colors / sizeof occ_colors[0])

/* ---- names ----------------------------------------------------------------- */

/* Cuts `ext` off the end of s (of length *len) if it is there and not
 * all of s. */
static void cut_ext(char *s, size_t *len, const char *ext)
{
	size_t e = strlen(ext);

	if (*len > e && strcmp(s + *len - e, ext) == 0)
		s[*len -= e] = '\0';
}

/* "traces/list-churn.trace.gz" -> "list-churn" (also .msb, .zst);
 * characters other than letters, digits, '-', '_' and '.' become '_'. */
static char *trace_slug(const char *trace)
{
	const char *base = strrchr(trace, '/');
	char *s = xstrdup(base ? base + 1 : trace);
	size_t len = strlen(s);

	cut_ext(s, &len, ".gz");
	cut_ext(s, &len, ".zst");
	cut_ext(s, &len, ".trace");
	cut_ext(s, &len, ".msb");
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = '_';
	if (!*s || *s == '.') {
		free(s);
		s = xstrdup("trace");
	}
	return s;
}

/* A gnuplot single-quoted string: a quote is written twice. */
static void gp_str(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_putc(sb, '\'');
		if (*s == '\n')
			continue;
		sb_putc(sb, *s);
	}
	sb_putc(sb, '\'');
}

/* ---- what the record has --------------------------------------------------- */

static int any_sampled(const struct record_trace *t)
{
	for (size_t i = 0; i < t->npol; i++)
		if (t->pol[i].sampled && t->pol[i].nseries)
			return 1;
	return 0;
}

static int any_pauses(const struct record_trace *t)
{
	for (size_t i = 0; i < t->npol; i++)
		if (t->pol[i].npauses)
			return 1;
	return 0;
}

static int has_occupancy(const struct record_policy *p)
{
	for (size_t k = 0; k < p->noccupancy; k++)
		if (p->occupancy[k].n)
			return 1;
	return 0;
}

/* The collector's row names of p ("0", "young"), for legends. */
static const char *gen_name(const struct record_policy *p, uint32_t g)
{
	const struct record_table *t = record_table_find(p, STATS_GEN_TABLE);

	return t && t->rows && g < t->nrows ? t->rows[g] : NULL;
}

static void value(char *buf, size_t size, enum unit u, double v)
{
	report_value(buf, size, u, v);
}

void plot_list_free(struct plot_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].title);
		free(l->v[i].caption);
	}
	for (size_t t = 0; t < l->ntraces; t++)
		free(l->slug[t]);
	free(l->slug);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- data ------------------------------------------------------------------- */

static void series_dat(struct strbuf *sb, const struct record_policy *p)
{
	sb_puts(sb, "#");
	for (int c = 0; c < SERIES_NCOLS; c++)
		sb_printf(sb, " %s", series_column_key[c]);
	sb_putc(sb, '\n');
	for (size_t i = 0; i < p->nseries; i++) {
		for (int c = 0; c < SERIES_NCOLS; c++)
			sb_printf(sb, c ? " %" PRIu64 : "%" PRIu64, p->series[i].v[c]);
		sb_putc(sb, '\n');
	}
}

static void pauses_dat(struct strbuf *sb, const struct gc_pause *p, size_t n)
{
	sb_puts(sb, "# index event start_ns pause_ns generation explicit examined"
		" traversed unreachable freed stw_ns\n");
	for (size_t i = 0; i < n; i++)
		sb_printf(sb, "%zu %" PRIu64 " %" PRIu64 " %" PRIu64 " %u %u %" PRIu64
			  " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			  i + 1, p[i].event + 1, p[i].start_ns, p[i].pause_ns,
			  p[i].generation, p[i].explicit_, p[i].examined, p[i].traversed,
			  p[i].unreachable, p[i].freed, p[i].stw_ns);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The empirical CDF: the k-th smallest pause (1-based) has share k/n. */
static void cdf_dat(struct strbuf *sb, const struct gc_pause *p, size_t n)
{
	uint64_t *v = xcalloc(n ? n : 1, sizeof *v);

	for (size_t i = 0; i < n; i++)
		v[i] = p[i].pause_ns;
	qsort(v, n, sizeof *v, cmp_u64);
	sb_puts(sb, "# pause_ns fraction_of_pauses_at_most\n");
	for (size_t i = 0; i < n; i++)
		sb_printf(sb, "%" PRIu64 " %.17g\n", v[i], (double)(i + 1) / (double)n);
	free(v);
}

static void mmu_dat(struct strbuf *sb, const struct record_policy *p)
{
	uint64_t w[PLOT_MMU_POINTS];
	double m[PLOT_MMU_POINTS];
	double run = p->m[STATS_GC_RUN];
	size_t k = series_mmu_curve(p->pauses, p->npauses, isnan(run) ? 0 : (uint64_t)run,
				    PLOT_MMU_MIN_NS, PLOT_MMU_POINTS, w, m);

	sb_puts(sb, "# window_ns mmu\n");
	for (size_t i = 0; i < k; i++)
		sb_printf(sb, "%" PRIu64 " %.17g\n", w[i], m[i]);
}

static uint32_t occupancy_max(const struct record_policy *p)
{
	uint32_t max = 0;

	for (size_t k = 0; k < p->noccupancy; k++)
		for (size_t a = 0; a < p->occupancy[k].n; a++)
			if (p->occupancy[k].usable[a] > max)
				max = p->occupancy[k].usable[a];
	return max;
}

/* Arenas by pools in use, 0 .. the most pools an arena holds: one column
 * per snapshot (peak, end, marks, in the record's order). */
static void occupancy_dat(struct strbuf *sb, const struct record_policy *p)
{
	uint32_t max = occupancy_max(p);
	uint64_t *count = xcalloc(((size_t)max + 1) * (p->noccupancy ? p->noccupancy : 1),
				  sizeof *count);

	for (size_t k = 0; k < p->noccupancy; k++) {
		const struct record_occupancy *o = &p->occupancy[k];

		sb_printf(sb, "# column %zu: %s, event %" PRIu64 ", %zu arenas\n", k + 2,
			  o->at, o->event, o->n);
		for (size_t a = 0; a < o->n; a++)
			count[(size_t)o->in_use[a] * p->noccupancy + k]++;
	}
	sb_printf(sb, "# pools per arena: %u\n# pools_in_use", max);
	for (size_t k = 0; k < p->noccupancy; k++)
		sb_printf(sb, " %s", p->occupancy[k].at);
	sb_putc(sb, '\n');
	for (uint32_t v = 0; v <= max; v++) {
		sb_printf(sb, "%u", v);
		for (size_t k = 0; k < p->noccupancy; k++)
			sb_printf(sb, " %" PRIu64, count[(size_t)v * p->noccupancy + k]);
		sb_putc(sb, '\n');
	}
	free(count);
}

/* ---- scripts ----------------------------------------------------------------- */

/* The opening of every script: a clean state, the PNG terminal. */
static void gp_begin(struct strbuf *sb, const char *name, const char *title)
{
	sb_printf(sb, "# %s - written by memsim; run from the report directory:\n"
		  "#   gnuplot plots/%s.gp\n", name, name);
	sb_puts(sb, "reset\nif (!exists(\"outdir\")) outdir = 'plots'\n");
	sb_puts(sb, "set terminal pngcairo size " PLOT_SIZE " font 'sans,10' noenhanced\n");
	sb_printf(sb, "set output outdir.'/%s.png'\n", name);
	sb_puts(sb, "set title ");
	gp_str(sb, title);
	sb_puts(sb, "\nset grid\nset key below Left reverse noautotitle\nset autoscale xfix\n"
		"set rmargin 6\n");
}

/* Draws the same plot again as SVG. */
static void gp_end(struct strbuf *sb, const char *name)
{
	sb_puts(sb, "set terminal svg size " PLOT_SIZE " font 'sans,10' noenhanced "
		"background '#ffffff'\n");
	sb_printf(sb, "set output outdir.'/%s.svg'\nreplot\nunset output\n", name);
}

/* A byte unit for values up to max: KiB below 1 MiB, GiB from 4 GiB. */
static void byte_unit(uint64_t max, const char **name, double *div)
{
	if (max < 1048576) {
		*name = "KiB";
		*div = 1024.0;
	} else if (max < UINT64_C(4) << 30) {
		*name = "MiB";
		*div = 1048576.0;
	} else {
		*name = "GiB";
		*div = 1073741824.0;
	}
}

static uint64_t series_max(const struct record_policy *p, int col)
{
	uint64_t m = 0;

	for (size_t i = 0; i < p->nseries; i++)
		if (p->series[i].v[col] > m)
			m = p->series[i].v[col];
	return m;
}

static const char *x_expr(int timed)
{
	return timed ? "($2/1e6)" : "($1)";
}

static const char *x_label(int timed)
{
	return timed ? "trace time (ms)" : "event";
}

/* Marks as dashed vertical lines with their labels; recorded collections
 * as grey ticks at the foot. On any plot whose x axis is the trace's. */
static void gp_marks(struct strbuf *sb, const struct record_trace *t)
{
	for (size_t i = 0; i < t->nmarks; i++) {
		double x = t->timed ? (double)t->marks[i].time_ns / 1e6 : (double)t->marks[i].event;

		sb_printf(sb, "set arrow from %.17g, graph 0 to %.17g, graph 1 nohead dt 2 "
			  "lw 1 lc rgb '#555555' front\nset label ", x, x);
		gp_str(sb, t->marks[i].label);
		sb_printf(sb, " at %.17g, graph 0.98 rotate by 90 right offset -0.8,0 "
			  "font ',9' tc rgb '#333333' front\n", x);
	}
	for (size_t i = 0; i < t->nrecorded; i++) {
		double x = t->timed ? (double)t->recorded[i].time_ns / 1e6
				    : (double)t->recorded[i].event;

		sb_printf(sb, "set arrow from %.17g, graph 0 to %.17g, graph 0.03 nohead "
			  "lw 1 lc rgb '#999999' front\n", x, x);
	}
}

static void memory_gp(struct strbuf *sb, const char *name, const char *title,
		      const char *slug, const struct record_trace *t, size_t i_)
{
	uint64_t max = 0;
	const char *unit;
	double div;
	int first = 1;
	size_t live_from = 0;

	(void)i_;
	for (size_t i = 0; i < t->npol; i++) {
		uint64_t m = series_max(&t->pol[i], SERIES_PEAK_RSS);

		max = m > max ? m : max;
	}
	while (live_from < t->npol && !t->pol[live_from].sampled)
		live_from++;
	byte_unit(max, &unit, &div);
	gp_begin(sb, name, title);
	sb_printf(sb, "set xlabel '%s'\nset ylabel 'memory (%s)'\nset yrange [0:*]\n"
		  "U = %.1f\n", x_label(t->timed), unit, div);
	gp_marks(sb, t);
	sb_puts(sb, "plot ");
	for (size_t i = 0; i < t->npol; i++) {
		if (!t->pol[i].sampled)
			continue;
		/* Policies often coincide: dashes keep hidden lines visible. */
		sb_printf(sb, "%s'data/%s.p%zu.series.dat' using %s:($7/U) with lines"
			  " lw %.1f dt %zu lc rgb '%s' title ", first ? "" : ", \\\n     ",
			  slug, i + 1, x_expr(t->timed), first ? 3.0 : 2.0, i % 5 + 1,
			  gp_colors[i % GP_NCOLORS]);
		if (t->pol[i].measured) {
			char label[300];

			snprintf(label, sizeof label, "%s (measured)", t->pol[i].name);
			gp_str(sb, label);
		} else {
			gp_str(sb, t->pol[i].name);
		}
		first = 0;
	}
	/* Live bytes do not depend on the allocator; a collector that frees
	 * cycles later can change them, so the line names its policy. */
	sb_printf(sb, ", \\\n     'data/%s.p%zu.series.dat' using %s:($3/U) with lines"
		  " lw 1 lc rgb '#000000' title ", slug, live_from + 1, x_expr(t->timed));
	{
		char lt[300];

		snprintf(lt, sizeof lt, "live bytes (%s)", t->pol[live_from].name);
		gp_str(sb, lt);
	}
	if (!t->timed) {
		/* The exact peaks, at the event where each happened. */
		for (size_t i = 0; i < t->npol; i++)
			if (t->pol[i].sampled && t->pol[i].nseries)
				sb_printf(sb, ", \\\n     'data/%s.p%zu.series.dat' every ::%zu::%zu"
					  " using 11:($10/U) with points pt 7 ps 1.2"
					  " lc rgb '%s' notitle", slug, i + 1,
					  t->pol[i].nseries - 1, t->pol[i].nseries - 1,
					  gp_colors[i % GP_NCOLORS]);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

static void breakdown_gp(struct strbuf *sb, const char *name, const char *title,
			 const char *slug, const struct record_trace *t, size_t i)
{
	char file[300], full[800];
	const char *x = x_expr(t->timed), *unit;
	const struct record_policy *p = &t->pol[i];
	uint64_t fmax = series_max(p, SERIES_FOOTPRINT), amax = series_max(p, SERIES_ALLOCATED);
	uint64_t lmin = UINT64_MAX;
	double div, floor_;
	/* When the footprint dwarfs what is allocated (a mostly empty arena),
	 * linear bands would be invisible: a log axis shows each of them. */
	int logy = fmax > 20 * (amax ? amax : 1);

	for (size_t k = 0; k < p->nseries; k++)
		if (p->series[k].v[SERIES_LIVE] && p->series[k].v[SERIES_LIVE] < lmin)
			lmin = p->series[k].v[SERIES_LIVE];
	byte_unit(fmax, &unit, &div);
	snprintf(full, sizeof full, "%s%s", title, logy ? " (log scale)" : "");
	snprintf(file, sizeof file, "data/%s.p%zu.series.dat", slug, i + 1);
	gp_begin(sb, name, full);
	sb_printf(sb, "set xlabel '%s'\nset ylabel 'memory (%s%s)'\n", x_label(t->timed),
		  unit, logy ? ", log scale" : "");
	floor_ = logy ? (lmin == UINT64_MAX ? 1.0 : (double)lmin / 2) / div : 0.0;
	if (logy)
		sb_puts(sb, "set logscale y\n");
	sb_printf(sb, "FLOOR = %.17g\nset yrange [FLOOR:*]\n", floor_);
	sb_printf(sb, "set style fill solid 0.6 noborder\nM = %.1f\n", div);
	gp_marks(sb, t);
	sb_puts(sb, "min(a, b) = a < b ? a : b\nmax(a, b) = a > b ? a : b\n"
		"# bands: live <= live + free lists <= allocated <= footprint\n"
		"held(l, h, a) = min(l + h, max(a, l))\n");
	sb_printf(sb,
		  "plot '%s' using %s:(FLOOR):($3/M) with filledcurves lc rgb '#4c72b0' title 'live objects', \\\n"
		  "     '%s' using %s:($3/M):(held($3, $5, $4)/M) with filledcurves lc rgb '#55a868' title 'held by free lists', \\\n"
		  "     '%s' using %s:(held($3, $5, $4)/M):(max($4, $3)/M) with filledcurves lc rgb '#dd8452' title 'rounding and allocator overhead', \\\n"
		  "     '%s' using %s:(max($4, $3)/M):(max($6, max($4, $3))/M) with filledcurves lc rgb '#c8c8c8' title 'free in footprint (external)', \\\n"
		  "     '%s' using %s:($7/M) with lines lw 2 lc rgb '#000000' title 'RSS'\n",
		  file, x, file, x, file, x, file, x, file, x);
	gp_end(sb, name);
}

static void cdf_gp(struct strbuf *sb, const char *name, const char *title,
		   const char *slug, const struct record_trace *t, size_t i_)
{
	int first = 1;

	(void)i_;
	gp_begin(sb, name, title);
	sb_puts(sb, "set xlabel 'pause (ms)'\nset ylabel 'fraction of pauses <= x'\n"
		"set yrange [0:1.05]\nset xrange [0:*]\n");
	sb_puts(sb, "plot ");
	for (size_t i = 0; i < t->npol; i++) {
		if (!t->pol[i].npauses)
			continue;
		sb_printf(sb, "%s'data/%s.p%zu.pause-cdf.dat' using ($1/1e6):2 with steps"
			  " lw 2 dt %zu lc rgb '%s' title ", first ? "" : ", \\\n     ",
			  slug, i + 1, i % 5 + 1, gp_colors[i % GP_NCOLORS]);
		gp_str(sb, t->pol[i].name);
		first = 0;
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

/* Colour by generation (row of the collector), shape by policy; the
 * legend has one entry per generation name and one per policy. */
static void timeline_gp(struct strbuf *sb, const char *name, const char *title,
			const char *slug, const struct record_trace *t, size_t i_)
{
	const char *gnames[GEN_NCOLORS] = { 0 };
	uint32_t ngen = 0;
	int first = 1;

	(void)i_;
	for (size_t i = 0; i < t->npol; i++)
		for (size_t k = 0; k < t->pol[i].npauses; k++) {
			uint32_t g = t->pol[i].pauses[k].generation;

			if (g < GEN_NCOLORS && !gnames[g])
				gnames[g] = gen_name(&t->pol[i], g);
			if (g + 1 > ngen)
				ngen = g + 1;
		}
	gp_begin(sb, name, title);
	sb_puts(sb, "set xlabel 'run time incl. pauses (ms)'\nset ylabel 'pause (ms)'\n"
		"set yrange [0:*]\nset xrange [0:*]\nset offsets 0, graph 0.02, 0, 0\n"
		"set key maxcols 4\n");
	sb_puts(sb, "plot ");
	for (uint32_t g = 0; g < ngen && g < GEN_NCOLORS; g++) {
		char label[80];

		if (gnames[g] && gnames[g][0] >= '0' && gnames[g][0] <= '9')
			snprintf(label, sizeof label, "generation %s", gnames[g]);
		else
			snprintf(label, sizeof label, "%s", gnames[g] ? gnames[g] : "?");
		sb_printf(sb, "%s1/0 with points pt 5 ps 1.5 lc rgb '%s' title ",
			  first ? "" : ", \\\n     ", gen_colors[g]);
		gp_str(sb, label);
		first = 0;
	}
	for (size_t i = 0; i < t->npol; i++) {
		if (!t->pol[i].npauses)
			continue;
		sb_printf(sb, ", \\\n     1/0 with points pt %zu ps 1.2 lc rgb '#000000' title ",
			  i % 6 + 6);
		gp_str(sb, t->pol[i].name);
	}
	for (size_t i = 0; i < t->npol; i++) {
		if (!t->pol[i].npauses)
			continue;
		for (uint32_t g = 0; g < ngen; g++)
			sb_printf(sb, ", \\\n     'data/%s.p%zu.pauses.dat' using ($3/1e6):($5 == %u"
				  " ? $4/1e6 : 1/0) with impulses lw 1 lc rgb '%s' notitle, \\\n"
				  "     '' using ($3/1e6):($5 == %u ? $4/1e6 : 1/0) with points"
				  " pt %zu ps 0.8 lc rgb '%s' notitle", slug, i + 1, g,
				  gen_colors[g % GEN_NCOLORS], g, i % 6 + 6,
				  gen_colors[g % GEN_NCOLORS]);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

static void mmu_gp(struct strbuf *sb, const char *name, const char *title,
		   const char *slug, const struct record_trace *t, size_t i_)
{
	(void)i_;
	gp_begin(sb, name, title);
	sb_puts(sb, "set logscale x 10\nset format x '%g'\n"
		"set xlabel 'window (ms, log scale)'\n"
		"set ylabel 'MMU (fraction of window for the program)'\nset yrange [0:1.05]\n");
	sb_puts(sb, "plot ");
	for (size_t i = 0; i < t->npol; i++) {
		if (i)
			sb_puts(sb, ", \\\n     ");
		sb_printf(sb, "'data/%s.p%zu.mmu.dat' using ($1/1e6):2 with lines lw 2"
			  " dt %zu lc rgb '%s' title ", slug, i + 1, i % 5 + 1,
			  gp_colors[i % GP_NCOLORS]);
		gp_str(sb, t->pol[i].name);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

/* One bar group per pool count: a bar per snapshot, side by side. */
static void occupancy_gp(struct strbuf *sb, const char *name, const char *title,
			 const char *slug, const struct record_trace *t, size_t i)
{
	const struct record_policy *p = &t->pol[i];
	uint32_t most = occupancy_max(p);
	size_t ns = p->noccupancy;
	double w = 0.8 / (double)(ns ? ns : 1);

	gp_begin(sb, name, title);
	sb_puts(sb, "set xlabel 'pools in use in the arena (an arena with 0 can be released)'\n"
		"set ylabel 'arenas'\nset yrange [0:*]\n"
		"set style fill solid 0.75 border -1\n");
	size_t tallest = 0;

	/* whole counts: a tic per arena while they are few */
	for (size_t k = 0; k < ns; k++)
		if (p->occupancy[k].n > tallest)
			tallest = p->occupancy[k].n;
	sb_printf(sb, "set boxwidth %.4f\nset xrange [-0.5:%u.5]\nset format y '%%.0f'\n",
		  w, most);
	if (tallest <= 15)
		sb_puts(sb, "set ytics 1\n");
	sb_puts(sb, "plot ");
	for (size_t k = 0; k < ns; k++) {
		const struct record_occupancy *o = &p->occupancy[k];
		char label[300];

		snprintf(label, sizeof label, "%s (event %" PRIu64 ", %zu arenas)",
			 strcmp(o->at, "peak_footprint") == 0 ? "at peak footprint"
			 : strcmp(o->at, "end") == 0 ? "at end" : o->at, o->event, o->n);
		sb_printf(sb, "%s'data/%s.p%zu.occupancy.dat' using ($1 + %.4f):%zu with boxes"
			  " lc rgb '%s' title ", k ? ", \\\n     " : "", slug, i + 1,
			  ((double)k - (double)(ns - 1) / 2) * w, k + 2,
			  occ_colors[k % OCC_NCOLORS]);
		gp_str(sb, label);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

/* ---- captions, made from the record ------------------------------------------ */

static void memory_caption(struct strbuf *sb, const struct record_trace *t, size_t i_)
{
	size_t hi = 0, lo = 0;
	char a[32], b[32];

	(void)i_;
	for (size_t i = 1; i < t->npol; i++) {
		if (t->pol[i].m[STATS_PEAK_RSS] > t->pol[hi].m[STATS_PEAK_RSS])
			hi = i;
		if (t->pol[i].m[STATS_PEAK_RSS] < t->pol[lo].m[STATS_PEAK_RSS])
			lo = i;
	}
	value(a, sizeof a, UNIT_BYTES, t->pol[hi].m[STATS_PEAK_RSS]);
	value(b, sizeof b, UNIT_BYTES, t->pol[lo].m[STATS_PEAK_RSS]);
	sb_printf(sb, "RSS over the run, one line per policy (%zu); the thin black "
		  "line is the live bytes under %s. Dots mark each exact peak: highest "
		  "%s, %s at event %.0f", t->npol, t->pol[0].name, t->pol[hi].name, a,
		  t->pol[hi].m[STATS_PEAK_RSS_EVENT]);
	if (t->npol > 1)
		sb_printf(sb, "; lowest %s, %s", t->pol[lo].name, b);
	sb_puts(sb, ".");
	if (t->nmarks)
		sb_printf(sb, " Dashed lines: the trace's %zu mark%s.", t->nmarks,
			  t->nmarks == 1 ? "" : "s");
	if (t->nrecorded)
		sb_printf(sb, " Grey ticks: %zu collections the traced runtime made.",
			  t->nrecorded);
}

static void breakdown_caption(struct strbuf *sb, const struct record_trace *t, size_t i)
{
	const struct record_policy *p = &t->pol[i];
	char fp[32], live[32], held[32];

	value(fp, sizeof fp, UNIT_BYTES, p->m[STATS_PEAK_FOOTPRINT]);
	value(live, sizeof live, UNIT_BYTES, p->m[STATS_PEAK_LIVE]);
	value(held, sizeof held, UNIT_BYTES, p->m[STATS_FL_HELD_PEAK]);
	sb_printf(sb, "Where the memory goes under %s: live objects (blue, peak %s), "
		  "bytes held by free lists (green, peak %s), rounding and allocator "
		  "overhead (orange), free space inside the footprint (grey, peak "
		  "footprint %s); RSS as a black line.", p->name, live, held, fp);
}

static void pauses_caption(struct strbuf *sb, const struct record_trace *t, int cdf)
{
	size_t worst = SIZE_MAX, n = 0, policies = 0;
	char a[32];

	for (size_t i = 0; i < t->npol; i++) {
		if (!t->pol[i].npauses)
			continue;
		policies++;
		n += t->pol[i].npauses;
		if (worst == SIZE_MAX ||
		    t->pol[i].m[STATS_GC_PAUSE_MAX] > t->pol[worst].m[STATS_GC_PAUSE_MAX])
			worst = i;
	}
	value(a, sizeof a, UNIT_NS, t->pol[worst].m[STATS_GC_PAUSE_MAX]);
	if (cdf)
		sb_printf(sb, "Pause distribution of the %zu polic%s that collected (%zu "
			  "pauses): the fraction of pauses at most x ms; further right is "
			  "worse. Longest pause: %s under %s.", policies,
			  policies == 1 ? "y" : "ies", n, a, t->pol[worst].name);
	else
		sb_printf(sb, "Every pause (%zu) at its start on the run's timeline "
			  "(mutator time plus earlier pauses), its height the pause; colour "
			  "is the generation collected, the point's shape the policy. "
			  "Longest: %s under %s.", n, a, t->pol[worst].name);
}

static void cdf_caption(struct strbuf *sb, const struct record_trace *t, size_t i)
{
	(void)i;
	pauses_caption(sb, t, 1);
}

static void timeline_caption(struct strbuf *sb, const struct record_trace *t, size_t i)
{
	(void)i;
	pauses_caption(sb, t, 0);
}

static void mmu_caption(struct strbuf *sb, const struct record_trace *t, size_t i_)
{
	char a[32];

	(void)i_;
	sb_puts(sb, "Minimum mutator utilisation: for a window width, the worst share of "
		"any window left to the program (higher is better). At 10 ms:");
	for (size_t i = 0; i < t->npol; i++) {
		value(a, sizeof a, UNIT_RATIO, t->pol[i].m[STATS_MMU_10MS]);
		sb_printf(sb, "%s %s %s", i ? "," : "", t->pol[i].name, a);
	}
	sb_puts(sb, ".");
}

static void occupancy_caption(struct strbuf *sb, const struct record_trace *t, size_t i)
{
	const struct record_policy *p = &t->pol[i];

	sb_printf(sb, "Arenas by pools in use under %s:", p->name);
	for (size_t k = 0; k < p->noccupancy; k++) {
		const struct record_occupancy *o = &p->occupancy[k];
		size_t empty = 0;

		for (size_t a = 0; a < o->n; a++)
			empty += o->in_use[a] == 0;
		sb_printf(sb, "%s %s (event %" PRIu64 ", %zu arena%s, %zu empty)",
			  k ? "," : "", strcmp(o->at, "peak_footprint") == 0 ? "at the peak footprint"
			  : strcmp(o->at, "end") == 0 ? "at the end" : o->at, o->event, o->n,
			  o->n == 1 ? "" : "s", empty);
	}
	sb_puts(sb, ". An arena is released only with 0 pools in use: bars right of 0 "
		"are arenas pinned by a few live blocks.");
}

/* ---- the catalog ------------------------------------------------------------- */

static int has_sampled(const struct record_trace *t, size_t i)
{
	return i == SIZE_MAX ? any_sampled(t) : t->pol[i].sampled;
}

static int has_pauses(const struct record_trace *t, size_t i)
{
	(void)i;
	return any_pauses(t);
}

static int has_arenas(const struct record_trace *t, size_t i)
{
	return has_occupancy(&t->pol[i]);
}

/* The plots a trace can have, in page order. */
static const struct plot_kind {
	const char *suffix;
	int per_policy;
	int (*has)(const struct record_trace *t, size_t i);  /* i: SIZE_MAX = the trace */
	const char *what;       /* the title after the trace (and policy) */
	void (*caption)(struct strbuf *sb, const struct record_trace *t, size_t i);
	void (*script)(struct strbuf *sb, const char *name, const char *title,
		       const char *slug, const struct record_trace *t, size_t i);
} plot_kinds[] = {
	{ "memory", 0, has_sampled, "RSS over time", memory_caption, memory_gp },
	{ "breakdown", 1, has_sampled, "where the memory goes",
	  breakdown_caption, breakdown_gp },
	{ "pause-cdf", 0, has_pauses, "GC pause distribution", cdf_caption, cdf_gp },
	{ "pause-timeline", 0, has_pauses, "GC pauses by generation",
	  timeline_caption, timeline_gp },
	{ "mmu", 0, has_pauses, "minimum mutator utilisation", mmu_caption, mmu_gp },
	{ "occupancy", 1, has_arenas, "arenas by pools in use",
	  occupancy_caption, occupancy_gp },
};
#define PLOT_NKINDS (sizeof plot_kinds / sizeof plot_kinds[0])

static void add_item(struct plot_list *l, size_t trace, size_t kind, size_t pol,
		     const char *slug, const struct record_trace *t)
{
	const struct plot_kind *k = &plot_kinds[kind];
	struct plot_item *it;
	char name[400], title[700];
	struct strbuf cap;

	if (k->per_policy) {
		snprintf(name, sizeof name, "%s.p%zu.%s", slug, pol + 1, k->suffix);
		snprintf(title, sizeof title, "%s under %s: %s", t->name, t->pol[pol].name,
			 k->what);
	} else {
		snprintf(name, sizeof name, "%s.%s", slug, k->suffix);
		snprintf(title, sizeof title, "%s: %s", t->name, k->what);
	}
	sb_init(&cap);
	k->caption(&cap, t, pol);
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	it = &l->v[l->n++];
	*it = (struct plot_item){
		.name = xstrdup(name), .title = xstrdup(title),
		.caption = xstrdup(sb_str(&cap)), .trace = trace, .kind = kind, .policy = pol,
	};
	sb_free(&cap);
}

void plot_catalog(const struct record *rec, struct plot_list *out)
{
	memset(out, 0, sizeof *out);
	out->slug = xcalloc(rec->ntraces ? rec->ntraces : 1, sizeof *out->slug);
	out->ntraces = rec->ntraces;
	for (size_t t = 0; t < rec->ntraces; t++) {
		const struct record_trace *tr = &rec->traces[t];
		char *slug = trace_slug(tr->name);

		/* The same file name twice (a/x.trace, b/x.trace): number it. */
		for (size_t u = 0; u < t; u++) {
			if (strcmp(out->slug[u], slug) == 0) {
				char *s2 = xmalloc(strlen(slug) + 24);

				sprintf(s2, "%s-%zu", slug, t + 1);
				free(slug);
				slug = s2;
				break;
			}
		}
		out->slug[t] = slug;
		for (size_t k = 0; k < PLOT_NKINDS; k++) {
			if (!plot_kinds[k].per_policy) {
				if (plot_kinds[k].has(tr, SIZE_MAX))
					add_item(out, t, k, SIZE_MAX, slug, tr);
				continue;
			}
			for (size_t i = 0; i < tr->npol; i++)
				if (plot_kinds[k].has(tr, i))
					add_item(out, t, k, i, slug, tr);
		}
	}
}

/* ---- writing ---------------------------------------------------------------- */

static int put(struct outdir *d, struct strbuf *sb, struct ms_error *err,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes sb as the file named by fmt and empties sb. */
static int put(struct outdir *d, struct strbuf *sb, struct ms_error *err,
	       const char *fmt, ...)
{
	char rel[700];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	rc = outdir_write(d, rel, sb, err);
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
	return rc;
}

static int write_data(struct outdir *d, const struct record_trace *t, const char *slug,
		      struct strbuf *sb, struct ms_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < t->npol && rc == 0; i++) {
		const struct record_policy *p = &t->pol[i];

		if (p->sampled) {
			series_dat(sb, p);
			rc = put(d, sb, err, "data/%s.p%zu.series.dat", slug, i + 1);
		}
		pauses_dat(sb, p->pauses, p->npauses);
		rc = rc ? rc : put(d, sb, err, "data/%s.p%zu.pauses.dat", slug, i + 1);
		cdf_dat(sb, p->pauses, p->npauses);
		rc = rc ? rc : put(d, sb, err, "data/%s.p%zu.pause-cdf.dat", slug, i + 1);
		mmu_dat(sb, p);
		rc = rc ? rc : put(d, sb, err, "data/%s.p%zu.mmu.dat", slug, i + 1);
		if (rc == 0 && p->noccupancy) {
			occupancy_dat(sb, p);
			rc = put(d, sb, err, "data/%s.p%zu.occupancy.dat", slug, i + 1);
		}
	}
	return rc;
}

/* ---- rendering ---------------------------------------------------------------- */

char *plot_find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *buf;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	if (!path || !*path)
		path = "/usr/bin:/bin";
	buf = xmalloc(strlen(path) + strlen(prog) + 2);
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n == 0)
			sprintf(buf, "./%s", prog);     /* an empty entry is the cwd */
		else
			sprintf(buf, "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return buf;
		path += n + (path[n] == ':');
	}
	free(buf);
	return NULL;
}

int plot_image_ok(const char *path)
{
	static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	static const unsigned char iend[8] = { 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };
	unsigned char head[16], tail[16];
	size_t len = strlen(path);
	FILE *f = fopen(path, "rb");
	long size;
	int ok = 0;

	if (!f)
		return 0;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 64 && fseek(f, 0, SEEK_SET) == 0 &&
	    fread(head, 1, 16, f) == 16 && fseek(f, -16, SEEK_END) == 0 &&
	    fread(tail, 1, 16, f) == 16) {
		if (len > 4 && strcmp(path + len - 4, ".png") == 0)
			ok = memcmp(head, png_sig, 8) == 0 && memcmp(head + 12, "IHDR", 4) == 0 &&
			     memcmp(tail + 8, iend, 8) == 0;
		else if (len > 4 && strcmp(path + len - 4, ".svg") == 0)
			for (int k = 0; k + 6 <= 16 && !ok; k++)
				ok = memcmp(tail + k, "</svg>", 6) == 0;
	}
	fclose(f);
	return ok;
}

/* The first line of gnuplot's complaints, for the note. */
static void first_error(const char *log, char *buf, size_t size)
{
	FILE *f = fopen(log, "r");
	char line[300];

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, "rror") || strstr(line, "arning")) {
			snprintf(buf, size, "%s", line);
			break;
		}
	}
	fclose(f);
}

/* Runs gnuplot from the stage (which holds data/ and plots/), drawing
 * into tmp. Returns 1 when it exited 0. */
static int run_gnuplot(const char *prog, const struct outdir *d, const char *tmp,
		       const struct plot_list *l, const char *logpath)
{
	char **argv = xcalloc(l->n + 4, sizeof *argv);
	int status = -1;
	pid_t pid;

	argv[0] = (char *)prog;
	argv[1] = "-e";
	argv[2] = xmalloc(strlen(tmp) + 16);
	sprintf(argv[2], "outdir='%s'", tmp);
	for (size_t i = 0; i < l->n; i++) {
		argv[3 + i] = xmalloc(strlen(l->v[i].name) + 16);
		sprintf(argv[3 + i], "plots/%s.gp", l->v[i].name);
	}
	pid = fork();
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		int nul = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		if (chdir(d->stage) == 0)
			execv(prog, argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	for (size_t i = 2; i < l->n + 3; i++)
		free(argv[i]);
	free(argv);
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A private directory for gnuplot's images, under TMPDIR. */
static char *render_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (!base || !*base)
		base = "/tmp";
	dir = xmalloc(strlen(base) + 32);
	sprintf(dir, "%s/memsim-render.XXXXXX", base);
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static void note(struct outdir *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct outdir *d, const char *fmt, ...)
{
	char buf[1000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sb_puts(&d->notes, buf);
	sb_putc(&d->notes, '\n');
}

/*
 * Draws every plot with gnuplot and copies the images in. gnuplot
 * missing or failing is a note (the data and scripts are the report);
 * a failure to copy an image into the report is an error.
 */
static int render(struct outdir *d, const struct plot_list *l, struct ms_error *err)
{
	const char *env = getenv("MEMSIM_GNUPLOT");
	char *prog = plot_find_program(env && *env ? env : "gnuplot");
	char *tmp, logpath[1200], why[300], path[1200], rel[700];
	int ok, rc = 0;

	if (!prog) {
		note(d, "gnuplot not found on PATH: the data and scripts are written but not "
		     "the images. Install it (Debian/Ubuntu: apt-get install gnuplot-nox; "
		     "macOS: brew install gnuplot) and rerun, or run 'cd %s && gnuplot "
		     "plots/*.gp'.", d->final);
		return 0;
	}
	tmp = render_dir();
	if (!tmp) {
		ms_error_at(err, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create a directory to draw "
				  "the plots in: %s", strerror(errno));
		free(prog);
		return rc;
	}
	snprintf(logpath, sizeof logpath, "%s/gnuplot.log", tmp);
	ok = run_gnuplot(prog, d, tmp, l, logpath);
	/* gnuplot may exit 0 and still skip a plot: every image must be whole. */
	for (size_t i = 0; ok && i < l->n; i++)
		for (int e = 0; e < 2 && ok; e++) {
			snprintf(path, sizeof path, "%s/%s.%s", tmp, l->v[i].name, e ? "svg" : "png");
			ok = plot_image_ok(path);
		}
	if (!ok) {
		struct statvfs vfs;

		first_error(logpath, why, sizeof why);
		if (statvfs(tmp, &vfs) == 0 && vfs.f_bavail == 0) {
			ms_error_at(err, tmp, 0);
			rc = ms_error_set(err, MS_EXIT_IOERR, "cannot draw the plots: %s",
					  strerror(ENOSPC));
		} else {
			note(d, "gnuplot (%s) failed%s%s: the data and scripts are written but "
			     "not the images; to see why, run 'cd %s && gnuplot plots/*.gp'.",
			     prog, why[0] ? ": " : "", why, d->final);
		}
	}
	for (size_t i = 0; ok && rc == 0 && i < l->n; i++)
		for (int e = 0; e < 2 && rc == 0; e++) {
			snprintf(path, sizeof path, "%s/%s.%s", tmp, l->v[i].name, e ? "svg" : "png");
			snprintf(rel, sizeof rel, "plots/%s.%s", l->v[i].name, e ? "svg" : "png");
			rc = outdir_copy(d, rel, path, err);
		}
	outfile_remove_tree(tmp);
	free(tmp);
	free(prog);
	return rc;
}

/* ---- icicle charts (memsim retain --out) -------------------------------------- */

static void icicle_dat(struct strbuf *sb, const struct plot_cell *c, size_t n)
{
	sb_puts(sb, "# x0 x1 depth color label (x in % of the whole)\n");
	for (size_t i = 0; i < n; i++) {
		const char *s = strchr(gp_colors[c[i].color % GP_NCOLORS], '#') + 1;

		sb_printf(sb, "%.6f %.6f %u %lu \"", 100.0 * c[i].x0, 100.0 * c[i].x1,
			  c[i].depth, strtoul(s, NULL, 16));
		/* a quote, a backslash or a control character would end or
		 * escape gnuplot's string: each is written as '_' */
		for (const unsigned char *l = (const unsigned char *)c[i].label; *l; l++)
			sb_putc(sb, *l < 0x20 || *l == 0x7f || *l == '"' || *l == '\\' ?
				'_' : (char)*l);
		sb_puts(sb, "\"\n");
	}
}

/* Boxes from x0 to x1, one level high; a label where the box is wider
 * than about 12 characters of the 960-pixel chart. */
static void icicle_gp(struct strbuf *sb, const char *name, const char *title,
		      uint32_t depth)
{
	gp_begin(sb, name, title);
	sb_printf(sb, "set xrange [0:100]\nset yrange [%u.5:-0.5]\nset key off\nunset grid\n"
		  "set xlabel '%% of the bytes reachable from the root set'\n"
		  "set ylabel 'dominator levels below the root set'\nset ytics 1\n"
		  "set style fill solid 0.85 border rgb '#ffffff'\n", depth);
	sb_printf(sb, "plot 'data/%s.dat' using (($1+$2)/2):3:(($2-$1)/2):(0.5):4 "
		  "with boxxyerror lc rgb variable, \\\n"
		  "     '' using (($1+$2)/2):3:(($2-$1) > 12 ? stringcolumn(5) : '') "
		  "with labels font ',8' tc rgb '#ffffff'\n", name);
	gp_end(sb, name);
}

int plot_write_icicle(struct outdir *d, const char *name, const char *title,
		      const char *caption, const struct plot_cell *cells, size_t n,
		      uint32_t depth, struct plot_list *list, struct ms_error *err)
{
	struct strbuf sb;
	int rc;

	if ((rc = outdir_mkdir(d, "data", err)) || (rc = outdir_mkdir(d, "plots", err)))
		return rc;
	sb_init(&sb);
	icicle_dat(&sb, cells, n);
	rc = put(d, &sb, err, "data/%s.dat", name);
	if (rc == 0) {
		icicle_gp(&sb, name, title, depth);
		rc = put(d, &sb, err, "plots/%s.gp", name);
	}
	sb_free(&sb);
	if (rc == 0) {
		list->v = xreallocarray(list->v, list->n + 1, sizeof *list->v);
		list->v[list->n++] = (struct plot_item){
			.name = xstrdup(name), .title = xstrdup(title),
			.caption = xstrdup(caption), .kind = SIZE_MAX, .policy = SIZE_MAX,
		};
	}
	return rc;
}

int plot_render(struct outdir *d, const struct plot_list *list, struct ms_error *err)
{
	return list->n ? render(d, list, err) : 0;
}

static int plots_write_dir(struct outdir *d, const struct record *rec,
			   const struct report_opts *o, struct ms_error *err)
{
	struct plot_list l;
	struct strbuf sb;
	int rc;

	(void)o;
	plot_catalog(rec, &l);
	sb_init(&sb);
	if ((rc = outdir_mkdir(d, "data", err)) == 0)
		rc = outdir_mkdir(d, "plots", err);
	for (size_t t = 0; rc == 0 && t < rec->ntraces; t++)
		rc = write_data(d, &rec->traces[t], l.slug[t], &sb, err);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const struct plot_item *it = &l.v[i];

		plot_kinds[it->kind].script(&sb, it->name, it->title, l.slug[it->trace],
					    &rec->traces[it->trace], it->policy);
		rc = put(d, &sb, err, "plots/%s.gp", l.v[i].name);
	}
	if (rc == 0)
		rc = plot_render(d, &l, err);
	sb_free(&sb);
	plot_list_free(&l);
	return rc;
}

const struct report_format report_format_plots = {
	.name = "plots",
	.summary = "data files, gnuplot scripts, PNG and SVG images (--out only)",
	.write_dir = plots_write_dir,
};
