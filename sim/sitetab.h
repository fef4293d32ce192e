/*
 * sitetab.h - the call-stack nodes of a trace (`k SITE PARENT FRAME`).
 *
 * A version-2 trace names where each allocation was made by a stack
 * node: `k 5 2 parse@json.c:88` defines node 5 as the frame
 * `parse@json.c:88` called from node 2, and `a 7 64 ^5` says that object
 * 7 was allocated there. The nodes form a tree (each parent is defined
 * before its children, PARENT 0 is the outermost caller), so a whole call
 * path costs one node per frame that no other path shares, as in
 * heaptrack's and pprof's stack tables.
 *
 * The table gives each node a dense index 1, 2, ... in order of
 * definition (index 0, EVENT_NO_SITE, is "no site" and the outermost
 * caller), maps SITE numbers to indices for the reader, and keeps each
 * node's SITE number, parent index, depth and FRAME text. FRAME is kept
 * as written, with its %XX escapes (docs/trace-format.md), so that
 * writing it out again is lossless.
 *
 * Threads: one thread (the reader) adds nodes; any thread may read the
 * nodes below sitetab_count() at the same time, as with typetab.h: node
 * records and frame texts never move once added and the count is
 * published with release / read with acquire. sitetab_find is for the
 * adding thread only.
 */
#ifndef MEMSIM_SITETAB_H
#define MEMSIM_SITETAB_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define SITETAB_MAX ((uint32_t)UINT32_MAX - 1)   /* nodes, at most */

struct sitetab;

struct sitetab *sitetab_create(void);
void sitetab_destroy(struct sitetab *t);

/*
 * Adds node `number` (>= 1, not yet in the table), child of the node at
 * index `parent` (0: outermost; < sitetab_count()), with frame text
 * frame[0, len) (NULL: keep no text, for writers that need only the
 * numbering). Returns its index, or 0 when the table already holds
 * SITETAB_MAX nodes. The caller has checked the rules (sitetab_find,
 * sitetab_frame_error).
 */
uint32_t sitetab_add(struct sitetab *t, uint64_t number, uint32_t parent,
		     const char *frame, size_t len);

/* Index of SITE `number`, or EVENT_NO_SITE (0) when it is not defined.
 * The adding thread only. */
uint32_t sitetab_find(const struct sitetab *t, uint64_t number);

/* Number of indices in use, counting index 0. */
uint32_t sitetab_count(const struct sitetab *t);

/* Of the node at `index` (1 <= index < sitetab_count()): its SITE number,
 * its parent's index (0: outermost), its depth (1 for a child of the
 * outermost caller) and its FRAME as written (NUL-terminated; "" when
 * added without text). Index 0 gives 0, 0, 0 and "". */
uint64_t sitetab_number(const struct sitetab *t, uint32_t index);
uint32_t sitetab_parent(const struct sitetab *t, uint32_t index);
uint32_t sitetab_depth(const struct sitetab *t, uint32_t index);
const char *sitetab_frame(const struct sitetab *t, uint32_t index);

/*
 * Checks s[0, n) against the FRAME rule of docs/trace-format.md: at least
 * one byte, every byte printable ASCII other than space, '^' only as
 * %5E, each '%' followed by two hex digits. Returns 0 when it holds, else
 * 1 with the reason in msg (at most `size` bytes), e.g. "bad escape '%4G'
 * in FRAME (a '%' starts %XX with two hex digits)". A NUL byte is
 * reported like any other unprintable byte.
 */
int sitetab_frame_error(const char *s, size_t n, char *msg, size_t size);

/*
 * Escapes the raw frame text raw[0, n) (a function name, a file name) by
 * the FRAME rule: bytes outside printable ASCII, space, '%' and '^'
 * become %XX (upper-case hex). Writes at most size - 1 bytes into buf,
 * never half an escape, NUL-terminated (size > 0), and returns the
 * length of the whole escaped text, as snprintf does. Allocates nothing
 * and calls nothing, so recorders may call it inside malloc.
 */
size_t sitetab_frame_escape(const char *raw, size_t n, char *buf, size_t size);

/*
 * Writes the FRAME for display into buf (at most size bytes, NUL
 * terminated, cut with "..." when longer): %XX escapes of printable
 * ASCII (including space) are decoded, others stay as written. Returns
 * the length.
 */
size_t sitetab_frame_display(const char *frame, char *buf, size_t size);

/* Checks the table's invariants (every parent index below its node's,
 * depths, the number map). Returns 0, or -1 with a description in msg. */
int sitetab_check(const struct sitetab *t, char *msg, size_t size);

#endif
