/*
 * tracetext.c - normalised text traces (tracetext.h).
 *
 * Lines are built in a 64 KiB staging buffer and passed to the sink in
 * blocks, so writing costs one small formatting call per event.
 */
#include "tracetext.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define STAGE_BYTES ((size_t)1 << 16)

struct tracetext_writer {
	struct sink *out;
	size_t len;
	char stage[STAGE_BYTES];
};

/* Writes v in decimal at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

size_t tracetext_format(char *buf, const struct trace_event *ev,
			const char *type_name)
{
	char *p = buf;

	*p++ = trace_kind_letter(ev->kind);
	switch (ev->kind) {
	case TRACE_ALLOC:
		*p++ = ' ';
		p = put_u64(p, ev->id);
		*p++ = ' ';
		p = put_u64(p, ev->u.size);
		if (type_name && *type_name) {
			size_t n = strnlen(type_name, TYPETAB_NAME_MAX);

			*p++ = ' ';
			memcpy(p, type_name, n);
			p += n;
		}
		break;
	case TRACE_FREE:
		*p++ = ' ';
		p = put_u64(p, ev->id);
		break;
	case TRACE_RESIZE:
	case TRACE_REF_ADD:
	case TRACE_REF_DROP:
		*p++ = ' ';
		p = put_u64(p, ev->id);
		*p++ = ' ';
		p = put_u64(p, ev->u.size);
		break;
	case TRACE_COLLECT:
		if (ev->u.gen != TRACE_GEN_DEFAULT) {
			*p++ = ' ';
			p = put_u64(p, ev->u.gen);
		}
		break;
	case TRACE_TIME:
		*p++ = ' ';
		p = put_u64(p, ev->u.time);
		break;
	case TRACE_SAFEPOINT:
	case TRACE_KIND_COUNT:
		break;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

static int flush(struct tracetext_writer *w, struct ms_error *err)
{
	int rc = sink_write(w->out, w->stage, w->len, err);

	w->len = 0;
	return rc;
}

struct tracetext_writer *tracetext_open(struct sink *out, const char *metadata)
{
	struct tracetext_writer *w = xmalloc(sizeof *w);
	static const char header[] = "#memsim-trace 1";

	w->out = out;
	w->len = 0;
	sink_write(out, header, sizeof header - 1, NULL);
	if (metadata) {
		sink_write(out, " ", 1, NULL);
		sink_write(out, metadata, strlen(metadata), NULL);
	}
	sink_write(out, "\n", 1, NULL);	/* errors stay sticky in the sink */
	return w;
}

int tracetext_event(struct tracetext_writer *w, const struct trace_event *ev,
		    const struct typetab *types, struct ms_error *err)
{
	const char *name = NULL;
	size_t n;

	if (w->len > STAGE_BYTES - TRACETEXT_LINE_MAX - 2) {
		int rc = flush(w, err);

		if (rc)
			return rc;
	}
	if (ev->kind == TRACE_ALLOC && ev->type != TYPETAB_UNTYPED)
		name = typetab_name(types, ev->type);
	n = tracetext_format(w->stage + w->len, ev, name);
	w->stage[w->len + n] = '\n';
	w->len += n + 1;
	return 0;
}

int tracetext_close(struct tracetext_writer *w, struct ms_error *err)
{
	int rc, rc_close;

	if (!w)
		return 0;
	rc = flush(w, err);
	rc_close = sink_close(w->out, rc ? NULL : err);
	if (!rc)
		rc = rc_close;
	free(w);
	return rc;
}
