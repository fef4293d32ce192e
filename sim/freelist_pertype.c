/*
 * freelist_pertype.c - CPython's private per-type free lists.
 *
 * Models, with knobs, the free lists of Python 2.4 .. 3.13 (64-bit), read
 * from Objects/{int,float,list,dict,tuple,frame}object.c (2.7, 3.6 .. 3.10),
 * Include/internal/pycore_{list,floatobject,tuple,dict}.h (3.11, 3.12),
 * Include/internal/pycore_freelist.h (3.13) and Modules/gcmodule.c /
 * Python/gc.c (clear_freelists). docs/freelists.md gives every limit per
 * version with its source; the sizes were measured with sys.getsizeof on
 * the real interpreters.
 *
 *  1. A trace TYPE name selects a list: "float", "list", "dict",
 *     "dictkeys" (PyDictKeysObject; "dict_keys" is the keys *view* type
 *     and has no list), "tuple", "frame", and "int" when python2_blocks
 *     is on. Any other name, and untyped objects, go to the allocator.
 *  2. Fixed-size types (float, list header, dict) keep one LIFO stack of
 *     parked blocks with a limit (PyFloat_MAXFREELIST 100,
 *     PyList_MAXFREELIST 80, PyDict_MAXFREELIST 80). A death parks the
 *     block while the stack is below its limit; a creation pops the top
 *     if its size equals the request (CPython reuses the header whatever
 *     the trace says; a size mismatch means the trace is not CPython's,
 *     and is a miss).
 *  3. Tuples have one stack per length 1 .. tuple_max_length (19 up to
 *     3.10: index < PyTuple_MAXSAVESIZE 20; 20 from 3.11), each bounded by
 *     tuple_limit (PyTuple_MAXFREELIST 2000). The length is
 *     (size - tuple_base) / tuple_item_size; a size that does not fit
 *     that rule, or length 0 (the empty-tuple singleton), goes to the
 *     allocator.
 *  4. Dict keys (3.6+): only keys objects of the minimum size
 *     (PyDict_MINSIZE; dict_keys_size bytes, unicode keys only in 3.11+)
 *     are parked, up to dict_keys_limit.
 *  5. Frames (<= 3.10): one LIFO stack up to frame_limit
 *     (PyFrame_MAXFREELIST 200); CPython resizes a reused frame that is
 *     too small, this model resizes it (through the allocator) to the
 *     exact request so the allocator's books stay right. Per-code
 *     "zombie" frames are not modelled. 3.11+ has no frame list (0).
 *  6. python2_blocks (Python 2 int and float): objects come from blocks
 *     of block_size bytes asked from the *system* allocator
 *     (PyMem_MALLOC(sizeof(PyIntBlock))): a block_header pointer and
 *     (block_size - block_header) / object_size objects (41 of 24 bytes,
 *     a 992-byte request). Deaths always park (LIFO); an empty list
 *     carves a new block whose objects pop from the highest address down.
 *     Blocks are never freed before 2.6.
 *  7. clear() is what a full collection does (gc_clears): tuples, frames
 *     and floats are emptied to the allocator; with python2_blocks, int
 *     and float blocks whose objects are all free go back to the system
 *     and the free lists are rebuilt in PyInt_ClearFreeList's order
 *     (2.6+). gc_clears_containers (3.x; not 2.7) also empties list, dict and
 *     dict-keys lists. 2.4 / 2.5 had no clear_freelists at all.
 *
 * Not modelled: the small-int cache (-5 .. 256) - its objects are never
 * freed, so a trace that records them has them live and they cost what
 * any live int costs; method, cfunction, unicode, set, async-generator
 * and context lists (traces name none of those types).
 */
#include "freelist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define PT_TUPLE_MAX 64         /* longest tuple length a knob may save */

struct pertype_params {
	uint64_t float_limit;       /* objects; PyFloat_MAXFREELIST */
	uint64_t list_limit;        /* objects; PyList_MAXFREELIST */
	uint64_t dict_limit;        /* objects; PyDict_MAXFREELIST */
	uint64_t dict_keys_limit;   /* objects; 0 before 3.6 */
	uint64_t dict_keys_size;    /* bytes of a PyDict_MINSIZE keys object */
	uint64_t tuple_limit;       /* objects per length; PyTuple_MAXFREELIST */
	uint64_t tuple_max_length;  /* items; longest tuple saved */
	uint64_t tuple_reuse_max_length;    /* items; longest tuple served */
	uint64_t tuple_base;        /* bytes of an empty tuple (GC head + header) */
	uint64_t tuple_item_size;   /* bytes per item (a pointer) */
	uint64_t frame_limit;       /* objects; PyFrame_MAXFREELIST, 0 in 3.11+ */
	uint64_t slice_limit;       /* objects; the one-slot slice_cache (3.x) */
	uint64_t context_limit;     /* objects; PyContext_MAXFREELIST (3.7+) */
	uint64_t async_gen_limit;   /* objects per list; _PyAsyncGen_MAXFREELIST */
	int clear_order;            /* CLEAR_* below */
	int python2_blocks;         /* int and float from private blocks */
	uint64_t block_size;        /* bytes; BLOCK_SIZE */
	uint64_t block_header;      /* bytes; BHEAD_SIZE */
	uint64_t object_size;       /* bytes; sizeof(PyIntObject) */
	int gc_clears;              /* 2.6+: full gc clears tuple/frame/float */
	int gc_clears_containers;   /* 3.x: ... and list/dict/keys */
};

/* The order a full collection empties the lists in (clear_freelists in
 * Modules/gcmodule.c 3.6-3.12 and _PyObject_ClearFreeLists in
 * Objects/object.c 3.13; read from each library with objdump -d): */
enum {
	CLEAR_TUPLE_FIRST,      /* frames, tuples, floats, lists, dicts (and
				 * their keys), async-gen values and asends,
				 * contexts: 2.7 .. 3.12 */
	CLEAR_FLOAT_FIRST,      /* floats, tuples, lists, dicts (and keys),
				 * contexts, async-gen values and asends: 3.13 */
};
static const char *const clear_order_choices[] = { "tuple-first", "float-first", NULL };

/* The defaults are CPython 3.11's (3.8+ tuple header). */
static const struct pertype_params pertype_defaults = {
	.float_limit = 100,
	.list_limit = 80,
	.dict_limit = 80,
	.dict_keys_limit = 80,
	.dict_keys_size = 120,
	.tuple_limit = 2000,
	.tuple_max_length = 20,
	.tuple_reuse_max_length = 19,
	.tuple_base = 40,
	.tuple_item_size = 8,
	.frame_limit = 0,
	.slice_limit = 1,
	.context_limit = 255,
	.async_gen_limit = 80,
	.clear_order = CLEAR_TUPLE_FIRST,
	.python2_blocks = 0,
	.block_size = 1000,
	.block_header = 8,
	.object_size = 24,
	.gc_clears = 1,
	.gc_clears_containers = 1,
};

#define PT_OFF(f) offsetof(struct pertype_params, f)
static const struct knob pertype_knobs[] = {
	{ .name = "float_limit", .kind = KNOB_UINT, .offset = PT_OFF(float_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "floats kept (PyFloat_MAXFREELIST 100, 3.x)" },
	{ .name = "list_limit", .kind = KNOB_UINT, .offset = PT_OFF(list_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "list headers kept (PyList_MAXFREELIST 80)" },
	{ .name = "dict_limit", .kind = KNOB_UINT, .offset = PT_OFF(dict_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "dict objects kept (PyDict_MAXFREELIST 80)" },
	{ .name = "dict_keys_limit", .kind = KNOB_UINT, .offset = PT_OFF(dict_keys_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "minimum-size dict keys objects kept (80 in 3.6+, 0 before)" },
	{ .name = "dict_keys_size", .kind = KNOB_UINT, .offset = PT_OFF(dict_keys_size),
	  .min = 1, .max = 1u << 20, .unit = "bytes",
	  .doc = "size of a PyDict_MINSIZE keys object (168 in 3.6-3.10, 120 in 3.11+)" },
	{ .name = "tuple_limit", .kind = KNOB_UINT, .offset = PT_OFF(tuple_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "tuples kept per length (PyTuple_MAXFREELIST 2000)" },
	{ .name = "tuple_max_length", .kind = KNOB_UINT, .offset = PT_OFF(tuple_max_length),
	  .min = 0, .max = PT_TUPLE_MAX, .unit = "items",
	  .doc = "longest tuple kept (19 up to 3.10, 20 from 3.11)" },
	{ .name = "tuple_reuse_max_length", .kind = KNOB_UINT,
	  .offset = PT_OFF(tuple_reuse_max_length), .min = 0, .max = PT_TUPLE_MAX, .unit = "items",
	  .doc = "longest tuple served from the lists (19 up to 3.12: 3.11 and 3.12 keep 20-tuples "
		 "but never reuse them; 20 from 3.13)" },
	{ .name = "tuple_base", .kind = KNOB_UINT, .offset = PT_OFF(tuple_base),
	  .min = 0, .max = 4096, .unit = "bytes",
	  .doc = "traced size of an empty tuple (56 in 2.7-3.7, 40 in 3.8+)" },
	{ .name = "tuple_item_size", .kind = KNOB_UINT, .offset = PT_OFF(tuple_item_size),
	  .min = 1, .max = 64, .unit = "bytes", .doc = "bytes per tuple item (8)" },
	{ .name = "frame_limit", .kind = KNOB_UINT, .offset = PT_OFF(frame_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "frames kept (PyFrame_MAXFREELIST 200 up to 3.10, 0 in 3.11+)" },
	{ .name = "slice_limit", .kind = KNOB_UINT, .offset = PT_OFF(slice_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "slices kept (the one-slot slice_cache, 3.x; never cleared by a collection)" },
	{ .name = "context_limit", .kind = KNOB_UINT, .offset = PT_OFF(context_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "contextvars contexts kept (PyContext_MAXFREELIST 255, 3.7+)" },
	{ .name = "async_gen_limit", .kind = KNOB_UINT, .offset = PT_OFF(async_gen_limit),
	  .min = 0, .max = 1u << 30, .unit = "objects",
	  .doc = "async-generator wrapped values, and asend objects, kept (_PyAsyncGen_MAXFREELIST 80, 3.6+)" },
	{ .name = "clear_order", .kind = KNOB_ENUM, .offset = PT_OFF(clear_order),
	  .choices = clear_order_choices,
	  .doc = "order a full collection empties the lists in (tuple-first up to 3.12, float-first in 3.13)" },
	{ .name = "python2_blocks", .kind = KNOB_BOOL, .offset = PT_OFF(python2_blocks),
	  .doc = "int and float from private blocks of the system allocator (2.x)" },
	{ .name = "block_size", .kind = KNOB_UINT, .offset = PT_OFF(block_size),
	  .min = 16, .max = 1u << 20, .unit = "bytes",
	  .doc = "int/float block size (BLOCK_SIZE 1000)" },
	{ .name = "block_header", .kind = KNOB_UINT, .offset = PT_OFF(block_header),
	  .min = 0, .max = 4096, .unit = "bytes",
	  .doc = "block link pointer (BHEAD_SIZE 8)" },
	{ .name = "object_size", .kind = KNOB_UINT, .offset = PT_OFF(object_size),
	  .min = 1, .max = 4096, .unit = "bytes",
	  .doc = "size of a block-allocated int or float (24)" },
	{ .name = "gc_clears", .kind = KNOB_BOOL, .offset = PT_OFF(gc_clears),
	  .doc = "a full collection clears tuple, frame and float lists and frees empty int/float blocks (2.6+)" },
	{ .name = "gc_clears_containers", .kind = KNOB_BOOL,
	  .offset = PT_OFF(gc_clears_containers),
	  .doc = "a full collection also clears list, dict and dict-keys lists (3.x)" },
};

/* Objects in one int/float block (N_INTOBJECTS, N_FLOATOBJECTS). */
static uint64_t objects_per_block(const struct pertype_params *p)
{
	return (p->block_size - p->block_header) / p->object_size;
}

static int pertype_validate(const void *params, char *msg, size_t msglen)
{
	const struct pertype_params *p = params;
	const char *why = NULL;

	if (p->block_header + p->object_size > p->block_size)
		why = "block_size must hold block_header and one object";
	else if (objects_per_block(p) > UINT16_MAX)
		why = "a block may hold at most 65535 objects";
	if (!why)
		return 0;
	snprintf(msg, msglen, "per-type: %s", why);
	return -1;
}

/* Which list a trace type feeds. */
enum pt_kind {
	PT_OTHER,       /* the allocator */
	PT_FLOAT,       /* 3.x float, or 2.x float without blocks */
	PT_LIST,
	PT_DICT,
	PT_DICTKEYS,
	PT_FRAME,
	PT_SLICE,
	PT_CONTEXT,
	PT_AGEN_VALUE,
	PT_AGEN_ASEND,
	PT_TUPLE,       /* PT_TUPLE + length - 1: one list per length */
};
/*
 * Creations that never take from their list, though their deaths go onto
 * it (the trace names them apart; tools/pyrec writes them, docs/
 * freelists.md): "TYPE.tp_alloc", an object made through its type's
 * tp_alloc (dict(), list(): dict_new, list_vectorcall in 3.13) rather
 * than the list's own path, and "dictkeys.copy", a keys object made by
 * copying another (clone_combined_dict_keys, Objects/dictobject.c 3.13).
 */
#define PT_SUFFIX_TP_ALLOC ".tp_alloc"
#define PT_NFIXED PT_TUPLE
#define PT_NLISTS (PT_TUPLE + PT_TUPLE_MAX)

/* Block-allocated kinds (python2_blocks): separate from the lists. */
enum { BK_INT, BK_FLOAT, BK_N };
#define PT_BLOCKED(k) (1000 + (k))      /* kind code for a block kind */

struct parked {
	uint64_t addr, size;
};

struct pstack {
	struct parked *v;
	size_t n, cap;
};

static void pstack_push(struct pstack *s, uint64_t addr, uint64_t size)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = (struct parked){ addr, size };
}

/* Live block-allocated objects: address -> slot (open addressing). */
struct addrmap {
	uint64_t *key;          /* 0: empty (addresses are never 0) */
	uint32_t *val;
	size_t cap, n;          /* cap a power of two */
};

static size_t am_hash(uint64_t k, size_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & mask;
}

static void am_put(struct addrmap *m, uint64_t k, uint32_t v);

static void am_grow(struct addrmap *m)
{
	struct addrmap old = *m;

	m->cap = old.cap ? 2 * old.cap : 1024;
	m->key = xcalloc(m->cap, sizeof *m->key);
	m->val = xcalloc(m->cap, sizeof *m->val);
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.key[i])
			am_put(m, old.key[i], old.val[i]);
	free(old.key);
	free(old.val);
}

static void am_put(struct addrmap *m, uint64_t k, uint32_t v)
{
	if (2 * (m->n + 1) > m->cap)
		am_grow(m);
	size_t mask = m->cap - 1, i = am_hash(k, mask);

	while (m->key[i] && m->key[i] != k)
		i = (i + 1) & mask;
	if (!m->key[i])
		m->n++;
	m->key[i] = k;
	m->val[i] = v;
}

/* Removes k; returns 1 and its value in *v, or 0 if absent. */
static int am_take(struct addrmap *m, uint64_t k, uint32_t *v)
{
	if (!m->cap)
		return 0;
	size_t mask = m->cap - 1, i = am_hash(k, mask);

	while (m->key[i] != k) {
		if (!m->key[i])
			return 0;
		i = (i + 1) & mask;
	}
	*v = m->val[i];
	m->key[i] = 0;
	m->n--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (size_t j = (i + 1) & mask; m->key[j]; j = (j + 1) & mask) {
		size_t h = am_hash(m->key[j], mask);

		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			m->key[j] = 0;
			i = j;
		}
	}
	return 1;
}

/* One Python 2 block: its system address and which objects are free. */
struct block {
	uint64_t addr;          /* 0: record unused */
	uint32_t nfree;
	uint8_t *free;          /* per object, 1 if on the free list */
};

/* The int or float block allocator of Python 2 (intobject.c). */
struct blockalloc {
	struct block *b;
	uint32_t nb, cap;
	uint32_t *spare;        /* unused records */
	uint32_t nspare;
	uint32_t *order;        /* block_list; order[norder - 1] is the head */
	uint32_t norder;
	uint32_t *fl;           /* free list of slots (block * N + i); top last */
	size_t nfl, flcap;
	uint64_t live_blocks, blocks_freed;
};

struct tstat {
	uint64_t hits, misses, blocked;
	int kind;               /* enum pt_kind or PT_BLOCKED(bk); -1 unknown */
	int notake;             /* never served from the list (above) */
};

struct pertype {
	struct pertype_params p;
	const struct freelist_env *env;
	uint32_t nobj;                  /* objects per block */
	struct pstack list[PT_NLISTS];
	uint64_t limit[PT_NLISTS];
	uint64_t held_kind[PT_NLISTS];  /* bytes parked per list */
	unsigned char used[PT_NLISTS];  /* the list has parked a block */
	struct blockalloc ba[BK_N];
	struct addrmap live;            /* block objects in use */
	uint64_t held_bk[BK_N];
	struct freelist_stats tot;      /* what stats() reports */
	struct tstat *ts;               /* per trace type */
	uint32_t nts;
};

static void *pertype_create(const void *params, const struct freelist_env *env)
{
	struct pertype *s = xcalloc(1, sizeof *s);

	s->p = *(const struct pertype_params *)params;
	s->env = env;
	s->nobj = (uint32_t)objects_per_block(&s->p);
	s->limit[PT_FLOAT] = s->p.float_limit;
	s->limit[PT_LIST] = s->p.list_limit;
	s->limit[PT_DICT] = s->p.dict_limit;
	s->limit[PT_DICTKEYS] = s->p.dict_keys_limit;
	s->limit[PT_FRAME] = s->p.frame_limit;
	s->limit[PT_SLICE] = s->p.slice_limit;
	s->limit[PT_CONTEXT] = s->p.context_limit;
	s->limit[PT_AGEN_VALUE] = s->p.async_gen_limit;
	s->limit[PT_AGEN_ASEND] = s->p.async_gen_limit;
	for (uint64_t n = 1; n <= s->p.tuple_max_length; n++)
		s->limit[PT_TUPLE + n - 1] = s->p.tuple_limit;
	return s;
}

static void pertype_destroy(void *state)
{
	struct pertype *s = state;

	if (!s)
		return;
	for (int i = 0; i < PT_NLISTS; i++)
		free(s->list[i].v);
	for (int k = 0; k < BK_N; k++) {
		struct blockalloc *a = &s->ba[k];

		for (uint32_t i = 0; i < a->nb; i++)
			free(a->b[i].free);
		free(a->b);
		free(a->spare);
		free(a->order);
		free(a->fl);
	}
	free(s->live.key);
	free(s->live.val);
	free(s->ts);
	free(s);
}

/* Trace type names and the lists they feed (docs/freelists.md). */
static const struct { const char *name; int kind; } kind_names[] = {
	{ "list", PT_LIST }, { "dict", PT_DICT }, { "dictkeys", PT_DICTKEYS },
	{ "frame", PT_FRAME }, { "tuple", PT_TUPLE }, { "slice", PT_SLICE },
	{ "_contextvars.Context", PT_CONTEXT },
	{ "async_generator_wrapped_value", PT_AGEN_VALUE },
	{ "async_generator_asend", PT_AGEN_ASEND },
};

/* What a trace type name feeds. */
static int kind_of_name(const struct pertype *s, const char *name)
{
	if (s->p.python2_blocks && strcmp(name, "int") == 0)
		return PT_BLOCKED(BK_INT);
	if (strcmp(name, "float") == 0)
		return s->p.python2_blocks ? PT_BLOCKED(BK_FLOAT) : PT_FLOAT;
	for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (strcmp(name, kind_names[i].name) == 0)
			return kind_names[i].kind;
	return PT_OTHER;
}

static struct tstat *tstat_of(struct pertype *s, uint32_t type)
{
	if (type >= s->nts) {
		uint32_t n = type + 1 > 2 * s->nts ? type + 1 : 2 * s->nts;

		s->ts = xreallocarray(s->ts, n, sizeof *s->ts);
		for (uint32_t i = s->nts; i < n; i++)
			s->ts[i] = (struct tstat){ .kind = -1 };
		s->nts = n;
	}
	struct tstat *t = &s->ts[type];

	if (t->kind < 0) {
		const char *name = s->env && s->env->types ?
			typetab_name(s->env->types, type) : "";
		size_t n = strlen(name), m = strlen(PT_SUFFIX_TP_ALLOC);
		char base[TYPETAB_NAME_MAX + 1];

		if (strcmp(name, "dictkeys.copy") == 0) {
			t->kind = PT_DICTKEYS;
			t->notake = 1;
		} else if (n > m && strcmp(name + n - m, PT_SUFFIX_TP_ALLOC) == 0 &&
			   n - m < sizeof base) {
			memcpy(base, name, n - m);
			base[n - m] = 0;
			t->kind = kind_of_name(s, base);
			t->notake = t->kind != PT_OTHER && t->kind < PT_BLOCKED(0);
			if (!t->notake)
				t->kind = PT_OTHER;     /* no such list: the allocator */
		} else {
			t->kind = kind_of_name(s, name);
		}
	}
	return t;
}

/*
 * The list a (kind, size) pair uses, or -1 for the allocator. Tuples pick
 * their length's list; dict keys only their minimum size.
 */
static int list_of(const struct pertype *s, int kind, uint64_t size)
{
	if (kind == PT_TUPLE) {
		uint64_t base = s->p.tuple_base, item = s->p.tuple_item_size;

		if (size <= base || (size - base) % item)
			return -1;
		uint64_t len = (size - base) / item;

		if (len > s->p.tuple_max_length)
			return -1;
		return PT_TUPLE + (int)len - 1;
	}
	if (kind == PT_DICTKEYS && size != s->p.dict_keys_size)
		return -1;
	if (kind > PT_OTHER && kind < PT_NFIXED)
		return kind;
	return -1;
}

static void held_add(struct pertype *s, uint64_t bytes)
{
	s->tot.held_bytes += bytes;
	s->tot.held_blocks++;
	if (s->tot.held_bytes > s->tot.held_peak)
		s->tot.held_peak = s->tot.held_bytes;
}

static void held_sub(struct pertype *s, uint64_t bytes)
{
	s->tot.held_bytes -= bytes;
	s->tot.held_blocks--;
}

/* Bytes parked by the list (or block allocator) a kind uses. */
static uint64_t held_of_kind(const struct pertype *s, int kind, int list)
{
	if (kind >= PT_BLOCKED(0))
		return s->held_bk[kind - PT_BLOCKED(0)];
	if (kind == PT_TUPLE) {
		/* All tuple lengths are one type in the trace. */
		uint64_t h = 0;

		for (int i = PT_TUPLE; i < PT_NLISTS; i++)
			h += s->held_kind[i];
		return h;
	}
	return list >= 0 ? s->held_kind[list] : 0;
}

/* A creation that took `bytes` of new memory (docs/freelists.md). */
static void count_miss(struct pertype *s, struct tstat *t, int list, uint64_t bytes)
{
	uint64_t own = held_of_kind(s, t->kind, list);

	t->misses++;
	s->tot.misses++;
	if (s->tot.held_bytes - own >= bytes) {
		t->blocked += bytes;
		s->tot.blocked_bytes += bytes;
	}
}

/* --- Python 2 int / float blocks ------------------------------------- */

/* PyMem_MALLOC is the C library's malloc in 2.x: the system allocator
 * (the object allocator when the stack has no separate one). */
static const struct alloc_inst *system_of(const struct pertype *s)
{
	return s->env->sys ? s->env->sys : s->env->alloc;
}

static uint64_t block_request(const struct pertype *s)
{
	return s->p.block_header + (uint64_t)s->nobj * s->p.object_size;
}

static uint64_t slot_addr(const struct pertype *s, const struct blockalloc *a,
			  uint32_t slot)
{
	const struct block *b = &a->b[slot / s->nobj];

	return b->addr + s->p.block_header + (uint64_t)(slot % s->nobj) * s->p.object_size;
}

static void fl_push(struct blockalloc *a, uint32_t slot)
{
	if (a->nfl == a->flcap) {
		a->flcap = a->flcap ? 2 * a->flcap : 256;
		a->fl = xreallocarray(a->fl, a->flcap, sizeof *a->fl);
	}
	a->fl[a->nfl++] = slot;
}

/* fill_free_list(): a new block from the system, every object free; the
 * objects are linked so that the highest address pops first. 0, or -1
 * with nothing changed when the system allocator is out of memory. */
static int block_new(struct pertype *s, int bk)
{
	struct blockalloc *a = &s->ba[bk];
	const struct alloc_inst *sys = system_of(s);
	uint64_t base = sys->policy->alloc(sys->state, block_request(s));
	uint32_t id;

	if (base == ALLOC_OOM)
		return -1;
	if (a->nspare) {
		id = a->spare[--a->nspare];
	} else {
		if (a->nb == a->cap) {
			a->cap = a->cap ? 2 * a->cap : 64;
			a->b = xreallocarray(a->b, a->cap, sizeof *a->b);
			a->spare = xreallocarray(a->spare, a->cap, sizeof *a->spare);
			a->order = xreallocarray(a->order, a->cap, sizeof *a->order);
		}
		id = a->nb++;
		a->b[id].free = xmalloc(s->nobj);
	}
	struct block *b = &a->b[id];

	b->addr = base;
	b->nfree = s->nobj;
	memset(b->free, 1, s->nobj);
	a->order[a->norder++] = id;
	a->live_blocks++;
	for (uint32_t i = 0; i < s->nobj; i++)
		fl_push(a, id * s->nobj + i);
	s->held_bk[bk] += (uint64_t)s->nobj * s->p.object_size;
	s->tot.held_bytes += (uint64_t)s->nobj * s->p.object_size;
	s->tot.held_blocks += s->nobj;
	if (s->tot.held_bytes > s->tot.held_peak)
		s->tot.held_peak = s->tot.held_bytes;
	return 0;
}

static int block_take(struct pertype *s, struct tstat *t, int bk, uint64_t *addr)
{
	struct blockalloc *a = &s->ba[bk];

	if (a->nfl) {
		t->hits++;
		s->tot.hits++;
	} else {
		count_miss(s, t, -1, block_request(s));
		if (block_new(s, bk) != 0) {
			*addr = ALLOC_OOM;      /* the runtime reports it */
			return 1;
		}
	}
	uint32_t slot = a->fl[--a->nfl];
	struct block *b = &a->b[slot / s->nobj];

	b->free[slot % s->nobj] = 0;
	b->nfree--;
	s->held_bk[bk] -= s->p.object_size;
	held_sub(s, s->p.object_size);
	*addr = slot_addr(s, a, slot);
	am_put(&s->live, *addr, slot);
	return 1;
}

static int block_give(struct pertype *s, int bk, uint64_t addr)
{
	struct blockalloc *a = &s->ba[bk];
	uint32_t slot;

	if (!am_take(&s->live, addr, &slot))
		return 0;       /* not one of ours: the allocator's */
	struct block *b = &a->b[slot / s->nobj];

	b->free[slot % s->nobj] = 1;
	b->nfree++;
	fl_push(a, slot);
	s->held_bk[bk] += s->p.object_size;
	held_add(s, s->p.object_size);
	return 1;
}

/*
 * PyInt_ClearFreeList / PyFloat_ClearFreeList (2.6+): walk block_list
 * from its head; a block with no live object goes back to the system,
 * the others are pushed on a new block_list (so its order reverses) and
 * their free objects, lowest address first, on a new free list.
 */
static void block_clear(struct pertype *s, int bk)
{
	struct blockalloc *a = &s->ba[bk];
	const struct alloc_inst *sys = system_of(s);
	uint32_t *neworder = xmalloc((a->norder ? a->norder : 1) * sizeof *neworder);
	uint32_t nnew = 0;

	a->nfl = 0;
	for (uint32_t k = a->norder; k-- > 0;) {
		uint32_t id = a->order[k];
		struct block *b = &a->b[id];

		if (b->nfree == s->nobj) {
			sys->policy->free(sys->state, b->addr, block_request(s));
			uint64_t bytes = (uint64_t)s->nobj * s->p.object_size;

			s->held_bk[bk] -= bytes;
			s->tot.held_bytes -= bytes;
			s->tot.held_blocks -= s->nobj;
			b->addr = 0;
			a->spare[a->nspare++] = id;
			a->live_blocks--;
			a->blocks_freed++;
			continue;
		}
		neworder[nnew++] = id;
		for (uint32_t i = 0; i < s->nobj; i++)
			if (b->free[i])
				fl_push(a, id * s->nobj + i);
	}
	if (nnew)
		memcpy(a->order, neworder, nnew * sizeof *neworder);
	a->norder = nnew;
	free(neworder);
}

/* --- the vtable -------------------------------------------------------- */

static int pertype_take(void *state, uint32_t type, uint64_t size, uint64_t *addr)
{
	struct pertype *s = state;

	if (type == TYPETAB_UNTYPED)
		return 0;
	struct tstat *t = tstat_of(s, type);

	if (t->kind >= PT_BLOCKED(0)) {
		if (size == s->p.object_size)
			return block_take(s, t, t->kind - PT_BLOCKED(0), addr);
		count_miss(s, t, -1, size);
		return 0;
	}
	int li = t->notake ? -1 : list_of(s, t->kind, size);
	struct pstack *st;

	/* 3.11 and 3.12 park tuples of length 20 but never serve them
	 * (tuple_reuse_max_length). */
	if (li >= PT_TUPLE && (uint64_t)(li - PT_TUPLE + 1) > s->p.tuple_reuse_max_length)
		li = -1;
	st = li >= 0 ? &s->list[li] : NULL;

	if (!st || !st->n || (st->v[st->n - 1].size != size && li != PT_FRAME)) {
		count_miss(s, t, li, size);
		return 0;
	}
	struct parked pk = st->v[--st->n];

	s->held_kind[li] -= pk.size;
	held_sub(s, pk.size);
	if (pk.size != size) {
		/* A reused frame is resized to the request (frame_alloc). */
		const struct alloc_inst *al = s->env->alloc;

		pk.addr = al->policy->resize(al->state, pk.addr, pk.size, size);
	}
	*addr = pk.addr;
	t->hits++;
	s->tot.hits++;
	return 1;
}

static int pertype_give(void *state, uint32_t type, uint64_t size, uint64_t addr)
{
	struct pertype *s = state;

	if (type == TYPETAB_UNTYPED)
		return 0;
	struct tstat *t = tstat_of(s, type);

	if (t->kind >= PT_BLOCKED(0))
		return size == s->p.object_size ?
			block_give(s, t->kind - PT_BLOCKED(0), addr) : 0;
	int li = list_of(s, t->kind, size);

	if (li < 0 || s->list[li].n >= s->limit[li])
		return 0;
	pstack_push(&s->list[li], addr, size);
	s->used[li] = 1;
	s->held_kind[li] += size;
	held_add(s, size);
	return 1;
}

static void list_empty(struct pertype *s, int li)
{
	const struct alloc_inst *al = s->env->alloc;
	struct pstack *st = &s->list[li];

	/* CPython frees from the top of the stack down. */
	while (st->n) {
		struct parked pk = st->v[--st->n];

		al->policy->free(al->state, pk.addr, pk.size);
		s->held_kind[li] -= pk.size;
		held_sub(s, pk.size);
	}
}

static void tuples_empty(struct pertype *s)
{
	for (int i = PT_TUPLE; i < PT_NLISTS; i++)
		list_empty(s, i);
}

static void floats_empty(struct pertype *s)
{
	if (s->p.python2_blocks) {
		block_clear(s, BK_INT);
		block_clear(s, BK_FLOAT);
	}
	list_empty(s, PT_FLOAT);
}

static void containers_empty(struct pertype *s)
{
	if (!s->p.gc_clears_containers)
		return;
	list_empty(s, PT_LIST);
	list_empty(s, PT_DICT);
	list_empty(s, PT_DICTKEYS);     /* _PyDict_ClearFreeList: dicts, then keys */
}

static void async_gens_empty(struct pertype *s)
{
	list_empty(s, PT_AGEN_VALUE);
	list_empty(s, PT_AGEN_ASEND);
}

/* What a full collection empties, in the version's order (clear_order);
 * each list from its top down, as CPython pops them. The slice cache is
 * emptied only at finalization. */
static void pertype_clear(void *state)
{
	struct pertype *s = state;

	if (!s->p.gc_clears)
		return;
	list_empty(s, PT_FRAME);
	if (s->p.clear_order == CLEAR_FLOAT_FIRST) {
		floats_empty(s);
		tuples_empty(s);
		containers_empty(s);
		if (s->p.gc_clears_containers)
			list_empty(s, PT_CONTEXT);
		async_gens_empty(s);
	} else {
		tuples_empty(s);
		floats_empty(s);
		containers_empty(s);
		async_gens_empty(s);
		if (s->p.gc_clears_containers)
			list_empty(s, PT_CONTEXT);
	}
}

/* Only Python 2 int/float objects live inside the policy's own blocks;
 * a block a list served is the object's own (pymalloc's). */
static int pertype_owns(void *state, uint64_t addr)
{
	struct pertype *s = state;
	size_t mask, i;

	if (!s->live.cap)
		return 0;
	mask = s->live.cap - 1;
	for (i = am_hash(addr, mask); s->live.key[i]; i = (i + 1) & mask)
		if (s->live.key[i] == addr)
			return 1;
	return 0;
}

static void pertype_stats(void *state, struct freelist_stats *out)
{
	const struct pertype *s = state;

	*out = s->tot;
}

/* Short names of the lists, for freelists.lists. */
static const char *const list_names[PT_TUPLE] = {
	[PT_FLOAT] = "float", [PT_LIST] = "list", [PT_DICT] = "dict",
	[PT_DICTKEYS] = "dictkeys", [PT_FRAME] = "frame", [PT_SLICE] = "slice",
	[PT_CONTEXT] = "context", [PT_AGEN_VALUE] = "async_gen_value",
	[PT_AGEN_ASEND] = "async_gen_asend",
};

/* Rows of freelists.lists, named NAME (tuple.N per length): the blocks
 * each list that ever parked one holds now, the figure CPython prints as
 * "N free PyFloatObjects" and so on in sys._debugmallocstats(). */
static void pertype_lists(void *state, void *ctx,
			  void (*row)(void *ctx, const char *list, uint64_t parked))
{
	const struct pertype *s = state;
	char name[40];

	for (int li = PT_FLOAT; li < PT_NLISTS; li++) {
		if (!s->used[li])
			continue;
		if (li >= PT_TUPLE)
			snprintf(name, sizeof name, "tuple.%d", li - PT_TUPLE + 1);
		else
			snprintf(name, sizeof name, "%s", list_names[li]);
		row(ctx, name, s->list[li].n);
	}
}

/*
 * Rows for every trace type that had a creation: hits, misses, blocked
 * bytes; held bytes for the types with a list; with python2_blocks, the
 * int and float types also have the blocks held from the system now and
 * the blocks freed so far.
 */
static void pertype_types(void *state, void *ctx,
			  void (*row)(void *ctx, const char *type,
				      const struct freelist_type_counts *c))
{
	struct pertype *s = state;

	if (!s->env || !s->env->types)
		return;
	for (uint32_t ty = 1; ty < s->nts; ty++) {
		const struct tstat *t = &s->ts[ty];
		struct freelist_type_counts c = {
			.hits = t->hits, .misses = t->misses, .blocked = t->blocked,
			.has_held = t->kind != PT_OTHER,
		};

		if (t->kind < 0 || (!t->hits && !t->misses))
			continue;
		if (c.has_held)
			c.held = held_of_kind(s, t->kind, t->kind < PT_NFIXED ? t->kind : -1);
		if (t->kind >= PT_BLOCKED(0)) {
			const struct blockalloc *ba = &s->ba[t->kind - PT_BLOCKED(0)];

			c.has_blocks = 1;
			c.blocks = ba->live_blocks;
			c.blocks_freed = ba->blocks_freed;
		}
		row(ctx, typetab_name(s->env->types, ty), &c);
	}
}

const struct freelist_policy freelist_pertype = {
	.name = "per-type",
	.summary = "CPython's private per-type free lists (float, list, dict, keys, tuple, frame; Python 2 int/float blocks)",
	.knobs = pertype_knobs,
	.nknobs = sizeof pertype_knobs / sizeof pertype_knobs[0],
	.params_size = sizeof(struct pertype_params),
	.defaults = &pertype_defaults,
	.validate = pertype_validate,
	.create = pertype_create,
	.destroy = pertype_destroy,
	.take = pertype_take,
	.give = pertype_give,
	.clear = pertype_clear,
	.stats = pertype_stats,
	.types = pertype_types,
	.lists = pertype_lists,
	.owns = pertype_owns,
};
