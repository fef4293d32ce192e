/*
 * test_tracewrite.c - the one trace-writer interface (sim/tracewrite.h)
 * through both forms: the exact normalised text of every line kind of
 * versions 1 and 2, plain and gzip, long `e` lines, every contract error
 * with its message (the same in both forms), write errors.
 *
 * Expected texts are written out by hand from docs/trace-format.md; the
 * binary form's exact bytes are checked in test_tracebin.c.
 */
#include "tracewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "test.h"
#include "trace.h"

static char tmpl[64];

static const char *tmp_path(const char *suffix)
{
	snprintf(tmpl, sizeof tmpl, "/tmp/test_tracewrite.%ld%s", (long)getpid(), suffix);
	return tmpl;
}

/* Reads a plain or gzip file whole (gzread passes plain files through). */
static char *slurp(const char *path)
{
	static char buf[1 << 16];
	gzFile gz = gzopen(path, "rb");
	int n;

	if (!gz)
		return NULL;
	n = gzread(gz, buf, sizeof buf - 1);
	gzclose(gz);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void write_sample(struct trace_writer *w)
{
	CHECK_I64(tracewrite_alloc(w, 1, 56, "list", 0), 0);
	CHECK_I64(tracewrite_alloc(w, 2, 0, NULL, 0), 0);
	CHECK_I64(tracewrite_time(w, 5), 0);
	CHECK_I64(tracewrite_time(w, 5), 0);        /* same time: no line */
	CHECK_I64(tracewrite_ref_add(w, 1, 2), 0);
	CHECK_I64(tracewrite_ref_drop(w, 0, 2), 0);
	CHECK_I64(tracewrite_resize(w, 1, 281474976710655u, 0), 0); /* 2^48-1 */
	CHECK_I64(tracewrite_collect(w, EVENT_GEN_DEFAULT), 0);
	CHECK_I64(tracewrite_collect(w, 2), 0);
	CHECK_I64(tracewrite_safepoint(w), 0);
	CHECK_I64(tracewrite_comment(w, "hello"), 0);
	CHECK_I64(tracewrite_time(w, 18446744073709551615u), 0);
	CHECK_I64(tracewrite_free(w, 18446744073709551615u), 0);
}

static const char sample_text[] =
	"#memsim-trace 1 {\"source\":\"test\"}\n"
	"a 1 56 list\n"
	"a 2 0\n"
	"@ 5\n"
	"+ 1 2\n"
	"- 0 2\n"
	"r 1 281474976710655\n"
	"c\n"
	"c 2\n"
	"s\n"
	"# hello\n"
	"@ 18446744073709551615\n"
	"f 18446744073709551615\n";

static void test_plain(void)
{
	struct ms_error err;
	const char *path = tmp_path(".trace");
	struct trace_writer *w = tracewrite_create(path, &tracewrite_text, 0, 1,
						   "{\"source\":\"test\"}", &err);

	CHECK(w != NULL);
	if (!w)
		return;
	write_sample(w);
	/* 11 lines: the sample's 13 calls minus the repeated `@ 5` and the
	 * comment. */
	CHECK_U64(tracewrite_records(w), 11);
	CHECK_I64(tracewrite_close(w, &err), 0);
	CHECK_STR(slurp(path), sample_text);
	unlink(path);
}

static void test_gzip(void)
{
	struct ms_error err;
	const char *path = tmp_path(".trace.gz");
	struct trace_writer *w;
	unsigned char magic[2] = {0, 0};
	FILE *f;

	CHECK(sink_name_wants_gzip(path));
	CHECK(!sink_name_wants_gzip("x.trace"));
	CHECK(!sink_name_wants_gzip(".gz"));
	w = tracewrite_create(path, &tracewrite_text, SINK_GZIP, 1,
			      "{\"source\":\"test\"}", &err);
	CHECK(w != NULL);
	if (!w)
		return;
	write_sample(w);
	CHECK_I64(tracewrite_close(w, &err), 0);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f) {
		CHECK_U64(fread(magic, 1, 2, f), 2);
		fclose(f);
	}
	/* gzip magic 1f 8b (RFC 1952, section 2.3.1) */
	CHECK_U64(magic[0], 0x1f);
	CHECK_U64(magic[1], 0x8b);
	CHECK_STR(slurp(path), sample_text);
	unlink(path);
}

/* Every version-2 line, with the calls that make them. */
static void write_v2_sample(struct trace_writer *w)
{
	static const uint64_t one[] = { 1 };
	static const uint64_t two[] = { 1, 18446744073709551615u };

	CHECK_I64(tracewrite_site(w, 1, 0, "main@a.c:1"), 0);
	CHECK_I64(tracewrite_site(w, 7, 1, "f%20g@a.c:2"), 0);
	CHECK_I64(tracewrite_alloc(w, 1, 16, "list", 7), 0);
	CHECK_I64(tracewrite_alloc(w, 2, 0, NULL, 1), 0);
	CHECK_I64(tracewrite_resize(w, 2, 32, 7), 0);
	CHECK_I64(tracewrite_resize(w, 2, 48, 0), 0);
	CHECK_I64(tracewrite_mark(w, "burst"), 0);
	CHECK_I64(tracewrite_gc_begin(w, 2), 0);
	CHECK_I64(tracewrite_free(w, 2), 0);
	CHECK_I64(tracewrite_gc_end(w), 0);
	CHECK_I64(tracewrite_snapshot(w), 0);
	CHECK_I64(tracewrite_refs(w, 0, one, 1), 0);
	CHECK_I64(tracewrite_comment(w, "between"), 0);  /* the snapshot goes on */
	CHECK_I64(tracewrite_refs(w, 1, two, 2), 0);
	CHECK_I64(tracewrite_time(w, 5), 0);
	CHECK_I64(tracewrite_free(w, 1), 0);
}

static const char v2_text[] =
	"#memsim-trace 2 {\"level\":\"object\"}\n"
	"k 1 0 main@a.c:1\n"
	"k 7 1 f%20g@a.c:2\n"
	"a 1 16 list ^7\n"
	"a 2 0 ^1\n"
	"r 2 32 ^7\n"
	"r 2 48\n"
	"m burst\n"
	"g 2\n"
	"f 2\n"
	"g\n"
	"h\n"
	"e 0 1\n"
	"# between\n"
	"e 1 1 18446744073709551615\n"
	"@ 5\n"
	"f 1\n";

static void test_v2_text(void)
{
	struct ms_error err;
	const char *path = tmp_path(".v2.trace");
	struct trace_writer *w = tracewrite_create(path, &tracewrite_text, 0, 2,
						   "{\"level\":\"object\"}", &err);

	CHECK(w != NULL);
	if (!w)
		return;
	write_v2_sample(w);
	CHECK_U64(tracewrite_records(w), 15);   /* lines but the header and comment */
	CHECK_I64(tracewrite_close(w, &err), 0);
	CHECK_STR(slurp(path), v2_text);
	unlink(path);
}

/* The same calls to the binary form, read back and written as text
 * through tracewrite_put: the text above without its comment. */
static void test_v2_binary_put(void)
{
	struct ms_error err;
	const char *bin = "/tmp/test_tracewrite.v2.msb";
	const char *path = tmp_path(".v2b.trace");
	struct trace_writer *w = tracewrite_create(bin, &tracewrite_binary, 0, 2,
						   "{\"level\":\"object\"}", &err);
	struct trace_reader *r;
	struct trace_names names;
	struct event ev;
	char expect[sizeof v2_text];
	char *cut;

	CHECK(w != NULL);
	if (!w)
		return;
	write_v2_sample(w);
	CHECK_I64(tracewrite_close(w, &err), 0);
	r = trace_open(bin, &err);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_U64(trace_version(r), 2);
	CHECK_U64(trace_level(r), TRACE_LEVEL_OBJECT);
	names = (struct trace_names){ trace_types(r), trace_sites(r), trace_labels(r) };
	w = tracewrite_create(path, &tracewrite_text, 0, trace_version(r),
			      trace_metadata(r), &err);
	while (trace_next(r, &ev, &err) > 0)
		CHECK_I64(tracewrite_put(w, &ev, &names), 0);
	CHECK_I64(tracewrite_close(w, &err), 0);
	trace_close(r);
	memcpy(expect, v2_text, sizeof v2_text);
	cut = strstr(expect, "# between\n");
	memmove(cut, cut + 10, strlen(cut + 10) + 1);
	CHECK_STR(slurp(path), expect);
	unlink(bin);
	unlink(path);
}

/* An `e` line of 300000 DSTs (2.1 MB of text, more than the reader's
 * 1 MiB buffer) in both forms: every DST comes back in order. */
static void test_long_refs(void)
{
	enum { N = 300000 };
	const struct tracewrite_form *forms[] = { &tracewrite_text, &tracewrite_binary };
	uint64_t *dst = malloc(N * sizeof *dst);

	for (uint64_t i = 0; i < N; i++)
		dst[i] = 1000000 + i * 7 % 999983;
	for (int f = 0; f < 2; f++) {
		const char *path = tmp_path(f ? ".long.msb" : ".long.trace");
		struct ms_error err;
		struct trace_writer *w = tracewrite_create(path, forms[f], 0, 2, NULL, &err);
		struct trace_reader *r;
		struct event ev;
		uint64_t k = 0, bad = 0, refs = 0, after = 0;

		CHECK_I64(tracewrite_snapshot(w), 0);
		CHECK_I64(tracewrite_refs(w, 5, dst, N), 0);
		CHECK_I64(tracewrite_refs(w, 6, dst, 64), 0);   /* one whole chunk */
		CHECK_I64(tracewrite_safepoint(w), 0);
		CHECK_I64(tracewrite_close(w, &err), 0);
		r = trace_open(path, &err);
		ms_error_clear(&err);
		while (r && trace_next(r, &ev, &err) > 0) {
			if (ev.kind == EVENT_SNAP_REFS) {
				refs++;
				k = 0;
			} else if (ev.kind == EVENT_SNAP_EDGE) {
				bad += ev.id != (refs == 1 ? 5u : 6u) || ev.u.dst != dst[k];
				k++;
			} else {
				after += ev.kind == EVENT_SAFEPOINT;
			}
		}
		CHECK_U64(err.code, 0);
		CHECK_U64(refs, 2);
		CHECK_U64(k, 64);
		CHECK_U64(bad, 0);
		CHECK_U64(after, 1);
		/* 4 lines: h, two e, s; 2 + N + 64 + 1 events. */
		CHECK_U64(r ? trace_event_count(r) : 0, 4 + N + 64);
		trace_close(r);
		unlink(path);
	}
	free(dst);
}

static void test_bare_header_and_many_lines(void)
{
	struct ms_error err;
	const char *path = tmp_path(".big.trace");
	struct trace_writer *w = tracewrite_create(path, &tracewrite_text, 0, 1, NULL, &err);
	FILE *f;
	long size;

	CHECK(w != NULL);
	if (!w)
		return;
	/* 100000 lines "a N 7\n" and "f N\n" for N = 1..50000 cross the
	 * 64 KiB staging buffer and the sink's 256 KiB buffer several
	 * times. */
	for (uint64_t i = 1; i <= 50000; i++) {
		tracewrite_alloc(w, i, 7, NULL, 0);
		tracewrite_free(w, i);
	}
	CHECK_I64(tracewrite_close(w, &err), 0);
	f = fopen(path, "rb");
	if (!f) {
		CHECK(f != NULL);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	/* Header 16 bytes ("#memsim-trace 1\n"). Digits of N: 9 one-digit,
	 * 90 two-, 900 three-, 9000 four-, 40001 five-digit numbers:
	 * 9 + 180 + 2700 + 36000 + 200005 = 238894 digits, each written
	 * twice. Fixed bytes: "a " " 7\n" = 5 and "f " "\n" = 3 per N. */
	CHECK_I64(size, 16 + 2 * 238894 + 8 * 50000);
	unlink(path);
}

/* A FRAME longer than the text writer's 64 KiB stage and the reader's
 * 1 MiB buffer goes out and comes back whole in both forms. */
static void test_long_frame(void)
{
	enum { N = 3 << 20 };
	const struct tracewrite_form *forms[] = { &tracewrite_text, &tracewrite_binary };
	char *frame = malloc(N + 1);

	for (size_t i = 0; i < N; i++)
		frame[i] = (char)('a' + i % 26);
	frame[N] = '\0';
	for (int f = 0; f < 2; f++) {
		const char *path = tmp_path(f ? ".frame.msb" : ".frame.trace");
		struct ms_error err;
		struct trace_writer *w = tracewrite_create(path, forms[f], SINK_GZIP, 2, NULL, &err);
		struct trace_reader *r;
		struct event ev;
		int got = 0;

		CHECK_I64(tracewrite_site(w, 3, 0, frame), 0);
		CHECK_I64(tracewrite_alloc(w, 1, 8, NULL, 3), 0);
		CHECK_I64(tracewrite_close(w, &err), 0);
		r = trace_open(path, &err);
		ms_error_clear(&err);
		while (r && trace_next(r, &ev, &err) > 0)
			got += ev.kind == EVENT_ALLOC && ev.site == 1;
		CHECK_U64(err.code, 0);
		CHECK_I64(got, 1);
		CHECK(r && strcmp(sitetab_frame(trace_sites(r), 1), frame) == 0);
		trace_close(r);
		unlink(path);
	}
	free(frame);
}

/* Each call breaking a rule fails with 70 and its message, the same in
 * both forms; the writer then stays failed. */
#define CONTRACT(version, call, expect) do { \
	for (int f_ = 0; f_ < 2; f_++) { \
		struct trace_writer *w = tracewrite_create(path, forms[f_], 0, \
							   (version), NULL, &err); \
		int rc_ = (call); \
		CHECK_I64(rc_, MS_EXIT_SOFTWARE); \
		CHECK_STR(tracewrite_error(w) ? tracewrite_error(w)->msg : "(none)", \
			  expect); \
		CHECK_I64(tracewrite_free(w, 3), MS_EXIT_SOFTWARE); \
		CHECK_I64(tracewrite_close(w, &err), MS_EXIT_SOFTWARE); \
		CHECK_STR(err.msg, expect); \
		CHECK_STR(err.file, path); \
	} \
} while (0)

/* The same for errors found when the writer is closed. */
#define CONTRACT_AT_CLOSE(version, calls, expect) do { \
	for (int f_ = 0; f_ < 2; f_++) { \
		struct trace_writer *w = tracewrite_create(path, forms[f_], 0, \
							   (version), NULL, &err); \
		calls; \
		CHECK_I64(tracewrite_close(w, &err), MS_EXIT_SOFTWARE); \
		CHECK_STR(err.msg, expect); \
	} \
} while (0)

static void test_contract_errors(void)
{
	const struct tracewrite_form *forms[] = { &tracewrite_text, &tracewrite_binary };
	const char *path = tmp_path(".err.trace");
	static const uint64_t zero[] = { 0 }, one[] = { 1 };
	struct ms_error err;

	CONTRACT(1, tracewrite_alloc(w, 0, 8, NULL, 0),
		 "ID 0 is the root set and cannot be allocated");
	CONTRACT(1, tracewrite_free(w, 0), "ID 0 is the root set and cannot be freed");
	CONTRACT(1, tracewrite_resize(w, 0, 8, 0), "ID 0 is the root set and cannot be resized");
	CONTRACT(1, tracewrite_ref_add(w, 3, 0),
		 "ID 0 is the root set and cannot be referenced");
	CONTRACT(1, tracewrite_alloc(w, 1, 281474976710656u, NULL, 0),
		 "size 281474976710656 exceeds the 48-bit limit");
	CONTRACT(1, tracewrite_resize(w, 1, 281474976710656u, 0),
		 "size 281474976710656 exceeds the 48-bit limit");
	CONTRACT(1, tracewrite_alloc(w, 1, 8, "9lives", 0), "bad type name '9lives'");
	CONTRACT(1, tracewrite_alloc(w, 1, 8,
		"a234567890123456789012345678901234567890123456789012345678901234", 0),
		"type name longer than 63 characters");
	CONTRACT(1, (tracewrite_time(w, 10), tracewrite_time(w, 9)),
		 "time goes backwards (9 after 10)");
	CONTRACT(1, tracewrite_comment(w, "two\nlines"), "a comment must be one line");
	/* Version-2 lines in a version-1 trace. */
	CONTRACT(1, tracewrite_site(w, 1, 0, "f"), "version-2 line 'k' in a version-1 trace");
	CONTRACT(1, tracewrite_alloc(w, 1, 8, NULL, 3),
		 "version-2 field '^3' in a version-1 trace");
	CONTRACT(1, tracewrite_mark(w, "x"), "version-2 line 'm' in a version-1 trace");
	CONTRACT(1, tracewrite_gc_begin(w, 0), "version-2 line 'g' in a version-1 trace");
	CONTRACT(1, tracewrite_snapshot(w), "version-2 line 'h' in a version-1 trace");
	/* Version 2: stack nodes. */
	CONTRACT(2, tracewrite_site(w, 0, 0, "f"),
		 "SITE 0 is the outermost caller; stack nodes are numbered from 1");
	CONTRACT(2, (tracewrite_site(w, 1, 0, "f"), tracewrite_site(w, 1, 0, "g")),
		 "stack node 1 is already defined");
	CONTRACT(2, tracewrite_site(w, 2, 9, "f"), "parent 9 of stack node 2 is not defined");
	CONTRACT(2, tracewrite_site(w, 2, 0, "a b"), "raw space in FRAME (write it as %20)");
	CONTRACT(2, tracewrite_site(w, 2, 0, "a%4Gb"),
		 "bad escape '%4G' in FRAME (a '%' starts %XX with two hex digits)");
	CONTRACT(2, tracewrite_site(w, 2, 0, "a%4"),
		 "bad escape '%4' in FRAME (a '%' starts %XX with two hex digits)");
	CONTRACT(2, tracewrite_site(w, 2, 0, "x^y"), "raw '^' in FRAME (write it as %5E)");
	CONTRACT(2, tracewrite_site(w, 2, 0, "caf\xc3\xa9"),
		 "byte 0xc3 in FRAME (write it as %C3)");
	CONTRACT(2, tracewrite_site(w, 2, 0, ""), "empty FRAME");
	CONTRACT(2, tracewrite_alloc(w, 1, 8, NULL, 5), "stack node 5 is used before its 'k' line");
	CONTRACT(2, tracewrite_resize(w, 1, 8, 5), "stack node 5 is used before its 'k' line");
	/* Marks. */
	CONTRACT(2, tracewrite_mark(w, "9x"), "bad mark label '9x'");
	CONTRACT(2, tracewrite_mark(w,
		"a234567890123456789012345678901234567890123456789012345678901234"),
		"mark label longer than 63 characters");
	/* Recorded collections. */
	CONTRACT(2, (tracewrite_gc_begin(w, 1), tracewrite_gc_begin(w, 0)),
		 "nested 'g': the recorded collection of generation 1 is still open");
	CONTRACT(2, tracewrite_gc_end(w),
		 "'g' without GEN ends a recorded collection, but none is open");
	CONTRACT_AT_CLOSE(2, tracewrite_gc_begin(w, 0),
		"the recorded collection of generation 0 is never closed (no 'g' before the end of the trace)");
	/* Snapshots. */
	CONTRACT(2, tracewrite_refs(w, 1, one, 1),
		 "'e' outside a heap snapshot (it must follow 'h' or another 'e')");
	CONTRACT(2, (tracewrite_snapshot(w), tracewrite_safepoint(w),
		     tracewrite_refs(w, 1, one, 1)),
		 "'e' outside a heap snapshot (it must follow 'h' or another 'e')");
	CONTRACT(2, (tracewrite_snapshot(w), tracewrite_refs(w, 1, one, 0)),
		 "an 'e' line needs at least one DST");
	CONTRACT(2, (tracewrite_snapshot(w), tracewrite_refs(w, 1, zero, 1)),
		 "ID 0 is the root set and cannot be referenced");
	unlink(path);
}

static void test_start_errors(void)
{
	struct ms_error err;
	const char *path = tmp_path(".start.trace");

	unlink(path);
	CHECK(tracewrite_create(path, &tracewrite_text, 0, 1, "{\n}", &err) == NULL);
	CHECK_I64(err.code, MS_EXIT_SOFTWARE);
	CHECK_STR(err.msg, "trace metadata must be a one-line JSON object text, from '{' to '}', of at most 16777216 bytes");
	CHECK(tracewrite_create(path, &tracewrite_binary, 0, 1, "[]", &err) == NULL);
	CHECK_STR(err.msg, "trace metadata must be a one-line JSON object text, from '{' to '}', of at most 16777216 bytes");
	CHECK(tracewrite_create(path, &tracewrite_binary, 0, 1, "{x}", &err) == NULL);
	CHECK_STR(err.msg, "trace metadata is not a valid JSON object");
	CHECK(tracewrite_create(path, &tracewrite_text, 0, 3, NULL, &err) == NULL);
	CHECK_STR(err.msg, "unsupported trace version 3");
	CHECK(tracewrite_create(path, &tracewrite_text, 0, 0, NULL, &err) == NULL);
	CHECK_STR(err.msg, "unsupported trace version 0");
	/* None of these created the file. */
	CHECK(access(path, F_OK) != 0);
	CHECK(tracewrite_form_of("a.msb") == &tracewrite_binary);
	CHECK(tracewrite_form_of("a.msb.gz") == &tracewrite_binary);
	CHECK(tracewrite_form_of("a.trace.gz") == &tracewrite_text);
	CHECK(tracewrite_form_of("-") == &tracewrite_text);
	CHECK(tracewrite_form_of(".msb") == &tracewrite_text);
}

static void test_io_errors(void)
{
	const struct tracewrite_form *forms[] = { &tracewrite_text, &tracewrite_binary };
	struct ms_error err;

	ms_error_clear(&err);
	CHECK(tracewrite_create("/nonexistent-dir/x.trace", &tracewrite_text, 0, 1,
				NULL, &err) == NULL);
	CHECK_I64(err.code, MS_EXIT_IOERR);
	CHECK_STR(err.file, "/nonexistent-dir/x.trace");
	CHECK_STR(err.msg, "cannot create: No such file or directory");

	/* /dev/full accepts the open and fails every write with ENOSPC. */
	if (access("/dev/full", W_OK) != 0) {
		TEST_SKIP("no /dev/full");
		return;
	}
	for (int f = 0; f < 2; f++) {
		struct trace_writer *w = tracewrite_create("/dev/full", forms[f], 0, 1,
							   NULL, &err);

		CHECK(w != NULL);
		if (!w)
			return;
		tracewrite_alloc(w, 1, 1, NULL, 0);
		CHECK_I64(tracewrite_close(w, &err), MS_EXIT_IOERR);
		CHECK_STR(err.msg, "cannot write: No space left on device");
	}
}

int main(void)
{
	TEST_RUN(test_plain);
	TEST_RUN(test_gzip);
	TEST_RUN(test_v2_text);
	TEST_RUN(test_v2_binary_put);
	TEST_RUN(test_long_refs);
	TEST_RUN(test_bare_header_and_many_lines);
	TEST_RUN(test_long_frame);
	TEST_RUN(test_contract_errors);
	TEST_RUN(test_start_errors);
	TEST_RUN(test_io_errors);
	return test_done();
}
