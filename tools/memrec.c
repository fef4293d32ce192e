/*
 * memrec.c - an LD_PRELOAD library that records a program's heap calls as
 * a memsim trace (docs/recording.md, "Recording any program with memrec";
 * the format is ../shared/trace-format.md). Started by tools/memrec.
 *
 * What it records: every successful malloc, calloc, realloc, reallocarray,
 * free, posix_memalign, aligned_alloc, memalign, valloc and pvalloc of the
 * process and its threads, as
 *   a ID SIZE    a new block (SIZE = the requested bytes; pvalloc: the
 *                page-rounded size it guarantees)
 *   r ID SIZE    realloc, wherever the block moved: ID stays the same
 *   f ID         free, realloc(p, 0)
 *   @ T          ns of CLOCK_MONOTONIC since the recording began, rounded
 *                down to MEMREC_TIME_NS, written only when it advanced
 * NULL results are not recorded; free(NULL) and frees of blocks the
 * recorder never saw (allocated before it started, or by itself) are not
 * recorded (the latter are counted in the closing comment).
 *
 * How:
 *  1. Each wrapper finds the next definition with dlsym(RTLD_NEXT). dlsym
 *     itself calls calloc/malloc before those pointers are known: such
 *     calls get memory from a static bootstrap arena, never freed.
 *  2. A thread-local flag marks "inside the recorder": allocations made
 *     while it is set (by dlsym, by the real allocator calling itself, by
 *     pthread_atfork) pass straight to the real allocator unrecorded, so
 *     nothing recurses or deadlocks. The recorder's own memory (address
 *     map, text buffer, zlib state) comes from mmap, never from malloc.
 *  3. Addresses map to IDs in an open-addressing hash table (linear
 *     probing, backward-shift deletion, doubled when half full). IDs are
 *     1, 2, 3, ... in allocation order and never reused.
 *  4. One mutex covers "update the map, read the clock, append the line",
 *     which gives all threads one order consistent with the clock. A free
 *     is recorded before the real free (so another thread cannot get the
 *     address and record it first); realloc takes the old address out of
 *     the map before the real call and puts the result in after it.
 *  5. Lines go into a large mmap'd buffer; when it fills, it is written
 *     (plain) or deflated with zlib in gzip format (allocating through
 *     mmap) and written, with a sync flush so every complete chunk can be
 *     decompressed even if the process is later killed.
 *  6. fork: the child records nothing by default; with MEMREC_CHILDREN=1
 *     it writes OUT.PID, starting with an `a` line for every block it
 *     inherited. Processes exec'd by children follow the same rule. The
 *     parent's trace is unaffected.
 *  7. exit (destructor) and _exit/_Exit flush and finish the trace, with a
 *     closing comment. Killed by a signal: the file holds the chunks
 *     written so far (a gzip stream without its trailer; a kill during
 *     write(2) can cut the last line).
 *
 * Globals: this is the one place in the project with process-wide state,
 * because malloc has no context argument; it all lives in `R` below.
 *
 * Environment (set by tools/memrec): MEMREC_OUT (path), MEMREC_PID (the
 * PID that writes MEMREC_OUT itself), MEMREC_CHILDREN (0/1),
 * MEMREC_TIME_NS (clock resolution, 0 = no `@` lines; default 1000),
 * MEMREC_GZIP (0/1, default: MEMREC_OUT ends in .gz), MEMREC_GZIP_LEVEL
 * (1-9, default 1), MEMREC_BUF_MB (text buffer, default 4).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "decimal.h"     /* sim/: the one decimal formatter, libc-free */

#define MEMREC_EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define ARENA_SIZE (256u * 1024u)        /* bytes of bootstrap memory */
#define ARENA_ALIGN 16u                  /* bytes, as malloc guarantees */
#define LINE_MAX_BYTES 64u               /* "a " + 20 + " " + 20 + "\n" */
_Static_assert(LINE_MAX_BYTES >= 2 + DECIMAL_U64_MAX + 1 + DECIMAL_U64_MAX + 1,
	       "a two-number line fits in LINE_MAX_BYTES");
#define MAP_INITIAL (1u << 16)           /* entries */
#define PATH_BYTES 4096u
#define HEADER_BYTES 8192u
#define OUT_FD_MIN 500                   /* keep our fd out of the way */

enum rec_state { ST_UNINIT, ST_INITING, ST_ON, ST_OFF };

struct map_entry {
	uintptr_t addr;      /* 0: empty slot */
	uint64_t id;
	uint64_t size;       /* bytes, for a forked child's snapshot */
};

static struct recorder {
	int state;                       /* enum rec_state, atomic */
	pthread_mutex_t lock;            /* guards everything below */
	int fd;
	int gzip;
	int gzip_level;
	int zready;
	z_stream zs;
	char *buf;                       /* raw text, mmap'd */
	size_t len, cap;                 /* bytes */
	unsigned char *zbuf;             /* deflate output, mmap'd */
	size_t zcap;                     /* bytes */
	struct map_entry *map;           /* mmap'd, `mcap` slots, power of 2 */
	size_t mcap, mcount;
	uint64_t next_id;
	uint64_t start_ns, last_t;       /* ns */
	uint64_t res_ns;                 /* 0: no timestamps */
	uint64_t events, unknown_frees;
	int children;
	int failed;
	pid_t owner;                     /* the process writing R.fd */
	char path[PATH_BYTES];
} R = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static __thread int in_rec __attribute__((tls_model("initial-exec")));

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void (*real__exit)(int);
static void (*real__Exit)(int);

/* ---- bootstrap arena (step 1) ---- */

static _Alignas(16) unsigned char arena[ARENA_SIZE];
static size_t arena_used;   /* bytes, atomic */

static int in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	       (const unsigned char *)p < arena + ARENA_SIZE;
}

/* Each block is preceded by ARENA_ALIGN bytes holding its size. */
static void *arena_alloc(size_t n)
{
	size_t need = ARENA_ALIGN + ((n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
	size_t off = __atomic_fetch_add(&arena_used, need, __ATOMIC_RELAXED);

	if (off + need > ARENA_SIZE)
		return NULL;
	memcpy(arena + off, &n, sizeof n);
	return arena + off + ARENA_ALIGN;
}

static size_t arena_size(const void *p)
{
	size_t n;

	memcpy(&n, (const unsigned char *)p - ARENA_ALIGN, sizeof n);
	return n;
}

/* ---- small helpers that never allocate ---- */

static void *os_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	uint64_t v = 0;

	if (!s || !*s)
		return dflt;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void say(const char *a, const char *b)
{
	/* Only on failure: the traced program's stderr is otherwise left alone. */
	ssize_t r = write(2, a, strlen(a));

	r = write(2, b, strlen(b));
	r = write(2, "\n", 1);
	(void)r;
}

/* ---- output (step 5); callers hold R.lock ---- */

static int write_all(const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t w = write(R.fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void stop_recording(const char *why)
{
	if (!R.failed) {
		say("memrec: recording stopped: ", why);
		say("memrec: trace file: ", R.path);
	}
	R.failed = 1;
	__atomic_store_n(&R.state, ST_OFF, __ATOMIC_RELEASE);
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	size_t n = (size_t)items * size + 16u;
	unsigned char *p = os_alloc(n);

	(void)opaque;
	if (!p)
		return Z_NULL;
	memcpy(p, &n, sizeof n);
	return p + 16;
}

static void z_free(voidpf opaque, voidpf addr)
{
	unsigned char *p = (unsigned char *)addr - 16;
	size_t n;

	(void)opaque;
	memcpy(&n, p, sizeof n);
	munmap(p, n);
}

/* Writes the buffer out; `mode` is Z_SYNC_FLUSH or Z_FINISH for gzip. */
static int flush_out(int mode)
{
	if (R.failed)
		return -1;
	if (!R.gzip) {
		if (R.len && write_all(R.buf, R.len)) {
			stop_recording(strerror(errno));
			return -1;
		}
		R.len = 0;
		return 0;
	}
	R.zs.next_in = (Bytef *)R.buf;
	R.zs.avail_in = (uInt)R.len;
	for (;;) {
		int zr;

		R.zs.next_out = R.zbuf;
		R.zs.avail_out = (uInt)R.zcap;
		zr = deflate(&R.zs, mode);
		if (zr == Z_STREAM_ERROR) {
			stop_recording("zlib deflate failed");
			return -1;
		}
		if (write_all(R.zbuf, R.zcap - R.zs.avail_out)) {
			stop_recording(strerror(errno));
			return -1;
		}
		/* Done when deflate had output room to spare (sync flush) or
		 * wrote the trailer (finish). */
		if (mode == Z_FINISH ? zr == Z_STREAM_END : R.zs.avail_out != 0)
			break;
	}
	R.len = 0;
	return 0;
}

/* Room for one line at R.buf + R.len, or NULL when recording stopped. */
static char *line_room(void)
{
	if (UNLIKELY(R.cap - R.len < LINE_MAX_BYTES) && flush_out(Z_SYNC_FLUSH))
		return NULL;
	return R.buf + R.len;
}

static void put_line(char letter, uint64_t x, int two, uint64_t y)
{
	char *p = line_room();

	if (!p)
		return;
	*p++ = letter;
	*p++ = ' ';
	p = decimal_put_u64(p, x);
	if (two) {
		*p++ = ' ';
		p = decimal_put_u64(p, y);
	}
	*p++ = '\n';
	R.len = (size_t)(p - R.buf);
	R.events++;
}

static void put_time(void)
{
	uint64_t t;

	if (!R.res_ns)
		return;
	t = now_ns() - R.start_ns;
	t -= t % R.res_ns;
	if (t > R.last_t) {
		R.last_t = t;
		put_line('@', t, 0, 0);
	}
}

/* ---- address map (step 3); callers hold R.lock ---- */

/*
 * Locality-preserving hash: within one window of cap * 16 bytes, blocks
 * (16-byte aligned, never overlapping) land on consecutive slots in
 * address order, so the mostly-sequential addresses malloc hands out hit
 * the same cache lines; the bits above the window pick a pseudo-random
 * offset so that different windows (arenas, mmap regions) do not pile
 * onto the same slots. A plain multiplicative hash spent ~35% of the
 * recorder's time in cache misses on a Python run (docs/recording.md).
 */
static size_t slot_of(uintptr_t addr, size_t cap)
{
	uint64_t a = (uint64_t)addr >> 4;
	uint64_t window = a / cap;

	return (size_t)(a + window * UINT64_C(0x9E3779B97F4A7C15)) & (cap - 1);
}

static int map_grow(void)
{
	size_t ncap = R.mcap ? R.mcap * 2 : MAP_INITIAL;
	struct map_entry *nm = os_alloc(ncap * sizeof *nm);

	if (!nm)
		return -1;
	for (size_t i = 0; i < R.mcap; i++) {
		size_t s;

		if (!R.map[i].addr)
			continue;
		for (s = slot_of(R.map[i].addr, ncap); nm[s].addr; s = (s + 1) & (ncap - 1))
			;
		nm[s] = R.map[i];
	}
	if (R.map)
		munmap(R.map, R.mcap * sizeof *R.map);
	R.map = nm;
	R.mcap = ncap;
	return 0;
}

/* Inserts or replaces addr's entry. */
static int map_put(uintptr_t addr, uint64_t id, uint64_t size)
{
	size_t s;

	if ((R.mcount + 1) * 2 > R.mcap && map_grow())
		return -1;
	for (s = slot_of(addr, R.mcap); R.map[s].addr; s = (s + 1) & (R.mcap - 1))
		if (R.map[s].addr == addr)
			break;
	if (!R.map[s].addr)
		R.mcount++;
	R.map[s].addr = addr;
	R.map[s].id = id;
	R.map[s].size = size;
	return 0;
}

/* Removes addr, copying its entry to *out; 0 if it was not there. */
static int map_take(uintptr_t addr, struct map_entry *out)
{
	size_t mask = R.mcap - 1, s, j;

	if (!R.mcap)
		return 0;
	for (s = slot_of(addr, R.mcap); R.map[s].addr != addr; s = (s + 1) & mask)
		if (!R.map[s].addr)
			return 0;
	*out = R.map[s];
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (j = (s + 1) & mask; R.map[j].addr; j = (j + 1) & mask) {
		size_t home = slot_of(R.map[j].addr, R.mcap);

		if (((j - home) & mask) >= ((j - s) & mask)) {
			R.map[s] = R.map[j];
			s = j;
		}
	}
	R.map[s].addr = 0;
	R.mcount--;
	return 1;
}

/*
 * Ends the trace (caller holds R.lock): a closing comment, the rest of
 * the buffer, the gzip trailer. `why` NULL: normal end; otherwise why the
 * recording stopped early (the trace is still complete up to here).
 */
static void close_trace(const char *why)
{
	char *p;

	if (R.state == ST_ON && !R.failed) {
		if (R.cap - R.len >= 256) {
			p = R.buf + R.len;
			p = put_str(p, "# memrec: ");
			if (why) {
				p = put_str(p, "recording stopped: ");
				p = put_str(p, why);
				p = put_str(p, "; ");
			}
			p = decimal_put_u64(p, R.events);
			p = put_str(p, " events; ");
			p = decimal_put_u64(p, R.mcount);
			p = put_str(p, why ? " blocks live; " : " blocks live at exit; ");
			p = decimal_put_u64(p, R.unknown_frees);
			p = put_str(p, " frees of blocks allocated before recording or by the recorder, not recorded\n");
			R.len = (size_t)(p - R.buf);
		}
		flush_out(Z_FINISH);
		if (R.zready)
			deflateEnd(&R.zs);
		R.zready = 0;
		close(R.fd);
		R.fd = -1;
		if (why)
			say("memrec: recording stopped early: ", why);
	}
	__atomic_store_n(&R.state, ST_OFF, __ATOMIC_RELEASE);
}

/* ---- recording (step 4) ---- */

static void lock(void)
{
	pthread_mutex_lock(&R.lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&R.lock);
}

static void rec_alloc(void *p, uint64_t size)
{
	lock();
	if (LIKELY(R.state == ST_ON)) {
		uint64_t id = ++R.next_id;

		if (map_put((uintptr_t)p, id, size)) {
			close_trace("out of memory for the address map");
		} else {
			put_time();
			put_line('a', id, 1, size);
		}
	}
	unlock();
}

static void rec_free(void *p)
{
	struct map_entry e;

	lock();
	if (LIKELY(R.state == ST_ON)) {
		if (map_take((uintptr_t)p, &e)) {
			put_time();
			put_line('f', e.id, 0, 0);
		} else {
			R.unknown_frees++;
		}
	}
	unlock();
}

/* ---- setup and teardown ---- */

static void write_header(const char *parent_pid)
{
	char *h = R.buf + R.len, *p = h;
	char cmd[2048];
	ssize_t n = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, cmd, sizeof cmd - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	p = put_str(p, "#memsim-trace 1 {\"source\":\"memrec\",\"command\":\"");
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cmd[i];

		if (c == 0) {
			if (i + 1 < n)
				*p++ = ' ';
		} else if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			static const char hex[] = "0123456789abcdef";

			p = put_str(p, "\\u00");
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	p = put_str(p, "\",\"pid\":");
	p = decimal_put_u64(p, (uint64_t)getpid());
	if (parent_pid) {
		p = put_str(p, ",\"parent_pid\":");
		p = put_str(p, parent_pid);
	}
	p = put_str(p, ",\"clock\":\"CLOCK_MONOTONIC\",\"time_resolution_ns\":");
	p = decimal_put_u64(p, R.res_ns);
	p = put_str(p, "}\n");
	R.len += (size_t)(p - h);
}

/* Opens R.path and starts the trace; 0 on success. */
static int open_output(const char *parent_pid)
{
	int fd = open(R.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0) {
		say("memrec: cannot create the trace file ", R.path);
		return -1;
	}
	R.fd = fcntl(fd, F_DUPFD_CLOEXEC, OUT_FD_MIN);
	if (R.fd < 0)
		R.fd = fd;
	else
		close(fd);
	if (R.gzip) {
		memset(&R.zs, 0, sizeof R.zs);
		R.zs.zalloc = z_alloc;
		R.zs.zfree = z_free;
		/* windowBits 15 + 16: a gzip header and trailer (zlib.h). */
		if (deflateInit2(&R.zs, R.gzip_level, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			say("memrec: zlib initialisation failed for ", R.path);
			return -1;
		}
		R.zready = 1;
	}
	R.owner = getpid();
	R.len = 0;
	R.start_ns = now_ns();
	R.last_t = 0;
	write_header(parent_pid);
	return 0;
}

/* Chooses OUT or OUT.PID or nothing for this process; 0: record. */
static int choose_path(void)
{
	const char *out = getenv("MEMREC_OUT");
	uint64_t main_pid = env_u64("MEMREC_PID", 0);
	size_t n;
	char *p;

	if (!out || !*out || strlen(out) + 24 > PATH_BYTES)
		return -1;
	n = strlen(out);
	memcpy(R.path, out, n + 1);
	if ((uint64_t)getpid() == main_pid)
		return 0;
	if (!R.children)
		return -1;
	p = R.path + n;
	*p++ = '.';
	p = decimal_put_u64(p, (uint64_t)getpid());
	*p = '\0';
	return 0;
}

static void finish(void)
{
	/* A vfork child (e.g. Python's subprocess calling _exit after a
	 * failed exec) shares our memory: finishing here would end the
	 * parent's trace. Only the process that opened the file finishes. */
	if (getpid() != R.owner)
		return;
	lock();
	close_trace(NULL);
	unlock();
}

static void atfork_prepare(void)
{
	lock();
}

static void atfork_parent(void)
{
	unlock();
}

/* Step 6. The child has one thread; the lock is ours (held since prepare). */
static void atfork_child(void)
{
	char ppid[24];
	struct map_entry *m;

	pthread_mutex_init(&R.lock, NULL);
	if (R.state != ST_ON)
		return;
	/* The parent's buffered lines and its file belong to the parent. */
	if (R.fd >= 0)
		close(R.fd);
	R.fd = -1;
	if (R.zready)
		deflateEnd(&R.zs);
	R.zready = 0;
	R.len = 0;
	R.events = 0;
	R.unknown_frees = 0;
	in_rec++;
	*decimal_put_u64(ppid, (uint64_t)getppid()) = '\0';
	if (choose_path() || open_output(ppid)) {
		R.state = ST_OFF;
		in_rec--;
		return;
	}
	/* Blocks inherited from the parent are live in the child. */
	m = R.map;
	for (size_t i = 0; i < R.mcap; i++)
		if (m[i].addr)
			put_line('a', m[i].id, 1, m[i].size);
	in_rec--;
}

static void *sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void rec_init(void)
{
	int expected = ST_UNINIT;
	int on = 0;

	if (!__atomic_compare_exchange_n(&R.state, &expected, ST_INITING, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* Another thread is initialising; our own thread's nested calls
		 * never get here (they run with in_rec set). */
		while (__atomic_load_n(&R.state, __ATOMIC_ACQUIRE) == ST_INITING)
			sched_yield();
		return;
	}
	in_rec++;
	real_calloc = (void *(*)(size_t, size_t))sym("calloc");
	real_malloc = (void *(*)(size_t))sym("malloc");
	real_free = (void (*)(void *))sym("free");
	real_realloc = (void *(*)(void *, size_t))sym("realloc");
	real_posix_memalign = (int (*)(void **, size_t, size_t))sym("posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))sym("aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))sym("memalign");
	real_valloc = (void *(*)(size_t))sym("valloc");
	real_pvalloc = (void *(*)(size_t))sym("pvalloc");
	real__exit = (void (*)(int))sym("_exit");
	real__Exit = (void (*)(int))sym("_Exit");
	if (!real_malloc || !real_free || !real_calloc || !real_realloc) {
		say("memrec: ", "cannot find the real malloc with dlsym; not recording");
	} else {
		const char *gz = getenv("MEMREC_GZIP");
		size_t mb = (size_t)env_u64("MEMREC_BUF_MB", 4);

		R.children = env_u64("MEMREC_CHILDREN", 0) != 0;
		R.res_ns = env_u64("MEMREC_TIME_NS", 1000);
		R.gzip_level = (int)env_u64("MEMREC_GZIP_LEVEL", 1);
		if (R.gzip_level < 1 || R.gzip_level > 9)
			R.gzip_level = 1;
		if (mb < 1 || mb > 1024)
			mb = 4;
		R.cap = mb << 20;
		pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
		if (choose_path() == 0) {
			/* From OUT, not OUT.PID: a child's file is compressed
			 * like its parent's. */
			const char *out = getenv("MEMREC_OUT");
			size_t n = strlen(out);

			R.gzip = gz && *gz ? gz[0] == '1'
					   : n > 3 && strcmp(out + n - 3, ".gz") == 0;
			R.buf = os_alloc(R.cap);
			R.zcap = R.cap / 2;
			R.zbuf = R.gzip ? os_alloc(R.zcap) : NULL;
			char ppid[24];
			int is_child = (uint64_t)getpid() != env_u64("MEMREC_PID", 0);

			*decimal_put_u64(ppid, (uint64_t)getppid()) = '\0';
			if (R.buf && (!R.gzip || R.zbuf) && map_grow() == 0 &&
			    open_output(is_child ? ppid : NULL) == 0)
				on = 1;
		}
	}
	in_rec--;
	__atomic_store_n(&R.state, on ? ST_ON : ST_OFF, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void memrec_ctor(void)
{
	if (R.state == ST_UNINIT)
		rec_init();
}

__attribute__((destructor)) static void memrec_dtor(void)
{
	in_rec++;
	finish();
	in_rec--;
}

/* 1 when the calling thread should record this call. */
static inline int should_record(void)
{
	if (UNLIKELY(__atomic_load_n(&R.state, __ATOMIC_ACQUIRE) == ST_UNINIT) && !in_rec)
		rec_init();
	return !in_rec && __atomic_load_n(&R.state, __ATOMIC_RELAXED) == ST_ON;
}

/* ---- the interposed functions ---- */

MEMREC_EXPORT void *malloc(size_t n)
{
	void *p;

	if (!should_record())
		return real_malloc ? real_malloc(n) : arena_alloc(n);
	in_rec++;
	p = real_malloc(n);
	if (p)
		rec_alloc(p, n);
	in_rec--;
	return p;
}

MEMREC_EXPORT void *calloc(size_t n, size_t size)
{
	void *p;

	if (!should_record()) {
		if (real_calloc)
			return real_calloc(n, size);
		/* The arena is static, hence zeroed, and never reused. */
		return size && n > SIZE_MAX / size ? NULL : arena_alloc(n * size);
	}
	in_rec++;
	p = real_calloc(n, size);
	if (p)
		rec_alloc(p, (uint64_t)n * size);   /* no overflow: it succeeded */
	in_rec--;
	return p;
}

MEMREC_EXPORT void free(void *p)
{
	if (!p || in_arena(p))
		return;
	if (should_record()) {
		in_rec++;
		rec_free(p);
		real_free(p);
		in_rec--;
		return;
	}
	if (real_free)
		real_free(p);
}

MEMREC_EXPORT void *realloc(void *p, size_t n)
{
	struct map_entry e;
	int known = 0;
	void *q;

	if (p && in_arena(p)) {
		/* A bootstrap block: move it to the real heap (or the arena). */
		size_t old = arena_size(p);

		q = malloc(n);
		if (q)
			memcpy(q, p, old < n ? old : n);
		return q;
	}
	if (!should_record())
		return real_realloc ? real_realloc(p, n) : (p ? NULL : arena_alloc(n));
	in_rec++;
	if (p) {
		lock();
		known = R.state == ST_ON && map_take((uintptr_t)p, &e);
		unlock();
	}
	q = real_realloc(p, n);
	lock();
	if (R.state == ST_ON) {
		if (q) {
			uint64_t id = known ? e.id : ++R.next_id;

			if (map_put((uintptr_t)q, id, n)) {
				close_trace("out of memory for the address map");
			} else {
				put_time();
				put_line(known ? 'r' : 'a', id, 1, n);
			}
		} else if (n == 0 && p) {
			/* glibc's realloc(p, 0) frees p and returns NULL. */
			if (known) {
				put_time();
				put_line('f', e.id, 0, 0);
			} else {
				R.unknown_frees++;
			}
		} else if (known) {
			/* Failed: p is untouched and still live. */
			map_put((uintptr_t)p, e.id, e.size);
		}
	}
	unlock();
	in_rec--;
	return q;
}

MEMREC_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

MEMREC_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	int r;

	if (!should_record())
		return real_posix_memalign(out, align, n);
	in_rec++;
	r = real_posix_memalign(out, align, n);
	if (r == 0 && *out)
		rec_alloc(*out, n);
	in_rec--;
	return r;
}

/* The aligned allocators share one shape: call, record on success. */
#define MEMREC_ALIGNED(name, params, args, size_expr) \
	MEMREC_EXPORT void *name params \
	{ \
		void *p; \
		if (!should_record()) \
			return real_##name args; \
		in_rec++; \
		p = real_##name args; \
		if (p) \
			rec_alloc(p, (size_expr)); \
		in_rec--; \
		return p; \
	}

MEMREC_ALIGNED(aligned_alloc, (size_t align, size_t n), (align, n), n)
MEMREC_ALIGNED(memalign, (size_t align, size_t n), (align, n), n)
MEMREC_ALIGNED(valloc, (size_t n), (n), n)
/* pvalloc guarantees the size rounded up to whole pages (at least one). */
MEMREC_ALIGNED(pvalloc, (size_t n), (n),
	       n ? (n + (size_t)getpagesize() - 1) & ~((size_t)getpagesize() - 1)
		 : (size_t)getpagesize())

MEMREC_EXPORT void _exit(int status)
{
	/* Not in_rec++ here: a vfork child shares the parent's thread-local
	 * flag, and finish() neither allocates nor acts in such a child. */
	finish();
	if (!real__exit)
		real__exit = (void (*)(int))sym("_exit");
	real__exit(status);
	__builtin_unreachable();
}

MEMREC_EXPORT void _Exit(int status)
{
	/* Not in_rec++ here: a vfork child shares the parent's thread-local
	 * flag, and finish() neither allocates nor acts in such a child. */
	finish();
	if (!real__Exit)
		real__Exit = (void (*)(int))sym("_Exit");
	real__Exit(status);
	__builtin_unreachable();
}
