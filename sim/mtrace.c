/*
 * mtrace.c - glibc mtrace log to memsim trace (see mtrace.h for the line
 * forms and their source in glibc).
 *
 * 1. Each line is split into an optional caller ("@ ... ] "), an operation
 *    character and one or two hexadecimal fields.
 * 2. A hash table maps each live address to its trace ID.
 * 3. '+' allocates a new ID; '-' frees the address's ID; '<' takes the old
 *    address out of the table and must be followed at once by '>', which
 *    puts the new address in with the same ID and writes `r ID SIZE`.
 *    glibc writes the pair under one stream lock, so nothing can come
 *    between them in a well-formed log.
 * 4. Inconsistencies stop the conversion, or with `lenient` are repaired
 *    as documented in mtrace.h and counted.
 */
#include "mtrace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define MTRACE_MAP_INITIAL 1024u   /* slots; a power of two */
#define MTRACE_SIZE_MAX ((UINT64_C(1) << 48) - 1)   /* bytes */

/* Live address -> ID. Invariants: cap is a power of two; count * 2 <= cap;
 * addr 0 marks an empty slot (glibc never returns block 0). */
struct addr_map {
	struct { uint64_t addr, id; } *slot;
	size_t cap, count;
};

static size_t map_home(uint64_t addr, size_t cap)
{
	return (size_t)(((addr >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

static void map_insert(struct addr_map *m, uint64_t addr, uint64_t id)
{
	size_t s;

	if ((m->count + 1) * 2 > m->cap) {
		struct addr_map g = { NULL, m->cap ? m->cap * 2 : MTRACE_MAP_INITIAL, 0 };

		g.slot = xcalloc(g.cap, sizeof *g.slot);
		for (size_t i = 0; i < m->cap; i++)
			if (m->slot[i].addr)
				map_insert(&g, m->slot[i].addr, m->slot[i].id);
		free(m->slot);
		*m = g;
	}
	for (s = map_home(addr, m->cap); m->slot[s].addr; s = (s + 1) & (m->cap - 1))
		;
	m->slot[s].addr = addr;
	m->slot[s].id = id;
	m->count++;
}

/* Removes addr; returns its ID, or 0 when it is not live. */
static uint64_t map_remove(struct addr_map *m, uint64_t addr)
{
	size_t mask = m->cap - 1, s, j;
	uint64_t id;

	if (!m->cap)
		return 0;
	for (s = map_home(addr, m->cap); m->slot[s].addr != addr; s = (s + 1) & mask)
		if (!m->slot[s].addr)
			return 0;
	id = m->slot[s].id;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (j = (s + 1) & mask; m->slot[j].addr; j = (j + 1) & mask) {
		size_t home = map_home(m->slot[j].addr, m->cap);

		if (((j - home) & mask) >= ((j - s) & mask)) {
			m->slot[s] = m->slot[j];
			s = j;
		}
	}
	m->slot[s].addr = 0;
	m->count--;
	return id;
}

/*
 * The map's invariants: count equals the occupied slots, at most half of
 * cap, and every entry sits on the probe run from its home slot (no empty
 * slot in between), which backward-shift deletion must preserve. O(cap):
 * run in debug builds (MEMSIM_DEBUG) at the end of a conversion.
 */
#ifdef MEMSIM_DEBUG
static int map_check(const struct addr_map *m)
{
	size_t used = 0;

	for (size_t i = 0; i < m->cap; i++) {
		if (!m->slot[i].addr)
			continue;
		used++;
		for (size_t s = map_home(m->slot[i].addr, m->cap); s != i; s = (s + 1) & (m->cap - 1))
			if (!m->slot[s].addr)
				return 0;
	}
	return used == m->count && m->count * 2 <= m->cap;
}
#endif

/* One parsed line. */
struct mline {
	char op;             /* '+', '-', '<', '>', '!', '=' */
	int nil;             /* the address was "(nil)" */
	uint64_t addr;
	uint64_t size;       /* bytes; '+', '>', '!' only */
};

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0x" hex digits (at most 16), or a lone "0" when zero_ok (%#lx of 0). */
static const char *parse_hex(const char *p, uint64_t *v, int zero_ok)
{
	int n = 0;

	if (zero_ok && p[0] == '0' && (p[1] == '\0' || p[1] == ' ' || p[1] == '\t')) {
		*v = 0;
		return p + 1;
	}
	if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return NULL;
	p += 2;
	*v = 0;
	for (; hexval(*p) >= 0; p++, n++) {
		if (n == 16)
			return NULL;
		*v = *v << 4 | (uint64_t)hexval(*p);
	}
	return n ? p : NULL;
}

/* Parses `line` (no newline). Returns 1 for an event, 0 for a blank line,
 * -1 when it is not an mtrace line. */
static int parse_line(const char *line, struct mline *ml)
{
	const char *p = skip_blanks(line);

	if (!*p)
		return 0;
	if (p[0] == '@' && (p[1] == ' ' || p[1] == '\t')) {
		/* The caller ends at the first "] ": every caller form has
		 * [ADDR] last, and the operation follows after one space. */
		const char *end = strstr(p, "] ");

		if (!end)
			return -1;
		p = skip_blanks(end + 2);
	}
	ml->op = *p;
	ml->nil = 0;
	ml->addr = ml->size = 0;
	if (!strchr("+-<>!=", ml->op) || ml->op == '\0' || (p[1] != ' ' && p[1] != '\t'))
		return -1;
	p = skip_blanks(p + 2);
	if (ml->op == '=') {
		const char *e = p + strlen(p);

		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((e - p == 5 && memcmp(p, "Start", 5) == 0) ||
		    (e - p == 3 && memcmp(p, "End", 3) == 0))
			return 1;
		return -1;
	}
	if (strncmp(p, "(nil)", 5) == 0) {
		ml->nil = 1;
		p += 5;
	} else if (!(p = parse_hex(p, &ml->addr, 0))) {
		return -1;
	}
	if (ml->op == '+' || ml->op == '>' || ml->op == '!') {
		if (*p != ' ' && *p != '\t')
			return -1;
		if (!(p = parse_hex(skip_blanks(p), &ml->size, 1)))
			return -1;
	}
	if (*skip_blanks(p))
		return -1;
	if (ml->nil && (ml->op == '<' || ml->op == '>'))
		return -1;
	if (!ml->nil && ml->addr == 0)
		return -1;
	return 1;
}

struct conv {
	struct addr_map map;
	struct trace_writer *out;
	struct mtrace_counts *c;
	struct ms_error *err;
	int lenient;
	uint64_t next_id;
	/* A '<' waiting for its '>': */
	int pending;
	uint64_t pending_addr, pending_id;   /* pending_id 0: address was unknown */
	uint64_t pending_line;
};

enum mtrace_problem {
	MP_DOUBLE_ALLOC,
	MP_UNKNOWN_FREE,
	MP_UNKNOWN_REALLOC,
	MP_LT_UNPAIRED,
	MP_GT_UNPAIRED,
};

/* Reports an inconsistency: an error, or in lenient mode a count. */
static int inconsistent(struct conv *cv, enum mtrace_problem what, uint64_t addr)
{
	unsigned long long a = (unsigned long long)addr;
	struct ms_error *e = cv->err;

	if (cv->lenient) {
		switch (what) {
		case MP_DOUBLE_ALLOC: cv->c->double_allocs++; break;
		case MP_UNKNOWN_FREE: cv->c->unknown_frees++; break;
		case MP_UNKNOWN_REALLOC: cv->c->unknown_reallocs++; break;
		case MP_LT_UNPAIRED:
		case MP_GT_UNPAIRED: cv->c->unpaired++; break;
		}
		return 0;
	}
	switch (what) {
	case MP_DOUBLE_ALLOC:
		return ms_error_set(e, MS_EXIT_DATAERR, "address 0x%llx allocated twice", a);
	case MP_UNKNOWN_FREE:
		return ms_error_set(e, MS_EXIT_DATAERR,
				    "free of address 0x%llx that is not allocated", a);
	case MP_UNKNOWN_REALLOC:
		return ms_error_set(e, MS_EXIT_DATAERR,
				    "realloc of address 0x%llx that is not allocated", a);
	case MP_LT_UNPAIRED:
		return ms_error_set(e, MS_EXIT_DATAERR,
				    "realloc '<' line not followed by its '>' line");
	case MP_GT_UNPAIRED:
		return ms_error_set(e, MS_EXIT_DATAERR,
				    "realloc '>' line without the '<' line before it");
	}
	return ms_error_set(e, MS_EXIT_SOFTWARE, "mtrace: unknown problem");
}

static int writer_status(struct conv *cv, int r)
{
	if (r) {
		const struct ms_error *we = tracewrite_error(cv->out);

		if (we)
			*cv->err = *we;
		else
			ms_error_set(cv->err, r, "cannot write the trace");
	}
	return r;
}

/* Puts a new block at addr (after '+' or an unpaired '>'), freeing a live
 * block found there when lenient. */
static int place_block(struct conv *cv, uint64_t addr, uint64_t id, uint64_t size, int resize)
{
	uint64_t old = map_remove(&cv->map, addr);
	int r;

	if (old) {
		if ((r = inconsistent(cv, MP_DOUBLE_ALLOC, addr)))
			return r;
		cv->c->frees++;
		if ((r = writer_status(cv, tracewrite_free(cv->out, old))))
			return r;
	}
	if (size > MTRACE_SIZE_MAX) {
		if (cv->lenient) {
			cv->c->malformed++;
			return 0;
		}
		return ms_error_set(cv->err, MS_EXIT_DATAERR, "size does not fit in 48 bits");
	}
	map_insert(&cv->map, addr, id);
	if (resize) {
		cv->c->reallocs++;
		return writer_status(cv, tracewrite_resize(cv->out, id, size, 0));
	}
	cv->c->allocs++;
	return writer_status(cv, tracewrite_alloc(cv->out, id, size, NULL, 0));
}

/* A '<' not followed by '>': the old block stays live. */
static int drop_pending(struct conv *cv)
{
	int r;

	cv->pending = 0;
	if ((r = inconsistent(cv, MP_LT_UNPAIRED, 0)))
		return r;
	if (cv->pending_id)
		map_insert(&cv->map, cv->pending_addr, cv->pending_id);
	return 0;
}

static int apply(struct conv *cv, const struct mline *ml)
{
	uint64_t id;
	int r;

	if (cv->pending && ml->op != '>' && (r = drop_pending(cv)))
		return r;
	switch (ml->op) {
	case '=':
		return 0;
	case '!':
		cv->c->failed++;
		return 0;
	case '+':
		if (ml->nil) {
			cv->c->failed++;
			return 0;
		}
		return place_block(cv, ml->addr, ++cv->next_id, ml->size, 0);
	case '-':
		if (ml->nil) {
			cv->c->failed++;
			return 0;
		}
		id = map_remove(&cv->map, ml->addr);
		if (!id)
			return inconsistent(cv, MP_UNKNOWN_FREE, ml->addr);
		cv->c->frees++;
		return writer_status(cv, tracewrite_free(cv->out, id));
	case '<':
		id = map_remove(&cv->map, ml->addr);
		if (!id && (r = inconsistent(cv, MP_UNKNOWN_REALLOC, ml->addr)))
			return r;
		cv->pending = 1;
		cv->pending_addr = ml->addr;
		cv->pending_id = id;
		return 0;
	case '>':
		if (!cv->pending) {
			if ((r = inconsistent(cv, MP_GT_UNPAIRED, 0)))
				return r;
			return place_block(cv, ml->addr, ++cv->next_id, ml->size, 0);
		}
		cv->pending = 0;
		if (!cv->pending_id)
			return place_block(cv, ml->addr, ++cv->next_id, ml->size, 0);
		return place_block(cv, ml->addr, cv->pending_id, ml->size, 1);
	}
	return ms_error_set(cv->err, MS_EXIT_SOFTWARE, "mtrace: unhandled operation");
}

int mtrace_convert(FILE *in, const char *in_name, struct trace_writer *out,
		   int lenient, struct mtrace_counts *counts, struct ms_error *err)
{
	struct conv cv = { .out = out, .c = counts, .err = err, .lenient = lenient };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0;

	memset(counts, 0, sizeof *counts);
	ms_error_clear(err);
	while ((len = getline(&line, &cap, in)) >= 0) {
		struct mline ml;
		int kind;

		counts->lines++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		kind = parse_line(line, &ml);
		if (kind < 0 || (kind > 0 && memchr(line, '\0', (size_t)len))) {
			if (lenient) {
				counts->malformed++;
				continue;
			}
			r = ms_error_set(err, MS_EXIT_DATAERR, "not a glibc mtrace line");
		} else if (kind > 0) {
			r = apply(&cv, &ml);
		}
		if (r) {
			/* Input errors point at the line (a '<' left without
			 * its '>' at the line that came instead of the '>');
			 * the writer's errors already name the output file. */
			if (r == MS_EXIT_DATAERR) {
				ms_error_at(err, in_name, counts->lines);
				ms_error_text(err, line, (size_t)len);
			}
			break;
		}
		if (cv.pending)
			cv.pending_line = counts->lines;
	}
	if (!r && ferror(in)) {
		ms_error_at(err, in_name, 0);
		r = ms_error_set(err, MS_EXIT_IOERR, "read error: %s", strerror(errno));
	}
	if (!r && cv.pending) {
		r = drop_pending(&cv);
		if (r)
			ms_error_at(err, in_name, cv.pending_line);
	}
#ifdef MEMSIM_DEBUG
	if (!r && !map_check(&cv.map)) {
		ms_error_at(err, in_name, 0);
		r = ms_error_set(err, MS_EXIT_SOFTWARE, "mtrace: address map invariant broken");
	}
#endif
	counts->live_at_end = cv.map.count;
	free(line);
	free(cv.map.slot);
	return r;
}

void mtrace_metadata(const char *in_name, char *buf, size_t size)
{
	size_t o;
	int n = snprintf(buf, size, "{\"source\":\"mtrace\",\"input\":\"");

	if (n < 0 || (size_t)n >= size)
		return;
	o = (size_t)n;
	for (const char *p = in_name; *p && o + 8 < size; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\u%04x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	snprintf(buf + o, size - o, "\"}");
}

void mtrace_counts_format(const struct mtrace_counts *c, char *buf, size_t size)
{
	size_t o = 0;
	int i = 0;

	buf[0] = '\0';
#define MTRACE_COUNT_PRINT(name, desc) \
	if ((i < 4 || c->name) && o < size) { \
		int n_ = snprintf(buf + o, size - o, "%s%llu %s", i ? ", " : "", \
				  (unsigned long long)c->name, desc); \
		o = n_ < 0 ? size : o + (size_t)n_; \
	} \
	i++;
	MTRACE_COUNTS(MTRACE_COUNT_PRINT)
#undef MTRACE_COUNT_PRINT
}
