/*
 * pyrec_types.h - Python objects seen from outside the interpreter: the
 * header of an object, its type's name as a trace TYPE, the block size
 * the allocator is asked for, and (without a reference tracer, 3.6-3.12)
 * whether a freshly allocated block holds an object at all.
 *
 * No Python.h: pyrec loads any 3.6+ library, so the few layouts it reads
 * are written here, each the same in every 3.x (measured with offsetof
 * against the installed headers of 3.6.15 .. 3.13.0, x86-64):
 *   PyObject      ob_refcnt at 0 (8 bytes), ob_type at 8; PyVarObject
 *                 ob_size at 16
 *   PyTypeObject  tp_name 24, tp_basicsize 32, tp_itemsize 40,
 *                 tp_flags 168 (Include/cpython/object.h)
 * and the flag bits of Include/object.h: Py_TPFLAGS_HEAPTYPE (1 << 9),
 * Py_TPFLAGS_HAVE_GC (1 << 14), Py_TPFLAGS_TYPE_SUBCLASS (1 << 31),
 * Py_TPFLAGS_MANAGED_DICT (1 << 4, 3.11+) and _MANAGED_WEAKREF (1 << 3,
 * 3.12+). docs/recording.md ("Types") has the rules in prose.
 */
#ifndef MEMSIM_PYREC_TYPES_H
#define MEMSIM_PYREC_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define PYT_NAME_MAX 63         /* characters of a trace TYPE */

/* What differs between versions: the pre-header before ob_refcnt. */
struct pyt_layout {
	int minor;                      /* 3.minor */
	unsigned gc_head;               /* bytes of PyGC_Head: 32 (3.6, 3.7), 16 */
	unsigned long preheader_flags;  /* flags that add 2 words before it */
};

/* The layout of 3.MINOR (6 .. 13). */
struct pyt_layout pyt_layout_of(int minor);

struct pyt_name {
	uintptr_t type;         /* the PyTypeObject, 0: empty slot */
	uint32_t off;           /* of the name in the pool */
};

/* Type names, cached by type object; a type object that dies is
 * forgotten (pyt_forget) so a new type at its address gets its own. */
struct pyt {
	struct pyt_layout lay;
	struct pyt_name *slot;
	size_t cap, n;
	char *pool;
	size_t pool_len, pool_cap;
	/* Writable segments of the loaded objects (static type objects live
	 * there), refreshed when the dynamic loader has loaded more. */
	struct { uintptr_t lo, hi; } *seg;
	size_t nseg;
	unsigned long long loader_adds;
};

int pyt_init(struct pyt *t, int minor);
void pyt_free(struct pyt *t);

static inline uintptr_t pyt_type_of(uintptr_t obj)
{
	return *(const uintptr_t *)(obj + 8);
}

static inline unsigned long pyt_flags(uintptr_t type)
{
	return *(const unsigned long *)(type + 168);
}

/* Bytes before ob_refcnt in an object of a type with these flags
 * (_PyType_PreHeaderSize, Include/internal/pycore_object.h 3.11+). */
static inline size_t pyt_presize(const struct pyt *t, unsigned long flags)
{
	return ((flags >> 14) & 1 ? t->lay.gc_head : 0) +
	       (flags & t->lay.preheader_flags ? 16 : 0);
}

/*
 * The block size the allocator is asked for to make OBJ (a live object):
 * the pre-header + tp_basicsize, + |ob_size| * tp_itemsize rounded up to
 * 8 bytes for var-sized types (_PyObject_SIZE, _PyObject_VAR_SIZE;
 * exact for the types a free list keeps, which is where pyrec uses it).
 */
uint64_t pyt_request_size(const struct pyt *t, uintptr_t obj);

/*
 * The trace TYPE of TYPE: its tp_name with every character outside
 * [A-Za-z0-9_.] (and a leading digit or dot) made '_', cut to 63; a
 * heap type (a class) whose name is one a free-list model gives meaning
 * to (float, list, dict, tuple, ...) gets a '_' appended, so a user's
 * `class list:` is not taken for the builtin. NULL when out of memory.
 * *IS_META is set when TYPE's instances are themselves types.
 */
const char *pyt_name(struct pyt *t, uintptr_t type, int *is_meta);

/* Forgets the cached name of the type object at TYPE (it is dying). */
void pyt_forget(struct pyt *t, uintptr_t type);

/*
 * Without a tracer: whether the block [BLOCK, BLOCK + SIZE) holds an
 * initialised object, and where (the object pointer, or 0). The header
 * must give a reference count in [0, 2^32] (0: the object has died
 * already), a type the interpreter has (a static type in a loaded
 * object's data, or a live heap type per IS_HEAP_TYPE, which pyrec
 * answers from its block table), and a GC flag and pre-header that put
 * ob_refcnt exactly there.
 */
uintptr_t pyt_object_at(struct pyt *t, uintptr_t block, uint64_t size,
			int (*is_heap_type)(void *ctx, uintptr_t type), void *ctx);

#endif
