/*
 * plot.h - the plots of a report: data files, gnuplot scripts, and images
 * rendered by gnuplot (an external program, run if it is on PATH). A
 * directory format of the registry (report.h): it reads only the record.
 *
 * For a report directory DIR (docs/reports.md lists every file):
 *   DIR/data/T.pN.series.dat     the time series of policy N on trace T
 *   DIR/data/T.pN.pauses.dat     one line per collection
 *   DIR/data/T.pN.pause-cdf.dat  sorted pauses with their cumulative share
 *   DIR/data/T.pN.mmu.dat        the MMU curve
 *   DIR/data/T.pN.occupancy.dat  arenas by pools in use at the peak
 *                                footprint, at the end and at each mark
 *   DIR/plots/NAME.gp            one gnuplot script per plot, which writes
 *                                plots/NAME.png and plots/NAME.svg when run
 *                                from DIR (`cd DIR && gnuplot plots/NAME.gp`)
 * T is the trace's file name without .trace/.gz; N counts policies from 1.
 * `memsim retain --out DIR` draws one chart from cells it lays out
 * itself (plot_write_icicle): DIR/data/retain.dat and plots/retain.gp.
 * gnuplot draws into a private temporary directory; each image is checked
 * (a whole PNG, a closed SVG) and copied into the staged report, so a
 * full disk is an error (74), never a report with images missing.
 */
#ifndef MEMSIM_PLOT_H
#define MEMSIM_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "outfile.h"
#include "record.h"

/* One plot: its script is plots/<name>.gp, its images plots/<name>.png
 * and .svg (relative to DIR). */
struct plot_item {
	char *name;
	char *title;            /* the plot's own title line */
	char *caption;          /* what it shows, in figures from the record */
	size_t trace;           /* index into the record's traces */
	size_t kind;            /* which plot (plot.c's table) */
	size_t policy;          /* its policy, SIZE_MAX for a plot of the trace */
};

struct plot_list {
	struct plot_item *v;
	size_t n;
	char **slug;            /* per trace: T above */
	size_t ntraces;
};

/* The plots the record has data for, with their names, titles and
 * captions (free with plot_list_free). The page (html.c) and the plot
 * writer both use it, so they always agree. */
void plot_catalog(const struct record *rec, struct plot_list *out);

void plot_list_free(struct plot_list *list);

/* One cell of an icicle chart: [x0, x1) of the whole (0..1) at a level
 * (0 at the top), coloured with palette entry `color`. */
struct plot_cell {
	double x0, x1;
	uint32_t depth;
	uint32_t color;
	const char *label;      /* '"', '\\' and control characters become '_' */
};

/*
 * Writes an icicle chart of cells[0..n) (levels 0..depth) into the
 * staged directory d: the data file data/NAME.dat and the script
 * plots/NAME.gp (creating data/ and plots/), and appends the plot with
 * its title and caption to *list (zeroed by the caller) for plot_render
 * and the page. Labels are drawn where their cell is wide enough.
 * Returns 0, or MS_EXIT_IOERR with err filled.
 */
int plot_write_icicle(struct outdir *d, const char *name, const char *title,
		      const char *caption, const struct plot_cell *cells, size_t n,
		      uint32_t depth, struct plot_list *list, struct ms_error *err);

/*
 * Draws every plot of `list` with gnuplot (MEMSIM_GNUPLOT, else gnuplot
 * on PATH) and copies each checked image into d. gnuplot missing or
 * failing is a line in d->notes (the data and scripts are the report);
 * an image that cannot be copied is MS_EXIT_IOERR with err filled.
 */
int plot_render(struct outdir *d, const struct plot_list *list, struct ms_error *err);

/* The full path of `prog` found on PATH (caller frees), or NULL. A name
 * with a slash is taken as a path. */
char *plot_find_program(const char *prog);

/* Whether the file is a whole PNG (signature, IHDR, a final IEND) or a
 * closed SVG, by its name's extension. */
int plot_image_ok(const char *path);

#endif
