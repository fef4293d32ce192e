/*
 * gen-bench.c - deterministic benchmark trace generator.
 *
 * usage: gen-bench [-m MODE] [-n EVENTS] [-l LIVE] [-s SEED] [-a] > FILE
 *
 * Modes (docs/performance.md says which target each measures):
 *   churn    (default) about EVENTS events keeping about LIVE objects
 *            alive (default one million, reached within the first tenth
 *            of the default 20 million events): allocations with a
 *            small-object-heavy size mix, reference edges that hand new
 *            objects to a parent (`+ P C` then `- 0 C`), and deaths of
 *            top-level objects by dropping their root reference (`- 0 ID`),
 *            which frees their children by reference counting.
 *   seed-rc  the seed scenario (traces/seed-arenas: 10 x 2^20 16-byte
 *            objects built, then all dropped) as a reference-counting
 *            trace: each object is appended to a list of 1000, its root
 *            reference handed over, borrowed once more (`+ 0 C`, `- 0 C`),
 *            and every list is dropped at the end, freeing its items by
 *            cascade: about 52 million events. -n sets the object count.
 *   seed-fan the same objects and events, all held by one list (the
 *            fan-out shape: one container of millions of objects, whose
 *            drop at the end frees them all in one cascade).
 *   alloc    a plain allocation trace (a, f only) with churn's sizes and
 *            lifetimes: every object is top-level and dies by `f`; what
 *            tools/replay-real replays against the real malloc/free.
 *   refs     reference-heavy, for the cycle collector: like churn, but
 *            every new container also references its parent back (a cycle
 *            that only the collector frees) half of the time, and most
 *            events are reference traffic between live objects.
 *
 * -a (churn, alloc, refs) names objects by recorded-address-like IDs: 16-byte
 * aligned addresses from per-size-class LIFO free lists and a bump pointer,
 * reused after the object dies, as a recorder of a real process sees them
 * (CPython's `id()` is the address). Without -a IDs count up from 1.
 *
 * Everything comes from one xorshift generator, so the same arguments give
 * the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

typedef unsigned long long ull;

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

static void *xalloc_or_exit(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fputs("gen-bench: out of memory\n", stderr);
		exit(71);
	}
	return p;
}

/* ---- recorded-address-like IDs ---- */

#define NCLASS 64u              /* 16-byte classes up to 1 KiB, then one */

struct addrs {
	uint64_t bump;
	uint64_t *stack[NCLASS];
	size_t n[NCLASS], cap[NCLASS];
};

static unsigned size_class(uint64_t size)
{
	uint64_t c = (size + 15) / 16;

	return c < NCLASS ? (unsigned)c : NCLASS - 1;
}

static uint64_t addr_take(struct addrs *a, uint64_t size)
{
	unsigned c = size_class(size);
	uint64_t r;

	if (c < NCLASS - 1 && a->n[c] > 0)
		return a->stack[c][--a->n[c]];
	r = a->bump;
	a->bump += (size + 15) / 16 * 16 + 16;  /* a header between blocks */
	return r;
}

static void addr_give(struct addrs *a, uint64_t addr, uint64_t size)
{
	unsigned c = size_class(size);

	if (c == NCLASS - 1)
		return;                 /* large blocks: never reused */
	if (a->n[c] == a->cap[c]) {
		a->cap[c] = a->cap[c] ? a->cap[c] * 2 : 1024;
		a->stack[c] = realloc(a->stack[c], a->cap[c] * sizeof *a->stack[c]);
		if (!a->stack[c])
			exit(71);
	}
	a->stack[c][a->n[c]++] = addr;
}

/* ---- churn and refs ---- */

/* Objects by internal index: ID, size, first child, next sibling. Indices
 * are recycled, so the arrays stay the size of the live set. */
struct objs {
	uint64_t *id, *size;
	uint32_t *child, *sib, *freeidx;
	size_t nfree, next, cap;
};

#define NONE32 UINT32_MAX

static uint32_t obj_new(struct objs *o)
{
	uint32_t k;

	if (o->nfree > 0) {
		k = o->freeidx[--o->nfree];
	} else {
		if (o->next == o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 1024;

			o->id = realloc(o->id, cap * sizeof *o->id);
			o->size = realloc(o->size, cap * sizeof *o->size);
			o->child = realloc(o->child, cap * sizeof *o->child);
			o->sib = realloc(o->sib, cap * sizeof *o->sib);
			o->freeidx = realloc(o->freeidx, cap * sizeof *o->freeidx);
			if (!o->id || !o->size || !o->child || !o->sib || !o->freeidx)
				exit(71);
			o->cap = cap;
		}
		k = (uint32_t)o->next++;
	}
	o->child[k] = o->sib[k] = NONE32;
	return k;
}

static void churn(uint64_t events, uint64_t live_target, int addr_ids, int refs,
		  int plain)
{
	struct objs o = { 0 };
	struct addrs a = { .bump = 0x7f3a00000000ull };
	uint32_t *roots = xalloc_or_exit(live_target + 1, sizeof *roots);
	uint64_t nroots = 0, nlive = 0, next_id = 1, n = 0;

	printf("#memsim-trace 1 {\"source\":\"tools/gen-bench\",\"mode\":\"%s\",\"ids\":\"%s\"}\n",
	       refs ? "refs" : plain ? "alloc" : "churn", addr_ids ? "addresses" : "sequential");
	while (n < events) {
		/* Grow straight to the target (roots and their children),
		 * then hover at it: a death takes 1.4 objects on average, so
		 * 55% births against 45% deaths drift back down. The roots
		 * never outnumber the target (the array's size): without
		 * children (alloc mode) that cap is what holds the level. */
		int grow = nlive < live_target ||
			   (nroots < live_target && rng() % 100 < 55);

		if (refs && nroots > 2 && rng() % 100 < 60) {
			/* Reference traffic between live (rooted) objects: a
			 * borrowed reference, or an edge that stays. */
			uint32_t x = roots[rng() % nroots], y = roots[rng() % nroots];

			if (rng() % 2) {
				printf("+ 0 %llu\n- 0 %llu\n", (ull)o.id[x], (ull)o.id[x]);
				n += 2;
			} else if (!addr_ids && x != y) {
				/* Only with IDs that are never reused: the edge
				 * may keep y alive past its root, and its ID must
				 * not come back while it lives. */
				printf("+ %llu %llu\n", (ull)o.id[x], (ull)o.id[y]);
				n++;
			}
			continue;
		}
		if (grow || nroots == 0) {
			uint32_t k = obj_new(&o);
			uint64_t size = pick_size();
			const char *type = types[rng() % 6];

			o.size[k] = size;
			o.id[k] = addr_ids ? addr_take(&a, size) : next_id++;
			printf("a %llu %llu %s\n", (ull)o.id[k], (ull)size, type);
			n++;
			nlive++;
			if (!plain && nroots > 0 && rng() % 100 < 30) {
				uint32_t p = roots[rng() % nroots];

				printf("+ %llu %llu\n", (ull)o.id[p], (ull)o.id[k]);
				n++;
				if (refs && !addr_ids && rng() % 2) {
					/* child -> parent: a cycle for the collector */
					printf("+ %llu %llu\n", (ull)o.id[k], (ull)o.id[p]);
					n++;
				}
				printf("- 0 %llu\n", (ull)o.id[k]);
				n++;
				o.sib[k] = o.child[p];
				o.child[p] = k;
			} else {
				roots[nroots++] = k;
			}
		} else {
			uint64_t i = rng() % nroots;
			uint32_t k = roots[i];

			printf(plain ? "f %llu\n" : "- 0 %llu\n", (ull)o.id[k]);
			n++;
			roots[i] = roots[--nroots];
			/* The root and its children die (with sequential IDs in
			 * refs mode some live on in cycles; their IDs are never
			 * reused, so only the generator's records go). */
			for (uint32_t c = o.child[k]; c != NONE32; c = o.sib[c]) {
				nlive--;
				if (addr_ids)
					addr_give(&a, o.id[c], o.size[c]);
				o.freeidx[o.nfree++] = c;
			}
			if (addr_ids)
				addr_give(&a, o.id[k], o.size[k]);
			o.freeidx[o.nfree++] = k;
			nlive--;
		}
	}
	free(roots);
	free(o.id);
	free(o.size);
	free(o.child);
	free(o.sib);
	free(o.freeidx);
	for (unsigned c = 0; c < NCLASS; c++)
		free(a.stack[c]);
}

/* ---- seed-rc ---- */

/* nobj objects in lists of per_list (one list when per_list >= nobj). */
static void seed_rc(uint64_t nobj, uint64_t per_list, const char *mode)
{
	uint64_t nlists = (nobj + per_list - 1) / per_list;
	uint64_t id = 1, done = 0;

	printf("#memsim-trace 1 {\"source\":\"tools/gen-bench\",\"mode\":\"%s\",\"objects\":%llu}\n",
	       mode, (ull)nobj);
	for (uint64_t l = 0; l < nlists; l++) {
		uint64_t lid = id++;

		/* A list: its 56-byte header (the item array is not traced). */
		printf("a %llu 56 list\n", (ull)lid);
		for (uint64_t k = 0; k < per_list && done < nobj; k++, done++) {
			uint64_t c = id++;

			printf("a %llu 16 int\n+ %llu %llu\n- 0 %llu\n+ 0 %llu\n- 0 %llu\n",
			       (ull)c, (ull)lid, (ull)c, (ull)c, (ull)c, (ull)c);
		}
	}
	/* Drop every list: each frees its items by cascade. */
	for (uint64_t l = 0, lid = 1; l < nlists; l++, lid += per_list + 1)
		printf("- 0 %llu\n", (ull)lid);
}

int main(int argc, char **argv)
{
	uint64_t events = 20000000, live_target = 1000000, nobj = 0;
	const char *mode = "churn";
	int addr_ids = 0;
	static char buf[1 << 20];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs("usage: gen-bench [-m churn|alloc|seed-rc|refs] [-n N] [-l LIVE] [-s SEED] [-a]\n"
			      "\n"
			      "Writes a deterministic benchmark trace on stdout (same arguments,\n"
			      "same bytes): -m the mode (default churn), -n about N events (seed-rc:\n"
			      "objects), -l about LIVE objects alive (churn, refs), -s the seed, -a\n"
			      "recorded-address-like IDs. The modes are described in\n"
			      "tools/gen-bench.c and docs/performance.md.\n"
			      "Example: gen-bench -m refs -n 1M > refs.trace\n", stdout);
			return 0;
		}
		if (strcmp(argv[i], "-a") == 0) {
			addr_ids = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fputs("usage: gen-bench [-m churn|alloc|seed-rc|seed-fan|refs] [-n N] [-l LIVE] [-s SEED] [-a]\n",
			      stderr);
			return 64;
		}
		if (strcmp(argv[i], "-m") == 0) {
			mode = argv[++i];
			continue;
		}
		uint64_t v;
		const char *why;

		if (units_parse_str(argv[i + 1], &v, &why) != 0) {
			fprintf(stderr, "gen-bench: %s wants a whole number (e.g. 1000000, 1M), not '%s'\n",
				argv[i], argv[i + 1]);
			return 64;
		}

		if (strcmp(argv[i], "-n") == 0)
			events = nobj = v;
		else if (strcmp(argv[i], "-l") == 0)
			live_target = v;
		else if (strcmp(argv[i], "-s") == 0)
			rng_state = v ? v : 1;
		i++;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof buf);
	if (strcmp(mode, "churn") == 0 || strcmp(mode, "refs") == 0 ||
	    strcmp(mode, "alloc") == 0) {
		churn(events, live_target, addr_ids, strcmp(mode, "refs") == 0,
		      strcmp(mode, "alloc") == 0);
	} else if (strcmp(mode, "seed-rc") == 0 || strcmp(mode, "seed-fan") == 0) {
		uint64_t n = nobj ? nobj : UINT64_C(10) * 1024 * 1024;

		seed_rc(n, strcmp(mode, "seed-rc") == 0 ? 1000 : n, mode);
	} else {
		fprintf(stderr, "gen-bench: unknown mode '%s'\n", mode);
		return 64;
	}
	return fflush(stdout) == 0 ? 0 : 74;
}
