/*
 * gen-scenario.c - deterministic generators for the bundled scenarios.
 *
 * usage: gen-scenario NAME [-n N] [-s SEED] > NAME.trace
 *
 * Each scenario reproduces one claim about Python's memory management;
 * traces/README.md says what each models and what to look at, and the
 * tests assert each outcome with numbers derived by hand.
 *
 *   arenas   10 x 1024 x 1024 16-byte objects allocated, then all freed,
 *            then a small working set: 1000 kept objects and 100 rounds of
 *            1000 short-lived ones ("arenas are never released": 2.4 keeps
 *            its peak to the end, 2.5 gives the arenas back).
 *   pinning  many small objects where every hundredth stays alive: empty
 *            arenas can be released, pinned ones cannot.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

static void arenas(uint64_t n)
{
	uint64_t id, next;

	printf("#memsim-trace 1 {\"source\":\"tools/gen-scenario arenas\",\"objects\":%llu}\n",
	       (ull)n);
	for (id = 1; id <= n; id++)
		printf("a %llu 16\n", (ull)id);
	for (id = 1; id <= n; id++)
		printf("f %llu\n", (ull)id);
	/* The working set: 1000 objects kept to the end... */
	next = n + 1;
	for (uint64_t k = 0; k < 1000; k++)
		printf("a %llu 16\n", (ull)(next + k));
	next += 1000;
	/* ...and 100 rounds of 1000 that come and go. */
	for (int round = 0; round < 100; round++) {
		for (uint64_t k = 0; k < 1000; k++)
			printf("a %llu 16\n", (ull)(next + k));
		for (uint64_t k = 0; k < 1000; k++)
			printf("f %llu\n", (ull)(next + k));
	}
}

static void pinning(uint64_t n)
{
	printf("#memsim-trace 1 {\"source\":\"tools/gen-scenario pinning\",\"objects\":%llu}\n",
	       (ull)n);
	for (uint64_t id = 1; id <= n; id++)
		printf("a %llu 32\n", (ull)id);
	/* Every hundredth object survives: it pins its pool and its arena. */
	for (uint64_t id = 1; id <= n; id++)
		if (id % 100 != 0)
			printf("f %llu\n", (ull)id);
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	uint64_t n = 0;

	if (argc < 2) {
		fputs("usage: gen-scenario arenas|pinning [-n N] > FILE\n", stderr);
		return 64;
	}
	for (int i = 2; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "-n") == 0)
			n = strtoull(argv[i + 1], NULL, 10);
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (strcmp(argv[1], "arenas") == 0) {
		arenas(n ? n : UINT64_C(10) * 1024 * 1024);
	} else if (strcmp(argv[1], "pinning") == 0) {
		pinning(n ? n : 1000000);
	} else {
		fprintf(stderr, "gen-scenario: unknown scenario '%s'\n", argv[1]);
		return 64;
	}
	return fflush(stdout) == 0 ? 0 : 74;
}
