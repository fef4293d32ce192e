/*
 * xalloc.c - allocation that cannot fail silently (see xalloc.h).
 */
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static const char *xalloc_note;

void xalloc_set_note(const char *note)
{
	xalloc_note = note;
}

static _Noreturn void xalloc_die(size_t size)
{
	fprintf(stderr, "memsim: out of memory: could not allocate %zu bytes%s%s\n",
		size, xalloc_note ? " " : "", xalloc_note ? xalloc_note : "");
	exit(MS_EXIT_OSERR);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		xalloc_die(size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size)
		xalloc_die(SIZE_MAX);
	p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		xalloc_die(count * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		xalloc_die(size);
	return p;
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		xalloc_die(SIZE_MAX);
	return xrealloc(ptr, count * size);
}

void *xgrow(void *p, uint32_t *cap, uint32_t i, size_t size, uint32_t min)
{
	uint64_t n = *cap ? *cap : min;

	if (i < *cap)
		return p;
	while (n <= i)
		n *= 2;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	p = xreallocarray(p, (size_t)n, size);
	memset((char *)p + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
	*cap = (uint32_t)n;
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void *xalloc_zcalloc(void *opaque, unsigned items, unsigned size)
{
	(void)opaque;
	return xcalloc(items, size);
}

void xalloc_zfree(void *opaque, void *p)
{
	(void)opaque;
	free(p);
}
