/*
 * test_tracetext.c - the text trace writer produces exactly the lines of
 * docs/trace-format.md, plain and gzip, and refuses contract breaches.
 * (Events as a reader returns them, tracetext_put, are checked by
 * test_tracebin.c's round trip.)
 */
#include "tracetext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "test.h"

static char tmpl[64];

static const char *tmp_path(const char *suffix)
{
	snprintf(tmpl, sizeof tmpl, "/tmp/test_tracetext.%ld%s", (long)getpid(), suffix);
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

static void write_sample(struct tracetext_writer *w)
{
	CHECK_I64(tracetext_alloc(w, 1, 56, "list"), 0);
	CHECK_I64(tracetext_alloc(w, 2, 0, NULL), 0);
	CHECK_I64(tracetext_time(w, 5), 0);
	CHECK_I64(tracetext_time(w, 5), 0);        /* same time: no line */
	CHECK_I64(tracetext_ref_add(w, 1, 2), 0);
	CHECK_I64(tracetext_ref_drop(w, 0, 2), 0);
	CHECK_I64(tracetext_resize(w, 1, 281474976710655u), 0); /* 2^48-1 */
	CHECK_I64(tracetext_collect(w, EVENT_GEN_DEFAULT), 0);
	CHECK_I64(tracetext_collect(w, 2), 0);
	CHECK_I64(tracetext_safepoint(w), 0);
	CHECK_I64(tracetext_comment(w, "hello"), 0);
	CHECK_I64(tracetext_time(w, 18446744073709551615u), 0);
	CHECK_I64(tracetext_free(w, 18446744073709551615u), 0);
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
	struct tracetext_writer *w = tracetext_create(path, 0, "{\"source\":\"test\"}", &err);

	CHECK(w != NULL);
	if (!w)
		return;
	write_sample(w);
	/* 11 event lines: the sample's 13 calls minus the repeated `@ 5`
	 * and the comment. */
	CHECK_U64(tracetext_events(w), 11);
	CHECK_I64(tracetext_close(w, &err), 0);
	CHECK_STR(slurp(path), sample_text);
	unlink(path);
}

static void test_gzip(void)
{
	struct ms_error err;
	const char *path = tmp_path(".trace.gz");
	struct tracetext_writer *w;
	unsigned char magic[2] = {0, 0};
	FILE *f;

	CHECK(sink_name_wants_gzip(path));
	CHECK(!sink_name_wants_gzip("x.trace"));
	CHECK(!sink_name_wants_gzip(".gz"));
	w = tracetext_create(path, SINK_GZIP, "{\"source\":\"test\"}", &err);
	CHECK(w != NULL);
	if (!w)
		return;
	write_sample(w);
	CHECK_I64(tracetext_close(w, &err), 0);
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

static void test_bare_header_and_many_lines(void)
{
	struct ms_error err;
	const char *path = tmp_path(".big.trace");
	struct tracetext_writer *w = tracetext_create(path, 0, NULL, &err);
	FILE *f;
	long size;

	CHECK(w != NULL);
	if (!w)
		return;
	/* 100000 lines "a N 7\n" and "f N\n" for N = 1..50000 cross the
	 * 64 KiB staging buffer and the sink's 256 KiB buffer several
	 * times. */
	for (uint64_t i = 1; i <= 50000; i++) {
		tracetext_alloc(w, i, 7, NULL);
		tracetext_free(w, i);
	}
	CHECK_I64(tracetext_close(w, &err), 0);
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

static void test_contract_errors(void)
{
	struct ms_error err;
	const char *path = tmp_path(".err.trace");
	struct tracetext_writer *w;

	w = tracetext_create(path, 0, NULL, &err);
	CHECK_I64(tracetext_alloc(w, 0, 8, NULL), MS_EXIT_SOFTWARE);
	CHECK_STR(tracetext_error(w)->msg, "ID 0 (the root set) cannot be allocated");
	/* sticky: a valid event now fails the same way */
	CHECK_I64(tracetext_free(w, 3), MS_EXIT_SOFTWARE);
	CHECK_I64(tracetext_close(w, &err), MS_EXIT_SOFTWARE);
	CHECK_STR(err.file, path);

	w = tracetext_create(path, 0, NULL, &err);
	CHECK_I64(tracetext_alloc(w, 1, 281474976710656u, NULL), MS_EXIT_SOFTWARE);
	CHECK_STR(tracetext_error(w)->msg, "size does not fit in 48 bits");
	tracetext_close(w, NULL);

	w = tracetext_create(path, 0, NULL, &err);
	CHECK_I64(tracetext_alloc(w, 1, 8, "9lives"), MS_EXIT_SOFTWARE);
	CHECK_STR(tracetext_error(w)->msg, "type name is not [A-Za-z_][A-Za-z0-9_.]*");
	tracetext_close(w, NULL);

	w = tracetext_create(path, 0, NULL, &err);
	CHECK_I64(tracetext_alloc(w, 1, 8,
		"a234567890123456789012345678901234567890123456789012345678901234"),
		MS_EXIT_SOFTWARE);
	CHECK_STR(tracetext_error(w)->msg, "type name longer than 63 characters");
	tracetext_close(w, NULL);

	w = tracetext_create(path, 0, NULL, &err);
	CHECK_I64(tracetext_time(w, 10), 0);
	CHECK_I64(tracetext_time(w, 9), MS_EXIT_SOFTWARE);
	CHECK_STR(tracetext_error(w)->msg, "time going backwards");
	tracetext_close(w, NULL);

	CHECK(tracetext_create(path, 0, "{\n}", &err) == NULL);
	CHECK_I64(err.code, MS_EXIT_SOFTWARE);
	CHECK_STR(err.msg, "trace metadata must be one line");
	unlink(path);
}

static void test_io_errors(void)
{
	struct ms_error err;
	struct tracetext_writer *w;

	ms_error_clear(&err);
	CHECK(tracetext_create("/nonexistent-dir/x.trace", 0, NULL, &err) == NULL);
	CHECK_I64(err.code, MS_EXIT_IOERR);
	CHECK_STR(err.file, "/nonexistent-dir/x.trace");
	CHECK_STR(err.msg, "cannot create: No such file or directory");

	/* /dev/full accepts the open and fails every write with ENOSPC. */
	if (access("/dev/full", W_OK) != 0) {
		TEST_SKIP("no /dev/full");
		return;
	}
	w = tracetext_create("/dev/full", 0, NULL, &err);
	CHECK(w != NULL);
	if (!w)
		return;
	tracetext_alloc(w, 1, 1, NULL);
	CHECK_I64(tracetext_close(w, &err), MS_EXIT_IOERR);
	CHECK_STR(err.msg, "cannot write: No space left on device");
}

int main(void)
{
	TEST_RUN(test_plain);
	TEST_RUN(test_gzip);
	TEST_RUN(test_bare_header_and_many_lines);
	TEST_RUN(test_contract_errors);
	TEST_RUN(test_io_errors);
	return test_done();
}
