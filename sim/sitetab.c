/*
 * sitetab.c - call-stack nodes (see sitetab.h).
 *
 * Layout, chosen so that simulation threads may read nodes while the
 * reader adds more (stable.h, as typetab.c does):
 *   - node records live in a directory of blocks of doubling size
 *     (block k holds 64 << k records), never reallocated;
 *   - frame texts live in character blocks that are never reallocated;
 *   - `count` is stored with release after a node is complete and loaded
 *     with acquire by every reader of a node.
 * The SITE number -> index map is an open-addressing table of indices
 * (linear probing, at most half full), used by the adding thread only.
 *
 * Memory: 24 bytes per node, 4 to 8 bytes of map per node, and the frame
 * texts. A trace's nodes are its program's distinct call paths, so this
 * grows with the code that allocated, not with the trace's length.
 */
#include "sitetab.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "stable.h"
#include "xalloc.h"

#define DIR_SHIFT 6             /* 64 records in directory block 0 */

struct node {
	uint64_t number;        /* SITE as written */
	const char *frame;      /* FRAME as written, NUL-terminated */
	uint32_t parent;        /* index; 0 = outermost */
	uint32_t depth;         /* 1 + the parent's depth */
};

struct sitetab {
	struct stable_dir dir;          /* index -> struct node */
	_Atomic uint32_t count;         /* indices in use, index 0 included */
	struct stable_chars chars;
	uint32_t *slots;                /* map: index of the node, 0 = empty */
	uint32_t mask;
};

static struct node *node_at(const struct sitetab *t, uint32_t index)
{
	return stable_dir_at(&t->dir, index);
}

static uint32_t slot_of(uint64_t number, uint32_t mask)
{
	/* Fibonacci hashing: SITE numbers are often consecutive. */
	return (uint32_t)((number * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & mask;
}

/* The map slot holding `number`, or the empty slot where it would go. */
static uint32_t *find_slot(const struct sitetab *t, uint64_t number)
{
	for (uint32_t i = slot_of(number, t->mask);; i = (i + 1) & t->mask) {
		uint32_t *s = &t->slots[i];

		if (*s == 0 || node_at(t, *s)->number == number)
			return s;
	}
}

static void grow_map(struct sitetab *t)
{
	uint32_t *old = t->slots, n = t->mask + 1;

	t->mask = n * 2 - 1;
	t->slots = xcalloc((size_t)t->mask + 1, sizeof *t->slots);
	for (uint32_t i = 0; i < n; i++)
		if (old[i])
			*find_slot(t, node_at(t, old[i])->number) = old[i];
	free(old);
}

/* Appends a record as the next index and publishes it. */
static uint32_t append(struct sitetab *t, const struct node *nd)
{
	uint32_t i = atomic_load_explicit(&t->count, memory_order_relaxed);

	*(struct node *)stable_dir_slot(&t->dir, i) = *nd;
	atomic_store_explicit(&t->count, i + 1, memory_order_release);
	return i;
}

struct sitetab *sitetab_create(void)
{
	struct sitetab *t = xcalloc(1, sizeof *t);
	struct node none = { .frame = "" };

	t->dir = (struct stable_dir){ .elem = sizeof(struct node), .shift = DIR_SHIFT };
	append(t, &none);       /* index 0: no site, the outermost caller */
	t->mask = 63;
	t->slots = xcalloc(t->mask + 1, sizeof *t->slots);
	return t;
}

void sitetab_destroy(struct sitetab *t)
{
	if (!t)
		return;
	stable_chars_free(&t->chars);
	stable_dir_free(&t->dir);
	free(t->slots);
	free(t);
}

uint32_t sitetab_add(struct sitetab *t, uint64_t number, uint32_t parent,
		     const char *frame, size_t len)
{
	uint32_t n = atomic_load_explicit(&t->count, memory_order_relaxed);
	struct node nd = { .number = number, .parent = parent, .frame = "" };
	uint32_t index;

	if (n > SITETAB_MAX)
		return EVENT_NO_SITE;
	nd.depth = parent ? node_at(t, parent)->depth + 1 : 1;
	if (frame)
		nd.frame = stable_chars_add(&t->chars, frame, len);
	index = append(t, &nd);
	*find_slot(t, number) = index;
	if ((uint64_t)(index + 1) * 2 > t->mask)
		grow_map(t);
	return index;
}

uint32_t sitetab_find(const struct sitetab *t, uint64_t number)
{
	return number ? *find_slot(t, number) : EVENT_NO_SITE;
}

uint32_t sitetab_count(const struct sitetab *t)
{
	return atomic_load_explicit(&t->count, memory_order_acquire);
}

/* The node at `index`, or NULL outside [1, count). */
static const struct node *get(const struct sitetab *t, uint32_t index)
{
	uint32_t n = atomic_load_explicit(&t->count, memory_order_acquire);

	return index && index < n ? node_at(t, index) : NULL;
}

uint64_t sitetab_number(const struct sitetab *t, uint32_t index)
{
	const struct node *nd = get(t, index);

	return nd ? nd->number : 0;
}

uint32_t sitetab_parent(const struct sitetab *t, uint32_t index)
{
	const struct node *nd = get(t, index);

	return nd ? nd->parent : 0;
}

uint32_t sitetab_depth(const struct sitetab *t, uint32_t index)
{
	const struct node *nd = get(t, index);

	return nd ? nd->depth : 0;
}

const char *sitetab_frame(const struct sitetab *t, uint32_t index)
{
	const struct node *nd = get(t, index);

	return nd ? nd->frame : "";
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sitetab_frame_error(const char *s, size_t n, char *msg, size_t size)
{
	if (n == 0) {
		snprintf(msg, size, "empty FRAME");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			char q[16];

			if (i + 2 < n && hex_value((unsigned char)s[i + 1]) >= 0 &&
			    hex_value((unsigned char)s[i + 2]) >= 0) {
				i += 2;
				continue;
			}
			ms_error_quote(q, sizeof q, s + i, n - i < 3 ? n - i : 3, 3);
			snprintf(msg, size,
				 "bad escape '%s' in FRAME (a '%%' starts %%XX with two hex digits)", q);
			return 1;
		}
		if (c == ' ') {
			snprintf(msg, size, "raw space in FRAME (write it as %%20)");
			return 1;
		}
		if (c == '^') {
			snprintf(msg, size, "raw '^' in FRAME (write it as %%5E)");
			return 1;
		}
		if (c < 0x21 || c > 0x7e) {
			snprintf(msg, size, "byte 0x%02x in FRAME (write it as %%%02X)", c, c);
			return 1;
		}
	}
	return 0;
}

size_t sitetab_frame_escape(const char *raw, size_t n, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, need = 0;
	int full = size == 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		int plain = c > 0x20 && c < 0x7f && c != '%' && c != '^';
		size_t k = plain ? 1 : 3;

		need += k;
		if (full || o + k >= size) {
			full = 1;       /* no half escapes, nothing after a cut */
			continue;
		}
		if (plain) {
			buf[o] = (char)c;
		} else {
			buf[o] = '%';
			buf[o + 1] = hex[c >> 4];
			buf[o + 2] = hex[c & 15];
		}
		o += k;
	}
	if (size)
		buf[o] = '\0';
	return need;
}

size_t sitetab_frame_display(const char *frame, char *buf, size_t size)
{
	size_t o = 0;
	const char *p;

	if (size == 0)
		return 0;
	for (p = frame; *p && o + 1 < size; p++) {
		int hi = hex_value((unsigned char)p[0 + (*p == '%')]);
		int v = -1;

		if (*p == '%' && hi >= 0 && hex_value((unsigned char)p[2]) >= 0)
			v = hi * 16 + hex_value((unsigned char)p[2]);
		if (v >= 0x20 && v < 0x7f) {
			buf[o++] = (char)v;
			p += 2;
		} else {
			buf[o++] = *p;
		}
	}
	if (*p && size >= 4) {          /* cut short: say so */
		o = size - 1 < o ? size - 1 : o;
		memcpy(buf + o - 3, "...", 3);
	}
	buf[o] = '\0';
	return o;
}

int sitetab_check(const struct sitetab *t, char *msg, size_t size)
{
	uint32_t n = sitetab_count(t);

	for (uint32_t i = 1; i < n; i++) {
		const struct node *nd = node_at(t, i);
		uint32_t want = nd->parent ? node_at(t, nd->parent)->depth + 1 : 1;

		if (nd->parent >= i) {
			snprintf(msg, size, "node %u: parent %u is not older", i, nd->parent);
			return -1;
		}
		if (nd->depth != want) {
			snprintf(msg, size, "node %u: depth %u, expected %u", i, nd->depth, want);
			return -1;
		}
		if (nd->number == 0 || sitetab_find(t, nd->number) != i) {
			snprintf(msg, size, "node %u: SITE %llu is not mapped to it", i,
				 (unsigned long long)nd->number);
			return -1;
		}
	}
	return 0;
}
