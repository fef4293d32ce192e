/*
 * test_gc_cpython.c - the generational collector against real CPython.
 *
 * Replays the traces of tools/gen-gc-traces (read through a pipe with a
 * minimal parser for the events the generator writes) on heap + the free
 * lists that decide generation 0's count in these traces (list 80,
 * PyList_MAXFREELIST, Objects/listobject.c 3.8-3.13; dict 80,
 * PyDict_MAXFREELIST, Objects/dictobject.c; tuples 2000 per length,
 * PyTuple_MAXFREELIST, Objects/tupleobject.c; all emptied by a full
 * collection) + the collector with each version's settings, and requires
 * exactly the collections and collected objects per generation that real
 * CPython reports for the same loops: measured live when
 * ~/.pyenv/versions/X.* exists (tests/cpython/gc_keep.py, gc_churn.py),
 * else the numbers measured on the reference machine (pyenv 3.8.18,
 * 3.11.7, 3.12.1, 3.13.0; docs/gc.md). Skipped when $ROOT or python3 is
 * missing. tests/e2e/gc_cpython.sh does the same through `memsim
 * replay`, collection by collection.
 */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "heap.h"
#include "test.h"
#include "typetab.h"

/* Free lists, counted only: one per (type, size) - for tuples the size
 * gives the length. */
#define FL_MAX 16
struct fl {
	uint32_t type;
	uint64_t size;
	unsigned n, limit;
};

struct rt {
	struct heap *h;
	struct typetab *types;
	void *gc;
	struct gc_clock clock;
	uint32_t list_type, dict_type, tuple_type;
	struct fl fl[FL_MAX];
	size_t nfl;
};

/* The free list an object of `type` and `size` parks in, or NULL. */
static struct fl *rt_fl(struct rt *r, uint32_t type, uint64_t size)
{
	unsigned limit = type == r->tuple_type ? 2000
		: type == r->list_type || type == r->dict_type ? 80 : 0;

	if (limit == 0)
		return NULL;
	for (size_t i = 0; i < r->nfl; i++)
		if (r->fl[i].type == type && (type != r->tuple_type || r->fl[i].size == size))
			return &r->fl[i];
	if (r->nfl == FL_MAX)
		return NULL;
	r->fl[r->nfl] = (struct fl){ .type = type, .size = size, .limit = limit };
	return &r->fl[r->nfl++];
}

static void rt_on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct rt *r = ctx;
	const struct heap_obj *o = heap_obj(h, slot);
	struct fl *fl = rt_fl(r, heap_obj_type(o), heap_obj_size(h, o));
	int to_allocator = 1;

	if (fl && fl->n < fl->limit) {
		fl->n++;
		to_allocator = 0;
	}
	gc_generational.on_free(r->gc, slot, to_allocator);
}

static void rt_on_ref(void *ctx, struct heap *h, uint32_t s, uint32_t d, int delta)
{
	(void)h;
	gc_generational.on_ref(((struct rt *)ctx)->gc, s, d, delta);
}

static void rt_clear(void *ctx)
{
	struct rt *r = ctx;

	for (size_t i = 0; i < r->nfl; i++)
		r->fl[i].n = 0;
}

static const struct knob *knob_named(const char *name)
{
	for (size_t i = 0; i < gc_generational.nknobs; i++)
		if (strcmp(gc_generational.knobs[i].name, name) == 0)
			return &gc_generational.knobs[i];
	return NULL;
}

/* Replays `cmd`'s trace; returns 0 and fills *st, or -1. */
static int replay(const char *cmd, uint64_t threshold0, int deferred,
		  struct gc_stats *st)
{
	struct heap_hooks hooks;
	struct gc_env env;
	struct rt r;
	struct gc_stats base = { 0 };
	char line[256];
	void *p = malloc(gc_generational.params_size);
	FILE *f = popen(cmd, "r");
	int rc = 0;

	if (!f)
		return -1;
	memcpy(p, gc_generational.defaults, gc_generational.params_size);
	*knob_uint(p, knob_named("threshold0")) = threshold0;
	*knob_int(p, knob_named("deferred")) = deferred;
	memset(&r, 0, sizeof r);
	hooks = (struct heap_hooks){ .ctx = &r, .on_free = rt_on_free, .on_ref = rt_on_ref };
	r.h = heap_create(&hooks);
	r.types = typetab_create();
	r.list_type = typetab_intern(r.types, "list", 4);
	r.dict_type = typetab_intern(r.types, "dict", 4);
	r.tuple_type = typetab_intern(r.types, "tuple", 5);
	env = (struct gc_env){ .heap = r.h, .types = r.types, .clock = &r.clock,
			       .ctx = &r, .clear_freelists = rt_clear };
	r.gc = gc_generational.create(p, &env);
	while (rc == 0 && fgets(line, sizeof line, f)) {
		struct event ev = { 0 };
		struct ms_error err;
		unsigned long long x = 0, y = 0;
		char type[64] = "";
		int n;

		ms_error_clear(&err);
		switch (line[0]) {
		case '#': case '\n':
			continue;
		case 's':
			gc_generational.safepoint(r.gc);
			break;
		case 'c':
			rc = gc_generational.collect(r.gc, EVENT_GEN_DEFAULT, &err);
			/* the scripts reset their counters after this gc.collect() */
			gc_generational.stats(r.gc, &base);
			break;
		case 'a':
			n = sscanf(line + 1, "%llu %llu %63s", &x, &y, type);
			ev.kind = EVENT_ALLOC;
			ev.id = x;
			ev.u.size = y;
			ev.type = n == 3 ? typetab_intern(r.types, type, strlen(type))
				: TYPETAB_UNTYPED;
			rc = heap_apply(r.h, &ev, &err);
			if (rc == 0) {
				struct fl *fl = rt_fl(&r, ev.type, y);
				int from_allocator = 1;
				if (fl && fl->n > 0) {
					fl->n--;
					from_allocator = 0;
				}
				gc_generational.on_alloc(r.gc, heap_lookup(r.h, x), from_allocator);
			}
			break;
		case 'r': case '+': case '-': case 'f':
			sscanf(line + 1, "%llu %llu", &x, &y);
			ev.kind = line[0] == 'r' ? EVENT_RESIZE : line[0] == '+'
				? EVENT_REF_ADD : line[0] == '-' ? EVENT_REF_DROP : EVENT_FREE;
			ev.id = x;
			ev.u.size = y;  /* same storage as dst */
			if (line[0] != 'r')
				ev.u.dst = y;
			rc = heap_apply(r.h, &ev, &err);
			break;
		default:
			rc = -1;
		}
		if (rc)
			printf("# replay: %s at: %s", err.msg, line);
		r.clock.event++;
	}
	if (pclose(f) != 0)
		rc = -1;
	gc_generational.stats(r.gc, st);
	for (int g = 0; g < 3; g++) {
		st->collections[g] -= base.collections[g];
		st->collected[g] -= base.collected[g];
	}
	gc_generational.destroy(r.gc);
	heap_destroy(r.h);
	typetab_destroy(r.types);
	free(p);
	return rc;
}

struct expect {
	const char *loop, *version;
	uint64_t threshold0;
	int deferred;
	uint64_t collections[3], collected[3];
};

/* Measured with real CPython on this machine (docs/gc.md, "Tests"): the
 * fallback when the version is not installed. */
static const struct expect expects[] = {
	{ "keep", "3.11", 700, 0, { 1300, 118, 8 }, { 0, 0, 0 } },
	{ "keep", "3.13", 2000, 1, { 455, 41, 3 }, { 0, 0, 0 } },
	{ "churn", "3.8", 700, 0, { 235, 21, 0 }, { 182748, 17010, 0 } },
	{ "churn", "3.11", 700, 0, { 235, 21, 0 }, { 182748, 17052, 0 } },
	{ "churn", "3.12", 700, 1, { 234, 21, 0 }, { 182438, 16842, 0 } },
	{ "churn", "3.13", 2000, 1, { 88, 8, 0 }, { 182958, 16816, 0 } },
};

/* Runs tests/cpython/gc_LOOP.py under ~/.pyenv/versions/VERSION.* if it
 * is installed and reads its JSON ("collections": [a, b, c],
 * "collected": [x, y, z]) into *e; returns 0, or -1 (not installed or
 * unreadable output). */
static int measure(const char *root, struct expect *e)
{
	char cmd[1024], out[1024];
	unsigned long long c[3], d[3];
	const char *p, *q;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof cmd,
		 "py=$(ls -d \"$HOME\"/.pyenv/versions/%s.*/bin/python 2>/dev/null | head -1); "
		 "[ -n \"$py\" ] && \"$py\" '%s/tests/cpython/gc_%s.py'",
		 e->version, root, e->loop);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	if (pclose(f) != 0)
		return -1;
	p = strstr(out, "\"collections\": [");
	q = strstr(out, "\"collected\": [");
	if (!p || !q ||
	    sscanf(p + 16, "%llu, %llu, %llu", &c[0], &c[1], &c[2]) != 3 ||
	    sscanf(q + 14, "%llu, %llu, %llu", &d[0], &d[1], &d[2]) != 3)
		return -1;
	for (int g = 0; g < 3; g++) {
		e->collections[g] = c[g];
		e->collected[g] = d[g];
	}
	return 0;
}

static size_t which;

static void one(void)
{
	struct expect e = expects[which];
	const char *root = getenv("ROOT");
	char cmd[1024];
	struct gc_stats st;

	if (!root) {
		TEST_SKIP("ROOT not set (run through tests/run.sh)");
		return;
	}
	if (measure(root, &e) == 0)
		printf("# real CPython %s: collections %llu %llu %llu, collected %llu %llu %llu\n",
		       e.version, (unsigned long long)e.collections[0],
		       (unsigned long long)e.collections[1], (unsigned long long)e.collections[2],
		       (unsigned long long)e.collected[0], (unsigned long long)e.collected[1],
		       (unsigned long long)e.collected[2]);
	else
		printf("# CPython %s not installed: the reference machine's numbers\n",
		       e.version);
	snprintf(cmd, sizeof cmd, "python3 '%s/tools/gen-gc-traces' %s --version %s",
		 root, e.loop, e.version);
	printf("# %s\n", cmd);
	if (replay(cmd, e.threshold0, e.deferred, &st) != 0) {
		TEST_SKIP("generator failed (python3 missing?)");
		return;
	}
	/* Exact, per generation: the trace carries what the script allocates
	 * before its loop (tools/gen-gc-traces, harness()), so every
	 * collection comes at the same allocation as in CPython and finds the
	 * same garbage (docs/gc.md, "Tests"). */
	for (int g = 0; g < 3; g++) {
		CHECK_U64(st.collections[g], e.collections[g]);
		CHECK_U64(st.collected[g], e.collected[g]);
	}
}

int main(void)
{
	for (which = 0; which < sizeof expects / sizeof expects[0]; which++) {
		printf("# %s %s\n", expects[which].loop, expects[which].version);
		TEST_RUN(one);
	}
	return test_done();
}
