#include <mcheck.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	void *a, *b, *c, *d, *e;

	mtrace();
	a = malloc(100);
	b = calloc(4, 25);
	a = realloc(a, 5000);          /* moves */
	b = realloc(b, 50);            /* shrinks in place */
	c = realloc(NULL, 30);         /* = malloc */
	d = memalign(64, 200);
	e = malloc(SIZE_MAX / 2);      /* fails: (nil) */
	free(e);                       /* free(NULL): not logged */
	free(d);
	c = realloc(c, 0);               /* frees c */
	free(b);
	b = malloc(0);
	free(a);
	free(strdup("hello"));
	muntrace();
	return b == NULL;
}
