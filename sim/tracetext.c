/*
 * tracetext.c - text traces (tracetext.h).
 *
 * Lines are formatted by hand (decimal.h; no printf per event: a converter
 * writes tens of millions of lines) into a 64 KiB staging buffer and
 * passed to the sink in blocks at line boundaries, so writing costs one
 * small formatting call per event. Every event, checked or not, goes
 * through tracetext_format(): there is one definition of each line.
 */
#include "tracetext.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "xalloc.h"

#define STAGE_BYTES ((size_t)1 << 16)

_Static_assert(TRACETEXT_LINE_MAX + 1 < STAGE_BYTES,
	       "a whole event line must fit in the staging buffer");
_Static_assert(EVENT_SIZE_MAX < UINT64_C(1000000000000000),
	       "a size has at most 15 digits (TRACETEXT_LINE_MAX)");

/* Invariants: len <= STAGE_BYTES; once err.code is non-zero nothing more
 * is written. */
struct tracetext_writer {
	struct sink *out;
	uint64_t events;
	uint64_t last_time;     /* ns; the last `@` written by tracetext_time */
	int have_time;
	struct ms_error err;    /* sticky; code 0 while all is well */
	size_t len;             /* bytes used in stage */
	char stage[STAGE_BYTES];
};

size_t tracetext_format(char *buf, const struct event *ev,
			const char *type_name)
{
	char *p = buf;

	*p++ = event_letter(ev->kind);
	switch (ev->kind) {
	case EVENT_ALLOC:
		*p++ = ' ';
		p = decimal_put_u64(p, ev->id);
		*p++ = ' ';
		p = decimal_put_u64(p, ev->u.size);
		if (type_name && *type_name) {
			size_t n = strnlen(type_name, TYPETAB_NAME_MAX);

			*p++ = ' ';
			memcpy(p, type_name, n);
			p += n;
		}
		break;
	case EVENT_FREE:
		*p++ = ' ';
		p = decimal_put_u64(p, ev->id);
		break;
	case EVENT_RESIZE:
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		*p++ = ' ';
		p = decimal_put_u64(p, ev->id);
		*p++ = ' ';
		p = decimal_put_u64(p, ev->u.size);
		break;
	case EVENT_COLLECT:
		if (ev->u.gen != EVENT_GEN_DEFAULT) {
			*p++ = ' ';
			p = decimal_put_u64(p, ev->u.gen);
		}
		break;
	case EVENT_TIME:
		*p++ = ' ';
		p = decimal_put_u64(p, ev->u.time);
		break;
	case EVENT_SAFEPOINT:
	case EVENT_KIND_COUNT:
		break;
	}
	*p = '\0';
	return (size_t)(p - buf);
}

/* Records a contract breach (the first error only: errors are sticky). */
static int fail(struct tracetext_writer *w, int code, const char *what)
{
	if (!w->err.code) {
		ms_error_clear(&w->err);
		ms_error_at(&w->err, sink_name(w->out), 0);
		ms_error_set(&w->err, code, "%s", what);
	}
	return w->err.code;
}

static int flush(struct tracetext_writer *w)
{
	int rc = w->len ? sink_write(w->out, w->stage, w->len, &w->err) : 0;

	w->len = 0;
	return rc;
}

/* Appends ev's line; `type_name` as for tracetext_format. */
static int emit(struct tracetext_writer *w, const struct event *ev,
		const char *type_name)
{
	size_t n;

	if (w->err.code)
		return w->err.code;
	if (w->len > STAGE_BYTES - TRACETEXT_LINE_MAX - 2 && flush(w))
		return w->err.code;
	n = tracetext_format(w->stage + w->len, ev, type_name);
	w->stage[w->len + n] = '\n';
	w->len += n + 1;
	w->events++;
	return 0;
}

static int has_line_break(const char *s)
{
	return strchr(s, '\n') != NULL;
}

static void metadata_error(struct ms_error *err, const char *name)
{
	ms_error_clear(err);
	ms_error_at(err, name, 0);
	ms_error_set(err, MS_EXIT_SOFTWARE, "trace metadata must be one line");
}

struct tracetext_writer *tracetext_start(struct sink *out, const char *metadata,
					 struct ms_error *err)
{
	static const char header[] = "#memsim-trace 1";
	struct tracetext_writer *w;

	if (metadata && has_line_break(metadata)) {
		metadata_error(err, sink_name(out));
		sink_close(out, NULL);
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->out = out;
	/* Write errors stay sticky in w->err and come back from later calls. */
	sink_write(out, header, sizeof header - 1, &w->err);
	if (metadata) {
		sink_write(out, " ", 1, &w->err);
		sink_write(out, metadata, strlen(metadata), &w->err);
	}
	sink_write(out, "\n", 1, &w->err);
	return w;
}

struct tracetext_writer *tracetext_create(const char *path, unsigned flags,
					  const char *metadata, struct ms_error *err)
{
	struct sink *out;

	/* Checked before the file is created, so a bad call leaves none. */
	if (metadata && has_line_break(metadata)) {
		metadata_error(err, path);
		return NULL;
	}
	out = sink_open(path, flags, err);
	return out ? tracetext_start(out, metadata, err) : NULL;
}

/* The TYPE syntax of docs/trace-format.md: [A-Za-z_][A-Za-z0-9_.]*, at
 * most TYPETAB_NAME_MAX characters. */
static int check_type(struct tracetext_writer *w, const char *type, size_t n)
{
	if (n > TYPETAB_NAME_MAX)
		return fail(w, MS_EXIT_SOFTWARE, "type name longer than 63 characters");
	if (!typetab_name_ok(type, n))
		return fail(w, MS_EXIT_SOFTWARE,
			    "type name is not [A-Za-z_][A-Za-z0-9_.]*");
	return 0;
}

_Static_assert(TYPETAB_NAME_MAX == 63, "check_type's message says 63");

int tracetext_alloc(struct tracetext_writer *w, uint64_t id, uint64_t size,
		    const char *type)
{
	struct event ev = { .kind = EVENT_ALLOC, .id = id, .u.size = size };
	size_t n = type ? strlen(type) : 0;

	if (id == EVENT_ID_ROOT)
		return fail(w, MS_EXIT_SOFTWARE, "ID 0 (the root set) cannot be allocated");
	if (size > EVENT_SIZE_MAX)
		return fail(w, MS_EXIT_SOFTWARE, "size does not fit in 48 bits");
	if (n && check_type(w, type, n))
		return w->err.code;
	return emit(w, &ev, type);
}

int tracetext_free(struct tracetext_writer *w, uint64_t id)
{
	struct event ev = { .kind = EVENT_FREE, .id = id };

	if (id == EVENT_ID_ROOT)
		return fail(w, MS_EXIT_SOFTWARE, "ID 0 (the root set) cannot be freed");
	return emit(w, &ev, NULL);
}

int tracetext_resize(struct tracetext_writer *w, uint64_t id, uint64_t size)
{
	struct event ev = { .kind = EVENT_RESIZE, .id = id, .u.size = size };

	if (id == EVENT_ID_ROOT)
		return fail(w, MS_EXIT_SOFTWARE, "ID 0 (the root set) cannot be resized");
	if (size > EVENT_SIZE_MAX)
		return fail(w, MS_EXIT_SOFTWARE, "size does not fit in 48 bits");
	return emit(w, &ev, NULL);
}

static int put_ref(struct tracetext_writer *w, enum event_kind kind,
		   uint64_t src, uint64_t dst)
{
	struct event ev = { .kind = kind, .id = src, .u.dst = dst };

	if (dst == EVENT_ID_ROOT)
		return fail(w, MS_EXIT_SOFTWARE, "a reference to ID 0 (the root set)");
	return emit(w, &ev, NULL);
}

int tracetext_ref_add(struct tracetext_writer *w, uint64_t src, uint64_t dst)
{
	return put_ref(w, EVENT_REF_ADD, src, dst);
}

int tracetext_ref_drop(struct tracetext_writer *w, uint64_t src, uint64_t dst)
{
	return put_ref(w, EVENT_REF_DROP, src, dst);
}

int tracetext_collect(struct tracetext_writer *w, uint64_t gen)
{
	struct event ev = { .kind = EVENT_COLLECT, .u.gen = gen };

	return emit(w, &ev, NULL);
}

int tracetext_safepoint(struct tracetext_writer *w)
{
	struct event ev = { .kind = EVENT_SAFEPOINT };

	return emit(w, &ev, NULL);
}

int tracetext_time(struct tracetext_writer *w, uint64_t ns)
{
	struct event ev = { .kind = EVENT_TIME, .u.time = ns };

	if (w->err.code)
		return w->err.code;
	if (w->have_time && ns < w->last_time)
		return fail(w, MS_EXIT_SOFTWARE, "time going backwards");
	if (w->have_time && ns == w->last_time)
		return 0;
	w->have_time = 1;
	w->last_time = ns;
	return emit(w, &ev, NULL);
}

int tracetext_comment(struct tracetext_writer *w, const char *text)
{
	size_t n = strlen(text);

	if (has_line_break(text) || strchr(text, '\r'))
		return fail(w, MS_EXIT_SOFTWARE, "a comment must be one line");
	if (w->err.code)
		return w->err.code;
	if (STAGE_BYTES - w->len < n + 3 && flush(w))
		return w->err.code;
	if (n + 3 > STAGE_BYTES) {
		/* Longer than the stage: straight to the sink. */
		sink_write(w->out, "# ", 2, &w->err);
		sink_write(w->out, text, n, &w->err);
		sink_write(w->out, "\n", 1, &w->err);
		return w->err.code;
	}
	w->stage[w->len++] = '#';
	w->stage[w->len++] = ' ';
	memcpy(w->stage + w->len, text, n);
	w->len += n;
	w->stage[w->len++] = '\n';
	return 0;
}

int tracetext_put(struct tracetext_writer *w, const struct event *ev,
		  const struct typetab *types)
{
	const char *name = NULL;

	if (ev->kind == EVENT_ALLOC && ev->type != TYPETAB_UNTYPED)
		name = typetab_name(types, ev->type);
	return emit(w, ev, name);
}

uint64_t tracetext_events(const struct tracetext_writer *w)
{
	return w->events;
}

const struct ms_error *tracetext_error(const struct tracetext_writer *w)
{
	return w->err.code ? &w->err : NULL;
}

int tracetext_close(struct tracetext_writer *w, struct ms_error *err)
{
	struct ms_error cerr;
	int code;

	if (!w)
		return 0;
	if (!w->err.code)
		flush(w);
	/* An earlier error of ours (a contract breach, or the sink's own
	 * write error copied) came first, so it is the one reported. */
	if (sink_close(w->out, &cerr) && !w->err.code)
		w->err = cerr;
	code = w->err.code;
	if (err && code)
		*err = w->err;
	free(w);
	return code;
}
