/*
 * tracebin.c - binary traces: encoder and decoder (tracebin.h; the format
 * with every rule and message is docs/binary-format.md).
 *
 * Encoder: records are built in a 64 KiB staging buffer (a record is at
 * most TRACEBIN_RECORD_MAX bytes, so the buffer is flushed to the sink
 * whenever less than that is left) and handed to the sink in blocks.
 *
 * Decoder, how it stays fast and safe:
 *  1. Input sits in one buffer followed by TRACEBIN_PAD zero bytes. While
 *     the input has more bytes, at least TRACEBIN_RECORD_MAX bytes are kept
 *     ahead of the read position (refill moves the tail down and reads).
 *  2. A record is therefore decoded with no bounds check per byte: a
 *     varint stops after at most 10 bytes, a type name is read only after
 *     its length is checked against TYPETAB_NAME_MAX, so decoding never
 *     goes more than TRACEBIN_RECORD_MAX bytes past the data, into the
 *     zero padding at worst. Only then is the position compared with the
 *     data's end: a record that crossed it was cut short.
 *  3. Varint and value errors are collected in a flag word on the way and
 *     checked once per record, in the documented order.
 */
#include "tracebin.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tracetext.h"
#include "xalloc.h"

/* Longest record: opcode, three 10-byte varints, a one-byte name length
 * and a 63-byte name (ALLOC_NEW). */
#define TRACEBIN_RECORD_MAX (1 + 3 * 10 + 1 + TYPETAB_NAME_MAX)
#define TRACEBIN_PAD 128        /* zero bytes after the data, >= RECORD_MAX */
#define TRACEBIN_BUF ((size_t)1 << 20)         /* decoder input, bytes */
#define STAGE_BYTES ((size_t)1 << 16)          /* encoder staging, bytes */

_Static_assert(TRACEBIN_PAD >= TRACEBIN_RECORD_MAX,
	       "the padding must hold the longest record");
_Static_assert(TRACEBIN_SHORT_TYPES == 240, "opcodes 0x10-0xff: types 1-240");

static const unsigned char magic[TRACEBIN_MAGIC_LEN] = TRACEBIN_MAGIC;

int tracebin_magic(const void *p, size_t n)
{
	if (n >= TRACEBIN_MAGIC_LEN)
		return memcmp(p, magic, TRACEBIN_MAGIC_LEN) == 0;
	return memcmp(p, magic, n) == 0 ? -1 : 0;
}

/* ---- shared rules ---- */

static inline uint64_t zigzag(uint64_t delta)
{
	return delta << 1 ^ (0 - (delta >> 63));
}

static inline uint64_t unzigzag(uint64_t z)
{
	return z >> 1 ^ (0 - (z & 1));
}

/* Metadata must be representable as a text header: "{...}" on one line. */
static int metadata_ok(const char *m, size_t n)
{
	return n >= 2 && m[0] == '{' && m[n - 1] == '}' &&
	       !memchr(m, '\n', n) && !memchr(m, '\0', n);
}

/* ---- encoder ---- */

struct tracebin_writer {
	struct sink *out;
	struct typetab *types;          /* names written so far */
	const struct typetab *map_src;  /* the table `map` translates */
	uint32_t *map;                  /* map_src index -> ours, 0: unknown */
	uint32_t map_cap;
	uint64_t prev[TRACEBIN_ROLE_COUNT];
	uint64_t last_time;             /* ns */
	uint64_t events;
	struct ms_error err;            /* sticky; code 0 while all is well */
	size_t len;
	unsigned char stage[STAGE_BYTES];
};

static inline unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static int werr(struct tracebin_writer *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int werr(struct tracebin_writer *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->err.code)
		return w->err.code;
	w->err.code = code;
	va_start(ap, fmt);
	vsnprintf(w->err.msg, sizeof w->err.msg, fmt, ap);
	va_end(ap);
	return code;
}

/* Room for one record in the staging buffer, or NULL after an error. */
static inline unsigned char *room(struct tracebin_writer *w)
{
	if (w->err.code)
		return NULL;
	if (w->len > STAGE_BYTES - TRACEBIN_RECORD_MAX) {
		if (sink_write(w->out, w->stage, w->len, &w->err))
			return NULL;
		w->len = 0;
	}
	return w->stage + w->len;
}

static inline int done(struct tracebin_writer *w, unsigned char *end)
{
	w->len = (size_t)(end - w->stage);
	w->events++;
	return 0;
}

static inline unsigned char *put_id(struct tracebin_writer *w, unsigned char *p,
				    enum tracebin_role role, uint64_t id)
{
	p = put_varint(p, zigzag(id - w->prev[role]));
	w->prev[role] = id;
	return p;
}

struct tracebin_writer *tracebin_start(struct sink *out, const char *metadata,
				       struct ms_error *err)
{
	struct tracebin_writer *w;
	unsigned char head[TRACEBIN_MAGIC_LEN + 1 + 1 + 10], *p = head;
	size_t mlen = metadata ? strlen(metadata) : 0;

	if (metadata && (mlen > TRACEBIN_METADATA_MAX || !metadata_ok(metadata, mlen))) {
		sink_close(out, NULL);
		ms_error_clear(err);
		ms_error_set(err, MS_EXIT_SOFTWARE,
			     "metadata must be a one-line JSON object text of at most %zu bytes",
			     TRACEBIN_METADATA_MAX);
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->out = out;
	w->types = typetab_create();
	memcpy(p, magic, TRACEBIN_MAGIC_LEN);
	p += TRACEBIN_MAGIC_LEN;
	*p++ = TRACEBIN_VERSION;
	*p++ = 0;                               /* flags */
	p = put_varint(p, mlen);
	sink_write(out, head, (size_t)(p - head), &w->err);
	if (mlen)
		sink_write(out, metadata, mlen, &w->err);
	return w;
}

struct tracebin_writer *tracebin_create(const char *path, unsigned flags,
					const char *metadata, struct ms_error *err)
{
	struct sink *out = sink_open(path, flags, err);

	return out ? tracebin_start(out, metadata, err) : NULL;
}

/* Writes `a` with our type index `type` (0: untyped); `name` is the
 * type's name, written when the type is new (type == count - 1 after
 * interning, `fresh`). */
static int put_alloc(struct tracebin_writer *w, uint64_t id, uint64_t size,
		     uint32_t type, int fresh, const char *name, size_t nlen)
{
	unsigned char *p = room(w), *op;

	if (!p)
		return w->err.code;
	op = p++;
	if (type == TYPETAB_UNTYPED)
		*op = TRACEBIN_OP_ALLOC;
	else if (fresh)
		*op = TRACEBIN_OP_ALLOC_NEW;
	else if (type <= TRACEBIN_SHORT_TYPES)
		*op = (unsigned char)(TRACEBIN_OP_ALLOC_SHORT + type - 1);
	else
		*op = TRACEBIN_OP_ALLOC_TYPE;
	p = put_id(w, p, TRACEBIN_ROLE_ALLOC, id);
	w->prev[TRACEBIN_ROLE_DST] = id;
	p = put_varint(p, size);
	if (*op == TRACEBIN_OP_ALLOC_TYPE) {
		p = put_varint(p, type);
	} else if (*op == TRACEBIN_OP_ALLOC_NEW) {
		*p++ = (unsigned char)nlen;
		memcpy(p, name, nlen);
		p += nlen;
	}
	return done(w, p);
}

static int check_id(struct tracebin_writer *w, uint64_t id, const char *what)
{
	if (id == EVENT_ID_ROOT)
		return werr(w, MS_EXIT_SOFTWARE,
			    "ID 0 is the root set and cannot be %s", what);
	return 0;
}

static int check_size(struct tracebin_writer *w, uint64_t size)
{
	if (size > EVENT_SIZE_MAX)
		return werr(w, MS_EXIT_SOFTWARE,
			    "size %" PRIu64 " exceeds the 48-bit limit", size);
	return 0;
}

int tracebin_alloc(struct tracebin_writer *w, uint64_t id, uint64_t size,
		   const char *type)
{
	uint32_t before, index = TYPETAB_UNTYPED;
	size_t n = type ? strlen(type) : 0;

	if (check_id(w, id, "allocated") || check_size(w, size))
		return w->err.code;
	if (n && !typetab_name_ok(type, n))
		return werr(w, MS_EXIT_SOFTWARE, "bad type name '%.*s'",
			    n > 40 ? 40 : (int)n, type);
	before = typetab_count(w->types);
	if (n)
		index = typetab_intern(w->types, type, n);
	return put_alloc(w, id, size, index, index == before, type, n);
}

int tracebin_free(struct tracebin_writer *w, uint64_t id)
{
	unsigned char *p;

	if (check_id(w, id, "freed") || !(p = room(w)))
		return w->err.code;
	*p++ = TRACEBIN_OP_FREE;
	return done(w, put_id(w, p, TRACEBIN_ROLE_OBJ, id));
}

int tracebin_resize(struct tracebin_writer *w, uint64_t id, uint64_t size)
{
	unsigned char *p;

	if (check_id(w, id, "resized") || check_size(w, size) || !(p = room(w)))
		return w->err.code;
	*p++ = TRACEBIN_OP_RESIZE;
	p = put_id(w, p, TRACEBIN_ROLE_OBJ, id);
	return done(w, put_varint(p, size));
}

static int put_ref(struct tracebin_writer *w, int drop, uint64_t src, uint64_t dst)
{
	unsigned char *p;

	if (check_id(w, dst, "referenced") || !(p = room(w)))
		return w->err.code;
	if (src == EVENT_ID_ROOT) {
		*p++ = drop ? TRACEBIN_OP_ROOT_DROP : TRACEBIN_OP_ROOT_ADD;
	} else {
		*p++ = drop ? TRACEBIN_OP_REF_DROP : TRACEBIN_OP_REF_ADD;
		p = put_id(w, p, TRACEBIN_ROLE_SRC, src);
	}
	return done(w, put_id(w, p, TRACEBIN_ROLE_DST, dst));
}

int tracebin_ref_add(struct tracebin_writer *w, uint64_t src, uint64_t dst)
{
	return put_ref(w, 0, src, dst);
}

int tracebin_ref_drop(struct tracebin_writer *w, uint64_t src, uint64_t dst)
{
	return put_ref(w, 1, src, dst);
}

int tracebin_collect(struct tracebin_writer *w, uint64_t gen)
{
	unsigned char *p = room(w);

	if (!p)
		return w->err.code;
	if (gen == EVENT_GEN_DEFAULT) {
		*p++ = TRACEBIN_OP_COLLECT;
	} else {
		*p++ = TRACEBIN_OP_COLLECT_GEN;
		p = put_varint(p, gen);
	}
	return done(w, p);
}

int tracebin_safepoint(struct tracebin_writer *w)
{
	unsigned char *p = room(w);

	if (!p)
		return w->err.code;
	*p++ = TRACEBIN_OP_SAFEPOINT;
	return done(w, p);
}

int tracebin_time(struct tracebin_writer *w, uint64_t ns)
{
	unsigned char *p;

	if (ns < w->last_time)
		return werr(w, MS_EXIT_SOFTWARE,
			    "time goes backwards (%" PRIu64 " after %" PRIu64 ")",
			    ns, w->last_time);
	if (!(p = room(w)))
		return w->err.code;
	*p++ = TRACEBIN_OP_TIME;
	p = put_varint(p, ns - w->last_time);
	w->last_time = ns;
	return done(w, p);
}

/* Our index for index `i` of the table `src`, interning it when new. */
static uint32_t map_type(struct tracebin_writer *w, const struct typetab *src,
			 uint32_t i, int *fresh)
{
	const char *name;
	uint32_t before;

	*fresh = 0;
	if (i == TYPETAB_UNTYPED)
		return TYPETAB_UNTYPED;
	if (src != w->map_src) {
		if (w->map_cap)
			memset(w->map, 0, w->map_cap * sizeof *w->map);
		w->map_src = src;
	}
	if (i < w->map_cap && w->map[i])
		return w->map[i];
	if (i >= w->map_cap) {
		uint32_t cap = w->map_cap ? w->map_cap : 256;

		while (cap <= i)
			cap *= 2;
		w->map = xreallocarray(w->map, cap, sizeof *w->map);
		memset(w->map + w->map_cap, 0, (cap - w->map_cap) * sizeof *w->map);
		w->map_cap = cap;
	}
	name = typetab_name(src, i);
	before = typetab_count(w->types);
	w->map[i] = typetab_intern(w->types, name, strlen(name));
	*fresh = w->map[i] == before;
	return w->map[i];
}

int tracebin_put(struct tracebin_writer *w, const struct event *ev,
		 const struct typetab *types)
{
	switch (ev->kind) {
	case EVENT_ALLOC:
		if (ev->type != TYPETAB_UNTYPED) {
			int fresh;
			uint32_t t = map_type(w, types, ev->type, &fresh);
			const char *name = typetab_name(w->types, t);
			size_t n = strlen(name);

			if (check_id(w, ev->id, "allocated") ||
			    check_size(w, ev->u.size))
				return w->err.code;
			if (!typetab_name_ok(name, n))
				return werr(w, MS_EXIT_SOFTWARE, "bad type name '%.*s'",
					    n > 40 ? 40 : (int)n, name);
			return put_alloc(w, ev->id, ev->u.size, t, fresh, name, n);
		}
		return tracebin_alloc(w, ev->id, ev->u.size, NULL);
	case EVENT_FREE:
		return tracebin_free(w, ev->id);
	case EVENT_RESIZE:
		return tracebin_resize(w, ev->id, ev->u.size);
	case EVENT_REF_ADD:
		return put_ref(w, 0, ev->id, ev->u.dst);
	case EVENT_REF_DROP:
		return put_ref(w, 1, ev->id, ev->u.dst);
	case EVENT_COLLECT:
		return tracebin_collect(w, ev->u.gen);
	case EVENT_SAFEPOINT:
		return tracebin_safepoint(w);
	case EVENT_TIME:
		return tracebin_time(w, ev->u.time);
	case EVENT_KIND_COUNT:
		break;
	}
	return werr(w, MS_EXIT_SOFTWARE, "unknown event kind %d", (int)ev->kind);
}

uint64_t tracebin_events(const struct tracebin_writer *w)
{
	return w->events;
}

const struct ms_error *tracebin_error(const struct tracebin_writer *w)
{
	return w->err.code ? &w->err : NULL;
}

int tracebin_close(struct tracebin_writer *w, struct ms_error *err)
{
	int rc;

	if (!w)
		return 0;
	if (!w->err.code) {
		unsigned char *p = room(w);

		if (p) {
			*p++ = TRACEBIN_OP_END;
			p = put_varint(p, w->events);
			w->len = (size_t)(p - w->stage);
			sink_write(w->out, w->stage, w->len, &w->err);
		}
	}
	rc = sink_close(w->out, w->err.code ? NULL : &w->err);
	if (!rc)
		rc = w->err.code;
	if (rc && err)
		*err = w->err;
	typetab_destroy(w->types);
	free(w->map);
	free(w);
	return rc;
}

/* ---- decoder ---- */

struct tracebin_reader {
	unsigned char *buf;     /* TRACEBIN_BUF bytes + TRACEBIN_PAD zeros */
	const unsigned char *pos, *end;
	int eof;                /* no more input (or `pending` is set) */
	int has_pending;
	struct ms_error pending;        /* a read error, reported once the
	                                 * bytes before it are decoded */
	tracebin_read_fn *read;
	void *ctx;

	char *name;
	struct typetab *types;
	uint32_t ntypes;        /* defined names + 1 (the untyped index) */
	uint64_t prev[TRACEBIN_ROLE_COUNT];
	uint64_t last_time;     /* ns */
	int has_time;
	uint64_t events;
	char *metadata;
	struct event last;        /* for tracebin_locate */
};

/* Moves the unread bytes to the front and reads until at least
 * TRACEBIN_RECORD_MAX bytes are ahead or the input ends. A read error is
 * kept in `pending` and ends the input. */
static void refill(struct tracebin_reader *d)
{
	size_t keep = (size_t)(d->end - d->pos);

	memmove(d->buf, d->pos, keep);
	d->pos = d->buf;
	d->end = d->buf + keep;
	while (!d->eof && (size_t)(d->end - d->pos) < TRACEBIN_RECORD_MAX) {
		ssize_t got = d->read(d->ctx, d->buf + keep,
				      TRACEBIN_BUF - keep, &d->pending);

		if (got <= 0) {
			d->eof = 1;
			d->has_pending = got < 0;
			break;
		}
		keep += (size_t)got;
		d->end = d->buf + keep;
	}
	memset(d->buf + keep, 0, TRACEBIN_PAD);
}

enum {
	BAD_BIG = 1,            /* a varint above 2^64 - 1 */
	BAD_OVERLONG = 2,       /* a varint with a needless zero byte */
};

static uint64_t __attribute__((noinline))
varint_slow(const unsigned char **pp, unsigned *bad)
{
	const unsigned char *p = *pp;
	uint64_t v = 0;

	for (unsigned i = 0; i < 10; i++) {
		uint64_t b = p[i];

		v |= (b & 0x7f) << (7 * i);
		if (b < 0x80) {
			if (i == 9 && b > 1)
				*bad |= BAD_BIG;
			if (b == 0 && i > 0)
				*bad |= BAD_OVERLONG;
			*pp = p + i + 1;
			return v;
		}
	}
	*bad |= BAD_BIG;
	*pp = p + 10;
	return v;
}

static inline __attribute__((always_inline)) uint64_t
varint(const unsigned char **pp, unsigned *bad)
{
	const unsigned char *p = *pp;
	uint64_t v = p[0];

	if (v < 0x80) {
		*pp = p + 1;
		return v;
	}
	if (p[1] < 0x80 && p[1] != 0) {
		*pp = p + 2;
		return (v & 0x7f) | (uint64_t)p[1] << 7;
	}
	return varint_slow(pp, bad);
}

static int derr(struct tracebin_reader *d, struct ms_error *err, uint64_t event,
		const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A data error at event number `event` (0: the file as a whole). */
static int derr(struct tracebin_reader *d, struct ms_error *err, uint64_t event,
		const char *fmt, ...)
{
	va_list ap;

	ms_error_clear(err);
	err->code = MS_EXIT_DATAERR;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	ms_error_at(err, d->name, event);
	err->in_binary = 1;
	return -1;
}

/* The input ended at the read position (`p` >= end within a record, or
 * before a record). A kept read error is what really happened. */
static int cut(struct tracebin_reader *d, struct ms_error *err, int inside)
{
	if (d->has_pending) {
		*err = d->pending;
		return -1;
	}
	return derr(d, err, d->events + 1, inside ?
		    "truncated binary trace (the record is cut short)" :
		    "truncated binary trace (no end record)");
}

static void quote(char *dst, size_t size, const unsigned char *s, size_t n)
{
	struct ms_error tmp;

	ms_error_text(&tmp, (const char *)s, n);
	snprintf(dst, size, "%s", tmp.text);
}

/* Reports what is wrong with a record whose value checks failed. Kept out
 * of line: the fast path only tests one flag. */
static int __attribute__((noinline, cold))
record_error(struct tracebin_reader *d, struct ms_error *err, unsigned op,
	     unsigned bad, uint64_t a, uint64_t b, uint64_t type,
	     const unsigned char *name, size_t nlen)
{
	uint64_t n = d->events + 1;
	char q[MS_ERROR_TEXT_MAX];

	if (bad & BAD_BIG)
		return derr(d, err, n, "varint does not fit in 64 bits");
	if (bad & BAD_OVERLONG)
		return derr(d, err, n, "non-canonical record: overlong varint");
	if (op >= TRACEBIN_OP_ALLOC_SHORT)
		op = TRACEBIN_OP_ALLOC;         /* same checks as the long form */
	switch (op) {
	case TRACEBIN_OP_ALLOC:
	case TRACEBIN_OP_ALLOC_TYPE:
	case TRACEBIN_OP_ALLOC_NEW:
		if (a == EVENT_ID_ROOT)
			return derr(d, err, n, "ID 0 is the root set and cannot be allocated");
		if (b > EVENT_SIZE_MAX)
			return derr(d, err, n, "size %" PRIu64 " exceeds the 48-bit limit", b);
		if (op == TRACEBIN_OP_ALLOC_NEW) {
			quote(q, sizeof q, name, nlen);
			if (nlen > TYPETAB_NAME_MAX)
				return derr(d, err, n, "type name longer than %d characters",
					    TYPETAB_NAME_MAX);
			if (!typetab_name_ok((const char *)name, nlen))
				return derr(d, err, n, "bad type name '%s'", q);
			return derr(d, err, n, "type name '%s' defined twice", q);
		}
		if (op == TRACEBIN_OP_ALLOC_TYPE && type <= TRACEBIN_SHORT_TYPES &&
		    type != TYPETAB_UNTYPED && type < d->ntypes)
			return derr(d, err, n,
				    "non-canonical record: type %" PRIu64 " has a short opcode",
				    type);
		return derr(d, err, n, "type %" PRIu64 " is not defined (%" PRIu32
			    " types so far)", type, d->ntypes - 1);
	case TRACEBIN_OP_FREE:
		return derr(d, err, n, "ID 0 is the root set and cannot be freed");
	case TRACEBIN_OP_RESIZE:
		if (a == EVENT_ID_ROOT)
			return derr(d, err, n, "ID 0 is the root set and cannot be resized");
		return derr(d, err, n, "size %" PRIu64 " exceeds the 48-bit limit", b);
	case TRACEBIN_OP_REF_ADD:
	case TRACEBIN_OP_REF_DROP:
	case TRACEBIN_OP_ROOT_ADD:
	case TRACEBIN_OP_ROOT_DROP:
		if (b == EVENT_ID_ROOT)
			return derr(d, err, n, "ID 0 is the root set and cannot be referenced");
		return derr(d, err, n,
			    "non-canonical record: SRC 0 outside the root form");
	case TRACEBIN_OP_COLLECT_GEN:
		return derr(d, err, n,
			    "non-canonical record: GEN 2^64-1 outside the plain 'c' form");
	case TRACEBIN_OP_TIME:
		return derr(d, err, n,
			    "time does not fit in 64 bits (%" PRIu64 " + %" PRIu64 ")",
			    d->last_time, b);
	default:
		break;
	}
	return derr(d, err, n, "unknown record opcode 0x%02x", op);
}

/* The end record: the event count must match and nothing may follow. */
static int end_record(struct tracebin_reader *d, const unsigned char *p,
		      struct ms_error *err)
{
	unsigned bad = 0;
	uint64_t count = varint(&p, &bad);

	if (p > d->end)
		return cut(d, err, 1);
	if (bad)
		return record_error(d, err, TRACEBIN_OP_END, bad, 0, 0, 0, NULL, 0);
	if (count != d->events)
		return derr(d, err, 0, "end record counts %" PRIu64
			    " events but %" PRIu64 " came before it", count, d->events);
	d->pos = p;
	if (d->pos == d->end && !d->eof)
		refill(d);
	if (d->pos != d->end)
		return derr(d, err, 0, "data after the end record");
	if (d->has_pending) {
		*err = d->pending;
		return -1;
	}
	return 0;
}

int tracebin_next(struct tracebin_reader *d, struct event *ev,
		  struct ms_error *err)
{
	const unsigned char *p, *name = NULL;
	unsigned op, bad = 0, wrong;
	uint64_t a = 0, b = 0, type = TYPETAB_UNTYPED;
	size_t nlen = 0;
	enum event_kind kind;

	if ((size_t)(d->end - d->pos) < TRACEBIN_RECORD_MAX && !d->eof)
		refill(d);
	p = d->pos;
	if (p >= d->end)
		return cut(d, err, 0);
	op = *p++;
	if (op >= TRACEBIN_OP_ALLOC_SHORT) {
		kind = EVENT_ALLOC;
		a = d->prev[TRACEBIN_ROLE_ALLOC] + unzigzag(varint(&p, &bad));
		b = varint(&p, &bad);
		type = op - TRACEBIN_OP_ALLOC_SHORT + 1;
		wrong = a == EVENT_ID_ROOT || b > EVENT_SIZE_MAX || type >= d->ntypes;
		d->prev[TRACEBIN_ROLE_ALLOC] = d->prev[TRACEBIN_ROLE_DST] = a;
		goto check;
	}
	switch (op) {
	case TRACEBIN_OP_ALLOC:
	case TRACEBIN_OP_ALLOC_TYPE:
	case TRACEBIN_OP_ALLOC_NEW:
		kind = EVENT_ALLOC;
		a = d->prev[TRACEBIN_ROLE_ALLOC] + unzigzag(varint(&p, &bad));
		b = varint(&p, &bad);
		wrong = a == EVENT_ID_ROOT || b > EVENT_SIZE_MAX;
		if (op == TRACEBIN_OP_ALLOC_TYPE) {
			type = varint(&p, &bad);
			wrong |= type <= TRACEBIN_SHORT_TYPES || type >= d->ntypes;
		} else if (op == TRACEBIN_OP_ALLOC_NEW) {
			nlen = *p++;
			if (p > d->end)
				return cut(d, err, 1);
			if (nlen > TYPETAB_NAME_MAX) {
				wrong = 1;
				nlen = 0;
			}
			name = p;
			p += nlen;
			if (p > d->end)
				return cut(d, err, 1);
			if (!wrong && !bad) {
				if (!typetab_name_ok((const char *)name, nlen))
					wrong = 1;
				else if ((type = typetab_intern(d->types, (const char *)name,
								nlen)) != d->ntypes)
					wrong = 1;
				else
					d->ntypes++;
			}
			if (wrong && nlen == 0 && name[-1] > TYPETAB_NAME_MAX)
				nlen = name[-1];        /* for the message */
		}
		d->prev[TRACEBIN_ROLE_ALLOC] = d->prev[TRACEBIN_ROLE_DST] = a;
		break;
	case TRACEBIN_OP_FREE:
	case TRACEBIN_OP_RESIZE:
		kind = op == TRACEBIN_OP_FREE ? EVENT_FREE : EVENT_RESIZE;
		a = d->prev[TRACEBIN_ROLE_OBJ] + unzigzag(varint(&p, &bad));
		d->prev[TRACEBIN_ROLE_OBJ] = a;
		wrong = a == EVENT_ID_ROOT;
		if (op == TRACEBIN_OP_RESIZE) {
			b = varint(&p, &bad);
			wrong |= b > EVENT_SIZE_MAX;
		}
		break;
	case TRACEBIN_OP_REF_ADD:
	case TRACEBIN_OP_REF_DROP:
	case TRACEBIN_OP_ROOT_ADD:
	case TRACEBIN_OP_ROOT_DROP:
		kind = (op == TRACEBIN_OP_REF_ADD || op == TRACEBIN_OP_ROOT_ADD) ?
		       EVENT_REF_ADD : EVENT_REF_DROP;
		wrong = 0;
		if (op <= TRACEBIN_OP_REF_DROP) {
			a = d->prev[TRACEBIN_ROLE_SRC] + unzigzag(varint(&p, &bad));
			d->prev[TRACEBIN_ROLE_SRC] = a;
			wrong = a == EVENT_ID_ROOT;
		}
		b = d->prev[TRACEBIN_ROLE_DST] + unzigzag(varint(&p, &bad));
		d->prev[TRACEBIN_ROLE_DST] = b;
		wrong |= b == EVENT_ID_ROOT;
		break;
	case TRACEBIN_OP_COLLECT:
		kind = EVENT_COLLECT;
		b = EVENT_GEN_DEFAULT;
		wrong = 0;
		break;
	case TRACEBIN_OP_COLLECT_GEN:
		kind = EVENT_COLLECT;
		b = varint(&p, &bad);
		wrong = b == EVENT_GEN_DEFAULT;
		break;
	case TRACEBIN_OP_SAFEPOINT:
		kind = EVENT_SAFEPOINT;
		wrong = 0;
		break;
	case TRACEBIN_OP_TIME:
		kind = EVENT_TIME;
		b = varint(&p, &bad);
		wrong = b > UINT64_MAX - d->last_time;
		if (!wrong) {
			b += d->last_time;
			d->last_time = b;
			d->has_time = 1;
		}
		break;
	case TRACEBIN_OP_END:
		return end_record(d, p, err);
	default:
		return record_error(d, err, op, 0, 0, 0, 0, NULL, 0);
	}
check:
	if (p > d->end)
		return cut(d, err, 1);
	if (__builtin_expect(bad | wrong, 0))
		return record_error(d, err, op, bad, a, b, type, name, nlen);
	d->pos = p;
	ev->kind = kind;
	ev->type = (uint32_t)type;
	ev->id = a;
	ev->u.size = b;
	d->last = *ev;
	d->events++;
	return 1;
}

/* ---- decoder: header ---- */

/* Copies n bytes of input to dst (n may exceed the buffer). 0, or -1 when
 * the input ends first (a read error is then in `pending`). */
static int take(struct tracebin_reader *d, void *dst, size_t n)
{
	unsigned char *o = dst;

	while (n) {
		size_t k = (size_t)(d->end - d->pos);

		if (k == 0) {
			if (d->eof)
				return -1;
			refill(d);
			if (d->pos == d->end)
				return -1;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o, d->pos, k);
		o += k;
		d->pos += k;
		n -= k;
	}
	return 0;
}

static int header_varint(struct tracebin_reader *d, uint64_t *v)
{
	unsigned bad = 0;
	const unsigned char *p;

	if (!d->eof)
		refill(d);
	p = d->pos;
	*v = varint(&p, &bad);
	if (p > d->end)
		return -1;
	d->pos = p;
	return bad ? -2 : 0;
}

static int header_error(struct tracebin_reader *d, struct ms_error *err, int rc,
			const char *what)
{
	if (rc == -1 && d->has_pending) {
		*err = d->pending;
		return -1;
	}
	if (rc == -1)
		return derr(d, err, 0, "truncated binary trace header");
	return derr(d, err, 0, "bad %s in the binary trace header", what);
}

static int read_header(struct tracebin_reader *d, struct ms_error *err)
{
	unsigned char head[TRACEBIN_MAGIC_LEN + 1];
	uint64_t flags, mlen;
	cJSON *json;
	int rc;

	if (take(d, head, sizeof head) < 0)
		return header_error(d, err, -1, "");
	if (head[TRACEBIN_MAGIC_LEN] != TRACEBIN_VERSION)
		return derr(d, err, 0, "unsupported binary trace version %u",
			    head[TRACEBIN_MAGIC_LEN]);
	if ((rc = header_varint(d, &flags)) < 0)
		return header_error(d, err, rc, "flags");
	if (flags)
		return derr(d, err, 0, "unknown binary trace flags 0x%" PRIx64, flags);
	if ((rc = header_varint(d, &mlen)) < 0)
		return header_error(d, err, rc, "metadata length");
	if (mlen == 0)
		return 0;
	if (mlen > TRACEBIN_METADATA_MAX)
		return derr(d, err, 0, "metadata longer than %zu bytes",
			    TRACEBIN_METADATA_MAX);
	d->metadata = xmalloc((size_t)mlen + 1);
	if (take(d, d->metadata, (size_t)mlen) < 0)
		return header_error(d, err, -1, "");
	d->metadata[mlen] = '\0';
	if (memchr(d->metadata, '\0', (size_t)mlen))
		return derr(d, err, 0, "NUL byte in metadata");
	json = cJSON_ParseWithOpts(d->metadata, NULL, 1);
	if (!json)
		return derr(d, err, 0, "metadata is not valid JSON");
	rc = cJSON_IsObject(json);
	cJSON_Delete(json);
	if (!rc)
		return derr(d, err, 0, "metadata is not a JSON object");
	if (!metadata_ok(d->metadata, (size_t)mlen))
		return derr(d, err, 0, "non-canonical metadata: it must run from '{' to '}' on one line");
	return 0;
}

struct tracebin_reader *tracebin_reader_open(const char *name, struct typetab *types,
					     const void *head, size_t head_len,
					     tracebin_read_fn *read, void *ctx,
					     struct ms_error *err)
{
	struct tracebin_reader *d = xcalloc(1, sizeof *d);

	d->buf = xmalloc(TRACEBIN_BUF + TRACEBIN_PAD);
	if (head_len > TRACEBIN_BUF)
		head_len = TRACEBIN_BUF;	/* callers pass at most one chunk */
	memcpy(d->buf, head, head_len);
	d->pos = d->buf;
	d->end = d->buf + head_len;
	memset(d->buf + head_len, 0, TRACEBIN_PAD);
	d->read = read;
	d->ctx = ctx;
	d->name = xstrdup(name);
	d->types = types;
	d->ntypes = typetab_count(types);
	if (read_header(d, err) < 0) {
		tracebin_reader_close(d);
		return NULL;
	}
	return d;
}

void tracebin_locate(const struct tracebin_reader *d, struct ms_error *err)
{
	char line[TRACETEXT_LINE_MAX + 1];
	size_t n;

	ms_error_at(err, d->name, d->events);
	err->in_binary = 1;
	if (!d->events) {
		err->text[0] = '\0';
		return;
	}
	n = tracetext_format(line, &d->last, d->last.kind == EVENT_ALLOC ?
			     typetab_name(d->types, d->last.type) : NULL);
	ms_error_text(err, line, n);
}

const char *tracebin_metadata(const struct tracebin_reader *d)
{
	return d->metadata;
}

int tracebin_has_time(const struct tracebin_reader *d)
{
	return d->has_time;
}

uint64_t tracebin_event_count(const struct tracebin_reader *d)
{
	return d->events;
}

void tracebin_reader_close(struct tracebin_reader *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d->name);
	free(d->metadata);
	free(d);
}
