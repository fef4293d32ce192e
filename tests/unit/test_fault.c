/*
 * test_fault.c - simulated out-of-memory (alloc.h ALLOC_OOM) through the
 * fault-injecting wrapper (alloc_fault.h): the wrapped glibc model, the
 * pymalloc model above it and a whole runtime each report the failure
 * and keep their books as they were before the failed request.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "alloc_fault.h"
#include "error.h"
#include "event.h"
#include "policy.h"
#include "runtime.h"
#include "test.h"
#include "typetab.h"

extern const struct alloc_policy alloc_ptmalloc;
extern const struct alloc_policy alloc_pymalloc;

static int stats_equal(const struct alloc_stats *a, const struct alloc_stats *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

/* A glibc model instance, wrapped; the caller destroys it through inst. */
static void glibc_wrapped(struct alloc_inst *inst, uint64_t first, uint64_t count)
{
	struct alloc_fault_plan plan = { .first = first, .count = count };

	inst->policy = &alloc_ptmalloc;
	inst->state = alloc_ptmalloc.create(alloc_ptmalloc.defaults, NULL);
	alloc_fault_wrap(inst, &plan);
}

static void test_wrapper_counts(void)
{
	struct alloc_inst g;
	struct alloc_stats before, after;
	uint64_t a, b, c;

	glibc_wrapped(&g, 2, 2);
	a = g.policy->alloc(g.state, 100);              /* request 1 */
	CHECK(a != ALLOC_OOM);
	g.policy->stats(g.state, &before);
	CHECK_U64(g.policy->alloc(g.state, 200), ALLOC_OOM);   /* 2 */
	CHECK_U64(g.policy->resize(g.state, a, 100, 5000), ALLOC_OOM);  /* 3 */
	g.policy->stats(g.state, &after);
	CHECK(stats_equal(&before, &after));
	/* a shrink is not a request and never fails */
	b = g.policy->resize(g.state, a, 100, 50);
	CHECK(b != ALLOC_OOM);
	c = g.policy->alloc(g.state, 200);              /* 4: past the plan */
	CHECK(c != ALLOC_OOM);
	CHECK_U64(alloc_fault_requests(&g), 4);
	CHECK_U64(alloc_fault_failed(&g), 2);
	g.policy->free(g.state, b, 50);
	g.policy->free(g.state, c, 200);
	g.policy->destroy(g.state);
}

static void test_pymalloc_arena_fails(void)
{
	struct alloc_inst g;
	struct alloc_stats before, after;
	char msg[200] = "";
	void *pm;
	uint64_t a, big;

	/* The first request pymalloc sends down (its first arena) fails. */
	glibc_wrapped(&g, 1, 1);
	pm = alloc_pymalloc.create(alloc_pymalloc.defaults, &g);
	alloc_pymalloc.stats(pm, &before);
	CHECK_U64(alloc_pymalloc.alloc(pm, 16), ALLOC_OOM);
	alloc_pymalloc.stats(pm, &after);
	CHECK(stats_equal(&before, &after));
	CHECK_U64(after.blocks, 0);
	CHECK(alloc_pymalloc.check(pm, msg, sizeof msg) == 0);
	/* The next one gets its arena. */
	a = alloc_pymalloc.alloc(pm, 16);
	CHECK(a != ALLOC_OOM);
	alloc_pymalloc.stats(pm, &after);
	CHECK_U64(after.blocks, 1);
	CHECK_U64(after.requested, 16);
	CHECK(alloc_pymalloc.check(pm, msg, sizeof msg) == 0);
	alloc_pymalloc.free(pm, a, 16);
	alloc_pymalloc.destroy(pm);
	g.policy->destroy(g.state);

	/* A big block (past pymalloc's threshold) fails in glibc, and a
	 * small block that must move to it on resize stays where it was. */
	glibc_wrapped(&g, 2, 2);
	pm = alloc_pymalloc.create(alloc_pymalloc.defaults, &g);
	a = alloc_pymalloc.alloc(pm, 16);       /* request 1: the arena */
	CHECK(a != ALLOC_OOM);
	alloc_pymalloc.stats(pm, &before);
	big = alloc_pymalloc.alloc(pm, 100000); /* 2 */
	CHECK_U64(big, ALLOC_OOM);
	CHECK_U64(alloc_pymalloc.resize(pm, a, 16, 100000), ALLOC_OOM);     /* 3 */
	alloc_pymalloc.stats(pm, &after);
	CHECK(stats_equal(&before, &after));
	CHECK(alloc_pymalloc.check(pm, msg, sizeof msg) == 0);
	alloc_pymalloc.free(pm, a, 16);
	alloc_pymalloc.destroy(pm);
	g.policy->destroy(g.state);
}

/* A whole runtime: the allocation that finds no memory is the failed
 * event, and the message names the policy and the request. */
static void test_runtime_reports_oom(void)
{
	struct policy *p = NULL;
	struct ms_error err;
	struct typetab *types = typetab_create();
	struct runtime *rt;
	struct alloc_fault_plan plan = { .first = 1, .count = 1000000 };
	struct event ev = { .kind = EVENT_ALLOC, .id = 1, .type = TYPETAB_UNTYPED };
	int rc;

	ms_error_clear(&err);
	CHECK(policy_resolve("cpython-3.11", &p, &err) == 0);
	if (!p)
		return;
	rt = runtime_create(p, types);
	CHECK(runtime_system(rt) != NULL);
	alloc_fault_wrap(runtime_system(rt), &plan);
	ev.u.size = 100;
	ms_error_clear(&err);
	rc = runtime_apply(rt, &ev, &err);
	CHECK_I64(rc, MS_EXIT_FAIL);
	CHECK_I64(err.code, MS_EXIT_FAIL);
	CHECK(strstr(err.msg, "simulated out of memory under policy cpython-3.11") != NULL);
	CHECK(strstr(err.msg, "a request of 100 bytes") != NULL);
	if (rc == 0)
		printf("# no failure: %s\n", err.msg);
	runtime_destroy(rt);
	policy_free(p);
	typetab_destroy(types);
}

int main(void)
{
	TEST_RUN(test_wrapper_counts);
	TEST_RUN(test_pymalloc_arena_fails);
	TEST_RUN(test_runtime_reports_oom);
	return test_done();
}
