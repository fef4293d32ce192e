/*
 * stable.h - storage whose elements never move, for the tables that
 * simulation threads read while the reading thread appends to them
 * (typetab.c: type names and mark labels; sitetab.c: stack nodes).
 *
 * Two pieces:
 *   - stable_chars: copies of strings in blocks that are never
 *     reallocated; a string that does not fit the current block starts a
 *     new one, each at least twice the size of the one before;
 *   - stable_dir: an array indexed 0, 1, ... whose elements live in a
 *     fixed directory of blocks of doubling size (block k holds
 *     2^shift << k elements), so appending allocates at most one new
 *     block and never moves an element.
 * A hostile trace may define millions of names or nodes, so both grow
 * geometrically. Publishing is the owner's: it stores its element count
 * with release once an element is complete, and readers load it with
 * acquire before reading elements below it.
 */
#ifndef MEMSIM_STABLE_H
#define MEMSIM_STABLE_H

#include <stddef.h>
#include <stdint.h>

struct stable_chars_block;

struct stable_chars {
	struct stable_chars_block *last;        /* the block being filled */
};

/* Copies s[0, len) and a NUL; the copy never moves. */
const char *stable_chars_add(struct stable_chars *c, const char *s, size_t len);
void stable_chars_free(struct stable_chars *c);

#define STABLE_DIR_BLOCKS 32    /* enough for 2^32 elements from 2^0 on */

struct stable_dir {
	unsigned char *block[STABLE_DIR_BLOCKS];
	size_t elem;            /* bytes per element */
	unsigned shift;         /* block 0 holds 2^shift elements */
};

/* An element that stable_dir_slot has made room for. Block k starts at
 * index 2^shift * (2^k - 1), so k comes from the top bit of
 * index / 2^shift + 1. */
static inline void *stable_dir_at(const struct stable_dir *d, uint32_t index)
{
	uint64_t x = ((uint64_t)index >> d->shift) + 1;
	unsigned k = 63u - (unsigned)__builtin_clzll(x);
	uint64_t first = ((UINT64_C(1) << k) - 1) << d->shift;

	return d->block[k] + (size_t)(index - first) * d->elem;
}

/* The element at `index`, allocating its block when it is the first
 * element there. Elements are filled in order by one thread. */
void *stable_dir_slot(struct stable_dir *d, uint32_t index);
void stable_dir_free(struct stable_dir *d);

#endif
