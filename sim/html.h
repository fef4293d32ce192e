/*
 * html.h - index.html of a report directory: the text report and the
 * plots with their captions on one self-contained page (inline style, no
 * scripts, no network), viewable offline from the directory. A directory
 * format of the registry (report.h), written after the plots: it reads
 * the record (the table, the plot catalog and its captions) and which
 * images the plots format left in the staged directory.
 */
#ifndef MEMSIM_HTML_H
#define MEMSIM_HTML_H

#include "strbuf.h"

/* Appends s with &, <, >, " and ' escaped. */
void html_escape(struct strbuf *sb, const char *s);

#endif
