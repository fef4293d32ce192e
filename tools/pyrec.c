/*
 * pyrec.c - record the request stream a real CPython 3.x makes to pymalloc,
 * and CPython's own allocator counters at the end (bin/pyrec-embed; run it
 * through the tools/pyrec wrapper).
 *
 * What it is for: memsim's pymalloc model must reproduce the counters that
 * sys._debugmallocstats() prints. This program produces the ground truth
 * for that comparison: a memsim trace (version 1, /work/shared/
 * trace-format.md) of every PyMem_* and PyObject_* request one interpreter
 * made, and a JSON file with that interpreter's counters at the moment the
 * trace ends.
 *
 * How (docs/recording.md, "Recording CPython with pyrec", has the long form):
 *  1. dlopen() the libpython3.X shared library (RTLD_GLOBAL, so extension
 *     modules in lib-dynload resolve their Py* symbols) and look up every
 *     entry point with dlsym(): one binary serves 3.6 .. 3.13.
 *  2. Before anything else in the library runs, wrap the PYMEM_DOMAIN_MEM (1)
 *     and PYMEM_DOMAIN_OBJ (2) allocators. PyMemAllocatorEx is
 *     {ctx, malloc, calloc, realloc, free} and the domain numbers are the
 *     same in every 3.x (Include/pymem.h 3.6-3.7, Include/cpython/pymem.h
 *     3.8+). Since 3.6 both domains are pymalloc, so both go into one
 *     stream in call order. The hooks call the original allocator and log:
 *     malloc/calloc -> "a ID SIZE" (calloc: nelem*elsize), realloc -> "r ID
 *     SIZE" (realloc(NULL, n) -> "a"), free -> "f ID" (free(NULL) logs
 *     nothing). IDs are 1, 2, 3, ... in allocation order and never reused;
 *     an address -> ID table keeps an ID stable across moving reallocs.
 *     Failed requests (NULL result) are not logged: they changed nothing.
 *  3. Install an arena allocator (PyObjectArenaAllocator {ctx, alloc,
 *     free}) that returns arenas aligned to their own size (mmap twice the
 *     size, trim both ends), so no pool is lost to arena alignment and the
 *     pools per arena do not depend on where mmap happened to put things.
 *     The trace header says "arena_alignment":"aligned".
 *  4. Py_InitializeEx(0), set sys.argv, compile and exec the script in
 *     __main__ (SystemExit ends the script normally).
 *  5. Put the original allocators back (this ends logging: no request after
 *     this point is in the trace and none before it is missing), then call
 *     the interpreter's _PyObject_DebugMallocStats(FILE *) into a temporary
 *     file, parse it and write the JSON. The restore is also needed because
 *     that function prints nothing unless the OBJ allocator *is* pymalloc
 *     (_PyMem_PymallocEnabled(), Objects/obmalloc.c, every 3.x).
 *
 * Threads: PYMEM_DOMAIN_MEM and _OBJ may only be called with the GIL held
 * (C API docs, "Memory Management"), so the hooks take no lock of their
 * own; a script that starts threads is still serialised by the GIL. The
 * free-threaded 3.13t build (no GIL, mimalloc) is not supported. With
 * PYTHONMALLOC=mimalloc (3.13+) the domains are mimalloc's, set up by
 * mimalloc_preinit() before step 2, and step 5 reads mimalloc's counters
 * (mimalloc_stats()).
 *
 * The hooks must never allocate through Python: the log buffer and the
 * address table use the C library's malloc, which CPython's MEM/OBJ
 * domains do not route through.
 *
 * Exit statuses: 0 ok, 1 the script raised an exception, 64 usage, 66
 * library/prefix/script not found, 70 internal failure (a symbol missing,
 * the stats could not be parsed, the script exited the process).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "tracebin.h"
#include "tracetext.h"

enum { EXIT_SCRIPT = 1, EXIT_USAGE = 64, EXIT_NOINPUT = 66, EXIT_SOFTWARE = 70 };

/* The CPython ABI pieces we use, declared here because no Python.h is
 * involved: the same binary loads any 3.x. */
typedef struct {
	void *ctx;
	void *(*malloc)(void *ctx, size_t size);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *ptr, size_t new_size);
	void (*free)(void *ctx, void *ptr);
} py_mem_allocator;

typedef struct {
	void *ctx;
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
} py_arena_allocator;

enum { PY_DOMAIN_MEM = 1, PY_DOMAIN_OBJ = 2 };
enum { PY_FILE_INPUT = 257 }; /* Py_file_input, Include/compile.h 3.x */

typedef struct py_object py_object;

struct py_api {
	const char *(*Py_GetVersion)(void);
	void (*PyMem_GetAllocator)(int, py_mem_allocator *);
	void (*PyMem_SetAllocator)(int, py_mem_allocator *);
	void (*PyObject_GetArenaAllocator)(py_arena_allocator *);
	void (*PyObject_SetArenaAllocator)(py_arena_allocator *);
	void (*Py_InitializeEx)(int);
	int (*_PyObject_DebugMallocStats)(FILE *);
	wchar_t *(*Py_DecodeLocale)(const char *, size_t *);
	void (*PySys_SetArgvEx)(int, wchar_t **, int);
	py_object *(*Py_CompileStringExFlags)(const char *, const char *, int,
					       void *, int);
	py_object *(*PyEval_EvalCode)(py_object *, py_object *, py_object *);
	py_object *(*PyImport_AddModule)(const char *);
	py_object *(*PyModule_GetDict)(py_object *);
	int (*PyDict_SetItemString)(py_object *, const char *, py_object *);
	py_object *(*PyUnicode_FromString)(const char *);
	py_object *(*PyErr_Occurred)(void);
	int (*PyErr_ExceptionMatches)(py_object *);
	void (*PyErr_Print)(void);
	void (*PyErr_Clear)(void);
	void (*Py_DecRef)(py_object *);
	int (*PyRun_SimpleStringFlags)(const char *, void *);
	py_object **PyExc_SystemExit;
	int *Py_NoSiteFlag;
};

/* ---- output: sim/'s trace writers -------------------------------------- */

/* Text (tracetext.h) unless the name ends in .msb or .msb.gz (binary,
 * docs/binary-format.md); gzip when it ends in .gz. Both writers are
 * created by out_header(), which has the metadata the header needs.
 * Write errors are sticky in the writer and reported by out_close(). */
struct out {
	struct tracebin_writer *bin;    /* binary output, or NULL */
	struct tracetext_writer *txt;   /* text output, or NULL */
};

static int is_binary_name(const char *path)
{
	size_t n = strlen(path);

	return (n > 4 && strcmp(path + n - 4, ".msb") == 0) ||
	       (n > 7 && strcmp(path + n - 7, ".msb.gz") == 0);
}

/* Writes the header line "#memsim-trace 1 {...}\n" (hlen bytes) to a new
 * trace `path`, text or binary by its name. */
static int out_header(struct out *o, const char *path, const char *line, size_t hlen)
{
	static const char prefix[] = "#memsim-trace 1 ";
	unsigned flags = sink_name_wants_gzip(path) ? SINK_GZIP : 0;
	struct ms_error err;
	char *meta = strndup(line + sizeof prefix - 1, hlen - sizeof prefix);

	memset(o, 0, sizeof *o);
	if (!meta)
		return -1;
	if (is_binary_name(path))
		o->bin = tracebin_create(path, flags, meta, &err);
	else    /* Level 1: text traces are large and short-lived; speed
		 * matters more than the last 20% of size. */
		o->txt = tracetext_create(path, flags ? flags | SINK_GZIP_FAST : 0,
					  meta, &err);
	free(meta);
	return o->bin || o->txt ? 0 : -1;
}

static void out_alloc(struct out *o, uint64_t id, uint64_t size)
{
	if (o->bin)
		tracebin_alloc(o->bin, id, size, NULL);
	else
		tracetext_alloc(o->txt, id, size, NULL);
}

static void out_resize(struct out *o, uint64_t id, uint64_t size)
{
	if (o->bin)
		tracebin_resize(o->bin, id, size);
	else
		tracetext_resize(o->txt, id, size);
}

static void out_free(struct out *o, uint64_t id)
{
	if (o->bin)
		tracebin_free(o->bin, id);
	else
		tracetext_free(o->txt, id);
}

static int out_close(struct out *o)
{
	int bad = 0;

	if (o->bin)
		bad = tracebin_close(o->bin, NULL) != 0;
	else if (o->txt)
		bad = tracetext_close(o->txt, NULL) != 0;
	o->bin = NULL;
	o->txt = NULL;
	return bad ? -1 : 0;
}

/* Writes S as a JSON string literal. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* ---- address -> ID table ---------------------------------------------- */

/* Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so a long run of alloc/free keeps probes short). Key 0 marks
 * an empty slot: the allocator never returns NULL for a live block. */
struct idmap {
	uintptr_t *key;
	uint64_t *val;
	size_t mask, used;
};

static size_t idmap_slot(const struct idmap *m, uintptr_t k)
{
	uint64_t h = (uint64_t)(k >> 4) * 0x9E3779B97F4A7C15u;
	return (size_t)(h >> 20) & m->mask;
}

static int idmap_init(struct idmap *m, size_t cap)
{
	m->key = calloc(cap, sizeof *m->key);
	m->val = calloc(cap, sizeof *m->val);
	m->mask = cap - 1;
	m->used = 0;
	return m->key && m->val ? 0 : -1;
}

static int idmap_put(struct idmap *m, uintptr_t k, uint64_t v);

static int idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	if (idmap_init(m, (old.mask + 1) * 2) < 0)
		return -1;
	for (size_t i = 0; i <= old.mask; i++)
		if (old.key[i])
			idmap_put(m, old.key[i], old.val[i]);
	free(old.key);
	free(old.val);
	return 0;
}

/* Inserts or replaces K -> V; -1 when out of (C library) memory. */
static int idmap_put(struct idmap *m, uintptr_t k, uint64_t v)
{
	size_t i;
	if ((m->used + 1) * 2 > m->mask + 1 && idmap_grow(m) < 0)
		return -1;
	for (i = idmap_slot(m, k); m->key[i] && m->key[i] != k; i = (i + 1) & m->mask)
		;
	if (!m->key[i])
		m->used++;
	m->key[i] = k;
	m->val[i] = v;
	return 0;
}

/* Removes K and stores its ID in *V; 0 when K was not present. */
static int idmap_take(struct idmap *m, uintptr_t k, uint64_t *v)
{
	size_t i, j;
	for (i = idmap_slot(m, k); m->key[i] != k; i = (i + 1) & m->mask)
		if (!m->key[i])
			return 0;
	*v = m->val[i];
	m->used--;
	/* Backward shift: move later members of the run into the hole when
	 * their home slot is not between the hole and their position. */
	for (j = (i + 1) & m->mask; m->key[j]; j = (j + 1) & m->mask) {
		size_t home = idmap_slot(m, m->key[j]);
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->key[i] = 0;
	return 1;
}

/* ---- the recorder ------------------------------------------------------ */

struct rec;

struct hook {                      /* ctx of one wrapped domain */
	py_mem_allocator orig;
	struct rec *rec;
};

struct rec {
	struct hook mem, obj;
	py_arena_allocator arena_orig;
	struct idmap ids;
	struct out out;
	uint64_t next_id;
	int logging;               /* 1 between hook install and restore */
	int oom;                   /* our own table could not grow */
	uint64_t n_alloc, n_realloc, n_free, n_unknown;
	/* Calls to the arena allocator, by size. Since 3.11 it also serves
	 * _PyObject_VirtualAlloc() for the frame data stack (Python/pystate.c
	 * allocate_chunk), so not every call is a pymalloc arena. */
	struct { size_t size; uint64_t allocs, frees; } vsize[8];
	uint64_t n_vother;
	const char *trace_path, *stats_path;
};

static void rec_alloc(struct rec *r, void *p, size_t size)
{
	uint64_t id = r->next_id++;
	if (idmap_put(&r->ids, (uintptr_t)p, id) < 0)
		r->oom = 1;
	r->n_alloc++;
	out_alloc(&r->out, id, size);
}

static void *hook_malloc(void *ctx, size_t size)
{
	struct hook *h = ctx;
	void *p = h->orig.malloc(h->orig.ctx, size);
	if (p && h->rec->logging)
		rec_alloc(h->rec, p, size);
	return p;
}

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
	struct hook *h = ctx;
	void *p = h->orig.calloc(h->orig.ctx, nelem, elsize);
	/* A non-NULL result means the product did not overflow. */
	if (p && h->rec->logging)
		rec_alloc(h->rec, p, nelem * elsize);
	return p;
}

static void *hook_realloc(void *ctx, void *ptr, size_t size)
{
	struct hook *h = ctx;
	struct rec *r = h->rec;
	void *p = h->orig.realloc(h->orig.ctx, ptr, size);
	uint64_t id;
	if (!p || !r->logging)
		return p;
	if (!ptr) {
		rec_alloc(r, p, size);
		return p;
	}
	/* Same or moved block: the ID follows the address. */
	if (!idmap_take(&r->ids, (uintptr_t)ptr, &id)) {
		r->n_unknown++;
		return p;
	}
	if (idmap_put(&r->ids, (uintptr_t)p, id) < 0)
		r->oom = 1;
	r->n_realloc++;
	out_resize(&r->out, id, size);
	return p;
}

static void hook_free(void *ctx, void *ptr)
{
	struct hook *h = ctx;
	struct rec *r = h->rec;
	uint64_t id;
	if (ptr && r->logging) {
		if (idmap_take(&r->ids, (uintptr_t)ptr, &id)) {
			r->n_free++;
			out_free(&r->out, id);
		} else {
			r->n_unknown++;
		}
	}
	h->orig.free(h->orig.ctx, ptr);
}

/* Arenas aligned to their own size (rounded up to a power of two): map
 * twice the size and unmap the slack on both sides. */
static void arena_count(struct rec *r, size_t size, int is_free)
{
	for (int i = 0; i < 8; i++) {
		if (r->vsize[i].size == 0)
			r->vsize[i].size = size;
		if (r->vsize[i].size == size) {
			if (is_free)
				r->vsize[i].frees++;
			else
				r->vsize[i].allocs++;
			return;
		}
	}
	r->n_vother++;
}

static void *arena_alloc(void *ctx, size_t size)
{
	struct rec *r = ctx;
	size_t align = 1, lead, tail;
	char *p, *a;
	while (align < size)
		align <<= 1;
	p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	lead = (size_t)(a - p);
	tail = align - lead;
	if (lead)
		munmap(p, lead);
	if (tail)
		munmap(a + size, tail);
	arena_count(r, size, 0);
	return a;
}

static void arena_free(void *ctx, void *ptr, size_t size)
{
	struct rec *r = ctx;
	arena_count(r, size, 1);
	munmap(ptr, size);
}

/* ---- _PyObject_DebugMallocStats parsing -------------------------------- */

#define MAX_CLASSES 128

struct size_class {
	unsigned long long cls, size, pools, in_use, avail;
};

/* The counters, in the order they are written. The label is the text
 * between "# " and "=" in obmalloc.c's output (identical in 3.6 .. 3.13). */
#define STATS_COUNTERS(X) \
	X(arenas_allocated_total, "arenas allocated total") \
	X(arenas_reclaimed, "arenas reclaimed") \
	X(arenas_highwater, "arenas highwater mark") \
	X(arenas_allocated_current, "arenas allocated current") \
	X(bytes_in_allocated_blocks, "bytes in allocated blocks") \
	X(bytes_in_available_blocks, "bytes in available blocks") \
	X(unused_pools, NULL) \
	X(bytes_lost_to_pool_headers, "bytes lost to pool headers") \
	X(bytes_lost_to_quantization, "bytes lost to quantization") \
	X(bytes_lost_to_arena_alignment, "bytes lost to arena alignment") \
	X(total, NULL)

enum {
#define X(name, label) ST_##name,
	STATS_COUNTERS(X)
#undef X
	ST_COUNT
};

static const char *const stat_names[ST_COUNT] = {
#define X(name, label) #name,
	STATS_COUNTERS(X)
#undef X
};
static const char *const stat_labels[ST_COUNT] = {
#define X(name, label) label,
	STATS_COUNTERS(X)
#undef X
};

struct stats {
	unsigned long long v[ST_COUNT];
	int have[ST_COUNT];
	unsigned long long threshold, nclasses, arena_size, pool_size;
	struct size_class cls[MAX_CLASSES];
	int ncls;
};

/* Parses "1,234,567" (obmalloc prints big numbers with commas). */
static int parse_num(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	int digits = 0;
	while (*s == ' ')
		s++;
	for (; *s; s++) {
		if (*s == ',')
			continue;
		if (*s < '0' || *s > '9')
			break;
		v = v * 10 + (unsigned long long)(*s - '0');
		digits++;
	}
	while (*s == ' ' || *s == '\n')
		s++;
	if (!digits || *s)
		return -1;
	*out = v;
	return 0;
}

static char *trim(char *s)
{
	char *e;
	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* Parses the first block of _PyObject_DebugMallocStats output (up to its
 * first "Total" line; what follows is the arena map in 3.10+ and the free
 * lists, which the model does not cover). Returns 0, or -1 with a message
 * in ERR naming the line. */
static int stats_parse(FILE *f, struct stats *st, char *err, size_t errlen)
{
	char line[512];
	int lineno = 0, done = 0;
	memset(st, 0, sizeof *st);
	while (!done && fgets(line, sizeof line, f)) {
		char *s = trim(line), *eq;
		struct size_class c;
		unsigned long long a, b;
		char tail;
		lineno++;
		if (!*s || strncmp(s, "class ", 6) == 0 || strncmp(s, "-----", 5) == 0)
			continue;
		if (sscanf(s, "Small block threshold = %llu, in %llu size classes%c",
			   &st->threshold, &st->nclasses, &tail) == 3 && tail == '.')
			continue;
		if (sscanf(s, "%llu %llu %llu %llu %llu%c", &c.cls, &c.size, &c.pools,
			   &c.in_use, &c.avail, &tail) == 5) {
			if (st->ncls == MAX_CLASSES)
				goto bad;
			st->cls[st->ncls++] = c;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			goto bad;
		*eq = 0;
		{
			char *label = trim(s), *value = eq + 1;
			unsigned long long v;
			int k, found = 0;
			if (parse_num(value, &v) < 0)
				goto bad;
			if (label[0] == '#' && label[1] == ' ') {
				for (k = 0; k < ST_COUNT; k++)
					if (stat_labels[k] && strcmp(label + 2, stat_labels[k]) == 0) {
						st->v[k] = v;
						st->have[k] = 1;
						found = 1;
					}
			} else if (sscanf(label, "%llu arenas * %llu bytes/arena%c", &a, &b, &tail) == 2) {
				st->arena_size = b;
				found = 1;
			} else if (sscanf(label, "%llu unused pools * %llu bytes%c", &a, &b, &tail) == 2) {
				st->v[ST_unused_pools] = a;
				st->have[ST_unused_pools] = 1;
				st->pool_size = b;
				found = 1;
			} else if (strcmp(label, "Total") == 0) {
				st->v[ST_total] = v;
				st->have[ST_total] = 1;
				found = done = 1;
			}
			if (!found)
				goto bad;
		}
	}
	for (int k = 0; k < ST_COUNT; k++)
		if (!st->have[k]) {
			snprintf(err, errlen, "the output has no '%s' line",
				 stat_labels[k] ? stat_labels[k] : stat_names[k]);
			return -1;
		}
	if (!st->threshold || !st->arena_size || !st->pool_size) {
		snprintf(err, errlen, "the output lacks the threshold, arena or pool size line");
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "cannot parse line %d of _PyObject_DebugMallocStats output: '%s'",
		 lineno, trim(line));
	return -1;
}

/* Cross-checks the printed table against the printed totals, the way
 * obmalloc.c derives them; a mismatch means we misread something. */
static int stats_check(const struct stats *st, char *err, size_t errlen)
{
	unsigned long long inuse = 0, avail = 0, pools = 0;
	for (int i = 0; i < st->ncls; i++) {
		inuse += st->cls[i].in_use * st->cls[i].size;
		avail += st->cls[i].avail * st->cls[i].size;
		pools += st->cls[i].pools;
	}
	if (inuse != st->v[ST_bytes_in_allocated_blocks] ||
	    avail != st->v[ST_bytes_in_available_blocks]) {
		snprintf(err, errlen, "size-class table sums (%llu in use, %llu available) "
			 "disagree with the totals (%llu, %llu)", inuse, avail,
			 st->v[ST_bytes_in_allocated_blocks], st->v[ST_bytes_in_available_blocks]);
		return -1;
	}
	if (st->v[ST_total] != st->v[ST_arenas_allocated_current] * st->arena_size ||
	    (pools + st->v[ST_unused_pools]) * st->pool_size +
	    st->v[ST_bytes_lost_to_arena_alignment] != st->v[ST_total]) {
		snprintf(err, errlen, "arena/pool totals do not add up (total %llu)", st->v[ST_total]);
		return -1;
	}
	return 0;
}

static int stats_write(const char *path, const struct stats *st, const struct rec *r,
		       const char *version)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\n  \"source\": \"pyrec\",\n  \"python\": ");
	json_str(f, version);
	fprintf(f, ",\n  \"arena_alignment\": \"aligned\"");
	for (int k = 0; k < ST_COUNT; k++)
		fprintf(f, ",\n  \"%s\": %llu", stat_names[k], st->v[k]);
	fprintf(f, ",\n  \"small_block_threshold\": %llu,\n  \"num_size_classes\": %llu,\n"
		"  \"arena_size\": %llu,\n  \"pool_size\": %llu,\n  \"size_classes\": [",
		st->threshold, st->nclasses, st->arena_size, st->pool_size);
	for (int i = 0; i < st->ncls; i++)
		fprintf(f, "%s\n    {\"size_class\": %llu, \"size\": %llu, \"pools\": %llu, "
			"\"blocks_in_use\": %llu, \"available_blocks\": %llu}",
			i ? "," : "", st->cls[i].cls, st->cls[i].size, st->cls[i].pools,
			st->cls[i].in_use, st->cls[i].avail);
	fprintf(f, "\n  ],\n  \"recorder\": {\"allocs\": %llu, \"reallocs\": %llu, "
		"\"frees\": %llu, \"live\": %llu, \"unknown_pointers\": %llu, "
		"\"virtual_allocs\": [",
		(unsigned long long)r->n_alloc, (unsigned long long)r->n_realloc,
		(unsigned long long)r->n_free, (unsigned long long)r->ids.used,
		(unsigned long long)r->n_unknown);
	for (int i = 0; i < 8 && r->vsize[i].size; i++)
		fprintf(f, "%s{\"size\": %llu, \"allocs\": %llu, \"frees\": %llu}", i ? ", " : "",
			(unsigned long long)r->vsize[i].size, (unsigned long long)r->vsize[i].allocs,
			(unsigned long long)r->vsize[i].frees);
	fprintf(f, "]}\n}\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- PYTHONMALLOC=mimalloc (3.13+) --------------------------------------
 *
 * With PYTHONMALLOC=mimalloc in pyrec's environment the MEM and OBJ
 * domains are the interpreter's bundled mimalloc (RAW stays malloc,
 * Objects/obmalloc.c 3.13 _PyMem_SetupAllocators). They must be switched
 * before the hooks wrap them, so the pre-initialization that installs them
 * (Py_PreInitialize reading PYTHONMALLOC) runs here, ahead of step 2; the
 * later Py_InitializeEx sees a pre-initialized runtime and leaves the
 * allocators alone. At the end, _PyObject_DebugMallocStats prints
 * mimalloc's five counters (py_mimalloc_print_stats, Objects/obmalloc.c
 * 3.13) and sys._debugmallocstats, fetched before the script runs so that
 * calling it allocates nothing, adds the free-list lines
 * (_PyObject_DebugTypeStats, written to the C stderr).
 */
typedef struct { int type; const char *func, *err_msg; int exitcode; } py_status;

struct mimalloc_api {
	void (*PyPreConfig_InitPythonConfig)(void *);
	py_status (*Py_PreInitialize)(const void *);
	py_object *(*PySys_GetObject)(const char *);
	py_object *(*PyObject_CallNoArgs)(py_object *);
	void (*Py_IncRef)(py_object *);
	py_object *debugmallocstats;    /* sys._debugmallocstats, a new ref */
};

/* 1 when PYTHONMALLOC asks for mimalloc, 0 when it is unset or names the
 * default (pymalloc), -1 for anything else (pyrec records those two only). */
static int mimalloc_wanted(void)
{
	const char *v = getenv("PYTHONMALLOC");

	if (!v || !*v || strcmp(v, "pymalloc") == 0 || strcmp(v, "default") == 0)
		return 0;
	return strcmp(v, "mimalloc") == 0 ? 1 : -1;
}

/* Installs mimalloc in the MEM and OBJ domains by pre-initializing with
 * PYTHONMALLOC=mimalloc (called after clean_environment, before the hooks).
 * Returns 0, or -1 with a message on stderr. */
static int mimalloc_preinit(void *lib, struct mimalloc_api *m)
{
	_Alignas(16) unsigned char preconfig[512];  /* PyPreConfig is ~48 bytes */
	py_status st;

	*(void **)&m->PyPreConfig_InitPythonConfig = dlsym(lib, "PyPreConfig_InitPythonConfig");
	*(void **)&m->Py_PreInitialize = dlsym(lib, "Py_PreInitialize");
	*(void **)&m->PySys_GetObject = dlsym(lib, "PySys_GetObject");
	*(void **)&m->PyObject_CallNoArgs = dlsym(lib, "PyObject_CallNoArgs");
	*(void **)&m->Py_IncRef = dlsym(lib, "Py_IncRef");
	if (!m->PyPreConfig_InitPythonConfig || !m->Py_PreInitialize ||
	    !m->PySys_GetObject || !m->PyObject_CallNoArgs || !m->Py_IncRef) {
		fprintf(stderr, "pyrec: PYTHONMALLOC=mimalloc needs CPython 3.13+ "
			"(the library lacks the pre-initialization API)\n");
		return -1;
	}
	setenv("PYTHONMALLOC", "mimalloc", 1);
	m->PyPreConfig_InitPythonConfig(preconfig);
	st = m->Py_PreInitialize(preconfig);
	unsetenv("PYTHONMALLOC");
	if (st.type != 0) {
		fprintf(stderr, "pyrec: PYTHONMALLOC=mimalloc: %s\n",
			st.err_msg ? st.err_msg : "pre-initialization failed "
			"(is this CPython built with mimalloc?)");
		return -1;
	}
	return 0;
}

/* After initialization: keeps sys._debugmallocstats for the end (its
 * lookup allocates, so it is done while the hooks still record). */
static int mimalloc_keep_function(struct mimalloc_api *m)
{
	m->debugmallocstats = m->PySys_GetObject("_debugmallocstats");
	if (!m->debugmallocstats) {
		fprintf(stderr, "pyrec: the interpreter has no sys._debugmallocstats\n");
		return -1;
	}
	m->Py_IncRef(m->debugmallocstats);
	return 0;
}

#define MI_COUNTERS(X) \
	X(allocated_blocks, "Allocated Blocks") \
	X(allocated_bytes, "Allocated Bytes") \
	X(allocated_bytes_with_overhead, "Allocated Bytes w/ Overhead") \
	X(bytes_reserved, "Bytes Reserved") \
	X(bytes_committed, "Bytes Committed")
enum {
#define X(n, l) MI_##n,
	MI_COUNTERS(X)
#undef X
	MI_COUNT
};
static const char *const mi_names[MI_COUNT] = {
#define X(n, l) #n,
	MI_COUNTERS(X)
#undef X
};
static const char *const mi_labels[MI_COUNT] = {
#define X(n, l) l,
	MI_COUNTERS(X)
#undef X
};

#define MI_MAX_FREELISTS 64
struct mi_stats {
	unsigned long long v[MI_COUNT], small_threshold, nclasses, medium_threshold, large_max;
	int have[MI_COUNT], have_sizes;
	struct { char name[64]; unsigned long long count, size; } fl[MI_MAX_FREELISTS];
	int nfl;
};

/* Parses one line of mimalloc's _debugmallocstats output into ST; returns
 * 0, or -1 when the line is none of the known forms. */
static int mi_parse_line(char *s, struct mi_stats *st)
{
	unsigned long long a, b;
	char name[64], tail;
	int k, n = 0;

	if (!*s)
		return 0;
	if (sscanf(s, "Small block threshold = %llu, in %llu size classes%c",
		   &st->small_threshold, &st->nclasses, &tail) == 3 && tail == '.')
		return st->have_sizes |= 1, 0;
	if (sscanf(s, "Medium block threshold = %llu%c", &st->medium_threshold, &tail) == 1)
		return st->have_sizes |= 2, 0;
	if (sscanf(s, "Large object max size = %llu%c", &st->large_max, &tail) == 1)
		return st->have_sizes |= 4, 0;
	for (k = 0; k < MI_COUNT; k++) {
		size_t l = strlen(mi_labels[k]);
		if (strncmp(s, mi_labels[k], l) == 0 && s[l] == ':')
			return parse_num(s + l + 1, &st->v[k]) < 0 ? -1 : (st->have[k] = 1, 0);
	}
	/* _PyDebugAllocatorStats: "N free NAMEs * S bytes each = TOTAL" */
	if (sscanf(s, "%llu free %63[^*]* %llu bytes each =%n", &a, name, &b, &n) == 3 && n &&
	    st->nfl < MI_MAX_FREELISTS) {
		unsigned long long total;
		char *t = trim(name);
		if (parse_num(s + n, &total) < 0 || total != a * b)
			return -1;
		snprintf(st->fl[st->nfl].name, sizeof st->fl[0].name, "%s", t);
		st->fl[st->nfl].count = a;
		st->fl[st->nfl].size = b;
		st->nfl++;
		return 0;
	}
	return -1;
}

/* Captures what sys._debugmallocstats writes to file descriptor 2 into
 * OUT (rewound). The function object was fetched before the script ran,
 * and a no-argument call allocates nothing. Returns 0 or -1. */
static int mi_capture(struct mimalloc_api *m, FILE *out)
{
	int saved;
	py_object *res;

	fflush(stderr);
	saved = dup(2);
	if (saved < 0 || dup2(fileno(out), 2) < 0)
		return -1;
	res = m->PyObject_CallNoArgs(m->debugmallocstats);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(out);
	return res ? 0 : -1;
}

/* Reads mimalloc's counters (first from _PyObject_DebugMallocStats, which
 * is what the model is judged by, then the whole sys._debugmallocstats
 * output, whose counters must repeat them), and writes the JSON stats
 * file. Returns 0, or -1 with a message in ERR. */
static int mimalloc_stats(struct py_api *api, struct mimalloc_api *m, const struct rec *r,
			  const char *version, char *err, size_t errlen)
{
	struct mi_stats st, again;
	char line[512];
	FILE *f;
	int lineno;

	memset(&st, 0, sizeof st);
	memset(&again, 0, sizeof again);
	for (int pass = 0; pass < 2; pass++) {
		struct mi_stats *p = pass ? &again : &st;
		if (!(f = tmpfile()))
			return snprintf(err, errlen, "tmpfile: %s", strerror(errno)), -1;
		if (pass == 0 ? !api->_PyObject_DebugMallocStats(f) : mi_capture(m, f) < 0) {
			fclose(f);
			return snprintf(err, errlen, "%s printed nothing (is mimalloc active?)",
					pass ? "sys._debugmallocstats" : "_PyObject_DebugMallocStats"), -1;
		}
		rewind(f);
		for (lineno = 1; fgets(line, sizeof line, f); lineno++)
			if (mi_parse_line(trim(line), p) < 0) {
				snprintf(err, errlen, "cannot parse line %d of the mimalloc stats: '%s'",
					 lineno, trim(line));
				fclose(f);
				return -1;
			}
		fclose(f);
		for (int k = 0; k < MI_COUNT; k++)
			if (!p->have[k])
				return snprintf(err, errlen, "the mimalloc stats have no '%s' line",
						mi_labels[k]), -1;
		if (p->have_sizes != 7)
			return snprintf(err, errlen, "the mimalloc stats lack a threshold line"), -1;
	}
	if (memcmp(st.v, again.v, sizeof st.v) != 0)
		return snprintf(err, errlen, "sys._debugmallocstats changed the counters it "
				"prints (it allocated)"), -1;
	if (!(f = fopen(r->stats_path, "w")))
		return snprintf(err, errlen, "cannot write %s: %s", r->stats_path, strerror(errno)), -1;
	fprintf(f, "{\n  \"source\": \"pyrec\",\n  \"python\": ");
	json_str(f, version);
	fprintf(f, ",\n  \"allocator\": \"mimalloc\"");
	for (int k = 0; k < MI_COUNT; k++)
		fprintf(f, ",\n  \"%s\": %llu", mi_names[k], st.v[k]);
	fprintf(f, ",\n  \"small_block_threshold\": %llu,\n  \"num_size_classes\": %llu,\n"
		"  \"medium_block_threshold\": %llu,\n  \"large_object_max_size\": %llu,\n"
		"  \"free_lists\": [", st.small_threshold, st.nclasses, st.medium_threshold,
		st.large_max);
	for (int i = 0; i < again.nfl; i++) {
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, again.fl[i].name);
		fprintf(f, ", \"count\": %llu, \"size\": %llu}", again.fl[i].count, again.fl[i].size);
	}
	fprintf(f, "\n  ],\n  \"recorder\": {\"allocs\": %llu, \"reallocs\": %llu, "
		"\"frees\": %llu, \"live\": %llu}\n}\n",
		(unsigned long long)r->n_alloc, (unsigned long long)r->n_realloc,
		(unsigned long long)r->n_free, (unsigned long long)r->ids.used);
	if (fclose(f) != 0)
		return snprintf(err, errlen, "writing %s failed", r->stats_path), -1;
	return 0;
}

/* ---- locating the interpreter ------------------------------------------ */

static int is_file(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Finds the one libpython3.X shared library under PREFIX/lib or
 * PREFIX/lib/<multiarch> (libpython3.so, the stable-ABI stub, is not it).
 * Returns a malloc'd path, or NULL with a message in ERR. */
static char *find_libpython(const char *prefix, char *err, size_t errlen)
{
	for (int i = 0; i < 2; i++) {
		char pat[4096];
		glob_t g;
		char *best = NULL;
		if (i == 0)
			snprintf(pat, sizeof pat, "%s/lib/libpython3.[0-9]*.so*", prefix);
		else
			snprintf(pat, sizeof pat, "%s/lib/*-linux-gnu/libpython3.[0-9]*.so*", prefix);
		if (glob(pat, 0, NULL, &g) != 0)
			continue;
		/* Several names of one library (.so, .so.1, .so.1.0) are
		 * fine; several versions are ambiguous. */
		for (size_t k = 0; k < g.gl_pathc; k++) {
			const char *b = strrchr(g.gl_pathv[k], '/') + 1, *bb;
			if (!best) {
				best = strdup(g.gl_pathv[k]);
				continue;
			}
			bb = strrchr(best, '/') + 1;
			if (strstr(b, ".so") - b != strstr(bb, ".so") - bb ||
			    strncmp(b, bb, (size_t)(strstr(bb, ".so") - bb)) != 0) {
				snprintf(err, errlen, "several libpython versions under %s "
					 "(%s, %s): pass the library path to --python", prefix, bb, b);
				free(best);
				globfree(&g);
				return NULL;
			}
		}
		globfree(&g);
		if (best)
			return best;
	}
	{
		char pat[4096];
		glob_t g;
		snprintf(pat, sizeof pat, "%s/lib/libpython2.*", prefix);
		if (glob(pat, 0, NULL, &g) == 0) {
			globfree(&g);
			snprintf(err, errlen, "%s is a Python 2 prefix; pyrec needs 3.6 or "
				 "later (2.7 has no PyMem_SetAllocator)", prefix);
			return NULL;
		}
	}
	snprintf(err, errlen, "no libpython3.X shared library under %s/lib "
		 "(was Python built with --enable-shared?)", prefix);
	return NULL;
}

/* PREFIX from a library path: .../lib/libpythonX or .../lib/<triplet>/libpythonX. */
static char *prefix_of_lib(const char *lib)
{
	char *p = realpath(lib, NULL), *s;
	if (!p)
		return NULL;
	for (int up = 0; up < 3; up++) {
		s = strrchr(p, '/');
		if (!s || s == p)
			break;
		*s = 0;
		if (strcmp(s + 1, "lib") == 0) {
			/* p is now the prefix */
			return p;
		}
	}
	free(p);
	return NULL;
}

/* ---- main -------------------------------------------------------------- */

static struct rec *exit_guard;    /* for the atexit check only */

static void guard_atexit(void)
{
	struct rec *r = exit_guard;
	if (!r)
		return;
	fprintf(stderr, "pyrec: the process exited before the end of the script (a C "
		"extension calling exit()?); the trace is incomplete and has been removed\n");
	r->logging = 0;
	out_close(&r->out);
	unlink(r->trace_path);
	_exit(EXIT_SOFTWARE);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: tools/pyrec --python PREFIX|LIBPYTHON|PYTHON_BINARY -o OUT.trace[.gz]\n"
"                   --stats OUT.json [--home DIR] [--site] SCRIPT.py [ARGS...]\n"
"\n"
"Runs SCRIPT.py in a real CPython 3.6+ (loaded from its shared library) and\n"
"records every PyMem_*/PyObject_* allocator request as a memsim trace, then\n"
"writes the interpreter's own sys._debugmallocstats() counters as JSON.\n"
"Arenas are allocated aligned to their size (\"arena_alignment\":\"aligned\");\n"
"replay with -p cpython-3.X:allocator.arena_alignment=aligned.\n"
"\n"
"  --python P   a prefix (P/lib/libpython3.X.so*), a libpython path, or the\n"
"               prefix's bin/python3.X\n"
"  -o FILE      the trace; gzip-compressed when FILE ends in .gz, binary\n"
"               (docs/binary-format.md) when it ends in .msb or .msb.gz\n"
"  --stats FILE the counters as JSON\n"
"  --home DIR   PYTHONHOME (default: the prefix of the library)\n"
"  --site       import site at startup (default: no, like python -S, because\n"
"               .pth files run machine-dependent code)\n"
"\n"
"PYTHONMALLOC=mimalloc (3.13+) records CPython's bundled mimalloc instead of\n"
"pymalloc, and the stats are mimalloc's (docs/recording.md).\n"
"\n"
"The environment is made deterministic: PYTHON* variables are cleared, then\n"
"PYTHONHASHSEED=0, PYTHONNOUSERSITE=1, PYTHONDONTWRITEBYTECODE=1 and\n"
"PYTHONHOME are set. sys.exit() in the script ends it normally.\n"
"\n"
"examples:\n"
"  tools/pyrec --python ~/.pyenv/versions/3.12.1 -o x.trace.gz --stats x.json w.py\n"
"  tools/pyrec --python /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 \\\n"
"      -o x.trace --stats x.json tests/cpython/workloads/json_roundtrip.py\n"
"\n"
"exit status: 0 ok, 1 the script raised an exception, 64 usage error,\n"
"66 library, prefix or script not found, 70 internal failure\n");
}

#define LOAD(name) do { \
	*(void **)&api.name = dlsym(lib, #name); \
	if (!api.name) { \
		fprintf(stderr, "pyrec: %s has no symbol %s\n", libpath, #name); \
		return EXIT_SOFTWARE; \
	} \
} while (0)

static void clean_environment(const char *home)
{
	extern char **environ;
	/* Collect first: unsetenv while walking environ skips entries. */
	char *names[256];
	int n = 0;
	for (char **e = environ; *e && n < 256; e++)
		if (strncmp(*e, "PYTHON", 6) == 0)
			names[n++] = strndup(*e, strcspn(*e, "="));
	for (int i = 0; i < n; i++) {
		unsetenv(names[i]);
		free(names[i]);
	}
	setenv("PYTHONHOME", home, 1);
	setenv("PYTHONHASHSEED", "0", 1);
	setenv("PYTHONNOUSERSITE", "1", 1);
	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
}

int main(int argc, char **argv)
{
	const char *python = NULL, *home_opt = NULL, *script;
	int use_site = 0;
	char *libpath = NULL, *prefix = NULL, *src;
	char err[1024], version[64], *stats_buf = NULL;
	struct py_api api;
	struct rec rec;
	struct stats st;
	struct mimalloc_api mapi = {0};
	int mimalloc = mimalloc_wanted();
	py_mem_allocator hook = {0};
	py_arena_allocator arena;
	void *lib;
	int i, status = 0;
	FILE *tmp;
	long srclen;

	memset(&rec, 0, sizeof rec);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "--site") == 0) {
			use_site = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "pyrec: %s needs a value\n", a);
			return EXIT_USAGE;
		}
		if (strcmp(a, "--python") == 0)
			python = argv[++i];
		else if (strcmp(a, "-o") == 0)
			rec.trace_path = argv[++i];
		else if (strcmp(a, "--stats") == 0)
			rec.stats_path = argv[++i];
		else if (strcmp(a, "--home") == 0)
			home_opt = argv[++i];
		else {
			fprintf(stderr, "pyrec: unknown option %s (see --help)\n", a);
			return EXIT_USAGE;
		}
	}
	if (!python || !rec.trace_path || !rec.stats_path || i >= argc) {
		fprintf(stderr, "pyrec: --python, -o, --stats and a script are required (see --help)\n");
		return EXIT_USAGE;
	}
	script = argv[i];

	/* Locate the library and the prefix. */
	if (is_dir(python)) {
		libpath = find_libpython(python, err, sizeof err);
		if (!libpath) {
			fprintf(stderr, "pyrec: %s\n", err);
			return EXIT_NOINPUT;
		}
		prefix = realpath(python, NULL);
	} else if (is_file(python) && strstr(strrchr(python, '/') ? strrchr(python, '/') : python,
					     "libpython")) {
		libpath = strdup(python);
		prefix = prefix_of_lib(python);
	} else if (is_file(python)) {
		/* PREFIX/bin/python3.X */
		char *p = realpath(python, NULL), *s;
		for (int up = 0; p && up < 2 && (s = strrchr(p, '/')); up++)
			*s = 0;
		if (!p || !(libpath = find_libpython(p, err, sizeof err))) {
			fprintf(stderr, "pyrec: %s: %s\n", python, p ? err : strerror(errno));
			return EXIT_NOINPUT;
		}
		prefix = p;
	} else {
		fprintf(stderr, "pyrec: --python %s: no such prefix, library or interpreter\n", python);
		return EXIT_NOINPUT;
	}
	if (!home_opt && !prefix) {
		fprintf(stderr, "pyrec: cannot tell the prefix of %s: pass --home\n", libpath);
		return EXIT_NOINPUT;
	}

	/* Read the script now, so a missing one is a clean 66. */
	{
		FILE *sf = fopen(script, "rb");
		if (!sf) {
			fprintf(stderr, "pyrec: %s: %s\n", script, strerror(errno));
			return EXIT_NOINPUT;
		}
		fseek(sf, 0, SEEK_END);
		srclen = ftell(sf);
		rewind(sf);
		src = malloc((size_t)srclen + 1);
		if (!src || fread(src, 1, (size_t)srclen, sf) != (size_t)srclen) {
			fprintf(stderr, "pyrec: cannot read %s\n", script);
			return EXIT_NOINPUT;
		}
		src[srclen] = 0;
		fclose(sf);
	}

	if (mimalloc < 0) {
		fprintf(stderr, "pyrec: PYTHONMALLOC=%s: pyrec records pymalloc (unset, "
			"\"pymalloc\" or \"default\") or \"mimalloc\" only\n", getenv("PYTHONMALLOC"));
		return EXIT_USAGE;
	}
	clean_environment(home_opt ? home_opt : prefix);

	lib = dlopen(libpath, RTLD_NOW | RTLD_GLOBAL);
	if (!lib) {
		fprintf(stderr, "pyrec: cannot load %s: %s\n", libpath, dlerror());
		return EXIT_NOINPUT;
	}
	LOAD(Py_GetVersion);
	/* Py_GetVersion formats into a static buffer: safe before init. */
	snprintf(version, sizeof version, "%.*s", (int)strcspn(api.Py_GetVersion(), " "),
		 api.Py_GetVersion());
	/* 3.6 is the first where PYMEM_DOMAIN_MEM is pymalloc too (3.5 and
	 * earlier: C malloc), so the stream would not be pymalloc's. */
	if (version[0] != '3' || version[1] != '.' || atoi(version + 2) < 6) {
		fprintf(stderr, "pyrec: %s is Python %s; pyrec needs 3.6 or later "
			"(2.7 has no PyMem_SetAllocator; before 3.6 PyMem_Malloc is not pymalloc)\n",
			libpath, version);
		return EXIT_NOINPUT;
	}
	LOAD(PyMem_GetAllocator);
	LOAD(PyMem_SetAllocator);
	LOAD(PyObject_GetArenaAllocator);
	LOAD(PyObject_SetArenaAllocator);
	LOAD(Py_InitializeEx);
	LOAD(_PyObject_DebugMallocStats);
	LOAD(Py_DecodeLocale);
	LOAD(PySys_SetArgvEx);
	LOAD(Py_CompileStringExFlags);
	LOAD(PyEval_EvalCode);
	LOAD(PyImport_AddModule);
	LOAD(PyModule_GetDict);
	LOAD(PyDict_SetItemString);
	LOAD(PyUnicode_FromString);
	LOAD(PyErr_Occurred);
	LOAD(PyErr_ExceptionMatches);
	LOAD(PyErr_Print);
	LOAD(PyErr_Clear);
	LOAD(Py_DecRef);
	LOAD(PyRun_SimpleStringFlags);
	LOAD(PyExc_SystemExit);
	LOAD(Py_NoSiteFlag);


	/* A stats file is the sign of a complete recording: never leave an
	 * old one beside a new, possibly truncated, trace. */
	if (unlink(rec.stats_path) < 0 && errno != ENOENT) {
		fprintf(stderr, "pyrec: cannot replace %s: %s\n", rec.stats_path, strerror(errno));
		return EXIT_SOFTWARE;
	}
	if (idmap_init(&rec.ids, (size_t)1 << 16) < 0) {
		fprintf(stderr, "pyrec: cannot open %s: %s\n", rec.trace_path, strerror(errno));
		return EXIT_SOFTWARE;
	}
	{
		/* The header, built with the JSON escaper into a memory stream. */
		size_t hlen;
		FILE *h = open_memstream(&stats_buf, &hlen);
		fprintf(h, "#memsim-trace 1 {\"source\":\"pyrec\",\"python\":");
		json_str(h, version);
		fprintf(h, mimalloc ? ",\"allocator\":\"mimalloc\",\"library\":"
			   : ",\"arena_alignment\":\"aligned\",\"library\":");
		json_str(h, libpath);
		fprintf(h, ",\"script\":");
		json_str(h, script);
		fprintf(h, "}\n");
		fclose(h);
		if (out_header(&rec.out, rec.trace_path, stats_buf, hlen) < 0) {
			fprintf(stderr, "pyrec: cannot open %s: %s\n", rec.trace_path,
				strerror(errno));
			return EXIT_SOFTWARE;
		}
		free(stats_buf);
	}
	rec.next_id = 1;

	if (mimalloc && mimalloc_preinit(lib, &mapi) < 0)
		return EXIT_SOFTWARE;
	/* 2. and 3.: the hooks, before the library has run any code. */
	rec.mem.rec = rec.obj.rec = &rec;
	api.PyMem_GetAllocator(PY_DOMAIN_MEM, &rec.mem.orig);
	api.PyMem_GetAllocator(PY_DOMAIN_OBJ, &rec.obj.orig);
	api.PyObject_GetArenaAllocator(&rec.arena_orig);
	hook.malloc = hook_malloc;
	hook.calloc = hook_calloc;
	hook.realloc = hook_realloc;
	hook.free = hook_free;
	arena.ctx = &rec;
	arena.alloc = arena_alloc;
	arena.free = arena_free;
	api.PyObject_SetArenaAllocator(&arena);
	rec.logging = 1;
	hook.ctx = &rec.mem;
	api.PyMem_SetAllocator(PY_DOMAIN_MEM, &hook);
	hook.ctx = &rec.obj;
	api.PyMem_SetAllocator(PY_DOMAIN_OBJ, &hook);
	exit_guard = &rec;
	atexit(guard_atexit);

	/* 4. */
	/* Like python -S: .pth files in site-packages run arbitrary,
	 * machine-dependent code at startup (seen: a pyenv 3.11 whose .pth
	 * reads files whose size varies, giving different traces). The legacy
	 * flag is deprecated since 3.12 but still read by Py_InitializeEx. */
	*api.Py_NoSiteFlag = !use_site;
	api.Py_InitializeEx(0);
	{
		/* Initialization must not have replaced our hooks (it would if
		 * PYTHONMALLOC were honoured, which we unset). */
		py_mem_allocator now;
		api.PyMem_GetAllocator(PY_DOMAIN_OBJ, &now);
		if (now.malloc != hook_malloc) {
			fprintf(stderr, "pyrec: interpreter initialization replaced the allocator hooks\n");
			return EXIT_SOFTWARE;
		}
	}
	if (mimalloc && mimalloc_keep_function(&mapi) < 0)
		return EXIT_SOFTWARE;
	{
		int wargc = argc - i;
		wchar_t **wargv = calloc((size_t)wargc + 1, sizeof *wargv);
		for (int k = 0; k < wargc; k++) {
			wargv[k] = api.Py_DecodeLocale(argv[i + k], NULL);
			if (!wargv[k]) {
				fprintf(stderr, "pyrec: cannot decode argument %s\n", argv[i + k]);
				return EXIT_SOFTWARE;
			}
		}
		api.PySys_SetArgvEx(wargc, wargv, 0);
	}
	{
		py_object *mainmod = api.PyImport_AddModule("__main__");
		py_object *globals = mainmod ? api.PyModule_GetDict(mainmod) : NULL;
		py_object *fname = api.PyUnicode_FromString(script);
		py_object *code, *res = NULL;
		if (!globals || !fname || api.PyDict_SetItemString(globals, "__file__", fname) < 0) {
			fprintf(stderr, "pyrec: cannot set up __main__\n");
			return EXIT_SOFTWARE;
		}
		api.Py_DecRef(fname);
		code = api.Py_CompileStringExFlags(src, script, PY_FILE_INPUT, NULL, -1);
		if (code) {
			res = api.PyEval_EvalCode(code, globals, globals);
			api.Py_DecRef(code);
		}
		if (res) {
			api.Py_DecRef(res);
		} else if (api.PyErr_Occurred() && api.PyErr_ExceptionMatches(*api.PyExc_SystemExit)) {
			api.PyErr_Clear();
		} else {
			api.PyErr_Print();
			status = EXIT_SCRIPT;
		}
	}

	/* 5. Logging ends exactly here: restore, then ask for the stats. */
	rec.logging = 0;
	exit_guard = NULL;
	api.PyMem_SetAllocator(PY_DOMAIN_MEM, &rec.mem.orig);
	api.PyMem_SetAllocator(PY_DOMAIN_OBJ, &rec.obj.orig);
	if (out_close(&rec.out) < 0) {
		fprintf(stderr, "pyrec: writing %s failed\n", rec.trace_path);
		return EXIT_SOFTWARE;
	}
	if (status == EXIT_SCRIPT) {
		fprintf(stderr, "pyrec: %s raised an exception; no stats written\n", script);
		return EXIT_SCRIPT;
	}
	if (rec.oom) {
		fprintf(stderr, "pyrec: out of memory in the address table; the trace is wrong\n");
		return EXIT_SOFTWARE;
	}
	if (rec.n_vother) {
		fprintf(stderr, "pyrec: the arena allocator saw more than 8 sizes\n");
		return EXIT_SOFTWARE;
	}
	if (rec.n_unknown) {
		fprintf(stderr, "pyrec: %llu requests named blocks allocated before the hooks; "
			"the trace is incomplete\n", (unsigned long long)rec.n_unknown);
		return EXIT_SOFTWARE;
	}
	if (mimalloc) {
		if (mimalloc_stats(&api, &mapi, &rec, version, err, sizeof err) < 0) {
			fprintf(stderr, "pyrec: %s\n", err);
			return EXIT_SOFTWARE;
		}
		goto flush;
	}
	tmp = tmpfile();
	if (!tmp || !api._PyObject_DebugMallocStats(tmp)) {
		fprintf(stderr, "pyrec: _PyObject_DebugMallocStats printed nothing "
			"(is pymalloc compiled in and active?)\n");
		return EXIT_SOFTWARE;
	}
	rewind(tmp);
	if (stats_parse(tmp, &st, err, sizeof err) < 0 || stats_check(&st, err, sizeof err) < 0) {
		fprintf(stderr, "pyrec: %s\n", err);
		return EXIT_SOFTWARE;
	}
	fclose(tmp);
	if (stats_write(rec.stats_path, &st, &rec, version) < 0) {
		fprintf(stderr, "pyrec: cannot write %s: %s\n", rec.stats_path, strerror(errno));
		return EXIT_SOFTWARE;
	}
flush:
	/* The script's own output may still sit in sys.stdout's buffer; the
	 * interpreter is not finalized (nothing of it is measured any more). */
	api.PyRun_SimpleStringFlags("import sys\nsys.stdout.flush()\nsys.stderr.flush()\n", NULL);
	fflush(NULL);
	_exit(0);
}
