/*
 * test_record.c - the results record and the formats that read it:
 *  - value formatting for people (report_value), by hand;
 *  - freezing: a record built by replaying a hand-written trace holds
 *    the numbers derived by hand in the comments (per generation, per
 *    type, allocator counters with units, occupancy at peak and end);
 *  - the JSON form is lossless: load(write(r)) renders every document
 *    format byte for byte as r does, on bundled traces and on a record
 *    with marks, recorded collections, warnings and a measured column;
 *  - the loader's errors name the file and what is wrong;
 *  - record_check catches a broken record.
 * Needs ROOT (the source tree) for the bundled traces; tests/run.sh sets it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "report.h"
#include "test.h"

static char *fmt(enum unit u, double v)
{
	static char buf[8][32];
	static int k;

	k = (k + 1) % 8;
	report_value(buf[k], sizeof buf[k], u, v);
	return buf[k];
}

static void test_values(void)
{
	CHECK_STR(fmt(UNIT_BYTES, 0), "0 B");
	CHECK_STR(fmt(UNIT_BYTES, 1023), "1023 B");
	CHECK_STR(fmt(UNIT_BYTES, 1024), "1.00 KiB");
	/* 9136 / 1024 = 8.921875 */
	CHECK_STR(fmt(UNIT_BYTES, 9136), "8.92 KiB");
	/* 266240 / 1024 = 260 */
	CHECK_STR(fmt(UNIT_BYTES, 266240), "260 KiB");
	/* 1048575 / 1024 = 1023.999: rounds to 1024 KiB, shown as 1.00 MiB */
	CHECK_STR(fmt(UNIT_BYTES, 1048575), "1.00 MiB");
	/* 175185920 / 2^20 = 167.07 */
	CHECK_STR(fmt(UNIT_BYTES, 175185920), "167 MiB");
	CHECK_STR(fmt(UNIT_BYTES, -1200), "-1.17 KiB");
	CHECK_STR(fmt(UNIT_COUNT, 9999999), "9999999");
	/* 10485760 / 10^6 = 10.49 */
	CHECK_STR(fmt(UNIT_COUNT, 10485760), "10.5M");
	CHECK_STR(fmt(UNIT_RATIO, 0.0701), "7.01%");
	CHECK_STR(fmt(UNIT_RATIO, 0.2814), "28.1%");
	CHECK_STR(fmt(UNIT_RATIO, 28.14), "2814%");
	CHECK_STR(fmt(UNIT_RATIO, 1), "100%");
	CHECK_STR(fmt(UNIT_NS, 543), "543 ns");
	CHECK_STR(fmt(UNIT_NS, 15400), "15.4 us");
	CHECK_STR(fmt(UNIT_NS, 1500000), "1.50 ms");
	CHECK_STR(fmt(UNIT_NS, 12.3e9), "12.3 s");
	CHECK_STR(fmt(UNIT_BYTES, NAN), "-");
	for (double v = 1; v < 1e18; v *= 3.7)
		for (int u = 0; u < UNIT_N; u++)
			CHECK(strlen(fmt(u, v)) <= 8);
}

/* Replays `path` under the presets, sampling when asked, into rec. */
static int replay(struct record *rec, const char *path, const char *const *presets,
		  size_t n, int sample)
{
	struct policy **p = calloc(n, sizeof *p);
	struct engine_sampling smp = { .on = sample };
	struct engine_opts opts = { .sampling = &smp, .jobs = 0 };
	struct record_trace t;
	struct ms_error err;
	int rc = 0;

	ms_error_clear(&err);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = policy_resolve(presets[i], &p[i], &err);
	if (rc == 0)
		rc = engine_replay_opts(path, p, n, &opts, &t, &err);
	if (rc == 0)
		*record_add_trace(rec) = t;
	else
		printf("# replay %s: %s\n", path, err.msg);
	for (size_t i = 0; i < n; i++)
		policy_free(p[i]);
	free(p);
	return rc;
}

static const char *tmp_trace(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof path, "/tmp/test_record.%d.trace", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static double cell(const struct record_policy *p, const char *table, const char *row,
		   const char *col)
{
	const struct record_table *t = record_table_find(p, table);
	int c = t ? record_table_col(t, col) : -1;

	for (size_t r = 0; c >= 0 && r < t->nrows; r++)
		if (!t->rows || strcmp(t->rows[r], row) == 0)
			return t->cells[r * t->ncols + (size_t)c];
	return NAN;
}

static const struct record_counter *counter(const struct record_policy *p,
					    const char *group, const char *key)
{
	for (size_t i = 0; i < p->ncounters; i++)
		if (strcmp(p->counters[i].group, group) == 0 && strcmp(p->counters[i].key, key) == 0)
			return &p->counters[i];
	return NULL;
}

/*
 * The documentation's cycle (two 56-byte lists referring to each other,
 * dropped, then `c`) under cpython-3.11: the `c` collects generation 2,
 * finding 2 unreachable objects; each list goes to the list free list,
 * which that full collection clears (3.6+ clear_freelists empties the
 * list free list: docs/freelists.md), so the type row has 2 misses and 0
 * held bytes. pymalloc maps one 1 MiB arena (arena_bytes 1048576) for the
 * two 64-byte blocks; at the peak footprint (event 1) it has 1 pool in
 * use of 63 usable (a 1 MiB arena of 16 KiB pools, one lost to
 * alignment: docs/metrics.md); at the end (event 7) no pool is in use,
 * and 3.9+ keeps the last empty arena (bpo-37257): still 1 arena.
 */
static void test_freeze(void)
{
	static const char *const pol[] = { "cpython-3.11" };
	struct record rec = { 0 };
	const struct record_policy *p;
	const struct record_counter *c;
	const struct record_occupancy *o;

	if (replay(&rec, tmp_trace("a 1 56 list\na 2 56 list\n+ 1 2\n+ 2 1\n"
				   "- 0 1\n- 0 2\nc\n"), pol, 1, 1)) {
		test_fail_();
		return;
	}
	p = &rec.traces[0].pol[0];
	CHECK_STR(p->gc, "generational");
	CHECK_STR(p->allocator, "pymalloc");
	CHECK_DBL(p->m[STATS_GC_COLLECTIONS], 1, 0);
	CHECK_DBL(p->m[STATS_GC_COLLECTED], 2, 0);
	CHECK_DBL(cell(p, STATS_GEN_TABLE, "2", "collections"), 1, 0);
	CHECK_DBL(cell(p, STATS_GEN_TABLE, "2", "collected"), 2, 0);
	CHECK_DBL(cell(p, STATS_GEN_TABLE, "0", "collections"), 0, 0);
	CHECK_DBL(cell(p, STATS_GEN_TABLE, "2", "pauses"), 1, 0);
	CHECK_DBL(cell(p, STATS_GEN_TABLE, "2", "pause_total_ns"), p->m[STATS_GC_PAUSE_TOTAL], 0);
	CHECK_DBL(cell(p, STATS_TYPE_TABLE, "list", "misses"), 2, 0);
	CHECK_DBL(cell(p, STATS_TYPE_TABLE, "list", "held_bytes"), 0, 0);
	c = counter(p, "pymalloc", "arena_bytes");
	CHECK(c && c->value == 1048576 && c->unit == UNIT_BYTES && c->kind == KIND_FINAL);
	c = counter(p, "pymalloc", "arenas_highwater");
	CHECK(c && c->value == 1 && c->kind == KIND_PEAK);
	CHECK(counter(p, "glibc", "mapped_bytes") != NULL);
	CHECK_U64(p->npauses, 1);
	CHECK(p->sampled && p->nseries > 0);
	o = record_occupancy_find(p, "peak_footprint");
	CHECK(o && o->n == 1 && o->in_use[0] == 1 && o->usable[0] == 63 && o->event == 1);
	o = record_occupancy_find(p, "end");
	CHECK(o && o->n == 1 && o->in_use[0] == 0 && o->usable[0] == 63 && o->event == 7);
	/* jw3: 56 live bytes at the peak footprint (event 1): below the floor */
	CHECK(report_below_floor(p, STATS_JW3));
	CHECK(!report_below_floor(p, STATS_PEAK_RSS));
	record_free(&rec);
}

static void render_all(const struct record *rec, const struct report_opts *o,
		       struct strbuf out[3])
{
	const struct report_format *f[3] = {
		&report_format_text, &report_format_json, &report_format_csv,
	};

	for (int i = 0; i < 3; i++) {
		sb_init(&out[i]);
		f[i]->write(&out[i], rec, o);
	}
}

/* Writes rec, loads it back, and compares every document format. */
static void round_trip(const struct record *rec, const struct report_opts *o)
{
	struct strbuf a[3], b[3];
	struct record back;
	struct ms_error err;
	char msg[200];

	render_all(rec, o, a);
	ms_error_clear(&err);
	if (!CHECK(record_load_json(sb_str(&a[1]), a[1].len, "r.json", &back, &err) == 0)) {
		printf("# %s\n", err.msg);
		for (int i = 0; i < 3; i++)
			sb_free(&a[i]);
		return;
	}
	CHECK(record_check(&back, msg, sizeof msg) == 0);
	render_all(&back, o, b);
	CHECK_STR(sb_str(&b[0]), sb_str(&a[0]));
	for (int i = 1; i < 3; i++) {
		if (!CHECK(strcmp(sb_str(&b[i]), sb_str(&a[i])) == 0)) {
			/* the two versions, for diff(1) */
			char name[64];
			FILE *f;

			snprintf(name, sizeof name, "/tmp/test_record.%d.a", i);
			if ((f = fopen(name, "w"))) {
				fputs(sb_str(&a[i]), f);
				fclose(f);
			}
			snprintf(name, sizeof name, "/tmp/test_record.%d.b", i);
			if ((f = fopen(name, "w"))) {
				fputs(sb_str(&b[i]), f);
				fclose(f);
			}
			printf("# differs: diff /tmp/test_record.%d.a /tmp/test_record.%d.b\n", i, i);
		}
	}
	for (int i = 0; i < 3; i++) {
		sb_free(&a[i]);
		sb_free(&b[i]);
	}
	record_free(&back);
}

static void test_round_trip_bundled(void)
{
	static const char *const pol[] = {
		"cpython-2.7", "cpython-3.13", "malloc", "cpython-2.7:freelists.mode=shared",
	};
	static const char *const traces[] = { "cycle.trace", "list-churn.trace.gz",
					      "cycles.trace.gz" };
	const char *root = getenv("ROOT");
	struct record rec = { 0 };
	struct report_opts o = { .baseline = "cpython-2.7" };
	char path[1024];

	if (!root) {
		TEST_SKIP("ROOT is not set");
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/traces/%s", root, traces[i]);
		if (replay(&rec, path, pol, 4, i != 1))
			test_fail_();
	}
	round_trip(&rec, &o);
	o.all = 1;
	round_trip(&rec, &o);
	record_free(&rec);
}

/* What later features put in the record: marks, recorded collections,
 * warnings, a measured column, a table of their own. */
static void test_round_trip_extras(void)
{
	static const char *const pol[] = { "cpython-3.11", "malloc" };
	struct record rec = { 0 };
	struct report_opts o = { 0 };
	struct record_trace *t;
	struct record_collection c = { .event = 3, .time_ns = 0, .generation = 0, .freed = 2,
					 .pause_ns = 700 };
	struct record_column col = { "bytes", "explained", UNIT_BYTES, KIND_PEAK };
	struct strbuf text;

	if (replay(&rec, tmp_trace("a 1 56 list\na 2 56 list\n+ 1 2\n+ 2 1\n"
				   "- 0 1\n- 0 2\nc\n"), pol, 2, 1)) {
		test_fail_();
		return;
	}
	t = &rec.traces[0];
	record_add_mark(t, "after_setup", 2, 0);
	record_add_collection(t, &c);
	record_warn(&t->warnings, "free lists inert: no typed objects");
	record_warn(&t->pol[1].warnings, "allocator-level trace: free-list policy none applied");
	record_warn(&rec.warnings, "a report-wide note");
	t->pol[1].measured = 1;
	t->pol[1].m[STATS_JW1] = NAN;   /* a value the measured column lacks */
	{
		static const uint32_t in_use[] = { 1 }, usable[] = { 63 };

		record_add_occupancy(&t->pol[0], "mark:after_setup", 2, in_use, usable, 1);
	}
	*record_table_row(record_add_table(&t->pol[0], "explained_rss.rows", "part", &col, 1),
			  "objects") = 112;
	round_trip(&rec, &o);
	o.all = 1;              /* shows the table of its own, labels and units */
	round_trip(&rec, &o);
	o.all = 0;
	sb_init(&text);
	report_format_text.write(&text, &rec, &o);
	CHECK(strstr(sb_str(&text), "marks: 1 (after_setup at event 2)") != NULL);
	CHECK(strstr(sb_str(&text), "recorded: 1 collection by the traced runtime") != NULL);
	CHECK(strstr(sb_str(&text), "free lists inert: no typed objects") != NULL);
	CHECK(strstr(sb_str(&text), "[2] malloc: allocator-level trace") != NULL);
	CHECK(strstr(sb_str(&text), "warning: a report-wide note") != NULL);
	CHECK(strstr(sb_str(&text), "malloc*") != NULL);
	CHECK(strstr(sb_str(&text), "* measured on the real allocator") != NULL);
	sb_free(&text);
	record_free(&rec);
}

static void load_error(const char *doc, const char *want)
{
	struct record r;
	struct ms_error err;
	char line[600];

	ms_error_clear(&err);
	CHECK_I64(record_load_json(doc, strlen(doc), "in.json", &r, &err), MS_EXIT_DATAERR);
	ms_error_format(&err, line, sizeof line);
	CHECK_STR(line, want);
	CHECK(r.ntraces == 0);
}

static void test_load_errors(void)
{
	load_error("{", "in.json: not a JSON document");
	load_error("{}\n", "in.json: schema: missing, or not \"memsim-report-2\" "
		   "(a memsim replay --format json report of this version)");
	load_error("{\"traces\": []}", "in.json: schema: missing, or not \"memsim-report-2\" "
		   "(a memsim replay --format json report of this version)");
	load_error("{\"schema\": \"memsim-report-2\", \"traces\": [{\"events\": 1}]}",
		   "in.json: trace 1: trace: missing or not a string");
	load_error("{\"schema\": \"memsim-report-2\", \"traces\": [{\"trace\": \"x\", "
		   "\"events\": 1, \"policies\": [{\"name\": \"p\"}]}]}",
		   "in.json: trace 1, policy 1: summary: missing or not a string");
	load_error("{\"schema\": \"memsim-report-2\", \"traces\": [{\"trace\": \"x\", "
		   "\"events\": -1, \"policies\": []}]}",
		   "in.json: trace 1: events: not a whole number");
}

static void test_check(void)
{
	static const char *const pol[] = { "cpython-3.11" };
	struct record rec = { 0 };
	char msg[200];

	if (replay(&rec, tmp_trace("a 1 56 list\n"), pol, 1, 1)) {
		test_fail_();
		return;
	}
	CHECK(record_check(&rec, msg, sizeof msg) == 0);
	rec.traces[0].pol[0].occupancy[0].in_use[0] = 99;
	CHECK(record_check(&rec, msg, sizeof msg) != 0);
	CHECK(strstr(msg, "more pools in use than it holds") != NULL);
	record_free(&rec);
}

int main(void)
{
	TEST_RUN(test_values);
	TEST_RUN(test_freeze);
	TEST_RUN(test_round_trip_bundled);
	TEST_RUN(test_round_trip_extras);
	TEST_RUN(test_load_errors);
	TEST_RUN(test_check);
	{
		char path[64];

		snprintf(path, sizeof path, "/tmp/test_record.%d.trace", (int)getpid());
		unlink(path);
	}
	return test_done();
}
