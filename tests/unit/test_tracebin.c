/*
 * test_tracebin.c - the binary trace form (sim/tracebin.c,
 * docs/binary-format.md): exact bytes of a hand-encoded trace, round trips
 * of every kind with edge values, a type table of a million names, gzip,
 * every decoder error message and the encoder's contract errors.
 *
 * Expected bytes are derived by hand from the format's rules in the
 * comments; nothing is copied from the program's output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "sink.h"
#include "trace.h"
#include "tracebin.h"
#include "tracewrite.h"

static char tmpdir[64];
static const struct trace_names no_names;

/* The name tables of a reader, for tracewrite_put. */
static struct trace_names names_of(const struct trace_reader *r)
{
	return (struct trace_names){ trace_types(r), trace_sites(r), trace_labels(r) };
}

/* The smallest header: magic, version 1, flags 0, no metadata. */
static const unsigned char head[] = {
	0x89, 'M', 'S', 'B', '\r', '\n', 0x1a, '\n', 0x01, 0x00, 0x00,
};

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		printf("# cannot write %s\n", path);
		exit(1);
	}
}

static unsigned char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 20);

	*n = f ? fread(buf, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static unsigned char version_byte = 1;  /* of the header write_body writes */

/* Writes head (with version_byte) + body to "t.msb". */
static void write_body(const unsigned char *body, size_t n)
{
	unsigned char buf[512];

	memcpy(buf, head, sizeof head);
	buf[8] = version_byte;
	memcpy(buf + sizeof head, body, n);
	write_file("t.msb", buf, sizeof head + n);
}

/* Reads "t.msb" to its end; returns the events read and the error. */
static uint64_t read_all(struct ms_error *err, int *rc)
{
	struct trace_reader *r;
	struct event ev;
	uint64_t n = 0;

	ms_error_clear(err);
	r = trace_open("t.msb", err);
	if (!r) {
		*rc = -2;
		return 0;
	}
	while ((*rc = trace_next(r, &ev, err)) > 0)
		n++;
	trace_close(r);
	return n;
}

/* The formatted error after reading head + body. */
static const char *body_error(const unsigned char *body, size_t n, uint64_t *events)
{
	static char line[1024];
	struct ms_error err;
	int rc;

	write_body(body, n);
	*events = read_all(&err, &rc);
	if (rc >= 0)
		return "(no error)";
	if (err.code != MS_EXIT_DATAERR)
		printf("# error code %d\n", err.code);
	ms_error_format(&err, line, sizeof line);
	return line;
}

#define BODY_ERROR(events, expect, ...) do { \
	static const unsigned char body_[] = { __VA_ARGS__ }; \
	uint64_t got_; \
	CHECK_STR(body_error(body_, sizeof body_, &got_), expect); \
	CHECK_U64(got_, events); \
} while (0)

/* The cycle example of the trace format, encoded by hand:
 *   header: magic, 01 (version), 00 (flags), 00 (no metadata)
 *   a 1 56 list  03 (ALLOC_NEW) 02 (zigzag(1 - 0) = 2) 38 (56) 04 "list"
 *   a 2 56 list  10 (short form, type 1) 02 (zigzag(2 - 1)) 38
 *   + 1 2        06 02 (src: zigzag(1 - 0)) 00 (dst: zigzag(2 - 2); an
 *                `a` sets the DST predictor to its ID)
 *   + 2 1        06 02 (zigzag(2 - 1)) 01 (zigzag(1 - 2) = 1)
 *   - 0 1        09 (root drop) 00 (zigzag(1 - 1))
 *   - 0 2        09 02 (zigzag(2 - 1))
 *   c            0a
 *   end          00 07 (7 events) */
static const unsigned char cycle_bytes[] = {
	0x89, 'M', 'S', 'B', '\r', '\n', 0x1a, '\n', 0x01, 0x00, 0x00,
	0x03, 0x02, 0x38, 0x04, 'l', 'i', 's', 't',
	0x10, 0x02, 0x38,
	0x06, 0x02, 0x00,
	0x06, 0x02, 0x01,
	0x09, 0x00,
	0x09, 0x02,
	0x0a,
	0x00, 0x07,
};

static void test_exact_bytes(void)
{
	struct ms_error err;
	struct trace_writer *w = tracewrite_create("c.msb", &tracewrite_binary, 0, 1, NULL, &err);
	unsigned char *got;
	size_t n;

	CHECK(w != NULL);
	CHECK_U64(tracewrite_alloc(w, 1, 56, "list", 0), 0);
	CHECK_U64(tracewrite_alloc(w, 2, 56, "list", 0), 0);
	CHECK_U64(tracewrite_ref_add(w, 1, 2), 0);
	CHECK_U64(tracewrite_ref_add(w, 2, 1), 0);
	CHECK_U64(tracewrite_ref_drop(w, 0, 1), 0);
	CHECK_U64(tracewrite_ref_drop(w, 0, 2), 0);
	CHECK_U64(tracewrite_collect(w, EVENT_GEN_DEFAULT), 0);
	CHECK_U64(tracewrite_records(w), 7);
	CHECK_U64(tracewrite_close(w, &err), 0);
	got = read_file("c.msb", &n);
	CHECK_U64(n, sizeof cycle_bytes);
	CHECK(n == sizeof cycle_bytes && memcmp(got, cycle_bytes, n) == 0);
	free(got);
	unlink("c.msb");
}

/* Every kind with edge values, written and read back. */
static void test_round_trip_edges(void)
{
	static const struct event evs[] = {
		{ .kind = EVENT_ALLOC, .id = UINT64_MAX, .u.size = EVENT_SIZE_MAX, .type = 1 },
		{ .kind = EVENT_ALLOC, .id = 1, .u.size = 0 },
		{ .kind = EVENT_ALLOC, .id = 2, .u.size = 128, .type = 2 },
		{ .kind = EVENT_ALLOC, .id = 3, .u.size = 16383, .type = 1 },
		{ .kind = EVENT_RESIZE, .id = UINT64_MAX, .u.size = 16384 },
		{ .kind = EVENT_REF_ADD, .id = UINT64_MAX, .u.dst = 1 },
		{ .kind = EVENT_REF_ADD, .id = 0, .u.dst = UINT64_MAX },
		{ .kind = EVENT_REF_DROP, .id = 1, .u.dst = 1 },
		{ .kind = EVENT_REF_DROP, .id = 0, .u.dst = 2 },
		{ .kind = EVENT_COLLECT, .u.gen = EVENT_GEN_DEFAULT },
		{ .kind = EVENT_COLLECT, .u.gen = 0 },
		{ .kind = EVENT_COLLECT, .u.gen = UINT64_MAX - 1 },
		{ .kind = EVENT_SAFEPOINT },
		{ .kind = EVENT_TIME, .u.time = 0 },
		{ .kind = EVENT_TIME, .u.time = 0 },
		{ .kind = EVENT_TIME, .u.time = 1 },
		{ .kind = EVENT_TIME, .u.time = UINT64_MAX },
		{ .kind = EVENT_FREE, .id = UINT64_MAX },
		{ .kind = EVENT_FREE, .id = 1 },
	};
	static const char *const names[] = { "", "_io.TextIOWrapper",
		"A23456789012345678901234567890123456789012345678901234567890123" };
	const size_t n = sizeof evs / sizeof evs[0];
	struct ms_error err;
	struct trace_writer *w = tracewrite_create("e.msb", &tracewrite_binary, 0, 1,
						   "{\"k\": [1, \"x\"]}", &err);
	struct trace_reader *r;
	struct event ev;
	size_t i = 0;

	CHECK(w != NULL);
	for (size_t k = 0; k < n; k++) {
		const struct event *e = &evs[k];

		if (e->kind == EVENT_ALLOC)
			CHECK_U64(tracewrite_alloc(w, e->id, e->u.size,
						   e->type ? names[e->type] : NULL, 0), 0);
		else
			CHECK_U64(tracewrite_put(w, e, &no_names), 0);
	}
	CHECK_U64(tracewrite_close(w, &err), 0);
	r = trace_open("e.msb", &err);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(trace_is_binary(r));
	CHECK_STR(trace_metadata(r), "{\"k\": [1, \"x\"]}");
	ms_error_clear(&err);
	while (trace_next(r, &ev, &err) > 0 && i < n) {
		CHECK_U64(ev.kind, evs[i].kind);
		CHECK_U64(ev.id, evs[i].id);
		CHECK_U64(ev.u.size, evs[i].u.size);
		if (ev.kind == EVENT_ALLOC)
			CHECK_STR(typetab_name(trace_types(r), ev.type),
				  names[evs[i].type]);
		i++;
	}
	CHECK_U64(i, n);
	CHECK_U64(err.code, 0);
	CHECK_U64(trace_event_count(r), n);
	CHECK(trace_has_time(r));
	/* The last event, `f 1`, located as the text form would print it. */
	ms_error_clear(&err);
	trace_locate(r, &err);
	CHECK_U64(err.line, n);
	CHECK(err.in_binary);
	CHECK_STR(err.text, "f 1");
	trace_close(r);
	unlink("e.msb");
}

/* A million distinct type names: indices 1..240 use the short opcodes,
 * the rest the long form; reading them back numbers them the same. */
static void test_million_types(void)
{
	enum { N = 1000000 };
	struct ms_error err;
	struct trace_writer *w = tracewrite_create("m.msb.gz", &tracewrite_binary, SINK_GZIP, 1, "{}", &err);
	struct trace_reader *r;
	struct event ev;
	char name[32];
	uint64_t i = 0, bad = 0;

	for (uint64_t k = 0; k < N; k++) {
		snprintf(name, sizeof name, "t%llu", (unsigned long long)k);
		tracewrite_alloc(w, k + 1, k & 1023, name, 0);
	}
	/* The first and the last type again: short and long forms. */
	tracewrite_free(w, 1);
	tracewrite_alloc(w, 1, 8, "t0", 0);
	tracewrite_free(w, N);
	tracewrite_alloc(w, N, 8, "t999999", 0);
	CHECK_U64(tracewrite_close(w, &err), 0);
	r = trace_open("m.msb.gz", &err);
	CHECK(r != NULL);
	if (!r)
		return;
	ms_error_clear(&err);
	while (trace_next(r, &ev, &err) > 0) {
		if (i < N) {
			snprintf(name, sizeof name, "t%llu", (unsigned long long)i);
			bad += ev.type != i + 1 || ev.u.size != (i & 1023) ||
			       strcmp(typetab_name(trace_types(r), ev.type), name) != 0;
		}
		i++;
	}
	CHECK_U64(bad, 0);
	CHECK_U64(i, N + 4);
	CHECK_U64(ev.type, N);          /* the last event: a N 8 t999999 */
	CHECK_U64(typetab_count(trace_types(r)), N + 1);
	CHECK_U64(err.code, 0);
	trace_close(r);
	unlink("m.msb.gz");
}

/* Binary -> normalised text -> binary through the writers gives the same
 * bytes; the text is what the format says. */
static void test_text_round_trip(void)
{
	struct ms_error err;
	struct trace_reader *r;
	struct trace_writer *tw;
	struct trace_writer *bw;
	struct trace_names names;
	struct event ev;
	unsigned char *got;
	size_t n;

	write_file("c0.msb", cycle_bytes, sizeof cycle_bytes);
	r = trace_open("c0.msb", &err);
	names = names_of(r);
	tw = tracewrite_start(sink_open("c.trace", 0, &err), &tracewrite_text, 1,
			      trace_metadata(r), &err);
	while (trace_next(r, &ev, &err) > 0)
		tracewrite_put(tw, &ev, &names);
	CHECK_U64(tracewrite_records(tw), 7);     /* the 7 event lines below */
	CHECK_U64(tracewrite_close(tw, &err), 0);
	trace_close(r);
	got = read_file("c.trace", &n);
	got[n] = '\0';
	CHECK_STR((char *)got, "#memsim-trace 1\na 1 56 list\na 2 56 list\n"
		  "+ 1 2\n+ 2 1\n- 0 1\n- 0 2\nc\n");
	free(got);
	r = trace_open("c.trace", &err);
	names = names_of(r);
	bw = tracewrite_start(sink_open("c1.msb", 0, &err), &tracewrite_binary, 1,
			      trace_metadata(r), &err);
	while (trace_next(r, &ev, &err) > 0)
		tracewrite_put(bw, &ev, &names);
	CHECK_U64(tracewrite_close(bw, &err), 0);
	trace_close(r);
	got = read_file("c1.msb", &n);
	CHECK(n == sizeof cycle_bytes && memcmp(got, cycle_bytes, n) == 0);
	free(got);
	unlink("c0.msb");
	unlink("c1.msb");
	unlink("c.trace");
}

/* A version-2 trace with every version-2 record, encoded by hand:
 *   header: magic, 02 (version 2), 00 (flags), 00 (no metadata)
 *   k 1 0 f          0e 01 (site) 02 (zigzag(1 - 0)) 00 (outermost) 01 'f'
 *   k 2 1 g          0e 01 02 (zigzag(2 - 1)) 01 (the parent is 1 node
 *                    back: index 2 - index 1) 01 'g'
 *   a 1 16 list ^2   0f 02 (site prefix: node index 2), then 03 02 10 04 "list"
 *   r 1 32 ^1        0f 01, then 05 02 (zigzag(1 - 0), the OBJ role) 20
 *   m go             0e 02 02 'g' 'o'
 *   g 1              0e 03 01
 *   f 1              04 00 (zigzag(1 - 1))
 *   g                0e 04
 *   h                0e 05
 *   e 0 1 1          0e 06 00 (zigzag(0 - 0)), chunk of 02: 02 (zigzag(1 - 0),
 *                    the first DST against SRC) 00 (zigzag(1 - 1)), then 00
 *                    (no more chunks)
 *   end              00 0a (10 records) */
static const unsigned char v2_bytes[] = {
	0x89, 'M', 'S', 'B', '\r', '\n', 0x1a, '\n', 0x02, 0x00, 0x00,
	0x0e, 0x01, 0x02, 0x00, 0x01, 'f',
	0x0e, 0x01, 0x02, 0x01, 0x01, 'g',
	0x0f, 0x02, 0x03, 0x02, 0x10, 0x04, 'l', 'i', 's', 't',
	0x0f, 0x01, 0x05, 0x02, 0x20,
	0x0e, 0x02, 0x02, 'g', 'o',
	0x0e, 0x03, 0x01,
	0x04, 0x00,
	0x0e, 0x04,
	0x0e, 0x05,
	0x0e, 0x06, 0x00, 0x02, 0x02, 0x00, 0x00,
	0x00, 0x0a,
};

static const char v2_text[] =
	"#memsim-trace 2\nk 1 0 f\nk 2 1 g\na 1 16 list ^2\nr 1 32 ^1\nm go\n"
	"g 1\nf 1\ng\nh\ne 0 1 1\n";

static void test_v2_exact_bytes(void)
{
	static const uint64_t dst[] = { 1, 1 };
	struct ms_error err;
	struct trace_writer *w = tracewrite_create("v.msb", &tracewrite_binary, 0, 2,
						   NULL, &err);
	struct trace_reader *r;
	struct trace_names names;
	struct event ev;
	unsigned char *got;
	size_t n;

	CHECK(w != NULL);
	CHECK_U64(tracewrite_site(w, 1, 0, "f"), 0);
	CHECK_U64(tracewrite_site(w, 2, 1, "g"), 0);
	CHECK_U64(tracewrite_alloc(w, 1, 16, "list", 2), 0);
	CHECK_U64(tracewrite_resize(w, 1, 32, 1), 0);
	CHECK_U64(tracewrite_mark(w, "go"), 0);
	CHECK_U64(tracewrite_gc_begin(w, 1), 0);
	CHECK_U64(tracewrite_free(w, 1), 0);
	CHECK_U64(tracewrite_gc_end(w), 0);
	CHECK_U64(tracewrite_snapshot(w), 0);
	CHECK_U64(tracewrite_refs(w, 0, dst, 2), 0);
	CHECK_U64(tracewrite_records(w), 10);
	CHECK_U64(tracewrite_close(w, &err), 0);
	got = read_file("v.msb", &n);
	CHECK_U64(n, sizeof v2_bytes);
	CHECK(n == sizeof v2_bytes && memcmp(got, v2_bytes, n) == 0);
	free(got);

	/* Read back: the events, then as normalised text, then binary again. */
	r = trace_open("v.msb", &err);
	CHECK(r != NULL);
	if (!r)
		return;
	names = names_of(r);
	w = tracewrite_create("v.trace", &tracewrite_text, 0, trace_version(r), NULL, &err);
	while (trace_next(r, &ev, &err) > 0) {
		if (ev.kind == EVENT_ALLOC)
			CHECK_U64(sitetab_number(trace_sites(r), ev.site), 2);
		if (ev.kind == EVENT_GC_END)
			CHECK_U64(ev.u.gen, 1);         /* the collection it closes */
		tracewrite_put(w, &ev, &names);
	}
	/* 10 records, the `e` line 1 + 2 events: 12 events. */
	CHECK_U64(trace_event_count(r), 12);
	CHECK_U64(tracewrite_close(w, &err), 0);
	trace_close(r);
	got = read_file("v.trace", &n);
	got[n] = '\0';
	CHECK_STR((char *)got, v2_text);
	free(got);
	r = trace_open("v.trace", &err);
	names = names_of(r);
	w = tracewrite_create("v2.msb", &tracewrite_binary, 0, trace_version(r), NULL, &err);
	while (trace_next(r, &ev, &err) > 0)
		tracewrite_put(w, &ev, &names);
	CHECK_U64(tracewrite_close(w, &err), 0);
	trace_close(r);
	got = read_file("v2.msb", &n);
	CHECK(n == sizeof v2_bytes && memcmp(got, v2_bytes, n) == 0);
	free(got);
	unlink("v.msb");
	unlink("v2.msb");
	unlink("v.trace");
}

/* Every decoder error of the version-2 records (docs/binary-format.md). */
static void test_v2_record_errors(void)
{
	version_byte = 2;
	BODY_ERROR(0, "t.msb: event 1: stack node index 1 is not defined (0 so far)",
		   0x0f, 0x01, 0x01, 0x02, 0x10);
	BODY_ERROR(0, "t.msb: event 1: stack node index 0 is not defined (0 so far)",
		   0x0f, 0x00, 0x01, 0x02, 0x10);
	/* k 1 0 f, then a prefix before `f`. */
	BODY_ERROR(1, "t.msb: event 2: a site prefix before opcode 0x04 (only 'a' and 'r' take a site)",
		   0x0e, 0x01, 0x02, 0x00, 0x01, 'f', 0x0f, 0x01, 0x04, 0x02);
	BODY_ERROR(0, "t.msb: event 1: SITE 0 is the outermost caller; stack nodes are numbered from 1",
		   0x0e, 0x01, 0x00, 0x00, 0x01, 'f');
	/* SITE 1, then zigzag(0): SITE 1 again. */
	BODY_ERROR(1, "t.msb: event 2: stack node 1 is already defined",
		   0x0e, 0x01, 0x02, 0x00, 0x01, 'f', 0x0e, 0x01, 0x00, 0x00, 0x01, 'g');
	BODY_ERROR(0, "t.msb: event 1: parent code 1 names no stack node (0 so far)",
		   0x0e, 0x01, 0x02, 0x01, 0x01, 'f');
	BODY_ERROR(0, "t.msb: event 1: raw space in FRAME (write it as %20)",
		   0x0e, 0x01, 0x02, 0x00, 0x03, 'a', ' ', 'b');
	BODY_ERROR(0, "t.msb: event 1: empty FRAME", 0x0e, 0x01, 0x02, 0x00, 0x00);
	BODY_ERROR(0, "t.msb: event 1: truncated binary trace (the record is cut short)",
		   0x0e, 0x01, 0x02, 0x00, 0x05, 'a');
	/* 16 MiB = 80 80 80 08, above the 16 MiB - 64 a text line can hold. */
	BODY_ERROR(0, "t.msb: event 1: FRAME longer than 16777152 bytes",
		   0x0e, 0x01, 0x02, 0x00, 0x80, 0x80, 0x80, 0x08);
	BODY_ERROR(0, "t.msb: event 1: bad mark label '9x'", 0x0e, 0x02, 0x02, '9', 'x');
	BODY_ERROR(0, "t.msb: event 1: mark label longer than 63 characters", 0x0e, 0x02, 0x40);
	BODY_ERROR(1, "t.msb: event 2: nested 'g': the recorded collection of generation 0 is still open",
		   0x0e, 0x03, 0x00, 0x0e, 0x03, 0x01);
	BODY_ERROR(0, "t.msb: event 1: 'g' without GEN ends a recorded collection, but none is open",
		   0x0e, 0x04);
	/* g 5, then the end record: the error is located at the `g`. */
	BODY_ERROR(1, "t.msb: event 1: the recorded collection of generation 5 is never closed (no 'g' before the end of the trace)",
		   0x0e, 0x03, 0x05, 0x00, 0x01);
	BODY_ERROR(0, "t.msb: event 1: 'e' outside a heap snapshot (it must follow 'h' or another 'e')",
		   0x0e, 0x06, 0x00, 0x01, 0x02);
	BODY_ERROR(1, "t.msb: event 2: an 'e' record needs at least one DST",
		   0x0e, 0x05, 0x0e, 0x06, 0x00, 0x00);
	BODY_ERROR(1, "t.msb: event 2: a chunk of 65 DSTs (at most 64)",
		   0x0e, 0x05, 0x0e, 0x06, 0x00, 0x41);
	/* A chunk of 1 DST, then another chunk: only the last may be short.
	 * Events: h, the `e`, its first DST. */
	BODY_ERROR(3, "t.msb: event 2: non-canonical record: a chunk of fewer than 64 DSTs before the last",
		   0x0e, 0x05, 0x0e, 0x06, 0x00, 0x01, 0x02, 0x01, 0x02, 0x00);
	/* SRC 1 (zigzag 2), DST 1 + unzigzag(1) = 0. */
	BODY_ERROR(2, "t.msb: event 2: ID 0 is the root set and cannot be referenced",
		   0x0e, 0x05, 0x0e, 0x06, 0x02, 0x01, 0x01);
	BODY_ERROR(3, "t.msb: event 2: truncated binary trace (the record is cut short)",
		   0x0e, 0x05, 0x0e, 0x06, 0x00, 0x02, 0x02);
	BODY_ERROR(0, "t.msb: event 1: unknown record opcode 0x0e 0x07", 0x0e, 0x07);
	/* The same record in a version-1 file. */
	version_byte = 1;
	BODY_ERROR(0, "t.msb: event 1: version-2 record (opcode 0x0e) in a version-1 trace",
		   0x0e, 0x05);
}

static void test_record_errors(void)
{
	/* A varint cut by the end of the file: 01 80 <EOF>. */
	BODY_ERROR(0, "t.msb: event 1: truncated binary trace (the record is cut short)",
		   0x01, 0x80);
	/* One good event (a 1 16), then the file ends without 00 COUNT. */
	BODY_ERROR(1, "t.msb: event 2: truncated binary trace (no end record)",
		   0x01, 0x02, 0x10);
	/* 0e and 0f are version-2 records. */
	BODY_ERROR(0, "t.msb: event 1: version-2 record (opcode 0x0e) in a version-1 trace",
		   0x0e, 0x00, 0x00);
	BODY_ERROR(0, "t.msb: event 1: version-2 record (opcode 0x0f) in a version-1 trace",
		   0x0f);
	/* 10 = type 1 in short form, but no type is defined yet. */
	BODY_ERROR(0, "t.msb: event 1: type 1 is not defined (0 types so far)",
		   0x10, 0x02, 0x10, 0x00, 0x01);
	/* 02 with type 300 (ac 02): long form, still undefined. */
	BODY_ERROR(0, "t.msb: event 1: type 300 is not defined (0 types so far)",
		   0x02, 0x02, 0x10, 0xac, 0x02, 0x00, 0x01);
	/* a 1 16 x (type 1), then 02 with type 1: must be the short form. */
	BODY_ERROR(1, "t.msb: event 2: non-canonical record: type 1 has a short opcode",
		   0x03, 0x02, 0x10, 0x01, 'x', 0x02, 0x02, 0x10, 0x01);
	/* dID zigzag 0 from the initial 0: ID 0. */
	BODY_ERROR(0, "t.msb: event 1: ID 0 is the root set and cannot be allocated",
		   0x01, 0x00, 0x10);
	/* 2^48 = six 0x80 bytes then 0x40 (48 = 6 * 7 + 6: bit 6 of byte 7). */
	BODY_ERROR(0, "t.msb: event 1: size 281474976710656 exceeds the 48-bit limit",
		   0x01, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40);
	BODY_ERROR(0, "t.msb: event 1: size 281474976710656 exceeds the 48-bit limit",
		   0x05, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40);
	BODY_ERROR(0, "t.msb: event 1: ID 0 is the root set and cannot be freed",
		   0x04, 0x00);
	BODY_ERROR(0, "t.msb: event 1: ID 0 is the root set and cannot be resized",
		   0x05, 0x00, 0x01);
	BODY_ERROR(0, "t.msb: event 1: ID 0 is the root set and cannot be referenced",
		   0x08, 0x00);
	BODY_ERROR(0, "t.msb: event 1: ID 0 is the root set and cannot be referenced",
		   0x07, 0x02, 0x00);
	BODY_ERROR(0, "t.msb: event 1: non-canonical record: SRC 0 outside the root form",
		   0x06, 0x00, 0x02);
	/* c with GEN 2^64-1: nine 0xff then 0x01. */
	BODY_ERROR(0, "t.msb: event 1: non-canonical record: GEN 2^64-1 outside the plain 'c' form",
		   0x0b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	/* @ 2^64-1, then + 1: beyond 64 bits. */
	BODY_ERROR(1, "t.msb: event 2: time does not fit in 64 bits (18446744073709551615 + 1)",
		   0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
		   0x0d, 0x01);
	/* A 10th byte above 1 carries bits past 2^63. */
	BODY_ERROR(0, "t.msb: event 1: varint does not fit in 64 bits",
		   0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
	BODY_ERROR(0, "t.msb: event 1: varint does not fit in 64 bits",
		   0x0d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	BODY_ERROR(0, "t.msb: event 1: non-canonical record: overlong varint",
		   0x0d, 0x80, 0x00);
	BODY_ERROR(0, "t.msb: event 1: non-canonical record: overlong varint",
		   0x01, 0x02, 0x90, 0x80, 0x00);
	BODY_ERROR(0, "t.msb: event 1: bad type name '1ab'",
		   0x03, 0x02, 0x10, 0x03, '1', 'a', 'b');
	BODY_ERROR(0, "t.msb: event 1: bad type name ''", 0x03, 0x02, 0x10, 0x00);
	BODY_ERROR(0, "t.msb: event 1: bad type name 'a\\x00'",
		   0x03, 0x02, 0x10, 0x02, 'a', 0x00);
	BODY_ERROR(0, "t.msb: event 1: type name longer than 63 characters",
		   0x03, 0x02, 0x10, 0x40);
	BODY_ERROR(1, "t.msb: event 2: type name 'x' defined twice",
		   0x03, 0x02, 0x10, 0x01, 'x', 0x03, 0x02, 0x10, 0x01, 'x');
	/* A name cut by the end of the file. */
	BODY_ERROR(0, "t.msb: event 1: truncated binary trace (the record is cut short)",
		   0x03, 0x02, 0x10, 0x05, 'a', 'b');
	BODY_ERROR(0, "t.msb: end record counts 5 events but 0 came before it",
		   0x00, 0x05);
	BODY_ERROR(0, "t.msb: data after the end record", 0x00, 0x00, 0x01);
	BODY_ERROR(0, "t.msb: event 1: truncated binary trace (the record is cut short)",
		   0x00);
}

/* "00 00" (END, count 0) right after the header: an empty trace. */
static void test_empty_trace(void)
{
	static const unsigned char end[] = { 0x00, 0x00 };
	struct ms_error err;
	int rc;

	write_body(end, sizeof end);
	CHECK_U64(read_all(&err, &rc), 0);
	CHECK_I64(rc, 0);
}

/* The error repeats once it happened. */
static void test_sticky(void)
{
	static const unsigned char body[] = { 0x01, 0x02, 0x10, 0x0e };
	struct ms_error err, again;
	struct trace_reader *r;
	struct event ev;

	write_body(body, sizeof body);
	r = trace_open("t.msb", &err);
	CHECK_I64(trace_next(r, &ev, &err), 1);
	CHECK_I64(trace_next(r, &ev, &err), -1);
	CHECK_I64(trace_next(r, &ev, &again), -1);
	CHECK_STR(again.msg, err.msg);
	CHECK_U64(again.line, 2);
	trace_close(r);
}

static const char *open_error(const unsigned char *p, size_t n)
{
	static char line[1024];
	struct ms_error err;
	struct trace_reader *r;

	write_file("h.msb", p, n);
	ms_error_clear(&err);
	r = trace_open("h.msb", &err);
	if (r) {
		struct event ev;

		if (trace_next(r, &ev, &err) >= 0) {
			trace_close(r);
			return "(no error)";
		}
		trace_close(r);
	}
	ms_error_format(&err, line, sizeof line);
	return line;
}

#define OPEN_ERROR(expect, ...) do { \
	static const unsigned char b_[] = { __VA_ARGS__ }; \
	CHECK_STR(open_error(b_, sizeof b_), expect); \
} while (0)

#define MAGIC 0x89, 'M', 'S', 'B', '\r', '\n', 0x1a, '\n'

static void test_header_errors(void)
{
	OPEN_ERROR("h.msb: truncated binary trace header", MAGIC);
	OPEN_ERROR("h.msb: truncated binary trace header", MAGIC, 0x01);
	OPEN_ERROR("h.msb: unsupported binary trace version 3", MAGIC, 0x03, 0x00, 0x00);
	OPEN_ERROR("h.msb: unsupported binary trace version 0", MAGIC, 0x00, 0x00, 0x00);
	OPEN_ERROR("h.msb: unknown binary trace flags 0x1", MAGIC, 0x01, 0x01, 0x00);
	OPEN_ERROR("h.msb: truncated binary trace header", MAGIC, 0x01, 0x00, 0x05, '{', '}');
	OPEN_ERROR("h.msb: metadata is not valid JSON", MAGIC, 0x01, 0x00, 0x02, '{', 'x',
		   0x00, 0x00);
	OPEN_ERROR("h.msb: metadata is not a JSON object", MAGIC, 0x01, 0x00, 0x02, '[', ']',
		   0x00, 0x00);
	OPEN_ERROR("h.msb: NUL byte in metadata", MAGIC, 0x01, 0x00, 0x03, '{', 0, '}',
		   0x00, 0x00);
	OPEN_ERROR("h.msb: non-canonical metadata: it must run from '{' to '}' on one line",
		   MAGIC, 0x01, 0x00, 0x03, ' ', '{', '}', 0x00, 0x00);
	OPEN_ERROR("h.msb: non-canonical metadata: it must run from '{' to '}' on one line",
		   MAGIC, 0x01, 0x00, 0x03, '{', '\n', '}', 0x00, 0x00);
	/* 16 MiB + 1 = 0x1000001: 81 80 80 08. */
	OPEN_ERROR("h.msb: metadata longer than 16777216 bytes",
		   MAGIC, 0x01, 0x00, 0x81, 0x80, 0x80, 0x08);
	OPEN_ERROR("h.msb: bad flags in the binary trace header",
		   MAGIC, 0x01, 0x80, 0x00, 0x00);
	/* A prefix of the magic is no binary trace: it is a text line. */
	/* (the reader takes the last "\r" and the supplied "\n" as the
	 * line end) */
	OPEN_ERROR("h.msb:1: unknown event '\\x89MSB': \"\\x89MSB\"",
		   0x89, 'M', 'S', 'B', '\r');
	OPEN_ERROR("(no error)", MAGIC, 0x01, 0x00, 0x02, '{', '}', 0x00, 0x00);
	unlink("h.msb");
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/memsim-tracebin-XXXXXX");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	TEST_RUN(test_exact_bytes);
	TEST_RUN(test_round_trip_edges);
	TEST_RUN(test_million_types);
	TEST_RUN(test_text_round_trip);
	TEST_RUN(test_record_errors);
	TEST_RUN(test_v2_exact_bytes);
	TEST_RUN(test_v2_record_errors);
	TEST_RUN(test_empty_trace);
	TEST_RUN(test_sticky);
	TEST_RUN(test_header_errors);
	unlink("t.msb");
	if (chdir("/") != 0 || rmdir(tmpdir) != 0)
		printf("# could not remove %s\n", tmpdir);
	return test_done();
}
