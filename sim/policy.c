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

static int set_uint(struct policy_part *part, const struct knob *k, const cJSON *v,
		    const char *where, struct ms_error *err)
{
	double d = v->valuedouble;

	if (!cJSON_IsNumber(v))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a whole number, not %s",
				    where, json_type_name(v));
	if (d < 0 || d != floor(d) || d > 18446744073709549568.0)
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a whole number, not %g",
				    where, d);
	if ((uint64_t)d < k->min || (uint64_t)d > k->max)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: %.0f is out of range [%" PRIu64 ", %" PRIu64 "]",
				    where, d, k->min, k->max);
	*knob_uint(part->params, k) = (uint64_t)d;
	return 0;
}

static int set_double(struct policy_part *part, const struct knob *k, const cJSON *v,
		      const char *where, struct ms_error *err)
{
	if (!cJSON_IsNumber(v))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a number, not %s",
				    where, json_type_name(v));
	if (v->valuedouble < (double)k->min || v->valuedouble > (double)k->max)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: %g is out of range [%" PRIu64 ", %" PRIu64 "]",
				    where, v->valuedouble, k->min, k->max);
	*knob_double(part->params, k) = v->valuedouble;
	return 0;
}

static int set_enum(struct policy_part *part, const struct knob *k, const cJSON *v,
		    const char *where, struct ms_error *err)
{
	char choices[256] = "";

	if (!cJSON_IsString(v))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected a string, not %s",
				    where, json_type_name(v));
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
		if (strlen(v->valuestring) >= k->max)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: longer than %" PRIu64 " characters", where,
					    k->max - 1);
		strcpy(knob_str(part->params, k), v->valuestring);
		return 0;
	case KNOB_BOOL:
		if (!cJSON_IsBool(v))
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: expected true or false, not %s",
					    where, json_type_name(v));
		*knob_int(part->params, k) = cJSON_IsTrue(v) ? 1 : 0;
		return 0;
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

static int apply_section(struct policy *p, enum policy_section s, const cJSON *obj,
			 struct ms_error *err)
{
	const struct section_desc *sd = &sections[s];
	struct policy_part *part = &p->part[s];
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(obj, sd->selector);
	const cJSON *item;
	char where[160];

	if (!cJSON_IsObject(obj))
		return ms_error_set(err, MS_EXIT_CONFIG, "%s: expected an object, not %s",
				    sd->key, json_type_name(obj));
	if (sel) {
		struct policy_impl impl;

		if (!cJSON_IsString(sel))
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s.%s: expected a string, not %s",
					    sd->key, sd->selector, json_type_name(sel));
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
	}
	return 0;
}

static int resolve_base(const char *name, int depth, struct policy **out,
			struct ms_error *err);

/* Applies a whole document (file, preset or override) over *pp. */
static int apply_doc(struct policy **pp, const cJSON *doc, int depth,
		     struct ms_error *err)
{
	const cJSON *item;

	if (!cJSON_IsObject(doc))
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "a policy must be a JSON object, not %s",
				    json_type_name(doc));
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
		if (apply_section(*pp, (enum policy_section)s, item, err))
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

static int resolve_json_text(const char *text, const char *origin, int depth,
			     struct policy **out, struct ms_error *err)
{
	cJSON *doc = cJSON_Parse(text);
	struct policy *p;

	if (!doc) {
		const char *at = cJSON_GetErrorPtr();

		ms_error_at(err, origin, at ? line_of(text, at) : 0);
		if (at)
			ms_error_text(err, at, strcspn(at, "\n"));
		return ms_error_set(err, MS_EXIT_CONFIG, "policy is not valid JSON");
	}
	p = policy_new_default();
	if (apply_doc(&p, doc, depth, err)) {
		if (!err->file[0])
			ms_error_at(err, origin, 0);
		cJSON_Delete(doc);
		policy_free(p);
		return err->code;
	}
	cJSON_Delete(doc);
	*out = p;
	return 0;
}

static int resolve_base(const char *name, int depth, struct policy **out,
			struct ms_error *err)
{
	const char *json;
	char *text;
	int rc;

	if (depth > POLICY_DEPTH_MAX)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "base chain deeper than %d (a cycle?) at '%s'",
				    POLICY_DEPTH_MAX, name);
	if (!is_file_spec(name)) {
		json = presets_find(name);
		if (!json)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "unknown policy '%s' (see 'memsim policies')",
					    name);
		return resolve_json_text(json, name, depth, out, err);
	}
	text = read_file(name, err);
	if (!text)
		return err->code;
	rc = resolve_json_text(text, name, depth, out, err);
	free(text);
	return rc;
}

/* Turns "a.b=VALUE" into {"a": {"b": VALUE}} and applies it. */
static int apply_override(struct policy **pp, const char *kv, size_t len,
			  struct ms_error *err)
{
	char *s = xmalloc(len + 1), *eq, *dot, *val;
	cJSON *doc = NULL, *value;
	int rc;

	memcpy(s, kv, len);
	s[len] = '\0';
	eq = strchr(s, '=');
	dot = strchr(s, '.');
	if (!eq || !dot || dot > eq || dot == s || dot + 1 == eq) {
		rc = ms_error_set(err, MS_EXIT_CONFIG,
				  "bad override '%s' (expected SECTION.KEY=VALUE)", s);
		goto out;
	}
	*eq = '\0';
	*dot = '\0';
	val = eq + 1;
	value = cJSON_Parse(val);
	if (!value || cJSON_IsObject(value) || cJSON_IsArray(value)) {
		cJSON_Delete(value);
		value = cJSON_CreateString(val);
	}
	doc = cJSON_CreateObject();
	cJSON_AddItemToObject(cJSON_AddObjectToObject(doc, s), dot + 1, value);
	rc = apply_doc(pp, doc, 0, err);
out:
	cJSON_Delete(doc);
	free(s);
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

int policy_resolve(const char *spec, struct policy **out, struct ms_error *err)
{
	const char *colon = strchr(spec, ':');
	size_t base_len = colon ? (size_t)(colon - spec) : strlen(spec);
	char *base = xmalloc(base_len + 1);
	struct policy *p = NULL;
	int rc;

	memcpy(base, spec, base_len);
	base[base_len] = '\0';
	rc = resolve_base(base, 0, &p, err);
	free(base);
	for (const char *s = colon ? colon + 1 : NULL; rc == 0 && s;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);

		rc = apply_override(&p, s, n, err);
		s = comma ? comma + 1 : NULL;
	}
	if (rc == 0)
		rc = validate_parts(p, err);
	if (rc) {
		if (!err->file[0])
			ms_error_at(err, spec, 0);
		policy_free(p);
		return rc;
	}
	free(p->name);
	p->name = xstrdup(spec);
	if (!p->summary)
		p->summary = xstrdup("");
	*out = p;
	return 0;
}

/* --- printing -------------------------------------------------------- */

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
