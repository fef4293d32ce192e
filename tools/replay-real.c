/*
 * replay-real.c - replays a trace's allocator calls on the real C library
 * in a fresh process: the ground truth the `glibc` model is checked
 * against (docs/policies.md, "Fidelity"; tests/e2e/glibc_exact.sh).
 *
 * usage: replay-real [--every N] [--at N[,N...]] [--layout]
 *                    [--touch all|first|none] FILE|-
 *
 * Reads a memsim text trace (docs/trace-format.md, version 1 or 2) and
 * performs each `a ID SIZE` as malloc(SIZE), `f ID` as free and `r ID
 * SIZE` as realloc (SIZE 0 as realloc(p, 1), as the model does: glibc's
 * realloc(p, 0) would free the block, which the trace keeps). Timing,
 * marks and stack lines are skipped; reference events (`+`, `-`) are
 * refused: a trace whose frees come from reference counting needs the
 * simulated heap (memsim replay). "Call N" below is the N-th a/f/r.
 *
 * After a call the blocks are written as --touch says (all: every byte
 * of a new block and of the part a realloc added, the default; first:
 * the first byte of each page the block covers; none).
 *
 * Output, one line each, `key value` pairs:
 *   point CALL ...     after call CALL (every N-th with --every, each
 *                      listed with --at): mallinfo2()'s nine fields,
 *                      heap (brk - heap start), footprint (heap +
 *                      hblkhd) and heap_rss (the [heap] mapping's Rss in
 *                      /proc/self/smaps: the brk heap's resident bytes)
 *   chunk OFF SIZE P   with --layout, at the end: every chunk of the brk
 *                      heap from its start (OFF from the start), P the
 *                      chunk's PREV_INUSE bit; then `top OFF SIZE`
 *   end ...            calls, the same fields at the end, peak_footprint
 *                      (heap + mmapped chunks, after every call),
 *                      seconds and the process's peak RSS
 *
 * Nothing here calls malloc but the replayed calls: the ID table and the
 * input buffer are mmap'd, output is formatted by hand and written with
 * write(2), so the heap is the trace's alone. At start the heap must be
 * empty (mallinfo2 arena 0) and the break page-aligned, else exit 70.
 * Exit status: 0; 64 usage; 65 a trace it cannot follow (file:line:
 * text: why); 66 unreadable; 71 a failed allocation or mmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "decimal.h"

#define PAGE 4096u
#define INBUF (1u << 20)          /* bytes read at once */
#define LINE_MAX_LEN 65536u       /* bytes: longest line accepted */
#define OUTBUF (1u << 16)         /* bytes buffered before a write */
#define MAX_AT 64                 /* --at entries */

enum touch { TOUCH_ALL, TOUCH_FIRST, TOUCH_NONE };

struct entry {
	uint64_t id;            /* 0: empty */
	char *p;
	uint64_t size;          /* bytes requested */
};

static struct entry *tab;
static uint64_t mask, used;
static char out[OUTBUF];
static size_t outlen;

/* ---- output without stdio ---------------------------------------------- */

static void flush(void)
{
	size_t off = 0;

	while (off < outlen) {
		ssize_t w = write(1, out + off, outlen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(74);
		off += (size_t)w;
	}
	outlen = 0;
}

static void put(const char *s)
{
	size_t n = strlen(s);

	if (outlen + n > sizeof out)
		flush();
	memcpy(out + outlen, s, n);
	outlen += n;
}

static void put_u(uint64_t v)
{
	char b[DECIMAL_U64_MAX + 1];

	*decimal_put_u64(b, v) = 0;
	put(b);
}

static void num(uint64_t v)
{
	put(" ");
	put_u(v);
}

static void kv(const char *k, uint64_t v)
{
	put(" ");
	put(k);
	put(" ");
	put_u(v);
}

static void die(int status, const char *a, const char *b, const char *c)
{
	flush();
	outlen = 0;
	put("replay-real: ");
	put(a);
	put(b ? b : "");
	put(c ? c : "");
	put("\n");
	if (write(2, out, outlen) < 0)
		_exit(status);
	_exit(status);
}

/* ---- the ID table, in mmap'd memory ------------------------------------- */

static void *map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die(71, "cannot map the ID table", NULL, NULL);
	return p;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 29;
	return x;
}

static struct entry *find(uint64_t id)
{
	uint64_t i = mix(id) & mask;

	while (tab[i].id && tab[i].id != id)
		i = (i + 1) & mask;
	return &tab[i];
}

static void grow(void)
{
	struct entry *old = tab;
	uint64_t n = mask + 1;

	mask = n * 2 - 1;
	tab = map(n * 2 * sizeof *tab);
	for (uint64_t i = 0; i < n; i++)
		if (old[i].id)
			*find(old[i].id) = old[i];
	munmap(old, n * sizeof *tab);
}

static void del(struct entry *e)
{
	uint64_t i = (uint64_t)(e - tab), j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (!tab[j].id)
			break;
		uint64_t home = mix(tab[j].id) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			tab[i] = tab[j];
			i = j;
		}
	}
	tab[i].id = 0;
	used--;
}

/* ---- measuring ------------------------------------------------------------ */

static char *heap_base;
static uint64_t mmapped;          /* bytes of live mmapped chunks */

/* The chunk size of a block if glibc mmapped it (IS_MMAPPED), else 0. */
static uint64_t mmapped_size(const char *p)
{
	uint64_t head;

	memcpy(&head, (const char *)((uintptr_t)p - 8), sizeof head);
	return (head & 2) ? head & ~(uint64_t)7 : 0;
}

static uint64_t heap_bytes(void)
{
	return (uint64_t)((char *)sbrk(0) - heap_base);
}

/* Resident bytes of the [heap] mapping (the brk heap), from
 * /proc/self/smaps, read with read(2) into a static buffer; 0 if none. */
static uint64_t heap_rss(void)
{
	static char sm[1 << 20];
	size_t n = 0;
	ssize_t r;
	int fd = open("/proc/self/smaps", O_RDONLY);

	if (fd < 0)
		return 0;
	while (n < sizeof sm - 1 && (r = read(fd, sm + n, sizeof sm - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	sm[n] = 0;
	char *h = strstr(sm, "[heap]");
	char *rss = h ? strstr(h, "\nRss:") : NULL;

	return rss ? strtoull(rss + 5, NULL, 10) * 1024u : 0;
}

static void fields(void)
{
	struct mallinfo2 mi = mallinfo2();

	kv("arena", mi.arena);
	kv("ordblks", mi.ordblks);
	kv("smblks", mi.smblks);
	kv("hblks", mi.hblks);
	kv("hblkhd", mi.hblkhd);
	kv("fsmblks", mi.fsmblks);
	kv("uordblks", mi.uordblks);
	kv("fordblks", mi.fordblks);
	kv("keepcost", mi.keepcost);
	kv("heap", heap_bytes());
	kv("footprint", heap_bytes() + mi.hblkhd);
	kv("heap_rss", heap_rss());
}

/* Every chunk from the heap's start to top. */
static void layout(void)
{
	char *p = heap_base, *end = sbrk(0);

	while (p < end) {
		uint64_t head;

		memcpy(&head, p + 8, sizeof head);
		uint64_t size = head & ~(uint64_t)7;

		if (size == 0 || p + size >= end) {
			put("top");
			num((uint64_t)(p - heap_base));
			num((uint64_t)(end - p));
			put("\n");
			return;
		}
		uint64_t nhead;

		memcpy(&nhead, p + size + 8, sizeof nhead);
		put("chunk");
		num((uint64_t)(p - heap_base));
		num(size);
		num(nhead & 1);
		put("\n");
		p += size;
	}
}

static void touch(char *p, uint64_t from, uint64_t to, enum touch t)
{
	if (t == TOUCH_NONE || from >= to)
		return;
	if (t == TOUCH_ALL) {
		memset(p + from, 0x5a, to - from);
		return;
	}
	for (uint64_t o = from; o < to;) {
		p[o] = 0x5a;
		o = (((uintptr_t)(p + o) / PAGE + 1) * PAGE) - (uintptr_t)p;
	}
}

/* ---- parsing --------------------------------------------------------------- */

static const char *path;
static uint64_t lineno;

static void bad(const char *line, size_t len, const char *why)
{
	char num[DECIMAL_U64_MAX + 1];

	flush();
	*decimal_put_u64(num, lineno) = 0;
	put("replay-real: ");
	put(path);
	put(":");
	put(num);
	put(": ");
	if (len > 200)
		len = 200;
	if (outlen + len < sizeof out) {
		memcpy(out + outlen, line, len);
		outlen += len;
	}
	put(": ");
	put(why);
	put("\n");
	if (write(2, out, outlen) < 0)
		_exit(65);
	_exit(65);
}

/* A number field (decimal or 0x hex); *s moves past it. */
static int field(const char **s, const char *end, uint64_t *v)
{
	const char *p = *s;
	char *e;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p < '0' || *p > '9')
		return -1;
	errno = 0;
	*v = strtoull(p, &e, 0);
	if (errno || e == p || (e < end && *e != ' ' && *e != '\t' && *e != '\r'))
		return -1;
	*s = e;
	return 0;
}

struct opts {
	uint64_t every;
	uint64_t at[MAX_AT];
	int nat;
	int layout;
	enum touch touch;
};

static int is_point(const struct opts *o, uint64_t call)
{
	if (o->every && call % o->every == 0)
		return 1;
	for (int k = 0; k < o->nat; k++)
		if (o->at[k] == call)
			return 1;
	return 0;
}

static uint64_t calls, peak;

/* One line (without its newline). */
static void event(const struct opts *o, const char *line, size_t len)
{
	const char *s = line + 1, *end = line + len;
	uint64_t id, size;
	struct entry *e;

	if (len == 0 || line[0] == '#' || (len == 1 && line[0] == '\r'))
		return;
	if (len > 1 && line[1] != ' ' && line[1] != '\t' && line[1] != '\r')
		bad(line, len, "not an event line");
	switch (line[0]) {
	case 'a':
		if (field(&s, end, &id) || field(&s, end, &size))
			bad(line, len, "malformed a line");
		if ((used + 1) * 2 > mask + 1)
			grow();
		e = find(id);
		if (e->id)
			bad(line, len, "ID is already live");
		e->p = malloc(size);
		if (!e->p)
			die(71, "malloc failed", NULL, NULL);
		e->id = id;
		e->size = size;
		used++;
		mmapped += mmapped_size(e->p);
		touch(e->p, 0, size, o->touch);
		break;
	case 'f':
		if (field(&s, end, &id))
			bad(line, len, "malformed f line");
		e = find(id);
		if (!e->id)
			bad(line, len, "ID is not live");
		mmapped -= mmapped_size(e->p);
		free(e->p);
		del(e);
		break;
	case 'r':
		if (field(&s, end, &id) || field(&s, end, &size))
			bad(line, len, "malformed r line");
		e = find(id);
		if (!e->id)
			bad(line, len, "ID is not live");
		mmapped -= mmapped_size(e->p);
		e->p = realloc(e->p, size ? size : 1);
		if (!e->p)
			die(71, "realloc failed", NULL, NULL);
		mmapped += mmapped_size(e->p);
		touch(e->p, e->size, size, o->touch);
		e->size = size;
		break;
	case '+':
	case '-':
		bad(line, len, "reference events need the simulated heap "
		    "(memsim replay -p real:glibc)");
		return;
	case '@': case 'c': case 's': case 'k': case 'm': case 'g': case 'h': case 'e':
		return;
	default:
		bad(line, len, "unknown event");
	}
	calls++;
	uint64_t fp = heap_bytes() + mmapped;

	if (fp > peak)
		peak = fp;
	if (is_point(o, calls)) {
		put("point");
		kv("call", calls);
		fields();
		put("\n");
	}
}

static void usage(void)
{
	die(64, "usage: replay-real [--every N] [--at N[,N...]] [--layout] "
	    "[--touch all|first|none] FILE|-", NULL, NULL);
}

static uint64_t number_arg(const char *s)
{
	char *e;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || *e)
		usage();
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--layout")) {
			o->layout = 1;
		} else if (!strcmp(a, "--every") && i + 1 < argc) {
			o->every = number_arg(argv[++i]);
		} else if (!strcmp(a, "--touch") && i + 1 < argc) {
			const char *t = argv[++i];

			if (!strcmp(t, "all"))
				o->touch = TOUCH_ALL;
			else if (!strcmp(t, "first"))
				o->touch = TOUCH_FIRST;
			else if (!strcmp(t, "none"))
				o->touch = TOUCH_NONE;
			else
				usage();
		} else if (!strcmp(a, "--at") && i + 1 < argc) {
			char *s = argv[++i];

			for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
				if (o->nat == MAX_AT)
					usage();
				o->at[o->nat++] = number_arg(tok);
			}
		} else {
			usage();
		}
	}
	if (i + 1 != argc)
		usage();
	path = argv[i];
}

/* Reads the trace through an mmap'd window, one line at a time. */
static void replay(int fd, const struct opts *o)
{
	char *buf = map(INBUF + LINE_MAX_LEN);
	size_t have = 0;

	for (;;) {
		ssize_t n = read(fd, buf + have, INBUF + LINE_MAX_LEN - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(66, "cannot read ", path, NULL);
		have += (size_t)n;
		size_t start = 0;

		for (size_t k = 0; k < have; k++)
			if (buf[k] == '\n') {
				lineno++;
				event(o, buf + start, k - start);
				start = k + 1;
			}
		if (n == 0) {
			if (start < have) {
				lineno++;
				event(o, buf + start, have - start);
			}
			return;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == INBUF + LINE_MAX_LEN)
			bad(buf, have, "line too long");
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .touch = TOUCH_ALL };
	struct timespec t0, t1;
	struct rusage ru;
	int fd;

	parse_args(argc, argv, &o);
	heap_base = sbrk(0);
	if (mallinfo2().arena != 0 || (uintptr_t)heap_base % PAGE)
		die(70, "the heap is not fresh at start", NULL, NULL);
	fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	if (fd < 0)
		die(66, "cannot open ", path, NULL);
	mask = 1023;
	tab = map((mask + 1) * sizeof *tab);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	replay(fd, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	if (o.layout)
		layout();
	uint64_t ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
		      (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;

	put("end");
	kv("calls", calls);
	fields();
	kv("peak_footprint", peak);
	kv("live_blocks", used);
	kv("ns", ns);
	kv("process_peak_rss", (uint64_t)ru.ru_maxrss * 1024u);
	put("\n");
	flush();
	return 0;
}
