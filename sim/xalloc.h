/*
 * xalloc.h - memsim's own memory: allocate or die saying how much.
 *
 * The simulator's data structures (object tables, edge vectors, buffers)
 * come from here. When the C library cannot provide them (the machine is
 * out of memory, or --max-memory lowered the process limit), memsim stops
 * at once with exit status 71 and a message naming the size it asked for:
 * there is no useful partial result to return, and a NULL dereference
 * later would be a crash. This is the only place below main.c that exits.
 */
#ifndef MEMSIM_XALLOC_H
#define MEMSIM_XALLOC_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xrealloc for an array of `count` elements of `size` bytes, checking the
 * multiplication for overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);

/* Grows the array p of *cap elements of `size` bytes until index `i`
 * fits, doubling from `min` (> 0) elements; the new elements are zero.
 * Returns the (maybe moved) array and updates *cap; p as it was when i
 * already fits. */
void *xgrow(void *p, uint32_t *cap, uint32_t i, size_t size, uint32_t min);

/* zlib's allocation hooks (z_stream's zalloc and zfree have exactly these
 * types: voidpf is void *, uInt unsigned int), so a gzip stream's memory
 * is memsim's like the rest, for the trace reader and the writers. */
void *xalloc_zcalloc(void *opaque, unsigned items, unsigned size);
void xalloc_zfree(void *opaque, void *p);

/* A note appended to the out-of-memory message (e.g. the --max-memory
 * value in force); the string must outlive the process. NULL for none. */
void xalloc_set_note(const char *note);

#endif
