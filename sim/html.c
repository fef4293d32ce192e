/*
 * html.c - the report directory's index.html (see html.h).
 */
#include "html.h"

#include <inttypes.h>

void html_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_puts(sb, "&amp;"); break;
		case '<': sb_puts(sb, "&lt;"); break;
		case '>': sb_puts(sb, "&gt;"); break;
		case '"': sb_puts(sb, "&quot;"); break;
		case '\'': sb_puts(sb, "&#39;"); break;
		default: sb_putc(sb, *s);
		}
	}
}

static const char html_style[] =
	"body{font-family:sans-serif;max-width:1000px;margin:1em auto;padding:0 1em;"
	"color:#222}\n"
	"pre{font-size:13px;background:#f6f6f6;padding:.8em;overflow-x:auto}\n"
	"figure{margin:1.5em 0}\nfigure img{width:100%;height:auto;border:1px solid #ddd}\n"
	"figcaption{font-size:14px;color:#444}\nnav a{margin-right:1em}\n";

static void figure(struct strbuf *sb, const struct plot_item *p, int rendered)
{
	sb_puts(sb, "<figure>\n");
	if (rendered) {
		sb_puts(sb, "<a href=\"plots/");
		html_escape(sb, p->name);
		sb_puts(sb, ".png\"><img src=\"plots/");
		html_escape(sb, p->name);
		sb_puts(sb, ".svg\" alt=\"");
		html_escape(sb, p->title);
		sb_puts(sb, "\"></a>\n");
	}
	sb_puts(sb, "<figcaption>");
	html_escape(sb, p->title);
	sb_puts(sb, " &mdash; ");
	if (rendered) {
		sb_puts(sb, "<a href=\"plots/");
		html_escape(sb, p->name);
		sb_puts(sb, ".png\">PNG</a>, <a href=\"plots/");
		html_escape(sb, p->name);
		sb_puts(sb, ".svg\">SVG</a>, ");
	}
	sb_puts(sb, "<a href=\"plots/");
	html_escape(sb, p->name);
	sb_puts(sb, ".gp\">gnuplot script</a></figcaption>\n</figure>\n");
}

void html_index(struct strbuf *sb, const char *table, const struct engine_run *runs,
		size_t n, const struct plot_list *list)
{
	sb_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>memsim report</title>\n<style>\n");
	sb_puts(sb, html_style);
	sb_puts(sb, "</style>\n</head>\n<body>\n<h1>memsim report</h1>\n<nav>"
		"<a href=\"report.txt\">report.txt</a><a href=\"report.json\">report.json</a>"
		"<a href=\"report.csv\">report.csv</a><a href=\"data/\">data</a></nav>\n");
	sb_puts(sb, "<p>How to read the plots: docs/reports.md in the memsim sources.</p>\n");
	if (!list->rendered && list->note[0]) {
		sb_puts(sb, "<p><strong>Plots not rendered.</strong> ");
		html_escape(sb, list->note);
		sb_puts(sb, "</p>\n");
	}
	sb_puts(sb, "<h2>Comparison</h2>\n<pre>");
	html_escape(sb, table);
	sb_puts(sb, "</pre>\n");
	for (size_t t = 0; t < n; t++) {
		sb_puts(sb, "<h2>");
		html_escape(sb, runs[t].trace);
		sb_printf(sb, " <small>(%" PRIu64 " events)</small></h2>\n", runs[t].events);
		for (size_t i = 0; i < list->n; i++)
			if (list->v[i].trace == t)
				figure(sb, &list->v[i], list->rendered);
	}
	sb_puts(sb, "</body>\n</html>\n");
}
