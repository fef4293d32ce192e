/*
 * replay-real.c - replays a trace's allocator calls on a real allocator
 * in a fresh process: glibc's malloc (the ground truth the `glibc` model
 * is checked against: docs/policies.md, "Fidelity"), jemalloc, tcmalloc
 * or mimalloc (docs/policies.md, "Real allocators").
 *
 * usage: replay-real [--lib glibc|jemalloc|tcmalloc|mimalloc] [--every N]
 *                    [--at N[,N...]] [--layout] [--touch all|first|none]
 *                    FILE|-|--stream
 *
 * --stream is the child of memsim's real: policies (sim/alloc_real.c):
 * instead of a trace it reads the binary records of sim/real_proto.h on
 * stdin (the calls the simulated heap makes, each with its trace event)
 * and answers a `point` line for each REAL_SAMPLE and the `end` line for
 * REAL_END on stdout; --every N then only measures (for the peaks) and
 * the end line adds the 1-based event of each peak (peak_footprint_event,
 * peak_mapped_event, peak_rss_event). End of input before REAL_END
 * exits 0 quietly (memsim stopped early).
 *
 * Reads a memsim text trace (docs/trace-format.md, version 1 or 2) and
 * performs each `a ID SIZE` as malloc(SIZE), `f ID` as free and `r ID
 * SIZE` as realloc (SIZE 0 as realloc(p, 1), as the model does: glibc's
 * realloc(p, 0) would free the block, which the trace keeps). Timing,
 * marks and stack lines are skipped; reference events (`+`, `-`) are
 * refused: a trace whose frees come from reference counting needs the
 * simulated heap (memsim replay). "Call N" below is the N-th a/f/r.
 *
 * --lib other than glibc re-executes this program with the library in
 * LD_PRELOAD, so it serves every malloc of the process; a library that is
 * not installed is an error naming its Debian package (exit 78).
 *
 * After a call the blocks are written as --touch says (all: every byte
 * of a new block and of the part a realloc added, the default; first:
 * the first byte of each page the block covers; none).
 *
 * Output, one line each, `key value` pairs:
 *   point CALL ...     after call CALL (every N-th with --every, each
 *                      listed with --at): the measures below
 *   chunk OFF SIZE P   glibc with --layout, at the end: every chunk of the
 *                      brk heap from its start, P its PREV_INUSE bit;
 *                      then `top OFF SIZE`
 *   end ...            calls, the measures at the end, the peaks, ns,
 *                      cpu_ns (user + system) and the process's peak RSS
 *                      (getrusage, everything)
 * The measures: `mapped` and `rss`, the bytes and resident bytes of the
 * process's anonymous memory (the brk heap and nameless mappings, from
 * /proc/self/smaps) less this program's own tables; with glibc also less
 * what there was before the first call (the loader's and the C library's
 * data: no malloc has run yet). A preloaded library has usually set up
 * its arenas by then, which is its own memory and stays counted. The
 * amounts before the first call are printed at the end (`base_mapped`,
 * `base_rss`). Then the library's
 * own statistics: glibc mallinfo2()'s nine fields, `heap` (brk - heap
 * start), `footprint` (heap + hblkhd), `heap_rss` (the [heap] mapping's
 * Rss); jemalloc mallctl stats.allocated, active, metadata, resident,
 * mapped, retained (after an epoch refresh); tcmalloc MallocExtension
 * generic.current_allocated_bytes, generic.heap_size,
 * tcmalloc.pageheap_free_bytes, tcmalloc.pageheap_unmapped_bytes;
 * mimalloc mi_process_info current/peak rss and commit. `end` adds
 * peak_mapped and peak_rss (the largest at the points and the end) and,
 * for glibc, peak_footprint (heap + mmapped chunks after every call).
 *
 * Nothing here calls malloc but the replayed calls: the ID table, the
 * input, output and smaps buffers are mmap'd (and marked MADV_DONTFORK,
 * so the kernel never merges them with an allocator's mappings, which
 * keeps them apart in smaps), output is formatted by hand and written
 * with write(2). With glibc the heap must be empty at start (mallinfo2
 * arena 0) and the break page-aligned, else exit 70.
 * Exit status: 0; 64 usage; 65 a trace it cannot follow (file:line:
 * text: why); 66 unreadable; 71 a failed allocation or mmap; 78 the
 * library is not installed. REPLAY_REAL_LIBDIR, if set, is the only
 * directory searched for the library (tests use it to name a missing one).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
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
#include "real_proto.h"

#define PAGE 4096u
#define INBUF (1u << 20)          /* bytes read at once */
#define LINE_MAX_LEN 65536u       /* bytes: longest line accepted */
#define OUTBUF (1u << 16)         /* bytes buffered before a write */
#define MAX_AT 64                 /* --at entries */
#define SMAPS_BUF (4u << 20)      /* bytes: /proc/self/smaps read at once */
#define MAX_OWN 8                 /* own mapped regions */

enum touch { TOUCH_ALL, TOUCH_FIRST, TOUCH_NONE };

struct entry {
	uint64_t id;            /* 0: empty */
	char *p;
	uint64_t size;          /* bytes requested */
};

static struct entry *tab;
static uint64_t mask, used;
static char *out;                 /* OUTBUF bytes, mmap'd */
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

	if (outlen + n > OUTBUF)
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

/* This program's own mappings, kept out of the measures. */
static struct own { char *p; size_t len; } own[MAX_OWN];

static void *map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(71);
	madvise(p, bytes, MADV_DONTFORK);
	for (int k = 0; k < MAX_OWN; k++)
		if (!own[k].p) {
			own[k] = (struct own){ p, bytes };
			return p;
		}
	_exit(70);
}

static void unmap(void *p, size_t bytes)
{
	for (int k = 0; k < MAX_OWN; k++)
		if (own[k].p == p)
			own[k].p = NULL;
	munmap(p, bytes);
}

static int is_own(uintptr_t a)
{
	for (int k = 0; k < MAX_OWN; k++)
		if (own[k].p && a >= (uintptr_t)own[k].p &&
		    a < (uintptr_t)own[k].p + own[k].len)
			return 1;
	return 0;
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
	unmap(old, n * sizeof *tab);
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

/* ---- the libraries ------------------------------------------------------ */

static int lib;                  /* enum real_lib */
static void *probe;               /* the library's statistics entry point */

static void missing(void)
{
	flush();
	put("replay-real: real:");
	put(real_libs[lib].name);
	put(": ");
	put(real_libs[lib].soname);
	put(" is not installed (Debian package ");
	put(real_libs[lib].package);
	put(": apt-get install ");
	put(real_libs[lib].package);
	put(")\n");
	if (write(2, out, outlen) < 0)
		_exit(78);
	_exit(78);
}

/* With a library other than glibc: exec again with it in LD_PRELOAD (the
 * first time), or check that it came (the second). */
static void load_library(char **argv)
{
	char path[512];

	if (lib == REAL_GLIBC)
		return;
	if (getenv("REPLAY_REAL_PRELOADED")) {
		probe = dlsym(RTLD_DEFAULT, real_libs[lib].probe);
		if (!probe)
			missing();
		return;
	}
	const char *only = getenv(REAL_LIBDIR_ENV);
	const char *const one[] = { only, NULL };
	const char *const *dirs = only ? one : real_libdirs;

	for (int k = 0; dirs[k]; k++) {
		size_t n = strlen(dirs[k]);

		if (n + strlen(real_libs[lib].soname) + 2 > sizeof path)
			continue;
		memcpy(path, dirs[k], n);
		path[n] = '/';
		memcpy(path + n + 1, real_libs[lib].soname, strlen(real_libs[lib].soname) + 1);
		if (access(path, R_OK) == 0) {  /* path: found in dirs[k] */
			setenv("LD_PRELOAD", path, 1);
			setenv("REPLAY_REAL_PRELOADED", "1", 1);
			execv("/proc/self/exe", argv);
			die(71, "cannot exec /proc/self/exe", NULL, NULL);
		}
	}
	missing();
}

/* ---- measuring ------------------------------------------------------------ */

static char *heap_base;
static uint64_t mmapped;          /* glibc: bytes of live mmapped chunks */

/* The chunk size of a block if glibc mmapped it (IS_MMAPPED), else 0. */
static uint64_t mmapped_size(const char *p)
{
	uint64_t head;

	if (lib != REAL_GLIBC)
		return 0;
	memcpy(&head, (const char *)((uintptr_t)p - 8), sizeof head);
	return (head & 2) ? head & ~(uint64_t)7 : 0;
}

static uint64_t heap_bytes(void)
{
	return (uint64_t)((char *)sbrk(0) - heap_base);
}

struct anon {
	uint64_t mapped, rss, heap_rss;   /* bytes */
};

static char *smaps;               /* SMAPS_BUF bytes, mmap'd */

/* One line of /proc/self/smaps; *count: the current mapping is measured. */
static void smaps_line(const char *l, const char *end, struct anon *m, int *count,
		       int *heap)
{
	if ((*l >= '0' && *l <= '9') || (*l >= 'a' && *l <= 'f')) {
		char *e;
		uint64_t lo = strtoull(l, &e, 16), hi = strtoull(e + 1, &e, 16);
		int field = 0;

		/* perms, offset, dev, inode, then the path (may be absent) */
		while (e < end && field < 4) {
			while (e < end && *e == ' ')
				e++;
			while (e < end && *e != ' ')
				e++;
			field++;
		}
		while (e < end && *e == ' ')
			e++;
		*heap = end - e == 6 && !memcmp(e, "[heap]", 6);
		*count = (e == end || *heap) && !is_own((uintptr_t)lo);
		if (*count)
			m->mapped += hi - lo;
	} else if (*count && end - l > 4 && !memcmp(l, "Rss:", 4)) {
		uint64_t kb = strtoull(l + 4, NULL, 10) * 1024u;

		m->rss += kb;
		if (*heap)
			m->heap_rss += kb;
	}
}

/* The process's anonymous memory less this program's own mappings. */
static struct anon anon_memory(void)
{
	struct anon m = { 0, 0, 0 };
	int fd = open("/proc/self/smaps", O_RDONLY), count = 0, heap = 0;
	size_t have = 0;
	ssize_t n;

	if (fd < 0)
		return m;
	while ((n = read(fd, smaps + have, SMAPS_BUF - have)) > 0) {
		size_t start = 0;

		have += (size_t)n;
		for (size_t k = 0; k < have; k++)
			if (smaps[k] == '\n') {
				smaps_line(smaps + start, smaps + k, &m, &count, &heap);
				start = k + 1;
			}
		memmove(smaps, smaps + start, have - start);
		have -= start;
	}
	close(fd);
	return m;
}

static uint64_t peak_mapped, peak_rss;
static struct anon base;          /* before the first call */

static void glibc_fields(const struct anon *m)
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
	kv("heap_rss", m->heap_rss);
}

static void jemalloc_fields(void)
{
	static const char *const keys[] = { "stats.allocated", "stats.active",
		"stats.metadata", "stats.resident", "stats.mapped", "stats.retained" };
	int (*ctl)(const char *, void *, size_t *, void *, size_t) =
		(int (*)(const char *, void *, size_t *, void *, size_t))probe;
	uint64_t epoch = 1;
	size_t sz = sizeof epoch;

	ctl("epoch", &epoch, &sz, &epoch, sz);
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		size_t v = 0;

		sz = sizeof v;
		ctl(keys[k], &v, &sz, NULL, 0);
		kv(keys[k], v);
	}
}

static void tcmalloc_fields(void)
{
	static const char *const keys[] = { "generic.current_allocated_bytes",
		"generic.heap_size", "tcmalloc.pageheap_free_bytes",
		"tcmalloc.pageheap_unmapped_bytes" };
	int (*get)(const char *, size_t *) = (int (*)(const char *, size_t *))probe;

	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		size_t v = 0;

		get(keys[k], &v);
		kv(keys[k], v);
	}
}

static void mimalloc_fields(void)
{
	void (*info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
		     size_t *, size_t *) =
		(void (*)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
			  size_t *, size_t *))probe;
	size_t el, us, sy, rss, prss, com, pcom, pf;

	info(&el, &us, &sy, &rss, &prss, &com, &pcom, &pf);
	kv("mi.current_rss", rss);
	kv("mi.peak_rss", prss);
	kv("mi.current_commit", com);
	kv("mi.peak_commit", pcom);
}

/* The event (1-based, --stream) of the call being replayed, and of each
 * peak. */
static uint64_t cur_event, peak_event, peak_mapped_event, peak_rss_event;

/* The anonymous memory now, less the base with glibc; notes the peaks. */
static struct anon measure(void)
{
	struct anon m = anon_memory();

	if (lib == REAL_GLIBC) {   /* the loader's and libc's data, no malloc yet */
		m.mapped = m.mapped > base.mapped ? m.mapped - base.mapped : 0;
		m.rss = m.rss > base.rss ? m.rss - base.rss : 0;
	}
	if (m.mapped > peak_mapped) {
		peak_mapped = m.mapped;
		peak_mapped_event = cur_event;
	}
	if (m.rss > peak_rss) {
		peak_rss = m.rss;
		peak_rss_event = cur_event;
	}
	return m;
}

/* The measures after a call (or at the end). */
static void fields(void)
{
	struct anon m = measure();

	kv("mapped", m.mapped);
	kv("rss", m.rss);
	switch (lib) {
	case REAL_GLIBC: glibc_fields(&m); break;
	case REAL_JEMALLOC: jemalloc_fields(); break;
	case REAL_TCMALLOC: tcmalloc_fields(); break;
	default: mimalloc_fields(); break;
	}
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
	if (outlen + len < OUTBUF) {
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
	int stream;             /* --stream: records on stdin (below) */
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

/* A failed malloc/realloc: says which call (and event with --stream). */
static void call_failed(const char *what, uint64_t size)
{
	char b[3][DECIMAL_U64_MAX + 1];

	*decimal_put_u64(b[0], size) = 0;
	*decimal_put_u64(b[1], calls + 1) = 0;
	*decimal_put_u64(b[2], cur_event) = 0;
	flush();
	put("replay-real: ");
	put(what);
	put(" of ");
	put(b[0]);
	put(" bytes failed (call ");
	put(b[1]);
	if (cur_event) {
		put(", trace event ");
		put(b[2]);
	}
	put("): out of memory\n");
	if (write(2, out, outlen) < 0)
		_exit(71);
	_exit(71);
}

static void call_alloc(const struct opts *o, uint64_t id, uint64_t size,
		       const char *line, size_t len)
{
	struct entry *e;

	if ((used + 1) * 2 > mask + 1)
		grow();
	e = find(id);
	if (e->id)
		bad(line, len, "ID is already live");
	e->p = malloc(size);
	if (!e->p)
		call_failed("malloc", size);
	e->id = id;
	e->size = size;
	used++;
	mmapped += mmapped_size(e->p);
	touch(e->p, 0, size, o->touch);
}

static void call_free(uint64_t id, const char *line, size_t len)
{
	struct entry *e = find(id);

	if (!e->id)
		bad(line, len, "ID is not live");
	mmapped -= mmapped_size(e->p);
	free(e->p);
	del(e);
}

static void call_realloc(const struct opts *o, uint64_t id, uint64_t size,
			 const char *line, size_t len)
{
	struct entry *e = find(id);

	if (!e->id)
		bad(line, len, "ID is not live");
	mmapped -= mmapped_size(e->p);
	e->p = realloc(e->p, size ? size : 1);
	if (!e->p)
		call_failed("realloc", size ? size : 1);
	mmapped += mmapped_size(e->p);
	touch(e->p, e->size, size, o->touch);
	e->size = size;
}

/* After each call: the exact footprint peak (glibc), the points. */
static void after_call(const struct opts *o)
{
	calls++;
	uint64_t fp = heap_bytes() + mmapped;

	if (fp > peak) {
		peak = fp;
		peak_event = cur_event;
	}
	if (o->stream) {
		if (o->every && calls % o->every == 0)
			(void)measure();
		return;
	}
	if (is_point(o, calls)) {
		put("point");
		kv("call", calls);
		fields();
		put("\n");
	}
}

/* One line (without its newline). */
static void event(const struct opts *o, const char *line, size_t len)
{
	const char *s = line + 1, *end = line + len;
	uint64_t id, size;

	if (len == 0 || line[0] == '#' || (len == 1 && line[0] == '\r'))
		return;
	if (len > 1 && line[1] != ' ' && line[1] != '\t' && line[1] != '\r')
		bad(line, len, "not an event line");
	switch (line[0]) {
	case 'a':
		if (field(&s, end, &id) || field(&s, end, &size))
			bad(line, len, "malformed a line");
		call_alloc(o, id, size, line, len);
		break;
	case 'f':
		if (field(&s, end, &id))
			bad(line, len, "malformed f line");
		call_free(id, line, len);
		break;
	case 'r':
		if (field(&s, end, &id) || field(&s, end, &size))
			bad(line, len, "malformed r line");
		call_realloc(o, id, size, line, len);
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
	after_call(o);
}

static void usage(void)
{
	die(64, "usage: replay-real [--lib glibc|jemalloc|tcmalloc|mimalloc] "
	    "[--every N] [--at N[,N...]] [--layout] "
	    "[--touch all|first|none] FILE|-|--stream", NULL, NULL);
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
		} else if (!strcmp(a, "--stream")) {
			o->stream = 1;
		} else if (!strcmp(a, "--lib") && i + 1 < argc) {
			const char *n = argv[++i];

			for (lib = 0; lib < REAL_LIBS_ && strcmp(real_libs[lib].name, n); lib++)
				;
			if (lib == REAL_LIBS_)
				usage();
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
	if (o->stream && i == argc) {
		path = "(memsim's stream)";
		return;
	}
	if (i + 1 != argc || o->stream)
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

static struct timespec t0;

/* The `end` line: the measures at the end, the peaks and the costs. */
static void end_line(const struct opts *o)
{
	struct timespec t1;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	if (o->layout && lib == REAL_GLIBC)
		layout();
	uint64_t ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
		      (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;

	put("end");
	kv("calls", calls);
	fields();
	kv("peak_mapped", peak_mapped);
	kv("peak_rss", peak_rss);
	if (lib == REAL_GLIBC)
		kv("peak_footprint", peak);
	if (o->stream) {
		if (lib == REAL_GLIBC)
			kv("peak_footprint_event", peak_event);
		kv("peak_mapped_event", peak_mapped_event);
		kv("peak_rss_event", peak_rss_event);
	}
	kv("base_mapped", base.mapped);
	kv("base_rss", base.rss);
	kv("live_blocks", used);
	kv("ns", ns);
	kv("cpu_ns", (uint64_t)ru.ru_utime.tv_sec * 1000000000u +
		     (uint64_t)ru.ru_utime.tv_usec * 1000u +
		     (uint64_t)ru.ru_stime.tv_sec * 1000000000u +
		     (uint64_t)ru.ru_stime.tv_usec * 1000u);
	kv("process_peak_rss", (uint64_t)ru.ru_maxrss * 1024u);
	put("\n");
	flush();
}

/* One record of the stream; 1 after REAL_END. */
static int stream_record(const struct opts *o, const struct real_rec *r)
{
	static const char what[] = "a record of memsim's real: policy";

	cur_event = r->op_event & REAL_EVENT_MASK;
	lineno = cur_event;
	switch (r->op_event >> REAL_OP_SHIFT) {
	case REAL_ALLOC:
		call_alloc(o, r->id, r->size, what, sizeof what - 1);
		break;
	case REAL_FREE:
		call_free(r->id, what, sizeof what - 1);
		break;
	case REAL_REALLOC:
		call_realloc(o, r->id, r->size, what, sizeof what - 1);
		break;
	case REAL_SAMPLE:
		put("point");
		kv("call", calls);
		kv("event", cur_event);
		fields();
		put("\n");
		flush();
		return 0;
	case REAL_END:
		end_line(o);
		return 1;
	default:
		die(70, "unknown record from memsim", NULL, NULL);
	}
	after_call(o);
	return 0;
}

/*
 * --stream: the records of sim/real_proto.h on stdin, answers on stdout.
 * End of input before REAL_END means memsim stopped early: exit 0 quietly.
 */
static void stream(const struct opts *o)
{
	size_t cap = (INBUF / sizeof(struct real_rec)) * sizeof(struct real_rec);
	char *buf = map(cap);
	size_t have = 0;

	for (;;) {
		ssize_t n = read(0, buf + have, cap - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(66, "cannot read the stream from memsim", NULL, NULL);
		if (n == 0)
			_exit(0);
		have += (size_t)n;
		size_t k = 0;

		for (; k + sizeof(struct real_rec) <= have; k += sizeof(struct real_rec)) {
			struct real_rec r;

			memcpy(&r, buf + k, sizeof r);
			if (stream_record(o, &r))
				return;
		}
		memmove(buf, buf + k, have - k);
		have -= k;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .touch = TOUCH_ALL };
	int fd = 0;

	out = map(OUTBUF);
	parse_args(argc, argv, &o);
	load_library(argv);
	smaps = map(SMAPS_BUF);
	heap_base = sbrk(0);
	if (lib == REAL_GLIBC && (mallinfo2().arena != 0 || (uintptr_t)heap_base % PAGE))
		die(70, "the heap is not fresh at start", NULL, NULL);
	if (!o.stream)
		fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	if (fd < 0)
		die(66, "cannot open ", path, NULL);
	mask = 1023;
	tab = map((mask + 1) * sizeof *tab);
	base = anon_memory();
	base.heap_rss = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o.stream) {
		stream(&o);
		return 0;
	}
	replay(fd, &o);
	end_line(&o);
	return 0;
}
