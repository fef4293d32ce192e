/*
 * heaptrack-prog.c - a small C program with a known allocation pattern,
 * recorded with heaptrack by tests/e2e/heaptrack.sh (built there with
 * cc -O2 -g). It mallocs, callocs, reallocs (growing a buffer, and
 * realloc(NULL, n)), frees, keeps some blocks to the end (leaks), and
 * allocates through an always-inlined helper so that heaptrack's
 * interpreter reports inlined frames.
 */
#include <stdlib.h>
#include <string.h>

static inline __attribute__((always_inline)) char *make_label(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 'x', n);
	return p;
}

__attribute__((noinline)) static void **fill(size_t count, size_t size)
{
	void **v = calloc(count, sizeof *v);

	for (size_t i = 0; v && i < count; i++)
		v[i] = make_label(size + i % 7);
	return v;
}

__attribute__((noinline)) static char *grow(void)
{
	char *buf = realloc(NULL, 16);
	size_t cap = 16;

	for (int i = 0; buf && i < 12; i++) {
		char *next = realloc(buf, cap * 2);

		if (!next)
			break;
		buf = next;
		cap *= 2;
		buf[cap - 1] = 0;
	}
	return buf;
}

int main(void)
{
	void **kept = fill(100, 40);
	void **temp = fill(1000, 24);
	char *buf = grow();
	static volatile void *sink;

	for (int i = 0; i < 1000; i++)
		free(temp[i]);
	free(temp);
	for (int i = 0; i < 100; i += 2)
		free(kept[i]);
	sink = kept;            /* kept and its odd entries stay: leaks */
	free(buf);
	return 0;
}
