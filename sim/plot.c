/*
 * plot.c - data files, gnuplot scripts and rendering (see plot.h).
 *
 * Units on the plots: bytes as MiB, nanoseconds as ms; the x axis of
 * memory plots is the trace's time in ms when it has `@` times, else the
 * event index. Scripts switch enhanced text off so policy names such as
 * "cpython-2.7:freelists.mode=shared" print as they are.
 */
#include "plot.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "gc.h"
#include "series.h"
#include "strbuf.h"
#include "xalloc.h"

#define PLOT_MMU_POINTS 60      /* windows on the MMU curve */
#define PLOT_MMU_MIN_NS 10000u  /* smallest MMU window: 10 us */
#define PLOT_SIZE "960,540"     /* pixels (PNG) and points (SVG) */

/* ---- names ------------------------------------------------------------- */

/* "traces/list-churn.trace.gz" -> "list-churn"; characters other than
 * letters, digits, '-', '_' and '.' become '_'. */
static char *trace_slug(const char *trace)
{
	const char *base = strrchr(trace, '/');
	char *s = xstrdup(base ? base + 1 : trace);
	size_t len = strlen(s);
	static const char *const ext[] = { ".gz", ".trace" };

	for (int i = 0; i < 2; i++) {
		size_t e = strlen(ext[i]);

		if (len > e && strcmp(s + len - e, ext[i]) == 0)
			s[len -= e] = '\0';
	}
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

/* ---- files ------------------------------------------------------------- */

static int emit(const char *dir, const char *rel, const struct strbuf *sb,
		struct ms_error *err)
{
	char *path = xmalloc(strlen(dir) + strlen(rel) + 2);
	int rc;

	sprintf(path, "%s/%s", dir, rel);
	rc = cli_emit(path, sb, err);
	free(path);
	return rc;
}

static int make_dir(const char *dir, const char *sub, struct ms_error *err)
{
	char *path = xmalloc(strlen(dir) + strlen(sub) + 2);
	int rc = 0;

	sprintf(path, "%s/%s", dir, sub);
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		ms_error_at(err, path, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create directory: %s",
				  strerror(errno));
	}
	free(path);
	return rc;
}

static void add_plot(struct plot_list *l, size_t trace, const char *title,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_plot(struct plot_list *l, size_t trace, const char *title,
		     const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sb_init(&sb);
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n].name = xstrdup(buf);
	l->v[l->n].title = xstrdup(title);
	l->v[l->n].trace = trace;
	l->n++;
	sb_free(&sb);
}

/* ---- data -------------------------------------------------------------- */

static void series_dat(struct strbuf *sb, const struct series *s)
{
	sb_puts(sb, "#");
	for (int c = 0; c < SERIES_NCOLS; c++)
		sb_printf(sb, " %s", series_column_key[c]);
	sb_putc(sb, '\n');
	for (size_t i = 0; i < s->n; i++) {
		for (int c = 0; c < SERIES_NCOLS; c++)
			sb_printf(sb, c ? " %" PRIu64 : "%" PRIu64, s->pts[i].v[c]);
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

static void mmu_dat(struct strbuf *sb, const struct runtime *rt)
{
	struct gc_stats g;
	size_t np, k;
	const struct gc_pause *p = runtime_pauses(rt, &np);
	uint64_t w[PLOT_MMU_POINTS];
	double m[PLOT_MMU_POINTS];

	runtime_gc_stats(rt, &g);
	k = series_mmu_curve(p, np, g.run_ns, PLOT_MMU_MIN_NS, PLOT_MMU_POINTS, w, m);
	sb_puts(sb, "# window_ns mmu\n");
	for (size_t i = 0; i < k; i++)
		sb_printf(sb, "%" PRIu64 " %.17g\n", w[i], m[i]);
}

/* Arenas by pools in use, 0 .. the most pools an arena holds. */
static void occupancy_dat(struct strbuf *sb, const uint32_t *in_use,
			  const uint32_t *usable, size_t n)
{
	uint32_t max = 0;
	uint64_t *count;

	for (size_t i = 0; i < n; i++)
		if (usable[i] > max)
			max = usable[i];
	count = xcalloc((size_t)max + 1, sizeof *count);
	for (size_t i = 0; i < n; i++)
		count[in_use[i]]++;
	sb_printf(sb, "# %zu arenas at peak footprint; pools per arena: %u\n", n, max);
	sb_puts(sb, "# pools_in_use arenas\n");
	for (uint32_t k = 0; k <= max; k++)
		sb_printf(sb, "%u %" PRIu64 "\n", k, count[k]);
	free(count);
}

/* ---- scripts ----------------------------------------------------------- */

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
	sb_puts(sb, "\nset grid\nset key below Left reverse noautotitle\nset autoscale xfix\nset rmargin 6\n");
}

/* Draws the same plot again as SVG. */
static void gp_end(struct strbuf *sb, const char *name)
{
	sb_puts(sb, "set terminal svg size " PLOT_SIZE " font 'sans,10' noenhanced background '#ffffff'\n");
	sb_printf(sb, "set output outdir.'/%s.svg'\nreplot\nunset output\n", name);
}

static const char *const gp_colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
	"#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
};
#define GP_NCOLORS (sizeof gp_colors / sizeof gp_colors[0])

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

static uint64_t series_max(const struct series *s, int col)
{
	uint64_t m = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->pts[i].v[col] > m)
			m = s->pts[i].v[col];
	return m;
}

/* The x expression and label of memory plots. */
static const char *x_expr(int timed)
{
	return timed ? "($2/1e6)" : "($1)";
}

static const char *x_label(int timed)
{
	return timed ? "trace time (ms)" : "event";
}

static void memory_gp(struct strbuf *sb, const char *name, const char *slug,
		      const struct engine_run *run, int timed)
{
	char title[600];

	uint64_t max = 0;
	const char *unit;
	double div;

	for (size_t i = 0; i < run->n; i++) {
		uint64_t m = series_max(run->series[i], SERIES_PEAK_RSS);

		max = m > max ? m : max;
	}
	byte_unit(max, &unit, &div);
	snprintf(title, sizeof title, "%s: RSS over time", run->trace);
	gp_begin(sb, name, title);
	sb_printf(sb, "set xlabel '%s'\nset ylabel 'memory (%s)'\nset yrange [0:*]\n"
		  "U = %.1f\n", x_label(timed), unit, div);
	sb_puts(sb, "plot ");
	for (size_t i = 0; i < run->n; i++) {
		/* Policies often coincide: dashes keep hidden lines visible. */
		sb_printf(sb, "'data/%s.p%zu.series.dat' using %s:($7/U) with lines"
			  " lw %.1f dt %zu lc rgb '%s' title ", slug, i + 1, x_expr(timed),
			  i == 0 ? 3.0 : 2.0, i % 5 + 1, gp_colors[i % GP_NCOLORS]);
		if (runtime_measured(run->rt[i])) {
			char t[300];

			snprintf(t, sizeof t, "%s (measured)", runtime_policy(run->rt[i])->name);
			gp_str(sb, t);
		} else {
			gp_str(sb, runtime_policy(run->rt[i])->name);
		}
		sb_puts(sb, ", \\\n     ");
	}
	/* Live bytes do not depend on the allocator; a collector that
	 * frees cycles later can change them, so the line names its policy. */
	sb_printf(sb, "'data/%s.p1.series.dat' using %s:($3/U) with lines"
		  " lw 1 lc rgb '#000000' title ", slug, x_expr(timed));
	{
		char t[300];

		snprintf(t, sizeof t, "live bytes (%s)", runtime_policy(run->rt[0])->name);
		gp_str(sb, t);
	}
	if (!timed) {
		/* The exact peaks, at the event where each happened. */
		for (size_t i = 0; i < run->n; i++)
			sb_printf(sb, ", \\\n     'data/%s.p%zu.series.dat' every ::%zu::%zu"
				  " using 11:($10/U) with points pt 7 ps 1.2"
				  " lc rgb '%s' notitle", slug, i + 1,
				  run->series[i]->n - 1, run->series[i]->n - 1,
				  gp_colors[i % GP_NCOLORS]);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

static void breakdown_gp(struct strbuf *sb, const char *name, const char *slug,
			 const struct engine_run *run, size_t i, int timed)
{
	char title[600], file[300];
	const char *x = x_expr(timed), *unit;
	const struct series *s = run->series[i];
	uint64_t fmax = series_max(s, SERIES_FOOTPRINT), amax = series_max(s, SERIES_ALLOCATED);
	uint64_t lmin = UINT64_MAX;
	double div, floor;
	/* When the footprint dwarfs what is allocated (a mostly empty arena),
	 * linear bands would be invisible: a log axis shows each of them. */
	int logy = fmax > 20 * (amax ? amax : 1);

	for (size_t k = 0; k < s->n; k++)
		if (s->pts[k].v[SERIES_LIVE] && s->pts[k].v[SERIES_LIVE] < lmin)
			lmin = s->pts[k].v[SERIES_LIVE];
	byte_unit(fmax, &unit, &div);
	snprintf(title, sizeof title, "%s under %s: where the memory goes%s", run->trace,
		 runtime_policy(run->rt[i])->name, logy ? " (log scale)" : "");
	snprintf(file, sizeof file, "data/%s.p%zu.series.dat", slug, i + 1);
	gp_begin(sb, name, title);
	sb_printf(sb, "set xlabel '%s'\nset ylabel 'memory (%s%s)'\n", x_label(timed),
		  unit, logy ? ", log scale" : "");
	floor = logy ? (lmin == UINT64_MAX ? 1.0 : (double)lmin / 2) / div : 0.0;
	if (logy)
		sb_puts(sb, "set logscale y\n");
	sb_printf(sb, "FLOOR = %.17g\nset yrange [FLOOR:*]\n", floor);
	sb_printf(sb, "set style fill solid 0.6 noborder\nM = %.1f\n", div);
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

/* Pause plots list only policies that collected at least once. */
static void pauses_gp(struct strbuf *sb, const char *name, const char *slug,
		      const struct engine_run *run, int cdf)
{
	char title[600];
	int first = 1;

	snprintf(title, sizeof title, cdf ? "%s: GC pause distribution"
					  : "%s: GC pause timeline", run->trace);
	gp_begin(sb, name, title);
	if (cdf)
		sb_puts(sb, "set xlabel 'pause (ms)'\nset ylabel 'fraction of pauses <= x'\n"
			"set yrange [0:1.05]\nset xrange [0:*]\n");
	else
		sb_puts(sb, "set xlabel 'run time incl. pauses (ms)'\n"
			"set ylabel 'pause (ms)'\nset yrange [0:*]\nset xrange [0:*]\nset offsets 0, graph 0.02, 0, 0\n");
	sb_puts(sb, "plot ");
	for (size_t i = 0; i < run->n; i++) {
		size_t np;

		runtime_pauses(run->rt[i], &np);
		if (np == 0)
			continue;
		if (!first)
			sb_puts(sb, ", \\\n     ");
		first = 0;
		if (cdf)
			sb_printf(sb, "'data/%s.p%zu.pause-cdf.dat' using ($1/1e6):2 with steps"
				  " lw 2 lc rgb '%s' title ", slug, i + 1, gp_colors[i % GP_NCOLORS]);
		else
			sb_printf(sb, "'data/%s.p%zu.pauses.dat' using ($3/1e6):($4/1e6) with"
				  " impulses lw 1.5 lc rgb '%s' notitle, \\\n     "
				  "'data/%s.p%zu.pauses.dat' using ($3/1e6):($4/1e6) with points"
				  " pt 7 ps 0.6 lc rgb '%s' title ", slug, i + 1,
				  gp_colors[i % GP_NCOLORS], slug, i + 1, gp_colors[i % GP_NCOLORS]);
		gp_str(sb, runtime_policy(run->rt[i])->name);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

static void mmu_gp(struct strbuf *sb, const char *name, const char *slug,
		   const struct engine_run *run)
{
	char title[600];

	snprintf(title, sizeof title, "%s: minimum mutator utilisation", run->trace);
	gp_begin(sb, name, title);
	sb_puts(sb, "set logscale x 10\nset format x '%g'\n"
		"set xlabel 'window (ms, log scale)'\nset ylabel 'MMU (fraction of window for the program)'\n"
		"set yrange [0:1.05]\n");
	sb_puts(sb, "plot ");
	for (size_t i = 0; i < run->n; i++) {
		if (i)
			sb_puts(sb, ", \\\n     ");
		sb_printf(sb, "'data/%s.p%zu.mmu.dat' using ($1/1e6):2 with lines lw 2"
			  " dt %zu lc rgb '%s' title ", slug, i + 1, i % 5 + 1,
			  gp_colors[i % GP_NCOLORS]);
		gp_str(sb, runtime_policy(run->rt[i])->name);
	}
	sb_putc(sb, '\n');
	gp_end(sb, name);
}

static void occupancy_gp(struct strbuf *sb, const char *name, const char *slug,
			 const struct engine_run *run, size_t i, size_t narenas)
{
	char title[700];
	const uint32_t *in_use, *usable;
	uint32_t most = 0;

	runtime_peak_occupancy(run->rt[i], &in_use, &usable);
	for (size_t k = 0; k < narenas; k++)
		most = usable[k] > most ? usable[k] : most;
	snprintf(title, sizeof title, "%s under %s: %zu arena%s at peak footprint, by pools in use",
		 run->trace, runtime_policy(run->rt[i])->name, narenas,
		 narenas == 1 ? "" : "s");
	gp_begin(sb, name, title);
	sb_puts(sb, "set xlabel 'pools in use in the arena (an arena with 0 can be released)'\n"
		"set ylabel 'arenas'\nset yrange [0:*]\n"
		"set style fill solid 0.7 border -1\nset boxwidth 0.8\nset key off\n");
	/* counts are whole: integer tics; every pool count visible */
	sb_printf(sb, "set xrange [-0.5:%u.5]\nset ytics 1\nset ytics format '%%.0f'\n"
		  "if (%zu > 15) set ytics autofreq\n", most, narenas);
	sb_printf(sb, "plot 'data/%s.p%zu.occupancy.dat' using 1:2 with boxes lc rgb '%s'\n",
		  slug, i + 1, gp_colors[i % GP_NCOLORS]);
	gp_end(sb, name);
}

/* ---- writing ----------------------------------------------------------- */

static int write_one(const char *dir, const char *rel, struct strbuf *sb,
		     struct ms_error *err)
{
	int rc = emit(dir, rel, sb, err);

	sb_free(sb);
	sb_init(sb);
	return rc;
}

static int write_trace(const char *dir, const struct engine_run *run, size_t t,
		       const char *slug, struct plot_list *out, struct ms_error *err)
{
	struct strbuf sb;
	char rel[600], name[400], title[400];
	int timed = 0, any_pauses = 0, rc = 0;

	sb_init(&sb);
	for (size_t i = 0; i < run->n && rc == 0; i++) {
		const struct series *s = run->series[i];
		const uint32_t *in_use, *usable;
		size_t np, na;
		const struct gc_pause *p = runtime_pauses(run->rt[i], &np);

		if (s->n && s->pts[s->n - 1].v[SERIES_TIME] > 0)
			timed = 1;
		any_pauses |= np > 0;
		series_dat(&sb, s);
		snprintf(rel, sizeof rel, "data/%s.p%zu.series.dat", slug, i + 1);
		rc = write_one(dir, rel, &sb, err);
		pauses_dat(&sb, p, np);
		snprintf(rel, sizeof rel, "data/%s.p%zu.pauses.dat", slug, i + 1);
		rc = rc ? rc : write_one(dir, rel, &sb, err);
		cdf_dat(&sb, p, np);
		snprintf(rel, sizeof rel, "data/%s.p%zu.pause-cdf.dat", slug, i + 1);
		rc = rc ? rc : write_one(dir, rel, &sb, err);
		mmu_dat(&sb, run->rt[i]);
		snprintf(rel, sizeof rel, "data/%s.p%zu.mmu.dat", slug, i + 1);
		rc = rc ? rc : write_one(dir, rel, &sb, err);
		na = runtime_peak_occupancy(run->rt[i], &in_use, &usable);
		if (na != SIZE_MAX && rc == 0) {
			occupancy_dat(&sb, in_use, usable, na);
			snprintf(rel, sizeof rel, "data/%s.p%zu.occupancy.dat", slug, i + 1);
			rc = write_one(dir, rel, &sb, err);
		}
	}
	/* 1. memory over time */
	snprintf(name, sizeof name, "%s.memory", slug);
	memory_gp(&sb, name, slug, run, timed);
	snprintf(rel, sizeof rel, "plots/%s.gp", name);
	rc = rc ? rc : write_one(dir, rel, &sb, err);
	add_plot(out, t, "Memory over time (RSS; live bytes dashed)", "%s", name);
	/* 2. breakdown per policy */
	for (size_t i = 0; i < run->n && rc == 0; i++) {
		snprintf(name, sizeof name, "%s.p%zu.breakdown", slug, i + 1);
		breakdown_gp(&sb, name, slug, run, i, timed);
		snprintf(rel, sizeof rel, "plots/%s.gp", name);
		rc = write_one(dir, rel, &sb, err);
		snprintf(title, sizeof title, "Where the memory goes under %s",
			 runtime_policy(run->rt[i])->name);
		add_plot(out, t, title, "%s", name);
	}
	/* 3, 4. pauses and MMU, when anything collected */
	if (any_pauses && rc == 0) {
		snprintf(name, sizeof name, "%s.pause-cdf", slug);
		pauses_gp(&sb, name, slug, run, 1);
		snprintf(rel, sizeof rel, "plots/%s.gp", name);
		rc = write_one(dir, rel, &sb, err);
		add_plot(out, t, "GC pause distribution (CDF)", "%s", name);
		snprintf(name, sizeof name, "%s.pause-timeline", slug);
		pauses_gp(&sb, name, slug, run, 0);
		snprintf(rel, sizeof rel, "plots/%s.gp", name);
		rc = rc ? rc : write_one(dir, rel, &sb, err);
		add_plot(out, t, "GC pause timeline", "%s", name);
		snprintf(name, sizeof name, "%s.mmu", slug);
		mmu_gp(&sb, name, slug, run);
		snprintf(rel, sizeof rel, "plots/%s.gp", name);
		rc = rc ? rc : write_one(dir, rel, &sb, err);
		add_plot(out, t, "Minimum mutator utilisation", "%s", name);
	}
	/* 5. arena occupancy at peak */
	for (size_t i = 0; i < run->n && rc == 0; i++) {
		const uint32_t *in_use, *usable;
		size_t na = runtime_peak_occupancy(run->rt[i], &in_use, &usable);

		if (na == SIZE_MAX || na == 0)
			continue;
		snprintf(name, sizeof name, "%s.p%zu.occupancy", slug, i + 1);
		occupancy_gp(&sb, name, slug, run, i, na);
		snprintf(rel, sizeof rel, "plots/%s.gp", name);
		rc = write_one(dir, rel, &sb, err);
		snprintf(title, sizeof title, "Arena occupancy at peak footprint under %s",
			 runtime_policy(run->rt[i])->name);
		add_plot(out, t, title, "%s", name);
	}
	sb_free(&sb);
	return rc;
}

int plot_write(const char *dir, const struct engine_run *runs, size_t n,
	       struct plot_list *out, struct ms_error *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	out->trace_slug = xcalloc(n ? n : 1, sizeof *out->trace_slug);
	out->ntraces = n;
	for (size_t t = 0; t < n; t++) {
		char *slug = trace_slug(runs[t].trace);

		/* The same file name twice (a/x.trace, b/x.trace): number it. */
		for (size_t u = 0; u < t; u++) {
			if (strcmp(out->trace_slug[u], slug) == 0) {
				char *s2 = xmalloc(strlen(slug) + 24);

				sprintf(s2, "%s-%zu", slug, t + 1);
				free(slug);
				slug = s2;
				break;
			}
		}
		out->trace_slug[t] = slug;
	}
	if ((rc = make_dir(dir, "data", err)) || (rc = make_dir(dir, "plots", err)))
		return rc;
	for (size_t t = 0; t < n; t++)
		if ((rc = write_trace(dir, &runs[t], t, out->trace_slug[t], out, err)))
			return rc;
	return 0;
}

void plot_list_free(struct plot_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].title);
	}
	for (size_t t = 0; t < l->ntraces; t++)
		free(l->trace_slug[t]);
	free(l->trace_slug);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- rendering --------------------------------------------------------- */

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

static void remove_tree_files(const char *tmpdir, const struct plot_list *l)
{
	char path[1200];

	for (size_t i = 0; i < l->n; i++) {
		snprintf(path, sizeof path, "%s/%s.png", tmpdir, l->v[i].name);
		unlink(path);
		snprintf(path, sizeof path, "%s/%s.svg", tmpdir, l->v[i].name);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/gnuplot.log", tmpdir);
	unlink(path);
	rmdir(tmpdir);
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

int plot_render(const char *dir, const char *gnuplot, struct plot_list *l,
		struct ms_error *err)
{
	char *prog = plot_find_program(gnuplot ? gnuplot : "gnuplot");
	char tmpl[] = "plots/.render.XXXXXX", *tmp;
	char *cwd_tmp, logpath[1200], why[300];
	char **argv;
	pid_t pid;
	int status = -1, ok = 1;

	l->rendered = 0;
	if (l->n == 0) {
		l->rendered = 1;
		free(prog);
		return 0;
	}
	if (!prog) {
		snprintf(l->note, sizeof l->note,
			 "gnuplot not found on PATH: the data and scripts are written but not "
			 "the images. Install it (Debian/Ubuntu: apt-get install gnuplot-nox; "
			 "macOS: brew install gnuplot) and rerun, or run "
			 "'cd %s && gnuplot plots/*.gp'.", dir);
		return 0;
	}
	cwd_tmp = xmalloc(strlen(dir) + sizeof tmpl + 2);
	sprintf(cwd_tmp, "%s/%s", dir, tmpl);
	if (!mkdtemp(cwd_tmp)) {
		ms_error_at(err, cwd_tmp, 0);
		ms_error_set(err, MS_EXIT_IOERR, "cannot create directory: %s", strerror(errno));
		free(cwd_tmp);
		free(prog);
		return err->code;
	}
	tmp = cwd_tmp + strlen(dir) + 1;        /* relative to dir */
	snprintf(logpath, sizeof logpath, "%s/gnuplot.log", cwd_tmp);
	/* gnuplot -e "outdir='plots/.render.X'" plots/a.gp plots/b.gp ... */
	argv = xcalloc(l->n + 4, sizeof *argv);
	argv[0] = prog;
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
		if (chdir(dir) == 0)
			execv(prog, argv);
		_exit(127);
	}
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	/* gnuplot may exit 0 and still skip a plot: every image must exist. */
	for (size_t i = 0; ok && i < l->n; i++) {
		static const char *const ext[] = { "png", "svg" };

		for (int e = 0; e < 2 && ok; e++) {
			char path[1200];
			struct stat st;

			snprintf(path, sizeof path, "%s/%s.%s", cwd_tmp, l->v[i].name, ext[e]);
			ok = stat(path, &st) == 0 && st.st_size > 0;
		}
	}
	if (ok) {
		for (size_t i = 0; i < l->n && ok; i++) {
			static const char *const ext[] = { "png", "svg" };

			for (int e = 0; e < 2 && ok; e++) {
				char from[1200], to[1200];

				snprintf(from, sizeof from, "%s/%s.%s", cwd_tmp, l->v[i].name, ext[e]);
				snprintf(to, sizeof to, "%s/plots/%s.%s", dir, l->v[i].name, ext[e]);
				ok = rename(from, to) == 0;
			}
		}
		l->rendered = ok;
	}
	if (!ok) {
		first_error(logpath, why, sizeof why);
		snprintf(l->note, sizeof l->note,
			 "gnuplot (%s) failed%s%s: the data and scripts are written but not "
			 "the images; to see why, run 'cd %s && gnuplot plots/*.gp'.",
			 prog, why[0] ? ": " : "", why, dir);
	}
	remove_tree_files(cwd_tmp, l);
	for (size_t i = 2; i < l->n + 3; i++)
		free(argv[i]);
	free(argv);
	free(cwd_tmp);
	free(prog);
	return 0;
}
