/*
 * plan.c - sizing, grouping and the plan file (see plan.h).
 *
 * Grouping, per trace with P policies and a budget B:
 *   1. every policy alone must fit: PLAN_BYTES_PER_JOB + its bytes <= B;
 *   2. start from n = max(1, min(P, ceil(slots / traces))) jobs (enough
 *      jobs for the engine's slots when there are few traces; a single
 *      job per trace when traces alone fill the slots, so that each trace
 *      is read as few times as possible);
 *   3. split the policies in order into n groups whose sizes differ by at
 *      most one; if a group's estimate exceeds B, n++ and split again
 *      (at most P rounds: n = P fits by step 1).
 * The plan's id is the FNV-1a 64-bit hash of its JSON text with an empty
 * id, so the same plan made twice has the same id, and any other plan
 * (other policies, traces, budget, memsim) another one.
 */
#include "plan.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

uint64_t plan_policy_bytes(const struct policy *p, const struct plan_trace *t)
{
	const struct policy_part *a = &p->part[POLICY_ALLOCATOR];
	uint64_t per_obj = a->params && strcmp(a->impl.name, "glibc") == 0
		? PLAN_BYTES_PER_OBJECT_GLIBC : PLAN_BYTES_PER_OBJECT;

	return per_obj * t->peak_live_objects + PLAN_BYTES_PER_REF * t->peak_live_refs +
	       PLAN_BYTES_PER_POLICY;
}

static uint64_t group_bytes(const struct plan *plan, const struct plan_trace *t,
			    size_t first, size_t n)
{
	uint64_t sum = PLAN_BYTES_PER_JOB;

	for (size_t i = first; i < first + n; i++)
		sum += plan_policy_bytes(plan->pol[i], t);
	return sum;
}

static void push_job(struct plan *plan, size_t trace, size_t first, size_t n,
		     uint64_t estimate)
{
	plan->jobs = xreallocarray(plan->jobs, plan->njobs + 1, sizeof *plan->jobs);
	plan->jobs[plan->njobs++] = (struct plan_job){ trace, first, n, estimate };
}

/* Steps 2-3 for one trace: the smallest n >= n0 whose split fits. */
static void split_trace(struct plan *plan, size_t trace, size_t n0)
{
	const struct plan_trace *t = &plan->traces[trace];
	size_t P = plan->npol, n;

	for (n = n0; n < P; n++) {
		size_t first = 0, ok = 1;

		for (size_t g = 0; g < n && ok; g++) {
			size_t size = P / n + (g < P % n);

			ok = group_bytes(plan, t, first, size) <= plan->budget;
			first += size;
		}
		if (ok)
			break;
	}
	for (size_t g = 0, first = 0; g < n; g++) {
		size_t size = P / n + (g < P % n);

		push_job(plan, trace, first, size, group_bytes(plan, t, first, size));
		first += size;
	}
}

int plan_jobs(struct plan *plan, struct ms_error *err)
{
	size_t n0 = plan->ntraces ? (size_t)((plan->slots + plan->ntraces - 1) / plan->ntraces) : 1;

	if (n0 < 1)
		n0 = 1;
	if (n0 > plan->npol)
		n0 = plan->npol;
	for (size_t t = 0; t < plan->ntraces; t++) {
		for (size_t i = 0; i < plan->npol; i++) {
			uint64_t one = group_bytes(plan, &plan->traces[t], i, 1);

			if (one > plan->budget)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "%s: the policy '%s' alone needs about %" PRIu64
						    " MiB (%" PRIu64 " live objects, %" PRIu64
						    " references at the peak), more than the "
						    "--max-memory of %" PRIu64 " MiB per job",
						    plan->traces[t].path, plan->pol[i]->name,
						    (one + (1u << 20) - 1) >> 20,
						    plan->traces[t].peak_live_objects,
						    plan->traces[t].peak_live_refs, plan->budget >> 20);
		}
		split_trace(plan, t, n0);
	}
	return 0;
}

/* --- the plan file ----------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static cJSON *policy_doc(const struct policy *p)
{
	struct strbuf sb;
	cJSON *doc;

	sb_init(&sb);
	policy_to_json(p, &sb);
	doc = cJSON_Parse(sb_str(&sb));
	sb_free(&sb);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "name");
	return doc;
}

static cJSON *policies_json(const struct plan *plan)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < plan->npol; i++) {
		cJSON *o = cJSON_CreateObject(), *set;

		cJSON_AddStringToObject(o, "name", plan->pol[i]->name);
		set = cJSON_AddObjectToObject(o, "settings");
		for (size_t k = 0; k < plan->nset[i]; k++)
			cJSON_AddStringToObject(set, plan->set[i][k].key, plan->set[i][k].value);
		cJSON_AddItemToObject(o, "policy", policy_doc(plan->pol[i]));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *traces_json(const struct plan *plan)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < plan->ntraces; i++) {
		const struct plan_trace *t = &plan->traces[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "path", t->path);
		cJSON_AddNumberToObject(o, "events", (double)t->events);
		cJSON_AddNumberToObject(o, "peak_live_objects", (double)t->peak_live_objects);
		cJSON_AddNumberToObject(o, "peak_live_refs", (double)t->peak_live_refs);
		cJSON_AddNumberToObject(o, "peak_live_bytes", (double)t->peak_live_bytes);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *jobs_json(const struct plan *plan)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < plan->njobs; i++) {
		const struct plan_job *j = &plan->jobs[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "job", (double)(i + 1));
		cJSON_AddNumberToObject(o, "trace", (double)j->trace);
		cJSON_AddNumberToObject(o, "first_policy", (double)j->first);
		cJSON_AddNumberToObject(o, "policies", (double)j->n);
		cJSON_AddNumberToObject(o, "estimate_bytes", (double)j->estimate);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void plan_to_json(struct plan *plan, struct strbuf *out)
{
	cJSON *doc = cJSON_CreateObject(), *specs = cJSON_CreateArray();
	char *text;

	cJSON_AddNumberToObject(doc, "memsim_plan", PLAN_FORMAT);
	cJSON_AddStringToObject(doc, "memsim_version", plan->version);
	cJSON_AddStringToObject(doc, "plan_id", "");
	cJSON_AddStringToObject(doc, "memsim", plan->memsim);
	cJSON_AddNumberToObject(doc, "max_memory_bytes", (double)plan->budget);
	cJSON_AddNumberToObject(doc, "slots", (double)plan->slots);
	for (size_t i = 0; i < plan->nspecs; i++)
		cJSON_AddItemToArray(specs, cJSON_CreateString(plan->specs[i]));
	cJSON_AddItemToObject(doc, "specs", specs);
	cJSON_AddItemToObject(doc, "policies", policies_json(plan));
	cJSON_AddItemToObject(doc, "traces", traces_json(plan));
	cJSON_AddItemToObject(doc, "jobs", jobs_json(plan));
	text = cJSON_PrintUnformatted(doc);
	snprintf(plan->id, sizeof plan->id, "%016" PRIx64, fnv1a(text));
	free(text);
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "plan_id", cJSON_CreateString(plan->id));
	sb_put_json(out, doc);
	cJSON_Delete(doc);
}

/* --- reading it back ------------------------------------------------- */

static int bad(struct ms_error *err, const char *origin, const char *what)
{
	ms_error_at(err, origin, 0);
	return ms_error_set(err, MS_EXIT_CONFIG, "not a memsim plan: %s", what);
}

static int get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int read_policies(const cJSON *arr, const char *origin, struct plan *plan,
			 struct ms_error *err)
{
	const cJSON *o;
	size_t n = (size_t)cJSON_GetArraySize(arr);

	plan->pol = xcalloc(n ? n : 1, sizeof *plan->pol);
	plan->set = xcalloc(n ? n : 1, sizeof *plan->set);
	plan->nset = xcalloc(n ? n : 1, sizeof *plan->nset);
	cJSON_ArrayForEach(o, arr) {
		const char *name = get_str(o, "name");
		const cJSON *doc = cJSON_GetObjectItemCaseSensitive(o, "policy");
		const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, "settings"), *s;
		size_t i = plan->npol;

		if (!name || !cJSON_IsObject(doc) || !cJSON_IsObject(set))
			return bad(err, origin, "a policy without name, settings or policy");
		if (policy_from_doc(doc, origin, NULL, 0, name, &plan->pol[i], err))
			return err->code;
		plan->npol++;
		plan->set[i] = xcalloc((size_t)cJSON_GetArraySize(set) + 1, sizeof **plan->set);
		cJSON_ArrayForEach(s, set) {
			if (!cJSON_IsString(s))
				return bad(err, origin, "a setting that is not a string");
			plan->set[i][plan->nset[i]].key = xstrdup(s->string);
			plan->set[i][plan->nset[i]++].value = xstrdup(s->valuestring);
		}
	}
	return 0;
}

static int read_traces(const cJSON *arr, const char *origin, struct plan *plan,
		       struct ms_error *err)
{
	const cJSON *o;

	plan->traces = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *plan->traces);
	cJSON_ArrayForEach(o, arr) {
		struct plan_trace *t = &plan->traces[plan->ntraces];
		const char *path = get_str(o, "path");

		if (!path || get_u64(o, "events", &t->events) ||
		    get_u64(o, "peak_live_objects", &t->peak_live_objects) ||
		    get_u64(o, "peak_live_refs", &t->peak_live_refs) ||
		    get_u64(o, "peak_live_bytes", &t->peak_live_bytes))
			return bad(err, origin, "a trace without its path or peaks");
		t->path = xstrdup(path);
		plan->ntraces++;
	}
	return 0;
}

static int read_specs(const cJSON *arr, const char *origin, struct plan *plan,
		      struct ms_error *err)
{
	const cJSON *o;

	plan->specs = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *plan->specs);
	cJSON_ArrayForEach(o, arr) {
		if (!cJSON_IsString(o))
			return bad(err, origin, "a -p that is not a string");
		plan->specs[plan->nspecs++] = xstrdup(o->valuestring);
	}
	return 0;
}

static int read_jobs(const cJSON *arr, const char *origin, struct plan *plan,
		     struct ms_error *err)
{
	const cJSON *o;

	plan->jobs = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *plan->jobs);
	cJSON_ArrayForEach(o, arr) {
		struct plan_job *j = &plan->jobs[plan->njobs];
		uint64_t trace, first, n, job;

		if (get_u64(o, "job", &job) || get_u64(o, "trace", &trace) ||
		    get_u64(o, "first_policy", &first) || get_u64(o, "policies", &n) ||
		    get_u64(o, "estimate_bytes", &j->estimate) || job != plan->njobs + 1 ||
		    trace >= plan->ntraces || n == 0 || first > plan->npol ||
		    n > plan->npol - first)
			return bad(err, origin, "a job out of order or out of range");
		j->trace = (size_t)trace;
		j->first = (size_t)first;
		j->n = (size_t)n;
		plan->njobs++;
	}
	return 0;
}

int plan_from_json(const char *text, const char *origin, const char *version,
		   struct plan *plan, struct ms_error *err)
{
	cJSON *doc = cJSON_ParseWithOpts(text, NULL, 1);
	const char *v, *id, *memsim;
	uint64_t format = 0;
	int rc = 0;

	memset(plan, 0, sizeof *plan);
	if (!doc || get_u64(doc, "memsim_plan", &format) || format != PLAN_FORMAT) {
		cJSON_Delete(doc);
		return bad(err, origin, doc ? "no \"memsim_plan\": 1" : "invalid JSON");
	}
	v = get_str(doc, "memsim_version");
	id = get_str(doc, "plan_id");
	memsim = get_str(doc, "memsim");
	if (!v || !id || strlen(id) != 16 || !memsim ||
	    get_u64(doc, "max_memory_bytes", &plan->budget) ||
	    get_u64(doc, "slots", &plan->slots)) {
		rc = bad(err, origin, "its version, id, program or budget is missing");
	} else if (strcmp(v, version) != 0) {
		ms_error_at(err, origin, 0);
		rc = ms_error_set(err, MS_EXIT_CONFIG,
				  "the plan was made by memsim %s and this is memsim %s: "
				  "plan it again with this memsim (or run that one)", v, version);
	} else {
		memcpy(plan->id, id, 17);
		plan->version = xstrdup(v);
		plan->memsim = xstrdup(memsim);
		rc = read_policies(cJSON_GetObjectItemCaseSensitive(doc, "policies"), origin,
				   plan, err);
		if (rc == 0)
			rc = read_traces(cJSON_GetObjectItemCaseSensitive(doc, "traces"), origin,
					 plan, err);
		if (rc == 0)
			rc = read_specs(cJSON_GetObjectItemCaseSensitive(doc, "specs"), origin,
					plan, err);
		if (rc == 0)
			rc = read_jobs(cJSON_GetObjectItemCaseSensitive(doc, "jobs"), origin,
				       plan, err);
	}
	cJSON_Delete(doc);
	if (rc)
		plan_free(plan);
	return rc;
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->npol; i++) {
		policy_free(plan->pol[i]);
		for (size_t k = 0; plan->set && k < plan->nset[i]; k++) {
			free(plan->set[i][k].key);
			free(plan->set[i][k].value);
		}
		if (plan->set)
			free(plan->set[i]);
	}
	free(plan->pol);
	free(plan->set);
	free(plan->nset);
	for (size_t i = 0; i < plan->ntraces; i++)
		free(plan->traces[i].path);
	free(plan->traces);
	free(plan->jobs);
	for (size_t i = 0; i < plan->nspecs; i++)
		free(plan->specs[i]);
	free(plan->specs);
	free(plan->version);
	free(plan->memsim);
	memset(plan, 0, sizeof *plan);
}

/* --- shell commands ---------------------------------------------------- */

void plan_shell_quote(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_puts(sb, "'\\''");
		else
			sb_putc(sb, *s);
	}
	sb_putc(sb, '\'');
}

void plan_job_command(struct strbuf *sb, const struct plan *plan, const char *dir,
		      const char *job)
{
	plan_shell_quote(sb, plan->memsim);
	sb_printf(sb, " sweep --job %s ", job);
	plan_shell_quote(sb, dir);
}
