/*
 * tracewrite.c - the trace writer: checks, numbering, and the hand-over
 * to a form (see tracewrite.h).
 *
 * What is shared by both forms lives here and only here: the contract
 * checks (one message per rule, listed in docs/trace-format.md, "Writing
 * traces"), the writer's own numbering of type names (order of first
 * use, as readers number them) and of stack nodes (order of definition,
 * tracerules.h), and the translation of a reader's numbering into the
 * writer's for tracewrite_put. A form (tracetext.c, tracebin.c) only
 * encodes the records it is handed.
 *
 * tracewrite_put caches, per source table, the writer's index of each
 * source index it has seen, so that converting a trace costs no hash
 * lookup per event.
 */
#include "tracewrite.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tracerules.h"
#include "xalloc.h"

/* A source table's index -> the writer's index (0: not seen yet). */
struct idmap {
	const void *src;
	uint32_t *map;
	uint32_t cap;
};

struct trace_writer {
	const struct tracewrite_form *form;
	void *state;
	struct sink *out;
	char *name;                     /* the output's name, for messages */
	struct trace_rules rules;       /* stack nodes (numbers only), `g`, `h` */
	struct typetab *types;          /* type names written so far */
	struct idmap type_map, site_map;
	uint64_t last_time;             /* ns */
	int have_time;
	int refs_open;                  /* an `e` line is being written */
	uint64_t refs_dsts;             /* DSTs it has so far */
	uint64_t records;
	struct ms_error err;            /* sticky; code 0 while all is well */
};

const struct tracewrite_form *tracewrite_form_of(const char *path)
{
	size_t n = strlen(path);

	if ((n > 4 && strcmp(path + n - 4, ".msb") == 0) ||
	    (n > 7 && strcmp(path + n - 7, ".msb.gz") == 0))
		return &tracewrite_binary;
	return &tracewrite_text;
}

static int fail(struct trace_writer *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the first error; every later call returns its code. */
static int fail(struct trace_writer *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->err.code)
		return w->err.code;
	ms_error_clear(&w->err);
	ms_error_at(&w->err, w->name, 0);
	va_start(ap, fmt);
	ms_error_vset(&w->err, code, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- start and close ---- */

/* NULL, or the reason `metadata` cannot be a header's metadata. */
static const char *metadata_problem(const char *m)
{
	size_t n = strlen(m);
	cJSON *json;
	int ok;

	if (n < 2 || n > TRACEWRITE_METADATA_MAX || m[0] != '{' || m[n - 1] != '}' ||
	    strchr(m, '\n'))
		return "trace metadata must be a one-line JSON object text, from '{' to '}', of at most 16777216 bytes";
	json = cJSON_ParseWithOpts(m, NULL, 1);
	ok = json && cJSON_IsObject(json);
	cJSON_Delete(json);
	return ok ? NULL : "trace metadata is not a valid JSON object";
}

_Static_assert(TRACEWRITE_METADATA_MAX == 16777216, "the message says 16777216");

/* NULL, or the reason the arguments cannot start a trace. */
static const char *start_problem(unsigned version, const char *metadata,
				 char *buf, size_t size)
{
	if (version < 1 || version > TRACE_VERSION_MAX) {
		snprintf(buf, size, "unsupported trace version %u", version);
		return buf;
	}
	return metadata ? metadata_problem(metadata) : NULL;
}

static void start_error(struct ms_error *err, const char *name, const char *why)
{
	ms_error_clear(err);
	ms_error_at(err, name, 0);
	ms_error_set(err, MS_EXIT_SOFTWARE, "%s", why);
}

struct trace_writer *tracewrite_start(struct sink *out,
				      const struct tracewrite_form *form,
				      unsigned version, const char *metadata,
				      struct ms_error *err)
{
	struct trace_writer *w;
	char buf[64];
	const char *why = start_problem(version, metadata, buf, sizeof buf);

	if (why) {
		start_error(err, sink_name(out), why);
		sink_close(out, NULL);
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->form = form;
	w->out = out;
	w->name = xstrdup(sink_name(out));
	tracerules_init(&w->rules, version, 0);
	w->types = typetab_create();
	w->state = form->start(out, version, metadata);
	return w;
}

struct trace_writer *tracewrite_create(const char *path,
				       const struct tracewrite_form *form,
				       unsigned flags, unsigned version,
				       const char *metadata, struct ms_error *err)
{
	char buf[64];
	const char *why = start_problem(version, metadata, buf, sizeof buf);
	struct sink *out;

	if (why) {      /* checked before the file is created */
		start_error(err, path, why);
		return NULL;
	}
	out = sink_open(path, flags, err);
	return out ? tracewrite_start(out, form, version, metadata, err) : NULL;
}

/* An `e` line in progress ends before any other record or a comment. */
static int end_refs(struct trace_writer *w)
{
	if (!w->refs_open)
		return 0;
	w->refs_open = 0;
	if (w->refs_dsts == 0)
		return fail(w, MS_EXIT_SOFTWARE, "an 'e' line needs at least one DST");
	return 0;
}

int tracewrite_close(struct trace_writer *w, struct ms_error *err)
{
	struct ms_error ferr;
	char msg[TRACERULES_MSG_MAX];
	uint64_t where;
	int rc;

	if (!w)
		return 0;
	if (!w->err.code && !end_refs(w) &&
	    tracerules_end(&w->rules, &where, msg, sizeof msg))
		fail(w, MS_EXIT_SOFTWARE, "%s", msg);
	ms_error_clear(&ferr);
	rc = w->form->finish(w->state, !w->err.code, w->records, &ferr);
	if (rc && !w->err.code)
		w->err = ferr;
	/* The sink's own first error (a write or the final flush) comes
	 * after any earlier error of ours. */
	if (sink_close(w->out, &ferr) && !w->err.code)
		w->err = ferr;
	rc = w->err.code;
	if (rc && err)
		*err = w->err;
	tracerules_free(&w->rules);
	typetab_destroy(w->types);
	free(w->type_map.map);
	free(w->site_map.map);
	free(w->name);
	free(w);
	return rc;
}

uint64_t tracewrite_records(const struct trace_writer *w)
{
	return w->records;
}

const struct ms_error *tracewrite_error(const struct trace_writer *w)
{
	return w->err.code ? &w->err : NULL;
}

/* ---- records ---- */

/* Checks the sequence rules for a record of `kind` (not SNAP_EDGE). */
static int sequence(struct trace_writer *w, enum event_kind kind, uint64_t *gen)
{
	char msg[TRACERULES_MSG_MAX];

	if (w->err.code)
		return w->err.code;
	if (end_refs(w))
		return w->err.code;
	if (tracerules_record(&w->rules, kind, gen, w->records + 1, w->records + 1,
			      msg, sizeof msg))
		return fail(w, MS_EXIT_SOFTWARE, "%s", msg);
	return 0;
}

static int emit(struct trace_writer *w, const struct tracewrite_rec *rec)
{
	if (w->form->emit(w->state, rec, &w->err))
		return w->err.code;
	if (rec->ev.kind != EVENT_SNAP_EDGE)
		w->records++;
	return 0;
}

/* Emits a record that carries only its event. */
static int emit_event(struct trace_writer *w, const struct event *ev)
{
	struct tracewrite_rec rec = { .ev = *ev };

	return emit(w, &rec);
}

static int root_error(struct trace_writer *w, const char *what)
{
	return fail(w, MS_EXIT_SOFTWARE, "ID 0 is the root set and cannot be %s", what);
}

static int check_size(struct trace_writer *w, uint64_t size)
{
	if (size > EVENT_SIZE_MAX)
		return fail(w, MS_EXIT_SOFTWARE,
			    "size %" PRIu64 " exceeds the 48-bit limit", size);
	return 0;
}

/* `a` or `r` with the writer's type index and new-ness and site index. */
static int write_block(struct trace_writer *w, enum event_kind kind, uint64_t id,
		       uint64_t size, uint32_t type, int type_new, uint32_t site)
{
	struct tracewrite_rec rec = {
		.ev = { .kind = kind, .id = id, .u.size = size, .type = type,
			.site = site },
		.type_new = type_new,
	};

	if (type != TYPETAB_UNTYPED) {
		rec.type = typetab_name(w->types, type);
		rec.type_len = strlen(rec.type);
	}
	if (site != EVENT_NO_SITE)
		rec.site_number = sitetab_number(w->rules.sites, site);
	return emit(w, &rec);
}

/* The checks `a` and `r` share before their names are resolved. */
static int block_checks(struct trace_writer *w, enum event_kind kind,
			uint64_t id, uint64_t size)
{
	if (sequence(w, kind, NULL))
		return w->err.code;
	if (id == EVENT_ID_ROOT)
		return root_error(w, kind == EVENT_ALLOC ? "allocated" : "resized");
	return check_size(w, size);
}

/* The writer's index of stack node `site` (0: none). */
static int resolve_site(struct trace_writer *w, uint64_t site, uint32_t *index)
{
	char msg[TRACERULES_MSG_MAX];

	*index = EVENT_NO_SITE;
	if (site && tracerules_use_site(&w->rules, site, index, msg, sizeof msg))
		return fail(w, MS_EXIT_SOFTWARE, "%s", msg);
	return 0;
}

/* Interns a type name; *fresh says whether it is new to the writer. */
static uint32_t intern_type(struct trace_writer *w, const char *name, size_t n,
			    int *fresh)
{
	uint32_t before = typetab_count(w->types);
	uint32_t t = typetab_intern(w->types, name, n);

	*fresh = t == before;
	return t;
}

static int type_error(struct trace_writer *w, const char *type, size_t n)
{
	char q[TRACERULES_QUOTE_MAX * 4 + 8];

	if (n > TYPETAB_NAME_MAX && typetab_syntax_ok(type, n))
		return fail(w, MS_EXIT_SOFTWARE, "type name longer than %d characters",
			    TYPETAB_NAME_MAX);
	ms_error_quote(q, sizeof q, type, n, TRACERULES_QUOTE_MAX);
	return fail(w, MS_EXIT_SOFTWARE, "bad type name '%s'", q);
}

int tracewrite_alloc(struct trace_writer *w, uint64_t id, uint64_t size,
		     const char *type, uint64_t site)
{
	size_t n = type ? strlen(type) : 0;
	uint32_t t = TYPETAB_UNTYPED, s;
	int fresh = 0;

	if (block_checks(w, EVENT_ALLOC, id, size))
		return w->err.code;
	if (n && !typetab_name_ok(type, n))
		return type_error(w, type, n);
	if (resolve_site(w, site, &s))
		return w->err.code;
	if (n)
		t = intern_type(w, type, n, &fresh);
	return write_block(w, EVENT_ALLOC, id, size, t, fresh, s);
}

int tracewrite_resize(struct trace_writer *w, uint64_t id, uint64_t size,
		      uint64_t site)
{
	uint32_t s;

	if (block_checks(w, EVENT_RESIZE, id, size) || resolve_site(w, site, &s))
		return w->err.code;
	return write_block(w, EVENT_RESIZE, id, size, TYPETAB_UNTYPED, 0, s);
}

int tracewrite_free(struct trace_writer *w, uint64_t id)
{
	struct event ev = { .kind = EVENT_FREE, .id = id };

	if (sequence(w, EVENT_FREE, NULL))
		return w->err.code;
	if (id == EVENT_ID_ROOT)
		return root_error(w, "freed");
	return emit_event(w, &ev);
}

static int write_ref(struct trace_writer *w, enum event_kind kind,
		     uint64_t src, uint64_t dst)
{
	struct event ev = { .kind = kind, .id = src, .u.dst = dst };

	if (sequence(w, kind, NULL))
		return w->err.code;
	if (dst == EVENT_ID_ROOT)
		return root_error(w, "referenced");
	return emit_event(w, &ev);
}

int tracewrite_ref_add(struct trace_writer *w, uint64_t src, uint64_t dst)
{
	return write_ref(w, EVENT_REF_ADD, src, dst);
}

int tracewrite_ref_drop(struct trace_writer *w, uint64_t src, uint64_t dst)
{
	return write_ref(w, EVENT_REF_DROP, src, dst);
}

/* Records without fields of their own (c, s, h, g begin and end). */
static int write_plain(struct trace_writer *w, enum event_kind kind, uint64_t gen)
{
	struct event ev = { .kind = kind, .u.gen = gen };

	if (sequence(w, kind, &ev.u.gen))
		return w->err.code;
	return emit_event(w, &ev);
}

int tracewrite_collect(struct trace_writer *w, uint64_t gen)
{
	return write_plain(w, EVENT_COLLECT, gen);
}

int tracewrite_safepoint(struct trace_writer *w)
{
	return write_plain(w, EVENT_SAFEPOINT, 0);
}

int tracewrite_gc_begin(struct trace_writer *w, uint64_t gen)
{
	return write_plain(w, EVENT_GC_BEGIN, gen);
}

int tracewrite_gc_end(struct trace_writer *w)
{
	return write_plain(w, EVENT_GC_END, 0);
}

int tracewrite_snapshot(struct trace_writer *w)
{
	return write_plain(w, EVENT_SNAPSHOT, 0);
}

/* `@ T`; `keep_equal` for tracewrite_put (lossless). */
static int write_time(struct trace_writer *w, uint64_t ns, int keep_equal)
{
	struct event ev = { .kind = EVENT_TIME, .u.time = ns };

	if (w->err.code)
		return w->err.code;
	if (w->have_time && ns < w->last_time)
		return fail(w, MS_EXIT_SOFTWARE,
			    "time goes backwards (%" PRIu64 " after %" PRIu64 ")",
			    ns, w->last_time);
	if (w->have_time && ns == w->last_time && !keep_equal)
		return 0;
	if (sequence(w, EVENT_TIME, NULL))
		return w->err.code;
	w->have_time = 1;
	w->last_time = ns;
	return emit_event(w, &ev);
}

int tracewrite_time(struct trace_writer *w, uint64_t ns)
{
	return write_time(w, ns, 0);
}

static int write_site(struct trace_writer *w, uint64_t site, uint64_t parent,
		      const char *frame, size_t n)
{
	char msg[TRACERULES_MSG_MAX];
	struct tracewrite_rec rec = {
		.ev = { .kind = EVENT_SITE, .id = site, .u.parent = parent },
		.text = frame, .text_len = n,
	};

	if (sequence(w, EVENT_SITE, NULL))
		return w->err.code;
	if (tracerules_site(&w->rules, site, parent, frame, n, &rec.ev.site,
			    msg, sizeof msg))
		return fail(w, MS_EXIT_SOFTWARE, "%s", msg);
	rec.parent = sitetab_parent(w->rules.sites, rec.ev.site);
	return emit(w, &rec);
}

int tracewrite_site(struct trace_writer *w, uint64_t site, uint64_t parent,
		    const char *frame)
{
	return write_site(w, site, parent, frame, strlen(frame));
}

static int write_mark(struct trace_writer *w, const char *label, size_t n)
{
	char msg[TRACERULES_MSG_MAX];
	struct tracewrite_rec rec = {
		.ev = { .kind = EVENT_MARK }, .text = label, .text_len = n,
	};

	if (sequence(w, EVENT_MARK, NULL))
		return w->err.code;
	if (tracerules_mark(&w->rules, label, n, &rec.ev.label, msg, sizeof msg))
		return fail(w, MS_EXIT_SOFTWARE, "%s", msg);
	return emit(w, &rec);
}

int tracewrite_mark(struct trace_writer *w, const char *label)
{
	return write_mark(w, label, strlen(label));
}

static int refs_begin(struct trace_writer *w, uint64_t src)
{
	struct event ev = { .kind = EVENT_SNAP_REFS, .id = src };

	if (sequence(w, EVENT_SNAP_REFS, NULL))
		return w->err.code;
	w->refs_open = 1;
	w->refs_dsts = 0;
	return emit_event(w, &ev);
}

static int refs_edge(struct trace_writer *w, uint64_t src, uint64_t dst)
{
	struct event ev = { .kind = EVENT_SNAP_EDGE, .id = src, .u.dst = dst };

	if (w->err.code)
		return w->err.code;
	if (!w->refs_open)
		return fail(w, MS_EXIT_SOFTWARE, "a snapshot DST outside an 'e' line");
	if (dst == EVENT_ID_ROOT)
		return root_error(w, "referenced");
	w->refs_dsts++;
	return emit_event(w, &ev);
}

int tracewrite_refs(struct trace_writer *w, uint64_t src, const uint64_t *dst,
		    size_t n)
{
	if (refs_begin(w, src))
		return w->err.code;
	for (size_t i = 0; i < n; i++)
		if (refs_edge(w, src, dst[i]))
			return w->err.code;
	return end_refs(w);
}

int tracewrite_comment(struct trace_writer *w, const char *text)
{
	size_t n = strlen(text);

	if (w->err.code || end_refs(w))
		return w->err.code;
	if (strchr(text, '\n') || strchr(text, '\r'))
		return fail(w, MS_EXIT_SOFTWARE, "a comment must be one line");
	if (!w->form->comment)
		return 0;
	return w->form->comment(w->state, text, n, &w->err);
}

/* ---- put: a reader's events ---- */

/* The cached writer index of source index i of table src, 0 if unknown. */
static uint32_t map_get(struct idmap *m, const void *src, uint32_t i)
{
	if (src != m->src) {
		if (m->cap)
			memset(m->map, 0, m->cap * sizeof *m->map);
		m->src = src;
	}
	return i < m->cap ? m->map[i] : 0;
}

static void map_set(struct idmap *m, uint32_t i, uint32_t v)
{
	m->map = xgrow(m->map, &m->cap, i, sizeof *m->map, 256);
	m->map[i] = v;
}

/* `a`/`r` from a reader: its type and site indices translated. */
static int put_block(struct trace_writer *w, const struct event *ev,
		     const struct trace_names *names)
{
	uint32_t t = TYPETAB_UNTYPED, s = EVENT_NO_SITE;
	int fresh = 0;

	if (block_checks(w, ev->kind, ev->id, ev->u.size))
		return w->err.code;
	if (ev->kind == EVENT_ALLOC && ev->type != TYPETAB_UNTYPED &&
	    !(t = map_get(&w->type_map, names->types, ev->type))) {
		const char *name = typetab_name(names->types, ev->type);
		size_t n = strlen(name);

		if (!typetab_name_ok(name, n))
			return type_error(w, name, n);
		t = intern_type(w, name, n, &fresh);
		map_set(&w->type_map, ev->type, t);
	}
	if (ev->site != EVENT_NO_SITE &&
	    !(s = map_get(&w->site_map, names->sites, ev->site))) {
		uint64_t number = names->sites ? sitetab_number(names->sites, ev->site) : 0;

		if (!number)
			return fail(w, MS_EXIT_SOFTWARE,
				    "site index %" PRIu32 " is not in the source's table",
				    ev->site);
		if (resolve_site(w, number, &s))
			return w->err.code;
		map_set(&w->site_map, ev->site, s);
	}
	return write_block(w, ev->kind, ev->id, ev->u.size, t, fresh, s);
}

int tracewrite_put(struct trace_writer *w, const struct event *ev,
		   const struct trace_names *names)
{
	const char *s;

	switch (ev->kind) {
	case EVENT_ALLOC:
	case EVENT_RESIZE:
		return put_block(w, ev, names);
	case EVENT_FREE:
		return tracewrite_free(w, ev->id);
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		return write_ref(w, ev->kind, ev->id, ev->u.dst);
	case EVENT_COLLECT:
	case EVENT_SAFEPOINT:
	case EVENT_GC_BEGIN:
	case EVENT_GC_END:
	case EVENT_SNAPSHOT:
		return write_plain(w, ev->kind, ev->u.gen);
	case EVENT_TIME:
		return write_time(w, ev->u.time, 1);
	case EVENT_SITE:
		s = names->sites ? sitetab_frame(names->sites, ev->site) : "";
		return write_site(w, ev->id, ev->u.parent, s, strlen(s));
	case EVENT_MARK:
		s = names->labels ? typetab_name(names->labels, ev->label) : "";
		return write_mark(w, s, strlen(s));
	case EVENT_SNAP_REFS:
		return refs_begin(w, ev->id);
	case EVENT_SNAP_EDGE:
		return refs_edge(w, ev->id, ev->u.dst);
	case EVENT_KIND_COUNT:
		break;
	}
	return fail(w, MS_EXIT_SOFTWARE, "unknown event kind %d", (int)ev->kind);
}
