/*
 * pyrec_blocks.h - pyrec's table of live blocks: address -> trace ID and
 * a few state bits, in at most 24 bytes per live block, growth included.
 *
 * Glossary:
 *   block   one live allocation of the recorded interpreter, keyed by its
 *           current address (8-byte aligned, below 2^47).
 *   ID      the trace ID of the block: a 32-bit number, the lowest one no
 *           live block holds (trace IDs may be reused once freed,
 *           /work/shared/trace-format.md), so a bitmap of 1 bit per ID
 *           replaces a free list and IDs stay below the peak live count.
 *   aux     PYB_AUX_BITS bits the caller owns (pyrec.c keeps the block's
 *           state there: raw memory, a live object, a dead object whose
 *           block a free list holds).
 *
 * Layout (docs/recording.md, "pyrec's memory"): two arrays, 8-byte keys
 * ((address >> 3) << PYB_AUX_BITS | aux) and 4-byte IDs: 12 bytes a slot.
 * Robin Hood linear probing whose home slot is hash * capacity >> 64, so
 * the table is sorted by hash and a search stops at the first larger
 * hash. It grows by half when 85% full: a fresh table is at least 56%
 * full, 12 / 0.567 = 21.2 bytes per live block; growth copies in order of
 * position, which is hash order, so the new table fills front to back and
 * the old one is released behind the copy: old + new never both resident.
 * No wrap-around: PYB_TAIL spare slots past the last home slot; a run
 * that would pass them grows the table.
 *
 * Not thread-safe: pyrec calls it with the GIL held.
 */
#ifndef MEMSIM_PYREC_BLOCKS_H
#define MEMSIM_PYREC_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#define PYB_AUX_BITS 20
#define PYB_AUX_MASK ((1u << PYB_AUX_BITS) - 1)
#define PYB_TAIL 512            /* slots past the last home slot */
#define PYB_NOT_FOUND SIZE_MAX

struct pyb_table {
	uint64_t *key;          /* 0: empty; else (addr >> 3) << AUX | aux */
	uint32_t *id;
	size_t cap;             /* home slots */
	size_t n;               /* live blocks */
	size_t peak;            /* most live blocks at once */
	/* The ID bitmap: bit i of word[i / 64] set when ID i is live; bit w
	 * of full[w / 64] set when word[w] is all ones. ID 0 is reserved. */
	uint64_t *word, *full;
	size_t nwords;          /* a multiple of 64 */
	size_t hint;            /* no free ID below word[hint] */
	/* Resident bytes of the table and bitmap (pages written and not
	 * released), now and at most. */
	size_t bytes, bytes_peak;
};

/* An empty table. Returns 0, or -1 when memory cannot be mapped. */
int pyb_init(struct pyb_table *t);
void pyb_free(struct pyb_table *t);

/* The slot of ADDR, or PYB_NOT_FOUND. A slot index is valid until the
 * next pyb_put or pyb_del. */
size_t pyb_find(const struct pyb_table *t, uintptr_t addr);

static inline uint32_t pyb_id(const struct pyb_table *t, size_t slot)
{
	return t->id[slot];
}

static inline unsigned pyb_aux(const struct pyb_table *t, size_t slot)
{
	return (unsigned)(t->key[slot] & PYB_AUX_MASK);
}

static inline void pyb_set_aux(struct pyb_table *t, size_t slot, unsigned aux)
{
	t->key[slot] = (t->key[slot] & ~(uint64_t)PYB_AUX_MASK) | (aux & PYB_AUX_MASK);
}

/*
 * Adds ADDR (not in the table; 8-byte aligned, below 2^47) with ID and
 * AUX. Returns 0, or -1 when the table cannot grow (out of memory) or
 * the address cannot be keyed.
 */
int pyb_put(struct pyb_table *t, uintptr_t addr, uint32_t id, unsigned aux);

/* Removes the block in SLOT (its ID stays allocated: see pyb_id_free). */
void pyb_del(struct pyb_table *t, size_t slot);

/* The lowest free ID (>= 1), now allocated; 0 when out of memory or
 * past 2^32 - 1 live IDs. */
uint32_t pyb_id_new(struct pyb_table *t);
void pyb_id_free(struct pyb_table *t, uint32_t id);

/* Validates the invariants (sorted by hash, every block at or after its
 * home slot, counts, the bitmap summary); returns 0 or -1. For tests. */
int pyb_check(const struct pyb_table *t);

#endif
