/*
 * typetab.c - interned type names (see typetab.h).
 *
 * An open-addressing hash of indices finds a name; the names themselves
 * never move once interned (stable.h: the characters in blocks that are
 * never reallocated, index -> name pointers in a directory of blocks of
 * doubling size), so that simulation threads may read typetab_name() of
 * types they were handed while the reader thread interns new ones; the
 * count is published with release and read with acquire. A trace rarely
 * has more than a few hundred types, but a hostile one may have
 * millions, so every part grows geometrically.
 */
#include "typetab.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "stable.h"
#include "xalloc.h"

#define DIR_SHIFT 4             /* 16 pointers in directory block 0 */

struct typetab {
	struct stable_chars chars;
	struct stable_dir dir;          /* index -> const char *name */
	/* Names below it may be read by any thread: stored with release
	 * after the name, loaded with acquire by typetab_name. */
	_Atomic uint32_t count;
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

static const char **dir_at(const struct typetab *t, uint32_t index)
{
	return stable_dir_at(&t->dir, index);
}

/* Appends a name as the next index (0 is the untyped ""). */
static void dir_append(struct typetab *t, const char *s)
{
	uint32_t i = atomic_load_explicit(&t->count, memory_order_relaxed);

	*(const char **)stable_dir_slot(&t->dir, i) = s;
	atomic_store_explicit(&t->count, i + 1, memory_order_release);
}

struct typetab *typetab_create(void)
{
	struct typetab *t = xcalloc(1, sizeof *t);

	t->dir = (struct stable_dir){ .elem = sizeof(const char *), .shift = DIR_SHIFT };
	dir_append(t, stable_chars_add(&t->chars, "", 0));     /* the untyped name */
	t->mask = 31;
	t->slots = xcalloc(t->mask + 1, sizeof *t->slots);
	return t;
}

void typetab_destroy(struct typetab *t)
{
	if (!t)
		return;
	stable_chars_free(&t->chars);
	stable_dir_free(&t->dir);
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
		s = *dir_at(t, *slot - 1);
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
			const char *s = *dir_at(t, old[i] - 1);

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
	dir_append(t, stable_chars_add(&t->chars, name, len));
	*slot = t->count;
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
	uint32_t n = atomic_load_explicit(&t->count, memory_order_acquire);

	return index < n ? *dir_at(t, index) : "";
}

uint32_t typetab_count(const struct typetab *t)
{
	return t->count;
}

int typetab_syntax_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int alpha = (unsigned)((c | 0x20) - 'a') < 26 || c == '_';

		if (!alpha && (i == 0 || ((unsigned)(c - '0') >= 10 && c != '.')))
			return 0;
	}
	return 1;
}

int typetab_name_ok(const char *s, size_t n)
{
	return n <= TYPETAB_NAME_MAX && typetab_syntax_ok(s, n);
}
