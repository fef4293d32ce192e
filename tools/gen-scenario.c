/*
 * gen-scenario.c - deterministic generators for the bundled scenarios.
 *
 * usage: gen-scenario NAME [-n N] [-k K] [-f F] > NAME.trace
 *
 * No randomness: the same arguments give the same bytes (the scenarios
 * need no seed; -n, -k and -f scale them).
 *
 * Each scenario reproduces one claim about Python's memory management;
 * traces/README.md says what each models and what to look at, and the
 * tests assert each outcome with numbers derived by hand.
 *
 *   arenas   10 x 1024 x 1024 16-byte objects allocated, then all freed,
 *            then a small working set: 1000 kept objects and 100 rounds of
 *            1000 short-lived ones ("arenas are never released": 2.4 keeps
 *            its peak to the end, 2.5 gives the arenas back).
 *   pinning  N 32-byte objects, all freed except every K-th (default 100):
 *            the survivors pin every pool and arena, so even a policy that
 *            releases empty arenas cannot; then a follow-up phase of F
 *            32-byte objects (default 0) that fills the pinned pools.
 *   cycles   N iterations of a two-object reference cycle (56-byte `Node`
 *            objects, tracked, no free list) created and dropped, then one
 *            `c`: the collector finds them in its generations.
 *   server   a long-running server: a baseline of 7000 long-lived 32-byte
 *            objects, then N requests (default 1000) of 100 short-lived
 *            objects each; every 100th request is a spike of 50,000
 *            objects, all freed except every K-th (default 0: none kept).
 *   lingering a lingering reference: a module `app` (the root set's only
 *            object) whose globals dict holds 100 config strings and a
 *            cache dict; then N requests (default 10000), each a
 *            128-byte `Request` owning a 512-byte `bytes` payload, and
 *            every K-th request (default 50) is put in the cache and so
 *            outlives its request ("find the lingering reference":
 *            `memsim retain` names the cache and its path).
 *
 * docs/scenarios.md derives each expected outcome.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

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

static void pinning(uint64_t n, uint64_t k, uint64_t follow)
{
	printf("#memsim-trace 1 {\"source\":\"tools/gen-scenario pinning\",\"objects\":%llu,"
	       "\"keep_every\":%llu,\"follow_up\":%llu}\n", (ull)n, (ull)k, (ull)follow);
	for (uint64_t id = 1; id <= n; id++)
		printf("a %llu 32\n", (ull)id);
	/* Every K-th object survives: it pins its pool and its arena. */
	for (uint64_t id = 1; id <= n; id++)
		if (k == 0 || id % k != 0)
			printf("f %llu\n", (ull)id);
	/* The follow-up phase: new objects of the same size, kept. */
	for (uint64_t id = n + 1; id <= n + follow; id++)
		printf("a %llu 32\n", (ull)id);
}

static void cycles(uint64_t n)
{
	printf("#memsim-trace 1 {\"source\":\"tools/gen-scenario cycles\",\"iterations\":%llu}\n",
	       (ull)n);
	/* for i in range(n): x = Node(); y = Node(); x.other = y; y.other = x
	 * (the names are rebound: both root references go at the end). */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t x = 2 * i + 1, y = 2 * i + 2;

		printf("a %llu 56 Node\na %llu 56 Node\n+ %llu %llu\n+ %llu %llu\n"
		       "- 0 %llu\n- 0 %llu\n",
		       (ull)x, (ull)y, (ull)x, (ull)y, (ull)y, (ull)x, (ull)x, (ull)y);
	}
	puts("c");
}

#define SERVER_BASELINE 7000
#define SERVER_REQUEST 100
#define SERVER_SPIKE_EVERY 100
#define SERVER_SPIKE 50000

static void server(uint64_t requests, uint64_t k)
{
	uint64_t next = 1;

	printf("#memsim-trace 1 {\"source\":\"tools/gen-scenario server\",\"requests\":%llu,"
	       "\"keep_every\":%llu}\n", (ull)requests, (ull)k);
	/* Long-lived state: configuration, caches, modules. */
	for (int i = 0; i < SERVER_BASELINE; i++)
		printf("a %llu 32\n", (ull)next++);
	for (uint64_t r = 1; r <= requests; r++) {
		uint64_t first = next, size =
			r % SERVER_SPIKE_EVERY == 0 ? SERVER_SPIKE : SERVER_REQUEST;

		for (uint64_t i = 0; i < size; i++)
			printf("a %llu 32\n", (ull)next++);
		/* The request ends: its objects die in creation order, except
		 * every K-th of a spike (a session, a cache entry). */
		for (uint64_t i = 1; i <= size; i++)
			if (size == SERVER_REQUEST || k == 0 || i % k != 0)
				printf("f %llu\n", (ull)(first + i - 1));
	}
}

#define LINGER_CONFIG 100

static void lingering(uint64_t requests, uint64_t k)
{
	uint64_t next = 4 + LINGER_CONFIG;

	printf("#memsim-trace 1 {\"source\":\"tools/gen-scenario lingering\",\"requests\":%llu,"
	       "\"keep_every\":%llu}\n", (ull)requests, (ull)k);
	/* import app: the module, its globals (module.__dict__) and, in
	 * them, a cache dict and the configuration strings. Only the module
	 * stays in the root set. */
	puts("a 1 72 module\na 2 1200 dict\n+ 1 2\n- 0 2\n"
	     "a 3 4696 dict\n+ 2 3\n- 0 3");
	for (uint64_t id = 4; id < 4 + LINGER_CONFIG; id++)
		printf("a %llu 64 str\n+ 2 %llu\n- 0 %llu\n", (ull)id, (ull)id, (ull)id);
	for (uint64_t r = 1; r <= requests; r++) {
		uint64_t req = next++, payload = next++;

		/* req = Request(payload); handle(req): the payload lives as
		 * long as its request. */
		printf("a %llu 128 Request\na %llu 512 bytes\n+ %llu %llu\n- 0 %llu\n",
		       (ull)req, (ull)payload, (ull)req, (ull)payload, (ull)payload);
		/* cache[key] = req, for every K-th request: the lingering
		 * reference. */
		if (k && r % k == 0)
			printf("+ 3 %llu\n", (ull)req);
		/* The request ends: its local goes (and with it every request
		 * the cache does not hold). */
		printf("- 0 %llu\n", (ull)req);
	}
}

static void help(FILE *out)
{
	fputs("usage: gen-scenario arenas|pinning|cycles|server|lingering [-n N] [-k K] [-f F] > FILE\n"
	      "\n"
	      "Writes one of the bundled scenarios' traces on stdout (deterministic:\n"
	      "the same arguments give the same bytes; traces/README.md and\n"
	      "docs/scenarios.md say what each shows).\n"
	      "\n"
	      "  arenas   -n objects of 16 bytes (default 10M) allocated, all freed,\n"
	      "           then a small working set\n"
	      "  pinning  -n objects of 32 bytes (default 1M), all freed but every\n"
	      "           -k-th (default 100), then -f more (default 0)\n"
	      "  cycles   -n two-object reference cycles (default 100000), then `c`\n"
	      "  server   7000 long-lived objects, then -n requests (default 1000),\n"
	      "           every 100th a spike of 50,000 objects; -k keeps every k-th\n"
	      "  lingering  a module with a cache, then -n requests (default 10000);\n"
	      "           every -k-th (default 50) lingers in the cache\n"
	      "\n"
	      "Numbers take K/M/G suffixes (powers of 1024) and 0x.\n"
	      "Example: gen-scenario cycles -n 10K > cycles.trace\n", out);
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	uint64_t n = 0, k = UINT64_MAX, follow = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		help(stdout);
		return 0;
	}
	if (argc < 2 || argc % 2 != 0) {
		help(stderr);
		return 64;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *why;
		uint64_t v;

		if (units_parse_str(argv[i + 1], &v, &why) != 0) {
			fprintf(stderr, "gen-scenario: %s needs a number, not '%s'\n",
				argv[i], argv[i + 1]);
			return 64;
		}
		if (strcmp(argv[i], "-n") == 0) {
			n = v;
		} else if (strcmp(argv[i], "-k") == 0) {
			k = v;
		} else if (strcmp(argv[i], "-f") == 0) {
			follow = v;
		} else {
			fprintf(stderr, "gen-scenario: unknown option '%s'\n", argv[i]);
			return 64;
		}
	}
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (strcmp(argv[1], "arenas") == 0) {
		arenas(n ? n : UINT64_C(10) * 1024 * 1024);
	} else if (strcmp(argv[1], "pinning") == 0) {
		pinning(n ? n : 1000000, k == UINT64_MAX ? 100 : k, follow);
	} else if (strcmp(argv[1], "cycles") == 0) {
		cycles(n ? n : 100000);
	} else if (strcmp(argv[1], "server") == 0) {
		server(n ? n : 1000, k == UINT64_MAX ? 0 : k);
	} else if (strcmp(argv[1], "lingering") == 0) {
		lingering(n ? n : 10000, k == UINT64_MAX ? 50 : k);
	} else {
		fprintf(stderr, "gen-scenario: unknown scenario '%s'\n", argv[1]);
		return 64;
	}
	return fflush(stdout) == 0 ? 0 : 74;
}
