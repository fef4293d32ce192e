/*
 * policy.c - presets, policy files and derivations (see policy.h).
 *
 * Resolution, in order:
 *   1. the base: a preset (presets.c) or a JSON file; a document's "base"
 *      key names another preset or file, resolved first (chains allowed,
 *      cycles rejected);
 *   2. the document's sections are applied over the base: a section's
 *      selector key ("policy", or "mode" for free lists) switches the
 *      implementation and resets its knobs to that implementation's
 *      defaults; every other key must be one of its knobs;
 *   3. the ":KEY=VALUE" overrides are applied the same way, one by one;
 *   4. every part is validated (knob ranges were checked on the way in,
 *      then the implementation's validate() checks relations between
 *      knobs).
 */
#include "policy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "freelist.h"
#include "gc.h"
#include "presets.h"
#include "units.h"
#include "xalloc.h"

#define POLICY_DEPTH_MAX 16     /* base chains longer than this are cycles */

/* One section of the JSON form and where its implementations come from. */
struct section_desc {
	const char *key;
	const char *selector;
	/* Fills *out with implementation i; 0, or -1 past the last. */
	int (*impl_at)(size_t i, struct policy_impl *out);
};

/*
 * The generic view of any vtable: allocator, free-list and collector
 * vtables all open with the same descriptive fields (name, summary, knob
 * table, parameter struct, validate), so one macro reads them all.
 */
#define IMPL_OF(vt) ((struct policy_impl){ \
	.name = (vt)->name, .summary = (vt)->summary, .knobs = (vt)->knobs, \
	.nknobs = (vt)->nknobs, .params_size = (vt)->params_size, \
	.defaults = (vt)->defaults, .validate = (vt)->validate, .vtable = (vt) })

/* Entry i of a NULL-terminated registry, as a policy_impl; -1 past its end. */
#define REGISTRY_AT(registry, i, out) \
	do { \
		for (size_t k_ = 0; (registry)[k_]; k_++) { \
			if (k_ == (i)) { \
				*(out) = IMPL_OF((registry)[k_]); \
				return 0; \
			} \
		} \
		return -1; \
	} while (0)

static int alloc_impl_at(size_t i, struct policy_impl *out)
{
	REGISTRY_AT(alloc_policies, i, out);
}

/* The system section only offers allocators that stand on the OS. */
static int system_impl_at(size_t i, struct policy_impl *out)
{
	size_t n = 0;

	for (size_t k = 0; alloc_policies[k]; k++) {
		if (alloc_policies[k]->map && n++ == i) {
			*out = IMPL_OF(alloc_policies[k]);
			return 0;
		}
	}
	return -1;
}

static int freelist_impl_at(size_t i, struct policy_impl *out)
{
	REGISTRY_AT(freelist_policies, i, out);
}

static int gc_impl_at(size_t i, struct policy_impl *out)
{
	REGISTRY_AT(gc_policies, i, out);
}

static const struct section_desc sections[POLICY_SECTIONS] = {
	[POLICY_ALLOCATOR] = { "allocator", "policy", alloc_impl_at },
	[POLICY_SYSTEM] = { "system", "policy", system_impl_at },
	[POLICY_FREELISTS] = { "freelists", "mode", freelist_impl_at },
	[POLICY_GC] = { "gc", "policy", gc_impl_at },
};

const char *policy_section_key(enum policy_section s)
{
	return sections[s].key;
}

static int find_impl(enum policy_section s, const char *name, struct policy_impl *out)
{
	if (!sections[s].impl_at)
		return -1;
	for (size_t i = 0; sections[s].impl_at(i, out) == 0; i++)
		if (strcmp(out->name, name) == 0)
			return 0;
	return -1;
}

static void part_set_impl(struct policy_part *part, const struct policy_impl *impl)
{
	free(part->params);
	part->impl = *impl;
	part->chosen = 0;
	part->params = xmalloc(impl->params_size ? impl->params_size : 1);
	memcpy(part->params, impl->defaults, impl->params_size);
}

/* A policy with every section at its first implementation's defaults. */
static struct policy *policy_new_default(void)
{
	struct policy *p = xcalloc(1, sizeof *p);

	for (int s = 0; s < POLICY_SECTIONS; s++) {
		struct policy_impl impl;

		if (sections[s].impl_at && sections[s].impl_at(0, &impl) == 0)
			part_set_impl(&p->part[s], &impl);
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (int s = 0; s < POLICY_SECTIONS; s++)
		free(p->part[s].params);
	free(p->name);
	free(p->summary);
	free(p);
}

struct policy *policy_copy(const struct policy *p)
{
	struct policy *q = xcalloc(1, sizeof *q);

	q->name = p->name ? xstrdup(p->name) : NULL;
	q->summary = p->summary ? xstrdup(p->summary) : NULL;
	for (int k = 0; k < POLICY_SECTIONS; k++) {
		size_t n = p->part[k].impl.params_size;

		q->part[k] = p->part[k];
		q->part[k].params = xmalloc(n ? n : 1);
		if (p->part[k].params)
			memcpy(q->part[k].params, p->part[k].params, n);
	}
	return q;
}

struct policy *policy_with_section(const struct policy *p, enum policy_section s,
				   const char *impl_name)
{
	struct policy_impl impl;
	struct policy *q;

	if (find_impl(s, impl_name, &impl) < 0)
		return NULL;
	q = policy_copy(p);
	part_set_impl(&q->part[s], &impl);
	return q;
}

/* --- setting one knob from a JSON value ------------------------------ */

static const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	return "null";
}

/* A sweep set ("{...}") reaching a single policy: replay and sweep expand
 * them before (sweep.c); anywhere else one policy is wanted. */
static int is_set_text(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

static int set_given(const char *where, const char *text, struct ms_error *err)
{
	return ms_error_set(err, MS_EXIT_CONFIG,
			    "%s: '%s' is a sweep set, which only replay and sweep expand "
			    "(docs/sweeps.md)", where, text);
}

/*
 * A whole number: a JSON number, or a string in units.h's syntax ("64K",
 * "0x1000"), which is what every `-p` value arrives as. JSON numbers
 * above 2^53 are not exact doubles; no knob allows one (the largest
 * maximum is 2^40), so the range check below rejects them first.
 */
static int set_uint(struct policy_part *part, const struct knob *k, const cJSON *v,
		    const char *where, struct ms_error *err)
{
	uint64_t u;

	if (cJSON_IsString(v)) {
		const char *why;

		if (is_set_text(v->valuestring))
			return set_given(where, v->valuestring, err);
		if (units_parse_str(v->valuestring, &u, &why) != 0)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: expected a whole number (e.g. 4096, 64K, "
					    "0x1000), not '%s'%s%s", where, v->valuestring,
					    strcmp(why, "not a whole number") ? ": " : "",
					    strcmp(why, "not a whole number") ? why : "");
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d < 0 || d != floor(d) || d > 18446744073709549568.0)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: expected a whole number, not %g", where, d);
		u = (uint64_t)d;
	} else {
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a whole number, not %s",
				    where, json_type_name(v));
	}
	if (u < k->min || u > k->max)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64 "]",
				    where, u, k->min, k->max);
	*knob_uint(part->params, k) = u;
	return 0;
}

/* A number: JSON, or a string strtod reads whole (finite, no spaces). */
static int set_double(struct policy_part *part, const struct knob *k, const cJSON *v,
		      const char *where, struct ms_error *err)
{
	double d;

	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		char *end;

		if (is_set_text(s))
			return set_given(where, s, err);
		errno = 0;
		d = strtod(s, &end);
		if (!*s || *end || errno || !isfinite(d) || !strchr("0123456789.", *s) ||
		    strpbrk(s, "xX"))
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: expected a number (e.g. 17.95), not '%s'",
					    where, s);
	} else if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else {
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a number, not %s",
				    where, json_type_name(v));
	}
	if (d < (double)k->min || d > (double)k->max)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: %g is out of range [%" PRIu64 ", %" PRIu64 "]",
				    where, d, k->min, k->max);
	*knob_double(part->params, k) = d;
	return 0;
}

/* true/false: JSON booleans, or those two words as strings. */
static int set_bool(struct policy_part *part, const struct knob *k, const cJSON *v,
		    const char *where, struct ms_error *err)
{
	int b;

	if (cJSON_IsBool(v))
		b = cJSON_IsTrue(v);
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0)
		b = 1;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "false") == 0)
		b = 0;
	else if (cJSON_IsString(v) && is_set_text(v->valuestring))
		return set_given(where, v->valuestring, err);
	else if (cJSON_IsString(v))
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: expected true or false, not '%s'", where,
				    v->valuestring);
	else
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected true or false, not %s",
				    where, json_type_name(v));
	*knob_int(part->params, k) = b;
	return 0;
}

static int set_enum(struct policy_part *part, const struct knob *k, const cJSON *v,
		    const char *where, struct ms_error *err)
{
	char choices[256] = "";

	if (!cJSON_IsString(v))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a string, not %s",
				    where, json_type_name(v));
	if (is_set_text(v->valuestring))
		return set_given(where, v->valuestring, err);
	for (int i = 0; k->choices[i]; i++) {
		if (strcmp(k->choices[i], v->valuestring) == 0) {
			*knob_int(part->params, k) = i;
			return 0;
		}
		snprintf(choices + strlen(choices), sizeof choices - strlen(choices),
			 "%s%s", i ? ", " : "", k->choices[i]);
	}
	return ms_error_set(err, MS_EXIT_CONFIG, "%s: unknown value '%s' (one of: %s)",
			    where, v->valuestring, choices);
}

static int set_knob(struct policy_part *part, const struct knob *k, const cJSON *v,
		    const char *where, struct ms_error *err)
{
	switch (k->kind) {
	case KNOB_UINT:
		return set_uint(part, k, v, where, err);
	case KNOB_DOUBLE:
		return set_double(part, k, v, where, err);
	case KNOB_ENUM:
		return set_enum(part, k, v, where, err);
	case KNOB_STRING:
		if (!cJSON_IsString(v))
			return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a string, not %s",
					    where, json_type_name(v));
		if (is_set_text(v->valuestring))
			return set_given(where, v->valuestring, err);
		if (strlen(v->valuestring) >= k->max)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: longer than %" PRIu64 " characters", where,
					    k->max - 1);
		strcpy(knob_str(part->params, k), v->valuestring);
		return 0;
	case KNOB_BOOL:
		return set_bool(part, k, v, where, err);
	}
	return ms_error_set(err, MS_EXIT_SOFTWARE, "%s: bad knob kind", where);
}

static const struct knob *find_knob(const struct policy_impl *impl, const char *name)
{
	for (size_t i = 0; i < impl->nknobs; i++)
		if (strcmp(impl->knobs[i].name, name) == 0)
			return &impl->knobs[i];
	return NULL;
}

/* --- applying a JSON document ---------------------------------------- */

/* A key twice in one object: cJSON keeps both and the last would win
 * unseen, so it is an error. `prefix` is the object's path ("" or
 * "gc."). The objects are a handful of keys: quadratic is fine. */
static int unique_keys(const cJSON *obj, const char *prefix, struct ms_error *err)
{
	for (const cJSON *a = obj->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string && strcmp(a->string, b->string) == 0)
				return ms_error_set(err, MS_EXIT_CONFIG,
						    "%s%s: the key appears twice (which one "
						    "was meant?)", prefix, a->string);
	return 0;
}

/* Applies one section's object; `user`: the document is the user's (a
 * policy file or a KEY=VALUE), so the knobs it sets count as chosen. */
static int apply_section(struct policy *p, enum policy_section s, const cJSON *obj,
			 int user, struct ms_error *err)
{
	const struct section_desc *sd = &sections[s];
	struct policy_part *part = &p->part[s];
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(obj, sd->selector);
	const cJSON *item;
	char where[160];

	if (!cJSON_IsObject(obj))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected an object, not %s",
				    sd->key, json_type_name(obj));
	snprintf(where, sizeof where, "%s.", sd->key);
	if (unique_keys(obj, where, err))
		return err->code;
	if (sel) {
		struct policy_impl impl;

		if (!cJSON_IsString(sel))
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s.%s: expected a string, not %s",
					    sd->key, sd->selector, json_type_name(sel));
		if (is_set_text(sel->valuestring)) {
			snprintf(where, sizeof where, "%s.%s", sd->key, sd->selector);
			return set_given(where, sel->valuestring, err);
		}
		if (find_impl(s, sel->valuestring, &impl) != 0)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s.%s: unknown implementation '%s'",
					    sd->key, sd->selector, sel->valuestring);
		if (!part->params || strcmp(part->impl.name, impl.name) != 0)
			part_set_impl(part, &impl);
	}
	if (!part->params)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: no implementation is available in this build",
				    sd->key);
	cJSON_ArrayForEach(item, obj) {
		const struct knob *k;

		if (strcmp(item->string, sd->selector) == 0)
			continue;
		snprintf(where, sizeof where, "%s.%s", sd->key, item->string);
		k = find_knob(&part->impl, item->string);
		if (!k)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: unknown key for %s '%s'", where,
					    sd->key, part->impl.name);
		if (set_knob(part, k, item, where, err))
			return err->code;
		if (user && k - part->impl.knobs < 64)
			part->chosen |= UINT64_C(1) << (k - part->impl.knobs);
	}
	return 0;
}

static int resolve_base(const char *name, int depth, struct policy **out,
			struct ms_error *err);

/* Applies a whole document (file, preset or override) over *pp; `user`
 * as for apply_section (a base it names is judged by its own origin). */
static int apply_doc(struct policy **pp, const cJSON *doc, int depth, int user,
		     struct ms_error *err)
{
	const cJSON *item;

	if (!cJSON_IsObject(doc))
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "a policy must be a JSON object, not %s",
				    json_type_name(doc));
	if (unique_keys(doc, "", err))
		return err->code;
	item = cJSON_GetObjectItemCaseSensitive(doc, "base");
	if (item) {
		struct policy *base;

		if (!cJSON_IsString(item))
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "base: expected a preset name or file, not %s",
					    json_type_name(item));
		if (resolve_base(item->valuestring, depth + 1, &base, err))
			return err->code;
		policy_free(*pp);
		*pp = base;
	}
	cJSON_ArrayForEach(item, doc) {
		int s;

		if (strcmp(item->string, "base") == 0 || strcmp(item->string, "name") == 0)
			continue;
		if (strcmp(item->string, "summary") == 0) {
			if (!cJSON_IsString(item))
				return ms_error_set(err, MS_EXIT_CONFIG,
						    "summary: expected a string");
			free((*pp)->summary);
			(*pp)->summary = xstrdup(item->valuestring);
			continue;
		}
		for (s = 0; s < POLICY_SECTIONS; s++)
			if (strcmp(item->string, sections[s].key) == 0)
				break;
		if (s == POLICY_SECTIONS)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "unknown key '%s' (expected base, summary, "
					    "allocator, system, freelists or gc)",
					    item->string);
		if (apply_section(*pp, (enum policy_section)s, item, user, err))
			return err->code;
	}
	return 0;
}

static int is_file_spec(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static char *read_file(const char *path, struct ms_error *err)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb;
	char buf[65536];
	size_t n;

	if (!f) {
		ms_error_at(err, path, 0);
		ms_error_set(err, MS_EXIT_NOINPUT, "cannot open policy: %s", strerror(errno));
		return NULL;
	}
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_putn(&sb, buf, n);
	if (ferror(f)) {
		ms_error_at(err, path, 0);
		ms_error_set(err, MS_EXIT_IOERR, "cannot read policy: %s", strerror(errno));
		fclose(f);
		sb_free(&sb);
		return NULL;
	}
	fclose(f);
	sb_putn(&sb, "", 0);
	return sb.buf;
}

/* 1-based line of a byte offset, for JSON syntax errors. */
static uint64_t line_of(const char *text, const char *at)
{
	uint64_t line = 1;

	for (const char *s = text; s < at && *s; s++)
		line += *s == '\n';
	return line;
}

/* Parses `text`, the policy `origin`, as exactly one JSON document. */
static cJSON *parse_doc(const char *text, const char *origin, struct ms_error *err)
{
	/* The whole text must be one JSON value: cJSON_Parse alone stops
	 * after the first and would ignore whatever follows it. */
	cJSON *doc = cJSON_ParseWithOpts(text, NULL, 1);

	if (!doc) {
		const char *at = cJSON_GetErrorPtr();

		ms_error_at(err, origin, at ? line_of(text, at) : 0);
		if (at)
			ms_error_text(err, at, strcspn(at, "\n"));
		ms_error_set(err, MS_EXIT_CONFIG, "policy is not valid JSON");
	}
	return doc;
}

/* The policy a document describes, over the defaults. */
static int resolve_doc(const cJSON *doc, const char *origin, int depth,
		       struct policy **out, struct ms_error *err)
{
	struct policy *p = policy_new_default();

	if (apply_doc(&p, doc, depth, is_file_spec(origin), err)) {
		if (!err->file[0])
			ms_error_at(err, origin, 0);
		policy_free(p);
		return err->code;
	}
	*out = p;
	return 0;
}

/* A base's document: a preset's text or a policy file's. */
static int load_doc(const char *name, int depth, cJSON **out, struct ms_error *err)
{
	char *text;

	if (depth > POLICY_DEPTH_MAX)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "base chain deeper than %d (a cycle?) at '%s'",
				    POLICY_DEPTH_MAX, name);
	if (!is_file_spec(name)) {
		const char *json = presets_find(name);

		if (!json)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "unknown policy '%s' (see 'memsim policies')",
					    name);
		*out = parse_doc(json, name, err);
		return *out ? 0 : err->code;
	}
	text = read_file(name, err);
	if (!text)
		return err->code;
	*out = parse_doc(text, name, err);
	free(text);
	return *out ? 0 : err->code;
}

int policy_load_doc(const char *base, cJSON **out, struct ms_error *err)
{
	return load_doc(base, 0, out, err);
}

static int resolve_base(const char *name, int depth, struct policy **out,
			struct ms_error *err)
{
	cJSON *doc = NULL;
	int rc = load_doc(name, depth, &doc, err);

	if (rc == 0)
		rc = resolve_doc(doc, name, depth, out, err);
	cJSON_Delete(doc);
	return rc;
}

/* Applies one SECTION.KEY=VALUE as the document {SECTION: {KEY: "VALUE"}}:
 * every knob reads its kind from a string (set_knob). */
static int apply_override(struct policy **pp, const struct policy_override *ov,
			  struct ms_error *err)
{
	const char *dot = strchr(ov->key, '.');
	cJSON *doc;
	char section[64];
	int rc;

	if (ov->set)
		return set_given(ov->key, ov->value, err);
	snprintf(section, sizeof section, "%.*s", (int)(dot - ov->key), ov->key);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(doc, section), dot + 1, ov->value);
	rc = apply_doc(pp, doc, 0, 1, err);
	cJSON_Delete(doc);
	return rc;
}

static int validate_parts(const struct policy *p, struct ms_error *err)
{
	char msg[200];

	for (int s = 0; s < POLICY_SECTIONS; s++) {
		const struct policy_part *part = &p->part[s];

		if (!part->params || !part->impl.validate)
			continue;
		msg[0] = '\0';
		if (part->impl.validate(part->params, msg, sizeof msg) != 0)
			return ms_error_set(err, MS_EXIT_CONFIG, "%s (%s): %s",
					    sections[s].key, part->impl.name, msg);
	}
	return 0;
}

int policy_from_doc(const cJSON *doc, const char *origin,
		    const struct policy_override *ov, size_t n, const char *name,
		    struct policy **out, struct ms_error *err)
{
	struct policy *p = NULL;
	int rc = resolve_doc(doc, origin, 0, &p, err);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = apply_override(&p, &ov[i], err);
	if (rc == 0)
		rc = validate_parts(p, err);
	if (rc) {
		if (!err->file[0])
			ms_error_at(err, name, 0);
		policy_free(p);
		return rc;
	}
	free(p->name);
	p->name = xstrdup(name);
	if (!p->summary)
		p->summary = xstrdup("");
	*out = p;
	return 0;
}

/* --- the specification's syntax -------------------------------------- */

/* The end of the JSON string literal opening at s (just past its closing
 * quote), or NULL when it does not close. */
static const char *string_end(const char *s)
{
	for (s++; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '"')
			return s + 1;
	}
	return NULL;
}

/* The end of the {...} set opening at s (past its '}'), skipping quoted
 * items; NULL when it does not close. Sets do not nest. */
static const char *set_end(const char *s)
{
	for (s++; *s; s++) {
		if (*s == '"') {
			s = string_end(s);
			if (!s)
				return NULL;
			s--;
		} else if (*s == '}') {
			return s + 1;
		}
	}
	return NULL;
}

static char *dup_range(const char *a, const char *b)
{
	char *s = xmalloc((size_t)(b - a) + 1);

	memcpy(s, a, (size_t)(b - a));
	s[b - a] = '\0';
	return s;
}

/* Decodes the JSON string literal [a, b) into a new string, or NULL. */
char *policy_unquote(const char *a, const char *b)
{
	char *lit = dup_range(a, b);
	cJSON *v = cJSON_ParseWithOpts(lit, NULL, 1);
	char *s = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;

	cJSON_Delete(v);
	free(lit);
	return s;
}

/* Parses one KEY=VALUE at *sp into ov; leaves *sp after the value. */
static int parse_override(const char *spec, const char **sp,
			  struct policy_override *ov, struct ms_error *err)
{
	const char *s = *sp, *eq = s + strcspn(s, "=:,{\""), *dot, *v, *end;

	if (*eq != '=')
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "bad override '%.*s' (expected SECTION.KEY=VALUE)",
				    (int)strcspn(s, ":,"), s);
	dot = memchr(s, '.', (size_t)(eq - s));
	if (!dot || dot == s || dot + 1 == eq || memchr(dot + 1, '.', (size_t)(eq - dot - 1)))
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "bad override '%.*s' (expected SECTION.KEY=VALUE)",
				    (int)strcspn(s, ":,"), s);
	v = eq + 1;
	if (*v == '"') {
		end = string_end(v);
		ov->value = end ? policy_unquote(v, end) : NULL;
		if (!ov->value)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%.*s: the quoted value does not end (or is not "
					    "a JSON string)", (int)(eq - s), s);
		ov->quoted = 1;
	} else if (*v == '{') {
		end = set_end(v);
		if (!end)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%.*s: the set '{' has no closing '}'",
					    (int)(eq - s), s);
		ov->value = dup_range(v, end);
		ov->set = 1;
	} else {
		end = v + strcspn(v, ":,");
		ov->value = dup_range(v, end);
	}
	ov->key = dup_range(s, eq);
	ov->at = (size_t)(s - spec);
	ov->len = (size_t)(end - s);
	if (*end && *end != ':' && *end != ',')
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: unexpected '%.*s' after the value (separate "
				    "overrides with ':' or ',')", ov->key,
				    (int)strcspn(end, ":,"), end);
	*sp = end;
	return 0;
}

int policy_spec_parse(const char *spec, struct policy_spec *out, struct ms_error *err)
{
	/* real:LIB names one preset: its ':' is part of the name. */
	const char *colon = strchr(strncmp(spec, "real:", 5) ? spec : spec + 5, ':'), *s;

	memset(out, 0, sizeof *out);
	out->base = dup_range(spec, colon ? colon : spec + strlen(spec));
	if (!out->base[0])
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "'%s': no policy before the ':' (e.g. cpython-3.11:...)", spec);
	for (s = colon; s && *s; ) {
		struct policy_override *ov;

		s++;
		out->ov = xreallocarray(out->ov, out->n + 1, sizeof *out->ov);
		ov = memset(&out->ov[out->n++], 0, sizeof *ov);
		if (parse_override(spec, &s, ov, err))
			return err->code;
	}
	return 0;
}

void policy_spec_free(struct policy_spec *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->ov[i].key);
		free(s->ov[i].value);
	}
	free(s->ov);
	free(s->base);
	memset(s, 0, sizeof *s);
}

int policy_resolve(const char *spec, struct policy **out, struct ms_error *err)
{
	struct policy_spec ps;
	cJSON *doc = NULL;
	int rc = policy_spec_parse(spec, &ps, err);

	if (rc == 0)
		rc = policy_load_doc(ps.base, &doc, err);
	if (rc == 0)
		rc = policy_from_doc(doc, ps.base, ps.ov, ps.n, spec, out, err);
	if (rc && !err->file[0])
		ms_error_at(err, spec, 0);
	cJSON_Delete(doc);
	policy_spec_free(&ps);
	return rc;
}

/* --- printing -------------------------------------------------------- */

/* The shortest %g form of d that reads back as d. */
static void put_double(struct strbuf *sb, double d)
{
	char buf[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	sb_puts(sb, buf);
}

/* The part that "section.knob" names in p (NULL if none); *selector
 * receives the section's implementation key ("policy" / "mode"). */
static const struct policy_part *key_part(const struct policy *p, const char *key,
					  const char **selector)
{
	const char *dot = strchr(key, '.');

	for (int s = 0; dot && s < POLICY_SECTIONS; s++) {
		if (strlen(sections[s].key) == (size_t)(dot - key) &&
		    strncmp(sections[s].key, key, (size_t)(dot - key)) == 0) {
			*selector = sections[s].selector;
			return p->part[s].params ? &p->part[s] : NULL;
		}
	}
	return NULL;
}

int policy_knob_chosen(const struct policy *p, const char *key)
{
	const char *selector;
	const struct policy_part *part = key_part(p, key, &selector);
	const struct knob *k = part ? find_knob(&part->impl, strchr(key, '.') + 1) : NULL;
	size_t i;

	if (!k)
		return -1;
	i = (size_t)(k - part->impl.knobs);
	return i < 64 && (part->chosen >> i & 1);
}

int policy_set(struct policy **pp, const char *key, const char *value,
	       struct ms_error *err)
{
	struct policy_override ov = { .key = (char *)key, .value = (char *)value };

	if (!strchr(key, '.'))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected SECTION.KNOB", key);
	if (apply_override(pp, &ov, err))
		return err->code;
	return validate_parts(*pp, err);
}

int policy_knob_text(const struct policy *p, const char *key, struct strbuf *out)
{
	const char *dot = strchr(key, '.');
	const char *selector = NULL;
	const struct policy_part *part = key_part(p, key, &selector);
	const struct knob *k;

	if (!part)
		return -1;
	if (strcmp(dot + 1, selector) == 0) {
		sb_puts(out, part->impl.name);
		return 0;
	}
	k = find_knob(&part->impl, dot + 1);
	if (!k)
		return -1;
	switch (k->kind) {
	case KNOB_UINT:
		sb_printf(out, "%" PRIu64, *knob_uint(part->params, k));
		break;
	case KNOB_DOUBLE:
		put_double(out, *knob_double(part->params, k));
		break;
	case KNOB_BOOL:
		sb_puts(out, *knob_int(part->params, k) ? "true" : "false");
		break;
	case KNOB_ENUM:
		sb_puts(out, k->choices[*knob_int(part->params, k)]);
		break;
	case KNOB_STRING:
		sb_puts(out, knob_str(part->params, k));
		break;
	}
	return 0;
}

static cJSON *part_to_json(enum policy_section s, const struct policy_part *part)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, sections[s].selector, part->impl.name);
	for (size_t i = 0; i < part->impl.nknobs; i++) {
		const struct knob *k = &part->impl.knobs[i];

		switch (k->kind) {
		case KNOB_UINT:
			cJSON_AddNumberToObject(o, k->name,
						(double)*knob_uint(part->params, k));
			break;
		case KNOB_DOUBLE:
			cJSON_AddNumberToObject(o, k->name, *knob_double(part->params, k));
			break;
		case KNOB_BOOL:
			cJSON_AddBoolToObject(o, k->name, *knob_int(part->params, k));
			break;
		case KNOB_ENUM:
			cJSON_AddStringToObject(o, k->name,
						k->choices[*knob_int(part->params, k)]);
			break;
		case KNOB_STRING:
			cJSON_AddStringToObject(o, k->name, knob_str(part->params, k));
			break;
		}
	}
	return o;
}

void policy_to_json(const struct policy *p, struct strbuf *sb)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "summary", p->summary);
	for (int s = 0; s < POLICY_SECTIONS; s++)
		if (p->part[s].params)
			cJSON_AddItemToObject(o, sections[s].key,
					      part_to_json((enum policy_section)s,
							   &p->part[s]));
	text = cJSON_Print(o);
	sb_puts(sb, text ? text : "{}");
	sb_putc(sb, '\n');
	free(text);
	cJSON_Delete(o);
}

size_t policy_preset_count(void)
{
	return presets_count();
}

const char *policy_preset_name(size_t i)
{
	return presets_name(i);
}

const char *policy_preset_summary(size_t i)
{
	return presets_summary(i);
}
