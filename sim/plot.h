/*
 * plot.h - plots of a replay: data files, gnuplot scripts, and rendering
 * by gnuplot (an external program, run if it is on PATH).
 *
 * For an output directory DIR (docs/reports.md lists every file):
 *   DIR/data/T.pN.series.dat     the time series of policy N on trace T
 *   DIR/data/T.pN.pauses.dat     one line per collection
 *   DIR/data/T.pN.pause-cdf.dat  sorted pauses with their cumulative share
 *   DIR/data/T.pN.mmu.dat        the MMU curve
 *   DIR/data/T.pN.occupancy.dat  arenas by pools in use at peak footprint
 *   DIR/plots/NAME.gp            one gnuplot script per plot, which writes
 *                                plots/NAME.png and plots/NAME.svg when run
 *                                from DIR (`cd DIR && gnuplot plots/NAME.gp`)
 * T is the trace's file name without .trace/.gz; N counts policies from 1.
 * Every file is written whole under a temporary name and renamed (the
 * images too: gnuplot draws into a temporary directory first).
 */
#ifndef MEMSIM_PLOT_H
#define MEMSIM_PLOT_H

#include <stddef.h>

#include "engine.h"
#include "error.h"

/* One plot: its script is plots/<name>.gp, its images plots/<name>.png
 * and .svg (relative to DIR). */
struct plot_item {
	char *name;
	char *title;
	size_t trace;           /* index into the runs */
};

struct plot_list {
	struct plot_item *v;
	size_t n;
	char **trace_slug;      /* per run: T above */
	size_t ntraces;
	int rendered;           /* the PNG and SVG files exist */
	char note[600];         /* why not, when not rendered */
};

/*
 * Writes the data files and scripts of runs[0..n) (replayed with
 * sampling) under dir, which must exist, and fills *out (free with
 * plot_list_free). Returns 0, or MS_EXIT_IOERR with err filled.
 */
int plot_write(const char *dir, const struct engine_run *runs, size_t n,
	       struct plot_list *out, struct ms_error *err);

/*
 * Runs gnuplot (found on PATH; `gnuplot` may name another program) on
 * every script of `list`, from dir. When gnuplot is missing or fails,
 * returns 0 with list->rendered 0 and list->note saying why and how to
 * render the plots later; the images are then absent (none half
 * written). Returns MS_EXIT_IOERR only when dir cannot be written.
 */
int plot_render(const char *dir, const char *gnuplot, struct plot_list *list,
		struct ms_error *err);

void plot_list_free(struct plot_list *list);

/* The full path of `prog` found on PATH (caller frees), or NULL. A name
 * with a slash is taken as a path. */
char *plot_find_program(const char *prog);

#endif
