/*
 * stable.c - storage whose elements never move (see stable.h).
 */
#include "stable.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define CHARS_MIN 4096u         /* bytes of the first character block */

struct stable_chars_block {
	struct stable_chars_block *prev;        /* the blocks filled before */
	size_t used, cap;                       /* bytes */
	char text[];
};

const char *stable_chars_add(struct stable_chars *c, const char *s, size_t len)
{
	struct stable_chars_block *b = c->last;
	char *out;

	if (!b || b->used + len + 1 > b->cap) {
		size_t cap = b ? b->cap * 2 : CHARS_MIN;

		while (cap < len + 1)
			cap *= 2;
		b = xmalloc(sizeof *b + cap);
		b->prev = c->last;
		b->used = 0;
		b->cap = cap;
		c->last = b;
	}
	out = b->text + b->used;
	memcpy(out, s, len);
	out[len] = '\0';
	b->used += len + 1;
	return out;
}

void stable_chars_free(struct stable_chars *c)
{
	while (c->last) {
		struct stable_chars_block *b = c->last;

		c->last = b->prev;
		free(b);
	}
}

void *stable_dir_slot(struct stable_dir *d, uint32_t index)
{
	uint64_t x = ((uint64_t)index >> d->shift) + 1;
	unsigned k = 63u - (unsigned)__builtin_clzll(x);

	if (!d->block[k])
		d->block[k] = xreallocarray(NULL, (size_t)1 << (d->shift + k), d->elem);
	return stable_dir_at(d, index);
}

void stable_dir_free(struct stable_dir *d)
{
	for (int k = 0; k < STABLE_DIR_BLOCKS; k++) {
		free(d->block[k]);
		d->block[k] = NULL;
	}
}
