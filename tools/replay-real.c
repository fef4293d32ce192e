/*
 * replay-real.c - replays a trace's allocations against the real C
 * library: the ceiling memsim's allocator models are compared with.
 *
 * usage: replay-real FILE
 *
 * Reads a memsim text trace (docs/trace-format.md) and performs each
 * `a ID SIZE` as malloc(SIZE) (writing one byte in every page of the
 * block, as the model assumes its user does), `f ID` as free and `r ID SIZE` as realloc; every other
 * event is skipped, so it suits plain allocation traces (gen-bench -m
 * alloc). Prints one line: events, allocation events, seconds, events/s
 * and this process's peak RSS (getrusage ru_maxrss), to compare with the
 * `malloc` preset's modelled RSS. A trace it cannot follow (bad line, ID
 * not live) stops it with status 65.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct entry {
	uint64_t id;            /* 0: empty */
	void *p;
};

static struct entry *tab;
static uint64_t mask, used;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 29;
	return x;
}

static struct entry *find(uint64_t id)
{
	uint64_t i = mix(id) & mask;

	while (tab[i].id && tab[i].id != id)
		i = (i + 1) & mask;
	return &tab[i];
}

static void grow(void)
{
	struct entry *old = tab;
	uint64_t n = mask + 1;

	mask = n * 2 - 1;
	tab = calloc(n * 2, sizeof *tab);
	if (!tab)
		exit(71);
	for (uint64_t i = 0; i < n; i++)
		if (old[i].id)
			*find(old[i].id) = old[i];
	free(old);
}

static void del(struct entry *e)
{
	uint64_t i = (uint64_t)(e - tab), j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (!tab[j].id)
			break;
		uint64_t home = mix(tab[j].id) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			tab[i] = tab[j];
			i = j;
		}
	}
	tab[i].id = 0;
	used--;
}

static uint64_t num(char **s)
{
	while (**s == ' ' || **s == '\t')
		(*s)++;
	return strtoull(*s, s, 0);
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	char line[512];
	uint64_t events = 0, allocs = 0, lineno = 0;
	struct timespec t0, t1;
	struct rusage ru;
	FILE *f;

	if (argc != 2) {
		fputs("usage: replay-real FILE\n", stderr);
		return 64;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 66;
	}
	setvbuf(f, buf, _IOFBF, sizeof buf);
	mask = 1023;
	tab = calloc(mask + 1, sizeof *tab);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (fgets(line, sizeof line, f)) {
		char *s = line + 1;
		uint64_t id, size;
		struct entry *e;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		events++;
		switch (line[0]) {
		case 'a':
			id = num(&s);
			size = num(&s);
			if ((used + 1) * 2 > mask + 1)
				grow();
			e = find(id);
			if (e->id)
				goto bad;
			e->id = id;
			e->p = malloc(size ? size : 1);
			if (!e->p)
				return 71;
			/* Touch every page, as the model assumes the program
			 * writes its blocks (docs/metrics.md: RSS). */
			for (uint64_t o = 0; o < size; o += 4096)
				((volatile char *)e->p)[o] = 1;
			used++;
			allocs++;
			break;
		case 'f':
			e = find(num(&s));
			if (!e->id)
				goto bad;
			free(e->p);
			del(e);
			allocs++;
			break;
		case 'r':
			id = num(&s);
			size = num(&s);
			e = find(id);
			if (!e->id)
				goto bad;
			e->p = realloc(e->p, size ? size : 1);
			if (!e->p)
				return 71;
			allocs++;
			break;
		default:
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("events %llu alloc_events %llu seconds %.3f events_per_s %.0f peak_rss_bytes %llu\n",
	       (unsigned long long)events, (unsigned long long)allocs, sec,
	       (double)events / sec, (unsigned long long)ru.ru_maxrss * 1024ull);
	return 0;
bad:
	fprintf(stderr, "replay-real: %s:%llu: cannot follow: %s", argv[1],
		(unsigned long long)lineno, line);
	return 65;
}
