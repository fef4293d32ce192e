/*
 * heaptrack.c - heaptrack data file to memsim events (the grammar, its
 * source in heaptrack 1.4.0 and the mapping are in heaptrack.h;
 * docs/interop.md says it for users).
 *
 * 1. Bytes come decompressed from source.h; lines are cut in one buffer
 *    that grows only for a longer line (at most HT_LINE_MAX).
 * 2. The opening lines (v, X, I, A, S) are read by heaptrack_open; the
 *    version is checked before anything else is believed.
 * 3. Tables, each appended to in file order and indexed as heaptrack
 *    numbers them: strings (1-based), ips (1-based), trace nodes
 *    (1-based, each mapped to the memsim node its allocations point to),
 *    allocation infos (0-based).
 * 4. Each info heads a stack of its live blocks (slots in one array,
 *    linked through `next`, free slots on a free list): `+` pushes a new
 *    ID, `-` pops the latest one (heaptrack.h says why).
 * 5. A `t` line yields its memsim nodes one per call (outermost inlined
 *    frame first), from a small pending state, before the next line is
 *    read.
 * 6. heaptrack_interpret ends every file with "# strings: N" and
 *    "# ips: M" (its destructor, heaptrack_interpret.cpp), so a file that
 *    ends without them, or whose counts disagree, was cut short.
 */
#include "heaptrack.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "strbuf.h"
#include "xalloc.h"

#define HT_CHUNK ((size_t)1 << 20)          /* bytes per read */
#define HT_LINE_MAX ((size_t)16 << 20)      /* bytes of one line */
#define HT_TABLE_MAX (UINT32_MAX - 1)       /* entries of any table */
#define HT_NS_PER_MS UINT64_C(1000000)
#define HT_NONE UINT32_MAX                  /* no slot */
#define HT_COMMAND_MAX 4200                 /* bytes of the 'X' text: libheaptrack
                                             * reads at most 4096 of cmdline */

enum ht_state { HT_ON, HT_END, HT_FAILED };

struct ht_frame { uint32_t fn, file, line; };

struct ht_ip {
	uint64_t addr;
	uint32_t module;
	struct ht_frame frame;
	uint32_t inl, n_inl;    /* inlined frames: inl_frames[inl, inl + n_inl) */
	int opnew;              /* frame.fn is one of heaptrack's operator new */
};

struct ht_info { uint64_t size; uint32_t site; uint32_t top; };
struct ht_slot { uint64_t id; uint32_t next; };

struct heaptrack_reader {
	struct source *src;
	char *buf;              /* [0, cap); lines in [pos, end) */
	size_t cap, pos, end;
	int in_eof;
	int held;               /* the current line is to be read again */
	uint64_t lineno;
	const char *line;       /* the current line and its length */
	size_t len;

	enum ht_state state;
	struct ms_error err;
	struct heaptrack_info info;
	char *command;
	size_t command_len;
	int info_seen;          /* the 'I' line after 'X' was read */

	/* 3. tables */
	char *sarena;
	size_t sarena_len, sarena_cap;
	size_t *soff;           /* string n (1-based) = sarena + soff[n - 1] */
	uint32_t nstrings, strings_cap;
	struct ht_ip *ips;
	uint32_t nips, ips_cap;
	struct ht_frame *inl;
	uint32_t ninl, inl_cap;
	uint32_t *node_site;    /* trace node n -> memsim node, [n - 1] */
	uint32_t nnodes, nodes_cap;
	uint32_t opnew_str[4];  /* string indices of the operator new names */
	struct ht_info *infos;
	uint32_t ninfos, infos_cap;

	/* 4. live blocks */
	struct ht_slot *slots;
	uint32_t nslots, slots_cap, free_slot;
	uint64_t next_id;

	/* 5. nodes still to return for the last `t` line */
	uint32_t pend_ip;       /* 1-based; 0: none */
	uint32_t pend_left;     /* frames still to return */
	uint32_t pend_parent;
	uint32_t next_site;
	char *frame;
	size_t frame_cap;

	uint64_t last_ms, last_ns;
	int has_time;
	int trailer_strings, trailer_ips;   /* 6. seen, with matching counts */
	struct heaptrack_counts counts;
};

static const char *const ht_opnew_names[4] = {
	"operator new(unsigned long)", "operator new[](unsigned long)",
	"operator new(unsigned int)", "operator new[](unsigned int)",
};

/* ---- errors ---- */

static int fail_line(struct heaptrack_reader *r, struct ms_error *err,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fails on the current line with a data error. */
static int fail_line(struct heaptrack_reader *r, struct ms_error *err,
		     const char *fmt, ...)
{
	va_list ap;

	ms_error_clear(&r->err);
	r->err.code = MS_EXIT_DATAERR;
	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof r->err.msg, fmt, ap);
	va_end(ap);
	ms_error_at(&r->err, source_name(r->src), r->lineno);
	if (r->line)
		ms_error_text(&r->err, r->line, r->len);
	r->state = HT_FAILED;
	*err = r->err;
	return -1;
}

/* Keeps an error from the byte source as the reader's own. */
static int fail_source(struct heaptrack_reader *r, struct ms_error *err)
{
	r->err = *err;
	r->state = HT_FAILED;
	return -1;
}

/* ---- lines ---- */

/*
 * Makes the next line current (r->line, r->len, without '\n'). Returns
 * 1, 0 at the end of the input, -1 on error.
 */
static int next_line(struct heaptrack_reader *r, struct ms_error *err)
{
	if (r->held) {
		r->held = 0;
		return 1;
	}
	for (;;) {
		char *nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		ssize_t got;

		if (nl) {
			r->line = r->buf + r->pos;
			r->len = (size_t)(nl - r->line);
			r->pos += r->len + 1;
			r->lineno++;
			r->counts.lines++;
			if (memchr(r->line, '\0', r->len))
				return fail_line(r, err, "NUL byte in line");
			return 1;
		}
		if (r->in_eof) {
			if (r->pos == r->end)
				return 0;
			r->line = r->buf + r->pos;
			r->len = r->end - r->pos;
			r->lineno++;
			return fail_line(r, err, "truncated heaptrack data (ends inside a line)");
		}
		if (r->pos > 0) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		if (r->end == r->cap) {
			if (r->cap >= HT_LINE_MAX) {
				r->line = r->buf;
				r->len = r->end;
				r->lineno++;
				return fail_line(r, err, "line longer than %zu bytes",
						 HT_LINE_MAX);
			}
			r->cap *= 2;
			r->buf = xrealloc(r->buf, r->cap);
		}
		got = source_read(r->src, r->buf + r->end, r->cap - r->end, err);
		if (got < 0)
			return fail_source(r, err);
		if (got == 0)
			r->in_eof = 1;
		r->end += (size_t)got;
	}
}

/* ---- fields ---- */

/* A cursor over the current line's fields, after "X ". */
struct fields { const char *p, *end; };

static struct fields fields_of(const struct heaptrack_reader *r)
{
	struct fields f = { r->line + (r->len >= 2 ? 2 : r->len), r->line + r->len };

	return f;
}

static int fields_done(const struct fields *f)
{
	return f->p == f->end;
}

/*
 * Reads one lowercase hex field (what heaptrack's writeHexLine and "%zx"
 * produce) and the single space after it, if any. Returns 1, or 0 when
 * the next bytes are not such a field or it does not fit in 64 bits.
 */
static int hex_field(struct fields *f, uint64_t *out)
{
	const char *p = f->p;
	uint64_t v = 0;
	int digits = 0;

	while (p < f->end && *p != ' ') {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			return 0;
		if (++digits > 16)
			return 0;
		v = v << 4 | d;
		p++;
	}
	if (digits == 0)
		return 0;
	if (p < f->end) {
		p++;
		if (p == f->end)
			return 0;   /* a trailing space */
	}
	f->p = p;
	*out = v;
	return 1;
}

/* An index field that must name an existing entry 1..count, or 0 when
 * zero_ok. Fills *out; on failure fails the line with what is wrong. */
static int index_field(struct heaptrack_reader *r, struct fields *f,
		       uint32_t count, int zero_ok, const char *what,
		       uint32_t *out, struct ms_error *err)
{
	uint64_t v;

	if (!hex_field(f, &v))
		return fail_line(r, err, "malformed '%c' line: a hex number expected",
				 r->line[0]);
	if ((v == 0 && !zero_ok) || v > count)
		return fail_line(r, err, "%s %" PRIu64 " is not defined yet", what, v);
	*out = (uint32_t)v;
	return 0;
}

static int fields_end(struct heaptrack_reader *r, const struct fields *f,
		      struct ms_error *err)
{
	if (!fields_done(f))
		return fail_line(r, err, "malformed '%c' line: unexpected text at the end",
				 r->line[0]);
	return 0;
}

/* ---- tables ---- */

/* Grows an array of `count` used elements to room for one more. */
static void *grow(void *a, uint32_t count, uint32_t *cap, size_t size)
{
	if (count < *cap)
		return a;
	*cap = *cap ? *cap * 2 : 256;
	if (*cap > HT_TABLE_MAX + 1u)
		*cap = HT_TABLE_MAX + 1u;
	return xreallocarray(a, *cap, size);
}

static int table_full(struct heaptrack_reader *r, uint32_t count,
		      const char *what, struct ms_error *err)
{
	if (count < HT_TABLE_MAX)
		return 0;
	return fail_line(r, err, "more than %" PRIu32 " %s", HT_TABLE_MAX, what);
}

static const char *string_at(const struct heaptrack_reader *r, uint32_t n)
{
	return r->sarena + r->soff[n - 1];
}

static int add_string(struct heaptrack_reader *r, const char *s, size_t n,
		      struct ms_error *err)
{
	if (table_full(r, r->nstrings, "strings", err))
		return -1;
	r->soff = grow(r->soff, r->nstrings, &r->strings_cap, sizeof *r->soff);
	if (r->sarena_len + n + 1 > r->sarena_cap) {
		while (r->sarena_len + n + 1 > r->sarena_cap)
			r->sarena_cap = r->sarena_cap ? r->sarena_cap * 2 : 4096;
		r->sarena = xrealloc(r->sarena, r->sarena_cap);
	}
	memcpy(r->sarena + r->sarena_len, s, n);
	r->sarena[r->sarena_len + n] = '\0';
	r->soff[r->nstrings++] = r->sarena_len;
	r->sarena_len += n + 1;
	for (int i = 0; i < 4; i++)
		if (!r->opnew_str[i] && n == strlen(ht_opnew_names[i]) &&
		    memcmp(s, ht_opnew_names[i], n) == 0)
			r->opnew_str[i] = r->nstrings;
	return 0;
}

/* `s LEN STRING` (version 3) or `s STRING`. */
static int line_string(struct heaptrack_reader *r, struct ms_error *err)
{
	struct fields f = fields_of(r);
	uint64_t n;

	if (r->len < 2 || r->line[1] != ' ')
		return fail_line(r, err, "malformed 's' line");
	if (r->info.file_version < 3)
		return add_string(r, f.p, (size_t)(f.end - f.p), err);
	if (!hex_field(&f, &n))
		return fail_line(r, err, "malformed 's' line: a hex length expected");
	if (n != (uint64_t)(f.end - f.p))
		return fail_line(r, err, "string length %" PRIu64 " does not match the "
				 "%td bytes that follow", n, f.end - f.p);
	return add_string(r, f.p, (size_t)n, err);
}

/* FILE LINE of a frame. */
static int file_line(struct heaptrack_reader *r, struct fields *f,
		     struct ht_frame *fr, struct ms_error *err)
{
	uint64_t line;

	if (index_field(r, f, r->nstrings, 1, "string", &fr->file, err))
		return -1;
	if (!hex_field(f, &line) || line > UINT32_MAX)
		return fail_line(r, err, "malformed 'i' line: a hex line number expected");
	fr->line = (uint32_t)line;
	return 0;
}

/* `i IP MODULE [FN [FILE LINE [FN FILE LINE]...]]` */
static int line_ip(struct heaptrack_reader *r, struct ms_error *err)
{
	struct fields f = fields_of(r);
	struct ht_ip ip = { 0 };

	if (table_full(r, r->nips, "instruction pointers", err))
		return -1;
	if (!hex_field(&f, &ip.addr))
		return fail_line(r, err, "malformed 'i' line: a hex address expected");
	if (index_field(r, &f, r->nstrings, 1, "string", &ip.module, err))
		return -1;
	if (!fields_done(&f) &&
	    index_field(r, &f, r->nstrings, 1, "string", &ip.frame.fn, err))
		return -1;
	if (!fields_done(&f) && file_line(r, &f, &ip.frame, err))
		return -1;
	ip.inl = r->ninl;
	while (!fields_done(&f)) {
		struct ht_frame fr = { 0 };

		if (table_full(r, r->ninl, "inlined frames", err) ||
		    index_field(r, &f, r->nstrings, 1, "string", &fr.fn, err) ||
		    file_line(r, &f, &fr, err))
			return -1;
		r->inl = grow(r->inl, r->ninl, &r->inl_cap, sizeof *r->inl);
		r->inl[r->ninl++] = fr;
		ip.n_inl++;
	}
	for (int i = 0; i < 4; i++)
		if (ip.frame.fn && ip.frame.fn == r->opnew_str[i])
			ip.opnew = 1;
	r->ips = grow(r->ips, r->nips, &r->ips_cap, sizeof *r->ips);
	r->ips[r->nips++] = ip;
	return 0;
}

/* `t IPINDEX PARENT`: maps the node, and queues its memsim nodes. */
static int line_trace(struct heaptrack_reader *r, struct ms_error *err)
{
	struct fields f = fields_of(r);
	uint32_t ipi, parent, site;

	if (table_full(r, r->nnodes, "trace nodes", err) ||
	    index_field(r, &f, r->nips, 1, "ip", &ipi, err) ||
	    index_field(r, &f, r->nnodes, 1, "trace node", &parent, err) ||
	    fields_end(r, &f, err))
		return -1;
	site = parent ? r->node_site[parent - 1] : 0;
	r->node_site = grow(r->node_site, r->nnodes, &r->nodes_cap, sizeof *r->node_site);
	if (ipi && !r->ips[ipi - 1].opnew) {
		if (r->next_site > HT_TABLE_MAX - 1 - r->ips[ipi - 1].n_inl)
			return fail_line(r, err, "more than %" PRIu32 " call-stack nodes",
					 HT_TABLE_MAX);
		r->pend_ip = ipi;
		r->pend_left = r->ips[ipi - 1].n_inl + 1;
		r->pend_parent = site;
		site = r->next_site + r->pend_left;   /* the innermost, last made */
	}
	r->node_site[r->nnodes++] = site;
	return 0;
}

/* `a SIZE TRACE` */
static int line_info(struct heaptrack_reader *r, struct ms_error *err)
{
	struct fields f = fields_of(r);
	struct ht_info in = { 0, 0, HT_NONE };
	uint32_t node;

	if (table_full(r, r->ninfos, "allocation infos", err))
		return -1;
	if (!hex_field(&f, &in.size))
		return fail_line(r, err, "malformed 'a' line: a hex size expected");
	if (index_field(r, &f, r->nnodes, 1, "trace node", &node, err) ||
	    fields_end(r, &f, err))
		return -1;
	if (in.size >> 48)
		return fail_line(r, err, "allocation size %" PRIu64 " does not fit in 48 bits",
				 in.size);
	in.site = node ? r->node_site[node - 1] : 0;
	r->infos = grow(r->infos, r->ninfos, &r->infos_cap, sizeof *r->infos);
	r->infos[r->ninfos++] = in;
	r->counts.infos++;
	return 0;
}

static int info_field(struct heaptrack_reader *r, struct ms_error *err,
		      uint32_t *out)
{
	struct fields f = fields_of(r);
	uint64_t v;

	if (!hex_field(&f, &v))
		return fail_line(r, err, "malformed '%c' line: one hex allocation info expected",
				 r->line[0]);
	if (!fields_done(&f)) {
		/* heaptrack --raw writes "+ SIZE TRACE PTR" and "- PTR". */
		if (r->line[0] == '+')
			return fail_line(r, err, "uninterpreted heaptrack data (heaptrack --raw): "
					 "run heaptrack_interpret on it");
		return fail_line(r, err, "malformed '%c' line: one hex allocation info expected",
				 r->line[0]);
	}
	if (v >= r->ninfos)
		return fail_line(r, err, "allocation info %" PRIu64 " is not defined yet", v);
	*out = (uint32_t)v;
	return 0;
}

/* `+ INFO` */
static int line_alloc(struct heaptrack_reader *r, struct heaptrack_event *ev,
		      struct ms_error *err)
{
	uint32_t i, s;

	if (info_field(r, err, &i))
		return -1;
	if (r->free_slot != HT_NONE) {
		s = r->free_slot;
		r->free_slot = r->slots[s].next;
	} else {
		if (table_full(r, r->nslots, "live allocations", err))
			return -1;
		r->slots = grow(r->slots, r->nslots, &r->slots_cap, sizeof *r->slots);
		s = r->nslots++;
	}
	r->slots[s].id = ++r->next_id;
	r->slots[s].next = r->infos[i].top;
	r->infos[i].top = s;
	ev->kind = HEAPTRACK_ALLOC;
	ev->id = r->next_id;
	ev->size = r->infos[i].size;
	ev->site = r->infos[i].site;
	r->counts.allocs++;
	r->counts.live_at_end++;
	return 1;
}

/* `- INFO` */
static int line_free(struct heaptrack_reader *r, struct heaptrack_event *ev,
		     struct ms_error *err)
{
	uint32_t i, s;

	if (info_field(r, err, &i))
		return -1;
	s = r->infos[i].top;
	if (s == HT_NONE)
		return fail_line(r, err, "free of allocation info %" PRIu32
				 " with no live allocation", i);
	r->infos[i].top = r->slots[s].next;
	r->slots[s].next = r->free_slot;
	r->free_slot = s;
	ev->kind = HEAPTRACK_FREE;
	ev->id = r->slots[s].id;
	r->counts.frees++;
	r->counts.live_at_end--;
	return 1;
}

/* `c MS`: returns 1 with a TIME event when the time moved on. */
static int line_time(struct heaptrack_reader *r, struct heaptrack_event *ev,
		     struct ms_error *err)
{
	struct fields f = fields_of(r);
	uint64_t ms;

	if (!hex_field(&f, &ms) || !fields_done(&f))
		return fail_line(r, err, "malformed 'c' line: a hex time expected");
	if (r->has_time && ms < r->last_ms)
		return fail_line(r, err, "time goes backwards (from %" PRIu64 " ms to %"
				 PRIu64 " ms)", r->last_ms, ms);
	if (ms > UINT64_MAX / HT_NS_PER_MS)
		return fail_line(r, err, "time %" PRIu64 " ms does not fit in 64 bits of ns", ms);
	r->last_ms = ms;
	if (r->has_time && ms * HT_NS_PER_MS == r->last_ns)
		return 0;
	r->has_time = 1;
	r->last_ns = ms * HT_NS_PER_MS;
	ev->kind = HEAPTRACK_TIME;
	ev->time = r->last_ns;
	return 1;
}

/* `# strings: N` and `# ips: N`, the interpreter's last lines. */
static int line_comment(struct heaptrack_reader *r, struct ms_error *err)
{
	static const char sp[] = "# strings: ", ip[] = "# ips: ";
	const char *key = NULL;
	uint64_t want = 0, v = 0;
	size_t k = 0;

	if (r->len > sizeof sp - 1 && memcmp(r->line, sp, sizeof sp - 1) == 0)
		key = "strings", k = sizeof sp - 1, want = r->nstrings;
	else if (r->len > sizeof ip - 1 && memcmp(r->line, ip, sizeof ip - 1) == 0)
		key = "ips", k = sizeof ip - 1, want = r->nips;
	if (!key)
		return 0;
	for (; k < r->len; k++) {
		if (r->line[k] < '0' || r->line[k] > '9' || v > UINT64_MAX / 10)
			return fail_line(r, err, "malformed end line");
		v = v * 10 + (uint64_t)(r->line[k] - '0');
	}
	if (v != want)
		return fail_line(r, err, "the end line counts %" PRIu64 " %s, the file has %"
				 PRIu64 " (corrupt or spliced data)", v, key, want);
	if (key[0] == 's')
		r->trailer_strings = 1;
	else
		r->trailer_ips = 1;
	return 0;
}

/* ---- nodes ---- */

static void frame_room(struct heaptrack_reader *r, size_t n)
{
	if (n > r->frame_cap) {
		r->frame_cap = n * 2;
		r->frame = xrealloc(r->frame, r->frame_cap);
	}
}

static size_t put_escaped(struct heaptrack_reader *r, size_t at, const char *s)
{
	size_t n = strlen(s);

	frame_room(r, at + 3 * n + 1);
	return at + heaptrack_frame_escape(r->frame + at, s, n);
}

static size_t put_raw(struct heaptrack_reader *r, size_t at, const char *s)
{
	size_t n = strlen(s);

	frame_room(r, at + n + 1);
	memcpy(r->frame + at, s, n);
	return at + n;
}

/* Builds r->frame for `fr` at ip `ip` (heaptrack.h gives the forms). */
static void make_frame(struct heaptrack_reader *r, const struct ht_ip *ip,
		       const struct ht_frame *fr)
{
	char num[32];
	size_t at = 0;

	if (fr->fn || fr->file) {
		at = fr->fn ? put_escaped(r, at, string_at(r, fr->fn)) : put_raw(r, at, "??");
		at = put_raw(r, at, "@");
	}
	if (fr->file) {
		at = put_escaped(r, at, string_at(r, fr->file));
		snprintf(num, sizeof num, ":%" PRIu32, fr->line);
	} else {
		at = ip->module ? put_escaped(r, at, string_at(r, ip->module)) :
			put_raw(r, at, "??");
		snprintf(num, sizeof num, "+0x%" PRIx64, ip->addr);
	}
	at = put_raw(r, at, num);
	r->frame[at] = '\0';
}

/* Returns the next queued node of the last `t` line. */
static void pending_site(struct heaptrack_reader *r, struct heaptrack_event *ev)
{
	const struct ht_ip *ip = &r->ips[r->pend_ip - 1];
	uint32_t k = --r->pend_left;    /* n_inl .. 0; 0 is ip->frame */

	make_frame(r, ip, k ? &r->inl[ip->inl + k - 1] : &ip->frame);
	ev->kind = HEAPTRACK_SITE;
	ev->site = ++r->next_site;
	ev->parent = r->pend_parent;
	ev->frame = r->frame;
	r->pend_parent = ev->site;
	r->counts.sites++;
	if (!r->pend_left)
		r->pend_ip = 0;
}

/* ---- the opening lines ---- */

static int line_version(struct heaptrack_reader *r, struct ms_error *err)
{
	struct fields f = fields_of(r);
	uint64_t v, fv = 0;

	if (r->len < 2 || r->line[0] != 'v' || r->line[1] != ' ' || !hex_field(&f, &v))
		return fail_line(r, err, "not a heaptrack data file (the first line is not "
				 "'v VERSION FILEVERSION')");
	if (fields_done(&f) && v == 0x010200)
		fv = 1;   /* heaptrack before 1.0 wrote its own version here */
	else if (!hex_field(&f, &fv) || !fields_done(&f))
		return fail_line(r, err, "not a heaptrack data file (the first line is not "
				 "'v VERSION FILEVERSION')");
	r->info.version = (unsigned)(v & 0xffffff);
	r->info.file_version = fv > 255 ? 255 : (unsigned)fv;
	if (fv < HEAPTRACK_FILE_VERSION_MIN || fv > HEAPTRACK_FILE_VERSION_MAX)
		return fail_line(r, err, "unsupported heaptrack file format version %" PRIu64
				 " (heaptrack %u.%u.%u); memsim reads versions %d to %d",
				 fv, (unsigned)(v >> 16 & 0xff), (unsigned)(v >> 8 & 0xff),
				 (unsigned)(v & 0xff), HEAPTRACK_FILE_VERSION_MIN,
				 HEAPTRACK_FILE_VERSION_MAX);
	return 0;
}

/* Handles one line of the kinds that may open a file or come anywhere
 * and carry no event. Returns 1 when it took the line, 0 when the line is
 * of another kind, -1 on error. */
static int line_quiet(struct heaptrack_reader *r, struct ms_error *err)
{
	char mode = r->len ? r->line[0] : '#';

	switch (mode) {
	case '#':
		return line_comment(r, err) ? -1 : 1;
	case 'X':
		if (r->command)
			return fail_line(r, err, "a second 'X' (command line) line");
		{
			/* libheaptrack.cpp writes "X" and " ARG" per argument. */
			size_t n = r->len > 2 ? r->len - 2 : 0;

			r->command = xmalloc(HT_COMMAND_MAX + 1);
			if (n > HT_COMMAND_MAX)
				return fail_line(r, err, "malformed 'X' line: longer than %d bytes",
						 HT_COMMAND_MAX);
			memcpy(r->command, r->line + r->len - n, n);
			r->command[n] = '\0';
			r->command_len = n;
			r->info.command = r->command;
		}
		return 1;
	case 'I':
		return 1;
	case 'A':
		r->info.attached = 1;
		return 1;
	case 'S':
		r->counts.suppressions++;
		return 1;
	case 'R':
		r->counts.rss_samples++;
		return 1;
	case 'x':
	case 'm':
		return fail_line(r, err, "uninterpreted heaptrack data (heaptrack --raw): "
				 "run heaptrack_interpret on it");
	}
	return 0;
}

/* Whether the current line is `I PAGESIZE PAGES`, which libheaptrack
 * writes right after the command line. */
static int is_info_line(const struct heaptrack_reader *r)
{
	struct fields f = fields_of(r);
	uint64_t v;

	return r->len > 2 && r->line[0] == 'I' && r->line[1] == ' ' &&
		hex_field(&f, &v) && hex_field(&f, &v) && fields_done(&f);
}

/*
 * An argument with a newline splits the 'X' line: libheaptrack.cpp
 * writes /proc/self/cmdline's arguments as they are. Until the 'I' line,
 * lines belong to the command (joined with '\n'), up to the length
 * libheaptrack can have written.
 */
static int command_continues(struct heaptrack_reader *r, struct ms_error *err)
{
	if (r->command_len + 1 + r->len > HT_COMMAND_MAX)
		return fail_line(r, err, "malformed 'X' line: longer than %d bytes",
				 HT_COMMAND_MAX);
	r->command[r->command_len++] = '\n';
	memcpy(r->command + r->command_len, r->line, r->len);
	r->command_len += r->len;
	r->command[r->command_len] = '\0';
	return 0;
}

struct heaptrack_reader *heaptrack_open(const char *path, struct ms_error *err)
{
	struct heaptrack_reader *r;
	struct source *src = source_open(path, err);
	int rc;

	if (!src)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->src = src;
	r->cap = HT_CHUNK;
	r->buf = xmalloc(r->cap);
	r->free_slot = HT_NONE;
	do
		rc = next_line(r, err);
	while (rc > 0 && r->len == 0);
	if (rc == 0) {
		r->line = NULL;
		r->lineno = 0;
		fail_line(r, err, "not a heaptrack data file (it is empty)");
	}
	if (rc <= 0 || line_version(r, err)) {
		heaptrack_close(r);
		return NULL;
	}
	/* The opening lines; the first other line stays for heaptrack_next. */
	while ((rc = next_line(r, err)) > 0) {
		char mode = r->len ? r->line[0] : '#';

		if (r->command && !r->info_seen && !is_info_line(r)) {
			if (command_continues(r, err) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (mode == 'I')
			r->info_seen = 1;
		if (mode != 'X' && mode != 'I' && mode != 'A' && mode != 'S') {
			r->held = 1;
			break;
		}
		if (line_quiet(r, err) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc < 0) {
		heaptrack_close(r);
		return NULL;
	}
	return r;
}

/* ---- events ---- */

static int at_end(struct heaptrack_reader *r, struct ms_error *err)
{
	r->line = NULL;
	r->lineno = 0;
	if (!r->trailer_strings || !r->trailer_ips)
		return fail_line(r, err, "truncated heaptrack data (no '# strings: N' and "
				 "'# ips: N' lines, which heaptrack_interpret writes last)");
	r->state = HT_END;
	return 0;
}

int heaptrack_next(struct heaptrack_reader *r, struct heaptrack_event *ev,
		   struct ms_error *err)
{
	if (r->state == HT_FAILED) {
		*err = r->err;
		return -1;
	}
	if (r->state == HT_END)
		return 0;
	if (r->pend_ip) {
		pending_site(r, ev);
		return 1;
	}
	for (;;) {
		int rc = next_line(r, err);

		if (rc < 0)
			return -1;
		if (rc == 0)
			return at_end(r, err);
		if (r->trailer_strings && r->len && r->line[0] != '#')
			return fail_line(r, err, "data after the end lines");
		rc = line_quiet(r, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		if (r->len < 2 || r->line[1] != ' ')
			return fail_line(r, err, "unknown heaptrack line '%c'", r->line[0]);
		switch (r->line[0]) {
		case 's':
			rc = line_string(r, err);
			break;
		case 'i':
			rc = line_ip(r, err);
			break;
		case 't':
			rc = line_trace(r, err);
			if (rc == 0 && r->pend_ip) {
				pending_site(r, ev);
				return 1;
			}
			break;
		case 'a':
			rc = line_info(r, err);
			break;
		case '+':
			return line_alloc(r, ev, err);
		case '-':
			return line_free(r, ev, err);
		case 'c':
			rc = line_time(r, ev, err);
			if (rc != 0)
				return rc;
			break;
		case 'v':
			return fail_line(r, err, "a second 'v' (version) line");
		default:
			return fail_line(r, err, "unknown heaptrack line '%c'", r->line[0]);
		}
		if (rc < 0)
			return -1;
	}
}

/* ---- the rest ---- */

size_t heaptrack_frame_escape(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > 0x20 && c < 0x7f && c != '%' && c != '^') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

const struct heaptrack_info *heaptrack_info(const struct heaptrack_reader *r)
{
	return &r->info;
}

void heaptrack_counts(const struct heaptrack_reader *r, struct heaptrack_counts *c)
{
	*c = r->counts;
}

const char *heaptrack_name(const struct heaptrack_reader *r)
{
	return source_name(r->src);
}

uint64_t heaptrack_bytes_read(const struct heaptrack_reader *r)
{
	return source_bytes_read(r->src);
}

uint64_t heaptrack_file_size(const struct heaptrack_reader *r)
{
	return source_file_size(r->src);
}

/* Appends `s` as a JSON string, quotes included. */
static void json_string(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_putc(sb, (char)c);
	}
	sb_putc(sb, '"');
}

char *heaptrack_metadata(const struct heaptrack_reader *r, const char *in_name)
{
	const struct heaptrack_info *i = &r->info;
	struct strbuf sb;
	char *out;

	sb_init(&sb);
	sb_puts(&sb, "{\"source\":\"heaptrack\",\"input\":");
	json_string(&sb, in_name);
	sb_printf(&sb, ",\"heaptrack\":\"%u.%u.%u\",\"file_version\":%u,"
		  "\"level\":\"allocator\"%s", i->version >> 16 & 0xff,
		  i->version >> 8 & 0xff, i->version & 0xff, i->file_version,
		  i->attached ? ",\"attached\":true" : "");
	if (i->command) {
		sb_puts(&sb, ",\"command\":");
		json_string(&sb, i->command);
	}
	sb_putc(&sb, '}');
	out = xstrdup(sb_str(&sb));
	sb_free(&sb);
	return out;
}

void heaptrack_counts_format(const struct heaptrack_counts *c, char *buf, size_t size)
{
	size_t at = 0;
	int first = 1;

	buf[0] = '\0';
#define HEAPTRACK_COUNT_PRINT(name, desc) \
	if (at < size && (c->name || first)) { \
		at += (size_t)snprintf(buf + at, size - at, "%s%" PRIu64 " " desc, \
				       first ? "" : ", ", c->name); \
		first = 0; \
	}
	HEAPTRACK_COUNTS(HEAPTRACK_COUNT_PRINT)
#undef HEAPTRACK_COUNT_PRINT
}

void heaptrack_close(struct heaptrack_reader *r)
{
	if (!r)
		return;
	source_close(r->src);
	free(r->buf);
	free(r->command);
	free(r->sarena);
	free(r->soff);
	free(r->ips);
	free(r->inl);
	free(r->node_site);
	free(r->infos);
	free(r->slots);
	free(r->frame);
	free(r);
}
