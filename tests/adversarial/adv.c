/*
 * adv.c - generators and a measuring wrapper for tests/e2e/adversarial.sh.
 *
 * Large adversarial traces are produced on the fly into a pipe, so the
 * test suite never stores them:
 *   adv stream N SIZE   N times "a 1 SIZE" + "f 1": N * SIZE bytes
 *                       requested in total, at most SIZE live
 *   adv live N          N objects allocated and never freed (16 bytes)
 *   adv chain N         objects 1..N, each holding the next, only 1 rooted;
 *                       then "- 0 1" frees all N in one cascade
 *   adv cycle N         objects 1..N in one ring (i -> i+1, N -> 1), all
 *                       root references dropped: N objects of cyclic garbage
 *   adv types N         N allocations of 8 bytes, each of a new type tN
 *   adv longline BYTES  "a 1 8", BYTES blanks, newline
 * and
 *   adv maxrss FILE CMD ARG...
 *                       runs CMD, writes its peak resident set (KiB, from
 *                       wait4's ru_maxrss) to FILE, exits with its status
 *                       (128 + signal if it was killed).
 */
#define _DEFAULT_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static int maxrss(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid;
	int status;
	FILE *f;

	if (argc < 4)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return 2;
	f = fopen(argv[2], "w");
	if (!f)
		return 2;
	fprintf(f, "%ld\n", ru.ru_maxrss);
	fclose(f);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	const char *mode = argc > 1 ? argv[1] : "";
	uint64_t n = argc > 2 ? num(argv[2]) : 0;

	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (strcmp(mode, "maxrss") == 0)
		return maxrss(argc, argv);
	if (strcmp(mode, "stream") == 0 && argc > 3) {
		uint64_t size = num(argv[3]);

		for (uint64_t i = 0; i < n; i++)
			printf("a 1 %" PRIu64 "\nf 1\n", size);
	} else if (strcmp(mode, "live") == 0) {
		for (uint64_t i = 1; i <= n; i++)
			printf("a %" PRIu64 " 16\n", i);
	} else if (strcmp(mode, "chain") == 0) {
		printf("a 1 16\n");
		for (uint64_t i = 2; i <= n; i++)
			printf("a %" PRIu64 " 16\n+ %" PRIu64 " %" PRIu64 "\n- 0 %" PRIu64 "\n",
			       i, i - 1, i, i);
		printf("- 0 1\n");
	} else if (strcmp(mode, "cycle") == 0) {
		for (uint64_t i = 1; i <= n; i++)
			printf("a %" PRIu64 " 16\n", i);
		for (uint64_t i = 1; i <= n; i++)
			printf("+ %" PRIu64 " %" PRIu64 "\n", i, i == n ? 1 : i + 1);
		for (uint64_t i = 1; i <= n; i++)
			printf("- 0 %" PRIu64 "\n", i);
	} else if (strcmp(mode, "types") == 0) {
		for (uint64_t i = 1; i <= n; i++)
			printf("a %" PRIu64 " 8 t%" PRIu64 "\n", i, i);
	} else if (strcmp(mode, "longline") == 0) {
		fputs("a 1 8", stdout);
		for (uint64_t i = 0; i < n; i++)
			putchar(' ');
		putchar('\n');
	} else {
		fprintf(stderr, "usage: adv stream|live|chain|cycle|types|longline N [SIZE]\n"
				"       adv maxrss FILE CMD ARG...\n");
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
