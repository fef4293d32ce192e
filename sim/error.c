/*
 * error.c - error records (see error.h).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ms_error_clear(struct ms_error *e)
{
	memset(e, 0, sizeof *e);
}

int ms_error_vset(struct ms_error *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return code;
}

int ms_error_set(struct ms_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_error_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

void ms_error_at(struct ms_error *e, const char *file, uint64_t line)
{
	snprintf(e->file, sizeof e->file, "%s", file ? file : "");
	e->line = line;
}

void ms_error_text(struct ms_error *e, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const size_t room = sizeof e->text - 4;	/* "..." and NUL */
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;

		if (o + need > room) {
			memcpy(e->text + o, "...", 4);
			return;
		}
		if (need == 1) {
			e->text[o++] = (char)c;
		} else if (c == '\\') {
			memcpy(e->text + o, "\\\\", 2);
			o += 2;
		} else {
			e->text[o++] = '\\';
			e->text[o++] = 'x';
			e->text[o++] = hex[c >> 4];
			e->text[o++] = hex[c & 15];
		}
	}
	e->text[o] = '\0';
}

void ms_error_quote(char *dst, size_t size, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max || o + 8 > size) {
			if (o + 4 <= size) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}

void ms_error_format(const struct ms_error *e, char *buf, size_t size)
{
	int n = 0;

	if (e->file[0] && e->line && e->in_binary)
		n = snprintf(buf, size, "%s: event %llu: ", e->file,
			     (unsigned long long)e->line);
	else if (e->file[0] && e->line)
		n = snprintf(buf, size, "%s:%llu: ", e->file,
			     (unsigned long long)e->line);
	else if (e->file[0])
		n = snprintf(buf, size, "%s: ", e->file);
	if (n < 0 || (size_t)n >= size)
		return;
	if (e->text[0] || (e->line && !e->in_binary))
		snprintf(buf + n, size - (size_t)n, "%s: \"%s\"", e->msg, e->text);
	else
		snprintf(buf + n, size - (size_t)n, "%s", e->msg);
}
