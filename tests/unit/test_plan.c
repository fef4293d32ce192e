/*
 * test_plan.c - sim/plan.c: the estimate, the grouping, shell quoting and
 * the plan file's round trip. Expected sizes are the formula of plan.h
 * worked by hand.
 */
#include <stdlib.h>

#include "plan.h"
#include "test.h"

/* A plan of n copies of preset `name` over one trace of `objs` objects. */
static void make_plan(struct plan *p, const char *name, size_t n, uint64_t objs,
		      uint64_t refs)
{
	struct ms_error err;

	memset(p, 0, sizeof *p);
	p->version = strdup("test");
	p->memsim = strdup("/usr/bin/memsim");
	p->pol = calloc(n, sizeof *p->pol);
	p->set = calloc(n, sizeof *p->set);
	p->nset = calloc(n, sizeof *p->nset);
	for (size_t i = 0; i < n; i++) {
		ms_error_clear(&err);
		CHECK(policy_resolve(name, &p->pol[i], &err) == 0);
	}
	p->npol = n;
	p->traces = calloc(1, sizeof *p->traces);
	p->traces[0] = (struct plan_trace){ .path = strdup("/t/x.trace"), .events = 10,
					    .peak_live_objects = objs, .peak_live_refs = refs };
	p->ntraces = 1;
}

static void test_estimate(void)
{
	struct plan p;

	make_plan(&p, "cpython-3.11", 1, 1000000, 500000);
	/* 160 x 10^6 + 8 x 5 x 10^5 + 256 KiB = 164262144 */
	CHECK_U64(plan_policy_bytes(p.pol[0], &p.traces[0]), UINT64_C(164262144));
	plan_free(&p);
	make_plan(&p, "malloc", 1, 1000000, 0);
	/* glibc serves every object: 224 x 10^6 + 262144 */
	CHECK_U64(plan_policy_bytes(p.pol[0], &p.traces[0]), UINT64_C(224262144));
	plan_free(&p);
}

static void test_grouping(void)
{
	struct ms_error err;
	struct plan p;
	/* 1M objects, no refs: 160262144 bytes a policy. */
	uint64_t per = UINT64_C(160262144), job = 4u << 20;

	/* Room for 3 policies a job, 10 policies, 1 slot: ceil(10/3) = 4
	 * groups of 3, 3, 2, 2 (sizes differ by at most one). */
	make_plan(&p, "cpython-3.11", 10, 1000000, 0);
	p.slots = 1;
	p.budget = job + 3 * per + per / 2;
	ms_error_clear(&err);
	CHECK(plan_jobs(&p, &err) == 0);
	CHECK_U64(p.njobs, 4);
	CHECK_U64(p.jobs[0].n, 3);
	CHECK_U64(p.jobs[1].n, 3);
	CHECK_U64(p.jobs[2].n, 2);
	CHECK_U64(p.jobs[3].first, 8);
	CHECK_U64(p.jobs[0].estimate, job + 3 * per);
	CHECK_U64(p.jobs[3].estimate, job + 2 * per);
	plan_free(&p);

	/* Memory for all, 4 slots, 1 trace: 4 jobs of 3, 3, 2, 2. */
	make_plan(&p, "cpython-3.11", 10, 1000000, 0);
	p.slots = 4;
	p.budget = UINT64_C(1) << 40;
	CHECK(plan_jobs(&p, &err) == 0);
	CHECK_U64(p.njobs, 4);
	plan_free(&p);

	/* More slots than policies: one policy a job. */
	make_plan(&p, "cpython-3.11", 3, 1000, 0);
	p.slots = 64;
	p.budget = UINT64_C(1) << 40;
	CHECK(plan_jobs(&p, &err) == 0);
	CHECK_U64(p.njobs, 3);
	plan_free(&p);

	/* A budget below one policy. */
	make_plan(&p, "cpython-3.11", 2, 1000000, 0);
	p.slots = 1;
	p.budget = per;
	CHECK_U64(plan_jobs(&p, &err), MS_EXIT_USAGE);
	CHECK(strstr(err.msg, "alone needs about 157 MiB") != NULL);
	plan_free(&p);
}

static void test_quote(void)
{
	struct strbuf sb;

	sb_init(&sb);
	plan_shell_quote(&sb, "it's a $(x); `y` \"z\"");
	CHECK_STR(sb_str(&sb), "'it'\\''s a $(x); `y` \"z\"'");
	sb.len = 0;
	plan_shell_quote(&sb, "");
	CHECK_STR(sb_str(&sb), "''");
	sb_free(&sb);
}

/* The plan file reads back into the same plan, and the same plan gets the
 * same id; another version is refused. */
static void test_round_trip(void)
{
	struct ms_error err;
	struct plan p, q;
	struct strbuf a, b;

	make_plan(&p, "cpython-2.7:gc.threshold0=100", 4, 1000, 10);
	p.slots = 2;
	p.budget = UINT64_C(1) << 30;
	ms_error_clear(&err);
	CHECK(plan_jobs(&p, &err) == 0);
	sb_init(&a);
	plan_to_json(&p, &a);
	CHECK_U64(strlen(p.id), 16);
	CHECK(plan_from_json(sb_str(&a), "plan.json", "test", &q, &err) == 0);
	CHECK_STR(q.id, p.id);
	CHECK_U64(q.njobs, 2);
	CHECK_U64(q.npol, 4);
	CHECK_STR(q.pol[3]->name, "cpython-2.7:gc.threshold0=100");
	sb_init(&b);
	plan_to_json(&q, &b);
	CHECK_STR(sb_str(&b), sb_str(&a));
	plan_free(&q);
	ms_error_clear(&err);
	CHECK_U64(plan_from_json(sb_str(&a), "plan.json", "other", &q, &err), MS_EXIT_CONFIG);
	CHECK(strstr(err.msg, "made by memsim test and this is memsim other") != NULL);
	CHECK_U64(plan_from_json("{\"x\": 1}", "plan.json", "test", &q, &err), MS_EXIT_CONFIG);
	sb_free(&a);
	sb_free(&b);
	plan_free(&p);
}

int main(void)
{
	TEST_RUN(test_estimate);
	TEST_RUN(test_grouping);
	TEST_RUN(test_quote);
	TEST_RUN(test_round_trip);
	return test_done();
}
