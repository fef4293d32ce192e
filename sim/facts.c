/*
 * facts.c - what a trace says about its run, and what that changes in a
 * replay (facts.h; docs/trace-format.md, "Metadata"; docs/reports.md,
 * "Warnings").
 *
 *  1. facts_read takes "level" from the reader (trace.c parses the
 *     header's metadata once for it) and the knob facts from the
 *     metadata JSON.
 *  2. facts_adjust, in this order:
 *     a. at allocator level, a policy whose free lists are anything but
 *        `none` is replayed with `none` (the recording's allocator calls
 *        are what the runtime's own free lists let through; parking them
 *        again would count each parked object twice);
 *     b. each knob fact (the table `knob_facts`) is applied to a policy
 *        that has the knob, did not choose it, and has another value:
 *        tools/pyrec's arenas come from its own aligned mmap, so a
 *        cpython preset's "unaligned" (right for a plain run, where mmap
 *        places arenas anywhere) would model a run that did not happen.
 *     Each change is a sentence for the report.
 *  3. facts_runtime_note: the trace's CPython version (A.B of
 *     "cpython-A.B.C") against the versions of the cpython-X.Y presets
 *     the policies derive from; a warning when there are some and none
 *     is A.B.
 */
#include "facts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "strbuf.h"

/* Header keys that state a knob's value for the recorded run. */
static const struct knob_fact {
	const char *meta;       /* the metadata key */
	const char *knob;       /* the policy knob, "section.knob" */
	size_t offset;          /* where struct trace_facts keeps it */
} knob_facts[] = {
	{ "arena_alignment", "allocator.arena_alignment",
	  offsetof(struct trace_facts, arena_alignment) },
};

#define NFACTS (sizeof knob_facts / sizeof knob_facts[0])

static char *fact_value(struct trace_facts *f, const struct knob_fact *k)
{
	return (char *)f + k->offset;
}

static const char *fact_cvalue(const struct trace_facts *f, const struct knob_fact *k)
{
	return (const char *)f + k->offset;
}

void facts_read(const struct trace_reader *r, struct trace_facts *out)
{
	const char *meta = trace_metadata(r);
	cJSON *doc = meta ? cJSON_Parse(meta) : NULL;

	memset(out, 0, sizeof *out);
	out->level = trace_level(r);
	for (size_t i = 0; i < NFACTS; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, knob_facts[i].meta);

		if (cJSON_IsString(v) && strlen(v->valuestring) < FACTS_VALUE_MAX)
			strcpy(fact_value(out, &knob_facts[i]), v->valuestring);
	}
	if (trace_runtime(r) && strlen(trace_runtime(r)) < FACTS_VALUE_MAX) {
		strcpy(out->runtime, trace_runtime(r));
	} else {
		const cJSON *py = cJSON_GetObjectItemCaseSensitive(doc, "python");

		if (cJSON_IsString(py) && strlen(py->valuestring) + 8 < FACTS_VALUE_MAX)
			snprintf(out->runtime, sizeof out->runtime, "cpython-%s", py->valuestring);
	}
	cJSON_Delete(doc);
}

static const char *pname(const struct policy *p)
{
	return p->name ? p->name : "policy";
}

/* 2a: free lists `none` at allocator level. */
static struct policy *adjust_level(const struct trace_facts *facts, const struct policy *p,
				   struct facts_notes *notes)
{
	const struct policy_part *fl = &p->part[POLICY_FREELISTS];
	struct policy *q;

	if (facts->level != TRACE_LEVEL_ALLOCATOR || strcmp(fl->impl.name, "none") == 0)
		return NULL;
	q = policy_with_section(p, POLICY_FREELISTS, "none");
	if (q)
		snprintf(notes->text[notes->n++], FACTS_NOTE_MAX,
			 "%s: the trace is at allocator level (its runtime's free "
			 "lists already acted), so its free lists (%s) were not applied: none",
			 pname(p), fl->impl.name);
	return q;
}

/* 2b: one knob fact over *q (a copy is made the first time). */
static void adjust_knob(const struct knob_fact *k, const char *value, const struct policy *p,
			struct policy **q, struct facts_notes *notes)
{
	const struct policy *cur = *q ? *q : p;
	struct policy *next;
	struct strbuf was;
	struct ms_error err;

	if (!value[0] || policy_knob_chosen(cur, k->knob) != 0)
		return;         /* no fact, no such knob, or the user's choice */
	sb_init(&was);
	policy_knob_text(cur, k->knob, &was);
	if (strcmp(sb_str(&was), value) != 0) {
		next = policy_copy(cur);
		if (policy_set(&next, k->knob, value, &err) == 0) {
			policy_free(*q);
			*q = next;
			snprintf(notes->text[notes->n++], FACTS_NOTE_MAX,
				 "%s: the trace says \"%s\":\"%s\", so %s=%s was applied "
				 "(the policy had %s; give %s=VALUE to choose)",
				 pname(p), k->meta, value, k->knob, value, sb_str(&was), k->knob);
		} else {
			policy_free(next);      /* a value the knob does not take */
		}
	}
	sb_free(&was);
}

struct policy *facts_adjust(const struct trace_facts *facts, const struct policy *p,
			    struct facts_notes *notes)
{
	struct policy *q;

	notes->n = 0;
	q = adjust_level(facts, p, notes);
	for (size_t i = 0; i < NFACTS && notes->n < FACTS_NOTES_MAX; i++)
		adjust_knob(&knob_facts[i], fact_cvalue(facts, &knob_facts[i]), p, &q, notes);
	return q;
}

/* The "A.B" of a CPython name: "cpython-3.13.0" or "cpython-3.13-mimalloc"
 * or the preset "cpython-3.13", up to the second '.' or a non-digit; its
 * length, or 0 when NAME is no cpython name. */
static size_t cpython_version(const char *name, const char **ver)
{
	static const char prefix[] = "cpython-";
	const char *v = name + sizeof prefix - 1, *e;

	if (strncmp(name, prefix, sizeof prefix - 1) != 0 || !isdigit((unsigned char)*v))
		return 0;
	for (e = v; isdigit((unsigned char)*e); e++)
		;
	if (*e != '.' || !isdigit((unsigned char)e[1]))
		return 0;
	for (e++; isdigit((unsigned char)*e); e++)
		;
	*ver = v;
	return (size_t)(e - v);
}

int facts_runtime_note(const struct trace_facts *facts, struct policy *const *policies,
		       size_t n, char *out, size_t size)
{
	const char *want, *first = NULL;
	size_t wn = cpython_version(facts->runtime, &want), fn = 0;

	if (!wn)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = policies[i]->name ? policies[i]->name : "", *v;
		size_t vn = cpython_version(name, &v);

		if (!vn)
			continue;
		if (vn == wn && strncmp(v, want, wn) == 0)
			return 0;       /* one models the recorded version */
		if (!first) {
			first = name;
			fn = strcspn(name, ":,");
		}
	}
	if (!first)
		return 0;
	snprintf(out, size, "the trace was recorded under %s, but no policy models CPython "
		 "%.*s (%.*s is another version): add -p cpython-%.*s to compare with the "
		 "recorded runtime", facts->runtime, (int)wn, want, (int)fn, first, (int)wn, want);
	return 1;
}
