/*
 * typetab.c - interned type names (see typetab.h).
 *
 * An open-addressing hash of indices finds a name; the names themselves
 * never move once interned, so that simulation threads may read
 * typetab_name() of types they were handed while the reader thread
 * interns new ones (engine.c publishes each batch of events under a
 * mutex, which orders the writes before the reads). Hence:
 *   - the characters live in blocks that are never reallocated, a new
 *     block being started when a name does not fit;
 *   - index -> name pointers live in a fixed directory of blocks of
 *     doubling size (block k holds 16 << k pointers), also never moved.
 * A trace rarely has more than a few hundred types, but a hostile one may
 * have millions, so every part grows geometrically.
 */
#include "typetab.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define DIR_FIRST 16u           /* pointers in directory block 0 */
#define DIR_BLOCKS 29           /* 16 * (2^29 - 1) names: more than uint32 */
#define CHARS_MIN 4096u

struct chars_block {
	struct chars_block *prev;       /* the blocks filled before this one */
	size_t used, cap;
	char text[];
};

struct typetab {
	struct chars_block *chars;      /* the block being filled */
	const char **dir[DIR_BLOCKS];   /* index -> name, see dir_at */
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

/* Where the name pointer of `index` lives: block k starts at index
 * 16 * (2^k - 1), so k is found from the highest bit of index / 16 + 1. */
static const char **dir_at(const struct typetab *t, uint32_t index)
{
	uint64_t x = (uint64_t)index / DIR_FIRST + 1;
	unsigned k = 63u - (unsigned)__builtin_clzll(x);
	uint64_t first = (uint64_t)DIR_FIRST * ((UINT64_C(1) << k) - 1);

	return &t->dir[k][index - first];
}

/* Copies a name into the character blocks; the copy never moves. */
static const char *chars_add(struct typetab *t, const char *name, size_t len)
{
	struct chars_block *b = t->chars;
	char *s;

	if (!b || b->used + len + 1 > b->cap) {
		size_t cap = b ? b->cap * 2 : CHARS_MIN;

		while (cap < len + 1)
			cap *= 2;
		b = xmalloc(sizeof *b + cap);
		b->prev = t->chars;
		b->used = 0;
		b->cap = cap;
		t->chars = b;
	}
	s = b->text + b->used;
	memcpy(s, name, len);
	s[len] = '\0';
	b->used += len + 1;
	return s;
}

/* Appends a name as the next index (0 is the untyped ""). */
static void dir_append(struct typetab *t, const char *s)
{
	uint32_t i = atomic_load_explicit(&t->count, memory_order_relaxed);
	uint64_t x = (uint64_t)i / DIR_FIRST + 1;
	unsigned k = 63u - (unsigned)__builtin_clzll(x);

	if (!t->dir[k])
		t->dir[k] = xreallocarray(NULL, (size_t)DIR_FIRST << k, sizeof *t->dir[k]);
	*dir_at(t, i) = s;
	atomic_store_explicit(&t->count, i + 1, memory_order_release);
}

struct typetab *typetab_create(void)
{
	struct typetab *t = xcalloc(1, sizeof *t);

	dir_append(t, chars_add(t, "", 0));     /* the untyped name */
	t->mask = 31;
	t->slots = xcalloc(t->mask + 1, sizeof *t->slots);
	return t;
}

void typetab_destroy(struct typetab *t)
{
	if (!t)
		return;
	while (t->chars) {
		struct chars_block *b = t->chars;

		t->chars = b->prev;
		free(b);
	}
	for (int k = 0; k < DIR_BLOCKS; k++)
		free(t->dir[k]);
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
	dir_append(t, chars_add(t, name, len));
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
