/*
 * test_metrics.c - the metric tables (sim/stats.h, the allocators'
 * counter definitions) against their documentation and themselves:
 *  - docs/metrics.md's checked list (between "<!-- metrics:begin" and
 *    "<!-- metrics:end -->") names every scalar, every generation and
 *    type column and every allocator counter and table column, with the
 *    same unit and kind, and nothing else;
 *  - every key an allocator's details() emits has a definition (a
 *    counter without one would show as a bare key with no unit);
 *  - labels fit the text report's label column, keys are unique.
 * Needs ROOT (the source tree); tests/run.sh sets it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "stats.h"
#include "test.h"

#define MAX_ENTRIES 512

struct entry {
	char key[160];
	char unit[24];
	char kind[24];
	int seen;
};

static struct entry doc[MAX_ENTRIES];
static size_t ndoc;

/* Reads "| `key` | unit | kind | ..." rows between the markers. */
static int read_doc(void)
{
	const char *root = getenv("ROOT");
	char path[1024], line[2048];
	int in = 0;
	FILE *f;

	if (!root)
		return -1;
	snprintf(path, sizeof path, "%s/docs/metrics.md", root);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char key[160], unit[24], kind[24];

		if (strstr(line, "<!-- metrics:begin"))
			in = 1;
		else if (strstr(line, "<!-- metrics:end"))
			in = 0;
		else if (in && sscanf(line, "| `%159[^`]` | %23[a-z] | %23[a-z] |", key, unit,
				      kind) == 3 && ndoc < MAX_ENTRIES) {
			snprintf(doc[ndoc].key, sizeof doc[ndoc].key, "%s", key);
			snprintf(doc[ndoc].unit, sizeof doc[ndoc].unit, "%s", unit);
			snprintf(doc[ndoc].kind, sizeof doc[ndoc].kind, "%s", kind);
			ndoc++;
		}
	}
	fclose(f);
	return 0;
}

static int documented(const char *key)
{
	for (size_t i = 0; i < ndoc; i++)
		if (strcmp(doc[i].key, key) == 0)
			return 1;
	return 0;
}

/* The documented entry for key, with its unit and kind checked. */
static void expect(const char *key, enum unit u, enum kind k)
{
	for (size_t i = 0; i < ndoc; i++) {
		if (strcmp(doc[i].key, key) != 0)
			continue;
		if (doc[i].seen++)
			printf("# %s documented twice\n", key);
		CHECK_STR(doc[i].unit, unit_name(u));
		CHECK_STR(doc[i].kind, kind_name(k));
		return;
	}
	printf("# docs/metrics.md does not list %s\n", key);
	test_fail_();
}

static void test_docs(void)
{
	char key[200];

	if (read_doc() != 0) {
		TEST_SKIP("ROOT is not set or docs/metrics.md is missing");
		return;
	}
	for (int m = 0; m < STATS_COUNT_; m++) {
		const struct stats_def *d = &stats_defs[m];

		snprintf(key, sizeof key, "%s%s%s", d->group ? d->group : "",
			 d->group ? "." : "", d->key);
		expect(key, d->unit, d->kind);
	}
	for (int c = 0; c < STATS_GEN_NCOLS; c++) {
		snprintf(key, sizeof key, STATS_GEN_TABLE "[].%s", stats_gen_columns[c].key);
		expect(key, stats_gen_columns[c].unit, stats_gen_columns[c].kind);
	}
	for (int c = 0; c < STATS_TYPE_NCOLS; c++) {
		snprintf(key, sizeof key, STATS_TYPE_TABLE "[].%s", stats_type_columns[c].key);
		expect(key, stats_type_columns[c].unit, stats_type_columns[c].kind);
	}
	for (size_t a = 0; alloc_policies[a]; a++) {
		const struct alloc_policy *ap = alloc_policies[a];

		for (size_t i = 0; i < ap->ncounters; i++) {
			const char *k = ap->counters[i].key, *dot = strchr(k, '.');

			/* a table column: TABLE.COLUMN, unless the dotted key is
			 * a counter's whole name (real's "measured.calls") */
			snprintf(key, sizeof key, "%s.%s", ap->name, k);
			if (dot && !documented(key))
				snprintf(key, sizeof key, "%s.%.*s[]%s", ap->name, (int)(dot - k), k, dot);
			expect(key, ap->counters[i].unit, ap->counters[i].kind);
		}
	}
	for (size_t i = 0; i < ndoc; i++)
		if (!doc[i].seen) {
			printf("# docs/metrics.md lists %s, which no table defines\n", doc[i].key);
			test_fail_();
		}
	CHECK(ndoc > 60);
}

/* Every counter and table column details() emits has a definition. */
struct emitted {
	const struct alloc_policy *ap;
	int missing;
};

static int defined(const struct alloc_policy *ap, const char *key)
{
	for (size_t i = 0; i < ap->ncounters; i++)
		if (strcmp(ap->counters[i].key, key) == 0)
			return 1;
	return 0;
}

static void on_counter(void *ctx, const char *key, uint64_t value)
{
	struct emitted *e = ctx;

	(void)value;
	if (!defined(e->ap, key)) {
		printf("# %s emits %s without a definition\n", e->ap->name, key);
		e->missing++;
	}
}

static void on_table(void *ctx, const char *name, const char *const *columns,
		     size_t ncols, const uint64_t *cells, size_t nrows)
{
	struct emitted *e = ctx;
	char key[200];

	(void)cells, (void)nrows;
	for (size_t c = 0; c < ncols; c++) {
		snprintf(key, sizeof key, "%s.%s", name, columns[c]);
		on_counter(ctx, key, 0);
	}
	(void)e;
}

static void test_emitted_defined(void)
{
	const struct alloc_policy *sys = alloc_find("glibc");

	for (size_t a = 0; alloc_policies[a]; a++) {
		const struct alloc_policy *ap = alloc_policies[a];
		struct alloc_inst lower = { sys, NULL };
		struct emitted e = { .ap = ap };
		struct alloc_sink sink = { &e, on_counter, on_table };
		void *st;
		uint64_t addr;

		if (!ap->details)
			continue;
		if (!ap->map)
			lower.state = sys->create(sys->defaults, NULL);
		st = ap->create(ap->defaults, ap->map ? NULL : &lower);
		/* one block, so that tables have rows */
		addr = ap->alloc(st, 24);
		ap->details(st, &sink);
		CHECK_I64(e.missing, 0);
		CHECK(ap->counters != NULL && ap->ncounters > 0);
		ap->free(st, addr, 24);
		ap->destroy(st);
		if (lower.state)
			sys->destroy(lower.state);
	}
}

static void test_labels_and_keys(void)
{
	for (int m = 0; m < STATS_COUNT_; m++) {
		CHECK(strlen(stats_defs[m].label) + 2 <= STATS_LABEL_MAX);
		for (int n = m + 1; n < STATS_COUNT_; n++) {
			int same_group = (!stats_defs[m].group && !stats_defs[n].group) ||
					 (stats_defs[m].group && stats_defs[n].group &&
					  strcmp(stats_defs[m].group, stats_defs[n].group) == 0);

			if (same_group && strcmp(stats_defs[m].key, stats_defs[n].key) == 0) {
				printf("# key %s twice\n", stats_defs[m].key);
				test_fail_();
			}
		}
		/* a fragmentation ratio's base is a bytes metric */
		if (stats_defs[m].base != STATS_NONE)
			CHECK(stats_defs[stats_defs[m].base].unit == UNIT_BYTES);
	}
	for (int c = 0; c < STATS_GEN_NCOLS; c++)
		CHECK(strlen(stats_gen_columns[c].label) + 4 <= STATS_LABEL_MAX);
	for (int c = 0; c < STATS_TYPE_NCOLS; c++)
		CHECK(strlen(stats_type_columns[c].label) + 4 <= STATS_LABEL_MAX);
	for (size_t a = 0; alloc_policies[a]; a++)
		for (size_t i = 0; i < alloc_policies[a]->ncounters; i++)
			CHECK(strlen(alloc_policies[a]->counters[i].label) + 4 <= STATS_LABEL_MAX);
}

int main(void)
{
	TEST_RUN(test_docs);
	TEST_RUN(test_emitted_defined);
	TEST_RUN(test_labels_and_keys);
	return test_done();
}
