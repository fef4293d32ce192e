/*
 * gen-bench.c - deterministic benchmark trace generator.
 *
 * usage: gen-bench [-n EVENTS] [-l LIVE] [-s SEED] > bench.trace
 *
 * Writes a memsim text trace of about EVENTS events (default 20 million)
 * that keeps about LIVE objects alive (default one million): allocations
 * with a small-object-heavy size mix, reference edges that hand new
 * objects to a parent (`+ P C` then `- 0 C`), and deaths of top-level
 * objects by dropping their root reference (`- 0 ID`), which frees their
 * children by reference counting. Everything comes from one xorshift
 * generator, so the same arguments give the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Sizes shaped like a Python program's: most requests are small. */
static uint64_t pick_size(void)
{
	uint64_t r = rng() % 100;

	if (r < 60)
		return 16 + (rng() % 8) * 8;            /* 16-72 bytes */
	if (r < 90)
		return 80 + rng() % 432;                /* up to 512 */
	if (r < 99)
		return 512 + rng() % 3584;              /* up to 4 KiB */
	return 4096 + rng() % (256 * 1024);         /* large */
}

static const char *const types[] = { "tuple", "list", "dict", "str", "int", "float" };

int main(int argc, char **argv)
{
	uint64_t events = 20000000, live_target = 1000000, next_id = 1, n = 0;
	uint64_t *roots, nroots = 0;
	static char buf[1 << 20];

	for (int i = 1; i + 1 < argc; i += 2) {
		uint64_t v = strtoull(argv[i + 1], NULL, 10);

		if (strcmp(argv[i], "-n") == 0)
			events = v;
		else if (strcmp(argv[i], "-l") == 0)
			live_target = v;
		else if (strcmp(argv[i], "-s") == 0)
			rng_state = v ? v : 1;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	roots = malloc((live_target + 1) * sizeof *roots);
	if (!roots)
		return 71;
	printf("#memsim-trace 1 {\"source\":\"tools/gen-bench\"}\n");
	while (n < events) {
		/* Grow towards the target, then hover around it. */
		int grow = nroots < live_target / 4 ||
			   (nroots < live_target && rng() % 100 < 55);

		if (grow || nroots == 0) {
			uint64_t id = next_id++;

			printf("a %llu %llu %s\n", (unsigned long long)id,
			       (unsigned long long)pick_size(), types[rng() % 6]);
			n++;
			if (nroots > 0 && rng() % 100 < 30) {
				uint64_t parent = roots[rng() % nroots];

				printf("+ %llu %llu\n- 0 %llu\n", (unsigned long long)parent,
				       (unsigned long long)id, (unsigned long long)id);
				n += 2;
			} else {
				roots[nroots++] = id;
			}
		} else {
			uint64_t k = rng() % nroots;

			printf("- 0 %llu\n", (unsigned long long)roots[k]);
			roots[k] = roots[--nroots];
			n++;
		}
	}
	free(roots);
	return fflush(stdout) == 0 ? 0 : 74;
}
