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
 * gnuplot draws into a private temporary directory; each image is checked
 * (a whole PNG, a closed SVG) and copied into the staged report, so a
 * full disk is an error (74), never a report with images missing.
 */
#ifndef MEMSIM_PLOT_H
#define MEMSIM_PLOT_H

#include <stddef.h>

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

/* The full path of `prog` found on PATH (caller frees), or NULL. A name
 * with a slash is taken as a path. */
char *plot_find_program(const char *prog);

/* Whether the file is a whole PNG (signature, IHDR, a final IEND) or a
 * closed SVG, by its name's extension. */
int plot_image_ok(const char *path);

#endif
