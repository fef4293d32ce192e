/*
 * html.h - index.html of a report directory: the comparison table and the
 * plots together, one self-contained page (inline style, no scripts, no
 * network), viewable offline from the directory.
 */
#ifndef MEMSIM_HTML_H
#define MEMSIM_HTML_H

#include <stddef.h>

#include "engine.h"
#include "plot.h"
#include "strbuf.h"

/*
 * Writes the page into sb: `table` (the text report) as preformatted
 * text, links to report.txt/.json/.csv, then per trace its plots as SVG
 * images (each linking to its PNG, script and data) when list->rendered,
 * else list->note and links to the scripts. Names are HTML-escaped.
 */
void html_index(struct strbuf *sb, const char *table, const struct engine_run *runs,
		size_t n, const struct plot_list *list);

/* Appends s with &, <, >, " and ' escaped. */
void html_escape(struct strbuf *sb, const char *s);

#endif
