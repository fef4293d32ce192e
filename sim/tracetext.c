/*
 * tracetext.c - the text form's writer (tracewrite_text) and formatter
 * (tracetext.h; the lines are those of docs/trace-format.md).
 *
 * Lines are formatted by hand (decimal.h; no printf per record: a
 * converter writes tens of millions of lines) into a 64 KiB staging
 * buffer and passed to the sink in blocks, so writing costs one small
 * formatting call per record. Every line goes through format_head():
 * there is one definition of each line. A `k` line's FRAME, which may be
 * longer than the staging buffer, is copied after its head; an `e` line
 * is left open after each DST and ended by the next record.
 */
#include "tracetext.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "xalloc.h"

#define STAGE_BYTES ((size_t)1 << 16)

_Static_assert(TRACETEXT_LINE_MAX + 2 < STAGE_BYTES,
	       "a whole line (but a FRAME) must fit in the staging buffer");
_Static_assert(EVENT_SIZE_MAX < UINT64_C(1000000000000000),
	       "a size has at most 15 digits (TRACETEXT_LINE_MAX)");

/* Invariants: len <= STAGE_BYTES; line_open only after `e` or a DST. */
struct text_state {
	struct sink *out;
	struct ms_error err;    /* the sink's sticky error */
	int line_open;          /* an `e` line still lacks its '\n' */
	size_t len;             /* bytes used in stage */
	char stage[STAGE_BYTES];
};

static char *put_u64(char *p, uint64_t v)
{
	*p++ = ' ';
	return decimal_put_u64(p, v);
}

static char *put_text(char *p, const char *s, size_t n)
{
	*p++ = ' ';
	memcpy(p, s, n);
	return p + n;
}

/*
 * The normalised line of `rec` without '\n' at buf (TRACETEXT_LINE_MAX
 * bytes at least); a `k` line up to its FRAME (with the space before it),
 * an EVENT_SNAP_EDGE as " DST", the continuation of its line. Returns
 * the length.
 */
static size_t format_head(char *buf, const struct tracewrite_rec *rec)
{
	const struct event *ev = &rec->ev;
	char *p = buf;

	if (ev->kind != EVENT_SNAP_EDGE)
		*p++ = event_letter(ev->kind);
	switch (ev->kind) {
	case EVENT_ALLOC:
	case EVENT_RESIZE:
		p = put_u64(put_u64(p, ev->id), ev->u.size);
		if (rec->type)
			p = put_text(p, rec->type, rec->type_len);
		if (rec->site_number) {
			*p++ = ' ';
			*p++ = '^';
			p = decimal_put_u64(p, rec->site_number);
		}
		break;
	case EVENT_FREE:
	case EVENT_SNAP_REFS:
		p = put_u64(p, ev->id);
		break;
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		p = put_u64(put_u64(p, ev->id), ev->u.dst);
		break;
	case EVENT_COLLECT:
		if (ev->u.gen != EVENT_GEN_DEFAULT)
			p = put_u64(p, ev->u.gen);
		break;
	case EVENT_TIME:
	case EVENT_GC_BEGIN:
		p = put_u64(p, ev->u.gen);
		break;
	case EVENT_SITE:
		p = put_u64(put_u64(p, ev->id), ev->u.parent);
		*p++ = ' ';
		break;
	case EVENT_MARK:
		p = put_text(p, rec->text, rec->text_len);
		break;
	case EVENT_SNAP_EDGE:
		p = put_u64(p, ev->u.dst);
		break;
	case EVENT_SAFEPOINT:
	case EVENT_GC_END:
	case EVENT_SNAPSHOT:
	case EVENT_KIND_COUNT:
		break;
	}
	return (size_t)(p - buf);
}

size_t tracetext_format(char *buf, size_t size, const struct event *ev,
			const struct trace_names *names)
{
	char line[TRACETEXT_LINE_MAX + 8], *p = line;
	struct tracewrite_rec rec = { .ev = *ev };
	size_t n, k = 0;

	if (size == 0)
		return 0;
	if (ev->kind == EVENT_ALLOC && ev->type != TYPETAB_UNTYPED && names->types) {
		rec.type = typetab_name(names->types, ev->type);
		rec.type_len = strlen(rec.type);
	}
	if ((ev->kind == EVENT_ALLOC || ev->kind == EVENT_RESIZE) &&
	    ev->site != EVENT_NO_SITE && names->sites)
		rec.site_number = sitetab_number(names->sites, ev->site);
	if (ev->kind == EVENT_SITE && names->sites)
		rec.text = sitetab_frame(names->sites, ev->site);
	if (ev->kind == EVENT_MARK && names->labels) {
		rec.text = typetab_name(names->labels, ev->label);
		rec.text_len = strlen(rec.text);
	}
	if (ev->kind == EVENT_SNAP_EDGE) {
		memcpy(p, "e", 1);
		p = put_u64(p + 1, ev->id);
		memcpy(p, " ...", 4);
		p += 4;
	}
	n = (size_t)(p - line) + format_head(p, &rec);
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, line, n);
	if (rec.ev.kind == EVENT_SITE && rec.text) {
		k = strlen(rec.text);
		if (k > size - 1 - n)
			k = size - 1 - n;
		memcpy(buf + n, rec.text, k);
	}
	buf[n + k] = '\0';
	return n + k;
}

/* ---- the writer ---- */

static int flush(struct text_state *s)
{
	int rc = s->len ? sink_write(s->out, s->stage, s->len, &s->err) : 0;

	s->len = 0;
	return rc;
}

/* Writes n bytes through the stage (long ones straight to the sink). */
static int put_bytes(struct text_state *s, const char *p, size_t n)
{
	if (STAGE_BYTES - s->len < n && flush(s))
		return s->err.code;
	if (n > STAGE_BYTES)
		return sink_write(s->out, p, n, &s->err);
	memcpy(s->stage + s->len, p, n);
	s->len += n;
	return 0;
}

/* Ends an open `e` line: the next record starts a line of its own. */
static void end_line(struct text_state *s)
{
	if (s->line_open) {
		s->stage[s->len++] = '\n';      /* room kept by every writer */
		s->line_open = 0;
	}
}

static void *text_start(struct sink *out, unsigned version, const char *metadata)
{
	struct text_state *s = xcalloc(1, sizeof *s);
	char head[32] = "#memsim-trace ";
	char *p = decimal_put_u64(head + strlen(head), version);

	s->out = out;
	put_bytes(s, head, (size_t)(p - head));
	if (metadata) {
		put_bytes(s, " ", 1);
		put_bytes(s, metadata, strlen(metadata));
	}
	put_bytes(s, "\n", 1);
	return s;
}

static int text_emit(void *state, const struct tracewrite_rec *rec,
		     struct ms_error *err)
{
	struct text_state *s = state;
	enum event_kind kind = rec->ev.kind;

	if (s->err.code)
		goto failed;
	if (kind != EVENT_SNAP_EDGE)
		end_line(s);
	if (s->len > STAGE_BYTES - TRACETEXT_LINE_MAX - 2 && flush(s))
		goto failed;
	s->len += format_head(s->stage + s->len, rec);
	if (kind == EVENT_SITE && put_bytes(s, rec->text, rec->text_len))
		goto failed;
	if (kind == EVENT_SNAP_REFS || kind == EVENT_SNAP_EDGE) {
		s->line_open = 1;
		return 0;
	}
	if (s->len == STAGE_BYTES && flush(s))
		goto failed;
	s->stage[s->len++] = '\n';
	return 0;
failed:
	*err = s->err;
	return s->err.code;
}

static int text_comment(void *state, const char *text, size_t n,
			struct ms_error *err)
{
	struct text_state *s = state;

	end_line(s);
	if (put_bytes(s, "# ", 2) || put_bytes(s, text, n) || put_bytes(s, "\n", 1)) {
		*err = s->err;
		return s->err.code;
	}
	return 0;
}

static int text_finish(void *state, int ok, uint64_t records, struct ms_error *err)
{
	struct text_state *s = state;
	int rc;

	(void)ok;               /* a text trace has no end record */
	(void)records;
	if (!s->err.code) {
		if (s->line_open && s->len == STAGE_BYTES)
			flush(s);
		end_line(s);
		flush(s);
	}
	if ((rc = s->err.code))
		*err = s->err;
	free(s);
	return rc;
}

const struct tracewrite_form tracewrite_text = {
	.name = "text",
	.start = text_start,
	.emit = text_emit,
	.comment = text_comment,
	.finish = text_finish,
};
