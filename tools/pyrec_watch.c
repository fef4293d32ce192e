/*
 * pyrec_watch.c - CPython 3.13's free lists, watched from outside
 * (pyrec_watch.h says why; docs/recording.md, "Object level", how it is
 * checked).
 *
 * The layout is struct _Py_object_freelists of 3.13.0 with
 * WITH_FREELISTS (Include/internal/pycore_freelist.h), mirrored below as
 * struct fl313; the _Static_assert pins the offsets that a compile
 * against the installed 3.13.0 internal headers gives (offsetof: floats
 * 0, tuples 16, lists 256, dicts 904, dictkeys 1552, slices 2200,
 * contexts 2208, async_gens 2224, async_gen_asends 2872, object_stacks
 * 3520, size 3536). How each list links its blocks was read from the
 * 3.13.0 library's own clear functions (objdump -d of
 * _PyFloat_ClearFreeList, _PyTuple_ClearFreeList, _PyContext_ClearFreeList):
 *   floats   chain through ob_type (offset 8 of the float)
 *   tuples   chain through ob_item[0] (offset 24), one chain per length
 *   contexts chain through the word at offset 32 (ctx_weakreflist)
 *   others   arrays of 80 pointers, top at items[numfree - 1]
 *
 * pyw_poll, per list:
 *  1. Unchanged when the count and the top block are what the copy says.
 *  2. Arrays: the copy and the list agree up to the deepest slot that
 *     still holds the same block; what the copy has above it was popped
 *     (top first), what the list has above it was pushed (bottom first).
 *  3. Chains: walk from the new head until the rest of the chain is a
 *     prefix of the copy (a node equal to copy[m - 1] at depth n' - m);
 *     the nodes walked were pushed (deepest first), the copy above m was
 *     popped.
 */
#define _GNU_SOURCE
#include "pyrec_watch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct fl313_array {
	void *items[80];
	int numfree;
};

struct fl313 {
	struct { int numfree; void *items; } floats;
	struct { void *items[20]; int numfree[20]; } tuples;
	struct fl313_array lists, dicts, dictkeys;
	struct { void *slice_cache; } slices;
	struct { void *items; int numfree; } contexts;
	struct fl313_array async_gens, async_gen_asends;
	struct { void *items; ssize_t numfree; } object_stacks;
};

_Static_assert(offsetof(struct fl313, lists) == PYW_FRONT_BYTES,
	       "floats and tuples fill the front of the struct");
_Static_assert(offsetof(struct fl313, tuples) == 16 && offsetof(struct fl313, lists) == 256 &&
	       offsetof(struct fl313, dicts) == 904 && offsetof(struct fl313, dictkeys) == 1552 &&
	       offsetof(struct fl313, slices) == 2200 && offsetof(struct fl313, contexts) == 2208 &&
	       offsetof(struct fl313, async_gens) == 2224 &&
	       offsetof(struct fl313, async_gen_asends) == 2872 &&
	       offsetof(struct fl313, object_stacks) == 3520 && sizeof(struct fl313) == 3536,
	       "struct _Py_object_freelists of CPython 3.13.0 (x86-64)");

#define LINK_FLOAT 8            /* bytes: ob_type of a PyFloatObject */
#define LINK_TUPLE 24           /* bytes: ob_item[0] of a PyTupleObject */
#define LINK_CONTEXT 32         /* bytes: ctx_weakreflist of a PyContext */
#define TUPLE_MAX 2000          /* PyTuple_MAXFREELIST */
#define FLOAT_MAX 100           /* PyFloat_MAXFREELIST */
#define CONTEXT_MAX 255         /* PyContext_MAXFREELIST */
#define ARRAY_MAX 80            /* PyList_, PyDict_, _PyAsyncGen_MAXFREELIST */

enum kind { K_ARRAY, K_CHAIN, K_SINGLE };

struct spec {
	enum kind kind;
	size_t items;           /* array base, chain head or the slot */
	size_t count;           /* int numfree (K_SINGLE: unused) */
	size_t link;            /* chains: offset of the next pointer */
	uint32_t max;
	const char *name;
};

#define FL(field) offsetof(struct fl313, field)

/* Every list but the tuples' (spec_of adds those). */
static const struct spec specs[PYW_NLISTS] = {
	[PYW_FLOAT] = { K_CHAIN, FL(floats.items), FL(floats.numfree), LINK_FLOAT, FLOAT_MAX,
			"float" },
	[PYW_LIST] = { K_ARRAY, FL(lists.items), FL(lists.numfree), 0, ARRAY_MAX, "list" },
	[PYW_DICT] = { K_ARRAY, FL(dicts.items), FL(dicts.numfree), 0, ARRAY_MAX, "dict" },
	[PYW_DICTKEYS] = { K_ARRAY, FL(dictkeys.items), FL(dictkeys.numfree), 0, ARRAY_MAX,
			   "dictkeys" },
	[PYW_ASYNC_GEN_VALUE] = { K_ARRAY, FL(async_gens.items), FL(async_gens.numfree), 0,
				  ARRAY_MAX, "async_generator_wrapped_value" },
	[PYW_ASYNC_GEN_ASEND] = { K_ARRAY, FL(async_gen_asends.items),
				  FL(async_gen_asends.numfree), 0, ARRAY_MAX,
				  "async_generator_asend" },
	[PYW_CONTEXT] = { K_CHAIN, FL(contexts.items), FL(contexts.numfree), LINK_CONTEXT,
			  CONTEXT_MAX, "_contextvars.Context" },
	[PYW_SLICE] = { K_SINGLE, FL(slices.slice_cache), 0, 0, 1, "slice" },
};

static struct spec spec_of(int list)
{
	if (list >= PYW_TUPLE1 && list < PYW_TUPLE1 + 20) {
		size_t i = (size_t)(list - PYW_TUPLE1);

		return (struct spec){ K_CHAIN, FL(tuples.items) + i * sizeof(void *),
				      FL(tuples.numfree) + i * sizeof(int), LINK_TUPLE, TUPLE_MAX,
				      "tuple" };
	}
	return specs[list];
}

const char *pyw_list_name(int list)
{
	return list >= 0 && list < PYW_NLISTS ? spec_of(list).name : "?";
}

static uintptr_t word_at(const char *p)
{
	uintptr_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static int int_at(const char *p)
{
	int v;

	memcpy(&v, p, sizeof v);
	return v;
}

int pyw_init(struct pyw *w, const char *base)
{
	memset(w, 0, sizeof *w);
	w->base = base;
	for (int l = 0; l < PYW_NLISTS; l++) {
		struct spec s = spec_of(l);

		w->s[l].cap = s.max;
		w->s[l].v = calloc(s.max, sizeof *w->s[l].v);
		if (!w->s[l].v)
			return -1;
	}
	/* A chain can gain up to its limit between two events. */
	w->scratch = calloc(TUPLE_MAX > CONTEXT_MAX ? TUPLE_MAX : CONTEXT_MAX, sizeof *w->scratch);
	return w->scratch ? 0 : -1;
}

void pyw_free(struct pyw *w)
{
	for (int l = 0; l < PYW_NLISTS; l++)
		free(w->s[l].v);
	free(w->scratch);
	memset(w, 0, sizeof *w);
}

/* The list's count and top block now; -1 when the count is impossible. */
static int now_of(const struct pyw *w, const struct spec *s, uint32_t *n, uintptr_t *top)
{
	if (s->kind == K_SINGLE) {
		*top = word_at(w->base + s->items);
		*n = *top != 0;
		return 0;
	}
	int c = int_at(w->base + s->count);

	if (c < 0 || (uint32_t)c > s->max)
		return -1;
	*n = (uint32_t)c;
	if (s->kind == K_CHAIN)
		*top = word_at(w->base + s->items);
	else
		*top = c ? word_at(w->base + s->items + (size_t)(c - 1) * sizeof(void *)) : 0;
	return 0;
}

static int poll_array(struct pyw *w, int l, const struct spec *s, uint32_t n2,
		      const struct pyw_sink *sink)
{
	struct pyw_shadow *sh = &w->s[l];
	const char *items = w->base + s->items;
	uint32_t p = sh->n < n2 ? sh->n : n2;

	while (p > 0 && word_at(items + (p - 1) * sizeof(void *)) != sh->v[p - 1])
		p--;
	for (uint32_t i = sh->n; i-- > p;)
		sink->popped(sink->ctx, l, sh->v[i]);
	for (uint32_t i = p; i < n2; i++) {
		uintptr_t obj = word_at(items + i * sizeof(void *));

		if (!obj || (obj & 7))
			return -1;
		sh->v[i] = obj;
		sink->pushed(sink->ctx, l, obj);
	}
	sh->n = n2;
	return 0;
}

static int poll_chain(struct pyw *w, int l, const struct spec *s, uint32_t n2,
		      uintptr_t head, const struct pyw_sink *sink)
{
	struct pyw_shadow *sh = &w->s[l];
	uintptr_t *walked = w->scratch, x = head;
	uint32_t d = 0, m;

	/* Depth d holds x; the chain below it must be the copy's prefix of
	 * length n2 - d, whose top is copy[n2 - d - 1]. */
	for (;;) {
		m = n2 - d;
		if (m <= sh->n && (m == 0 ? x == 0 : x == sh->v[m - 1]))
			break;
		if (d == n2 || !x || (x & 7))
			return -1;
		walked[d++] = x;
		x = word_at((const char *)x + s->link);
	}
	for (uint32_t i = sh->n; i-- > m;)
		sink->popped(sink->ctx, l, sh->v[i]);
	for (uint32_t i = d; i-- > 0;) {
		sh->v[m + d - 1 - i] = walked[i];
		sink->pushed(sink->ctx, l, walked[i]);
	}
	sh->n = n2;
	return 0;
}

/* Brings one list's copy up to date, reporting what changed. */
static int poll_list(struct pyw *w, int l, const struct pyw_sink *sink)
{
	struct spec s = spec_of(l);
	struct pyw_shadow *sh = &w->s[l];
	uint32_t n2;
	uintptr_t top;

	if (now_of(w, &s, &n2, &top) < 0) {
		w->fail_list = l;
		w->fail_why = "its count is out of range";
		return -1;
	}
	if (n2 == sh->n && (n2 == 0 || top == sh->v[n2 - 1]))
		return 0;
	w->changes++;
	if (s.kind == K_SINGLE) {
		if (sh->n)
			sink->popped(sink->ctx, l, sh->v[0]);
		if (n2) {
			sh->v[0] = top;
			sink->pushed(sink->ctx, l, top);
		}
		sh->n = n2;
		return 0;
	}
	if ((s.kind == K_ARRAY ? poll_array(w, l, &s, n2, sink) :
	     poll_chain(w, l, &s, n2, top, sink)) < 0) {
		w->fail_list = l;
		w->fail_why = s.kind == K_ARRAY ? "it holds a null or misaligned pointer" :
			"its chain does not lead to the blocks it held before";
		return -1;
	}
	return 0;
}

/* Whether an array list's count or top block differs from its copy. */
static int array_moved(const struct fl313_array *a, const struct pyw_shadow *sh)
{
	int n = a->numfree;

	return n != (int)sh->n || (n > 0 && (uintptr_t)a->items[n - 1] != sh->v[n - 1]);
}

static int chain_moved(int n, const void *head, const struct pyw_shadow *sh)
{
	return n != (int)sh->n || (n > 0 && (uintptr_t)head != sh->v[n - 1]);
}

/*
 * Every event calls this, so the common case (nothing changed) reads
 * each list's count and top once, the twenty tuple lists as two blocks
 * compared with their last raw copy; only a list that moved is walked.
 */
int pyw_poll(struct pyw *w, const struct pyw_sink *sink)
{
	const struct fl313 *fl = (const struct fl313 *)(const void *)w->base;
	static const int arrays[] = { PYW_LIST, PYW_DICT, PYW_DICTKEYS, PYW_ASYNC_GEN_VALUE,
				      PYW_ASYNC_GEN_ASEND };
	const struct fl313_array *arr[] = { &fl->lists, &fl->dicts, &fl->dictkeys,
					    &fl->async_gens, &fl->async_gen_asends };

	w->polls++;
	/* Floats and tuples: counts and heads in the struct's first 256
	 * bytes, compared as one block with their last raw copy. */
	if (memcmp(w->base, w->raw_front, sizeof w->raw_front)) {
		if (chain_moved(fl->floats.numfree, fl->floats.items, &w->s[PYW_FLOAT]) &&
		    poll_list(w, PYW_FLOAT, sink) < 0)
			return -1;
		for (int i = 0; i < 20; i++)
			if (chain_moved(fl->tuples.numfree[i], fl->tuples.items[i],
					&w->s[PYW_TUPLE1 + i]) &&
			    poll_list(w, PYW_TUPLE1 + i, sink) < 0)
				return -1;
		memcpy(w->raw_front, w->base, sizeof w->raw_front);
	}
	for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
		if (array_moved(arr[k], &w->s[arrays[k]]) && poll_list(w, arrays[k], sink) < 0)
			return -1;
	if (chain_moved(fl->contexts.numfree, fl->contexts.items, &w->s[PYW_CONTEXT]) &&
	    poll_list(w, PYW_CONTEXT, sink) < 0)
		return -1;
	if ((uintptr_t)fl->slices.slice_cache != (w->s[PYW_SLICE].n ? w->s[PYW_SLICE].v[0] : 0) &&
	    poll_list(w, PYW_SLICE, sink) < 0)
		return -1;
	return 0;
}

/* ---- locating the lists: the calibration child --------------------- */

/* Objects the child makes and drops, so that no list is empty or at an
 * ordinary count: floats, tuples of every length, lists, dicts with
 * small string-keyed keys objects. */
static const char shape_code[] =
	"_a = [float(i) + 0.5 for i in range(37)]\n"
	"_b = [tuple(range(n + 1)) for n in range(20) for k in range(n % 7 + 2)]\n"
	"_c = [[i] for i in range(29)]\n"
	"_d = [{'k%d' % i: i} for i in range(31)]\n"
	"del _a, _b, _c, _d\n";

struct counts {
	long floats, lists, dicts, keys, tuples[20];
	int have;               /* bit per line kind seen */
};

/* Reads the free-list lines of _debugmallocstats (Objects/floatobject.c,
 * listobject.c, dictobject.c, tupleobject.c _Py*_DebugMallocStats). */
static int parse_counts(FILE *f, struct counts *c)
{
	char line[512];

	memset(c, 0, sizeof *c);
	while (fgets(line, sizeof line, f)) {
		long n, len;
		char what[64];

		if (sscanf(line, " %ld free %ld-sized PyTupleObjects", &n, &len) == 2) {
			if (len >= 1 && len <= 20) {
				c->tuples[len - 1] = n;
				c->have |= 1 << 4;
			}
		} else if (sscanf(line, " %ld free %63s", &n, what) == 2) {
			if (strcmp(what, "PyFloatObjects") == 0)
				c->floats = n, c->have |= 1;
			else if (strcmp(what, "PyListObjects") == 0)
				c->lists = n, c->have |= 2;
			else if (strcmp(what, "PyDictObjects") == 0)
				c->dicts = n, c->have |= 4;
			else if (strcmp(what, "PyDictKeysObjects") == 0)
				c->keys = n, c->have |= 8;
		}
	}
	return c->have == 0x1f ? 0 : -1;
}

/* Whether the chain at HEAD has exactly N nodes through LINK. */
static int chain_is(uintptr_t head, long n, size_t link)
{
	for (long i = 0; i < n; i++) {
		if (!head || (head & 7))
			return 0;
		head = word_at((const char *)head + link);
	}
	return head == 0;
}

static int matches(const char *p, const struct counts *c)
{
	const struct fl313 *fl = (const struct fl313 *)(const void *)p;

	if (fl->floats.numfree != c->floats || fl->lists.numfree != c->lists ||
	    fl->dicts.numfree != c->dicts || fl->dictkeys.numfree != c->keys)
		return 0;
	for (int i = 0; i < 20; i++)
		if (fl->tuples.numfree[i] != c->tuples[i])
			return 0;
	for (int i = 0; i < c->lists; i++)
		if (!fl->lists.items[i])
			return 0;
	if (!chain_is((uintptr_t)fl->floats.items, c->floats, LINK_FLOAT))
		return 0;
	for (int i = 0; i < 20; i++)
		if (!chain_is((uintptr_t)fl->tuples.items[i], c->tuples[i], LINK_TUPLE))
			return 0;
	return 1;
}

/* The child: start the interpreter, shape the lists, read the counts,
 * scan. Writes the offset (or -1 and a reason) to FD. */
static void child(int fd, const char *runtime, size_t size, const struct pyw_api *api)
{
	char msg[256] = "";
	long found = -1, nfound = 0;
	struct counts c;
	FILE *f = tmpfile();

	void *func;

	api->init(0);
	/* sys._debugmallocstats() writes to the C library's stderr; the free
	 * lists' lines come from _PyObject_DebugTypeStats, which 3.13.0 does
	 * not export. Called from C, so no Python code runs between its
	 * printing and the scan. */
	fflush(stderr);
	if (f && dup2(fileno(f), 2) < 0)
		f = NULL;
	if (!f || api->run(shape_code, NULL) != 0 ||
	    !(func = api->sys_get("_debugmallocstats")) || !api->call(func, NULL)) {
		snprintf(msg, sizeof msg, "the interpreter did not run the calibration code");
	} else {
		fflush(stderr);
		rewind(f);
		if (parse_counts(f, &c) < 0)
			snprintf(msg, sizeof msg, "_debugmallocstats printed no free-list lines");
	}
	if (!msg[0]) {
		/* Only the lists' counts (ints at 4-byte alignment) are read
		 * before a candidate's counts all match. */
		for (size_t o = 0; o + sizeof(struct fl313) <= size; o += 8)
			if (matches(runtime + o, &c)) {
				found = (long)o;
				nfound++;
			}
		if (nfound != 1)
			snprintf(msg, sizeof msg, "%ld places in _PyRuntime hold the free "
				 "lists' counts (floats %ld, lists %ld, dicts %ld, keys %ld)",
				 nfound, c.floats, c.lists, c.dicts, c.keys);
	}
	if (msg[0])
		found = -1;
	if (write(fd, &found, sizeof found) != sizeof found ||
	    write(fd, msg, sizeof msg) != sizeof msg)
		_exit(1);
	_exit(0);
}

long pyw_locate(const char *runtime, size_t runtime_size, const struct pyw_api *api,
		char *err, size_t errlen)
{
	int fds[2], status;
	long off = -1;
	char msg[256];
	pid_t pid;

	fflush(NULL);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "cannot start the calibration process");
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], runtime, runtime_size, api);
	}
	close(fds[1]);
	if (read(fds[0], &off, sizeof off) != sizeof off ||
	    read(fds[0], msg, sizeof msg) != sizeof msg) {
		off = -1;
		snprintf(msg, sizeof msg, "the calibration process died");
	}
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (off < 0) {
		msg[sizeof msg - 1] = 0;
		snprintf(err, errlen, "cannot locate CPython 3.13's free lists: %s", msg);
	}
	return off;
}
