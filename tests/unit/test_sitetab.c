/*
 * test_sitetab.c - the stack-node table (sim/sitetab.c): numbering,
 * lookup, parents and depths, a million nodes, records that never move
 * while another thread reads them, and the FRAME rule (check, escape,
 * display) of docs/trace-format.md.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sitetab.h"
#include "test.h"

static void test_numbering(void)
{
	struct sitetab *t = sitetab_create();
	char msg[128];

	CHECK_U64(sitetab_count(t), 1);
	CHECK_STR(sitetab_frame(t, 0), "");
	CHECK_U64(sitetab_add(t, 40, 0, "main@a.c:1", 10), 1);
	CHECK_U64(sitetab_add(t, 7, 1, "f@a.c:9xx", 7), 2);    /* "f@a.c:9" */
	CHECK_U64(sitetab_add(t, 18446744073709551615u, 2, NULL, 0), 3);
	CHECK_U64(sitetab_find(t, 7), 2);
	CHECK_U64(sitetab_find(t, 40), 1);
	CHECK_U64(sitetab_find(t, 18446744073709551615u), 3);
	CHECK_U64(sitetab_find(t, 8), EVENT_NO_SITE);
	CHECK_U64(sitetab_find(t, 0), EVENT_NO_SITE);
	CHECK_STR(sitetab_frame(t, 2), "f@a.c:9");
	CHECK_STR(sitetab_frame(t, 3), "");      /* added without text */
	CHECK_U64(sitetab_number(t, 2), 7);
	CHECK_U64(sitetab_parent(t, 3), 2);
	CHECK_U64(sitetab_depth(t, 1), 1);
	CHECK_U64(sitetab_depth(t, 3), 3);
	CHECK_U64(sitetab_number(t, 4), 0);      /* out of range */
	CHECK_U64(sitetab_count(t), 4);
	CHECK_I64(sitetab_check(t, msg, sizeof msg), 0);
	sitetab_destroy(t);
}

/* A million nodes in one chain (depth 1e6) and SITE numbers spread over
 * 64 bits: every one found again, the first records never moved. */
static void test_million(void)
{
	enum { N = 1000000 };
	struct sitetab *t = sitetab_create();
	const char *first[8];
	uint64_t bad = 0;
	char msg[128];

	for (uint32_t i = 0; i < N; i++) {
		char frame[32];
		int n = snprintf(frame, sizeof frame, "f%u", i);

		bad += sitetab_add(t, (uint64_t)i * 0x9e3779b97f4a7c15u + 1, i, frame,
				   (size_t)n) != i + 1;
		if (i < 8)
			first[i] = sitetab_frame(t, i + 1);
	}
	CHECK_U64(bad, 0);
	for (uint32_t i = 0; i < N; i++)
		bad += sitetab_find(t, (uint64_t)i * 0x9e3779b97f4a7c15u + 1) != i + 1;
	CHECK_U64(bad, 0);
	for (uint32_t i = 0; i < 8; i++)
		CHECK(sitetab_frame(t, i + 1) == first[i]);
	CHECK_U64(sitetab_depth(t, N), N);
	CHECK_STR(sitetab_frame(t, N), "f999999");
	CHECK_I64(sitetab_check(t, msg, sizeof msg), 0);
	sitetab_destroy(t);
}

/* One thread adds while another reads the newest nodes below the count
 * it sees, as simulation threads read the reader's table: a record read
 * before it was complete would show a wrong number or frame. */
struct reader_arg {
	struct sitetab *t;
	atomic_int done;
	uint64_t bad, seen;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;

	while (!atomic_load(&a->done)) {
		uint32_t n = sitetab_count(a->t);

		for (uint32_t i = n > 64 ? n - 64 : 1; i < n; i++) {
			char want[32];

			snprintf(want, sizeof want, "g%llu",
				 (unsigned long long)sitetab_number(a->t, i));
			a->bad += strcmp(sitetab_frame(a->t, i), want) != 0 ||
				  sitetab_number(a->t, i) != (uint64_t)i * 3;
			a->seen++;
		}
	}
	return NULL;
}

static void test_concurrent_reads(void)
{
	struct reader_arg a = { .t = sitetab_create() };
	pthread_t th;

	CHECK_I64(pthread_create(&th, NULL, reader, &a), 0);
	for (uint32_t i = 1; i <= 200000; i++) {
		char frame[32];
		int n = snprintf(frame, sizeof frame, "g%u", i * 3);

		sitetab_add(a.t, (uint64_t)i * 3, i - 1, frame, (size_t)n);
	}
	atomic_store(&a.done, 1);
	pthread_join(th, NULL);
	CHECK_U64(a.bad, 0);
	sitetab_destroy(a.t);
}

static const char *frame_error(const char *s)
{
	static char msg[200];

	if (!sitetab_frame_error(s, strlen(s), msg, sizeof msg))
		return "(ok)";
	return msg;
}

static void test_frame_rule(void)
{
	CHECK_STR(frame_error("main@a.c:1"), "(ok)");
	CHECK_STR(frame_error("f@libc.so.6+0x2a1f0"), "(ok)");
	CHECK_STR(frame_error("a%20b%5e%7E"), "(ok)");
	CHECK_STR(frame_error("x"), "(ok)");
	CHECK_STR(frame_error(""), "empty FRAME");
	CHECK_STR(frame_error("a b"), "raw space in FRAME (write it as %20)");
	CHECK_STR(frame_error("a\tb"), "byte 0x09 in FRAME (write it as %09)");
	CHECK_STR(frame_error("a^b"), "raw '^' in FRAME (write it as %5E)");
	CHECK_STR(frame_error("a\x7f"), "byte 0x7f in FRAME (write it as %7F)");
	CHECK_STR(frame_error("%"), "bad escape '%' in FRAME (a '%' starts %XX with two hex digits)");
	CHECK_STR(frame_error("a%g0"), "bad escape '%g0' in FRAME (a '%' starts %XX with two hex digits)");
	CHECK_STR(frame_error("a%0"), "bad escape '%0' in FRAME (a '%' starts %XX with two hex digits)");
	CHECK_STR(frame_error("a%0\x80"),
		  "bad escape '%0\\x80' in FRAME (a '%' starts %XX with two hex digits)");
}

static void test_frame_escape(void)
{
	char buf[64];
	const char raw[] = "operator new(unsigned long)^%\xc3\xa9";

	/* space -> %20, '^' -> %5E, '%' -> %25, the UTF-8 bytes of e-acute
	 * -> %C3%A9: 26 plain bytes + 3 escapes in the name... counted:
	 * "operator" 8, " " 3, "new(unsigned" 12, " " 3, "long)" 5, "^" 3,
	 * "%" 3, two bytes 6 = 43. */
	CHECK_U64(sitetab_frame_escape(raw, strlen(raw), buf, sizeof buf), 43);
	CHECK_STR(buf, "operator%20new(unsigned%20long)%5E%25%C3%A9");
	CHECK_STR(frame_error(buf), "(ok)");
	/* Cut: never half an escape; the length needed is still returned. */
	CHECK_U64(sitetab_frame_escape(raw, strlen(raw), buf, 11), 43);
	CHECK_STR(buf, "operator");
	CHECK_U64(sitetab_frame_escape(raw, strlen(raw), buf, 12), 43);
	CHECK_STR(buf, "operator%20");
	CHECK_U64(sitetab_frame_escape("", 0, buf, sizeof buf), 0);
	CHECK_STR(buf, "");
	/* Display: printable escapes decoded, others kept. */
	sitetab_frame_display("operator%20new%C3%A9%25", buf, sizeof buf);
	CHECK_STR(buf, "operator new%C3%A9%");
	sitetab_frame_display("abcdefghij", buf, 8);
	CHECK_STR(buf, "abcd...");
}

int main(void)
{
	TEST_RUN(test_numbering);
	TEST_RUN(test_million);
	TEST_RUN(test_concurrent_reads);
	TEST_RUN(test_frame_rule);
	TEST_RUN(test_frame_escape);
	return test_done();
}
