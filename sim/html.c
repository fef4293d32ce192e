/*
 * html.c - the report directory's index.html (see html.h).
 *
 * Layout: a title and links to every document format's file, any notes
 * the plots left (gnuplot missing), then per trace its part of the text
 * report and its plots (each SVG linking to its PNG and script) with
 * captions made from the record. `memsim retain --out` has its own page
 * (html_retain) under the same head: its chart, then its text report.
 */
#include "html.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plot.h"
#include "report.h"
#include "xalloc.h"

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
	"figcaption{font-size:14px;color:#444}\nnav a{margin-right:1em}\n"
	".note{background:#fff4d6;padding:.5em .8em;border-left:4px solid #e0a800}\n";

/* Whether the staged file rel exists. */
static int staged(const struct outdir *d, const char *rel)
{
	char *p = outdir_path(d, rel);
	struct stat st;
	int ok = stat(p, &st) == 0 && st.st_size > 0;

	free(p);
	return ok;
}

static void link(struct strbuf *sb, const char *href, const char *text)
{
	sb_puts(sb, "<a href=\"");
	html_escape(sb, href);
	sb_puts(sb, "\">");
	html_escape(sb, text);
	sb_puts(sb, "</a>");
}

static void figure(struct strbuf *sb, const struct outdir *d, const struct plot_item *p)
{
	char png[600], svg[600], gp[600];

	snprintf(png, sizeof png, "plots/%s.png", p->name);
	snprintf(svg, sizeof svg, "plots/%s.svg", p->name);
	snprintf(gp, sizeof gp, "plots/%s.gp", p->name);
	sb_puts(sb, "<figure>\n");
	if (staged(d, png) && staged(d, svg)) {
		sb_puts(sb, "<a href=\"");
		html_escape(sb, png);
		sb_puts(sb, "\"><img src=\"");
		html_escape(sb, svg);
		sb_puts(sb, "\" alt=\"");
		html_escape(sb, p->title);
		sb_puts(sb, "\"></a>\n<figcaption>");
		html_escape(sb, p->caption);
		sb_puts(sb, " &mdash; ");
		link(sb, png, "PNG");
		sb_puts(sb, ", ");
		link(sb, svg, "SVG");
		sb_puts(sb, ", ");
	} else {
		sb_puts(sb, "<figcaption><strong>");
		html_escape(sb, p->title);
		sb_puts(sb, "</strong> (not drawn). ");
		html_escape(sb, p->caption);
		sb_puts(sb, " &mdash; ");
	}
	link(sb, gp, "gnuplot script");
	sb_puts(sb, "</figcaption>\n</figure>\n");
}

/* The page up to its first section: title, style, the links `links`
 * (files relative to DIR, then data/), where to read about the plots,
 * and the notes the plots left in d (gnuplot missing or failing). */
static void page_head(struct strbuf *sb, const struct outdir *d, const char *title,
		      const char *const *links, size_t nlinks, const char *doc)
{
	sb_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>");
	html_escape(sb, title);
	sb_puts(sb, "</title>\n<style>\n");
	sb_puts(sb, html_style);
	sb_puts(sb, "</style>\n</head>\n<body>\n<h1>");
	html_escape(sb, title);
	sb_puts(sb, "</h1>\n<nav>");
	for (size_t i = 0; i < nlinks; i++)
		link(sb, links[i], links[i]);
	link(sb, "data/", "data");
	sb_puts(sb, "</nav>\n<p>How to read the plots: ");
	html_escape(sb, doc);
	sb_puts(sb, " in the memsim sources.</p>\n");
	if (d->notes.len) {
		sb_puts(sb, "<p class=\"note\"><strong>Plots not drawn.</strong> ");
		html_escape(sb, sb_str(&d->notes));
		sb_puts(sb, "</p>\n");
	}
}

int html_retain(struct outdir *d, const char *text, const struct plot_list *list,
		struct ms_error *err)
{
	static const char *const links[] = { "retain.txt", "retain.json" };
	struct strbuf sb;
	int rc;

	sb_init(&sb);
	page_head(&sb, d, "memsim retain", links, 2, "docs/retention.md");
	for (size_t i = 0; i < list->n; i++)
		figure(&sb, d, &list->v[i]);
	sb_puts(&sb, "<h2>Report</h2>\n<pre>");
	html_escape(&sb, text);
	sb_puts(&sb, "</pre>\n</body>\n</html>\n");
	rc = outdir_write(d, "index.html", &sb, err);
	sb_free(&sb);
	return rc;
}

static int html_write_dir(struct outdir *d, const struct record *rec,
			  const struct report_opts *o, struct ms_error *err)
{
	size_t nlinks = 0, nformats = 0;
	const char **links;
	struct plot_list l;
	struct strbuf sb, text;
	int rc;

	plot_catalog(rec, &l);
	sb_init(&sb);
	sb_init(&text);
	while (report_formats[nformats])
		nformats++;
	links = xcalloc(nformats + 1, sizeof *links);
	for (size_t i = 0; i < nformats; i++)
		if (report_formats[i]->write && report_formats[i]->file)
			links[nlinks++] = report_formats[i]->file;
	page_head(&sb, d, "memsim report", links, nlinks, "docs/reports.md");
	free(links);
	for (size_t k = 0; k < rec->warnings.n; k++) {
		sb_puts(&sb, "<p class=\"note\">");
		html_escape(&sb, rec->warnings.v[k]);
		sb_puts(&sb, "</p>\n");
	}
	for (size_t t = 0; t < rec->ntraces; t++) {
		const struct record_trace *tr = &rec->traces[t];
		/* the trace's own part of the text report */
		struct record one = { .traces = (struct record_trace *)tr, .ntraces = 1 };

		sb_puts(&sb, "<h2>");
		html_escape(&sb, tr->name);
		sb_printf(&sb, " <small>(%" PRIu64 " events, %zu polic%s)</small></h2>\n<pre>",
			  tr->events, tr->npol, tr->npol == 1 ? "y" : "ies");
		text.len = 0;
		if (text.buf)
			text.buf[0] = '\0';
		report_format_text.write(&text, &one, o);
		html_escape(&sb, sb_str(&text));
		sb_puts(&sb, "</pre>\n");
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].trace == t)
				figure(&sb, d, &l.v[i]);
	}
	sb_puts(&sb, "</body>\n</html>\n");
	rc = outdir_write(d, "index.html", &sb, err);
	sb_free(&sb);
	sb_free(&text);
	plot_list_free(&l);
	return rc;
}

const struct report_format report_format_html = {
	.name = "html",
	.summary = "index.html: the plots with captions and the table (--out only)",
	.write_dir = html_write_dir,
};
