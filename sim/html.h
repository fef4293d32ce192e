/*
 * html.h - index.html of a report directory: the text report and the
 * plots with their captions on one self-contained page (inline style, no
 * scripts, no network), viewable offline from the directory. A directory
 * format of the registry (report.h), written after the plots: it reads
 * the record (the table, the plot catalog and its captions) and which
 * images the plots format left in the staged directory. `memsim retain
 * --out` writes its own page through html_retain, with the same head.
 */
#ifndef MEMSIM_HTML_H
#define MEMSIM_HTML_H

#include "error.h"
#include "outfile.h"
#include "plot.h"
#include "strbuf.h"

/*
 * The page of `memsim retain --out`: index.html in the staged directory
 * d, with links to retain.txt and retain.json, the plots of `list` with
 * their captions (images where plot_render left them in d, else a note),
 * then `text` (the text report). The head is the replay page's. 0, or
 * MS_EXIT_IOERR with err filled.
 */
int html_retain(struct outdir *d, const char *text, const struct plot_list *list,
		struct ms_error *err);

/* Appends s with &, <, >, " and ' escaped. */
void html_escape(struct strbuf *sb, const char *s);

#endif
