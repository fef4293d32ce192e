/*
 * gctypes.c - which trace types a CPython cycle collector sees (gctypes.h).
 */
#include "gctypes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "xalloc.h"

/* Whether the comma-separated list contains `name` exactly. */
static int list_has(const char *list, const char *name)
{
	size_t len = strlen(name);

	while (*list) {
		const char *end = strchr(list, ',');
		size_t n = end ? (size_t)(end - list) : strlen(list);

		if (n == len && memcmp(list, name, n) == 0)
			return 1;
		if (!end)
			break;
		list = end + 1;
	}
	return 0;
}

/* Checks a list's syntax: names as in the trace format, comma-separated,
 * no empty entries (an empty list is ""). */
static int list_check(const char *knob, const char *list, size_t cap,
		      char *msg, size_t msglen)
{
	size_t i = 0, start = 0;

	if (memchr(list, '\0', cap) == NULL) {
		snprintf(msg, msglen, "%s: longer than %zu bytes", knob, cap - 1);
		return -1;
	}
	if (!*list)
		return 0;
	for (;; i++) {
		char c = list[i];
		if (c == ',' || c == '\0') {
			size_t n = i - start;
			if (n == 0 || n > TYPETAB_NAME_MAX) {
				snprintf(msg, msglen, "%s: empty or too long type name at byte %zu",
					 knob, start);
				return -1;
			}
			if (c == '\0')
				return 0;
			start = i + 1;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     c == '_' || (i > start && ((c >= '0' && c <= '9') || c == '.')))) {
			snprintf(msg, msglen, "%s: bad character '%c' in a type name", knob, c);
			return -1;
		}
	}
}

int gctypes_validate(const struct gctypes_params *p, char *msg, size_t msglen)
{
	char name[TYPETAB_NAME_MAX + 1];
	const char *l;

	if (list_check("tracked_types", p->tracked_types, GCTYPES_LIST_MAX, msg, msglen) ||
	    list_check("untracked_types", p->untracked_types, GCTYPES_LIST_MAX, msg, msglen))
		return -1;
	for (l = p->tracked_types; *l;) {
		const char *end = strchr(l, ',');
		size_t n = end ? (size_t)(end - l) : strlen(l);

		memcpy(name, l, n);
		name[n] = '\0';
		if (list_has(p->untracked_types, name)) {
			snprintf(msg, msglen, "type '%s' is in both tracked_types and untracked_types",
				 name);
			return -1;
		}
		if (!end)
			break;
		l = end + 1;
	}
	return 0;
}

void gctypes_init(struct gctypes *c, const struct gctypes_params *p,
		  const struct typetab *types)
{
	*c = (struct gctypes){ .p = p, .types = types };
}

void gctypes_free(struct gctypes *c)
{
	free(c->kinds);
	c->kinds = NULL;
	c->nkinds = 0;
}

enum gctypes_kind gctypes_kind(struct gctypes *c, uint32_t type)
{
	const char *name;
	enum gctypes_kind k;

	if (type == TYPETAB_UNTYPED)
		return GCTYPES_INVISIBLE;
	if (type >= c->nkinds) {
		uint32_t n = c->nkinds ? c->nkinds : 16;
		while (n <= type)
			n *= 2;
		c->kinds = xrealloc(c->kinds, n);
		memset(c->kinds + c->nkinds, GCTYPES_UNKNOWN, n - c->nkinds);
		c->nkinds = n;
	}
	if (c->kinds[type] != GCTYPES_UNKNOWN)
		return (enum gctypes_kind)c->kinds[type];
	name = c->types ? typetab_name(c->types, type) : "";
	if (list_has(c->p->tracked_types, name))
		k = strcmp(name, "tuple") == 0 ? GCTYPES_TUPLE
			: strcmp(name, "dict") == 0 ? GCTYPES_DICT : GCTYPES_VISIBLE;
	else if (list_has(c->p->untracked_types, name) || !*name)
		k = GCTYPES_INVISIBLE;
	else
		k = c->p->other_types_tracked ? GCTYPES_VISIBLE : GCTYPES_INVISIBLE;
	c->kinds[type] = (uint8_t)k;
	return k;
}

int gctypes_sees(struct gctypes *c, uint32_t type)
{
	if (gctypes_kind(c, type) == GCTYPES_INVISIBLE)
		return GC_SEES_NOT;
	return list_has(c->p->tracked_types, typetab_name(c->types, type))
		? GC_SEES_BUILTIN : GC_SEES_OTHER;
}
