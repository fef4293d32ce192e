/*
 * test.h - a tiny unit-test helper that prints TAP.
 *
 * Each test is a function; TEST_RUN(fn) runs it and prints one TAP line,
 * "ok N - fn" or "not ok N - fn". A failed check prints both operands as a
 * TAP diagnostic ("# file:line: a == b: 5 != 6") and marks the test failed
 * without stopping it, so one run shows every broken expectation.
 * TEST_SKIP(why) inside a test marks it skipped. test_done() returns the
 * exit status for main().
 */
#ifndef MEMSIM_TEST_H
#define MEMSIM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_count, test_failures, test_current_failed;
static const char *test_skip_reason;

#define CHECK(cond) \
	test_check_(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_U64(a, b) \
	test_u64_((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_I64(a, b) \
	test_i64_((int64_t)(a), (int64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_DBL(a, b, eps) \
	test_dbl_((double)(a), (double)(b), (eps), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b) \
	test_str_((a), (b), #a, #b, __FILE__, __LINE__)
#define TEST_SKIP(why) (test_skip_reason = (why))
#define TEST_RUN(fn) test_run_(fn, #fn)

static inline void test_fail_(void)
{
	test_current_failed = 1;
}

static inline int test_check_(int ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		printf("# %s:%d: check failed: %s\n", file, line, expr);
		test_fail_();
	}
	return ok;
}

static inline int test_u64_(uint64_t a, uint64_t b, const char *ea,
			    const char *eb, const char *file, int line)
{
	if (a != b) {
		printf("# %s:%d: %s == %s: %" PRIu64 " != %" PRIu64 "\n",
		       file, line, ea, eb, a, b);
		test_fail_();
	}
	return a == b;
}

static inline int test_i64_(int64_t a, int64_t b, const char *ea,
			    const char *eb, const char *file, int line)
{
	if (a != b) {
		printf("# %s:%d: %s == %s: %" PRId64 " != %" PRId64 "\n",
		       file, line, ea, eb, a, b);
		test_fail_();
	}
	return a == b;
}

static inline int test_dbl_(double a, double b, double eps, const char *ea,
			    const char *eb, const char *file, int line)
{
	double d = a > b ? a - b : b - a;

	if (!(d <= eps)) {
		printf("# %s:%d: %s == %s (within %g): %.17g != %.17g\n",
		       file, line, ea, eb, eps, a, b);
		test_fail_();
	}
	return d <= eps;
}

static inline int test_str_(const char *a, const char *b, const char *ea,
			    const char *eb, const char *file, int line)
{
	int ok = a && b && strcmp(a, b) == 0;

	if (!ok) {
		printf("# %s:%d: %s == %s:\n#   got:      \"%s\"\n#   expected: \"%s\"\n",
		       file, line, ea, eb, a ? a : "(null)", b ? b : "(null)");
		test_fail_();
	}
	return ok;
}

static inline void test_run_(void (*fn)(void), const char *name)
{
	test_current_failed = 0;
	test_skip_reason = NULL;
	fn();
	test_count++;
	if (test_skip_reason && !test_current_failed) {
		printf("ok %d - %s # SKIP %s\n", test_count, name, test_skip_reason);
	} else if (test_current_failed) {
		printf("not ok %d - %s\n", test_count, name);
		test_failures++;
	} else {
		printf("ok %d - %s\n", test_count, name);
	}
	fflush(stdout);
}

static inline int test_done(void)
{
	printf("1..%d\n", test_count);
	return test_failures ? 1 : 0;
}

#endif
