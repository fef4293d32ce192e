/*
 * test_trace.c - the streaming trace reader (sim/trace.c).
 *
 * Traces are written to files in a fresh temporary directory (the tests
 * chdir there, so messages name "t.trace"), parsed, and compared with the
 * fields and the exact messages listed in docs/trace-format.md. Expected
 * values come from the format itself: e.g. 2^64 - 1 = 18446744073709551615
 * = 0xffffffffffffffff, 2^48 - 1 = 281474976710655 = 0xffffffffffff.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "sitetab.h"
#include "test.h"
#include "typetab.h"

#define MIB ((size_t)1 << 20)
#define LINE_MAX_BYTES ((size_t)16 << 20)	/* the reader's limit */

static char tmpdir[64];

static void write_file(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(name, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		printf("# cannot write %s\n", name);
		exit(2);
	}
}

static void write_str(const char *name, const char *data)
{
	write_file(name, data, strlen(data));
}

/* Reads every event of `name`; returns the number read before the end or
 * the first error; *status gets 0 (end) or -1 (error, formatted in msg,
 * code in *code). A failure must repeat on the next call. */
static uint64_t drain(const char *name, int *status, char *msg, size_t size,
		      int *code)
{
	struct ms_error err;
	struct event ev;
	struct trace_reader *r;
	uint64_t n = 0;
	int got;

	ms_error_clear(&err);
	msg[0] = '\0';
	*code = 0;
	r = trace_open(name, &err);
	if (!r) {
		ms_error_format(&err, msg, size);
		*code = err.code;
		*status = -1;
		return 0;
	}
	while ((got = trace_next(r, &ev, &err)) == 1)
		n++;
	*status = got;
	if (got < 0) {
		char again[512];
		struct ms_error err2;

		ms_error_format(&err, msg, size);
		*code = err.code;
		ms_error_clear(&err2);
		CHECK_I64(trace_next(r, &ev, &err2), -1);
		ms_error_format(&err2, again, sizeof again);
		CHECK_STR(again, msg);
	} else {
		CHECK_I64(trace_next(r, &ev, &err), 0);
	}
	CHECK_U64(trace_event_count(r), n);
	trace_close(r);
	return n;
}

/* Writes `text` to t.trace and checks that reading it fails with exactly
 * `expected` (as ms_error_format prints it) and exit code 65. */
static void expect_error_at(const char *text, const char *expected, int line)
{
	char msg[512];
	int status, code;

	write_str("t.trace", text);
	drain("t.trace", &status, msg, sizeof msg, &code);
	if (status != -1 || strcmp(msg, expected) != 0 || code != MS_EXIT_DATAERR)
		printf("# from line %d\n", line);
	CHECK_I64(status, -1);
	CHECK_STR(msg, expected);
	CHECK_I64(code, MS_EXIT_DATAERR);
}
#define EXPECT_ERROR(text, expected) expect_error_at(text, expected, __LINE__)

/* Writes `text` and checks that it reads to the end with `events` events. */
static void expect_ok_at(const char *text, uint64_t events, int line)
{
	char msg[512];
	int status, code;
	uint64_t n;

	write_str("t.trace", text);
	n = drain("t.trace", &status, msg, sizeof msg, &code);
	if (status != 0)
		printf("# from line %d: %s\n", line, msg);
	CHECK_I64(status, 0);
	CHECK_U64(n, events);
}
#define EXPECT_OK(text, events) expect_ok_at(text, events, __LINE__)

static struct trace_reader *open_ok(const char *name)
{
	struct ms_error err;
	struct trace_reader *r;

	ms_error_clear(&err);
	r = trace_open(name, &err);
	if (!r) {
		char msg[512];

		ms_error_format(&err, msg, sizeof msg);
		printf("# open %s failed: %s\n", name, msg);
		exit(2);
	}
	return r;
}

/* Reads one event and checks its kind and fields. */
static void expect_event_at(struct trace_reader *r, enum event_kind kind,
			    uint64_t id, uint64_t u, const char *type, int line)
{
	struct event ev;
	struct ms_error err;
	int got;

	memset(&ev, 0xa5, sizeof ev);
	ms_error_clear(&err);
	got = trace_next(r, &ev, &err);
	if (got != 1 || ev.kind != kind || ev.id != id || ev.u.size != u)
		printf("# from line %d (%s)\n", line, err.msg);
	CHECK_I64(got, 1);
	CHECK_I64(ev.kind, kind);
	CHECK_U64(ev.id, id);
	CHECK_U64(ev.u.size, u);
	CHECK_STR(typetab_name(trace_types(r), ev.type), type);
}
#define EXPECT_EVENT(r, kind, id, u, type) \
	expect_event_at(r, kind, id, u, type, __LINE__)

static void expect_end(struct trace_reader *r)
{
	struct event ev;
	struct ms_error err;

	ms_error_clear(&err);
	CHECK_I64(trace_next(r, &ev, &err), 0);
	CHECK_I64(trace_next(r, &ev, &err), 0);
}

/* ---- events ---- */

static void test_kind_letters(void)
{
	CHECK_I64(event_letter(EVENT_ALLOC), 'a');
	CHECK_I64(event_letter(EVENT_FREE), 'f');
	CHECK_I64(event_letter(EVENT_RESIZE), 'r');
	CHECK_I64(event_letter(EVENT_REF_ADD), '+');
	CHECK_I64(event_letter(EVENT_REF_DROP), '-');
	CHECK_I64(event_letter(EVENT_COLLECT), 'c');
	CHECK_I64(event_letter(EVENT_SAFEPOINT), 's');
	CHECK_I64(event_letter(EVENT_TIME), '@');
}

static void test_every_event(void)
{
	struct trace_reader *r;
	struct ms_error err;

	write_str("t.trace",
		  "#memsim-trace 1 {\"source\":\"hand-written\",\"n\":[1,2]}\n"
		  "# a comment\n"
		  "\n"
		  "a 1 56 list\n"
		  "a\t0x2\t\t0x38 list\r\n"
		  "   \t\n"
		  "a 3 0\n"
		  "+ 1 2\n"
		  "- 0 1\n"
		  "  r  3   4096  \n"
		  "f 0x3\r\n"
		  "c\n"
		  "c 2\n"
		  "c 0\t \n"
		  "s\n"
		  "@ 0\n"
		  "@ 0x10\n"
		  "@ 16\n"
		  "a 4 8 _private.Node_2\n"
		  "#memsim-traced is only a comment\n"
		  "+ 4 4");		/* no final newline */
	r = open_ok("t.trace");
	CHECK_STR(trace_name(r), "t.trace");
	CHECK_STR(trace_metadata(r), "{\"source\":\"hand-written\",\"n\":[1,2]}");
	CHECK_I64(trace_has_time(r), 0);
	EXPECT_EVENT(r, EVENT_ALLOC, 1, 56, "list");
	EXPECT_EVENT(r, EVENT_ALLOC, 2, 56, "list");
	EXPECT_EVENT(r, EVENT_ALLOC, 3, 0, "");
	EXPECT_EVENT(r, EVENT_REF_ADD, 1, 2, "");
	EXPECT_EVENT(r, EVENT_REF_DROP, 0, 1, "");
	EXPECT_EVENT(r, EVENT_RESIZE, 3, 4096, "");
	/* The located text is the whole line, blanks kept, ending cut. */
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_STR(err.file, "t.trace");
	CHECK_U64(err.line, 10);
	CHECK_STR(err.text, "  r  3   4096  ");
	EXPECT_EVENT(r, EVENT_FREE, 3, 0, "");
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_U64(err.line, 11);
	CHECK_STR(err.text, "f 0x3");
	EXPECT_EVENT(r, EVENT_COLLECT, 0, EVENT_GEN_DEFAULT, "");
	EXPECT_EVENT(r, EVENT_COLLECT, 0, 2, "");
	EXPECT_EVENT(r, EVENT_COLLECT, 0, 0, "");
	EXPECT_EVENT(r, EVENT_SAFEPOINT, 0, 0, "");
	EXPECT_EVENT(r, EVENT_TIME, 0, 0, "");
	CHECK_I64(trace_has_time(r), 1);
	EXPECT_EVENT(r, EVENT_TIME, 0, 16, "");
	EXPECT_EVENT(r, EVENT_TIME, 0, 16, "");
	EXPECT_EVENT(r, EVENT_ALLOC, 4, 8, "_private.Node_2");
	EXPECT_EVENT(r, EVENT_REF_ADD, 4, 4, "");
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_U64(err.line, 21);
	CHECK_STR(err.text, "+ 4 4");
	expect_end(r);
	/* "list" was interned first, then "_private.Node_2". */
	CHECK_U64(typetab_count(trace_types(r)), 3);
	CHECK_U64(typetab_find(trace_types(r), "list"), 1);
	CHECK_U64(trace_event_count(r), 16);
	CHECK_U64(trace_file_size(r), trace_bytes_read(r));
	trace_close(r);
}

static void test_header_variants(void)
{
	struct trace_reader *r;

	write_str("t.trace", "#memsim-trace 1\nf 1\n");
	r = open_ok("t.trace");
	CHECK(trace_metadata(r) == NULL);
	EXPECT_EVENT(r, EVENT_FREE, 1, 0, "");
	expect_end(r);
	trace_close(r);

	/* Trailing blanks after the version and after the object are cut. */
	write_str("t.trace", "#memsim-trace 1 {} \t\r\n");
	r = open_ok("t.trace");
	CHECK_STR(trace_metadata(r), "{}");
	expect_end(r);
	trace_close(r);

	write_str("t.trace", "#memsim-trace 0x1 \r\n@ 5\n");
	r = open_ok("t.trace");
	CHECK(trace_metadata(r) == NULL);
	EXPECT_EVENT(r, EVENT_TIME, 0, 5, "");
	trace_close(r);

	/* Not a header: a comment on line 1. */
	write_str("t.trace", "#memsim-trace2\n# x\n");
	r = open_ok("t.trace");
	CHECK(trace_metadata(r) == NULL);
	expect_end(r);
	trace_close(r);
}

static void test_empty_and_header_only(void)
{
	EXPECT_OK("", 0);
	EXPECT_OK("\n", 0);
	EXPECT_OK("\r\n\r\n", 0);
	EXPECT_OK("#memsim-trace 1", 0);
	EXPECT_OK("#memsim-trace 1 {\"command\":\"python3 x.py\"}\n", 0);
	EXPECT_OK("# only\n#comments\n\n", 0);
	EXPECT_OK("f 1\r", 1);		/* "\r" before the end of the file */
	/* Comments may hold any byte but NUL. */
	EXPECT_OK("# caf\xc3\xa9 \x01\x7f\r\n", 0);
}

static void test_id_limits(void)
{
	struct trace_reader *r;

	write_str("t.trace",
		  "a 18446744073709551615 1\n"
		  "f 0xffffffffffffffff\n"
		  "f 0xFFFFFFFFFFFFFFFF\n"
		  "+ 0 000000000000000000000000000018446744073709551615\n"
		  "- 1 0x0000000000000000000001\n"
		  "a 18446744073709551610 1\n");
	r = open_ok("t.trace");
	EXPECT_EVENT(r, EVENT_ALLOC, UINT64_MAX, 1, "");
	EXPECT_EVENT(r, EVENT_FREE, UINT64_MAX, 0, "");
	EXPECT_EVENT(r, EVENT_FREE, UINT64_MAX, 0, "");
	EXPECT_EVENT(r, EVENT_REF_ADD, 0, UINT64_MAX, "");
	EXPECT_EVENT(r, EVENT_REF_DROP, 1, 1, "");
	EXPECT_EVENT(r, EVENT_ALLOC, UINT64_MAX - 5, 1, "");
	expect_end(r);
	trace_close(r);

	EXPECT_ERROR("a 18446744073709551616 8\n",
		     "t.trace:1: ID 18446744073709551616 does not fit in 64 bits: "
		     "\"a 18446744073709551616 8\"");
	EXPECT_ERROR("f 18446744073709551620\n",
		     "t.trace:1: ID 18446744073709551620 does not fit in 64 bits: "
		     "\"f 18446744073709551620\"");
	EXPECT_ERROR("f 184467440737095516150\n",
		     "t.trace:1: ID 184467440737095516150 does not fit in 64 bits: "
		     "\"f 184467440737095516150\"");
	EXPECT_ERROR("+ 1 0x10000000000000000\n",
		     "t.trace:1: ID 0x10000000000000000 does not fit in 64 bits: "
		     "\"+ 1 0x10000000000000000\"");
}

static void test_size_limits(void)
{
	struct trace_reader *r;

	write_str("t.trace",
		  "a 1 281474976710655 x\n"
		  "r 1 0xffffffffffff\n");
	r = open_ok("t.trace");
	EXPECT_EVENT(r, EVENT_ALLOC, 1, EVENT_SIZE_MAX, "x");
	EXPECT_EVENT(r, EVENT_RESIZE, 1, UINT64_C(281474976710655), "");
	expect_end(r);
	trace_close(r);

	EXPECT_ERROR("a 1 281474976710656\n",
		     "t.trace:1: size 281474976710656 exceeds the 48-bit limit: "
		     "\"a 1 281474976710656\"");
	EXPECT_ERROR("r 1 0x1000000000000\n",
		     "t.trace:1: size 0x1000000000000 exceeds the 48-bit limit: "
		     "\"r 1 0x1000000000000\"");
	EXPECT_ERROR("a 1 99999999999999999999999\n",
		     "t.trace:1: size 99999999999999999999999 exceeds the 48-bit limit: "
		     "\"a 1 99999999999999999999999\"");
}

/* More names than the reader's type cache has slots, revisited in another
 * order: every event must still carry its own name. */
static void test_many_types(void)
{
	FILE *f = fopen("t.trace", "w");
	struct trace_reader *r;
	struct event ev;
	struct ms_error err;
	char want[32];
	int bad = 0;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 1000; i++)
			fprintf(f, "a %d 8 T%d\n", pass * 1000 + i + 1,
				pass ? 999 - i : i);
	fclose(f);
	r = open_ok("t.trace");
	ms_error_clear(&err);
	for (int n = 0; n < 2000; n++) {
		CHECK_I64(trace_next(r, &ev, &err), 1);
		snprintf(want, sizeof want, "T%d", n < 1000 ? n : 1999 - n);
		bad += strcmp(typetab_name(trace_types(r), ev.type), want) != 0;
	}
	CHECK_I64(bad, 0);
	/* Untyped, then 1000 names numbered by first appearance. */
	CHECK_U64(typetab_count(trace_types(r)), 1001);
	CHECK_U64(typetab_find(trace_types(r), "T0"), 1);
	CHECK_U64(typetab_find(trace_types(r), "T999"), 1000);
	expect_end(r);
	trace_close(r);
}

/* "-" reads standard input and says "<stdin>" in messages. */
static void test_stdin_name(void)
{
	int saved = dup(STDIN_FILENO), fd;
	char msg[512];
	int status, code;

	write_str("t.trace", "f 1\nx\n");
	fd = open("t.trace", O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	CHECK_U64(drain("-", &status, msg, sizeof msg, &code), 1);
	CHECK_STR(msg, "<stdin>:2: unknown event 'x': \"x\"");
	dup2(saved, STDIN_FILENO);
	close(saved);
}

/* ---- one test per error class ---- */

static void test_error_unknown_event(void)
{
	EXPECT_ERROR("a 1 8\nf 1\nx 1 2\n",
		     "t.trace:3: unknown event 'x': \"x 1 2\"");
	EXPECT_ERROR("ab 1 2\n", "t.trace:1: unknown event 'ab': \"ab 1 2\"");
	EXPECT_ERROR("A 1 2\n", "t.trace:1: unknown event 'A': \"A 1 2\"");
	/* '#' starts a comment only in the first column. */
	EXPECT_ERROR("  # indented\n",
		     "t.trace:1: unknown event '#': \"  # indented\"");
	EXPECT_ERROR("\rf 1\n",
		     "t.trace:1: unknown event '\\x0df': \"\\x0df 1\"");
}

static void test_error_field_count(void)
{
	EXPECT_ERROR("a\n", "t.trace:1: 'a' needs ID SIZE [TYPE]: \"a\"");
	EXPECT_ERROR("a 1\n", "t.trace:1: 'a' needs ID SIZE [TYPE]: \"a 1\"");
	EXPECT_ERROR("a 1 2 list extra\n",
		     "t.trace:1: 'a' needs ID SIZE [TYPE]: \"a 1 2 list extra\"");
	EXPECT_ERROR("f\r\n", "t.trace:1: 'f' needs ID: \"f\"");
	EXPECT_ERROR("f 1 2\n", "t.trace:1: 'f' needs ID: \"f 1 2\"");
	EXPECT_ERROR("r 1\n", "t.trace:1: 'r' needs ID SIZE: \"r 1\"");
	EXPECT_ERROR("r 1 2 3\n", "t.trace:1: 'r' needs ID SIZE: \"r 1 2 3\"");
	EXPECT_ERROR("+ 1\n", "t.trace:1: '+' needs SRC DST: \"+ 1\"");
	EXPECT_ERROR("- 1 2 3\n", "t.trace:1: '-' needs SRC DST: \"- 1 2 3\"");
	EXPECT_ERROR("c 1 2\n",
		     "t.trace:1: 'c' takes at most one field (GEN): \"c 1 2\"");
	EXPECT_ERROR("s 1\n", "t.trace:1: 's' takes no fields: \"s 1\"");
	EXPECT_ERROR("s x\n", "t.trace:1: 's' takes no fields: \"s x\"");
	EXPECT_ERROR("@\n", "t.trace:1: '@' needs T: \"@\"");
	EXPECT_ERROR("@ 1 2\n", "t.trace:1: '@' needs T: \"@ 1 2\"");
}

static void test_error_bad_number(void)
{
	EXPECT_ERROR("f 12z\n", "t.trace:1: bad number '12z': \"f 12z\"");
	EXPECT_ERROR("f 0x\n", "t.trace:1: bad number '0x': \"f 0x\"");
	EXPECT_ERROR("f 0xg1\n", "t.trace:1: bad number '0xg1': \"f 0xg1\"");
	EXPECT_ERROR("f 0X1F\n", "t.trace:1: bad number '0X1F': \"f 0X1F\"");
	EXPECT_ERROR("f -1\n", "t.trace:1: bad number '-1': \"f -1\"");
	EXPECT_ERROR("a 1 +8\n", "t.trace:1: bad number '+8': \"a 1 +8\"");
	EXPECT_ERROR("c x\n", "t.trace:1: bad number 'x': \"c x\"");
	EXPECT_ERROR("@ 1.5\n", "t.trace:1: bad number '1.5': \"@ 1.5\"");
	/* A '\r' that does not end the line is part of the field. */
	EXPECT_ERROR("f 1\r2\n",
		     "t.trace:1: bad number '1\\x0d2': \"f 1\\x0d2\"");
	/* Syntax is checked before range, left to right. */
	EXPECT_ERROR("a 99999999999999999999999z 1\n",
		     "t.trace:1: bad number '99999999999999999999999z': "
		     "\"a 99999999999999999999999z 1\"");
}

static void test_error_other_ranges(void)
{
	EXPECT_ERROR("@ 18446744073709551616\n",
		     "t.trace:1: time 18446744073709551616 does not fit in 64 bits: "
		     "\"@ 18446744073709551616\"");
	EXPECT_ERROR("c 0x1ffffffffffffffff\n",
		     "t.trace:1: generation 0x1ffffffffffffffff does not fit in 64 bits: "
		     "\"c 0x1ffffffffffffffff\"");
	/* Any 64-bit generation is the collector's to judge. */
	EXPECT_OK("c 18446744073709551614\nc 7\n", 2);
}

static void test_error_root_id(void)
{
	EXPECT_ERROR("a 0 8\n",
		     "t.trace:1: ID 0 is the root set and cannot be allocated: \"a 0 8\"");
	EXPECT_ERROR("a 0x0 8 list\n",
		     "t.trace:1: ID 0 is the root set and cannot be allocated: "
		     "\"a 0x0 8 list\"");
	EXPECT_ERROR("f 0\n",
		     "t.trace:1: ID 0 is the root set and cannot be freed: \"f 0\"");
	EXPECT_ERROR("r 0 8\n",
		     "t.trace:1: ID 0 is the root set and cannot be resized: \"r 0 8\"");
	EXPECT_ERROR("+ 1 0\n",
		     "t.trace:1: ID 0 is the root set and cannot be referenced: \"+ 1 0\"");
	EXPECT_ERROR("- 0 0\n",
		     "t.trace:1: ID 0 is the root set and cannot be referenced: \"- 0 0\"");
	/* The field count is checked before the values. */
	EXPECT_ERROR("a 0 8 t x\n",
		     "t.trace:1: 'a' needs ID SIZE [TYPE]: \"a 0 8 t x\"");
	EXPECT_OK("+ 0 5\n- 0 5\n", 2);
}

static void test_error_type_name(void)
{
	char line[128];
	char expected[256];

	EXPECT_ERROR("a 1 8 9x\n", "t.trace:1: bad type name '9x': \"a 1 8 9x\"");
	EXPECT_ERROR("a 1 8 .x\n", "t.trace:1: bad type name '.x': \"a 1 8 .x\"");
	EXPECT_ERROR("a 1 8 li-st\n",
		     "t.trace:1: bad type name 'li-st': \"a 1 8 li-st\"");
	EXPECT_ERROR("a 1 8 caf\xc3\xa9\n",
		     "t.trace:1: bad type name 'caf\\xc3\\xa9': \"a 1 8 caf\\xc3\\xa9\"");
	/* 63 characters are allowed, 64 are not: "T_" then '9's, ".x". */
	memset(line, '9', sizeof line);
	memcpy(line, "a 1 8 T_", 8);
	memcpy(line + 6 + 63 - 2, ".x\n", 4);	/* name: bytes 6 .. 68 */
	CHECK_U64(strlen(line), 6 + 63 + 1);
	EXPECT_OK(line, 1);
	memset(line, '9', sizeof line);
	memcpy(line, "a 1 8 T_", 8);
	memcpy(line + 6 + 64 - 2, ".x\n", 4);
	CHECK_U64(strlen(line), 6 + 64 + 1);
	snprintf(expected, sizeof expected,
		 "t.trace:1: type name longer than 63 characters: \"%.*s\"",
		 6 + 64, line);
	EXPECT_ERROR(line, expected);
}

static void test_error_time(void)
{
	EXPECT_OK("@ 5\n@ 5\n@ 0x6\n", 3);
	EXPECT_ERROR("@ 10\nf 1\n@ 5\n",
		     "t.trace:3: time goes backwards (5 after 10): \"@ 5\"");
}

static void test_error_header(void)
{
	struct ms_error err;

	EXPECT_ERROR("#memsim-trace 3\n",
		     "t.trace:1: unsupported trace version 3: \"#memsim-trace 3\"");
	EXPECT_ERROR("#memsim-trace 18446744073709551617 {}\n",
		     "t.trace:1: unsupported trace version 18446744073709551617: "
		     "\"#memsim-trace 18446744073709551617 {}\"");
	EXPECT_ERROR("#memsim-trace x\n",
		     "t.trace:1: bad trace version 'x': \"#memsim-trace x\"");
	EXPECT_ERROR("#memsim-trace 1{}\n",
		     "t.trace:1: bad trace version '1{}': \"#memsim-trace 1{}\"");
	EXPECT_ERROR("#memsim-trace\n",
		     "t.trace:1: malformed header; expected '#memsim-trace 1' and an "
		     "optional JSON object: \"#memsim-trace\"");
	EXPECT_ERROR("#memsim-trace  1\n",
		     "t.trace:1: malformed header; expected '#memsim-trace 1' and an "
		     "optional JSON object: \"#memsim-trace  1\"");
	EXPECT_ERROR("#memsim-trace\t1\n",
		     "t.trace:1: malformed header; expected '#memsim-trace 1' and an "
		     "optional JSON object: \"#memsim-trace\\x091\"");
	EXPECT_ERROR("#memsim-trace 1\t{}\n",
		     "t.trace:1: malformed header; expected '#memsim-trace 1' and an "
		     "optional JSON object: \"#memsim-trace 1\\x09{}\"");
	EXPECT_ERROR("#memsim-trace 1  {}\n",
		     "t.trace:1: malformed header; expected '#memsim-trace 1' and an "
		     "optional JSON object: \"#memsim-trace 1  {}\"");
	EXPECT_ERROR("#memsim-trace 1 [1,2]\n",
		     "t.trace:1: metadata is not a JSON object: \"#memsim-trace 1 [1,2]\"");
	EXPECT_ERROR("#memsim-trace 1 \"x\"\n",
		     "t.trace:1: metadata is not a JSON object: \"#memsim-trace 1 \"x\"\"");
	EXPECT_ERROR("#memsim-trace 1 {\"a\":\n",
		     "t.trace:1: metadata is not valid JSON: \"#memsim-trace 1 {\"a\":\"");
	EXPECT_ERROR("#memsim-trace 1 {} x\n",
		     "t.trace:1: metadata is not valid JSON: \"#memsim-trace 1 {} x\"");
	EXPECT_ERROR("f 1\n#memsim-trace 1\n",
		     "t.trace:2: header allowed only on line 1: \"#memsim-trace 1\"");
	EXPECT_ERROR("\n#memsim-trace 1 {}\n",
		     "t.trace:2: header allowed only on line 1: \"#memsim-trace 1 {}\"");
	/* A bad header fails trace_open itself, with 65. */
	write_str("t.trace", "#memsim-trace 3\nf 1\n");
	ms_error_clear(&err);
	CHECK(trace_open("t.trace", &err) == NULL);
	CHECK_I64(err.code, MS_EXIT_DATAERR);
	CHECK_U64(err.line, 1);
}

/* NUL needs explicit lengths: strlen would stop at it. */
static void expect_nul_error(const char *data, size_t len, const char *expected)
{
	char msg[512];
	int status, code;

	write_file("t.trace", data, len);
	drain("t.trace", &status, msg, sizeof msg, &code);
	CHECK_I64(status, -1);
	CHECK_STR(msg, expected);
	CHECK_I64(code, MS_EXIT_DATAERR);
}

static void test_error_nul_byte(void)
{
	static const char ev[] = "f 1\na 1 8 li\0st\n";
	static const char comment[] = "# hi\0there\nf 1\n";
	static const char blank[] = "  \0\n";
	static const char header[] = "#memsim-trace 1 {\"a\":\"\0\"}\n";

	expect_nul_error(ev, sizeof ev - 1,
			 "t.trace:2: NUL byte in line: \"a 1 8 li\\x00st\"");
	expect_nul_error(comment, sizeof comment - 1,
			 "t.trace:1: NUL byte in line: \"# hi\\x00there\"");
	expect_nul_error(blank, sizeof blank - 1,
			 "t.trace:1: NUL byte in line: \"  \\x00\"");
	expect_nul_error(header, sizeof header - 1,
			 "t.trace:1: NUL byte in line: "
			 "\"#memsim-trace 1 {\"a\":\"\\x00\"}\"");
}

/* ---- long lines ---- */

/* A comment line of `len` bytes of text ('#' then 'c's) between events. */
static char *long_comment_trace(size_t len, size_t *total)
{
	char *t = malloc(len + 32);
	size_t n = 0;

	memcpy(t, "f 7\n", 4);
	n = 4;
	t[n++] = '#';
	memset(t + n, 'c', len - 1);
	n += len - 1;
	memcpy(t + n, "\nf 8\n", 5);
	n += 5;
	*total = n;
	return t;
}

static void test_long_lines(void)
{
	size_t n;
	char *t;
	struct trace_reader *r;
	struct ms_error err;
	char msg[512], expected[512];
	int status, code;

	/* 1 MiB comment: the buffer must grow past its first chunk. The
	 * event before it is still located after the buffer moved. */
	t = long_comment_trace(MIB, &n);
	write_file("t.trace", t, n);
	free(t);
	r = open_ok("t.trace");
	EXPECT_EVENT(r, EVENT_FREE, 7, 0, "");
	EXPECT_EVENT(r, EVENT_FREE, 8, 0, "");
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_U64(err.line, 3);
	CHECK_STR(err.text, "f 8");
	expect_end(r);
	trace_close(r);

	/* Exactly the limit (16 MiB of text) is accepted... */
	t = long_comment_trace(LINE_MAX_BYTES, &n);
	write_file("t.trace", t, n);
	free(t);
	CHECK_U64(drain("t.trace", &status, msg, sizeof msg, &code), 2);
	CHECK_I64(status, 0);

	/* ...one byte more is not, whether the line still fits the grown
	 * buffer (+1: checked per line, +2 and more: found while reading).
	 * The message shows the start of the line: ms_error_text keeps 92
	 * bytes and adds "..." (error.c). */
	snprintf(expected, sizeof expected,
		 "t.trace:2: line longer than 16777216 bytes: \"#%.91s...\"",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
		 "cccccccccccccccccccccccccccccccccccccccccccc");
	for (size_t extra = 1; extra <= 3; extra++) {
		t = long_comment_trace(LINE_MAX_BYTES + extra, &n);
		write_file("t.trace", t, n);
		free(t);
		CHECK_U64(drain("t.trace", &status, msg, sizeof msg, &code), 1);
		CHECK_I64(status, -1);
		CHECK_I64(code, MS_EXIT_DATAERR);
		CHECK_STR(msg, expected);
	}

	/* A header line over the limit fails trace_open. */
	t = malloc(LINE_MAX_BYTES + 2);
	memset(t, ' ', LINE_MAX_BYTES + 1);
	memcpy(t, "#memsim-trace 1", 15);
	t[LINE_MAX_BYTES + 1] = '\n';
	write_file("t.trace", t, LINE_MAX_BYTES + 2);
	free(t);
	drain("t.trace", &status, msg, sizeof msg, &code);
	snprintf(expected, sizeof expected,
		 "t.trace:1: line longer than 16777216 bytes: \"#memsim-trace 1%77s...\"",
		 "");
	CHECK_STR(msg, expected);

	/* An event line over the limit (blanks after the ID), found by the
	 * per-line check since it fits the fully grown buffer. */
	n = LINE_MAX_BYTES + 1;
	t = malloc(n + 1);
	memset(t, ' ', n);
	memcpy(t, "f 1", 3);
	t[n] = '\n';
	write_file("t.trace", t, n + 1);
	CHECK_U64(drain("t.trace", &status, msg, sizeof msg, &code), 0);
	snprintf(expected, sizeof expected,
		 "t.trace:1: line longer than 16777216 bytes: \"f 1%89s...\"", "");
	CHECK_STR(msg, expected);
	/* The same line one blank shorter is accepted. */
	t[n - 1] = '\n';
	write_file("t.trace", t, n);
	CHECK_U64(drain("t.trace", &status, msg, sizeof msg, &code), 1);
	CHECK_I64(status, 0);
	free(t);
}

/* trace_locate after the buffer moved keeps the start of the line: the
 * reader's refill copies the first MS_ERROR_TEXT_MAX bytes aside. */
static void test_locate_saved(void)
{
	char line[154];
	struct trace_reader *r;
	struct ms_error err;
	char expected[128];

	/* "f 7" and 150 blanks: ms_error_text keeps 92 bytes, adds "...". */
	memset(line, ' ', sizeof line);
	memcpy(line, "f 7", 3);
	line[153] = '\n';
	write_file("t.trace", line, sizeof line);
	r = open_ok("t.trace");
	EXPECT_EVENT(r, EVENT_FREE, 7, 0, "");
	expect_end(r);		/* refill moves the buffer, then the end */
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_U64(err.line, 1);
	snprintf(expected, sizeof expected, "f 7%89s...", "");
	CHECK_STR(err.text, expected);
	trace_close(r);
}

/* ---- version 2 ---- */

/* Reads one event of any kind into *ev, which must be there. */
static void next_ok(struct trace_reader *r, struct event *ev)
{
	struct ms_error err;

	ms_error_clear(&err);
	CHECK_I64(trace_next(r, ev, &err), 1);
}

static void test_v2_events(void)
{
	struct trace_reader *r;
	const struct sitetab *sites;
	const struct trace_mark *m;
	struct ms_error err;
	struct event ev;
	size_t n;

	write_str("t.trace",
		  "#memsim-trace 2 {\"level\":\"allocator\",\"runtime\":\"cpython-3.12.1\",\"recorder\":\"pyrec\"}\n"
		  "k 10 0 main@a.py:1\n"
		  "k 0x0 0 x\n");
	EXPECT_ERROR("#memsim-trace 2\nk 0x0 0 x\n",
		     "t.trace:2: bad SITE '0x0' (stack node numbers are decimal): \"k 0x0 0 x\"");
	write_str("t.trace",
		  "#memsim-trace 2 {\"level\":\"allocator\",\"runtime\":\"cpython-3.12.1\",\"recorder\":\"pyrec\"}\n"
		  "k 10 0 main@a.py:1\n"
		  "k 3 10 f%20g@b.c:7\n"
		  "a 1 16 list ^3\n"
		  "a 2 8\n"
		  "m warm_up\n"
		  "@ 70\n"
		  "r 2 9 ^10\n"
		  "m done\n"
		  "g 2\n"
		  "f 1\n"
		  "g\n"
		  "h\n"
		  "e 0 1  2\t3 \n"
		  "c\n");
	r = open_ok("t.trace");
	CHECK_U64(trace_version(r), 2);
	CHECK_U64(trace_level(r), TRACE_LEVEL_ALLOCATOR);
	CHECK_STR(trace_runtime(r), "cpython-3.12.1");
	CHECK_STR(trace_recorder(r), "pyrec");
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_SITE);
	CHECK_U64(ev.id, 10);
	CHECK_U64(ev.u.parent, 0);
	CHECK_U64(ev.site, 1);
	next_ok(r, &ev);
	CHECK_U64(ev.site, 2);
	CHECK_U64(ev.u.parent, 10);
	sites = trace_sites(r);
	CHECK_U64(sitetab_count(sites), 3);
	CHECK_U64(sitetab_number(sites, 2), 3);
	CHECK_U64(sitetab_parent(sites, 2), 1);
	CHECK_U64(sitetab_depth(sites, 2), 2);
	CHECK_STR(sitetab_frame(sites, 2), "f%20g@b.c:7");   /* kept as written */
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_ALLOC);
	CHECK_U64(ev.site, 2);
	CHECK_STR(typetab_name(trace_types(r), ev.type), "list");
	next_ok(r, &ev);
	CHECK_U64(ev.site, EVENT_NO_SITE);
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_MARK);
	CHECK_STR(typetab_name(trace_labels(r), ev.label), "warm_up");
	next_ok(r, &ev);                /* @ 70 */
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_RESIZE);
	CHECK_U64(ev.site, 1);
	next_ok(r, &ev);                /* m done */
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_GC_BEGIN);
	CHECK_U64(ev.u.gen, 2);
	next_ok(r, &ev);                /* f 1 */
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_GC_END);
	CHECK_U64(ev.u.gen, 2);         /* filled in: the collection it ends */
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_SNAPSHOT);
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_SNAP_REFS);
	CHECK_U64(ev.id, 0);
	for (uint64_t d = 1; d <= 3; d++) {
		next_ok(r, &ev);
		CHECK_U64(ev.kind, EVENT_SNAP_EDGE);
		CHECK_U64(ev.id, 0);
		CHECK_U64(ev.u.dst, d);
		ms_error_clear(&err);
		trace_locate(r, &err);
		CHECK_U64(err.line, 14);
		CHECK_STR(err.text, "e 0 1  2\\x093 ");
	}
	EXPECT_EVENT(r, EVENT_COLLECT, 0, EVENT_GEN_DEFAULT, "");
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_U64(err.line, 15);
	expect_end(r);
	/* Marks, placed by the version-1 events before them: `m warm_up`
	 * after `a 1`, `a 2` (2) and before any time, `m done` after those,
	 * `@ 70` and `r 2` (4), at t = 70. */
	m = trace_marks(r, &n);
	CHECK_U64(n, 2);
	if (n == 2) {
		CHECK_U64(m[0].event, 2);
		CHECK_U64(m[0].time, 0);
		CHECK_STR(typetab_name(trace_labels(r), m[0].label), "warm_up");
		CHECK_U64(m[1].event, 4);
		CHECK_U64(m[1].time, 70);
	}
	/* 14 lines, the `e` line 1 + 3 events: 17. */
	CHECK_U64(trace_event_count(r), 17);
	trace_close(r);
	/* A version-1 trace keeps its meaning: no sites, no version-2 keys
	 * interpreted beyond well-formed ones. */
	write_str("t.trace", "#memsim-trace 1 {\"level\":\"objects\"}\na 1 8\n");
	r = open_ok("t.trace");
	CHECK_U64(trace_version(r), 1);
	CHECK_U64(trace_level(r), TRACE_LEVEL_UNKNOWN);
	CHECK(trace_runtime(r) == NULL);
	CHECK_U64(sitetab_count(trace_sites(r)), 1);
	trace_close(r);
}

/* A 1 MiB buffer of "e 100000 12345 12345 ...": the header (16 bytes),
 * "h\n" (2) and "e 100000" (8) leave 1048550 bytes, 174758 fields of
 * " 12345" (1048548 bytes), so the next field's blank is the buffer's
 * byte 1048574 and its first digit the last one: the field is split by
 * the first read. */
#define LONG_E_FIELDS 200000u
static char *long_eline(size_t *len, const char *tail)
{
	size_t cap = 32 + 6 * (size_t)LONG_E_FIELDS + strlen(tail) + 16;
	char *text = malloc(cap), *p = text;

	p += sprintf(p, "#memsim-trace 2\nh\ne 100000");
	for (unsigned i = 0; i < LONG_E_FIELDS; i++) {
		memcpy(p, " 12345", 6);
		p += 6;
	}
	p += sprintf(p, "%s", tail);
	*len = (size_t)(p - text);
	return text;
}

static void test_v2_long_eline(void)
{
	struct trace_reader *r;
	struct ms_error err;
	struct event ev;
	char *text, expected[256];
	size_t len;
	uint64_t edges = 0, bad = 0;
	int got;

	/* Ends in "\r\n", then `f 7` on line 4. */
	text = long_eline(&len, "\r\nf 7\n");
	write_file("t.trace", text, len);
	r = open_ok("t.trace");
	next_ok(r, &ev);
	next_ok(r, &ev);
	CHECK_U64(ev.kind, EVENT_SNAP_REFS);
	CHECK_U64(ev.id, 100000);
	ms_error_clear(&err);
	while ((got = trace_next(r, &ev, &err)) == 1 && ev.kind == EVENT_SNAP_EDGE) {
		bad += ev.u.dst != 12345 || ev.id != 100000;
		edges++;
	}
	CHECK_I64(got, 1);
	CHECK_U64(edges, LONG_E_FIELDS);
	CHECK_U64(bad, 0);
	CHECK_U64(ev.kind, EVENT_FREE);
	CHECK_U64(ev.id, 7);
	trace_locate(r, &err);
	CHECK_U64(err.line, 4);
	CHECK_STR(err.text, "f 7");
	expect_end(r);
	trace_close(r);
	free(text);

	/* A bad field after a million bytes: located at line 3, quoting the
	 * line's start (92 bytes: "e 100000" and 14 fields, then "..."). */
	text = long_eline(&len, " 12x45\n");
	write_file("t.trace", text, len);
	snprintf(expected, sizeof expected, "t.trace:3: bad number '12x45': \"e 100000%s...\"",
		 " 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345");
	{
		char msg[512];
		int status, code;

		CHECK_U64(drain("t.trace", &status, msg, sizeof msg, &code), 2 + LONG_E_FIELDS);
		CHECK_STR(msg, expected);
		CHECK_I64(code, MS_EXIT_DATAERR);
	}
	free(text);

	/* The same line without a line end, through gzip and standard input
	 * would read alike; here: the last line of the file, no newline. */
	text = long_eline(&len, "");
	write_file("t.trace", text, len);
	{
		char msg[512];
		int status, code;

		CHECK_U64(drain("t.trace", &status, msg, sizeof msg, &code), 2 + LONG_E_FIELDS);
		CHECK_I64(status, 0);
	}
	free(text);
}

/* The same long line gzip-compressed: the fields come through inflate. */
static void test_v2_long_eline_gzip(void)
{
	char *text, msg[512];
	size_t len;
	int status, code;
	gzFile gz;

	text = long_eline(&len, "\nc\n");
	gz = gzopen("t.trace.gz", "wb");
	CHECK(gz != NULL);
	if (!gz)
		return;
	gzwrite(gz, text, (unsigned)len);
	gzclose(gz);
	CHECK_U64(drain("t.trace.gz", &status, msg, sizeof msg, &code), 3 + LONG_E_FIELDS);
	CHECK_I64(status, 0);
	unlink("t.trace.gz");
	free(text);
}

/* Comments and blank lines do not end a snapshot (the binary form does
 * not keep them); any other line does. */
static void test_v2_snapshot_extent(void)
{
	EXPECT_OK("#memsim-trace 2\nh\ne 1 2\n# note\n\ne 2 1\nh\nh\ne 3 3\n", 9);
	EXPECT_ERROR("#memsim-trace 2\nh\ne 1 2\ns\ne 2 1\n",
		     "t.trace:5: 'e' outside a heap snapshot (it must follow 'h' or another 'e'): \"e 2 1\"");
	EXPECT_ERROR("#memsim-trace 2\nh\nk 1 0 f\ne 2 1\n",
		     "t.trace:4: 'e' outside a heap snapshot (it must follow 'h' or another 'e'): \"e 2 1\"");
	EXPECT_ERROR("#memsim-trace 2\nh\ne\n", "t.trace:3: 'e' needs SRC DST...: \"e\"");
	EXPECT_ERROR("#memsim-trace 2\nh\ne 1\n", "t.trace:3: 'e' needs SRC DST...: \"e 1\"");
	EXPECT_ERROR("#memsim-trace 2\nh\ne 18446744073709551616 1\n",
		     "t.trace:3: ID 18446744073709551616 does not fit in 64 bits: \"e 18446744073709551616 1\"");
	/* `g` lines: the open collection's line is the one named. */
	EXPECT_OK("#memsim-trace 2\ng 0\ng\ng 18446744073709551615\n@ 5\ng\n", 5);
	EXPECT_ERROR("#memsim-trace 2\ng 3\n# the end\n",
		     "t.trace:2: the recorded collection of generation 3 is never closed (no 'g' before the end of the trace): \"g 3\"");
	EXPECT_ERROR("#memsim-trace 2\nm\n", "t.trace:2: 'm' needs LABEL: \"m\"");
	EXPECT_ERROR("#memsim-trace 2\nm a234567890123456789012345678901234567890123456789012345678901234\n",
		     "t.trace:2: mark label longer than 63 characters: \"m a234567890123456789012345678901234567890123456789012345678901234\"");
	EXPECT_ERROR("#memsim-trace 2\nk 18446744073709551616 0 f\n",
		     "t.trace:2: SITE 18446744073709551616 does not fit in 64 bits: \"k 18446744073709551616 0 f\"");
	EXPECT_ERROR("#memsim-trace 2\nk 1 x f\n",
		     "t.trace:2: bad PARENT 'x' (stack node numbers are decimal): \"k 1 x f\"");
	EXPECT_ERROR("#memsim-trace 2\na 1 8 ^18446744073709551616\n",
		     "t.trace:2: SITE 18446744073709551616 does not fit in 64 bits: \"a 1 8 ^18446744073709551616\"");
	EXPECT_ERROR("#memsim-trace 2\na 1 8 ^0x1\n",
		     "t.trace:2: bad site '^0x1' (a '^' and a decimal SITE): \"a 1 8 ^0x1\"");
	EXPECT_ERROR("#memsim-trace 2\nk 1 0 a\x01z\n",
		     "t.trace:2: byte 0x01 in FRAME (write it as %01): \"k 1 0 a\\x01z\"");
	EXPECT_ERROR("#memsim-trace 2\nk 1 0 a\rz\n",
		     "t.trace:2: byte 0x0d in FRAME (write it as %0D): \"k 1 0 a\\x0dz\"");
	/* Every FRAME rule satisfied: escapes of any case, no structure. */
	EXPECT_OK("#memsim-trace 2\nk 1 0 ??\nk 2 1 %5e%7E%25\nk 3 2 libc.so.6+0x2a1f0\n", 3);
}

/* ---- files ---- */

static void test_open_errors(void)
{
	struct ms_error err;
	char msg[512];

	mkdir("d", 0700);
	ms_error_clear(&err);
	CHECK(trace_open("d", &err) == NULL);
	ms_error_format(&err, msg, sizeof msg);
	CHECK_STR(msg, "d: cannot open: Is a directory");
	CHECK_I64(err.code, MS_EXIT_NOINPUT);
	rmdir("d");

	ms_error_clear(&err);
	CHECK(trace_open("missing.trace", &err) == NULL);
	ms_error_format(&err, msg, sizeof msg);
	CHECK_STR(msg, "missing.trace: cannot open: No such file or directory");
	CHECK_I64(err.code, MS_EXIT_NOINPUT);
}

/* Reading /proc/self/mem at offset 0 (never mapped) fails with EIO on
 * Linux: a real read error without special hardware. */
static void test_read_error(void)
{
	struct ms_error err;
	char msg[512];

	if (access("/proc/self/mem", R_OK) != 0) {
		TEST_SKIP("no /proc/self/mem");
		return;
	}
	ms_error_clear(&err);
	CHECK(trace_open("/proc/self/mem", &err) == NULL);
	ms_error_format(&err, msg, sizeof msg);
	CHECK_STR(msg, "/proc/self/mem: read error: Input/output error");
	CHECK_I64(err.code, MS_EXIT_IOERR);
}

static void write_gzip(const char *name, const char *mode, const char *text)
{
	gzFile g = gzopen(name, mode);

	if (!g || gzwrite(g, text, (unsigned)strlen(text)) != (int)strlen(text) ||
	    gzclose(g) != Z_OK) {
		printf("# cannot write %s\n", name);
		exit(2);
	}
}

static void test_gzip(void)
{
	struct trace_reader *r;
	struct stat st;

	/* Detected by content: the name says nothing. */
	write_gzip("g.trace", "wb",
		   "#memsim-trace 1 {\"gz\":true}\na 1 56 list\r\nf 1\n");
	r = open_ok("g.trace");
	CHECK_STR(trace_metadata(r), "{\"gz\":true}");
	EXPECT_EVENT(r, EVENT_ALLOC, 1, 56, "list");
	EXPECT_EVENT(r, EVENT_FREE, 1, 0, "");
	expect_end(r);
	stat("g.trace", &st);
	CHECK_U64(trace_file_size(r), (uint64_t)st.st_size);
	CHECK_U64(trace_bytes_read(r), (uint64_t)st.st_size);
	trace_close(r);

	/* Two members ("ab" appends one): one trace. The first member ends
	 * inside a line. */
	write_gzip("g.trace", "wb", "a 1 8\na 2 1");
	write_gzip("g.trace", "ab", "6\n@ 3\n");
	r = open_ok("g.trace");
	EXPECT_EVENT(r, EVENT_ALLOC, 1, 8, "");
	EXPECT_EVENT(r, EVENT_ALLOC, 2, 16, "");
	EXPECT_EVENT(r, EVENT_TIME, 0, 3, "");
	expect_end(r);
	trace_close(r);

	/* An empty gzip stream is an empty trace. */
	write_gzip("g.trace", "wb", "");
	{
		char msg[512];
		int status, code;

		CHECK_U64(drain("g.trace", &status, msg, sizeof msg, &code), 0);
		CHECK_I64(status, 0);
	}
}

/* 300000 lines "a I 24 dict" (I = 1..300000) compress to far more than
 * one read and inflate to about 5 MB, several buffers. */
static void test_gzip_large(void)
{
	gzFile g = gzopen("big.gz", "wb");
	struct trace_reader *r;
	struct event ev;
	struct ms_error err;
	uint64_t n = 0, sum = 0;
	char line[64];

	for (int i = 1; i <= 300000; i++) {
		int len = snprintf(line, sizeof line, "a %d 24 dict\n", i);

		gzwrite(g, line, (unsigned)len);
	}
	gzclose(g);
	r = open_ok("big.gz");
	ms_error_clear(&err);
	while (trace_next(r, &ev, &err) == 1) {
		n++;
		sum += ev.id;
	}
	CHECK(err.code == 0);
	CHECK_U64(n, 300000);
	/* 1 + ... + 300000 = 300000 * 300001 / 2 */
	CHECK_U64(sum, UINT64_C(45000150000));
	trace_close(r);
	unlink("big.gz");
}

static char *slurp(const char *name, size_t *len)
{
	FILE *f = fopen(name, "rb");
	char *b;
	long n;

	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 16);
	*len = fread(b, 1, (size_t)n, f);
	fclose(f);
	return b;
}

static void test_gzip_damaged(void)
{
	char msg[512];
	int status, code;
	char *gz;
	size_t len;
	uint64_t n;
	gzFile g = gzopen("g.trace", "wb");
	char line[64];

	/* 20000 lines, then cut the 8-byte trailer and 4 more bytes. */
	for (int i = 1; i <= 20000; i++) {
		int l = snprintf(line, sizeof line, "a %d 24 dict\n", i);

		gzwrite(g, line, (unsigned)l);
	}
	gzclose(g);
	gz = slurp("g.trace", &len);

	write_file("g.trace", gz, len - 12);
	n = drain("g.trace", &status, msg, sizeof msg, &code);
	CHECK_I64(status, -1);
	CHECK_STR(msg, "g.trace: truncated gzip stream");
	CHECK_I64(code, MS_EXIT_DATAERR);
	CHECK(n > 0 && n < 20000);

	/* Only the 10-byte gzip header and no data: open fails. */
	write_file("g.trace", gz, 10);
	drain("g.trace", &status, msg, sizeof msg, &code);
	CHECK_STR(msg, "g.trace: truncated gzip stream");
	CHECK_I64(code, MS_EXIT_DATAERR);

	/* A wrong CRC-32 in the trailer (RFC 1952: the last 8 bytes are
	 * CRC32 then ISIZE): zlib says "incorrect data check". */
	gz[len - 8] ^= 0x55;
	write_file("g.trace", gz, len);
	n = drain("g.trace", &status, msg, sizeof msg, &code);
	CHECK_STR(msg, "g.trace: corrupt gzip stream: incorrect data check");
	CHECK_I64(code, MS_EXIT_DATAERR);
	gz[len - 8] ^= 0x55;

	/* Bytes after the last member that are not another member. */
	memcpy(gz + len, "junk\n", 5);
	write_file("g.trace", gz, len + 5);
	n = drain("g.trace", &status, msg, sizeof msg, &code);
	CHECK_STR(msg, "g.trace: corrupt gzip stream: incorrect header check");
	CHECK_U64(n, 20000);
	free(gz);
}

/* ---- streaming ---- */

static size_t put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* Resident set size in bytes, from /proc/self/statm (pages). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * 5,000,000 events through a pipe on standard input: "a I 32 t" and
 * "f I" alternate for I = 1..2,500,000. The data (about 50 MB) never
 * exists as a file, so if the reader kept lines its resident size would
 * grow by tens of MB; it must stay within 2 MiB of what it was after the
 * first 100,000 events (when the buffer is already in use).
 */
#define STREAM_PAIRS 2500000u

static void test_streaming_stdin(void)
{
	int fds[2], saved_stdin, wstatus;
	pid_t child;
	struct trace_reader *r;
	struct event ev;
	struct ms_error err;
	uint64_t n = 0, id_sum = 0, rss_early = 0, rss_late, bytes = 0;
	int got;

	if (access("/proc/self/statm", R_OK) != 0) {
		TEST_SKIP("no /proc/self/statm");
		return;
	}
	if (pipe(fds) != 0) {
		CHECK(0);
		return;
	}
	child = fork();
	if (child == 0) {
		static char out[1 << 16];
		size_t o = 0;

		close(fds[0]);
		for (uint64_t i = 1; i <= STREAM_PAIRS; i++) {
			if (o > sizeof out - 64) {
				if (write(fds[1], out, o) != (ssize_t)o)
					_exit(1);
				o = 0;
			}
			out[o++] = 'a';
			out[o++] = ' ';
			o += put_u64(out + o, i);
			memcpy(out + o, " 32 t\nf ", 8);
			o += 8;
			o += put_u64(out + o, i);
			out[o++] = '\n';
		}
		if (write(fds[1], out, o) != (ssize_t)o)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	saved_stdin = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);

	r = open_ok("-");
	CHECK_STR(trace_name(r), "<stdin>");
	CHECK_U64(trace_file_size(r), 0);
	ms_error_clear(&err);
	while ((got = trace_next(r, &ev, &err)) == 1) {
		n++;
		id_sum += ev.id;
		if (n == 100000)
			rss_early = rss_bytes();
	}
	rss_late = rss_bytes();
	CHECK_I64(got, 0);
	CHECK_U64(n, 2 * STREAM_PAIRS);
	/* Each ID appears twice: 2 * (1 + ... + N) = N (N + 1). */
	CHECK_U64(id_sum, (uint64_t)STREAM_PAIRS * (STREAM_PAIRS + 1));
	/* Bytes: per I, "a " + I + " 32 t\n" + "f " + I + "\n" = 11 + 2 d(I)
	 * where d(I) is I's digit count; summed over 1..2,500,000 the digits
	 * come to 9*1 + 90*2 + 900*3 + 9000*4 + 90000*5 + 900000*6
	 * + 1500001*7 = 16,388,896. */
	bytes = 11ull * STREAM_PAIRS + 2ull * 16388896ull;
	CHECK_U64(trace_bytes_read(r), bytes);
	printf("# rss after 100000 events %" PRIu64 " KiB, at the end %" PRIu64
	       " KiB\n", rss_early / 1024, rss_late / 1024);
	CHECK(rss_late < rss_early + 2 * MIB);
	trace_close(r);

	dup2(saved_stdin, STDIN_FILENO);
	close(saved_stdin);
	waitpid(child, &wstatus, 0);
	CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/memsim-trace-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) {
		printf("# cannot make a temporary directory\n");
		return 2;
	}
	TEST_RUN(test_kind_letters);
	TEST_RUN(test_every_event);
	TEST_RUN(test_header_variants);
	TEST_RUN(test_empty_and_header_only);
	TEST_RUN(test_id_limits);
	TEST_RUN(test_size_limits);
	TEST_RUN(test_many_types);
	TEST_RUN(test_stdin_name);
	TEST_RUN(test_error_unknown_event);
	TEST_RUN(test_error_field_count);
	TEST_RUN(test_error_bad_number);
	TEST_RUN(test_error_other_ranges);
	TEST_RUN(test_error_root_id);
	TEST_RUN(test_error_type_name);
	TEST_RUN(test_error_time);
	TEST_RUN(test_error_header);
	TEST_RUN(test_error_nul_byte);
	TEST_RUN(test_long_lines);
	TEST_RUN(test_locate_saved);
	TEST_RUN(test_v2_events);
	TEST_RUN(test_v2_long_eline);
	TEST_RUN(test_v2_long_eline_gzip);
	TEST_RUN(test_v2_snapshot_extent);
	TEST_RUN(test_open_errors);
	TEST_RUN(test_read_error);
	TEST_RUN(test_gzip);
	TEST_RUN(test_gzip_large);
	TEST_RUN(test_gzip_damaged);
	TEST_RUN(test_streaming_stdin);
	unlink("t.trace");
	unlink("g.trace");
	if (chdir("/") != 0 || rmdir(tmpdir) != 0)
		printf("# could not remove %s\n", tmpdir);
	return test_done();
}
