/*
 * sweep.c - expanding sweep sets into variants (see sweep.h).
 *
 * For each specification:
 *   1. parse it (policy_spec_parse) and load its base document;
 *   2. collect its sets, the axes: string values "{...}" in the base
 *      document's sections (a policy file's own, not its bases'), then
 *      the derivation's {...} values, each expanded to its list of value
 *      texts (ranges generated, never more than the limit allows);
 *   3. refuse the product before building anything when it exceeds the
 *      limit;
 *   4. walk the product like an odometer (the last axis fastest): copy
 *      the document with the file axes' values put in, the derivation
 *      with its axes' values, resolve (policy_from_doc), and name the
 *      variant from the values the knobs took in the resolved policy.
 * Last, names must be unique over the whole list (sorted, O(n log n)).
 */
#include "sweep.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "units.h"
#include "xalloc.h"

/* One set: the knob it sweeps and its value texts. */
struct axis {
	char *key;              /* "section.knob" */
	char **values;
	size_t n;
	size_t ov;              /* derivation axis: index into the overrides */
	int in_file;            /* a "{...}" string of the base document */
};

struct values {
	char **v;
	size_t n;
};

static void values_add(struct values *vs, char *s)
{
	vs->v = xreallocarray(vs->v, vs->n + 1, sizeof *vs->v);
	vs->v[vs->n++] = s;
}

static void values_free(struct values *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

static int parse_num(const char *s, size_t len, const char *key, const char *what,
		     uint64_t *out, struct ms_error *err)
{
	const char *why;

	if (units_parse_u64(s, len, out, &why) != 0)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: the range's %s '%.*s' is not a whole number (e.g. "
				    "700, 64K, 0x1000)%s%s", key, what, (int)len, s,
				    strcmp(why, "not a whole number") ? ": " : "",
				    strcmp(why, "not a whole number") ? why : "");
	return 0;
}

/*
 * Generates the range item [s, s + len) ("A..B+S", "A..B*F", "A..B")
 * into vs, refusing one that is empty, would not end, or would hold more
 * than `cap` values.
 */
static int expand_range(const char *s, size_t len, const char *key, size_t cap,
			struct values *vs, struct ms_error *err)
{
	const char *dots = strstr(s, ".."), *end = s + len, *op = NULL;
	uint64_t a, b, step = 1, v;
	char opc = '+';
	size_t count = 0;

	for (const char *p = dots + 2; p < end; p++)
		if (*p == '+' || *p == '*')
			op = p;
	if (op) {
		opc = *op;
		if (parse_num(op + 1, (size_t)(end - op - 1), key, "step", &step, err))
			return err->code;
	}
	if (parse_num(s, (size_t)(dots - s), key, "start", &a, err) ||
	    parse_num(dots + 2, (size_t)((op ? op : end) - dots - 2), key, "end", &b, err))
		return err->code;
	if ((opc == '+' && step == 0) || (opc == '*' && (step < 2 || a == 0)))
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: the range '%.*s' does not terminate (%s)", key,
				    (int)len, s, opc == '+' ? "a step of 0 never moves"
				    : a == 0 ? "0 times anything stays 0"
				    : "a factor below 2 never grows");
	if (a > b)
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: the range '%.*s' is empty (its start is past its end)",
				    key, (int)len, s);
	/* Past `cap` values the caller refuses the set: stop generating. */
	for (v = a; count++ <= cap;) {
		char buf[24];

		snprintf(buf, sizeof buf, "%" PRIu64, v);
		values_add(vs, xstrdup(buf));
		/* The next value, unless it would pass b (or 2^64). */
		if (opc == '+' ? step > b - v : v > b / step)
			break;
		v = opc == '+' ? v + step : v * step;
		if (v > b)
			break;
	}
	return 0;
}

/* The end of the item starting at s inside a set: its ',' or '}'. */
static const char *item_end(const char *s)
{
	while (*s && *s != ',' && *s != '}') {
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return s;
		}
		s++;
	}
	return s;
}

/* The error for a sweep of more than `limit` policies. */
static int too_many(struct ms_error *err, size_t limit)
{
	return ms_error_set(err, MS_EXIT_USAGE, "more than %zu policies%s", limit,
			    limit < SWEEP_LIMIT_FORCED
			    ? ": add --force to allow up to 100000 (docs/sweeps.md)"
			    : ": split the sweep into several runs or plans");
}

/* Whether [s, s + len) holds "..": a range. */
static int has_dots(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return 1;
	return 0;
}

/* Expands the set text "{...}" of `key` into vs: at most `cap` values,
 * what is left of the sweep's `limit`. */
static int expand_set(const char *text, const char *key, size_t cap, size_t limit,
		      struct values *vs, struct ms_error *err)
{
	const char *s = text + 1;

	if (*s == '}')
		return ms_error_set(err, MS_EXIT_CONFIG,
				    "%s: the set '%s' is empty: it expands to no policy", key,
				    text);
	for (;;) {
		const char *e = item_end(s);
		size_t len = (size_t)(e - s);

		if (len == 0)
			return ms_error_set(err, MS_EXIT_CONFIG,
					    "%s: the set '%s' has an empty item", key, text);
		if (*s == '"') {
			char *v = policy_unquote(s, e);

			if (!v)
				return ms_error_set(err, MS_EXIT_CONFIG,
						    "%s: '%.*s' in the set is not a JSON string",
						    key, (int)len, s);
			values_add(vs, v);
		} else if (has_dots(s, len)) {
			if (expand_range(s, len, key, cap - vs->n, vs, err))
				return err->code;
		} else {
			char *v = xmalloc(len + 1);

			memcpy(v, s, len);
			v[len] = '\0';
			values_add(vs, v);
		}
		if (vs->n > cap)
			return too_many(err, limit);
		if (*e != ',')
			return 0;
		s = e + 1;
	}
}

static int is_set_string(const cJSON *v)
{
	size_t n;

	if (!cJSON_IsString(v))
		return 0;
	n = strlen(v->valuestring);
	return n >= 2 && v->valuestring[0] == '{' && v->valuestring[n - 1] == '}';
}

/* --- one specification ----------------------------------------------- */

struct expansion {
	const char *spec;
	size_t source;
	size_t limit;           /* policies in the whole sweep */
	struct policy_spec ps;
	cJSON *doc;
	struct axis *axes;
	size_t naxes;
};

static int add_axis(struct expansion *x, const char *key, const char *text, int in_file,
		    size_t ov, size_t cap, struct ms_error *err)
{
	struct values vs = { 0 };
	struct axis *a;

	if (expand_set(text, key, cap, x->limit, &vs, err)) {
		values_free(&vs);
		return err->code;
	}
	x->axes = xreallocarray(x->axes, x->naxes + 1, sizeof *x->axes);
	a = &x->axes[x->naxes++];
	a->key = xstrdup(key);
	a->values = vs.v;
	a->n = vs.n;
	a->in_file = in_file;
	a->ov = ov;
	return 0;
}

/* Steps 1-2: the specification, its document and its axes. */
static int collect_axes(struct expansion *x, size_t cap, struct ms_error *err)
{
	const cJSON *section, *item;
	char key[160];

	if (policy_spec_parse(x->spec, &x->ps, err) ||
	    policy_load_doc(x->ps.base, &x->doc, err))
		return err->code;
	cJSON_ArrayForEach(section, x->doc) {
		if (!cJSON_IsObject(section))
			continue;
		cJSON_ArrayForEach(item, section) {
			if (!is_set_string(item))
				continue;
			snprintf(key, sizeof key, "%s.%s", section->string, item->string);
			if (add_axis(x, key, item->valuestring, 1, 0, cap, err)) {
				ms_error_at(err, x->ps.base, 0);
				return err->code;
			}
		}
	}
	for (size_t i = 0; i < x->ps.n; i++)
		if (x->ps.ov[i].set &&
		    add_axis(x, x->ps.ov[i].key, x->ps.ov[i].value, 0, i, cap, err))
			return err->code;
	return 0;
}

static void expansion_free(struct expansion *x)
{
	for (size_t i = 0; i < x->naxes; i++) {
		struct values vs = { x->axes[i].values, x->axes[i].n };

		values_free(&vs);
		free(x->axes[i].key);
	}
	free(x->axes);
	cJSON_Delete(x->doc);
	policy_spec_free(&x->ps);
}

/* The name's key for axis i: its knob, or section.knob when another
 * axis sweeps a knob of the same name. */
static const char *short_key(const struct expansion *x, size_t i)
{
	const char *knob = strchr(x->axes[i].key, '.') + 1;

	for (size_t j = 0; j < x->naxes; j++)
		if (j != i && strcmp(strchr(x->axes[j].key, '.') + 1, knob) == 0)
			return x->axes[i].key;
	return knob;
}

/* A value in a name: as is, or as a JSON string when it holds one of the
 * characters that frame the name. */
static void name_value(struct strbuf *sb, const char *v)
{
	char *q;

	if (!*v || strpbrk(v, ",[]=\"\\:")) {
		cJSON *s = cJSON_CreateString(v);

		q = cJSON_PrintUnformatted(s);
		sb_puts(sb, q);
		free(q);
		cJSON_Delete(s);
		return;
	}
	sb_puts(sb, v);
}

/*
 * Step 4 for the point `pick` (one value index per axis): resolves the
 * variant into *v. The name is the specification without its sets, then
 * [knob=value,...] with the values as resolved.
 */
static int build_variant(const struct expansion *x, const size_t *pick,
			 struct sweep_variant *v, struct ms_error *err)
{
	struct policy_override *ov = xcalloc(x->ps.n ? x->ps.n : 1, sizeof *ov);
	cJSON *doc = cJSON_Duplicate(x->doc, 1);
	struct strbuf name, text;
	struct policy *p;
	int rc;

	memcpy(ov, x->ps.ov, x->ps.n * sizeof *ov);
	for (size_t i = 0; i < x->naxes; i++) {
		const struct axis *a = &x->axes[i];
		const char *dot = strchr(a->key, '.');

		if (a->in_file) {
			char sec[64];

			snprintf(sec, sizeof sec, "%.*s", (int)(dot - a->key), a->key);
			cJSON_ReplaceItemInObjectCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(doc, sec), dot + 1,
				cJSON_CreateString(a->values[pick[i]]));
		} else {
			ov[a->ov].value = a->values[pick[i]];
			ov[a->ov].set = 0;
		}
	}
	sb_init(&name);
	sb_puts(&name, x->ps.base);
	for (size_t i = 0; i < x->ps.n; i++)
		if (!x->ps.ov[i].set)
			sb_printf(&name, ":%.*s", (int)x->ps.ov[i].len, x->spec + x->ps.ov[i].at);
	sb_putc(&name, '[');
	/* Errors name the point by the values as written. */
	sb_init(&text);
	sb_puts(&text, sb_str(&name));
	for (size_t i = 0; i < x->naxes; i++)
		sb_printf(&text, "%s%s=%s", i ? "," : "", short_key(x, i),
			  x->axes[i].values[pick[i]]);
	sb_putc(&text, ']');
	rc = policy_from_doc(doc, x->ps.base, ov, x->ps.n, sb_str(&text), &p, err);
	sb_free(&text);
	v->set = xcalloc(x->naxes, sizeof *v->set);
	for (size_t i = 0; rc == 0 && i < x->naxes; i++) {
		sb_init(&text);
		if (policy_knob_text(p, x->axes[i].key, &text) != 0)
			sb_puts(&text, x->axes[i].values[pick[i]]);
		sb_printf(&name, "%s%s=", i ? "," : "", short_key(x, i));
		name_value(&name, sb_str(&text));
		v->set[i].key = xstrdup(x->axes[i].key);
		v->set[i].value = xstrdup(sb_str(&text));
		v->nset++;
		sb_free(&text);
	}
	sb_putc(&name, ']');
	if (rc == 0) {
		free(p->name);
		p->name = xstrdup(sb_str(&name));
		v->policy = p;
	}
	v->source = x->source;
	sb_free(&name);
	cJSON_Delete(doc);
	free(ov);
	return rc;
}

static void variant_free(struct sweep_variant *v)
{
	for (size_t i = 0; i < v->nset; i++) {
		free(v->set[i].key);
		free(v->set[i].value);
	}
	free(v->set);
	policy_free(v->policy);
}

static struct sweep_variant *list_push(struct sweep_list *l)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	return memset(&l->v[l->n++], 0, sizeof *l->v);
}

/* Steps 3-4: the product of the axes, or one policy without sets. */
static int expand_product(const struct expansion *x, size_t limit, struct sweep_list *out,
			  struct ms_error *err)
{
	uint64_t total = 1;
	size_t *pick;
	int rc = 0;

	if (x->naxes == 0) {
		struct sweep_variant *v = list_push(out);

		v->source = x->source;
		return policy_from_doc(x->doc, x->ps.base, x->ps.ov, x->ps.n, x->spec,
				       &v->policy, err);
	}
	for (size_t i = 0; i < x->naxes; i++) {
		total *= x->axes[i].n;
		if (total > limit - out->n)
			return too_many(err, limit);
	}
	pick = xcalloc(x->naxes, sizeof *pick);
	for (uint64_t k = 0; k < total && rc == 0; k++) {
		rc = build_variant(x, pick, list_push(out), err);
		for (size_t i = x->naxes; i-- > 0;) {
			if (++pick[i] < x->axes[i].n)
				break;
			pick[i] = 0;
		}
	}
	free(pick);
	return rc;
}

/* --- the whole list --------------------------------------------------- */

struct named {
	const char *name;
	size_t i;
};

static int by_name(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Two policies of one name would make two columns nobody can tell apart
 * and a --baseline that means either. */
static int check_unique(const struct sweep_list *l, const char *const *specs,
			struct ms_error *err)
{
	struct named *idx = xmalloc((l->n ? l->n : 1) * sizeof *idx);
	int rc = 0;

	for (size_t i = 0; i < l->n; i++)
		idx[i] = (struct named){ l->v[i].policy->name, i };
	qsort(idx, l->n, sizeof *idx, by_name);
	for (size_t i = 1; i < l->n && rc == 0; i++) {
		const struct sweep_variant *a = &l->v[idx[i - 1].i], *b = &l->v[idx[i].i];

		if (strcmp(a->policy->name, b->policy->name) != 0)
			continue;
		if (a->source == b->source && a->nset)
			rc = ms_error_set(err, MS_EXIT_USAGE,
					  "'%s' names the policy '%s' twice (a set holds one "
					  "value twice, e.g. 64K and 65536)", specs[a->source],
					  a->policy->name);
		else
			rc = specs[a->source] == specs[b->source] ||
				strcmp(specs[a->source], specs[b->source]) == 0
				? ms_error_set(err, MS_EXIT_USAGE,
					       "policy '%s' is given twice (each -p is one "
					       "column; a baseline must name one)", a->policy->name)
				: ms_error_set(err, MS_EXIT_USAGE,
					       "policy '%s' is given twice (by -p '%s' and -p "
					       "'%s'; each -p is one column, a baseline must "
					       "name one)", a->policy->name, specs[a->source],
					       specs[b->source]);
	}
	free(idx);
	return rc;
}

int sweep_expand(const char *const *specs, size_t nspecs, size_t limit,
		 struct sweep_list *out, struct ms_error *err)
{
	int rc = 0;

	memset(out, 0, sizeof *out);
	for (size_t s = 0; s < nspecs && rc == 0; s++) {
		struct expansion x = { .spec = specs[s], .source = s, .limit = limit };

		rc = collect_axes(&x, limit - out->n, err);
		if (rc == 0)
			rc = expand_product(&x, limit, out, err);
		if (rc && !err->file[0])
			ms_error_at(err, specs[s], 0);
		expansion_free(&x);
	}
	if (rc == 0)
		rc = check_unique(out, specs, err);
	if (rc)
		sweep_list_free(out);
	return rc;
}

void sweep_list_free(struct sweep_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		variant_free(&list->v[i]);
	free(list->v);
	memset(list, 0, sizeof *list);
}

struct policy **sweep_policies(const struct sweep_list *list)
{
	struct policy **p = xmalloc((list->n ? list->n : 1) * sizeof *p);

	for (size_t i = 0; i < list->n; i++)
		p[i] = list->v[i].policy;
	return p;
}
