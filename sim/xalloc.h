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

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xrealloc for an array of `count` elements of `size` bytes, checking the
 * multiplication for overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);

/* A note appended to the out-of-memory message (e.g. the --max-memory
 * value in force); the string must outlive the process. NULL for none. */
void xalloc_set_note(const char *note);

#endif
