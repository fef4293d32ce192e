/*
 * trace.c - streaming reader for the text trace (see trace.h and
 * docs/trace-format.md, which lists every message this file produces).
 *
 * How it reads:
 *  1. The input (a file, or standard input for "-") comes through the
 *     byte source (source.h), which tells plain, gzip and zstd apart by
 *     their first bytes and decompresses, member after member; the reader
 *     asks it for up to TRACE_CHUNK bytes at a time.
 *  2. Text lands in one buffer. `lim` marks the end of the last complete
 *     line in it, so every line the parser sees ends with '\n' in memory:
 *     that newline is the sentinel that lets the field parsers run without
 *     bounds checks (at the end of the input a missing final newline is
 *     supplied in a spare byte). When no complete line is left, the
 *     unconsumed tail moves to the front and more input is read; only a
 *     line longer than the buffer makes it grow, up to TRACE_LINE_MAX.
 *  3. Each line is parsed in place by hand-written scanners: no copy of
 *     the line, no scanf/strtoull, no indirect call per event. Type names
 *     are interned into the reader's typetab.
 *
 * Memory: the buffer (TRACE_CHUNK, more only while a longer line is being
 * read, never more than TRACE_LINE_MAX + 3 bytes), the byte source's
 * input chunk and decoder, the header's metadata text and the type table.
 * Nothing grows with the number of lines.
 *
 * Checks are made in this order on an event line: each field left to
 * right (syntax, then range), then the number of fields, then the rules on
 * values (ID 0, time order). The first problem found is reported.
 *
 * Binary traces (tracebin.h, docs/binary-format.md): once the first bytes
 * (after gunzip) turn out to be TRACEBIN_MAGIC, the reader hands them and
 * its input functions to the binary decoder and forwards trace_next to it
 * (state READ_BINARY); the text path is not involved from then on.
 */
#include "trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "source.h"
#include "tracebin.h"
#include "tracerules.h"
#include "xalloc.h"

#define TRACE_CHUNK ((size_t)1 << 20)          /* bytes per read */
#define TRACE_LINE_MAX ((size_t)16 << 20)      /* bytes, without line end */
#define TRACE_HEADER "#memsim-trace"
#define TRACE_HEADER_LEN (sizeof TRACE_HEADER - 1)
#define TRACE_QUOTE_MAX 40     /* bytes of a field quoted in a message */

enum reader_state { READ_ON, READ_END, READ_FAILED, READ_BINARY };

#define TRACE_TYPE_CACHE 256   /* entries, a power of two */

struct type_cache {
	unsigned char len;      /* 0: empty */
	char name[TYPETAB_NAME_MAX];
	uint32_t index;
};

struct trace_reader {
	/* Buffer: buf[0, cap) holds data, buf[cap] is the spare byte for a
	 * newline supplied after an unterminated last line. Invariants:
	 * buf <= pos <= lim <= end <= buf + cap, and lim == pos or
	 * lim[-1] == '\n'. [pos, lim) are complete unread lines. */
	char *buf;
	size_t cap;             /* bytes */
	char *pos, *lim, *end;
	int in_eof;             /* the input has no more bytes */

	struct source *src;     /* the decompressed bytes */
	char *name;

	enum reader_state state;
	struct ms_error err;    /* repeated after a failure */
	uint64_t lineno;        /* lines consumed so far */

	/* The last event returned, for trace_locate(): its line in the
	 * buffer, or a copy of its start in `saved` once the buffer moved. */
	const char *ev_line;
	size_t ev_len;
	uint64_t ev_lineno;
	char saved[MS_ERROR_TEXT_MAX];

	uint64_t events;
	uint64_t annotations;   /* of them, version-2 kinds (not the clock) */
	uint64_t edges;         /* of those, DSTs of `e` lines (no records) */
	uint64_t last_time;     /* ns */
	int has_time;
	struct typetab *types;
	struct type_cache type_cache[TRACE_TYPE_CACHE];
	char *metadata;
	struct tracebin_reader *bin;    /* a binary trace's decoder, or NULL */

	/* Version 2: the rules that span lines (stack nodes, labels, `g`,
	 * `h`), the marks seen, and what the header's metadata says. */
	struct trace_rules rules;
	struct trace_mark *marks;
	size_t nmarks, marks_cap;
	char gc_text[MS_ERROR_TEXT_MAX]; /* the open `g GEN` line, for the */
	size_t gc_len;                   /* "never closed" error at the end */
	enum trace_level level;
	char *runtime, *recorder;

	/* An `e` line is read one field per call, so that a line of any
	 * length costs no more than the buffer: where it started and what
	 * it holds so far. */
	struct {
		int open;
		uint64_t src;
		uint64_t lineno;
		uint64_t dsts;
		size_t len;                  /* bytes of its start kept in text */
		char text[MS_ERROR_TEXT_MAX];
	} eline;
};

/* ---- errors ---- */

/* Copies up to TRACE_QUOTE_MAX bytes of a field into dst for a message,
 * escaping what is not printable ASCII and marking a cut with "...". */
static void quote_field(char *dst, size_t size, const char *f, size_t len)
{
	ms_error_quote(dst, size, f, len, TRACE_QUOTE_MAX);
}

/* Records a failure: the reader answers -1 with the same error from now. */
static int fail(struct trace_reader *r, struct ms_error *err)
{
	r->state = READ_FAILED;
	r->err = *err;
	return -1;
}

/* Length of the line at `line` without its line end. The line lies in
 * [pos, lim), so its '\n' is in the buffer. */
static size_t line_length(const struct trace_reader *r, const char *line)
{
	const char *nl = memchr(line, '\n', (size_t)(r->lim - line));
	size_t len = (size_t)(nl - line);

	if (len && line[len - 1] == '\r')
		len--;
	return len;
}

/* Fails on the line at `line` (number r->lineno) with a data error. A NUL
 * byte anywhere in the line is reported instead of the given message,
 * since the parsers stop at it and their message would mislead. */
static int line_fail(struct trace_reader *r, struct ms_error *err,
		     const char *line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int line_fail(struct trace_reader *r, struct ms_error *err,
		     const char *line, const char *fmt, ...)
{
	size_t len = line_length(r, line);
	va_list ap;

	ms_error_clear(err);
	if (memchr(line, '\0', len)) {
		ms_error_set(err, MS_EXIT_DATAERR, "NUL byte in line");
	} else {
		va_start(ap, fmt);
		ms_error_vset(err, MS_EXIT_DATAERR, fmt, ap);
		va_end(ap);
	}
	ms_error_at(err, r->name, r->lineno);
	ms_error_text(err, line, len);
	return fail(r, err);
}

/* Fails on line `lineno` whose kept start is text[0, len) (an `e` line,
 * which is not held whole; the line of an open `g`). */
static int text_fail(struct trace_reader *r, struct ms_error *err,
		     uint64_t lineno, const char *text, size_t len,
		     const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int text_fail(struct trace_reader *r, struct ms_error *err,
		     uint64_t lineno, const char *text, size_t len,
		     const char *fmt, ...)
{
	va_list ap;

	ms_error_clear(err);
	va_start(ap, fmt);
	ms_error_vset(err, MS_EXIT_DATAERR, fmt, ap);
	va_end(ap);
	ms_error_at(err, r->name, lineno);
	ms_error_text(err, text, len);
	return fail(r, err);
}

/* Fails without a line: open, read and decompression errors. */
static int stream_fail(struct trace_reader *r, struct ms_error *err,
		       int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int stream_fail(struct trace_reader *r, struct ms_error *err,
		       int code, const char *fmt, ...)
{
	va_list ap;

	ms_error_clear(err);
	va_start(ap, fmt);
	ms_error_vset(err, code, fmt, ap);
	va_end(ap);
	ms_error_at(err, r->name, 0);
	return fail(r, err);
}

/* ---- input ---- */

/* Decompressed input. Returns bytes, 0 at the end, -1 with the reader
 * failed and `err` filled (read, gzip and zstd errors: source.h). */
static ssize_t read_some(struct trace_reader *r, char *dst, size_t n,
			 struct ms_error *err)
{
	ssize_t got = source_read(r->src, dst, n, err);

	if (got < 0)
		fail(r, err);
	return got;
}

static int starts_eline(const struct trace_reader *r);

/* What refill must make available. */
enum want { WANT_LINE, WANT_BYTES };

/*
 * WANT_LINE: makes at least one complete line available in [pos, lim).
 * Returns 1 when there is one, 0 at the end of the input, -1 on error,
 * and 2 when the buffer is full of the start of an `e` line of a
 * version-2 trace, which is read field by field instead of growing the
 * buffer. WANT_BYTES: reads more bytes after the unread ones (an `e`
 * line being read); 1 when some came (lim marks the complete lines among
 * them, if any), 0 at the end. The last event's line is copied to
 * `saved` first, since the buffer is about to move.
 */
static int refill(struct trace_reader *r, struct ms_error *err, enum want want)
{
	size_t keep = (size_t)(r->end - r->pos);

	if (r->ev_line && r->ev_line != r->saved) {
		size_t n = r->ev_len < sizeof r->saved ? r->ev_len : sizeof r->saved;

		memcpy(r->saved, r->ev_line, n);
		r->ev_line = r->saved;
		r->ev_len = n;
	}
	memmove(r->buf, r->pos, keep);
	r->pos = r->lim = r->buf;
	r->end = r->buf + keep;
	for (;;) {
		size_t room = r->cap - (size_t)(r->end - r->buf);
		ssize_t got;
		char *p;

		if (r->in_eof) {
			if (r->end == r->pos)
				return 0;
			*r->end++ = '\n';	/* the spare byte */
			r->lim = r->end;
			return 1;
		}
		if (room == 0) {
			/* One partial line fills the buffer. Without a '\n'
			 * in cap bytes its text is at least cap - 1 bytes long
			 * (a last '\r' may belong to "\r\n"). */
			if (want == WANT_LINE && starts_eline(r))
				return 2;
			if (r->cap - 1 > TRACE_LINE_MAX) {
				r->lineno++;
				ms_error_clear(err);
				ms_error_set(err, MS_EXIT_DATAERR,
					     "line longer than %zu bytes",
					     TRACE_LINE_MAX);
				ms_error_at(err, r->name, r->lineno);
				ms_error_text(err, r->pos, r->cap);
				return fail(r, err);
			}
			r->cap = r->cap * 2 < TRACE_LINE_MAX + 2 ?
				r->cap * 2 : TRACE_LINE_MAX + 2;
			r->buf = xrealloc(r->buf, r->cap + 1);
			r->pos = r->lim = r->buf;
			r->end = r->buf + keep;
			continue;
		}
		got = read_some(r, r->end, room, err);
		if (got < 0)
			return -1;
		if (got == 0) {
			r->in_eof = 1;
			continue;
		}
		/* The last newline of the new bytes ends the complete lines;
		 * it is usually a few bytes from the end. */
		p = r->end + got;
		r->end = p;
		while (p > r->end - got && p[-1] != '\n')
			p--;
		keep = (size_t)(r->end - r->buf);
		if (p > r->end - got) {
			r->lim = p;
			return 1;
		}
		if (want == WANT_BYTES)
			return 1;
	}
}

/* ---- scanners ---- */

/* The parsers below rely on every line ending with '\n' in memory. */

static inline int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* At the line end: "\n" or "\r\n". */
static inline int at_eol(const char *p)
{
	return *p == '\n' || (*p == '\r' && p[1] == '\n');
}

/* At the end of a field: a separator or the line end. */
static inline int at_stop(const char *p)
{
	return is_blank(*p) || at_eol(p);
}

static inline const char *skip_blanks(const char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

static const char *field_end(const char *p)
{
	while (!at_stop(p))
		p++;
	return p;
}

enum scan { SCAN_OK, SCAN_BAD, SCAN_BIG };

/*
 * Scans an unsigned decimal or 0x-hex number at *pp that must end at a
 * separator or the line end. SCAN_BIG: well formed but above 2^64 - 1.
 * On SCAN_OK and SCAN_BIG, *pp moves past the number.
 */
static inline enum scan scan_u64(const char **pp, uint64_t *out)
{
	const unsigned char *p = (const unsigned char *)*pp;
	uint64_t v = 0;
	int big = 0;
	unsigned d;

	if (p[0] == '0' && p[1] == 'x') {
		const unsigned char *digits = p + 2;

		for (p = digits;; p++) {
			d = (unsigned)*p - '0';
			if (d > 9) {
				d = ((unsigned)*p | 0x20) - 'a';
				if (d > 5)
					break;
				d += 10;
			}
			big |= (v >> 60) != 0;
			v = v << 4 | d;
		}
		if (p == digits)
			return SCAN_BAD;
	} else {
		d = (unsigned)*p - '0';
		if (d > 9)
			return SCAN_BAD;
		for (; d <= 9; d = (unsigned)*++p - '0') {
			/* v * 10 + d > 2^64 - 1 = 18446744073709551615 */
			if (v >= UINT64_C(1844674407370955161))
				big |= v > UINT64_C(1844674407370955161) || d > 5;
			v = v * 10 + d;
		}
	}
	if (!at_stop((const char *)p))
		return SCAN_BAD;
	*pp = (const char *)p;
	*out = v;
	return big ? SCAN_BIG : SCAN_OK;
}

static inline int is_type_start(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26 || c == '_';
}

static inline int is_type_char(unsigned char c)
{
	return is_type_start(c) || (unsigned)(c - '0') < 10 || c == '.';
}

/* ---- events ---- */

/* What a field is, for range messages. */
enum field_role { ROLE_ID, ROLE_SIZE, ROLE_TIME, ROLE_GEN };

/* Reports a number field that is not a valid value for its role. Kept out
 * of line so that the callers' fast paths stay small enough to inline. */
static int __attribute__((noinline, cold))
number_error(struct trace_reader *r, struct ms_error *err, const char *line,
	     const char *start, enum scan s, enum field_role role)
{
	char q[TRACE_QUOTE_MAX * 4 + 8];

	quote_field(q, sizeof q, start, (size_t)(field_end(start) - start));
	if (s == SCAN_BAD)
		return line_fail(r, err, line, "bad number '%s'", q);
	switch (role) {
	case ROLE_ID:
		return line_fail(r, err, line, "ID %s does not fit in 64 bits", q);
	case ROLE_SIZE:
		return line_fail(r, err, line,
				 "size %s exceeds the 48-bit limit", q);
	case ROLE_TIME:
		return line_fail(r, err, line, "time %s does not fit in 64 bits", q);
	case ROLE_GEN:
		break;
	}
	return line_fail(r, err, line, "generation %s does not fit in 64 bits", q);
}

/*
 * Parses one number field at *pp (after the previous field). Returns 1 and
 * moves *pp past it; 0 if the line ends first (the caller reports the
 * field count); -1 after reporting a bad or out-of-range number.
 */
static inline __attribute__((always_inline)) int
number_field(struct trace_reader *r, struct ms_error *err, const char *line,
	     const char **pp, enum field_role role, uint64_t *out)
{
	const char *p = skip_blanks(*pp);
	const char *start = p;
	enum scan s;

	if (at_eol(p))
		return 0;
	s = scan_u64(&p, out);
	if (s == SCAN_OK && (role != ROLE_SIZE || *out <= EVENT_SIZE_MAX)) {
		*pp = p;
		return 1;
	}
	return number_error(r, err, line, start, s, role);
}

static int __attribute__((noinline, cold))
type_error(struct trace_reader *r, struct ms_error *err, const char *line,
	   const char *start, size_t len)
{
	char q[TRACE_QUOTE_MAX * 4 + 8];

	if (len > TYPETAB_NAME_MAX)
		return line_fail(r, err, line,
				 "type name longer than %d characters",
				 TYPETAB_NAME_MAX);
	quote_field(q, sizeof q, start, (size_t)(field_end(start) - start));
	return line_fail(r, err, line, "bad type name '%s'", q);
}

/*
 * Interns a type name through a small direct-mapped cache: a trace names
 * a few dozen types millions of times, and the cache answers with a short
 * memcmp where typetab_intern would hash and compare every time.
 */
static inline uint32_t intern_type(struct trace_reader *r, const char *name,
				   size_t len, uint32_t hash)
{
	struct type_cache *c = &r->type_cache[(hash ^ (uint32_t)len) &
					      (TRACE_TYPE_CACHE - 1)];

	if (c->len == len && memcmp(c->name, name, len) == 0)
		return c->index;
	c->index = typetab_intern(r->types, name, len);
	c->len = (unsigned char)len;
	memcpy(c->name, name, len);
	return c->index;
}

/* Parses the optional TYPE of `a` at *pp. Returns 1 (type or none), -1
 * after reporting a bad name. */
static inline __attribute__((always_inline)) int
type_field(struct trace_reader *r, struct ms_error *err, const char *line,
	   const char **pp, uint32_t *type)
{
	const char *p = skip_blanks(*pp);
	const char *start = p;
	uint32_t hash = 0;

	*type = TYPETAB_UNTYPED;
	if (at_eol(p) || *p == '^')     /* no TYPE; perhaps a ^SITE */
		return 1;
	if (is_type_start((unsigned char)*p)) {
		do
			hash = hash * 33 + (unsigned char)*p++;
		while (is_type_char((unsigned char)*p));
		if (at_stop(p) && p - start <= TYPETAB_NAME_MAX) {
			*type = intern_type(r, start, (size_t)(p - start), hash);
			*pp = p;
			return 1;
		}
		if (at_stop(p))
			return type_error(r, err, line, start,
					  (size_t)(p - start));
	}
	return type_error(r, err, line, start, 0);
}

/* A ^SITE field that is not a decimal SITE, or is in a version-1 trace. */
static int __attribute__((noinline, cold))
site_syntax_error(struct trace_reader *r, struct ms_error *err, const char *line,
		  const char *start, enum scan s)
{
	char q[TRACE_QUOTE_MAX * 4 + 8];

	quote_field(q, sizeof q, start, (size_t)(field_end(start) - start));
	if (r->rules.version < 2)
		return line_fail(r, err, line, "version-2 field '%s' in a version-1 trace", q);
	if (s == SCAN_BIG)
		return line_fail(r, err, line, "SITE %s does not fit in 64 bits", q + 1);
	return line_fail(r, err, line, "bad site '%s' (a '^' and a decimal SITE)", q);
}

/*
 * Scans a decimal number at *pp (no 0x form: SITE and PARENT are decimal,
 * docs/trace-format.md) that must end at a separator or the line end.
 */
static enum scan scan_decimal(const char **pp, uint64_t *out)
{
	const char *p = *pp;

	if (p[0] == '0' && p[1] == 'x')
		return SCAN_BAD;
	return scan_u64(pp, out);
}

/* Parses an optional ^SITE at *pp into *site (the sitetab index,
 * EVENT_NO_SITE when absent). Returns 1, or -1 after reporting. */
static int __attribute__((noinline))
site_field(struct trace_reader *r, struct ms_error *err,
	   const char *line, const char **pp, uint32_t *site)
{
	const char *p = skip_blanks(*pp), *start = p;
	char msg[TRACERULES_MSG_MAX];
	uint64_t number;
	enum scan s;

	*site = EVENT_NO_SITE;
	if (*p != '^')
		return 1;
	p++;
	s = r->rules.version < 2 ? SCAN_BAD : scan_decimal(&p, &number);
	if (s != SCAN_OK)
		return site_syntax_error(r, err, line, start, s);
	if (tracerules_use_site(&r->rules, number, site, msg, sizeof msg))
		return line_fail(r, err, line, "%s", msg);
	*pp = p;
	return 1;
}

/* Usage of each event letter, for field-count messages. */
static const char *const usage[EVENT_KIND_COUNT] = {
	[EVENT_ALLOC] = "'a' needs ID SIZE [TYPE]",
	[EVENT_FREE] = "'f' needs ID",
	[EVENT_RESIZE] = "'r' needs ID SIZE",
	[EVENT_REF_ADD] = "'+' needs SRC DST",
	[EVENT_REF_DROP] = "'-' needs SRC DST",
	[EVENT_COLLECT] = "'c' takes at most one field (GEN)",
	[EVENT_SAFEPOINT] = "'s' takes no fields",
	[EVENT_TIME] = "'@' needs T",
	[EVENT_SITE] = "'k' needs SITE PARENT FRAME",
	[EVENT_MARK] = "'m' needs LABEL",
	[EVENT_GC_BEGIN] = "'g' takes at most one field (GEN)",
	[EVENT_GC_END] = "'g' takes at most one field (GEN)",
	[EVENT_SNAPSHOT] = "'h' takes no fields",
	[EVENT_SNAP_REFS] = "'e' needs SRC DST...",
	[EVENT_SNAP_EDGE] = "'e' needs SRC DST...",
};

/* In a version-2 trace `a` and `r` may end with ^SITE. */
static const char *usage_of(const struct trace_reader *r, enum event_kind kind)
{
	if (r->rules.version >= 2 && kind == EVENT_ALLOC)
		return "'a' needs ID SIZE [TYPE] [^SITE]";
	if (r->rules.version >= 2 && kind == EVENT_RESIZE)
		return "'r' needs ID SIZE [^SITE]";
	return usage[kind];
}

static int is_header(const char *line, size_t len)
{
	return len >= TRACE_HEADER_LEN &&
	       memcmp(line, TRACE_HEADER, TRACE_HEADER_LEN) == 0 &&
	       (len == TRACE_HEADER_LEN || is_blank(line[TRACE_HEADER_LEN]));
}

/* ---- version 2 lines ---- */

/* Records a mark: the version-1 events before it and the time now. */
static void note_mark(struct trace_reader *r, uint32_t label)
{
	if (r->nmarks == r->marks_cap) {
		r->marks_cap = r->marks_cap ? r->marks_cap * 2 : 16;
		r->marks = xreallocarray(r->marks, r->marks_cap, sizeof *r->marks);
	}
	r->marks[r->nmarks++] = (struct trace_mark){
		/* the mark is counted among the annotations, not yet among
		 * the events */
		.event = r->events - (r->annotations - 1), .time = r->last_time,
		.label = label,
	};
}

/* The number of the record being read (lines but comments and blank
 * ones; an `e` line is one record), for tracerules_record. */
static uint64_t record_no(const struct trace_reader *r)
{
	return r->events - r->edges + 1;
}

/* A SITE or PARENT field of `k` (decimal). 1, 0 at the line end, -1
 * after reporting. */
static int node_field(struct trace_reader *r, struct ms_error *err,
		      const char *line, const char **pp, const char *what,
		      uint64_t *out)
{
	const char *p = skip_blanks(*pp), *start = p;
	char q[TRACE_QUOTE_MAX * 4 + 8];
	enum scan s;

	if (at_eol(p))
		return 0;
	s = scan_decimal(&p, out);
	if (s == SCAN_OK) {
		*pp = p;
		return 1;
	}
	quote_field(q, sizeof q, start, (size_t)(field_end(start) - start));
	if (s == SCAN_BIG)
		return line_fail(r, err, line, "%s %s does not fit in 64 bits", what, q);
	return line_fail(r, err, line, "bad %s '%s' (stack node numbers are decimal)",
			 what, q);
}

/* A token field at *pp: its start and length, 0 at the line end. */
static size_t token_field(const char **pp, const char **start)
{
	const char *p = skip_blanks(*pp);

	*start = p;
	if (at_eol(p))
		return 0;
	*pp = field_end(p);
	return (size_t)(*pp - p);
}

static const char *v2_fail(struct trace_reader *r, struct ms_error *err,
			   const char *line, const char *msg)
{
	line_fail(r, err, line, "%s", msg);
	return NULL;
}

/* `k SITE PARENT FRAME`. */
static const char *parse_site(struct trace_reader *r, struct ms_error *err,
			      const char *line, const char *p, struct event *ev)
{
	char msg[TRACERULES_MSG_MAX];
	const char *frame;
	size_t n;
	int got;

	if ((got = node_field(r, err, line, &p, "SITE", &ev->id)) <= 0 ||
	    (got = node_field(r, err, line, &p, "PARENT", &ev->u.parent)) <= 0)
		return got < 0 ? NULL : v2_fail(r, err, line, usage[EVENT_SITE]);
	if (!(n = token_field(&p, &frame)))
		return v2_fail(r, err, line, usage[EVENT_SITE]);
	if (sitetab_frame_error(frame, n, msg, sizeof msg))
		return v2_fail(r, err, line, msg);
	p = skip_blanks(p);
	if (!at_eol(p))
		return v2_fail(r, err, line,
			       "'k' needs SITE PARENT FRAME (a space in FRAME is written %20)");
	if (tracerules_record(&r->rules, EVENT_SITE, NULL, record_no(r), r->lineno, msg, sizeof msg) ||
	    tracerules_site(&r->rules, ev->id, ev->u.parent, frame, n, &ev->site,
			    msg, sizeof msg))
		return v2_fail(r, err, line, msg);
	return p;
}

/* `m LABEL`. */
static const char *parse_mark(struct trace_reader *r, struct ms_error *err,
			      const char *line, const char *p, struct event *ev)
{
	char msg[TRACERULES_MSG_MAX];
	const char *label;
	size_t n;

	if (!(n = token_field(&p, &label)))
		return v2_fail(r, err, line, usage[EVENT_MARK]);
	if (tracerules_mark(&r->rules, label, n, &ev->label, msg, sizeof msg))
		return v2_fail(r, err, line, msg);
	p = skip_blanks(p);
	if (!at_eol(p))
		return v2_fail(r, err, line, usage[EVENT_MARK]);
	if (tracerules_record(&r->rules, EVENT_MARK, NULL, record_no(r), r->lineno, msg, sizeof msg))
		return v2_fail(r, err, line, msg);
	note_mark(r, ev->label);
	return p;
}

/* `g GEN` (a recorded collection begins) or `g` (it ends). */
static const char *parse_gc(struct trace_reader *r, struct ms_error *err,
			    const char *line, const char *p, struct event *ev)
{
	char msg[TRACERULES_MSG_MAX];
	int got = number_field(r, err, line, &p, ROLE_GEN, &ev->u.gen);

	if (got < 0)
		return NULL;
	p = skip_blanks(p);
	if (!at_eol(p))
		return v2_fail(r, err, line, usage[EVENT_GC_BEGIN]);
	ev->kind = got ? EVENT_GC_BEGIN : EVENT_GC_END;
	if (tracerules_record(&r->rules, ev->kind, &ev->u.gen, record_no(r), r->lineno,
			      msg, sizeof msg))
		return v2_fail(r, err, line, msg);
	if (ev->kind == EVENT_GC_BEGIN) {
		r->gc_len = line_length(r, line);
		if (r->gc_len > sizeof r->gc_text)
			r->gc_len = sizeof r->gc_text;
		memcpy(r->gc_text, line, r->gc_len);
	}
	return p;
}

/*
 * The version-2 lines but `e` of a version-2 trace (trace_next reads
 * those); in a version-1 trace, any of them is an error. As parse_event:
 * the line's end on success, NULL after reporting. `p` is at the letter.
 */
static const char *__attribute__((noinline))
parse_v2(struct trace_reader *r, struct ms_error *err, const char *line,
	 const char *p, struct event *ev)
{
	char msg[TRACERULES_MSG_MAX];
	char letter = *p++;

	memset(ev, 0, sizeof *ev);
	r->annotations++;       /* undone by no one: an error ends the trace */
	if (r->rules.version < 2) {
		snprintf(msg, sizeof msg, "version-2 line '%c' in a version-1 trace", letter);
		return v2_fail(r, err, line, msg);
	}
	switch (letter) {
	case 'k':
		ev->kind = EVENT_SITE;
		return parse_site(r, err, line, p, ev);
	case 'm':
		ev->kind = EVENT_MARK;
		return parse_mark(r, err, line, p, ev);
	case 'g':
		return parse_gc(r, err, line, p, ev);
	case 'e':       /* with fields, trace_next reads it */
		return v2_fail(r, err, line, usage[EVENT_SNAP_REFS]);
	default:        /* 'h' */
		ev->kind = EVENT_SNAPSHOT;
		p = skip_blanks(p);
		if (!at_eol(p))
			return v2_fail(r, err, line, usage[EVENT_SNAPSHOT]);
		if (tracerules_record(&r->rules, EVENT_SNAPSHOT, NULL, record_no(r),
				      r->lineno, msg, sizeof msg))
			return v2_fail(r, err, line, msg);
		return p;
	}
}

/*
 * Parses the event on the line at `line` into *ev. Returns a pointer to
 * the line's end ('\r' or '\n') on success, NULL after reporting an error.
 * `p` is the first non-blank character of the line.
 */
static inline __attribute__((always_inline)) const char *parse_event(struct trace_reader *r,
				      struct ms_error *err, const char *line,
				      const char *p, struct event *ev)
{
	enum event_kind kind;
	uint64_t a = 0, b = 0;
	uint32_t type = TYPETAB_UNTYPED, site = EVENT_NO_SITE;
	int got = 0;

	switch (*p) {
	case 'a': kind = EVENT_ALLOC; break;
	case 'f': kind = EVENT_FREE; break;
	case 'r': kind = EVENT_RESIZE; break;
	case '+': kind = EVENT_REF_ADD; break;
	case '-': kind = EVENT_REF_DROP; break;
	case 'c': kind = EVENT_COLLECT; break;
	case 's': kind = EVENT_SAFEPOINT; break;
	case '@': kind = EVENT_TIME; break;
	case 'k': case 'm': case 'g': case 'h': case 'e':
		if (!at_stop(p + 1))
			goto unknown;
		return parse_v2(r, err, line, p, ev);
	default: goto unknown;
	}
	p++;
	if (!at_stop(p))
		goto unknown;

	switch (kind) {
	case EVENT_ALLOC:
		if ((got = number_field(r, err, line, &p, ROLE_ID, &a)) <= 0 ||
		    (got = number_field(r, err, line, &p, ROLE_SIZE, &b)) <= 0)
			goto count_or_fail;
		if (type_field(r, err, line, &p, &type) < 0)
			return NULL;
		if (__builtin_expect(*skip_blanks(p) == '^', 0) &&
		    site_field(r, err, line, &p, &site) < 0)
			return NULL;
		break;
	case EVENT_FREE:
	case EVENT_RESIZE:
		if ((got = number_field(r, err, line, &p, ROLE_ID, &a)) <= 0)
			goto count_or_fail;
		if (kind == EVENT_RESIZE &&
		    ((got = number_field(r, err, line, &p, ROLE_SIZE, &b)) <= 0 ||
		     (*skip_blanks(p) == '^' &&
		      site_field(r, err, line, &p, &site) < 0)))
			goto count_or_fail;
		break;
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		if ((got = number_field(r, err, line, &p, ROLE_ID, &a)) <= 0 ||
		    (got = number_field(r, err, line, &p, ROLE_ID, &b)) <= 0)
			goto count_or_fail;
		break;
	case EVENT_COLLECT:
		b = EVENT_GEN_DEFAULT;
		if (number_field(r, err, line, &p, ROLE_GEN, &b) < 0)
			return NULL;
		break;
	case EVENT_SAFEPOINT:
		break;
	case EVENT_TIME:
		if ((got = number_field(r, err, line, &p, ROLE_TIME, &b)) <= 0)
			goto count_or_fail;
		break;
	default:        /* the version-2 kinds are parse_v2's */
		goto unknown;
	}
	p = skip_blanks(p);
	if (!at_eol(p)) {
		line_fail(r, err, line, "%s", usage_of(r, kind));
		return NULL;
	}

	switch (kind) {
	case EVENT_ALLOC:
	case EVENT_FREE:
	case EVENT_RESIZE:
		if (a == EVENT_ID_ROOT) {
			line_fail(r, err, line,
				  "ID 0 is the root set and cannot be %s",
				  kind == EVENT_ALLOC ? "allocated" :
				  kind == EVENT_FREE ? "freed" : "resized");
			return NULL;
		}
		break;
	case EVENT_REF_ADD:
	case EVENT_REF_DROP:
		if (b == EVENT_ID_ROOT) {
			line_fail(r, err, line,
				  "ID 0 is the root set and cannot be referenced");
			return NULL;
		}
		break;
	case EVENT_TIME:
		if (b < r->last_time) {
			line_fail(r, err, line,
				  "time goes backwards (%" PRIu64 " after %" PRIu64 ")",
				  b, r->last_time);
			return NULL;
		}
		r->last_time = b;
		r->has_time = 1;
		break;
	default:
		break;
	}
	ev->kind = kind;
	ev->type = type;
	ev->id = a;
	ev->u.size = b;
	ev->site = site;
	ev->label = 0;
	return p;

count_or_fail:
	if (got == 0)
		line_fail(r, err, line, "%s", usage_of(r, kind));
	return NULL;

unknown:
	{
		const char *start = line;
		char q[TRACE_QUOTE_MAX * 4 + 8];

		while (is_blank(*start))
			start++;
		quote_field(q, sizeof q, start,
			    (size_t)(field_end(start) - start));
		line_fail(r, err, line, "unknown event '%s'", q);
		return NULL;
	}
}

/* ---- `e` lines, read one field per call ---- */

/* Whether the unread bytes [pos, end) begin an `e` line of a version-2
 * trace (blanks, 'e', a blank). */
static int starts_eline(const struct trace_reader *r)
{
	const char *p = r->pos;

	if (r->rules.version < 2)
		return 0;
	while (p < r->end && is_blank(*p))
		p++;
	return p + 1 < r->end && p[0] == 'e' && is_blank(p[1]);
}

/* Fails on the `e` line being read, quoting its start. */
#define eline_fail(r, err, ...) \
	text_fail((r), (err), (r)->eline.lineno, (r)->eline.text, (r)->eline.len, \
		  __VA_ARGS__)

/*
 * Finds the next field of the `e` line at pos: 1 with *start at a field
 * that ends inside the buffer (at a separator or the line end, so the
 * scanners' sentinel rule holds), 0 at the end of the line (consumed),
 * -1 on a read error. The line's end need not be in the buffer: when it
 * is not (lim == pos), bytes are read until the field's end is.
 */
static int eline_field(struct trace_reader *r, struct ms_error *err,
		       const char **start)
{
	for (;;) {
		const char *p = r->pos, *q;
		int got;

		if (r->lim > r->pos) {          /* the line ends in the buffer */
			p = skip_blanks(p);
			if (at_eol(p)) {
				r->pos = (char *)p + (*p == '\r') + 1;
				return 0;
			}
			r->pos = (char *)p;
			*start = p;
			return 1;
		}
		while (p < r->end && is_blank(*p))
			p++;
		r->pos = (char *)p;
		for (q = p; q < r->end && !is_blank(*q); q++)
			;
		if (q < r->end) {               /* ends at a blank */
			*start = p;
			return 1;
		}
		got = refill(r, err, WANT_BYTES);
		if (got < 0)
			return -1;
		if (got == 0)
			return 0;               /* the input ended after blanks */
	}
}

/* A number field of the `e` line at `start` (ending at a stop): 1 with
 * *v, or -1 after reporting. */
static int eline_number(struct trace_reader *r, struct ms_error *err,
			const char *start, uint64_t *v)
{
	const char *p = start;
	char q[TRACE_QUOTE_MAX * 4 + 8];
	enum scan s = scan_u64(&p, v);
	size_t n = (size_t)(field_end(start) - start);

	if (s == SCAN_OK) {
		r->pos = (char *)p;
		return 1;
	}
	if (memchr(start, '\0', n))
		return eline_fail(r, err, "NUL byte in line");
	quote_field(q, sizeof q, start, n);
	if (s == SCAN_BIG)
		return eline_fail(r, err, "ID %s does not fit in 64 bits", q);
	return eline_fail(r, err, "bad number '%s'", q);
}

/* Returns an event of the `e` line being read and locates it there. */
static int eline_event(struct trace_reader *r, struct event *ev,
		       enum event_kind kind, uint64_t dst)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = kind;
	ev->id = r->eline.src;
	ev->u.dst = dst;
	r->ev_line = r->eline.text;
	r->ev_len = r->eline.len;
	r->ev_lineno = r->eline.lineno;
	r->events++;
	r->annotations++;
	r->edges += kind == EVENT_SNAP_EDGE;
	return 1;
}

/*
 * Starts the `e` line at `line` (number r->lineno; its end may lie beyond
 * the buffer): keeps its start for messages, reads SRC and checks that a
 * snapshot is open. Returns 1 with the EVENT_SNAP_REFS in *ev, -1 on error.
 */
static int eline_start(struct trace_reader *r, struct ms_error *err,
		       const char *line, struct event *ev)
{
	char msg[TRACERULES_MSG_MAX];
	size_t n = r->lim > line ? line_length(r, line) : (size_t)(r->end - line);
	const char *start;
	uint64_t src;
	int rc;

	r->eline.len = n < sizeof r->eline.text ? n : sizeof r->eline.text;
	memcpy(r->eline.text, line, r->eline.len);
	r->eline.lineno = r->lineno;
	r->pos = (char *)skip_blanks(line) + 1;         /* past the 'e' */
	if ((rc = eline_field(r, err, &start)) <= 0)
		return rc < 0 ? -1 : eline_fail(r, err, "%s", usage[EVENT_SNAP_REFS]);
	if (eline_number(r, err, start, &src) < 0)
		return -1;
	if (tracerules_record(&r->rules, EVENT_SNAP_REFS, NULL, record_no(r),
			      r->lineno, msg, sizeof msg))
		return eline_fail(r, err, "%s", msg);
	r->eline.open = 1;
	r->eline.src = src;
	r->eline.dsts = 0;
	return eline_event(r, ev, EVENT_SNAP_REFS, 0);
}

/* The next DST of the open `e` line: 1 with an EVENT_SNAP_EDGE, 0 when
 * the line has ended, -1 on error. */
static int eline_next(struct trace_reader *r, struct ms_error *err,
		      struct event *ev)
{
	const char *start;
	uint64_t dst;
	int rc = eline_field(r, err, &start);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		r->eline.open = 0;
		if (r->eline.dsts == 0)
			return eline_fail(r, err, "%s", usage[EVENT_SNAP_REFS]);
		return 0;
	}
	if (eline_number(r, err, start, &dst) < 0)
		return -1;
	if (dst == EVENT_ID_ROOT)
		return eline_fail(r, err, "ID 0 is the root set and cannot be referenced");
	r->eline.dsts++;
	return eline_event(r, ev, EVENT_SNAP_EDGE, dst);
}

/* ---- the reading loop ---- */

/* The end of a text trace: a recorded collection still open is an error,
 * located at its `g GEN` line. */
static int text_end(struct trace_reader *r, struct ms_error *err)
{
	char msg[TRACERULES_MSG_MAX];
	uint64_t where;

	if (tracerules_end(&r->rules, &where, msg, sizeof msg))
		return text_fail(r, err, where, r->gc_text, r->gc_len, "%s", msg);
	r->state = READ_END;
	return 0;
}

/* trace_next for a binary trace: the decoder, with the reader's stickiness. */
static int __attribute__((noinline))
binary_next(struct trace_reader *r, struct event *ev, struct ms_error *err)
{
	int rc = tracebin_next(r->bin, ev, err);

	if (rc > 0) {
		if (__builtin_expect(ev->kind >= EVENT_TIME, 0)) {
			if (ev->kind == EVENT_TIME) {
				r->last_time = ev->u.time;
				r->has_time = 1;
			} else {
				r->annotations++;
				if (ev->kind == EVENT_MARK)
					note_mark(r, ev->label);
			}
		}
		r->events++;
		return 1;
	}
	if (rc == 0)
		r->state = READ_END;
	else
		fail(r, err);
	return rc;
}

int trace_next(struct trace_reader *r, struct event *ev, struct ms_error *err)
{
	if (r->state != READ_ON) {
		if (r->state == READ_BINARY)
			return binary_next(r, ev, err);
		if (r->state == READ_FAILED) {
			*err = r->err;
			return -1;
		}
		return 0;
	}
	if (__builtin_expect(r->eline.open, 0)) {
		int rc = eline_next(r, err, ev);

		if (rc != 0)
			return rc;
	}
	for (;;) {
		const char *line = r->pos;
		const char *p;

		if (line == r->lim) {
			int got = refill(r, err, WANT_LINE);

			if (got == 2) {         /* a long `e` line */
				r->lineno++;
				return eline_start(r, err, r->pos, ev);
			}
			if (got <= 0)
				return got < 0 ? -1 : text_end(r, err);
			continue;
		}
		r->lineno++;
		p = skip_blanks(line);
		if (*p == '#' && p == line) {
			/* A comment: any bytes but NUL, within the length limit. */
			const char *nl = memchr(p, '\n', (size_t)(r->lim - p));
			size_t len = line_length(r, line);

			if (memchr(line, '\0', len))
				return line_fail(r, err, line, "NUL byte in line");
			if (len > TRACE_LINE_MAX)
				return line_fail(r, err, line,
						 "line longer than %zu bytes",
						 TRACE_LINE_MAX);
			if (is_header(line, len))
				return line_fail(r, err, line,
						 "header allowed only on line 1");
			r->pos = (char *)nl + 1;
			continue;
		}
		if (at_eol(p)) {
			r->pos = (char *)p + (*p == '\r') + 1;
			continue;
		}
		if (*p == 'e' && is_blank(p[1]) && r->rules.version >= 2)
			return eline_start(r, err, line, ev);
		p = parse_event(r, err, line, p, ev);
		if (!p)
			return -1;
		if ((size_t)(p - line) > TRACE_LINE_MAX)
			return line_fail(r, err, line, "line longer than %zu bytes",
					 TRACE_LINE_MAX);
		r->ev_line = line;
		r->ev_len = (size_t)(p - line);
		r->ev_lineno = r->lineno;
		r->pos = (char *)p + (*p == '\r') + 1;
		r->events++;
		return 1;
	}
}

/* ---- header and open ---- */

/* A string value of the metadata, or NULL. */
static char *meta_string(const cJSON *json, const char *key, int *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);

	*bad = v && !cJSON_IsString(v);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/*
 * Reads the metadata keys the replay uses (docs/trace-format.md,
 * "Metadata"): "level", "runtime", "recorder". In a version-2 trace a
 * value of the wrong kind is an error (returns 1 with msg); a version-1
 * trace predates them, so there they are taken when well formed and
 * otherwise ignored, as unknown keys are.
 */
static int meta_keys(struct trace_reader *r, const cJSON *json, char *msg,
		     size_t size)
{
	int bad_level, bad_runtime, bad_recorder;
	char *level = meta_string(json, "level", &bad_level);
	int v2 = r->rules.version >= 2;

	r->runtime = meta_string(json, "runtime", &bad_runtime);
	r->recorder = meta_string(json, "recorder", &bad_recorder);
	if (level && strcmp(level, "object") == 0)
		r->level = TRACE_LEVEL_OBJECT;
	else if (level && strcmp(level, "allocator") == 0)
		r->level = TRACE_LEVEL_ALLOCATOR;
	else if (level)
		bad_level = 1;
	free(level);
	if (v2 && bad_level) {
		snprintf(msg, size,
			 "metadata \"level\" must be \"object\" or \"allocator\"");
		return 1;
	}
	if (v2 && (bad_runtime || bad_recorder)) {
		snprintf(msg, size, "metadata \"%s\" must be a string",
			 bad_runtime ? "runtime" : "recorder");
		return 1;
	}
	if (bad_level)
		r->level = TRACE_LEVEL_UNKNOWN;
	return 0;
}

/*
 * Checks a first line that starts like a header: "#memsim-trace 1",
 * optionally followed by one space and a JSON object, kept as metadata.
 * Trailing blanks after the version or the object are ignored.
 */
static int parse_header(struct trace_reader *r, struct ms_error *err,
			const char *line, size_t len)
{
	const char *p = line + TRACE_HEADER_LEN, *ver;
	const char *stop = line + len;
	char q[TRACE_QUOTE_MAX * 4 + 8];
	uint64_t version;
	cJSON *json;
	const char *json_end;
	char msg[128];
	int rc;

	while (stop > p && is_blank(stop[-1]))
		stop--;
	if (p == stop || *p != ' ' || is_blank(p[1]))
		goto malformed;
	ver = ++p;
	while (p < stop && !is_blank(*p))
		p++;
	switch (scan_u64(&ver, &version)) {
	case SCAN_BAD:
		ver = line + TRACE_HEADER_LEN + 1;
		quote_field(q, sizeof q, ver, (size_t)(p - ver));
		return line_fail(r, err, line, "bad trace version '%s'", q);
	case SCAN_BIG:
		version = 0;
		break;
	case SCAN_OK:
		break;
	}
	if (version < 1 || version > TRACE_VERSION_MAX) {
		ver = line + TRACE_HEADER_LEN + 1;
		quote_field(q, sizeof q, ver, (size_t)(p - ver));
		return line_fail(r, err, line, "unsupported trace version %s", q);
	}
	r->rules.version = (unsigned)version;
	if (p == stop)
		return 0;
	if (*p != ' ' || is_blank(p[1]))
		goto malformed;
	p++;
	if (memchr(p, '\0', (size_t)(stop - p)))
		return line_fail(r, err, line, "NUL byte in line");
	r->metadata = xmalloc((size_t)(stop - p) + 1);
	memcpy(r->metadata, p, (size_t)(stop - p));
	r->metadata[stop - p] = '\0';
	json = cJSON_ParseWithOpts(r->metadata, &json_end, 1);
	if (!json)
		return line_fail(r, err, line, "metadata is not valid JSON");
	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return line_fail(r, err, line, "metadata is not a JSON object");
	}
	rc = meta_keys(r, json, msg, sizeof msg);
	cJSON_Delete(json);
	return rc ? line_fail(r, err, line, "%s", msg) : 0;

malformed:
	return line_fail(r, err, line,
			 "malformed header; expected '#memsim-trace 1' and an optional JSON object");
}

/* The binary decoder's input: the reader's decompressed byte stream (source.h). */
static ssize_t binary_read(void *ctx, void *dst, size_t n, struct ms_error *err)
{
	struct trace_reader *r = ctx;
	ssize_t got = read_some(r, dst, n, err);

	if (got < 0)
		r->state = READ_BINARY;	/* read_* marked it failed: the
					 * decoder reports it in order */
	return got;
}

/*
 * Called with the first line(s) in [pos, end): when they begin with the
 * binary magic (reading a few more bytes if they are only a prefix of
 * it), starts the binary decoder. Returns 1 for binary, 0 for text, -1 on
 * error.
 */
static int start_binary(struct trace_reader *r, struct ms_error *err)
{
	int is_bin;

	while ((is_bin = tracebin_magic(r->pos, (size_t)(r->end - r->pos))) < 0 &&
	       !r->in_eof) {
		ssize_t got = read_some(r, r->end,
					r->cap - (size_t)(r->end - r->buf), err);

		if (got < 0)
			return -1;
		if (got == 0)
			r->in_eof = 1;
		r->end += got;
	}
	if (is_bin <= 0) {
		/* Text after all: re-find the last complete line. */
		r->lim = r->end;
		while (r->lim > r->pos && r->lim[-1] != '\n')
			r->lim--;
		if (r->lim == r->pos && r->end > r->pos && refill(r, err, WANT_LINE) < 0)
			return -1;
		return 0;
	}
	r->bin = tracebin_reader_open(r->name, r->types, &r->rules, r->pos,
				      (size_t)(r->end - r->pos), binary_read, r, err);
	if (!r->bin)
		return fail(r, err);
	r->pos = r->lim = r->end;
	r->state = READ_BINARY;
	if (tracebin_metadata(r->bin)) {
		char msg[128];
		cJSON *json;
		int bad;

		r->metadata = xstrdup(tracebin_metadata(r->bin));
		json = cJSON_Parse(r->metadata);        /* checked by the decoder */
		bad = meta_keys(r, json, msg, sizeof msg);
		cJSON_Delete(json);
		if (bad)
			return stream_fail(r, err, MS_EXIT_DATAERR, "%s", msg);
	}
	return 1;
}

/* Reads the first lines, tells binary from text, and consumes a header
 * on line 1. Returns 0 or -1. */
static int start(struct trace_reader *r, struct ms_error *err)
{
	size_t len;
	int got = refill(r, err, WANT_LINE);

	if (got <= 0)
		return got;
	if ((unsigned char)*r->pos == (unsigned char)TRACEBIN_MAGIC[0]) {
		int bin = start_binary(r, err);

		if (bin != 0)
			return bin < 0 ? -1 : 0;
		if (r->lim == r->pos)
			return 0;
	}
	len = line_length(r, r->pos);
	if (!is_header(r->pos, len))
		return 0;
	r->lineno = 1;
	if (len > TRACE_LINE_MAX)
		return line_fail(r, err, r->pos, "line longer than %zu bytes",
				 TRACE_LINE_MAX);
	if (parse_header(r, err, r->pos, len) < 0)
		return -1;
	r->pos = (char *)memchr(r->pos, '\n', (size_t)(r->lim - r->pos)) + 1;
	return 0;
}

struct trace_reader *trace_open(const char *path, struct ms_error *err)
{
	struct trace_reader *r;
	struct source *src = source_open(path, err);

	if (!src)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->src = src;
	r->name = xstrdup(source_name(src));
	r->cap = TRACE_CHUNK;
	r->buf = xmalloc(r->cap + 1);
	r->pos = r->lim = r->end = r->buf;
	r->types = typetab_create();
	tracerules_init(&r->rules, 1, 1);
	if (start(r, err) < 0)
		goto fail;
	return r;
fail:
	trace_close(r);
	return NULL;
}

void trace_close(struct trace_reader *r)
{
	if (!r)
		return;
	source_close(r->src);
	free(r->buf);
	free(r->name);
	free(r->metadata);
	tracebin_reader_close(r->bin);
	typetab_destroy(r->types);
	tracerules_free(&r->rules);
	free(r->marks);
	free(r->runtime);
	free(r->recorder);
	free(r);
}

/* ---- accessors ---- */

void trace_locate(const struct trace_reader *r, struct ms_error *err)
{
	if (r->bin) {
		tracebin_locate(r->bin, err);
		return;
	}
	ms_error_at(err, r->name, r->ev_lineno);
	ms_error_text(err, r->ev_line ? r->ev_line : "", r->ev_len);
}

const char *trace_name(const struct trace_reader *r)
{
	return r->name;
}

const struct typetab *trace_types(const struct trace_reader *r)
{
	return r->types;
}

const char *trace_metadata(const struct trace_reader *r)
{
	return r->metadata;
}

int trace_has_time(const struct trace_reader *r)
{
	return r->has_time;
}

unsigned trace_version(const struct trace_reader *r)
{
	return r->rules.version;
}

const struct sitetab *trace_sites(const struct trace_reader *r)
{
	return r->rules.sites;
}

const struct typetab *trace_labels(const struct trace_reader *r)
{
	return r->rules.labels;
}

const struct trace_mark *trace_marks(const struct trace_reader *r, size_t *n)
{
	*n = r->nmarks;
	return r->marks;
}

enum trace_level trace_level(const struct trace_reader *r)
{
	return r->level;
}

const char *trace_runtime(const struct trace_reader *r)
{
	return r->runtime;
}

const char *trace_recorder(const struct trace_reader *r)
{
	return r->recorder;
}

int trace_is_binary(const struct trace_reader *r)
{
	return r->bin != NULL;
}

uint64_t trace_bytes_read(const struct trace_reader *r)
{
	return source_bytes_read(r->src);
}

uint64_t trace_file_size(const struct trace_reader *r)
{
	return source_file_size(r->src);
}

uint64_t trace_event_count(const struct trace_reader *r)
{
	return r->events;
}
