/*
 * tracebin.c - binary traces: encoder (the form tracewrite_binary) and
 * decoder (tracebin.h; the format with every rule and message is
 * docs/binary-format.md).
 *
 * Encoder: records are built in a 64 KiB staging buffer (a record but a
 * `k` FRAME or an `e` chunk is at most TRACEBIN_RECORD_MAX bytes, so the
 * buffer is flushed to the sink whenever less than what the next record
 * needs is left) and handed to the sink in blocks. The DSTs of an `e`
 * line are gathered into chunks of TRACEBIN_CHUNK, so a line of any
 * length costs a fixed buffer.
 *
 * Decoder, how it stays fast and safe:
 *  1. Input sits in one buffer followed by TRACEBIN_PAD zero bytes. While
 *     the input has more bytes, at least TRACEBIN_RECORD_MAX bytes are kept
 *     ahead of the read position (refill moves the tail down and reads).
 *  2. A record is therefore decoded with no bounds check per byte: a
 *     varint stops after at most 10 bytes, a type name or label is read
 *     only after its length is checked against TYPETAB_NAME_MAX, so
 *     decoding never goes more than TRACEBIN_RECORD_MAX bytes past the
 *     data, into the zero padding at worst. Only then is the position
 *     compared with the data's end: a record that crossed it was cut
 *     short. The two unbounded parts of version 2 are read apart: a
 *     FRAME is copied out with take(), and an `e` record is decoded one
 *     DST per call, each DST a bounded step of its own.
 *  3. Varint and value errors are collected in a flag word on the way and
 *     checked once per record, in the documented order.
 *  4. The rules that span records (stack nodes, `g`, snapshots) are
 *     tracerules.h's, shared with the text reader and the writers.
 */
#include "tracebin.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sink.h"
#include "tracetext.h"
#include "tracewrite.h"
#include "xalloc.h"

#define TRACEBIN_VERSION_MAX TRACE_VERSION_MAX
/* Longest bounded record: a site prefix (opcode and a varint), then an
 * ALLOC_NEW: opcode, two 10-byte varints, a one-byte name length and a
 * 63-byte name. */
#define TRACEBIN_RECORD_MAX (1 + 10 + 1 + 2 * 10 + 1 + TYPETAB_NAME_MAX)
#define TRACEBIN_PAD 128        /* zero bytes after the data, >= RECORD_MAX */
#define TRACEBIN_BUF ((size_t)1 << 20)         /* decoder input, bytes */
#define STAGE_BYTES ((size_t)1 << 16)          /* encoder staging, bytes */
#define CHUNK_BYTES (10 + TRACEBIN_CHUNK * 10) /* an `e` chunk, at most */

_Static_assert(TRACEBIN_PAD >= TRACEBIN_RECORD_MAX,
	       "the padding must hold the longest record");
_Static_assert(TRACEBIN_SHORT_TYPES == 240, "opcodes 0x10-0xff: types 1-240");
_Static_assert(CHUNK_BYTES < STAGE_BYTES, "a chunk fits the staging buffer");

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

/* The code of a stack node's parent: 0 for the outermost caller, else how
 * many nodes back from the new one (index `index`) the parent is. */
static inline uint64_t parent_code(uint32_t index, uint32_t parent)
{
	return parent == EVENT_NO_SITE ? 0 : (uint64_t)(index - parent);
}

/* ---- encoder ---- */

struct bin_state {
	struct sink *out;
	struct ms_error err;            /* the sink's sticky error */
	uint64_t prev[TRACEBIN_ROLE_COUNT];
	uint64_t last_time;             /* ns */
	int refs_open;                  /* an `e` record lacks its last chunk */
	uint64_t dst_prev;              /* the DST before, within the record */
	uint32_t chunk_n;               /* DSTs waiting in chunk */
	uint64_t chunk[TRACEBIN_CHUNK];
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

/* Room for `need` bytes in the staging buffer, or NULL after an error. */
static inline unsigned char *room(struct bin_state *s, size_t need)
{
	if (s->err.code)
		return NULL;
	if (s->len > STAGE_BYTES - need) {
		if (sink_write(s->out, s->stage, s->len, &s->err))
			return NULL;
		s->len = 0;
	}
	return s->stage + s->len;
}

static inline void done(struct bin_state *s, unsigned char *end)
{
	s->len = (size_t)(end - s->stage);
}

static inline unsigned char *put_id(struct bin_state *s, unsigned char *p,
				    enum tracebin_role role, uint64_t id)
{
	p = put_varint(p, zigzag(id - s->prev[role]));
	s->prev[role] = id;
	return p;
}

static void *bin_start(struct sink *out, unsigned version, const char *metadata)
{
	struct bin_state *s = xcalloc(1, sizeof *s);
	unsigned char head[TRACEBIN_MAGIC_LEN + 1 + 1 + 10], *p = head;
	size_t mlen = metadata ? strlen(metadata) : 0;

	s->out = out;
	memcpy(p, magic, TRACEBIN_MAGIC_LEN);
	p += TRACEBIN_MAGIC_LEN;
	*p++ = (unsigned char)version;
	*p++ = 0;                               /* flags */
	p = put_varint(p, mlen);
	sink_write(out, head, (size_t)(p - head), &s->err);
	if (mlen)
		sink_write(out, metadata, mlen, &s->err);
	return s;
}

/* Writes the DSTs gathered in the chunk. */
static void put_chunk(struct bin_state *s)
{
	unsigned char *p = room(s, CHUNK_BYTES);

	if (!p)
		return;
	p = put_varint(p, s->chunk_n);
	for (uint32_t i = 0; i < s->chunk_n; i++) {
		p = put_varint(p, zigzag(s->chunk[i] - s->dst_prev));
		s->dst_prev = s->chunk[i];
	}
	s->chunk_n = 0;
	done(s, p);
}

/* Ends an open `e` record: its last chunk, then a chunk count of 0. */
static void end_refs(struct bin_state *s)
{
	unsigned char *p;

	if (!s->refs_open)
		return;
	s->refs_open = 0;
	if (s->chunk_n)
		put_chunk(s);
	if ((p = room(s, 1)))
		done(s, put_varint(p, 0));
}

/* `a` with our type index (0: untyped); the name goes out when new. */
static unsigned char *put_alloc(struct bin_state *s, unsigned char *p,
				const struct tracewrite_rec *rec)
{
	unsigned char *op = p++;
	uint32_t type = rec->ev.type;

	if (type == TYPETAB_UNTYPED)
		*op = TRACEBIN_OP_ALLOC;
	else if (rec->type_new)
		*op = TRACEBIN_OP_ALLOC_NEW;
	else if (type <= TRACEBIN_SHORT_TYPES)
		*op = (unsigned char)(TRACEBIN_OP_ALLOC_SHORT + type - 1);
	else
		*op = TRACEBIN_OP_ALLOC_TYPE;
	p = put_id(s, p, TRACEBIN_ROLE_ALLOC, rec->ev.id);
	s->prev[TRACEBIN_ROLE_DST] = rec->ev.id;
	p = put_varint(p, rec->ev.u.size);
	if (*op == TRACEBIN_OP_ALLOC_TYPE) {
		p = put_varint(p, type);
	} else if (*op == TRACEBIN_OP_ALLOC_NEW) {
		*p++ = (unsigned char)rec->type_len;
		memcpy(p, rec->type, rec->type_len);
		p += rec->type_len;
	}
	return p;
}

static unsigned char *put_ref(struct bin_state *s, unsigned char *p,
			      const struct event *ev)
{
	int drop = ev->kind == EVENT_REF_DROP;

	if (ev->id == EVENT_ID_ROOT) {
		*p++ = drop ? TRACEBIN_OP_ROOT_DROP : TRACEBIN_OP_ROOT_ADD;
	} else {
		*p++ = drop ? TRACEBIN_OP_REF_DROP : TRACEBIN_OP_REF_ADD;
		p = put_id(s, p, TRACEBIN_ROLE_SRC, ev->id);
	}
	return put_id(s, p, TRACEBIN_ROLE_DST, ev->u.dst);
}

/* `k`: the fixed part staged, the FRAME through the stage or straight
 * to the sink when it is long. */
static void put_site(struct bin_state *s, unsigned char *p,
		     const struct tracewrite_rec *rec)
{
	*p++ = TRACEBIN_OP_EXT;
	*p++ = TRACEBIN_EXT_SITE;
	p = put_id(s, p, TRACEBIN_ROLE_SITE, rec->ev.id);
	p = put_varint(p, parent_code(rec->ev.site, rec->parent));
	p = put_varint(p, rec->text_len);
	done(s, p);
	if (rec->text_len <= STAGE_BYTES / 2) {
		if ((p = room(s, rec->text_len))) {
			memcpy(p, rec->text, rec->text_len);
			done(s, p + rec->text_len);
		}
	} else if ((p = room(s, STAGE_BYTES))) {        /* flushes the stage */
		sink_write(s->out, rec->text, rec->text_len, &s->err);
	}
}

static int bin_emit(void *state, const struct tracewrite_rec *rec,
		    struct ms_error *err)
{
	struct bin_state *s = state;
	const struct event *ev = &rec->ev;
	unsigned char *p;

	if (ev->kind == EVENT_SNAP_EDGE) {
		s->chunk[s->chunk_n++] = ev->u.dst;
		if (s->chunk_n == TRACEBIN_CHUNK)
			put_chunk(s);
		goto out;
	}
	end_refs(s);
	if (!(p = room(s, TRACEBIN_RECORD_MAX)))
		goto out;
	if ((ev->kind == EVENT_ALLOC || ev->kind == EVENT_RESIZE) &&
	    ev->site != EVENT_NO_SITE) {
		*p++ = TRACEBIN_OP_SITE_PREFIX;
		p = put_varint(p, ev->site);
	}
	switch (ev->kind) {
	case EVENT_ALLOC:
		p = put_alloc(s, p, rec);
		break;
	case EVENT_FREE:
	case EVENT_RESIZE:
		*p++ = ev->kind == EVENT_FREE ? TRACEBIN_OP_FREE : TRACEBIN_OP_RESIZE;
		p = put_id(s, p, TRACEBIN_ROLE_OBJ, ev->id);
		if (ev->kind == EVENT_RESIZE)
			p = put_varint(p, ev->u.size);
		break;
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		p = put_ref(s, p, ev);
		break;
	case EVENT_COLLECT:
		if (ev->u.gen == EVENT_GEN_DEFAULT) {
			*p++ = TRACEBIN_OP_COLLECT;
		} else {
			*p++ = TRACEBIN_OP_COLLECT_GEN;
			p = put_varint(p, ev->u.gen);
		}
		break;
	case EVENT_SAFEPOINT:
		*p++ = TRACEBIN_OP_SAFEPOINT;
		break;
	case EVENT_TIME:
		*p++ = TRACEBIN_OP_TIME;
		p = put_varint(p, ev->u.time - s->last_time);
		s->last_time = ev->u.time;
		break;
	case EVENT_SITE:
		put_site(s, p, rec);
		goto out;
	case EVENT_MARK:
		*p++ = TRACEBIN_OP_EXT;
		*p++ = TRACEBIN_EXT_MARK;
		*p++ = (unsigned char)rec->text_len;
		memcpy(p, rec->text, rec->text_len);
		p += rec->text_len;
		break;
	case EVENT_GC_BEGIN:
		*p++ = TRACEBIN_OP_EXT;
		*p++ = TRACEBIN_EXT_GC_BEGIN;
		p = put_varint(p, ev->u.gen);
		break;
	case EVENT_GC_END:
	case EVENT_SNAPSHOT:
		*p++ = TRACEBIN_OP_EXT;
		*p++ = ev->kind == EVENT_GC_END ? TRACEBIN_EXT_GC_END : TRACEBIN_EXT_SNAPSHOT;
		break;
	case EVENT_SNAP_REFS:
		*p++ = TRACEBIN_OP_EXT;
		*p++ = TRACEBIN_EXT_REFS;
		p = put_id(s, p, TRACEBIN_ROLE_SNAP, ev->id);
		s->refs_open = 1;
		s->dst_prev = ev->id;
		s->chunk_n = 0;
		break;
	case EVENT_SNAP_EDGE:
	case EVENT_KIND_COUNT:
		break;
	}
	done(s, p);
out:
	if (s->err.code)
		*err = s->err;
	return s->err.code;
}

static int bin_finish(void *state, int ok, uint64_t records, struct ms_error *err)
{
	struct bin_state *s = state;
	unsigned char *p;
	int rc;

	if (ok && !s->err.code) {
		end_refs(s);
		if ((p = room(s, 11))) {
			*p++ = TRACEBIN_OP_END;
			done(s, put_varint(p, records));
		}
		if (!s->err.code)
			sink_write(s->out, s->stage, s->len, &s->err);
	}
	if ((rc = s->err.code))
		*err = s->err;
	free(s);
	return rc;
}

const struct tracewrite_form tracewrite_binary = {
	.name = "binary",
	.start = bin_start,
	.emit = bin_emit,
	.finish = bin_finish,
};

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
	struct trace_rules *rules;      /* the reader's: nodes, labels, `g`, `h` */
	unsigned version;       /* of the file: 1 or 2 */
	uint64_t prev[TRACEBIN_ROLE_COUNT];
	uint64_t last_time;     /* ns */
	uint64_t events;        /* records decoded, i.e. lines */
	char *metadata;
	struct event last;      /* for tracebin_locate */

	/* An `e` record being decoded, one DST per call. */
	int in_refs;
	uint64_t refs_src, dst_prev;
	uint64_t edges_left;    /* DSTs left in the current chunk */
	int chunk_full;         /* it had TRACEBIN_CHUNK: another may follow */

	char *frame;            /* a `k` record's FRAME, copied out */
	size_t frame_cap;
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
	va_start(ap, fmt);
	ms_error_vset(err, MS_EXIT_DATAERR, fmt, ap);
	va_end(ap);
	ms_error_at(err, d->name, event);
	err->in_binary = 1;
	return -1;
}

/* The input ended at the read position (`p` >= end within record
 * `rec`, or before a record). A kept read error is what really happened. */
static int cut_at(struct tracebin_reader *d, struct ms_error *err, int inside,
		  uint64_t rec)
{
	if (d->has_pending) {
		*err = d->pending;
		return -1;
	}
	return derr(d, err, rec, inside ?
		    "truncated binary trace (the record is cut short)" :
		    "truncated binary trace (no end record)");
}

/* cut_at the record being decoded (the next one). */
static int cut(struct tracebin_reader *d, struct ms_error *err, int inside)
{
	return cut_at(d, err, inside, d->events + 1);
}

/* A varint error of record `rec`. */
static int varint_error(struct tracebin_reader *d, struct ms_error *err,
			unsigned bad, uint64_t rec)
{
	if (bad & BAD_BIG)
		return derr(d, err, rec, "varint does not fit in 64 bits");
	return derr(d, err, rec, "non-canonical record: overlong varint");
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

	if (bad)
		return varint_error(d, err, bad, n);
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
	case TRACEBIN_OP_EXT:
	case TRACEBIN_OP_SITE_PREFIX:
		if (d->version < 2)
			return derr(d, err, n,
				    "version-2 record (opcode 0x%02x) in a version-1 trace", op);
		break;
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
	uint64_t count = varint(&p, &bad), where;
	char msg[TRACERULES_MSG_MAX];

	if (p > d->end)
		return cut(d, err, 1);
	if (bad)
		return record_error(d, err, TRACEBIN_OP_END, bad, 0, 0, 0, NULL, 0);
	if (count != d->events)
		return derr(d, err, 0, "end record counts %" PRIu64
			    " events but %" PRIu64 " came before it", count, d->events);
	if (tracerules_end(d->rules, &where, msg, sizeof msg))
		return derr(d, err, where, "%s", msg);
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

/* Finishes a record that decoded to *ev (d->pos already past it). */
static int record_done(struct tracebin_reader *d, struct event *ev)
{
	d->last = *ev;
	d->events++;
	return 1;
}

/* A rule of tracerules.h broken by record `rec`. */
static int rule_error(struct tracebin_reader *d, struct ms_error *err,
		      const char *msg, uint64_t rec)
{
	return derr(d, err, rec, "%s", msg);
}

/* `k`: dSITE PCODE LEN, then LEN bytes of FRAME (read with take). */
static int ext_site(struct tracebin_reader *d, const unsigned char *p,
		    struct event *ev, struct ms_error *err)
{
	uint64_t n = d->events + 1, site, pcode, len, parent = 0;
	uint32_t count = sitetab_count(d->rules->sites);
	char msg[TRACERULES_MSG_MAX];
	unsigned bad = 0;

	site = d->prev[TRACEBIN_ROLE_SITE] + unzigzag(varint(&p, &bad));
	pcode = varint(&p, &bad);
	len = varint(&p, &bad);
	if (p > d->end)
		return cut(d, err, 1);
	if (bad)
		return varint_error(d, err, bad, n);
	if (len > TRACEBIN_FRAME_MAX)
		return derr(d, err, n, "FRAME longer than %zu bytes", TRACEBIN_FRAME_MAX);
	if (pcode >= count)
		return derr(d, err, n, "parent code %" PRIu64 " names no stack node (%"
			    PRIu32 " so far)", pcode, count - 1);
	if (pcode)
		parent = sitetab_number(d->rules->sites, (uint32_t)(count - pcode));
	d->prev[TRACEBIN_ROLE_SITE] = site;
	d->pos = p;
	if (len + 1 > d->frame_cap) {
		d->frame_cap = (size_t)len + 1;
		d->frame = xrealloc(d->frame, d->frame_cap);
	}
	if (take(d, d->frame, (size_t)len) < 0)
		return cut(d, err, 1);
	if (tracerules_record(d->rules, EVENT_SITE, NULL, n, n, msg, sizeof msg) ||
	    tracerules_site(d->rules, site, parent, d->frame, (size_t)len, &ev->site,
			    msg, sizeof msg))
		return rule_error(d, err, msg, n);
	ev->kind = EVENT_SITE;
	ev->id = site;
	ev->u.parent = parent;
	return record_done(d, ev);
}

/* `m`: LEN (1 byte), LABEL. */
static int ext_mark(struct tracebin_reader *d, const unsigned char *p,
		    struct event *ev, struct ms_error *err)
{
	uint64_t n = d->events + 1;
	char msg[TRACERULES_MSG_MAX];
	size_t len = *p++;

	if (len > TYPETAB_NAME_MAX) {
		if (p > d->end)
			return cut(d, err, 1);
		return derr(d, err, n, "mark label longer than %d characters",
			    TYPETAB_NAME_MAX);
	}
	if (p + len > d->end)
		return cut(d, err, 1);
	if (tracerules_record(d->rules, EVENT_MARK, NULL, n, n, msg, sizeof msg) ||
	    tracerules_mark(d->rules, (const char *)p, len, &ev->label, msg, sizeof msg))
		return rule_error(d, err, msg, n);
	d->pos = p + len;
	ev->kind = EVENT_MARK;
	return record_done(d, ev);
}

/* `e`: dSRC and the first chunk's count; the DSTs come from refs_next. */
static int ext_refs(struct tracebin_reader *d, const unsigned char *p,
		    struct event *ev, struct ms_error *err)
{
	uint64_t n = d->events + 1, src, count;
	char msg[TRACERULES_MSG_MAX];
	unsigned bad = 0;

	src = d->prev[TRACEBIN_ROLE_SNAP] + unzigzag(varint(&p, &bad));
	count = varint(&p, &bad);
	if (p > d->end)
		return cut(d, err, 1);
	if (bad)
		return varint_error(d, err, bad, n);
	if (tracerules_record(d->rules, EVENT_SNAP_REFS, NULL, n, n, msg, sizeof msg))
		return rule_error(d, err, msg, n);
	if (count == 0)
		return derr(d, err, n, "an 'e' record needs at least one DST");
	if (count > TRACEBIN_CHUNK)
		return derr(d, err, n, "a chunk of %" PRIu64 " DSTs (at most %d)",
			    count, TRACEBIN_CHUNK);
	d->prev[TRACEBIN_ROLE_SNAP] = src;
	d->pos = p;
	d->in_refs = 1;
	d->refs_src = d->dst_prev = src;
	d->edges_left = count;
	d->chunk_full = count == TRACEBIN_CHUNK;
	ev->kind = EVENT_SNAP_REFS;
	ev->id = src;
	return record_done(d, ev);
}

/* Extended records (opcode 0x0e), version 2. */
static int ext_record(struct tracebin_reader *d, const unsigned char *p,
		      struct event *ev, struct ms_error *err)
{
	uint64_t n = d->events + 1;
	char msg[TRACERULES_MSG_MAX];
	unsigned sub = *p++, bad = 0;
	enum event_kind kind;

	memset(ev, 0, sizeof *ev);
	switch (sub) {
	case TRACEBIN_EXT_SITE:
		return ext_site(d, p, ev, err);
	case TRACEBIN_EXT_MARK:
		return ext_mark(d, p, ev, err);
	case TRACEBIN_EXT_REFS:
		return ext_refs(d, p, ev, err);
	case TRACEBIN_EXT_GC_BEGIN:
		kind = EVENT_GC_BEGIN;
		ev->u.gen = varint(&p, &bad);
		break;
	case TRACEBIN_EXT_GC_END:
		kind = EVENT_GC_END;
		break;
	case TRACEBIN_EXT_SNAPSHOT:
		kind = EVENT_SNAPSHOT;
		break;
	default:
		if (p > d->end)
			return cut(d, err, 1);
		return derr(d, err, n, "unknown record opcode 0x0e 0x%02x", sub);
	}
	if (p > d->end)
		return cut(d, err, 1);
	if (bad)
		return varint_error(d, err, bad, n);
	if (tracerules_record(d->rules, kind, &ev->u.gen, n, n, msg, sizeof msg))
		return rule_error(d, err, msg, n);
	d->pos = p;
	ev->kind = kind;
	return record_done(d, ev);
}

/*
 * The next DST of the `e` record being decoded: 1 with *ev an
 * EVENT_SNAP_EDGE, 0 when the record has ended (its closing chunk count
 * of 0 consumed), -1 on error (located at the `e` record).
 */
static int refs_next(struct tracebin_reader *d, struct event *ev,
		     struct ms_error *err)
{
	const unsigned char *p = d->pos;
	unsigned bad = 0;
	uint64_t v;

	if (d->edges_left == 0) {
		v = varint(&p, &bad);
		if (p > d->end)
			return cut_at(d, err, 1, d->events);
		if (bad)
			return varint_error(d, err, bad, d->events);
		if (v == 0) {
			d->in_refs = 0;
			d->pos = p;
			return 0;
		}
		if (!d->chunk_full)
			return derr(d, err, d->events,
				    "non-canonical record: a chunk of fewer than %d DSTs before the last",
				    TRACEBIN_CHUNK);
		if (v > TRACEBIN_CHUNK)
			return derr(d, err, d->events, "a chunk of %" PRIu64
				    " DSTs (at most %d)", v, TRACEBIN_CHUNK);
		d->edges_left = v;
		d->chunk_full = v == TRACEBIN_CHUNK;
	}
	v = d->dst_prev + unzigzag(varint(&p, &bad));
	if (p > d->end)
		return cut_at(d, err, 1, d->events);
	if (bad)
		return varint_error(d, err, bad, d->events);
	if (v == EVENT_ID_ROOT)
		return derr(d, err, d->events,
			    "ID 0 is the root set and cannot be referenced");
	d->dst_prev = v;
	d->edges_left--;
	d->pos = p;
	memset(ev, 0, sizeof *ev);
	ev->kind = EVENT_SNAP_EDGE;
	ev->id = d->refs_src;
	ev->u.dst = v;
	d->last = *ev;
	return 1;
}

/* A site prefix (0x0f NODE) before an `a` or `r` record: checks NODE and
 * the opcode that follows. Returns the node's index, or 0 after filling
 * err. */
static uint32_t __attribute__((noinline))
site_prefix(struct tracebin_reader *d, const unsigned char **pp,
	    struct ms_error *err)
{
	const unsigned char *p = *pp;
	uint64_t n = d->events + 1, site;
	uint32_t count = sitetab_count(d->rules->sites);
	unsigned bad = 0, op;

	site = varint(&p, &bad);
	op = *p;
	if (p + 1 > d->end) {
		cut(d, err, 1);
		return 0;
	}
	if (bad) {
		varint_error(d, err, bad, n);
		return 0;
	}
	if (site == EVENT_NO_SITE || site >= count) {
		derr(d, err, n, "stack node index %" PRIu64 " is not defined (%" PRIu32
		     " so far)", site, count - 1);
		return 0;
	}
	if (op != TRACEBIN_OP_ALLOC && op != TRACEBIN_OP_ALLOC_TYPE &&
	    op != TRACEBIN_OP_ALLOC_NEW && op != TRACEBIN_OP_RESIZE &&
	    op < TRACEBIN_OP_ALLOC_SHORT) {
		derr(d, err, n, "a site prefix before opcode 0x%02x (only 'a' and 'r' take a site)",
		     op);
		return 0;
	}
	*pp = p;
	return (uint32_t)site;
}

int tracebin_next(struct tracebin_reader *d, struct event *ev,
		  struct ms_error *err)
{
	const unsigned char *p, *name = NULL;
	unsigned op, bad = 0, wrong;
	uint64_t a = 0, b = 0, type = TYPETAB_UNTYPED;
	uint32_t site = EVENT_NO_SITE;
	size_t nlen = 0;
	enum event_kind kind;

top:
	if ((size_t)(d->end - d->pos) < TRACEBIN_RECORD_MAX && !d->eof)
		refill(d);
	if (__builtin_expect(d->in_refs, 0)) {
		int rc = refs_next(d, ev, err);

		if (rc != 0)
			return rc;
		goto top;
	}
	p = d->pos;
	if (p >= d->end)
		return cut(d, err, 0);
	op = *p++;
again:
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
		}
		break;
	case TRACEBIN_OP_END:
		return end_record(d, p, err);
	case TRACEBIN_OP_EXT:
		if (d->version >= 2)
			return ext_record(d, p, ev, err);
		return record_error(d, err, op, 0, 0, 0, 0, NULL, 0);
	case TRACEBIN_OP_SITE_PREFIX:
		/* site_prefix checks that an `a` or `r` follows, so this
		 * goes round once. */
		if (d->version < 2 || site)
			return record_error(d, err, op, 0, 0, 0, 0, NULL, 0);
		if (!(site = site_prefix(d, &p, err)))
			return -1;
		op = *p++;
		goto again;
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
	ev->site = site;
	ev->label = 0;
	return record_done(d, ev);
}

/* ---- decoder: header ---- */

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
	if (head[TRACEBIN_MAGIC_LEN] < 1 || head[TRACEBIN_MAGIC_LEN] > TRACEBIN_VERSION_MAX)
		return derr(d, err, 0, "unsupported binary trace version %u",
			    head[TRACEBIN_MAGIC_LEN]);
	d->version = d->rules->version = head[TRACEBIN_MAGIC_LEN];
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
					     struct trace_rules *rules,
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
	d->rules = rules;
	if (read_header(d, err) < 0) {
		tracebin_reader_close(d);
		return NULL;
	}
	return d;
}

void tracebin_locate(const struct tracebin_reader *d, struct ms_error *err)
{
	struct trace_names names = { d->types, d->rules->sites, d->rules->labels };
	char line[MS_ERROR_TEXT_MAX + 32];
	size_t n;

	ms_error_at(err, d->name, d->events);
	err->in_binary = 1;
	if (!d->events) {
		err->text[0] = '\0';
		return;
	}
	n = tracetext_format(line, sizeof line, &d->last, &names);
	ms_error_text(err, line, n);
}

const char *tracebin_metadata(const struct tracebin_reader *d)
{
	return d->metadata;
}

void tracebin_reader_close(struct tracebin_reader *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d->name);
	free(d->metadata);
	free(d->frame);
	free(d);
}
