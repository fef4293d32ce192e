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
#include <link.h>
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

#include "tracewrite.h"

#include "pyrec_blocks.h"
#include "pyrec_types.h"
#include "pyrec_watch.h"

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
	py_object *(*PySys_GetObject)(const char *);
	py_object *(*PyObject_CallObject)(py_object *, py_object *);
	void *lib;                 /* the dlopen handle */
	/* 3.13+ only (NULL before): */
	int (*PyRefTracer_SetTracer)(int (*)(void *, int, void *), void *);
	char *_PyRuntime;
};

/* ---- output: sim/'s trace writer -------------------------------------- */

/* Binary (docs/binary-format.md) unless the name ends in .trace, .txt,
 * .trace.gz or .txt.gz (text, docs/trace-format.md); gzip when it ends in
 * .gz. The writer (tracewrite.h) is created by out_header(), which has
 * the metadata the header needs. Write errors are sticky in the writer
 * and reported by out_close(). */
struct out {
	struct trace_writer *w;
};

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n > m && strcmp(s + n - m, tail) == 0;
}

static int is_text_name(const char *path)
{
	return ends_with(path, ".trace") || ends_with(path, ".trace.gz") ||
	       ends_with(path, ".txt") || ends_with(path, ".txt.gz");
}

/* Starts a new trace `path`, text or binary by its name, with the
 * header's metadata object META. */
static int out_header(struct out *o, const char *path, const char *meta)
{
	const struct tracewrite_form *form =
		is_text_name(path) ? &tracewrite_text : &tracewrite_binary;
	unsigned flags = sink_name_wants_gzip(path) ? SINK_GZIP : 0;
	struct ms_error err;

	/* Level 1 for gzip text: text traces are large and short-lived;
	 * speed matters more than the last 20% of size. */
	if (flags && form == &tracewrite_text)
		flags |= SINK_GZIP_FAST;
	o->w = tracewrite_create(path, form, flags, 1, meta, &err);
	return o->w ? 0 : -1;
}

static void out_alloc(struct out *o, uint64_t id, uint64_t size, const char *type)
{
	tracewrite_alloc(o->w, id, size, type, 0);
}

/* A `# TEXT` line in text; the binary form keeps no comments. */
static void out_comment(struct out *o, const char *text)
{
	tracewrite_comment(o->w, text);
}

static void out_resize(struct out *o, uint64_t id, uint64_t size)
{
	tracewrite_resize(o->w, id, size, 0);
}

static void out_free(struct out *o, uint64_t id)
{
	tracewrite_free(o->w, id);
}

static int out_close(struct out *o)
{
	int bad = o->w && tracewrite_close(o->w, NULL) != 0;

	o->w = NULL;
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

/* ---- the recorder ------------------------------------------------------ */

/*
 * Every live block of the MEM and OBJ domains is in `blocks`, with its
 * trace ID and its state in the aux bits:
 *   ST_RAW   memory that is not an object (or, at allocator level, any
 *            block: then typed ones are ST_LIVE only for the name cache)
 *   ST_LIVE  an object the trace has created (`a ID SIZE TYPE`)
 *   ST_DEAD  a block whose object the trace has destroyed (`f ID`) while
 *            the interpreter keeps the block on a free list (object level)
 * The newest allocation is `pend`ing until the next event, when the
 * interpreter has initialised it: the tracer's creation of an object in
 * it, or, without a tracer, its header, says what it is (docs/recording.md,
 * "Object level" and "Types").
 */
enum { ST_RAW = 0, ST_LIVE = 1, ST_DEAD = 2, ST_MASK = 3 };
#define AUX_RESIZED 4u          /* an object resized, not yet re-created */
#define AUX_TYPEOBJ 8u          /* holds a type object (pyt has its name) */
#define AUX_LIST_SHIFT 4        /* ST_DEAD: 1 + the free list holding it */
#define AUX_LIST_MASK (0x3fu << AUX_LIST_SHIFT)

enum { LEVEL_ALLOCATOR, LEVEL_OBJECT };
enum { PY_REFTRACER_CREATE = 0, PY_REFTRACER_DESTROY = 1 }; /* Include/cpython/object.h 3.13 */

/* A minimum-size dict keys object with string keys, the only kind the
 * 3.13 free list keeps (dictkeys_decref: dk_log2_size == PyDict_LOG_MINSIZE
 * (3) and dk_kind != DICT_KEYS_GENERAL): sizeof(PyDictKeysObject) 32 +
 * 8 one-byte indices + 5 (USABLE_FRACTION(8)) PyDictUnicodeEntry of 16. */
#define KEYS_MIN_SIZE 120
#define KEYS_MIN_USABLE 5

struct rec;

struct hook {                      /* ctx of one wrapped domain */
	py_mem_allocator orig;
	struct rec *rec;
	int domain;
};

struct pending {
	uintptr_t addr;
	uint64_t size;
	int domain, used;
	int created;            /* --check-types: the tracer made an object in it */
};

/* Counts of what the recorder saw; "anomalies" must stay 0 for a trace
 * to be exact (pyrec fails or warns, docs/recording.md). */
#define REC_COUNTERS(X) \
	X(allocs, "allocator calls that returned a block") \
	X(reallocs, "reallocs of recorded blocks") \
	X(frees, "frees of recorded blocks") \
	X(objects, "objects created (typed a events)") \
	X(reused, "objects made in a block a free list kept") \
	X(reused_unseen, "objects made in a block whose object died unseen since the last event") \
	X(parked, "objects (and dict keys) the interpreter put on a free list") \
	X(released, "free-list blocks the interpreter gave back (clears)") \
	X(destroy_events, "reference tracer destroy events (not used: 3.13.0 misses most)") \
	X(check_false_objects, "--check-types: raw blocks the header test took for objects") \
	X(check_missed_objects, "--check-types: objects the header test took for raw blocks") \
	X(unknown_pointers, "anomaly: requests naming a block never recorded") \
	X(foreign_objects, "anomaly: objects created outside the recorded allocator") \
	X(late_objects, "anomaly: objects created in a block already recorded as raw memory") \
	X(odd_pushes, "anomaly: free-list pushes of a block not recorded as a live object")

struct rec_counts {
#define X(name, doc) uint64_t name;
	REC_COUNTERS(X)
#undef X
};

struct rec {
	struct hook mem, obj;
	py_arena_allocator arena_orig;
	struct pyb_table blocks;
	struct pyt types;
	struct pyw watch;
	struct out out;
	struct pending pend;
	struct rec_counts c;
	int level;
	int tracer;                /* the reference tracer is installed */
	int watching;              /* the free lists are watched (object level) */
	int logging;               /* 1 between hook install and restore */
	int annotate;              /* --annotate: the interpreter's free-list
				    * decisions as trace comments */
	int check_types;           /* --check-types: header typing, judged by
				    * the tracer (3.13, allocator level) */
	int popped;                /* the list the last pop came from, or -1 */
	uintptr_t freeing;         /* the block the current event frees, or 0 */
	const char *broken;        /* why the trace cannot be exact, or NULL */
	/* Calls to the arena allocator, by size. Since 3.11 it also serves
	 * _PyObject_VirtualAlloc() for the frame data stack (Python/pystate.c
	 * allocate_chunk), so not every call is a pymalloc arena. */
	struct { size_t size; uint64_t allocs, frees; } vsize[8];
	uint64_t n_vother;
	const char *trace_path, *stats_path;
};

static void rec_break(struct rec *r, const char *why)
{
	if (!r->broken)
		r->broken = why;
}

/* Adds a block at ADDR with a new ID and writes its `a`. */
static void rec_new_block(struct rec *r, uintptr_t addr, uint64_t size, const char *type,
			  unsigned aux)
{
	uint32_t id = pyb_id_new(&r->blocks);

	if (!id || pyb_put(&r->blocks, addr, id, aux) < 0) {
		rec_break(r, "out of memory for the block table");
		return;
	}
	out_alloc(&r->out, id, size, type);
}

/* Writes `f` for the block in SLOT and frees its ID. */
static void rec_kill(struct rec *r, size_t slot)
{
	uint32_t id = pyb_id(&r->blocks, slot);

	out_free(&r->out, id);
	pyb_id_free(&r->blocks, id);
}

/* The block holds a new object: a new ID, `a ID SIZE TYPE`. */
static void rec_reborn(struct rec *r, size_t slot, uint64_t size, const char *type,
		       unsigned aux)
{
	uint32_t id = pyb_id_new(&r->blocks);

	if (!id) {
		rec_break(r, "out of memory for the ID bitmap");
		return;
	}
	r->blocks.id[slot] = id;
	pyb_set_aux(&r->blocks, slot, aux);
	out_alloc(&r->out, id, size, type);
}

/* The trace name of OBJ's type, and whether OBJ is itself a type. */
static const char *rec_type_name(struct rec *r, uintptr_t obj, unsigned *aux)
{
	int meta = 0;
	const char *name = pyt_name(&r->types, pyt_type_of(obj), &meta);

	if (!name)
		rec_break(r, "out of memory for type names");
	if (meta)
		*aux |= AUX_TYPEOBJ;
	return name;
}

/* Whether TYPE is a live heap type pyrec has recorded (allocator level:
 * pyt_object_at asks before believing a header). */
static int rec_is_heap_type(void *ctx, uintptr_t type)
{
	struct rec *r = ctx;
	size_t slot = pyb_find(&r->blocks, type - r->types.lay.gc_head);

	return slot != PYB_NOT_FOUND && (pyb_aux(&r->blocks, slot) & AUX_TYPEOBJ);
}

/* Whether the block [addr, addr + size) is, just after its allocation, a
 * 3.13 dict keys object the free list may keep (the header that
 * new_keys_object writes: dk_refcnt, dk_log2_size 3, dk_log2_index_bytes 3,
 * dk_kind 1 (unicode) or 2 (split), dk_usable + dk_nentries <= 5). */
static int is_min_keys(uintptr_t addr, uint64_t size)
{
	const unsigned char *p = (const unsigned char *)addr;
	int64_t refcnt, usable, nentries;

	if (size != KEYS_MIN_SIZE)
		return 0;
	memcpy(&refcnt, p, 8);
	memcpy(&usable, p + 16, 8);
	memcpy(&nentries, p + 24, 8);
	return refcnt >= 1 && refcnt <= INT32_MAX && p[8] == 3 && p[9] == 3 &&
	       (p[10] == 1 || p[10] == 2) && usable >= 0 && nentries >= 0 &&
	       usable + nentries <= KEYS_MIN_USABLE;
}

/* Writes the pending block's `a`: typed when its header is an object's
 * (allocator level without a tracer) or a keys object's (object level). */
static void rec_flush(struct rec *r)
{
	struct pending p = r->pend;
	const char *type = NULL;
	unsigned aux = ST_RAW;

	r->pend.used = 0;
	if ((!r->tracer || r->check_types) && p.domain == PY_DOMAIN_OBJ) {
		uintptr_t obj = pyt_object_at(&r->types, p.addr, p.size, rec_is_heap_type, r);

		if (r->check_types && !obj != !p.created) {
			if (obj)
				r->c.check_false_objects++;
			else
				r->c.check_missed_objects++;
		}
		if (obj) {
			type = rec_type_name(r, obj, &aux);
			aux |= ST_LIVE;
			r->c.objects++;
		}
	} else if (r->watching && p.domain == PY_DOMAIN_MEM && is_min_keys(p.addr, p.size)) {
		/* new_keys_object takes from the free list when it can; a keys
		 * object allocated while the list held one was made another
		 * way (clone_combined_dict_keys: dict.copy(), merging into an
		 * empty dict), which never takes from it but may be kept by it
		 * when it dies. The count is the list's at the allocation. */
		type = pyw_count(&r->watch, PYW_DICTKEYS) ? "dictkeys.copy" : "dictkeys";
		aux = ST_LIVE;
	}
	rec_new_block(r, p.addr, p.size, type, aux);
}

static void watch_pushed(void *ctx, int list, uintptr_t obj);
static void watch_popped(void *ctx, int list, uintptr_t obj);

/*
 * What every event does first: the pending block's `a` (its object, if
 * any, was made by now), then the free-list pushes and pops since the
 * previous event, so the trace has them in the interpreter's order.
 */
static void rec_before(struct rec *r)
{
	static const struct pyw_sink sink_proto = { watch_pushed, watch_popped, NULL };

	if (r->pend.used)
		rec_flush(r);
	if (r->watching) {
		struct pyw_sink sink = sink_proto;

		sink.ctx = r;
		if (pyw_poll(&r->watch, &sink) < 0) {
			static char why[160];

			snprintf(why, sizeof why, "the interpreter's %s free list changed in a way "
				 "pyrec cannot follow (%s)", pyw_list_name(r->watch.fail_list),
				 r->watch.fail_why);
			rec_break(r, why);
			r->watching = 0;
		}
	}
}

/* Where a free list's block starts: floats have no GC head, dict keys
 * are no object, the rest are GC objects (3.13 PyObject_GC_Del in each
 * list's clear function). */
static uintptr_t list_block(const struct rec *r, int list, uintptr_t obj)
{
	return list == PYW_FLOAT || list == PYW_DICTKEYS ? obj : obj - r->types.lay.gc_head;
}

/* --annotate: "# WHAT LIST" after the event it explains (text only). */
static void rec_note(struct rec *r, const char *what, int list)
{
	char text[80];

	if (!r->annotate)
		return;
	if (list >= PYW_TUPLE1 && list < PYW_TUPLE1 + 20)
		snprintf(text, sizeof text, "%s tuple.%d", what, list - PYW_TUPLE1 + 1);
	else
		snprintf(text, sizeof text, "%s %s", what, list < 0 ? "?" : pyw_list_name(list));
	out_comment(&r->out, text);
}

static void watch_pushed(void *ctx, int list, uintptr_t obj)
{
	struct rec *r = ctx;
	size_t slot = pyb_find(&r->blocks, list_block(r, list, obj));

	if (slot == PYB_NOT_FOUND || (pyb_aux(&r->blocks, slot) & ST_MASK) != ST_LIVE) {
		r->c.odd_pushes++;
		return;
	}
	rec_kill(r, slot);
	pyb_set_aux(&r->blocks, slot, (pyb_aux(&r->blocks, slot) & ~(ST_MASK | AUX_LIST_MASK)) |
		    ST_DEAD | (unsigned)(list + 1) << AUX_LIST_SHIFT);
	r->c.parked++;
	rec_note(r, "parked", list);
}

/* Objects popped from a list are re-created by the tracer (rec_create);
 * only dict keys, which are not objects, are born here. */
static void watch_popped(void *ctx, int list, uintptr_t obj)
{
	struct rec *r = ctx;
	size_t slot;

	if (list != PYW_DICTKEYS) {
		r->popped = list;       /* for the tracer's creation that follows */
		return;
	}
	/* A keys block popped and freed in one event is _PyDict_ClearFreeList
	 * emptying the list (a full collection), not a new keys object. */
	if (obj == r->freeing)
		return;
	slot = pyb_find(&r->blocks, obj);
	if (slot == PYB_NOT_FOUND || (pyb_aux(&r->blocks, slot) & ST_MASK) != ST_DEAD) {
		r->c.odd_pushes++;
		return;
	}
	rec_reborn(r, slot, KEYS_MIN_SIZE, "dictkeys", ST_LIVE);
	r->c.reused++;
	rec_note(r, "reused", list);
}

static void rec_alloc(struct rec *r, void *p, size_t size, int domain)
{
	rec_before(r);
	r->pend = (struct pending){ (uintptr_t)p, size, domain, 1, 0 };
	r->c.allocs++;
}

static void *hook_malloc(void *ctx, size_t size)
{
	struct hook *h = ctx;
	void *p = h->orig.malloc(h->orig.ctx, size);

	if (p && h->rec->logging)
		rec_alloc(h->rec, p, size, h->domain);
	return p;
}

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
	struct hook *h = ctx;
	void *p = h->orig.calloc(h->orig.ctx, nelem, elsize);

	/* A non-NULL result means the product did not overflow. */
	if (p && h->rec->logging)
		rec_alloc(h->rec, p, nelem * elsize, h->domain);
	return p;
}

static void *hook_realloc(void *ctx, void *ptr, size_t size)
{
	struct hook *h = ctx;
	struct rec *r = h->rec;
	size_t slot;
	uint32_t id;
	unsigned aux;
	void *p;

	if (!r->logging || !ptr) {
		p = h->orig.realloc(h->orig.ctx, ptr, size);
		if (p && r->logging)
			rec_alloc(r, p, size, h->domain);
		return p;
	}
	rec_before(r);
	p = h->orig.realloc(h->orig.ctx, ptr, size);
	if (!p)
		return p;
	slot = pyb_find(&r->blocks, (uintptr_t)ptr);
	if (slot == PYB_NOT_FOUND) {
		r->c.unknown_pointers++;
		return p;
	}
	/* Same or moved block: the ID follows the address. An object that
	 * is resized (_PyTuple_Resize, _PyBytes_Resize, resize_compact) is
	 * re-created by _Py_NewReference at its new address: no new ID. */
	id = pyb_id(&r->blocks, slot);
	aux = pyb_aux(&r->blocks, slot);
	if ((aux & ST_MASK) == ST_LIVE && r->tracer)
		aux |= AUX_RESIZED;
	pyb_del(&r->blocks, slot);
	if (pyb_put(&r->blocks, (uintptr_t)p, id, aux) < 0)
		rec_break(r, "out of memory for the block table");
	r->c.reallocs++;
	out_resize(&r->out, id, size);
	return p;
}

static void hook_free(void *ctx, void *ptr)
{
	struct hook *h = ctx;
	struct rec *r = h->rec;

	if (ptr && r->logging) {
		size_t slot;
		unsigned aux;

		r->freeing = (uintptr_t)ptr;
		rec_before(r);
		r->freeing = 0;
		slot = pyb_find(&r->blocks, (uintptr_t)ptr);
		if (slot == PYB_NOT_FOUND) {
			r->c.unknown_pointers++;
		} else {
			aux = pyb_aux(&r->blocks, slot);
			if ((aux & ST_MASK) == ST_DEAD) {
				/* Its object's `f` was written when a free
				 * list took it; now the list lets it go. */
				r->c.released++;
				rec_note(r, "released", (int)((aux & AUX_LIST_MASK) >> AUX_LIST_SHIFT) - 1);
			} else {
				rec_kill(r, slot);
				r->c.frees++;
			}
			if (aux & AUX_TYPEOBJ)
				pyt_forget(&r->types, (uintptr_t)ptr + r->types.lay.gc_head);
			pyb_del(&r->blocks, slot);
		}
	}
	h->orig.free(h->orig.ctx, ptr);
}

/* The free lists by type name (static types only), and the name of a
 * creation that went past a list (below). */
static const struct { const char *name, *bypass; int list; } list_types[] = {
	{ "float", "float.tp_alloc", PYW_FLOAT },
	{ "tuple", "tuple.tp_alloc", PYW_TUPLE1 },
	{ "list", "list.tp_alloc", PYW_LIST },
	{ "dict", "dict.tp_alloc", PYW_DICT },
	{ "slice", "slice.tp_alloc", PYW_SLICE },
	{ "_contextvars.Context", "_contextvars.Context.tp_alloc", PYW_CONTEXT },
	{ "async_generator_wrapped_value", "async_generator_wrapped_value.tp_alloc",
	  PYW_ASYNC_GEN_VALUE },
	{ "async_generator_asend", "async_generator_asend.tp_alloc", PYW_ASYNC_GEN_ASEND },
};

/*
 * The name of a new object OBJ of trace type NAME in a freshly allocated
 * block: NAME, or NAME.tp_alloc when the interpreter's list for it held
 * a block at the allocation. The list's own path (PyFloat_FromDouble,
 * tuple_alloc, PyList_New, new_dict, PySlice_New, ...) would have taken
 * that block, so this object was made another way, through the type's
 * tp_alloc (dict(), list(): dict_new, list_vectorcall in 3.13), which
 * never takes from the list; it still goes onto the list when it dies.
 * memsim's per-type model reads the suffix so (docs/freelists.md).
 */
static const char *creation_name(const struct rec *r, uintptr_t obj, const char *name,
				 uint64_t size)
{
	if (!r->watching || (pyt_flags(pyt_type_of(obj)) & (1ul << 9)))
		return name;    /* not watched, or a heap type (a class) */
	for (size_t k = 0; k < sizeof list_types / sizeof list_types[0]; k++) {
		int list = list_types[k].list;

		if (strcmp(name, list_types[k].name) != 0)
			continue;
		if (list == PYW_TUPLE1) {
			/* The length from the block's size (the pre-header, a
			 * 24-byte PyTupleObject head, 8 bytes an item): the
			 * tracer runs before _PyObject_InitVar sets ob_size
			 * (Include/internal/pycore_object.h of 3.13), so
			 * ob_size is still whatever the block held before. */
			uint64_t head = pyt_presize(&r->types, pyt_flags(pyt_type_of(obj))) + 24;
			uint64_t n = size >= head ? (size - head) / 8 : 0;

			if (n < 1 || n > 20)
				return name;
			list += (int)n - 1;
		}
		return pyw_count(&r->watch, list) ? list_types[k].bypass : name;
	}
	return name;
}

/*
 * The reference tracer (PyRefTracer_SetTracer, 3.13): a creation names
 * the object's block (the object minus its pre-header). The block was
 * just allocated (the pending one: `a ID SIZE TYPE`), or it is a block a
 * free list kept: at object level a new object in it (`a`, SIZE the size
 * the allocator would have been asked for), after its old object's `f`
 * when that died unseen (pushed and popped since the last event).
 * Destructions are counted, not used (pyrec_watch.h says why).
 */
static int rec_tracer(void *op, int event, void *data)
{
	struct rec *r = data;
	uintptr_t obj = (uintptr_t)op, block;
	unsigned aux = ST_LIVE;
	const char *type;
	size_t slot;

	if (!r->logging || !op)
		return 0;
	if (event != PY_REFTRACER_CREATE) {
		r->c.destroy_events++;
		return 0;
	}
	block = obj - pyt_presize(&r->types, pyt_flags(pyt_type_of(obj)));
	if (r->check_types) {
		if (r->pend.used && r->pend.addr == block)
			r->pend.created = 1;
		return 0;
	}
	if (r->pend.used && r->pend.addr == block) {
		type = rec_type_name(r, obj, &aux);
		if (type)
			type = creation_name(r, obj, type, r->pend.size);
		r->pend.used = 0;
		r->c.objects++;
		rec_new_block(r, block, r->pend.size, type, aux);
		rec_before(r);
		return 0;
	}
	r->popped = -1;
	rec_before(r);
	slot = pyb_find(&r->blocks, block);
	if (slot == PYB_NOT_FOUND) {
		r->c.foreign_objects++;
		return 0;
	}
	unsigned old = pyb_aux(&r->blocks, slot);

	if ((old & ST_MASK) == ST_RAW) {
		r->c.late_objects++;
		return 0;
	}
	if (old & AUX_RESIZED) {
		pyb_set_aux(&r->blocks, slot, old & ~AUX_RESIZED);
		return 0;
	}
	if (r->level != LEVEL_OBJECT)
		return 0;       /* a free list's block reused: no allocator call */
	if ((old & ST_MASK) == ST_LIVE) {
		rec_kill(r, slot);
		r->c.reused_unseen++;
		rec_note(r, "parked-unseen", r->popped);
	} else {
		r->c.reused++;
	}
	type = rec_type_name(r, obj, &aux);
	r->c.objects++;
	rec_reborn(r, slot, pyt_request_size(&r->types, obj), type, aux);
	rec_note(r, (old & ST_MASK) == ST_LIVE ? "reused-unseen" : "reused", r->popped);
	return 0;
}

/* Arenas aligned to their own size (rounded up to a power of two): map
 * twice the size and unmap the slack on both sides. */
static void arena_count(struct rec *r, size_t size, int is_free)
{
	if (!r->logging)
		return;         /* after the trace: not in CPython's counters either */
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

/* The free-list lines after the allocator's table, in CPython's order:
 * "N free WHAT * S bytes each = T" (_PyDebugAllocatorStats,
 * Objects/obmalloc.c; one per list, Objects/object.c
 * _PyObject_DebugTypeStats). WHAT is e.g. "PyFloatObjects" or "3-sized
 * PyTupleObjects". */
#define MAX_FREE_LINES 64

struct free_line {
	char what[48];
	unsigned long long count, size;
};

struct free_lines {
	struct free_line v[MAX_FREE_LINES];
	int n;
};

/* Parses every free-list line of TEXT; other lines are skipped (the
 * allocator's table, parsed by stats_parse, and the 3.10+ arena map).
 * Returns 0, or -1 with a message when a "free" line does not parse. */
static int free_lines_parse(const char *text, struct free_lines *fl, char *err, size_t errlen)
{
	fl->n = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256], what[64], *star;
		unsigned long long count, size;

		snprintf(buf, sizeof buf, "%.*s", (int)(len < 255 ? len : 255), line);
		line += len + (end != NULL);
		if (!strstr(buf, " free ") || !strstr(buf, " bytes each"))
			continue;
		star = strstr(buf, " * ");
		if (fl->n == MAX_FREE_LINES || !star ||
		    sscanf(buf, " %llu free", &count) != 1 ||
		    sscanf(star, " * %llu bytes each", &size) != 1) {
			snprintf(err, errlen, "cannot parse the free-list line '%s'", trim(buf));
			return -1;
		}
		*star = 0;
		snprintf(what, sizeof what, "%s", strstr(buf, " free ") + 6);
		snprintf(fl->v[fl->n].what, sizeof fl->v[fl->n].what, "%s", trim(what));
		fl->v[fl->n].count = count;
		fl->v[fl->n].size = size;
		fl->n++;
	}
	return 0;
}

/* What the stats file holds beside the parsed allocator table. */
struct stats_extra {
	const char *text;              /* _debugmallocstats, verbatim */
	const struct free_lines *fl;
	const char *gc_repr, *gc_json; /* gc.get_stats(): repr and JSON */
	const char *level, *runtime;
};

static int stats_write(const char *path, const struct stats *st, const struct rec *r,
		       const char *version, const struct stats_extra *x)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "{\n  \"source\": \"pyrec\",\n  \"python\": ");
	json_str(f, version);
	fprintf(f, ",\n  \"runtime\": ");
	json_str(f, x->runtime);
	fprintf(f, ",\n  \"level\": ");
	json_str(f, x->level);
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
	fprintf(f, "\n  ],\n  \"free_lists\": [");
	for (int i = 0; i < x->fl->n; i++) {
		fprintf(f, "%s\n    {\"what\": ", i ? "," : "");
		json_str(f, x->fl->v[i].what);
		fprintf(f, ", \"count\": %llu, \"bytes_each\": %llu}", x->fl->v[i].count,
			x->fl->v[i].size);
	}
	fprintf(f, "\n  ],\n  \"gc_get_stats\": %s,\n  \"gc_get_stats_repr\": ",
		x->gc_json && *x->gc_json ? x->gc_json : "null");
	json_str(f, x->gc_repr ? x->gc_repr : "");
	fprintf(f, ",\n  \"debugmallocstats\": ");
	json_str(f, x->text);
	fprintf(f, ",\n  \"recorder\": {\"live\": %llu, \"live_peak\": %llu, "
		"\"table_bytes_peak\": %llu",
		(unsigned long long)r->blocks.n, (unsigned long long)r->blocks.peak,
		(unsigned long long)r->blocks.bytes_peak);
#define X(name, doc) fprintf(f, ", \"%s\": %llu", #name, (unsigned long long)r->c.name);
	REC_COUNTERS(X)
#undef X
	if (r->watch.base) {
		/* What the interpreter's lists held at the end, read from its
		 * memory: the same numbers as its own free-list lines, and the
		 * lists _debugmallocstats does not print. */
		fprintf(f, ", \"free_lists_held\": {");
		for (int l = 0; l < PYW_NLISTS; l++) {
			if (l >= PYW_TUPLE1 && l < PYW_TUPLE1 + 20)
				fprintf(f, "%s\"tuple.%d\": %u", l ? ", " : "", l - PYW_TUPLE1 + 1,
					pyw_count(&r->watch, l));
			else
				fprintf(f, "%s\"%s\": %u", l ? ", " : "", pyw_list_name(l),
					pyw_count(&r->watch, l));
		}
		fprintf(f, "}");
	}
	fprintf(f, ", \"virtual_allocs\": [");
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
		fprintf(f, "%s\n    {\"what\": ", i ? "," : "");
		json_str(f, again.fl[i].name);
		fprintf(f, ", \"count\": %llu, \"bytes_each\": %llu}", again.fl[i].count,
			again.fl[i].size);
	}
	fprintf(f, "\n  ],\n  \"recorder\": {\"allocs\": %llu, \"reallocs\": %llu, "
		"\"frees\": %llu, \"live\": %llu}\n}\n",
		(unsigned long long)r->c.allocs, (unsigned long long)r->c.reallocs,
		(unsigned long long)r->c.frees, (unsigned long long)r->blocks.n);
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
"usage: tools/pyrec --python PREFIX|LIBPYTHON|PYTHON_BINARY -o OUT [--stats OUT.json]\n"
"                   [--level object|allocator] [--home DIR] [--site] SCRIPT.py [ARGS...]\n"
"\n"
"Runs SCRIPT.py in a real CPython 3.6+ (loaded from its shared library) and\n"
"records what the interpreter allocates as a memsim trace, then writes the\n"
"interpreter's own sys._debugmallocstats() and gc.get_stats() as JSON.\n"
"\n"
"Levels (the trace header's \"level\"):\n"
"  object     every object's creation and destruction is `a ID SIZE TYPE` /\n"
"             `f ID`, including objects a free list recycles; other memory\n"
"             is untyped a/f/r at the allocator. Default from 3.13 (needs\n"
"             PyRefTracer_SetTracer).\n"
"  allocator  the allocator calls the interpreter's free lists let through;\n"
"             a block that holds an object carries its TYPE. Default before\n"
"             3.13.\n"
"Arenas are allocated aligned to their size (\"arena_alignment\":\"aligned\").\n"
"\n"
"  --python P   a prefix (P/lib/libpython3.X.so*), a libpython path, or the\n"
"               prefix's bin/python3.X\n"
"  -o FILE      the trace: binary (docs/binary-format.md) unless FILE ends in\n"
"               .trace or .txt (text); gzip-compressed when it ends in .gz\n"
"  --stats FILE the interpreter's counters, and its own outputs verbatim\n"
"  --level L    object or allocator (above)\n"
"  --home DIR   PYTHONHOME (default: the prefix of the library)\n"
"  --site       import site at startup (default: no, like python -S, because\n"
"               .pth files run machine-dependent code)\n"
"\n"
"PYTHONMALLOC=mimalloc (3.13+) records CPython's bundled mimalloc instead of\n"
"pymalloc, and the stats are mimalloc's (docs/recording.md); the level is\n"
"then allocator unless --level object is given.\n"
"\n"
"The environment is made deterministic: PYTHON* variables are cleared, then\n"
"PYTHONHASHSEED=0, PYTHONNOUSERSITE=1, PYTHONDONTWRITEBYTECODE=1 and\n"
"PYTHONHOME are set. sys.exit() in the script ends it normally.\n"
"\n"
"examples:\n"
"  tools/pyrec --python ~/.pyenv/versions/3.13.0 -o x.msb --stats x.json w.py\n"
"  memsim replay -p cpython-3.13:allocator.arena_alignment=aligned x.msb\n"
"  tools/pyrec --python /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 \\\n"
"      -o x.trace.gz --stats x.json tests/cpython/workloads/json_roundtrip.py\n"
"\n"
"exit status: 0 ok, 1 the script raised an exception, 64 usage error,\n"
"66 library, prefix or script not found, 70 internal failure\n");
}

#define LOAD(name) do { \
	*(void **)&api->name = dlsym(lib, #name); \
	if (!api->name) { \
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

struct opts {
	const char *python, *home, *script, *level;
	int site, argi;
};

static int parse_args(int argc, char **argv, struct opts *o, struct rec *r)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "--site") == 0) {
			o->site = 1;
			continue;
		}
		if (strcmp(a, "--annotate") == 0) {
			r->annotate = 1;
			continue;
		}
		if (strcmp(a, "--check-types") == 0) {
			r->check_types = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "pyrec: %s needs a value\n", a);
			return EXIT_USAGE;
		}
		if (strcmp(a, "--python") == 0)
			o->python = argv[++i];
		else if (strcmp(a, "-o") == 0)
			r->trace_path = argv[++i];
		else if (strcmp(a, "--stats") == 0)
			r->stats_path = argv[++i];
		else if (strcmp(a, "--home") == 0)
			o->home = argv[++i];
		else if (strcmp(a, "--level") == 0)
			o->level = argv[++i];
		else {
			fprintf(stderr, "pyrec: unknown option %s (see --help)\n", a);
			return EXIT_USAGE;
		}
	}
	if (o->level && strcmp(o->level, "object") != 0 && strcmp(o->level, "allocator") != 0) {
		fprintf(stderr, "pyrec: --level %s: object or allocator\n", o->level);
		return EXIT_USAGE;
	}
	if (r->annotate && !is_text_name(r->trace_path ? r->trace_path : "")) {
		fprintf(stderr, "pyrec: --annotate needs a text trace (-o FILE.trace)\n");
		return EXIT_USAGE;
	}
	if (!o->python || !r->trace_path || i >= argc) {
		fprintf(stderr, "pyrec: --python, -o and a script are required (see --help)\n");
		return EXIT_USAGE;
	}
	o->script = argv[i];
	o->argi = i;
	return 0;
}

/* The library and prefix named by --python (a prefix, a library or an
 * interpreter binary). */
static int find_library(const struct opts *o, char **libpath, char **prefix)
{
	char err[1024];
	const char *python = o->python;

	if (is_dir(python)) {
		*libpath = find_libpython(python, err, sizeof err);
		if (!*libpath) {
			fprintf(stderr, "pyrec: %s\n", err);
			return EXIT_NOINPUT;
		}
		*prefix = realpath(python, NULL);
	} else if (is_file(python) && strstr(strrchr(python, '/') ? strrchr(python, '/') : python,
					     "libpython")) {
		*libpath = strdup(python);
		*prefix = prefix_of_lib(python);
	} else if (is_file(python)) {
		/* PREFIX/bin/python3.X */
		char *p = realpath(python, NULL), *s;
		for (int up = 0; p && up < 2 && (s = strrchr(p, '/')); up++)
			*s = 0;
		if (!p || !(*libpath = find_libpython(p, err, sizeof err))) {
			fprintf(stderr, "pyrec: %s: %s\n", python, p ? err : strerror(errno));
			return EXIT_NOINPUT;
		}
		*prefix = p;
	} else {
		fprintf(stderr, "pyrec: --python %s: no such prefix, library or interpreter\n", python);
		return EXIT_NOINPUT;
	}
	if (!o->home && !*prefix) {
		fprintf(stderr, "pyrec: cannot tell the prefix of %s: pass --home\n", *libpath);
		return EXIT_NOINPUT;
	}
	return 0;
}

static int read_script(const char *script, char **src)
{
	FILE *sf = fopen(script, "rb");
	long len;

	if (!sf) {
		fprintf(stderr, "pyrec: %s: %s\n", script, strerror(errno));
		return EXIT_NOINPUT;
	}
	fseek(sf, 0, SEEK_END);
	len = ftell(sf);
	rewind(sf);
	*src = malloc((size_t)len + 1);
	if (!*src || fread(*src, 1, (size_t)len, sf) != (size_t)len) {
		fprintf(stderr, "pyrec: cannot read %s\n", script);
		fclose(sf);
		return EXIT_NOINPUT;
	}
	(*src)[len] = 0;
	fclose(sf);
	return 0;
}

/* dlopen()s the library and finds every entry point; *MINOR is the
 * interpreter's 3.minor. */
static int load_api(const char *libpath, struct py_api *api, char *version, size_t vlen,
		    int *minor)
{
	void *lib = dlopen(libpath, RTLD_NOW | RTLD_GLOBAL);

	if (!lib) {
		fprintf(stderr, "pyrec: cannot load %s: %s\n", libpath, dlerror());
		return EXIT_NOINPUT;
	}
	memset(api, 0, sizeof *api);
	api->lib = lib;
	LOAD(Py_GetVersion);
	/* Py_GetVersion formats into a static buffer: safe before init. */
	snprintf(version, vlen, "%.*s", (int)strcspn(api->Py_GetVersion(), " "),
		 api->Py_GetVersion());
	/* 3.6 is the first where PYMEM_DOMAIN_MEM is pymalloc too (3.5 and
	 * earlier: C malloc), so the stream would not be pymalloc's. */
	*minor = atoi(version + 2);
	if (version[0] != '3' || version[1] != '.' || *minor < 6) {
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
	LOAD(PySys_GetObject);
	LOAD(PyObject_CallObject);
	if (*minor >= 13) {
		LOAD(PyRefTracer_SetTracer);
		LOAD(_PyRuntime);
	}
	return 0;
}

/* The trace header's metadata object. */
static char *header_meta(const struct rec *r, const char *version, const char *libpath,
			 const char *script, int mimalloc)
{
	char *buf = NULL;
	size_t len;
	FILE *h = open_memstream(&buf, &len);

	if (!h)
		return NULL;
	fprintf(h, "{\"source\":\"pyrec\",\"recorder\":\"pyrec\",\"level\":\"%s\",\"runtime\":",
		r->level == LEVEL_OBJECT ? "object" : "allocator");
	{
		char rt[96];

		snprintf(rt, sizeof rt, "cpython-%s", version);
		json_str(h, rt);
	}
	fprintf(h, ",\"python\":");
	json_str(h, version);
	fprintf(h, mimalloc ? ",\"allocator\":\"mimalloc\",\"library\":"
		   : ",\"arena_alignment\":\"aligned\",\"library\":");
	json_str(h, libpath);
	fprintf(h, ",\"script\":");
	json_str(h, script);
	fprintf(h, "}");
	fclose(h);
	return buf;
}

/* Object level: where the interpreter's free lists are (a calibration
 * child process, pyrec_watch.h), and the watcher on them. */
static int start_watch(struct rec *r, const struct py_api *api)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	char err[512];
	long off;

	if (!dladdr1(api->_PyRuntime, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
	    sym->st_size == 0) {
		fprintf(stderr, "pyrec: cannot find the size of _PyRuntime\n");
		return EXIT_SOFTWARE;
	}
	struct pyw_api wapi = {
		api->Py_InitializeEx, api->PyRun_SimpleStringFlags,
		(void *(*)(const char *))(void (*)(void))api->PySys_GetObject,
		(void *(*)(void *, void *))(void (*)(void))api->PyObject_CallObject,
	};

	off = pyw_locate(api->_PyRuntime, sym->st_size, &wapi, err, sizeof err);
	if (off < 0) {
		fprintf(stderr, "pyrec: %s; record with --level allocator\n", err);
		return EXIT_SOFTWARE;
	}
	for (size_t k = 0; k < 3536; k++)
		if (api->_PyRuntime[off + k]) {
			fprintf(stderr, "pyrec: the free lists found at _PyRuntime+%ld are not "
				"empty before the interpreter starts; record with --level allocator\n",
				off);
			return EXIT_SOFTWARE;
		}
	if (pyw_init(&r->watch, api->_PyRuntime + off) < 0) {
		fprintf(stderr, "pyrec: out of memory\n");
		return EXIT_SOFTWARE;
	}
	r->watching = 1;
	return 0;
}

/* Hooks on the MEM and OBJ domains and the arena allocator, and (3.13)
 * the reference tracer, before the library has run any code. */
static void install_hooks(struct rec *r, const struct py_api *api)
{
	static py_arena_allocator arena;
	py_mem_allocator hook = { 0 };

	r->mem.rec = r->obj.rec = r;
	r->mem.domain = PY_DOMAIN_MEM;
	r->obj.domain = PY_DOMAIN_OBJ;
	api->PyMem_GetAllocator(PY_DOMAIN_MEM, &r->mem.orig);
	api->PyMem_GetAllocator(PY_DOMAIN_OBJ, &r->obj.orig);
	api->PyObject_GetArenaAllocator(&r->arena_orig);
	hook.malloc = hook_malloc;
	hook.calloc = hook_calloc;
	hook.realloc = hook_realloc;
	hook.free = hook_free;
	arena.ctx = r;
	arena.alloc = arena_alloc;
	arena.free = arena_free;
	api->PyObject_SetArenaAllocator(&arena);
	r->logging = 1;
	hook.ctx = &r->mem;
	api->PyMem_SetAllocator(PY_DOMAIN_MEM, &hook);
	hook.ctx = &r->obj;
	api->PyMem_SetAllocator(PY_DOMAIN_OBJ, &hook);
	if (api->PyRefTracer_SetTracer) {
		api->PyRefTracer_SetTracer(rec_tracer, r);
		r->tracer = 1;
	}
}

/* Compiles and runs the script in __main__; EXIT_SCRIPT when it raised. */
static int run_script(const struct py_api *api, const char *script, const char *src,
		      int argc, char **argv)
{
	int wargc = argc;
	wchar_t **wargv = calloc((size_t)wargc + 1, sizeof *wargv);
	py_object *mainmod, *globals, *fname, *code, *res = NULL;

	for (int k = 0; k < wargc; k++) {
		wargv[k] = api->Py_DecodeLocale(argv[k], NULL);
		if (!wargv[k]) {
			fprintf(stderr, "pyrec: cannot decode argument %s\n", argv[k]);
			return EXIT_SOFTWARE;
		}
	}
	api->PySys_SetArgvEx(wargc, wargv, 0);
	mainmod = api->PyImport_AddModule("__main__");
	globals = mainmod ? api->PyModule_GetDict(mainmod) : NULL;
	fname = api->PyUnicode_FromString(script);
	if (!globals || !fname || api->PyDict_SetItemString(globals, "__file__", fname) < 0) {
		fprintf(stderr, "pyrec: cannot set up __main__\n");
		return EXIT_SOFTWARE;
	}
	api->Py_DecRef(fname);
	code = api->Py_CompileStringExFlags(src, script, PY_FILE_INPUT, NULL, -1);
	if (code) {
		res = api->PyEval_EvalCode(code, globals, globals);
		api->Py_DecRef(code);
	}
	if (res) {
		api->Py_DecRef(res);
	} else if (api->PyErr_Occurred() && api->PyErr_ExceptionMatches(*api->PyExc_SystemExit)) {
		api->PyErr_Clear();
	} else {
		api->PyErr_Print();
		return EXIT_SCRIPT;
	}
	return 0;
}

/* Reads all of F into a new string. */
static char *slurp(FILE *f)
{
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	rewind(f);
	do {
		if (len + 4096 + 1 > cap) {
			char *g = realloc(buf, cap = 2 * cap + 8192);

			if (!g) {
				free(buf);
				return NULL;
			}
			buf = g;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = 0;
	return buf;
}

/* gc.get_stats() as repr and as JSON, by running a few lines of Python
 * after the trace has ended (so they are not in it). */
static void gc_stats(const struct py_api *api, char **repr, char **json)
{
	char path[] = "/tmp/pyrec-gc.XXXXXX", code[512];
	int fd = mkstemp(path);
	FILE *f;

	*repr = *json = NULL;
	if (fd < 0)
		return;
	close(fd);
	/* mkstemp's name has only [A-Za-z0-9/.-]: safe in a string literal. */
	snprintf(code, sizeof code,
		 "import gc as _g, json as _j\n"
		 "with open('%s', 'w') as _f:\n"
		 "    _s = _g.get_stats()\n"
		 "    _f.write(repr(_s) + '\\n' + _j.dumps(_s) + '\\n')\n", path);
	if (api->PyRun_SimpleStringFlags(code, NULL) == 0 && (f = fopen(path, "r"))) {
		char *all = slurp(f), *nl;

		fclose(f);
		if (all && (nl = strchr(all, '\n'))) {
			*nl = 0;
			*repr = all;
			*json = strdup(nl + 1);
			if (*json && (nl = strchr(*json, '\n')))
				*nl = 0;
		} else {
			free(all);
		}
	}
	unlink(path);
}

/* Prints the recorder's anomalies; returns how many kinds there were. */
static int report_anomalies(const struct rec *r)
{
	int kinds = 0;

#define X(name, doc) \
	if (strncmp(doc, "anomaly", 7) == 0 && r->c.name) { \
		fprintf(stderr, "pyrec: warning: %llu %s\n", (unsigned long long)r->c.name, doc + 9); \
		kinds++; \
	}
	REC_COUNTERS(X)
#undef X
	return kinds;
}

/*
 * sys._debugmallocstats() into a temporary file: the function object was
 * looked up before the trace ended (FUNC), so calling it allocates
 * nothing; it writes to the C library's stderr (Python/sysmodule.c:
 * _PyObject_DebugMallocStats, then _PyObject_DebugTypeStats, which 3.13
 * does not export), which points at the file meanwhile.
 */
static FILE *debugmallocstats(const struct py_api *api, py_object *func)
{
	FILE *tmp = tmpfile();
	int saved;
	py_object *res;

	if (!tmp || !func)
		return NULL;
	fflush(stderr);
	saved = dup(2);
	if (saved < 0 || dup2(fileno(tmp), 2) < 0)
		return NULL;
	res = api->PyObject_CallObject(func, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (!res) {
		api->PyErr_Print();
		return NULL;
	}
	api->Py_DecRef(res);
	return tmp;
}

/* After the script: the interpreter's counters, parsed and verbatim. */
static int write_stats(struct rec *r, const struct py_api *api, const char *version,
		       py_object *stats_func)
{
	char err[1024], *text, *gc_repr, *gc_json, rt[96];
	static struct free_lines fl;
	struct stats st;
	struct stats_extra x;
	FILE *tmp = debugmallocstats(api, stats_func);

	if (!tmp) {
		fprintf(stderr, "pyrec: sys._debugmallocstats() could not be called\n");
		return EXIT_SOFTWARE;
	}
	text = slurp(tmp);
	rewind(tmp);
	if (!text || stats_parse(tmp, &st, err, sizeof err) < 0 ||
	    stats_check(&st, err, sizeof err) < 0 ||
	    free_lines_parse(text, &fl, err, sizeof err) < 0) {
		fprintf(stderr, "pyrec: %s\n", text ? err : "out of memory");
		return EXIT_SOFTWARE;
	}
	fclose(tmp);
	gc_stats(api, &gc_repr, &gc_json);
	snprintf(rt, sizeof rt, "cpython-%s", version);
	x = (struct stats_extra){ text, &fl, gc_repr, gc_json,
				  r->level == LEVEL_OBJECT ? "object" : "allocator", rt };
	if (stats_write(r->stats_path, &st, r, version, &x) < 0) {
		fprintf(stderr, "pyrec: cannot write %s: %s\n", r->stats_path, strerror(errno));
		return EXIT_SOFTWARE;
	}
	free(text);
	free(gc_repr);
	free(gc_json);
	return 0;
}

int main(int argc, char **argv)
{
	static struct rec rec;
	struct opts o;
	struct py_api api;
	char *libpath = NULL, *prefix = NULL, *src, *meta, version[64];
	py_object *stats_func;
	struct mimalloc_api mapi = { 0 };
	int status, minor, mimalloc = mimalloc_wanted();

	if ((status = parse_args(argc, argv, &o, &rec)) != 0 ||
	    (status = find_library(&o, &libpath, &prefix)) != 0 ||
	    (status = read_script(o.script, &src)) != 0)
		return status;
	if (mimalloc < 0) {
		fprintf(stderr, "pyrec: PYTHONMALLOC=%s: pyrec records pymalloc (unset, "
			"\"pymalloc\" or \"default\") or \"mimalloc\" only\n", getenv("PYTHONMALLOC"));
		return EXIT_USAGE;
	}
	clean_environment(o.home ? o.home : prefix);
	if ((status = load_api(libpath, &api, version, sizeof version, &minor)) != 0)
		return status;
	/* Under mimalloc the recordings are allocator level unless asked:
	 * its model is judged on the allocator stream (cpython_mimalloc.sh). */
	rec.level = minor >= 13 && !mimalloc ? LEVEL_OBJECT : LEVEL_ALLOCATOR;
	if (o.level)
		rec.level = strcmp(o.level, "object") == 0 ? LEVEL_OBJECT : LEVEL_ALLOCATOR;
	if (rec.check_types && (minor < 13 || rec.level != LEVEL_ALLOCATOR)) {
		fprintf(stderr, "pyrec: --check-types needs CPython 3.13 or later (its reference "
			"tracer judges the header test) and --level allocator\n");
		return EXIT_USAGE;
	}
	if (rec.level == LEVEL_OBJECT && minor < 13) {
		fprintf(stderr, "pyrec: --level object needs CPython 3.13 or later (its reference "
			"tracer, PyRefTracer_SetTracer); %s is %s\n", libpath, version);
		return EXIT_USAGE;
	}
	/* A stats file is the sign of a complete recording: never leave an
	 * old one beside a new, possibly truncated, trace. */
	if (rec.stats_path && unlink(rec.stats_path) < 0 && errno != ENOENT) {
		fprintf(stderr, "pyrec: cannot replace %s: %s\n", rec.stats_path, strerror(errno));
		return EXIT_SOFTWARE;
	}
	/* Like python -S: .pth files in site-packages run arbitrary,
	 * machine-dependent code at startup (seen: a pyenv 3.11 whose .pth
	 * reads files whose size varies, giving different traces). The legacy
	 * flag is deprecated since 3.12 but still read by Py_InitializeEx. */
	*api.Py_NoSiteFlag = !o.site;
	if (rec.level == LEVEL_OBJECT && (status = start_watch(&rec, &api)) != 0)
		return status;
	if (pyb_init(&rec.blocks) < 0 || pyt_init(&rec.types, minor) < 0) {
		fprintf(stderr, "pyrec: out of memory\n");
		return EXIT_SOFTWARE;
	}
	meta = header_meta(&rec, version, libpath, o.script, mimalloc);
	if (!meta || out_header(&rec.out, rec.trace_path, meta) < 0) {
		fprintf(stderr, "pyrec: cannot open %s: %s\n", rec.trace_path, strerror(errno));
		return EXIT_SOFTWARE;
	}
	free(meta);

	if (mimalloc && mimalloc_preinit(api.lib, &mapi) < 0)
		return EXIT_SOFTWARE;
	install_hooks(&rec, &api);
	exit_guard = &rec;
	atexit(guard_atexit);
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
	/* Looked up now, while recorded, so that calling it at the end
	 * allocates nothing (borrowed: the sys module keeps it). */
	stats_func = api.PySys_GetObject("_debugmallocstats");
	if (mimalloc && mimalloc_keep_function(&mapi) < 0)
		return EXIT_SOFTWARE;
	status = run_script(&api, o.script, src, argc - o.argi, argv + o.argi);

	/* Logging ends exactly here: the last pending block and free-list
	 * changes, then the original allocators back, then the stats. */
	rec_before(&rec);
	rec.logging = 0;
	exit_guard = NULL;
	api.PyMem_SetAllocator(PY_DOMAIN_MEM, &rec.mem.orig);
	api.PyMem_SetAllocator(PY_DOMAIN_OBJ, &rec.obj.orig);
	if (out_close(&rec.out) < 0) {
		fprintf(stderr, "pyrec: writing %s failed\n", rec.trace_path);
		return EXIT_SOFTWARE;
	}
	if (status == EXIT_SCRIPT) {
		fprintf(stderr, "pyrec: %s raised an exception; no stats written\n", o.script);
		return EXIT_SCRIPT;
	}
	if (status)
		return status;
	if (rec.broken) {
		fprintf(stderr, "pyrec: %s; the trace is not exact and has been removed\n",
			rec.broken);
		unlink(rec.trace_path);
		return EXIT_SOFTWARE;
	}
	if (rec.n_vother) {
		fprintf(stderr, "pyrec: the arena allocator saw more than 8 sizes\n");
		return EXIT_SOFTWARE;
	}
	if (rec.c.unknown_pointers) {
		fprintf(stderr, "pyrec: %llu requests named blocks allocated before the hooks; "
			"the trace is incomplete\n", (unsigned long long)rec.c.unknown_pointers);
		return EXIT_SOFTWARE;
	}
	report_anomalies(&rec);
	if (mimalloc && rec.stats_path) {
		char err[1024];

		if (mimalloc_stats(&api, &mapi, &rec, version, err, sizeof err) < 0) {
			fprintf(stderr, "pyrec: %s\n", err);
			return EXIT_SOFTWARE;
		}
	} else if (rec.stats_path && (status = write_stats(&rec, &api, version, stats_func)) != 0) {
		return status;
	}
	/* The script's own output may still sit in sys.stdout's buffer; the
	 * interpreter is not finalized (nothing of it is measured any more). */
	api.PyRun_SimpleStringFlags("import sys\nsys.stdout.flush()\nsys.stderr.flush()\n", NULL);
	fflush(NULL);
	_exit(0);
}
