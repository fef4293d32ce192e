/*
 * test_heaptrack.c - heaptrack data files to memsim events: hand-written
 * files in the grammar of heaptrack 1.4.0 (heaptrack.h lists it with its
 * source), read plain, gzip and zstd; call-stack nodes with inlined
 * frames and operator new; LIFO frees; time; every error message. Real
 * recordings are checked against heaptrack_print in tests/e2e/heaptrack.sh.
 */
#include "heaptrack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "test.h"

static char path[64];
static char log_buf[1 << 16];
static struct ms_error err;

static void put_file(const void *data, size_t n)
{
	FILE *f;

	snprintf(path, sizeof path, "/tmp/test_heaptrack.%ld", (long)getpid());
	f = fopen(path, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
}

/* Reads the file at `path` to the end and writes its events to log_buf,
 * one per line: "k SITE PARENT FRAME", "a ID SIZE ^SITE", "f ID", "@ NS".
 * Returns 0 at a clean end, -1 on error (err filled), -2 when open failed. */
static int read_events(void)
{
	struct heaptrack_reader *r = heaptrack_open(path, &err);
	struct heaptrack_event ev;
	size_t at = 0;
	int rc;

	log_buf[0] = '\0';
	if (!r)
		return -2;
	while ((rc = heaptrack_next(r, &ev, &err)) > 0) {
		switch (ev.kind) {
		case HEAPTRACK_SITE:
			at += (size_t)snprintf(log_buf + at, sizeof log_buf - at, "k %u %u %s\n",
					       ev.site, ev.parent, ev.frame);
			break;
		case HEAPTRACK_ALLOC:
			at += (size_t)snprintf(log_buf + at, sizeof log_buf - at,
					       "a %llu %llu ^%u\n", (unsigned long long)ev.id,
					       (unsigned long long)ev.size, ev.site);
			break;
		case HEAPTRACK_FREE:
			at += (size_t)snprintf(log_buf + at, sizeof log_buf - at, "f %llu\n",
					       (unsigned long long)ev.id);
			break;
		case HEAPTRACK_TIME:
			at += (size_t)snprintf(log_buf + at, sizeof log_buf - at, "@ %llu\n",
					       (unsigned long long)ev.time);
			break;
		}
	}
	heaptrack_close(r);
	return rc;
}

static int read_text(const char *text)
{
	put_file(text, strlen(text));
	return read_events();
}

/* A small file as heaptrack_interpret writes it: main (main.c:7) calls
 * make (an inlined copy of helper at util.h:3 inside make at main.c:4),
 * which calls malloc through operator new; a second ip has only a symbol,
 * a third nothing. */
static const char sample[] =
	"v 10400 3\n"
	"X ./prog --flag a\n"
	"I 1000 5e2924\n"
	"s 6 ./prog\n"                  /* 1 */
	"s 4 main\n"                    /* 2 */
	"s 6 main.c\n"                  /* 3 */
	"i 401000 1 2 3 7\n"            /* ip 1: main at main.c:7 */
	"t 1 0\n"                       /* node 1 */
	"s 6 helper\n"                  /* 4 */
	"s 6 util.h\n"                  /* 5 */
	"s 4 make\n"                    /* 6 */
	"i 401100 1 4 5 3 6 3 4\n"      /* ip 2: helper util.h:3, inlined in make main.c:4 */
	"t 2 1\n"                       /* node 2 */
	"s 1b operator new(unsigned long)\n"   /* 7 */
	"s e libstdc++.so.6\n"          /* 8 */
	"i 7f0000001234 8 7\n"          /* ip 3: operator new, symbol only */
	"t 3 2\n"                       /* node 3: skipped */
	"a 10 3\n"                      /* info 0: 16 bytes at node 3 */
	"+ 0\n"
	"c 5\n"
	"+ 0\n"
	"- 0\n"
	"s 9 libc.so.6\n"               /* 9 */
	"i 7f0000005678 9\n"            /* ip 4: nothing but the module */
	"t 4 1\n"                       /* node 4 */
	"a 100 4\n"                     /* info 1: 256 bytes at node 4 */
	"+ 1\n"
	"R 2a\n"
	"c 5\n"
	"c 7\n"
	"- 1\n"
	"- 0\n"
	"\n"
	"# strings: 9\n"
	"# ips: 4\n";

static const char sample_events[] =
	"k 1 0 main@main.c:7\n"
	"k 2 1 make@main.c:4\n"
	"k 3 2 helper@util.h:3\n"
	"a 1 16 ^3\n"
	"@ 5000000\n"
	"a 2 16 ^3\n"
	"f 2\n"
	"k 4 1 libc.so.6+0x7f0000005678\n"
	"a 3 256 ^4\n"
	"@ 7000000\n"
	"f 3\n"
	"f 1\n";

static void test_sample(void)
{
	struct heaptrack_reader *r;
	struct heaptrack_counts c;
	char *meta;

	CHECK_I64(read_text(sample), 0);
	CHECK_STR(log_buf, sample_events);
	r = heaptrack_open(path, &err);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_U64(heaptrack_info(r)->version, 0x010400);
	CHECK_U64(heaptrack_info(r)->file_version, 3);
	CHECK_STR(heaptrack_info(r)->command, "./prog --flag a");
	meta = heaptrack_metadata(r, "in \"x\".zst");
	CHECK_STR(meta, "{\"source\":\"heaptrack\",\"input\":\"in \\\"x\\\".zst\","
		  "\"heaptrack\":\"1.4.0\",\"file_version\":3,\"level\":\"allocator\","
		  "\"command\":\"./prog --flag a\"}");
	free(meta);
	{
		struct heaptrack_event ev;

		while (heaptrack_next(r, &ev, &err) > 0)
			;
	}
	heaptrack_counts(r, &c);
	/* 35 lines in `sample`; 3 allocations, 3 frees, nodes 1-4 of the
	 * file give 4 memsim nodes (3 dropped as operator new, 2 gives two). */
	CHECK_U64(c.lines, 35);
	CHECK_U64(c.allocs, 3);
	CHECK_U64(c.frees, 3);
	CHECK_U64(c.sites, 4);
	CHECK_U64(c.infos, 2);
	CHECK_U64(c.rss_samples, 1);
	CHECK_U64(c.live_at_end, 0);
	heaptrack_close(r);
	unlink(path);
}

/* The same bytes gzip- and zstd-compressed (and gzip as two members)
 * read to the same events. */
static void test_compressed(void)
{
	size_t n = strlen(sample), half = n / 2;
	uLongf gzcap = (uLongf)compressBound((uLong)n) + 64;
	unsigned char *buf = malloc(2 * gzcap + ZSTD_compressBound(n));
	size_t zn, total = 0;

	for (int member = 0; member < 2; member++) {
		z_stream z;
		const char *from = member ? sample + half : sample;
		size_t len = member ? n - half : half;

		memset(&z, 0, sizeof z);
		deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
		z.next_in = (Bytef *)(uintptr_t)from;
		z.avail_in = (uInt)len;
		z.next_out = buf + total;
		z.avail_out = (uInt)gzcap;
		deflate(&z, Z_FINISH);
		total += gzcap - z.avail_out;
		deflateEnd(&z);
	}
	put_file(buf, total);
	CHECK_I64(read_events(), 0);
	CHECK_STR(log_buf, sample_events);

	zn = ZSTD_compress(buf, ZSTD_compressBound(n), sample, n, 3);
	CHECK(!ZSTD_isError(zn));
	put_file(buf, zn);
	CHECK_I64(read_events(), 0);
	CHECK_STR(log_buf, sample_events);

	/* Cut short: the stream, not the text, is what is missing. */
	put_file(buf, zn - 3);
	CHECK(read_events() < 0);   /* in heaptrack_open: the file is small */
	CHECK_STR(err.msg, "truncated zstd stream");
	CHECK_U64(err.line, 0);
	buf[zn / 2] ^= 0x55;
	buf[zn / 2 + 1] ^= 0x55;
	put_file(buf, zn);
	CHECK(read_events() < 0);
	CHECK_U64(err.code, MS_EXIT_DATAERR);
	free(buf);
	unlink(path);
}

/* Version 2 files: strings are the rest of the line, spaces kept. */
static void test_version_2(void)
{
	CHECK_I64(read_text("v 10100 2\n"
			    "s operator new[](unsigned long)\n"
			    "s a b\n"
			    "s f.c\n"
			    "i 10 0 2 3 a\n"
			    "t 1 0\n"
			    "i 20 0 1\n"
			    "t 2 1\n"
			    "a 8 2\n"
			    "+ 0\n"
			    "# strings: 3\n# ips: 2\n"), 0);
	/* The space of "a b" is escaped; node 2 (operator new[]) is node 1's. */
	CHECK_STR(log_buf, "k 1 0 a%20b@f.c:10\na 1 8 ^1\n");
}

/* An allocation without a trace (node 0), an ip with no module, and
 * escaping of '%', '^' and bytes above 0x7e. */
static void test_frames(void)
{
	char out[64];

	CHECK_I64(read_text("v 10400 3\n"
			    "s 5 a%b^c\n"
			    "s 4 x\xc3\xa9y\n"
			    "i abc 0 1\n"
			    "t 1 0\n"
			    "i def 0 0 2 1\n"
			    "t 2 1\n"
			    "a 0 0\n"
			    "+ 0\n"
			    "a 1 2\n"
			    "+ 1\n"
			    "+ 0\n"
			    "- 0\n"
			    "# strings: 2\n# ips: 2\n"), 0);
	CHECK_STR(log_buf, "k 1 0 a%25b%5Ec@??+0xabc\n"
		  "k 2 1 ??@x%C3%A9y:1\n"
		  "a 1 0 ^0\na 2 1 ^2\na 3 0 ^0\nf 3\n");
	CHECK_U64(heaptrack_frame_escape(out, " \t", 2), 6);
	out[6] = '\0';
	CHECK_STR(out, "%20%09");
}

struct bad { const char *text, *msg; unsigned long line; int code; size_t len; };

static void test_errors(void)
{
	static const struct bad cases[] = {
		{ "", "not a heaptrack data file (it is empty)", 0, 65, 0 },
		{ "#memsim-trace 1\na 1 2\n", "not a heaptrack data file (the first line is "
		  "not 'v VERSION FILEVERSION')", 1, 65, 0 },
		{ "v 10600 4\n", "unsupported heaptrack file format version 4 (heaptrack "
		  "1.6.0); memsim reads versions 1 to 3", 1, 65, 0 },
		{ "v 9000 0\n", "unsupported heaptrack file format version 0 (heaptrack "
		  "0.144.0); memsim reads versions 1 to 3", 1, 65, 0 },
		{ "v 10400 3\n+ 10 1 55aa00\n", "uninterpreted heaptrack data (heaptrack "
		  "--raw): run heaptrack_interpret on it", 2, 65, 0 },
		{ "v 10400 3\nx 5 /bin/ls\n", "uninterpreted heaptrack data (heaptrack "
		  "--raw): run heaptrack_interpret on it", 2, 65, 0 },
		{ "v 10400 3\n+ 0\n", "allocation info 0 is not defined yet", 2, 65, 0 },
		{ "v 10400 3\na 8 0\n- 0\n", "free of allocation info 0 with no live "
		  "allocation", 3, 65, 0 },
		{ "v 10400 3\nt 1 0\n", "ip 1 is not defined yet", 2, 65, 0 },
		{ "v 10400 3\ni 10 3\n", "string 3 is not defined yet", 2, 65, 0 },
		{ "v 10400 3\na 8 2\n", "trace node 2 is not defined yet", 2, 65, 0 },
		{ "v 10400 3\ns 4 abc\n", "string length 4 does not match the 3 bytes "
		  "that follow", 2, 65, 0 },
		{ "v 10400 3\na 8 0\n+ 0 \n", "malformed '+' line: one hex allocation "
		  "info expected", 3, 65, 0 },
		{ "v 10400 3\na 8G 0\n", "malformed 'a' line: a hex size expected", 2, 65, 0 },
		{ "v 10400 3\na 1000000000000 0\n", "allocation size 281474976710656 does "
		  "not fit in 48 bits", 2, 65, 0 },
		{ "v 10400 3\nc 10\nc f\n", "time goes backwards (from 16 ms to 15 ms)", 3, 65, 0 },
		{ "v 10400 3\nQ 1\n", "unknown heaptrack line 'Q'", 2, 65, 0 },
		{ "v 10400 3\nv 10400 3\n", "a second 'v' (version) line", 2, 65, 0 },
		{ "v 10400 3\na 8 0\n+ 0\n", "truncated heaptrack data (no '# strings: N' "
		  "and '# ips: N' lines, which heaptrack_interpret writes last)", 0, 65, 0 },
		{ "v 10400 3\na 8 0\n+ 0", "truncated heaptrack data (ends inside a line)", 3, 65, 0 },
		{ "v 10400 3\n# strings: 1\n", "the end line counts 1 strings, the file has 0 "
		  "(corrupt or spliced data)", 2, 65, 0 },
		{ "v 10400 3\n# strings: 0\n# ips: 0\na 8 0\n", "data after the end lines", 4, 65, 0 },
		{ "v 10400 3\na 8\0 0\n", "NUL byte in line", 2, 65, 17 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad *b = &cases[i];
		int rc;

		put_file(b->text, b->len ? b->len : strlen(b->text));
		rc = read_events();
		if (!CHECK(rc < 0))
			printf("# case %zu: no error\n", i);
		CHECK_STR(err.msg, b->msg);
		CHECK_U64(err.line, b->line);
		CHECK_I64(err.code, b->code);
		CHECK_STR(err.file, path);
	}
	put_file("v 10400 3\nQ 1\n", 14);
	read_events();
	CHECK_STR(err.text, "Q 1");
	unlink(path);
	CHECK_I64(read_events(), -2);
	CHECK_I64(err.code, MS_EXIT_NOINPUT);
}

/* Many blocks of one info, freed in turns: LIFO per info, IDs never
 * reused, and the slot array stays at the peak live count. */
static void test_many_blocks(void)
{
	char *text = malloc(1 << 20);
	size_t at = 0;
	struct heaptrack_reader *r;
	struct heaptrack_event ev;
	uint64_t expect_free = 0, frees = 0, last_id = 0;
	int ok = 1;

	at += (size_t)sprintf(text + at, "v 10400 3\na 20 0\na 40 0\n");
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 1000; i++)
			at += (size_t)sprintf(text + at, "+ %d\n", i & 1);
		for (int i = 0; i < 1000; i++)
			at += (size_t)sprintf(text + at, "- %d\n", i & 1);
	}
	at += (size_t)sprintf(text + at, "# strings: 0\n# ips: 0\n");
	put_file(text, at);
	r = heaptrack_open(path, &err);
	CHECK(r != NULL);
	if (!r)
		goto out;
	/* In each round IDs base+1..base+1000 are made; info 0 holds the odd
	 * ones (i even), info 1 the even ones. Frees alternate 0, 1, 0, ...
	 * and take each info's latest: base+999, base+1000, base+997, ... */
	while (heaptrack_next(r, &ev, &err) > 0) {
		if (ev.kind == HEAPTRACK_ALLOC) {
			ok &= ev.id == last_id + 1;
			last_id = ev.id;
		} else if (ev.kind == HEAPTRACK_FREE) {
			uint64_t base = (frees / 1000) * 1000, k = frees % 1000;

			expect_free = base + 1000 - (k & 1 ? 0 : 1) - 2 * (k / 2);
			ok &= ev.id == expect_free;
			frees++;
		}
	}
	CHECK(ok);
	CHECK_U64(frees, 3000);
	CHECK_U64(last_id, 3000);
	heaptrack_close(r);
out:
	free(text);
	unlink(path);
}

/* An argument with a newline splits the 'X' line (libheaptrack writes the
 * arguments as they are); lines up to 'I' belong to the command. */
static void test_split_command(void)
{
	struct heaptrack_reader *r;

	put_file("v 10400 3\nX python3 -c import x\nprint(1)\nI 1000 10\n"
		 "# strings: 0\n# ips: 0\n", 73);
	r = heaptrack_open(path, &err);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_STR(heaptrack_info(r)->command, "python3 -c import x\nprint(1)");
	heaptrack_close(r);
	unlink(path);
}

static void test_counts_format(void)
{
	struct heaptrack_counts c = { .lines = 10, .allocs = 2, .frees = 1,
				      .live_at_end = 1 };
	char buf[256];

	heaptrack_counts_format(&c, buf, sizeof buf);
	CHECK_STR(buf, "10 lines read, 2 allocations, 1 frees, 1 blocks live at the end");
}

int main(void)
{
	TEST_RUN(test_sample);
	TEST_RUN(test_compressed);
	TEST_RUN(test_version_2);
	TEST_RUN(test_frames);
	TEST_RUN(test_errors);
	TEST_RUN(test_many_blocks);
	TEST_RUN(test_split_command);
	TEST_RUN(test_counts_format);
	return test_done();
}
