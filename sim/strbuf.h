/*
 * strbuf.h - a growable string, the output layer's buffer.
 *
 * Reports are built in memory and written only once complete, so a failed
 * run never leaves half a report on stdout or in a file.
 */
#ifndef MEMSIM_STRBUF_H
#define MEMSIM_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;      /* NUL-terminated; NULL until the first append */
	size_t len, cap;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends n copies of c. */
void sb_pad(struct strbuf *sb, char c, size_t n);
/* Appends `doc` printed as indented JSON and a newline. cJSON prints
 * through xmalloc (main.c's hooks), so it fails only when memory does:
 * then the program exits 71, as xalloc does, rather than leave a report
 * that looks whole without its JSON. */
struct cJSON;
void sb_put_json(struct strbuf *sb, const struct cJSON *doc);
/* The text so far ("" when empty). */
const char *sb_str(const struct strbuf *sb);

#endif
