/*
 * typetab.c - interned type names (see typetab.h).
 *
 * Names live in one growing character arena; an open-addressing hash of
 * indices finds them. A trace rarely has more than a few hundred types,
 * but a hostile one may have millions, so both parts grow geometrically.
 */
#include "typetab.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct typetab {
	char *chars;            /* names, each NUL-terminated */
	size_t chars_used, chars_cap;
	size_t *offset;         /* index -> offset of its name in chars */
	uint32_t count, cap;
	uint32_t *slots;        /* hash slot -> index + 1 (0 = empty) */
	uint32_t mask;
};

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

struct typetab *typetab_create(void)
{
	struct typetab *t = xcalloc(1, sizeof *t);

	t->chars_cap = 256;
	t->chars = xmalloc(t->chars_cap);
	t->chars[0] = '\0';	/* the untyped name */
	t->chars_used = 1;
	t->cap = 16;
	t->offset = xmalloc(t->cap * sizeof *t->offset);
	t->offset[0] = 0;
	t->count = 1;
	t->mask = 31;
	t->slots = xcalloc(t->mask + 1, sizeof *t->slots);
	return t;
}

void typetab_destroy(struct typetab *t)
{
	if (!t)
		return;
	free(t->chars);
	free(t->offset);
	free(t->slots);
	free(t);
}

static uint32_t *find_slot(const struct typetab *t, const char *name, size_t len)
{
	uint32_t i = (uint32_t)name_hash(name, len) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		uint32_t *slot = &t->slots[i];
		const char *s;

		if (!*slot)
			return slot;
		s = t->chars + t->offset[*slot - 1];
		if (strncmp(s, name, len) == 0 && s[len] == '\0')
			return slot;
	}
}

static void grow_slots(struct typetab *t)
{
	uint32_t old_n = t->mask + 1;
	uint32_t *old = t->slots;

	t->mask = old_n * 2 - 1;
	t->slots = xcalloc((size_t)t->mask + 1, sizeof *t->slots);
	for (uint32_t i = 0; i < old_n; i++) {
		if (old[i]) {
			const char *s = t->chars + t->offset[old[i] - 1];

			*find_slot(t, s, strlen(s)) = old[i];
		}
	}
	free(old);
}

uint32_t typetab_intern(struct typetab *t, const char *name, size_t len)
{
	uint32_t *slot;

	if (len == 0)
		return TYPETAB_UNTYPED;
	slot = find_slot(t, name, len);
	if (*slot)
		return *slot - 1;
	if (t->count == t->cap) {
		t->cap *= 2;
		t->offset = xreallocarray(t->offset, t->cap, sizeof *t->offset);
	}
	while (t->chars_used + len + 1 > t->chars_cap) {
		t->chars_cap *= 2;
		t->chars = xrealloc(t->chars, t->chars_cap);
	}
	memcpy(t->chars + t->chars_used, name, len);
	t->chars[t->chars_used + len] = '\0';
	t->offset[t->count] = t->chars_used;
	t->chars_used += len + 1;
	*slot = t->count + 1;
	t->count++;
	if ((uint64_t)t->count * 2 > t->mask)
		grow_slots(t);
	return t->count - 1;
}

uint32_t typetab_find(const struct typetab *t, const char *name)
{
	size_t len = strlen(name);
	uint32_t *slot;

	if (len == 0)
		return TYPETAB_UNTYPED;
	slot = find_slot(t, name, len);
	return *slot ? *slot - 1 : UINT32_MAX;
}

const char *typetab_name(const struct typetab *t, uint32_t index)
{
	return index < t->count ? t->chars + t->offset[index] : "";
}

uint32_t typetab_count(const struct typetab *t)
{
	return t->count;
}

int typetab_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > TYPETAB_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int alpha = (unsigned)((c | 0x20) - 'a') < 26 || c == '_';

		if (!alpha && (i == 0 || ((unsigned)(c - '0') >= 10 && c != '.')))
			return 0;
	}
	return 1;
}
