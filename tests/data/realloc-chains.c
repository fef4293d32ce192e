/*
 * realloc-chains.c - a small C program whose heap use exercises glibc's
 * malloc where models usually differ from it: realloc chains that grow
 * blocks from bytes to megabytes (in place into top, by moving, into
 * mmap and by mremap), many small blocks freed behind live ones
 * (tcache, fastbins, the unsorted bin, best fit), and large blocks that
 * move the dynamic mmap threshold and trim the heap. Deterministic: a
 * fixed linear congruential generator. Recorded with tools/memrec by
 * tests/e2e/glibc_exact.sh and replayed on the glibc model and on the
 * real glibc (tools/replay-real).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSMALL 20000
#define NCHAIN 8

static uint64_t seed = 12345;

static uint32_t rnd(uint32_t n)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(seed >> 33) % n;
}

int main(void)
{
	static char *small[NSMALL];
	char *chain[NCHAIN] = { 0 };
	size_t len[NCHAIN] = { 0 };
	char *big[16] = { 0 };
	unsigned long sum = 0;

	for (int round = 0; round < 6; round++) {
		/* small blocks: allocate, then free most, keeping every 7th */
		for (int i = 0; i < NSMALL; i++) {
			size_t n = rnd(4) ? 1 + rnd(120) : 1 + rnd(3000);

			small[i] = malloc(n);
			memset(small[i], i, n);
			if (i % 97 == 0) {
				int c = rnd(NCHAIN);

				len[c] = len[c] ? len[c] + len[c] / 2 + rnd(64) : 16;
				if (len[c] > (4u << 20))
					len[c] = 16;
				chain[c] = realloc(chain[c], len[c]);
				memset(chain[c], c, len[c]);
			}
		}
		for (int i = 0; i < NSMALL; i++)
			if (i % 7 != round % 7) {
				sum += (unsigned char)small[i][0];
				free(small[i]);
				small[i] = NULL;
			}
		/* large blocks around the mmap threshold */
		for (int k = 0; k < 16; k++) {
			int j = rnd(16);

			if (big[j]) {
				free(big[j]);
				big[j] = NULL;
			} else {
				size_t n = 64 * 1024 + rnd(600 * 1024);

				big[j] = malloc(n);
				memset(big[j], j, n);
			}
		}
		/* shrink some chains: remainders back to the bins */
		for (int c = 0; c < NCHAIN; c++)
			if (chain[c] && rnd(3) == 0) {
				len[c] = len[c] / 3 + 1;
				chain[c] = realloc(chain[c], len[c]);
			}
		for (int i = 0; i < NSMALL; i++)
			if (small[i] && rnd(2)) {
				free(small[i]);
				small[i] = NULL;
			}
	}
	for (int c = 0; c < NCHAIN; c += 2)
		free(chain[c]);
	for (int k = 0; k < 16; k += 3)
		free(big[k]);
	printf("%lu\n", sum);
	return 0;
}
