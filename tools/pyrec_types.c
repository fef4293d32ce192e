/*
 * pyrec_types.c - Python objects seen from outside the interpreter
 * (pyrec_types.h has the layouts and their sources).
 *
 * Telling an object from a raw buffer without a tracer (3.6-3.12), at
 * the first pyrec event after the block's allocation, when the
 * allocating function has initialised the header (_PyObject_Init runs
 * right after PyObject_Malloc in _PyObject_New, _PyObject_GC_New,
 * PyType_GenericAlloc, PyUnicode_New, _PyLong_New, PyBytes_*):
 *  1. Candidate offsets of ob_refcnt: the GC head, the GC head + 16
 *     (3.11+ managed dict / weakref pre-header), 0, 16, in that order.
 *  2. The count must be 0 .. 2^32 (a fresh object has 1 or more, one
 *     that died before that event 0; pymalloc's free-list link, which a
 *     freed block holds in its first word, is a pointer above 2^32).
 *  3. ob_type must be a type: a known one, or an address in a loaded
 *     object's writable data whose own ob_type is PyType_Type or a known
 *     metatype (static types), or a live heap-type block (the caller).
 *  4. The type's flags must give exactly that offset (a GC type's object
 *     after the GC head, a non-GC type's at the block's start).
 * A raw buffer passes only if its first bytes, at that moment, are a
 * valid header of a live type with a plausible count: uninitialised
 * memory holding a copy of one. Measured on 3.13.0 with the reference
 * tracer as the judge (pyrec --check-types, docs/recording.md): no raw
 * block taken for an object in 3.3 million objects of ten workloads; 2
 * floats missed (they had died onto the float free list, whose link
 * overwrites ob_type, before the next allocator call).
 */
#define _GNU_SOURCE
#include "pyrec_types.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>

#define TPF_HEAPTYPE (1ul << 9)
#define TPF_HAVE_GC (1ul << 14)
#define TPF_TYPE_SUBCLASS (1ul << 31)
#define TPF_MANAGED_WEAKREF (1ul << 3)
#define TPF_MANAGED_DICT (1ul << 4)
#define TP_NAME 24
#define TP_BASICSIZE 32
#define TP_ITEMSIZE 40
#define TP_READ_END 176         /* bytes of a type object pyrec reads */

/* Names a free-list or collector model gives meaning to
 * (docs/freelists.md); a class named so gets a '_' appended. */
static const char *const model_names[] = {
	"int", "float", "list", "dict", "dictkeys", "tuple", "frame", "slice",
	"_contextvars.Context", "async_generator_wrapped_value", "async_generator_asend",
};

struct pyt_layout pyt_layout_of(int minor)
{
	struct pyt_layout l = { .minor = minor, .gc_head = minor <= 7 ? 32 : 16 };

	/* Include/object.h: MANAGED_DICT from 3.11, MANAGED_WEAKREF from
	 * 3.12; both put two words before the GC head
	 * (_PyType_PreHeaderSize). */
	if (minor >= 12)
		l.preheader_flags = TPF_MANAGED_DICT | TPF_MANAGED_WEAKREF;
	else if (minor == 11)
		l.preheader_flags = TPF_MANAGED_DICT;
	return l;
}

int pyt_init(struct pyt *t, int minor)
{
	memset(t, 0, sizeof *t);
	t->lay = pyt_layout_of(minor);
	t->cap = 1024;
	t->slot = calloc(t->cap, sizeof *t->slot);
	t->pool_cap = 1 << 16;
	t->pool = malloc(t->pool_cap);
	t->loader_adds = ~0ull;
	return t->slot && t->pool ? 0 : -1;
}

void pyt_free(struct pyt *t)
{
	free(t->slot);
	free(t->pool);
	free(t->seg);
	memset(t, 0, sizeof *t);
}

static uint64_t word(uintptr_t p)
{
	uint64_t v;

	memcpy(&v, (const void *)p, sizeof v);
	return v;
}

uint64_t pyt_request_size(const struct pyt *t, uintptr_t obj)
{
	uintptr_t type = pyt_type_of(obj);
	uint64_t basic = word(type + TP_BASICSIZE), item = word(type + TP_ITEMSIZE);
	uint64_t size = basic;

	if (item) {
		int64_t n = (int64_t)word(obj + 16);
		uint64_t len = (uint64_t)(n < 0 ? -n : n);

		size = (basic + len * item + 7) & ~(uint64_t)7;
	}
	return pyt_presize(t, pyt_flags(type)) + size;
}

static size_t slot_of(const struct pyt *t, uintptr_t type)
{
	return (size_t)(((uint64_t)type >> 3) * 0x9E3779B97F4A7C15u >> 32) & (t->cap - 1);
}

static size_t find(const struct pyt *t, uintptr_t type)
{
	size_t i = slot_of(t, type);

	while (t->slot[i].type && t->slot[i].type != type)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int grow(struct pyt *t)
{
	struct pyt_name *old = t->slot;
	size_t oldcap = t->cap;

	t->cap *= 2;
	t->slot = calloc(t->cap, sizeof *t->slot);
	if (!t->slot) {
		t->slot = old;
		t->cap = oldcap;
		return -1;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].type)
			t->slot[find(t, old[i].type)] = old[i];
	free(old);
	return 0;
}

/* Appends TYPE's trace name to the pool; returns its offset or -1. */
static long intern_name(struct pyt *t, uintptr_t type)
{
	const char *src = (const char *)word(type + TP_NAME);
	char name[PYT_NAME_MAX + 2];
	size_t n = 0;

	for (; src && src[n] && n < PYT_NAME_MAX; n++) {
		char c = src[n];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (n > 0 && ((c >= '0' && c <= '9') || c == '.'));

		name[n] = ok ? c : '_';
	}
	if (n == 0)
		name[n++] = '_';
	name[n] = 0;
	if (pyt_flags(type) & TPF_HEAPTYPE)
		for (size_t k = 0; k < sizeof model_names / sizeof model_names[0]; k++)
			if (strcmp(name, model_names[k]) == 0 && n < PYT_NAME_MAX) {
				name[n++] = '_';
				name[n] = 0;
			}
	if (t->pool_len + n + 1 > t->pool_cap) {
		char *p = realloc(t->pool, t->pool_cap * 2);

		if (!p)
			return -1;
		t->pool = p;
		t->pool_cap *= 2;
	}
	memcpy(t->pool + t->pool_len, name, n + 1);
	t->pool_len += n + 1;
	return (long)(t->pool_len - n - 1);
}

const char *pyt_name(struct pyt *t, uintptr_t type, int *is_meta)
{
	size_t i = find(t, type);

	if (!t->slot[i].type) {
		long off;

		if ((t->n + 1) * 2 > t->cap) {
			if (grow(t) < 0)
				return NULL;
			i = find(t, type);
		}
		off = intern_name(t, type);
		if (off < 0)
			return NULL;
		t->slot[i].type = type;
		t->slot[i].off = (uint32_t)off;
		t->n++;
	}
	if (is_meta)
		*is_meta = (pyt_flags(type) & TPF_TYPE_SUBCLASS) != 0;
	return t->pool + t->slot[i].off;
}

void pyt_forget(struct pyt *t, uintptr_t type)
{
	size_t i = find(t, type), j;

	if (!t->slot[i].type)
		return;
	t->slot[i].type = 0;
	t->n--;
	/* Backward shift: re-place the rest of the run. */
	for (j = (i + 1) & (t->cap - 1); t->slot[j].type; j = (j + 1) & (t->cap - 1)) {
		struct pyt_name e = t->slot[j];

		t->slot[j].type = 0;
		t->slot[find(t, e.type)] = e;
	}
}

struct seg_walk {
	struct pyt *t;
	int first, changed;
};

static int seg_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct seg_walk *w = ctx;
	struct pyt *t = w->t;

	if (w->first) {
		w->first = 0;
		if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds &&
		    info->dlpi_adds == t->loader_adds)
			return 1;       /* nothing loaded since the last walk */
		t->loader_adds = info->dlpi_adds;
		t->nseg = 0;
		w->changed = 1;
	}
	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		void *grown = realloc(t->seg, (t->nseg + 1) * sizeof *t->seg);

		if (!grown)
			return 1;
		t->seg = grown;
		t->seg[t->nseg].lo = info->dlpi_addr + ph->p_vaddr;
		t->seg[t->nseg].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		t->nseg++;
	}
	return 0;
}

static int in_segments(const struct pyt *t, uintptr_t p, size_t len)
{
	for (size_t i = 0; i < t->nseg; i++)
		if (p >= t->seg[i].lo && p < t->seg[i].hi && len <= t->seg[i].hi - p)
			return 1;
	return 0;
}

/* Whether TYPE is a static type object in a loaded object's data. */
static int is_static_type(struct pyt *t, uintptr_t type)
{
	if (!in_segments(t, type, TP_READ_END)) {
		struct seg_walk w = { t, 1, 0 };

		dl_iterate_phdr(seg_cb, &w);
		if (!w.changed || !in_segments(t, type, TP_READ_END))
			return 0;
	}
	uintptr_t meta = (uintptr_t)word(type + 8);
	size_t i;

	/* PyType_Type is its own type; other metatypes are types too. */
	if (meta == type || (in_segments(t, meta, TP_READ_END) && word(meta + 8) == meta))
		return 1;
	i = find(t, meta);
	return t->slot[i].type == meta && (pyt_flags(meta) & TPF_TYPE_SUBCLASS);
}

static int is_type(struct pyt *t, uintptr_t type,
		   int (*is_heap_type)(void *ctx, uintptr_t type), void *ctx)
{
	if (!type || (type & 7) || type >= ((uintptr_t)1 << 47))
		return 0;
	if (t->slot[find(t, type)].type == type)
		return 1;
	return is_static_type(t, type) || (is_heap_type && is_heap_type(ctx, type));
}

uintptr_t pyt_object_at(struct pyt *t, uintptr_t block, uint64_t size,
			int (*is_heap_type)(void *ctx, uintptr_t type), void *ctx)
{
	/* GC offsets first: in 3.6 and 3.7 a new GC object's gc_next and
	 * gc_prev (offset 0) are not written, and may hold a copy of a dead
	 * non-GC object's header; the object proper at the GC offset is. */
	const unsigned offs[] = { t->lay.gc_head, t->lay.gc_head + 16, 0, 16 };

	for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
		uintptr_t obj = block + offs[k];
		uint64_t refcnt, type;

		if (offs[k] + 16 > size || (k == 3 && !t->lay.preheader_flags))
			continue;
		refcnt = word(obj);
		if (refcnt > ((uint64_t)1 << 32))
			continue;
		type = word(obj + 8);
		if (!is_type(t, (uintptr_t)type, is_heap_type, ctx))
			continue;
		/* No check of tp_basicsize: compact strings are smaller than
		 * sizeof(PyUnicodeObject), their type's basic size. */
		if (pyt_presize(t, pyt_flags((uintptr_t)type)) != offs[k])
			continue;
		return obj;
	}
	return 0;
}
