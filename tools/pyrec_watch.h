/*
 * pyrec_watch.h - CPython 3.13's free lists, watched from outside.
 *
 * Why (docs/recording.md, "Object level"): in 3.13.0 the reference
 * tracer reports every creation, but not every destruction: the eval
 * loop's own Py_DECREF and _Py_DECREF_SPECIALIZED call tp_dealloc without
 * the tracer (Python/ceval_macros.h, Include/internal/pycore_object.h of
 * 3.13; measured: 200,000 floats created, 1 destroyed). A death shows
 * either as the allocator's free of the object's block, which pyrec's
 * hooks see, or as a push onto one of the interpreter's free lists, which
 * this module sees by comparing the lists with a copy taken at the
 * previous event. Pops need no watching for objects (the tracer reports
 * each reused object's creation) but do for dict keys, which are not
 * objects.
 *
 * The lists are struct _Py_object_freelists, PyInterpreterState's
 * object_state.freelists (Include/internal/pycore_freelist.h and
 * pycore_object_state.h of 3.13.0): floats (a chain through ob_type),
 * tuples (20 chains through ob_item[0], one per length 1 .. 20), lists,
 * dicts, dict keys, async-generator values and asend objects (arrays of
 * 80), contexts (a chain through the context's fifth word), the
 * one-slot slice cache. Where the struct is: pyw_locate() finds its
 * offset from _PyRuntime in a calibration child process (fork before
 * the interpreter starts; the child starts one, shapes its lists with a
 * few known objects, prints the counts _debugmallocstats reports and
 * finds the one place in _PyRuntime that holds them).
 */
#ifndef MEMSIM_PYREC_WATCH_H
#define MEMSIM_PYREC_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The watched lists. */
enum pyw_list {
	PYW_FLOAT,
	PYW_TUPLE1,                     /* PYW_TUPLE1 + n - 1: length n */
	PYW_LIST = PYW_TUPLE1 + 20,
	PYW_DICT,
	PYW_DICTKEYS,
	PYW_ASYNC_GEN_VALUE,
	PYW_ASYNC_GEN_ASEND,
	PYW_CONTEXT,
	PYW_SLICE,
	PYW_NLISTS
};

/* What a list holds, for messages and the stats file. */
const char *pyw_list_name(int list);

#define PYW_FRONT_BYTES 256     /* bytes: struct _Py_object_freelists' floats + tuples */

struct pyw_shadow {
	uintptr_t *v;           /* bottom .. top as last seen */
	uint32_t n, cap;
};

struct pyw {
	const char *base;       /* struct _Py_object_freelists */
	struct pyw_shadow s[PYW_NLISTS];
	uintptr_t *scratch;     /* a chain's new nodes, while polling */
	/* The floats' and tuples' counts and heads as last seen (raw). */
	unsigned char raw_front[PYW_FRONT_BYTES];
	uint64_t polls, changes;
	int fail_list;          /* after pyw_poll failed: which list, why */
	const char *fail_why;
};

/* Callbacks of pyw_poll, in the order the interpreter acted. */
struct pyw_sink {
	void (*pushed)(void *ctx, int list, uintptr_t obj);
	void (*popped)(void *ctx, int list, uintptr_t obj);
	void *ctx;
};

/* The interpreter's functions the calibration child calls. */
struct pyw_api {
	void (*init)(int);                      /* Py_InitializeEx */
	int (*run)(const char *, void *);       /* PyRun_SimpleStringFlags */
	void *(*sys_get)(const char *);         /* PySys_GetObject */
	void *(*call)(void *, void *);          /* PyObject_CallObject */
};

/*
 * Finds the free lists' offset from `runtime` (the address of
 * _PyRuntime, of size `runtime_size`) by the calibration child. Returns
 * the offset, or -1 with a message in ERR.
 */
long pyw_locate(const char *runtime, size_t runtime_size, const struct pyw_api *api,
		char *err, size_t errlen);

/* Starts watching the lists at BASE (all empty: before the interpreter
 * starts). Returns 0, or -1 when out of memory. */
int pyw_init(struct pyw *w, const char *base);
void pyw_free(struct pyw *w);

/*
 * Compares the lists with the last copy and reports every push and pop
 * since, list by list (pushes after the pops of the same list; between
 * two pyrec events the interpreter pops an object only as the last step
 * before creating it, so that is the order it acted in). Returns -1 when
 * a list no longer looks like one (a count out of range, a chain shorter
 * than its count): the recording cannot go on exactly.
 */
int pyw_poll(struct pyw *w, const struct pyw_sink *sink);

/* The number of blocks the list holds now. */
static inline uint32_t pyw_count(const struct pyw *w, int list)
{
	return w->s[list].n;
}

#endif
