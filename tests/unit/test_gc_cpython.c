/*
 * test_gc_cpython.c - the generational collector against real CPython.
 *
 * Replays the traces of tools/gen-gc-traces (read through a pipe with a
 * minimal parser for the events the generator writes) on heap + a list
 * free list of 80 (PyList_MAXFREELIST, Objects/listobject.c 3.8-3.13)
 * + the collector with each version's settings, and compares collections
 * and collected objects per generation with what real CPython reported
 * for the same loops on this machine (tests/cpython/gc_keep.py and
 * gc_churn.py under pyenv 3.8.18, 3.11.7, 3.12.1, 3.13.0; docs/gc.md).
 * Skipped when $ROOT or python3 is missing. Until `memsim replay`
 * exists this is the end-to-end check; tests/e2e/gc_cpython.sh takes
 * over then.
 */
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "heap.h"
#include "test.h"
#include "typetab.h"

struct rt {
	struct heap *h;
	struct typetab *types;
	void *gc;
	struct gc_clock clock;
	uint32_t list_type;
	unsigned freelist;
};

static void rt_on_free(void *ctx, struct heap *h, uint32_t slot)
{
	struct rt *r = ctx;
	int to_allocator = 1;

	if (heap_obj(h, slot)->type == r->list_type && r->freelist < 80) {
		r->freelist++;
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
	((struct rt *)ctx)->freelist = 0;
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
	env = (struct gc_env){ .heap = r.h, .types = r.types, .clock = &r.clock,
			       .ctx = &r, .clear_freelists = rt_clear };
	r.gc = gc_generational.create(p, &env);
	while (rc == 0 && fgets(line, sizeof line, f)) {
		struct trace_event ev = { 0 };
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
			rc = gc_generational.collect(r.gc, TRACE_GEN_DEFAULT, &err);
			/* the scripts reset their counters after this gc.collect() */
			gc_generational.stats(r.gc, &base);
			break;
		case 'a':
			n = sscanf(line + 1, "%llu %llu %63s", &x, &y, type);
			ev.kind = TRACE_ALLOC;
			ev.id = x;
			ev.u.size = y;
			ev.type = n == 3 ? typetab_intern(r.types, type, strlen(type))
				: TYPETAB_UNTYPED;
			rc = heap_apply(r.h, &ev, &err);
			if (rc == 0) {
				int from_allocator = 1;
				if (ev.type == r.list_type && r.freelist > 0) {
					r.freelist--;
					from_allocator = 0;
				}
				gc_generational.on_alloc(r.gc, heap_lookup(r.h, x), from_allocator);
			}
			break;
		case 'r': case '+': case '-': case 'f':
			sscanf(line + 1, "%llu %llu", &x, &y);
			ev.kind = line[0] == 'r' ? TRACE_RESIZE : line[0] == '+'
				? TRACE_REF_ADD : line[0] == '-' ? TRACE_REF_DROP : TRACE_FREE;
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

/* Measured with real CPython on this machine (docs/gc.md, "Tests"). */
static const struct expect expects[] = {
	{ "keep", "3.11", 700, 0, { 1300, 118, 8 }, { 0, 0, 0 } },
	{ "keep", "3.13", 2000, 1, { 455, 41, 3 }, { 0, 0, 0 } },
	{ "churn", "3.8", 700, 0, { 235, 21, 0 }, { 182748, 17010, 0 } },
	{ "churn", "3.11", 700, 0, { 235, 21, 0 }, { 182748, 17052, 0 } },
	{ "churn", "3.12", 700, 1, { 234, 21, 0 }, { 182438, 16842, 0 } },
	{ "churn", "3.13", 2000, 1, { 88, 8, 0 }, { 182958, 16816, 0 } },
};

static size_t which;

static void one(void)
{
	const struct expect *e = &expects[which];
	const char *root = getenv("ROOT");
	char cmd[1024];
	struct gc_stats st;

	if (!root) {
		TEST_SKIP("ROOT not set (run through tests/run.sh)");
		return;
	}
	snprintf(cmd, sizeof cmd, "python3 '%s/tools/gen-gc-traces' %s --version %s",
		 root, e->loop, e->version);
	printf("# %s\n", cmd);
	if (replay(cmd, e->threshold0, e->deferred, &st) != 0) {
		TEST_SKIP("generator failed (python3 missing?)");
		return;
	}
	for (int g = 0; g < 3; g++) {
		CHECK_U64(st.collections[g], e->collections[g]);
		/* Known deviation (docs/gc.md, "Open questions"): memsim frees
		 * one cycle more in generation 0 over the whole run, and under
		 * 3.11 real CPython frees one cycle more per generation-1
		 * collection; allowed: 2 objects per collection + 2. */
		uint64_t d = st.collected[g] > e->collected[g]
			? st.collected[g] - e->collected[g]
			: e->collected[g] - st.collected[g];
		if (d > 0)
			printf("# generation %d: collected %llu, CPython %llu\n", g,
			       (unsigned long long)st.collected[g],
			       (unsigned long long)e->collected[g]);
		CHECK(d <= 2 * e->collections[g] + 2);
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
