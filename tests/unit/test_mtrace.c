/*
 * test_mtrace.c - glibc mtrace logs to memsim traces: every line form of
 * malloc/mtrace-impl.c (2.34+) and the older malloc/mtrace.c, a log
 * recorded on this machine (tests/data/mtrace-glibc2.36.log, made by
 * tests/data/mtrace-prog.c, see docs/recording.md), every error message
 * and every lenient repair.
 */
#include "mtrace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static char out_path[64];
static char result[1 << 17];
static struct mtrace_counts counts;
static struct ms_error err;

/* Converts `log` and leaves the trace text (without its header line) in
 * `result`; returns mtrace_convert's status. */
static int convert_file(FILE *in, const char *name, int lenient)
{
	struct ms_error werr;
	struct trace_writer *w;
	FILE *f;
	size_t n;
	int r;
	char *body;

	snprintf(out_path, sizeof out_path, "/tmp/test_mtrace.%ld.trace", (long)getpid());
	w = tracewrite_create(out_path, &tracewrite_text, 0, 1, NULL, &werr);
	if (!w)
		return -1;
	r = mtrace_convert(in, name, w, lenient, &counts, &err);
	tracewrite_close(w, NULL);
	f = fopen(out_path, "r");
	n = f ? fread(result, 1, sizeof result - 1, f) : 0;
	if (f)
		fclose(f);
	result[n] = '\0';
	body = strchr(result, '\n');
	memmove(result, body ? body + 1 : result, strlen(body ? body + 1 : result) + 1);
	unlink(out_path);
	return r;
}

static int convert(const char *log, int lenient)
{
	FILE *in = fmemopen((void *)log, strlen(log), "r");
	int r = convert_file(in, "t.log", lenient);

	fclose(in);
	return r;
}

static void test_recorded_log(void)
{
	const char *root = getenv("ROOT");
	char path[512];
	FILE *in;

	snprintf(path, sizeof path, "%s/tests/data/mtrace-glibc2.36.log", root ? root : ".");
	in = fopen(path, "r");
	if (!in) {
		CHECK(in != NULL);
		return;
	}
	CHECK_I64(convert_file(in, path, 0), 0);
	fclose(in);
	/* From tests/data/mtrace-prog.c, in order: malloc(100) -> 1;
	 * calloc(4, 25) -> 2 (0x64 = 100); realloc(a, 5000) moves: r 1 5000
	 * (0x1388); realloc(b, 50) in place: r 2 50 (0x32); realloc(NULL,
	 * 30) -> a 3 30 (0x1e); memalign(64, 200) -> a 4 200 (0xc8); the
	 * failed malloc is "(nil)": skipped; free(NULL) is not logged;
	 * free(d) f 4; realloc(c, 0) logs "- c": f 3; free(b) f 2;
	 * malloc(0) a 5 0; free(a) f 1; strdup("hello") inside libc: a 6 6
	 * at a's old address; its free f 6. */
	CHECK_STR(result,
		  "a 1 100\na 2 100\nr 1 5000\nr 2 50\na 3 30\na 4 200\n"
		  "f 4\nf 3\nf 2\na 5 0\nf 1\na 6 6\nf 6\n");
	/* 18 lines: = Start, 16 events, = End. */
	CHECK_U64(counts.lines, 18);
	CHECK_U64(counts.allocs, 6);
	CHECK_U64(counts.reallocs, 2);
	CHECK_U64(counts.frees, 5);   /* f 4, f 3, f 2, f 1, f 6 */
	CHECK_U64(counts.failed, 1);
	CHECK_U64(counts.live_at_end, 1);   /* malloc(0), never freed */
}

static void test_caller_forms(void)
{
	/* Pre-2.34 absolute-address callers, with and without a symbol;
	 * 2.34+ offset callers; a bare [addr]; no caller at all; CRLF; a
	 * blank line; tabs. */
	static const char log[] =
		"= Start\n"
		"@ ./prog:[0x4005e6] + 0x602010 0x10\n"
		"@ /lib/x86_64-linux-gnu/libc.so.6:(__libc_start_main+0xf0)[0x7f3a1c2b3830] + 0x602030 0x20\r\n"
		"@ /lib/x86_64-linux-gnu/libc.so.6:(__strdup+1a)[0x9e9aa] < 0x602010\n"
		"@ /lib/x86_64-linux-gnu/libc.so.6:(__strdup+1a)[0x9e9aa] > 0x603000 0x1000\n"
		"\n"
		"@ [0x4005e6] - 0x602030\n"
		"+ 0x604000\t0\n"
		"@ ./prog:(main-10)[0x11d8] ! 0x603000 0xffffffffffff0000\n"
		"- 0x603000\n"
		"< 0x604000\n"
		"> 0x604000 0x8\n"
		"= End\n";

	CHECK_I64(convert(log, 0), 0);
	/* 0x10 = 16, 0x20 = 32, 0x1000 = 4096; "!" (failed realloc) leaves
	 * 0x603000 (ID 1) live, then it is freed. */
	CHECK_STR(result, "a 1 16\na 2 32\nr 1 4096\nf 2\na 3 0\nf 1\nr 3 8\n");
	CHECK_U64(counts.lines, 13);
	CHECK_U64(counts.failed, 1);
	CHECK_U64(counts.live_at_end, 1);
}

static void test_nil_lines(void)
{
	/* A failed malloc prints (nil); realloc(NULL, n) prints '+'. */
	CHECK_I64(convert("+ (nil) 0x7fffffffffffffff\n- (nil)\n+ 0x10 0x5\n", 0), 0);
	CHECK_STR(result, "a 1 5\n");
	CHECK_U64(counts.failed, 2);
}

static void check_error(const char *log, uint64_t line, const char *text, const char *msg)
{
	CHECK_I64(convert(log, 0), MS_EXIT_DATAERR);
	CHECK_STR(err.file, "t.log");
	CHECK_U64(err.line, line);
	CHECK_STR(err.text, text);
	CHECK_STR(err.msg, msg);
}

static void test_errors(void)
{
	char buf[512];

	check_error("+ 0x1234 0x10\n- 0x1234\n@ ./p:[0x1] - 0x1234\n", 3,
		    "@ ./p:[0x1] - 0x1234", "free of address 0x1234 that is not allocated");
	ms_error_format(&err, buf, sizeof buf);
	CHECK_STR(buf, "t.log:3: free of address 0x1234 that is not allocated: "
		       "\"@ ./p:[0x1] - 0x1234\"");
	check_error("+ 0x1234 0x10\n+ 0x1234 0x20\n", 2, "+ 0x1234 0x20",
		    "address 0x1234 allocated twice");
	check_error("< 0xabc\n> 0xdef 0x10\n", 1, "< 0xabc",
		    "realloc of address 0xabc that is not allocated");
	check_error("+ 0x10 0x1\n< 0x10\n- 0x20\n", 3, "- 0x20",
		    "realloc '<' line not followed by its '>' line");
	check_error("> 0x10 0x1\n", 1, "> 0x10 0x1",
		    "realloc '>' line without the '<' line before it");
	/* realloc moving onto another live block */
	check_error("+ 0x10 0x1\n+ 0x20 0x1\n< 0x10\n> 0x20 0x5\n", 4, "> 0x20 0x5",
		    "address 0x20 allocated twice");
	check_error("+ 0x10 0x1000000000000\n", 1, "+ 0x10 0x1000000000000",
		    "size does not fit in 48 bits");
	/* '<' as the last line: located at the '<', no text */
	CHECK_I64(convert("+ 0x10 0x1\n< 0x10\n", 0), MS_EXIT_DATAERR);
	CHECK_U64(err.line, 2);
	CHECK_STR(err.msg, "realloc '<' line not followed by its '>' line");
}

static void test_malformed(void)
{
	static const char *bad[] = {
		"hello\n", "+ 0x10\n", "+ 10 0x5\n", "- 0x10 0x5\n", "@ ./p:[0x1]+ 0x1 0x1\n",
		"@ nocaller + 0x1 0x1\n", "= Begin\n", "< (nil)\n", "+ 0x0 0x1\n",
		"+ 0x10 5\n", "+ 0x10000000000000000 0x1\n", "* 0x10\n", "+0x10 0x1\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[64];

		snprintf(text, sizeof text, "%.*s", (int)strlen(bad[i]) - 1, bad[i]);
		check_error(bad[i], 1, text, "not a glibc mtrace line");
	}
}

static void test_lenient(void)
{
	char line[512];
	static const char log[] =
		"- 0x100\n"                     /* unknown free: dropped */
		"+ 0x10 0x1\n"                  /* a 1 1 */
		"+ 0x10 0x2\n"                  /* double: f 1, a 2 2 */
		"< 0x20\n> 0x30 0x3\n"          /* unknown realloc: a 3 3 */
		"< 0x30\n- 0x30\n"              /* '<' unpaired: 3 stays live,
						 * then the free frees it: f 3 */
		"> 0x40 0x4\n"                  /* '>' unpaired: a 4 4 */
		"garbage\n"                     /* malformed: skipped */
		"+ 0x50 0x5\n";                 /* a 5 5; 10 lines in all */

	CHECK_I64(convert(log, 1), 0);
	CHECK_STR(result, "a 1 1\nf 1\na 2 2\na 3 3\nf 3\na 4 4\na 5 5\n");
	CHECK_U64(counts.unknown_frees, 1);
	CHECK_U64(counts.double_allocs, 1);
	CHECK_U64(counts.unknown_reallocs, 1);
	CHECK_U64(counts.unpaired, 2);
	CHECK_U64(counts.malformed, 1);
	CHECK_U64(counts.allocs, 5);
	CHECK_U64(counts.frees, 2);
	CHECK_U64(counts.live_at_end, 3);   /* IDs 2, 4 and 5 */
	mtrace_counts_format(&counts, line, sizeof line);
	CHECK_STR(line, "10 lines read, 5 allocations, 0 reallocs, 2 frees, "
			"1 frees of unallocated addresses skipped, "
			"1 reallocs of unallocated addresses taken as allocations, "
			"1 addresses allocated twice (earlier block taken as freed), "
			"2 unpaired realloc lines, 1 malformed lines skipped, "
			"3 blocks live at the end");
}

/* 5000 blocks 16 bytes apart grow the map from 1024 slots to 16384
 * (half full at most); freeing them in the order i*7 mod 5000 (7 is
 * prime to 5000, so every block once) exercises backward-shift deletion
 * across collisions. Block i has ID i+1, so the frees must name
 * (i*7 mod 5000) + 1 in turn. */
static void test_many_blocks(void)
{
	static char log[5000 * 48];
	static char want[5000 * 24];
	size_t o = 0, w = 0;

	for (int i = 0; i < 5000; i++) {
		o += (size_t)snprintf(log + o, sizeof log - o, "+ 0x%x 0x%x\n", 0x10000 + 16 * i, i);
		w += (size_t)snprintf(want + w, sizeof want - w, "a %d %d\n", i + 1, i);
	}
	for (int i = 0; i < 5000; i++) {
		int b = i * 7 % 5000;

		o += (size_t)snprintf(log + o, sizeof log - o, "- 0x%x\n", 0x10000 + 16 * b);
		w += (size_t)snprintf(want + w, sizeof want - w, "f %d\n", b + 1);
	}
	CHECK_I64(convert(log, 0), 0);
	CHECK(strcmp(result, want) == 0);
	CHECK_U64(counts.live_at_end, 0);
	CHECK_U64(counts.allocs, 5000);
	CHECK_U64(counts.frees, 5000);
}

/* The writer's error comes back unchanged, naming the output file:
 * 40000 allocations "a N 1" of 6-10 bytes each (388894 bytes in all)
 * overflow the writer's 64 KiB stage plus the sink's 256 KiB buffer, so
 * /dev/full fails during the conversion. */
static void test_write_error(void)
{
	static char log[40000 * 24];
	struct ms_error werr;
	struct trace_writer *w;
	size_t o = 0;
	FILE *in;

	if (access("/dev/full", W_OK) != 0) {
		TEST_SKIP("no /dev/full");
		return;
	}
	for (int i = 0; i < 40000; i++)
		o += (size_t)snprintf(log + o, sizeof log - o, "+ 0x%x 0x1\n", 0x10000 + 16 * i);
	in = fmemopen(log, o, "r");
	w = tracewrite_create("/dev/full", &tracewrite_text, 0, 1, NULL, &werr);
	CHECK_I64(mtrace_convert(in, "t.log", w, 0, &counts, &err), MS_EXIT_IOERR);
	CHECK_STR(err.file, "/dev/full");
	CHECK_U64(err.line, 0);
	CHECK_STR(err.msg, "cannot write: No space left on device");
	tracewrite_close(w, NULL);
	fclose(in);
}

static void test_metadata(void)
{
	char buf[128];

	mtrace_metadata("dir/a \"b\"\\c.log", buf, sizeof buf);
	CHECK_STR(buf, "{\"source\":\"mtrace\",\"input\":\"dir/a \\\"b\\\"\\\\c.log\"}");
}

int main(void)
{
	TEST_RUN(test_recorded_log);
	TEST_RUN(test_caller_forms);
	TEST_RUN(test_nil_lines);
	TEST_RUN(test_errors);
	TEST_RUN(test_malformed);
	TEST_RUN(test_lenient);
	TEST_RUN(test_many_blocks);
	TEST_RUN(test_write_error);
	TEST_RUN(test_metadata);
	return test_done();
}
